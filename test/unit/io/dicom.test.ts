import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRle } from '../../../src/main/core/io/dicom-codecs';
import { writeDicomCtSeries, type DicomCtWriteOptions } from '../../../src/main/core/io/dicom-write';
import { scanInputs } from '../../../src/main/core/io/index';
import { isValidDicomUid, newDicomUid } from '../../../src/main/core/io/uid';
import type { Volume } from '../../../src/main/core/volume';
import { expectClose, mismatchesByPosition, patternVolume, shuffled, useTempDir } from './helpers';

const tempDir = useTempDir('inpaint-dicom-');
const require = createRequire(import.meta.url);

async function roundTrip(vol: Volume, opts: DicomCtWriteOptions = {}) {
  const dir = await tempDir();
  const written = await writeDicomCtSeries(vol, dir, opts);
  const scan = await scanInputs([dir]);
  return { dir, written, scan };
}

function expectSameVolume(expected: Volume, actual: Volume) {
  expect(actual.dims).toEqual(expected.dims);
  expect(Array.from(actual.data)).toEqual(Array.from(expected.data));
  expectClose(actual.spacing, expected.spacing, 1e-9);
  expectClose(actual.origin, expected.origin, 1e-9);
  expectClose(actual.direction, expected.direction, 1e-9);
  expect(actual.intensityUnit).toBe('HU');
}

