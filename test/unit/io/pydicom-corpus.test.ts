import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/shared/errors';
import { scanInputs } from '../../../src/main/core/io/index';

/**
 * Real-world DICOM files nobody here wrote: Debian's python3-pydicom test corpus
 * (`dpkg -L python3-pydicom | grep test_files`). Expected values were read with pydicom 2.3.1
 * (`ds.pixel_array`, then RescaleSlope/Intercept where present); where pydicom itself cannot
 * decode a file, only a coded error is required.
 */
const CORPUS = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const available = existsSync(CORPUS);

interface Expected {
  dims: [number, number, number];
  min: number;
  max: number;
  modality?: string;
  unit?: 'HU' | 'raw';
}

/** Stored min/max from pydicom, plus rescale: HU for CT. Colour images become luma, so only their size is fixed. */
const DECODABLE: Record<string, Expected | { dims: [number, number, number] }> = {
  'CT_small.dcm': { dims: [128, 128, 1], min: 128 - 1024, max: 2191 - 1024, modality: 'CT', unit: 'HU' },
  '693_J2KI.dcm': { dims: [512, 512, 1], min: -2971 - 1024, max: 2836 - 1024, modality: 'CT', unit: 'HU' },
  'J2K_pixelrep_mismatch.dcm': { dims: [512, 512, 1], min: -2000, max: 1896, modality: 'CT', unit: 'HU' },
  'MR_small.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR', unit: 'raw' },
  'MR_small_RLE.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'MR_small_bigendian.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'MR_small_expb.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'MR_small_implicit.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'MR_small_jp2klossless.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'MR_small_jpeg_ls_lossless.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'MR_small_padded.dcm': { dims: [64, 64, 1], min: 127, max: 2145, modality: 'MR' },
  'JPEG2000.dcm': { dims: [256, 1024, 1], min: -30, max: 245 },
  'image_dfl.dcm': { dims: [512, 512, 1], min: 0, max: 255 },
  'ExplVR_BigEnd.dcm': { dims: [80, 60, 1] },
  'SC_rgb_rle.dcm': { dims: [100, 100, 1] },
  'SC_rgb_rle_2frame.dcm': { dims: [100, 100, 2] },
  'SC_rgb_rle_16bit.dcm': { dims: [100, 100, 1] },
  'SC_rgb_jpeg_dcmtk.dcm': { dims: [100, 100, 1] },
  'SC_rgb_jpeg_gdcm.dcm': { dims: [100, 100, 1] },
  'SC_rgb_gdcm_KY.dcm': { dims: [100, 100, 1] },
  'SC_jpeg_no_color_transform.dcm': { dims: [256, 256, 1] },
  'SC_ybr_full_422_uncompressed.dcm': { dims: [100, 100, 1] },
};

/** Files that are recognised as non-image DICOM objects and skipped with a note. */
const NON_IMAGE = ['rtstruct.dcm', 'rtplan.dcm', 'rtdose.dcm', 'reportsi.dcm', 'test-SR.dcm', 'liver_1frame.dcm', 'waveform_ecg.dcm'];

describe.skipIf(!available)(`pydicom test corpus (${CORPUS})`, () => {
  it('is present (install python3-pydicom to run these tests)', () => {
    expect(available).toBe(true);
  });

  const files = available ? readdirSync(CORPUS).filter((f) => statSync(join(CORPUS, f)).isFile()) : [];

  it('imports every file one by one without crashing: each yields series, a note, or coded errors', async () => {
    const codes = new Set<string>(ERROR_CODES);
    for (const f of files) {
      const scan = await scanInputs([join(CORPUS, f)]);
      expect(scan.series.length + scan.notes.length + scan.errors.length, f).toBeGreaterThan(0);
      for (const e of scan.errors) {
        expect(codes.has(e.code), `${f}: ${e.code}`).toBe(true);
        expect(e.code, `${f}: ${e.message}`).not.toBe('INTERNAL');
        expect(e.message.length, f).toBeGreaterThan(15);
      }
      for (const s of scan.series) {
        const v = s.volume;
        expect(v.data.length, f).toBe(v.dims[0] * v.dims[1] * v.dims[2]);
        expect(v.spacing.every((x) => x > 0 && Number.isFinite(x)), f).toBe(true);
        expect(v.direction[8], f).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('imports the whole folder at once (recursively, with DICOMDIR test folders) without crashing', async () => {
    const scan = await scanInputs([CORPUS]);
    expect(scan.series.length).toBeGreaterThan(20);
    expect(scan.errors.some((e) => e.code === 'INTERNAL')).toBe(false);
  });

  for (const [file, exp] of Object.entries(DECODABLE)) {
    it(`decodes ${file} like pydicom does`, async () => {
      const scan = await scanInputs([join(CORPUS, file)]);
      expect(scan.errors).toEqual([]);
      expect(scan.series).toHaveLength(1);
      const v = scan.series[0].volume;
      expect(v.dims).toEqual(exp.dims);
      if ('min' in exp) {
        let min = Infinity;
        let max = -Infinity;
        for (const x of v.data) {
          if (x < min) min = x;
          if (x > max) max = x;
        }
        expect([min, max]).toEqual([exp.min, exp.max]);
        if (exp.modality) expect(v.meta.modality).toBe(exp.modality);
        if (exp.unit) expect(v.intensityUnit).toBe(exp.unit);
      }
    });
  }

  it('CT_small.dcm keeps its geometry', async () => {
    const v = (await scanInputs([join(CORPUS, 'CT_small.dcm')])).series[0].volume;
    // From the file: PixelSpacing 0.661468, ImagePositionPatient -158.135803 -179.035797 -75.699997, axial.
    expect(v.spacing[0]).toBeCloseTo(0.661468, 6);
    expect(v.origin[0]).toBeCloseTo(-158.135803, 5);
    expect(v.origin[2]).toBeCloseTo(-75.699997, 5);
    expect(v.direction.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(v.meta.studyInstanceUid).toBeTruthy();
  });

  it('skips non-image objects (RT, SR, SEG, waveform) with a note', async () => {
    for (const f of NON_IMAGE) {
      const scan = await scanInputs([join(CORPUS, f)]);
      expect(scan.series, f).toEqual([]);
      expect(scan.notes[0]?.message, f).toMatch(/^Skipped: not an image \(DICOM .+\)\.$/);
    }
  });

  it('gives clear coded errors for files it cannot use', async () => {
    const expectCode = async (f: string, code: string, pattern?: RegExp) => {
      const scan = await scanInputs([join(CORPUS, f)]);
      expect(scan.series, f).toEqual([]);
      expect(scan.errors[0]?.code, f).toBe(code);
      if (pattern) expect(scan.errors[0].message, f).toMatch(pattern);
    };
    await expectCode('MR_truncated.dcm', 'FILE_TRUNCATED', /cut off/);
    await expectCode('rtplan_truncated.dcm', 'FILE_TRUNCATED');
    await expectCode('JPGExtended.dcm', 'DICOM_UNSUPPORTED_TRANSFER_SYNTAX', /JPEG Extended \(12-bit\) \(1\.2\.840\.10008\.1\.2\.4\.51\)/);
    await expectCode('README.txt', 'UNSUPPORTED_FORMAT');
    await expectCode('zipMR.gz', 'UNSUPPORTED_FORMAT', /gzip/);
  });
});
