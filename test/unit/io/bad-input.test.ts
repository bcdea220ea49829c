import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { writeDicomCtSeries } from '../../../src/main/core/io/dicom-write';
import { describeInputs, scanInputs } from '../../../src/main/core/io/index';
import { encodeNifti } from '../../../src/main/core/io/nifti';
import { patternVolume, useTempDir } from './helpers';

const tempDir = useTempDir('inpaint-bad-');

function png(width: number, height: number, fill = 100): Uint8Array {
  return encodePng({ width, height, data: new Uint8Array(width * height).fill(fill), channels: 1, depth: 8 });
}

describe('bad input: each gets a coded error, the rest goes on', () => {
  it('a path that does not exist', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([4, 4, 2]), join(dir, 'ok'));
    const scan = await scanInputs([join(dir, 'nope'), join(dir, 'ok'), join(dir, 'missing.nii.gz')]);
    expect(scan.series).toHaveLength(1);
    expect(scan.errors.map((e) => e.code)).toEqual(['FILE_NOT_FOUND', 'FILE_NOT_FOUND']);
    expect(scan.errors[0].message).toMatch(/does not exist/);
  });

  it('zero-byte and truncated DICOM files inside a series folder', async () => {
    const dir = await tempDir();
    const vol = patternVolume([16, 16, 6]);
    const w = await writeDicomCtSeries(vol, dir);
    const full = await readFile(w.files[2]);
    await writeFile(w.files[2], full.subarray(0, full.length - 100)); // cut in the pixel data
    await writeFile(w.files[3], full.subarray(0, 300)); // cut in the header
    await writeFile(w.files[4], new Uint8Array(0));
    const scan = await scanInputs([dir]);
    const byFile = Object.fromEntries(scan.errors.map((e) => [e.file, e.code]));
    expect(byFile).toEqual({ [w.files[2]]: 'FILE_TRUNCATED', [w.files[3]]: 'FILE_TRUNCATED', [w.files[4]]: 'FILE_EMPTY' });
    // The three good slices still form a volume, with the gap reported.
    expect(scan.series).toHaveLength(1);
    expect(scan.series[0].volume.dims[2]).toBe(3);
    expect(scan.series[0].volume.warnings.map((w) => w.code)).toContain('MISSING_SLICES');
    expect(scan.errors.every((e) => e.message.length > 20)).toBe(true);
  });

  it('non-DICOM files given explicitly, and a .dcm that is not DICOM', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'Patient history: nothing to see here.\n'.repeat(20));
    await writeFile(join(dir, 'scan.dcm'), 'This is not really DICOM. '.repeat(20));
    await writeFile(join(dir, 'tiny.dcm'), 'DICM');
    const scan = await scanInputs([join(dir, 'notes.txt'), join(dir, 'scan.dcm'), join(dir, 'tiny.dcm')]);
    expect(scan.series).toEqual([]);
    expect(scan.errors.map((e) => e.code)).toEqual(['UNSUPPORTED_FORMAT', 'NOT_DICOM', 'FILE_TRUNCATED']);
    expect(scan.errors[1].message).toBe('"scan.dcm" is not a DICOM, NIfTI or PNG image.');
  });

  it('DICOM without pixel data (read right after a larger file, so no stale bytes may be mistaken for it)', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([64, 64, 2]), join(dir, 'a-big'));
    await writeDicomCtSeries(patternVolume([4, 4, 1]), join(dir, 'b-small'), { transform: (ds) => delete ds.PixelData });
    const scan = await scanInputs([dir]);
    expect(scan.series).toHaveLength(1);
    expect(scan.errors).toHaveLength(1);
    expect(scan.errors[0].code).toBe('DICOM_NO_PIXELS');
    expect(scan.errors[0].message).toMatch(/contains no image/);
  });

  it('a corrupt gzip and a cut-off gzip', async () => {
    const dir = await tempDir();
    const good = gzipSync(encodeNifti(patternVolume([8, 8, 4])));
    const corrupt = Uint8Array.from(good);
    for (let p = 20; p < corrupt.length - 20; p += 7) corrupt[p] ^= 0x5a;
    await writeFile(join(dir, 'corrupt.nii.gz'), corrupt);
    await writeFile(join(dir, 'cut.nii.gz'), good.subarray(0, Math.floor(good.length / 2)));
    await writeFile(join(dir, 'good.nii.gz'), good);
    const scan = await scanInputs([dir]);
    expect(scan.series).toHaveLength(1);
    const byName = Object.fromEntries(scan.errors.map((e) => [e.file.split('/').pop(), e]));
    expect(byName['corrupt.nii.gz'].code).toBe('GZIP_CORRUPT');
    expect(byName['cut.nii.gz'].code).toBe('GZIP_CORRUPT');
    expect(byName['cut.nii.gz'].message).toMatch(/incomplete/);
  });

  it('a NIfTI whose header and data size disagree', async () => {
    const dir = await tempDir();
    const bytes = encodeNifti(patternVolume([8, 8, 4]));
    await writeFile(join(dir, 'short.nii'), bytes.subarray(0, bytes.length - 64));
    const headerOnly = join(dir, 'header-only.nii');
    await writeFile(headerOnly, bytes.subarray(0, 200));
    const scan = await scanInputs([join(dir, 'short.nii'), headerOnly]);
    expect(scan.errors.map((e) => e.code)).toEqual(['NIFTI_SIZE_MISMATCH', 'FILE_TRUNCATED']);
    expect(scan.errors[0].message).toMatch(/8x8x4 voxels/);
  });

  it('PNGs of different sizes: the odd one out is an error, the rest load', async () => {
    const dir = await tempDir();
    for (let i = 1; i <= 4; i++) await writeFile(join(dir, `slice${i}.png`), png(20, 16, i * 10));
    await writeFile(join(dir, 'slice5.png'), png(24, 16));
    await writeFile(join(dir, 'slice6.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    const scan = await scanInputs([dir]);
    expect(scan.series).toHaveLength(1);
    expect(scan.series[0].volume.dims).toEqual([20, 16, 4]);
    const codes = Object.fromEntries(scan.errors.map((e) => [e.file.split('/').pop(), e.code]));
    expect(codes['slice5.png']).toBe('PNG_SIZE_MISMATCH');
    expect(['FILE_TRUNCATED', 'PNG_INVALID']).toContain(codes['slice6.png']);
  });

  it('a folder with 10,000 unrelated files finishes quickly with one clear error', async () => {
    const dir = await tempDir();
    const batch: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) {
      batch.push(writeFile(join(dir, `doc${i}.txt`), `unrelated file number ${i}\n`));
      if (batch.length === 500) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    const started = Date.now();
    const scan = await scanInputs([dir]);
    const elapsedMs = Date.now() - started;
    expect(scan.series).toEqual([]);
    expect(scan.errors).toHaveLength(1);
    expect(scan.errors[0].code).toBe('NO_IMAGES_FOUND');
    expect(scan.errors[0].message).toMatch(/10,000 other files checked/);
    expect(scan.notes).toEqual([]);
    expect(elapsedMs).toBeLessThan(15_000);

    // Add a series in a sub-folder: it loads, the unrelated files become one summary note.
    await writeDicomCtSeries(patternVolume([6, 6, 3]), join(dir, 'series'));
    const withSeries = await scanInputs([dir]);
    expect(withSeries.series).toHaveLength(1);
    expect(withSeries.errors).toEqual([]);
    expect(withSeries.notes).toHaveLength(1);
    expect(withSeries.notes[0].message).toMatch(/Skipped 10,000 files/);
  });

  it('hidden and system files are not even looked at', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([4, 4, 2]), join(dir, 's'));
    await mkdir(join(dir, '__MACOSX'), { recursive: true });
    await writeFile(join(dir, '__MACOSX', '._CT0001.dcm'), 'resource fork');
    await writeFile(join(dir, '.DS_Store'), 'x');
    await writeFile(join(dir, 's', '._CT0002.dcm'), 'resource fork');
    const scan = await scanInputs([dir]);
    expect(scan.errors).toEqual([]);
    expect(scan.notes).toEqual([]);
    expect(scan.series).toHaveLength(1);
  });

  it('describeInputs reports series fields and HU statistics without importing', async () => {
    const dir = await tempDir();
    const vol = patternVolume([10, 10, 4]);
    await writeDicomCtSeries(vol, dir);
    const d = await describeInputs([dir, join(dir, 'absent')]);
    expect(d.series).toHaveLength(1);
    const s = d.series[0];
    expect(s).toMatchObject({ format: 'dicom', modality: 'CT', dims: [10, 10, 4], spacing: [0.75, 0.8, 2.5], intensityUnit: 'HU', fileCount: 4, warnings: [] });
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of vol.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    expect(s.huMin).toBe(min);
    expect(s.huMax).toBe(max);
    expect(s.huMean).toBeCloseTo(sum / vol.data.length, 2);
    expect(d.errors.map((e) => e.code)).toEqual(['FILE_NOT_FOUND']);
  });

  it('cancellation stops the scan', async () => {
    const dir = await tempDir();
    await writeDicomCtSeries(patternVolume([4, 4, 3]), dir);
    const controller = new AbortController();
    controller.abort();
    await expect(scanInputs([dir], { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