describe('DICOM CT series: write with dcmjs, read back', () => {
  it('uid generator makes valid, unique 2.25 UIDs', () => {
    const uids = new Set(Array.from({ length: 200 }, newDicomUid));
    expect(uids.size).toBe(200);
    for (const u of uids) {
      expect(u.startsWith('2.25.')).toBe(true);
      expect(isValidDicomUid(u)).toBe(true);
    }
  });

  const variants: [string, DicomCtWriteOptions][] = [
    ['explicit little endian', {}],
    ['implicit little endian', { transferSyntax: 'implicit-le' }],
    ['explicit big endian', { transferSyntax: 'explicit-be' }],
    ['no preamble, implicit LE bare data set', { preamble: false, transferSyntax: 'implicit-le' }],
    ['no preamble, explicit LE bare data set', { preamble: false }],
    ['no preamble, explicit BE bare data set', { preamble: false, transferSyntax: 'explicit-be' }],
    ['unsigned pixels with intercept -1024', { pixelRepresentation: 'unsigned', rescaleIntercept: -1024 }],
    ['BitsStored 12 with garbage in the unused high bits', { pixelRepresentation: 'unsigned', bitsStored: 12, dirtyUnusedBits: true }],
    ['signed BitsStored 12', { bitsStored: 12, rescaleIntercept: 0 }],
    ['Enhanced CT multi-frame', { multiFrame: true }],
    ['multi-frame big endian', { multiFrame: true, transferSyntax: 'explicit-be' }],
  ];
  for (const [name, opts] of variants) {
    it(`reads ${name} with exact HU and geometry`, async () => {
      const vol = patternVolume([12, 10, 6]);
      const { scan } = await roundTrip(vol, opts);
      expect(scan.errors).toEqual([]);
      expect(scan.series).toHaveLength(1);
      const s = scan.series[0];
      expectSameVolume(vol, s.volume);
      expect(s.volume.data).toBeInstanceOf(Int16Array);
      expect(s.volume.warnings).toEqual([]);
      expect(s.volume.meta).toMatchObject({ modality: 'CT', patientName: 'Test^Phantom', patientId: 'PH-1', seriesNumber: 3, seriesDescription: 'pattern', source: 'dicom' });
      expect(s.files).toHaveLength(opts.multiFrame ? 1 : 6);
    });
  }

  it('sorts shuffled files by position, not by name or instance number', async () => {
    const vol = patternVolume([8, 8, 9]);
    const perm = shuffled([...Array(9).keys()], 7);
    const { scan } = await roundTrip(vol, {
      fileName: (k) => `IMG${String(perm[k]).padStart(3, '0')}`,
      transform: (ds, k) => (ds.InstanceNumber = String(perm[k] + 1)),
    });
    expect(scan.errors).toEqual([]);
    expectSameVolume(vol, scan.series[0].volume);
  });

  it('falls back to InstanceNumber when positions are missing, with an ASSUMED_GEOMETRY warning', async () => {
    const vol = patternVolume([6, 5, 4]);
    const perm = [2, 0, 3, 1];
    const { scan } = await roundTrip(vol, {
      fileName: (k) => `f${perm[k]}.dcm`,
      transform: (ds) => {
        delete ds.ImagePositionPatient;
      },
    });
    const s = scan.series[0].volume;
    expect(Array.from(s.data)).toEqual(Array.from(vol.data));
    expect(s.spacing[2]).toBe(2.5); // from SliceThickness
    expect(s.warnings.map((w) => w.code)).toContain('ASSUMED_GEOMETRY');
  });

  it('puts the most inferior slice at k = 0 for a head-first (descending) series', async () => {
    const vol = patternVolume([6, 6, 5], { direction: [1, 0, 0, 0, 1, 0, 0, 0, -1], origin: [-10, -10, 100] });
    const { scan } = await roundTrip(vol);
    const s = scan.series[0].volume;
    expect(s.direction[8]).toBeCloseTo(1, 12);
    expect(s.origin[2]).toBeCloseTo(90, 9);
    expect(mismatchesByPosition(vol, s)).toBe(0);
  });

  it('keeps an oblique orientation and its patient positions', async () => {
    const t = (25 * Math.PI) / 180;
    const vol = patternVolume([7, 6, 4], { direction: [Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t), 0, 0, 0, 1] });
    const { scan } = await roundTrip(vol);
    const s = scan.series[0].volume;
    expect(s.warnings).toEqual([]);
    expect(mismatchesByPosition(vol, s, 0)).toBe(0);
    expectClose(s.direction, vol.direction, 1e-12);
  });

  it('warns about gantry tilt and keeps the sheared geometry', async () => {
    const tilt = (15 * Math.PI) / 180;
    const vol = patternVolume([6, 6, 5], { direction: [1, 0, 0, 0, 1, 0, 0, Math.sin(tilt), Math.cos(tilt)] });
    const { scan } = await roundTrip(vol, { transform: (ds) => (ds.GantryDetectorTilt = '15') });
    const s = scan.series[0].volume;
    const tiltWarning = s.warnings.find((w) => w.code === 'GANTRY_TILT');
    expect(tiltWarning?.message).toMatch(/15\.0°/);
    expectClose(s.direction, vol.direction, 1e-9);
    expect(mismatchesByPosition(vol, s)).toBe(0);
  });

  it('warns about missing slices and uneven spacing', async () => {
    const vol = patternVolume([5, 5, 10]);
    const { dir, written } = await (async () => {
      const d = await tempDir();
      return { dir: d, written: await writeDicomCtSeries(vol, d) };
    })();
    await rm(written.files[4]);
    await rm(written.files[5]);
    const scan = await scanInputs([dir]);
    const s = scan.series[0].volume;
    expect(s.dims[2]).toBe(8);
    expect(s.spacing[2]).toBeCloseTo(2.5, 9);
    const missing = s.warnings.find((w) => w.code === 'MISSING_SLICES');
    expect(missing?.message).toMatch(/About 2 slices/);

    const uneven = await roundTrip(patternVolume([5, 5, 6]), {
      transform: (ds, k) => {
        if (k === 3) (ds.ImagePositionPatient as string[])[2] = String(-40 + 3 * 2.5 + 0.6);
      },
    });
    expect(uneven.scan.series[0].volume.warnings.map((w) => w.code)).toEqual(['UNEVEN_SPACING']);
  });

  it('splits a mixed series (different image sizes under one SeriesInstanceUID) with warnings', async () => {
    const dir = await tempDir();
    const big = patternVolume([10, 8, 5]);
    const small = patternVolume([6, 6, 3], { origin: [0, 0, 200] });
    const first = await writeDicomCtSeries(big, dir, { fileName: (k) => `a${k}.dcm` });
    await writeDicomCtSeries(small, dir, { fileName: (k) => `b${k}.dcm`, seriesInstanceUid: first.seriesInstanceUid, studyInstanceUid: first.studyInstanceUid });
    const scan = await scanInputs([dir]);
    expect(scan.series.map((s) => s.volume.dims)).toEqual([
      [10, 8, 5],
      [6, 6, 3],
    ]);
    for (const s of scan.series) expect(s.volume.warnings.map((w) => w.code)).toContain('MIXED_SERIES');
    expectSameVolume(big, scan.series[0].volume);
  });

  it('keeps one image per position when a series repeats positions', async () => {
    const dir = await tempDir();
    const vol = patternVolume([5, 5, 4]);
    const first = await writeDicomCtSeries(vol, dir, { fileName: (k) => `a${k}.dcm` });
    await writeDicomCtSeries(vol, dir, { fileName: (k) => `b${k}.dcm`, seriesInstanceUid: first.seriesInstanceUid, studyInstanceUid: first.studyInstanceUid });
    const scan = await scanInputs([dir]);
    expect(scan.series).toHaveLength(1);
    expect(scan.series[0].volume.dims[2]).toBe(4);
    expect(scan.series[0].volume.warnings[0].message).toMatch(/4 images repeat/);
  });

  it('groups two series of one study separately', async () => {
    const dir = await tempDir();
    const a = await writeDicomCtSeries(patternVolume([5, 5, 3]), join(dir, 's1'));
    await writeDicomCtSeries(patternVolume([7, 7, 2]), join(dir, 's2'), { studyInstanceUid: a.studyInstanceUid });
    const scan = await scanInputs([dir]);
    expect(scan.series.map((s) => s.volume.dims[2]).sort()).toEqual([2, 3]);
    expect(new Set(scan.series.map((s) => s.volume.meta.studyInstanceUid)).size).toBe(1);
  });

  it('applies a non-integer rescale slope (Float32 voxels) and unsigned values above int16', async () => {
    const vol = patternVolume([6, 5, 3]);
    const { scan } = await roundTrip(vol, { rescaleSlope: 0.5, rescaleIntercept: -1024.25 });
    const s = scan.series[0].volume;
    expect(s.data).toBeInstanceOf(Float32Array);
    expectClose(s.data, vol.data, 0.25);

    const mr: Volume = { ...patternVolume([6, 5, 3]), meta: { modality: 'MR' } };
    mr.data = Float32Array.from(mr.data, (v) => (v + 1000) * 200); // up to 57800: beyond int16
    const back = await roundTrip(mr, { pixelRepresentation: 'unsigned', rescaleIntercept: 0 });
    const m = back.scan.series[0].volume;
    expect(m.data).toBeInstanceOf(Float32Array);
    expect(Array.from(m.data)).toEqual(Array.from(mr.data));
    expect(m.meta.modality).toBe('MR');
    expect(m.intensityUnit).toBe('raw');
  });

  it('recognises non-image objects and skips them with a note', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([4, 4, 2]), join(dir, 'ct'));
    await writeDicomCtSeries(patternVolume([4, 4, 1]), join(dir, 'sr'), {
      transform: (ds) => {
        ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.88.22'; // Enhanced SR
        ds.Modality = 'SR';
        delete ds.PixelData;
      },
    });
    await writeDicomCtSeries(patternVolume([4, 4, 1]), join(dir, 'seg'), {
      transform: (ds) => {
        ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.66.4';
        ds.Modality = 'SEG';
      },
    });
    const scan = await scanInputs([dir]);
    expect(scan.errors).toEqual([]);
    expect(scan.series).toHaveLength(1);
    expect(scan.notes.map((n) => n.message).sort()).toEqual(['Skipped: not an image (DICOM segmentation).', 'Skipped: not an image (DICOM structured report).']);
  });

  it('reads a folder through its DICOMDIR when given the DICOMDIR file', async () => {
    const dir = await tempDir();
    const vol = patternVolume([5, 4, 3]);
    const w = await writeDicomCtSeries(vol, join(dir, 'DICOM', 'S1'), { fileName: (k) => `IM${k}` });
    const dcmjs = require('dcmjs');
    const { DicomDict, DicomMetaDictionary } = dcmjs.data;
    const records = w.files.map((_f, k) => ({ DirectoryRecordType: 'IMAGE', ReferencedFileID: ['DICOM', 'S1', `IM${k}`], RecordInUseFlag: 0xffff }));
    const meta = DicomMetaDictionary.denaturalizeDataset({ MediaStorageSOPClassUID: '1.2.840.10008.1.3.10', MediaStorageSOPInstanceUID: newDicomUid(), TransferSyntaxUID: '1.2.840.10008.1.2.1', ImplementationClassUID: '2.25.1' });
    const dict = new DicomDict(meta);
    dict.dict = DicomMetaDictionary.denaturalizeDataset({ FileSetID: 'TEST', DirectoryRecordSequence: records });
    await writeFile(join(dir, 'DICOMDIR'), new Uint8Array(dict.write()));
    const scan = await scanInputs([join(dir, 'DICOMDIR')]);
    expect(scan.errors).toEqual([]);
    expectSameVolume(vol, scan.series[0].volume);
    expect(scan.notes[0].message).toMatch(/lists 3 image files/);
    // Scanning the folder instead reads the images directly and notes the DICOMDIR.
    const viaFolder = await scanInputs([dir]);
    expect(viaFolder.series).toHaveLength(1);
    expect(viaFolder.notes.some((n) => /DICOMDIR index skipped/.test(n.message))).toBe(true);
  });

  it('writes CT files that dciodvfy accepts without errors', async (ctx) => {
    if (!existsSync('/usr/bin/dciodvfy')) ctx.skip('dciodvfy (Debian dicom3tools) is not installed');
    for (const opts of [{}, { transferSyntax: 'explicit-be' as const }, { pixelRepresentation: 'unsigned' as const, bitsStored: 12 }]) {
      const dir = await tempDir();
      const vol = patternVolume([16, 12, 2]);
      vol.meta.patientBirthDate = '19700101';
      vol.meta.patientSex = 'F';
      const w = await writeDicomCtSeries(vol, dir, opts);
      // dciodvfy reports on stderr and exits non-zero on warnings; read both streams either way.
      const combined = execFileSync('/bin/sh', ['-c', '/usr/bin/dciodvfy "$1" 2>&1 || true', 'sh', w.files[0]], { encoding: 'utf8' });
      expect(combined).toMatch(/CTImage/);
      expect(combined.split('\n').filter((l) => /^Error/.test(l))).toEqual([]);
    }
  });
});

/* -------------------------------------------------------------- compressed */

/** PackBits as PS3.5 G.3.1 describes it, used here only to build RLE test files. */
function packBits(src: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let run = 1;
    while (i + run < src.length && run < 128 && src[i + run] === src[i]) run++;
    if (run >= 2) {
      out.push(257 - run, src[i]);
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < src.length && lit < 128 && !(i + lit + 1 < src.length && src[i + lit] === src[i + lit + 1])) lit++;
    out.push(lit - 1, ...src.subarray(i, i + lit));
    i += lit;
  }
  return out;
}

function rleEncode16(stored: Uint16Array): Uint8Array {
  const hi = Uint8Array.from(stored, (v) => v >> 8);
  const lo = Uint8Array.from(stored, (v) => v & 0xff);
  const seg1 = packBits(hi);
  const seg2 = packBits(lo);
  const pad = (a: number[]) => (a.length % 2 ? [...a, 0x80] : a);
  const s1 = pad(seg1);
  const s2 = pad(seg2);
  const out = new Uint8Array(64 + s1.length + s2.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 2, true);
  v.setUint32(4, 64, true);
  v.setUint32(8, 64 + s1.length, true);
  out.set(s1, 64);
  out.set(s2, 64 + s1.length);
  return out;
}

interface WasmEncoder {
  getDecodedBuffer(info: object): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  encode(): void;
  delete(): void;
  setDecompositions?(n: number): void;
  setQuality?(lossless: boolean, quality: number): void;
}

async function wasmEncoder(pkg: string, cls: string) {
  const mod = await (require(`${pkg}/wasmjs`) as (o?: object) => Promise<Record<string, new () => WasmEncoder>>)({ print: () => {}, printErr: () => {} });
  return (stored: Uint16Array, layout: { rows: number; columns: number; signed: boolean }) => {
    const enc = new mod[cls]();
    try {
      const input = enc.getDecodedBuffer({ width: layout.columns, height: layout.rows, bitsPerSample: 16, componentCount: 1, isSigned: layout.signed });
      input.set(new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength));
      // OpenJPEG's default 5 wavelet levels need images of at least 32 px; tests use small ones.
      enc.setDecompositions?.(Math.max(0, Math.floor(Math.log2(Math.min(layout.rows, layout.columns))) - 1));
      enc.setQuality?.(true, 0);
      enc.encode();
      return enc.getEncodedBuffer().slice();
    } finally {
      enc.delete();
    }
  };
}

describe('compressed DICOM', () => {
  it('decodes RLE Lossless (hand-checked PackBits segment)', () => {
    // 2x2 8-bit: one segment "repeat 0x05 x3" then literal 0x09.
    const frame = new Uint8Array(64 + 4);
    const v = new DataView(frame.buffer);
    v.setUint32(0, 1, true);
    v.setUint32(4, 64, true);
    frame.set([0xfe, 0x05, 0x00, 0x09], 64);
    const out = decodeRle(frame, { rows: 2, columns: 2, samplesPerPixel: 1, bitsAllocated: 8, signed: false });
    expect(Array.from(out.values)).toEqual([5, 5, 5, 9]);
  });

  const codecs: [string, string, () => Promise<(s: Uint16Array, l: { rows: number; columns: number; signed: boolean }) => Uint8Array>][] = [
    ['RLE Lossless', '1.2.840.10008.1.2.5', async () => rleEncode16],
    ['JPEG-LS lossless (CharLS)', '1.2.840.10008.1.2.4.80', () => wasmEncoder('@cornerstonejs/codec-charls', 'JpegLSEncoder')],
    ['JPEG 2000 lossless (OpenJPEG)', '1.2.840.10008.1.2.4.90', () => wasmEncoder('@cornerstonejs/codec-openjpeg', 'J2KEncoder')],
  ];
  for (const [name, ts, makeEncoder] of codecs) {
    for (const signed of [true, false]) {
      it(`reads ${name}, ${signed ? 'signed' : 'unsigned + intercept'} pixels, exactly`, async () => {
        const encodeFrame = await makeEncoder();
        const vol = patternVolume([16, 12, 3]);
        const { scan } = await roundTrip(vol, { compression: { transferSyntaxUid: ts, encodeFrame }, pixelRepresentation: signed ? 'signed' : 'unsigned' });
        expect(scan.errors).toEqual([]);
        expectSameVolume(vol, scan.series[0].volume);
      });
    }
  }

  it('reads multi-frame RLE', async () => {
    const vol = patternVolume([9, 7, 4]);
    const { scan } = await roundTrip(vol, { multiFrame: true, compression: { transferSyntaxUid: '1.2.840.10008.1.2.5', encodeFrame: rleEncode16 } });
    expect(scan.errors).toEqual([]);
    expectSameVolume(vol, scan.series[0].volume);
  });

  it('names an unsupported transfer syntax in a per-file error while other files load', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([5, 5, 2]), join(dir, 'htj2k'), { compression: { transferSyntaxUid: '1.2.840.10008.1.2.4.201', encodeFrame: () => new Uint8Array([0xff, 0x4f, 0xff, 0x51]) } });
    await writeDicomCtSeries(patternVolume([5, 5, 2]), join(dir, 'plain'));
    const scan = await scanInputs([dir]);
    expect(scan.series).toHaveLength(1);
    expect(scan.errors).toHaveLength(2);
    for (const e of scan.errors) {
      expect(e.code).toBe('DICOM_UNSUPPORTED_TRANSFER_SYNTAX');
      expect(e.message).toMatch(/High-Throughput JPEG 2000 Lossless \(1\.2\.840\.10008\.1\.2\.4\.201\)/);
    }
    expect((await readdir(join(dir, 'htj2k'))).length).toBe(2);
  });

  it('reports a damaged compressed frame as a coded error', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([5, 5, 1]), dir, { compression: { transferSyntaxUid: '1.2.840.10008.1.2.4.90', encodeFrame: () => new Uint8Array([0xff, 0x4f, 0xff, 0x51, 1, 2, 3, 4]) } });
    const scan = await scanInputs([dir]);
    expect(scan.series).toEqual([]);
    expect(scan.errors[0].code).toBe('DICOM_CORRUPT');
    expect(scan.errors[0].message).toMatch(/JPEG 2000 Lossless.*damaged/);
  });
});
