import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { describe, expect, it } from 'vitest';
import { scanInputs } from '../../../src/main/core/io/index';
import { decodeNifti, encodeNifti, readNifti, writeNifti } from '../../../src/main/core/io/nifti';
import { voxelToLps, type Volume } from '../../../src/main/core/volume';
import { expectClose, mismatchesByPosition, patternVolume, useTempDir } from './helpers';

const tempDir = useTempDir();

function rotationZ(deg: number): number[] {
  const t = (deg * Math.PI) / 180;
  return [Math.cos(t), Math.sin(t), 0, -Math.sin(t), Math.cos(t), 0, 0, 0, 1];
}

/** An oblique grid: rotated about z by 20 deg and about x by 10 deg (a proper rotation). */
function obliqueDirection(): number[] {
  const a = (20 * Math.PI) / 180;
  const b = (10 * Math.PI) / 180;
  const rz = [
    [Math.cos(a), -Math.sin(a), 0],
    [Math.sin(a), Math.cos(a), 0],
    [0, 0, 1],
  ];
  const rx = [
    [1, 0, 0],
    [0, Math.cos(b), -Math.sin(b)],
    [0, Math.sin(b), Math.cos(b)],
  ];
  const r = rz.map((row) => [0, 1, 2].map((c) => row[0] * rx[0][c] + row[1] * rx[1][c] + row[2] * rx[2][c]));
  return [r[0][0], r[1][0], r[2][0], r[0][1], r[1][1], r[2][1], r[0][2], r[1][2], r[2][2]];
}

describe('NIfTI round trip', () => {
  const cases: { name: string; datatype: 'int16' | 'float32' | 'uint8'; ext: string; direction?: number[]; float?: boolean }[] = [
    { name: 'int16 .nii', datatype: 'int16', ext: '.nii' },
    { name: 'int16 .nii.gz', datatype: 'int16', ext: '.nii.gz' },
    { name: 'float32 .nii.gz', datatype: 'float32', ext: '.nii.gz', float: true },
    { name: 'uint8 .nii', datatype: 'uint8', ext: '.nii' },
    { name: 'int16 oblique .nii.gz', datatype: 'int16', ext: '.nii.gz', direction: obliqueDirection() },
    { name: 'float32 rotated .nii', datatype: 'float32', ext: '.nii', direction: rotationZ(30), float: true },
  ];
  for (const c of cases) {
    it(`keeps voxels and geometry identical: ${c.name}`, async () => {
      const base = patternVolume([9, 7, 5], { direction: c.direction, spacing: [0.48828125, 0.7, 2.5], origin: [-120.25, 33.5, -61.75] });
      let vol: Volume = base;
      if (c.datatype === 'uint8') vol = { ...base, data: Int16Array.from(base.data, (v) => (v + 1000) % 256), intensityUnit: 'raw', meta: { seriesDescription: 'mask-like' } };
      if (c.float) vol = { ...base, data: Float32Array.from(base.data, (v) => v + 0.25) };
      const path = join(await tempDir(), `vol${c.ext}`);
      await writeNifti(vol, path, { datatype: c.datatype });
      const bytes = await readFile(path);
      expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(c.ext.endsWith('.gz'));

      const back = await readNifti(path);
      expect(back.dims).toEqual(vol.dims);
      expect(Array.from(back.data)).toEqual(Array.from(vol.data));
      expect(back.data).toBeInstanceOf(c.float ? Float32Array : Int16Array);
      expect(back.spacing).toEqual(vol.spacing);
      expect(back.origin).toEqual(vol.origin);
      expectClose(back.direction, vol.direction, 1e-6);
      expect(back.intensityUnit).toBe(vol.intensityUnit);
      expect(back.meta.modality).toBe(vol.meta.modality);
      expect(back.warnings).toEqual([]);
    });
  }

  it('reorders a head-first file so k = 0 is the most inferior slice, keeping every voxel at its position', async () => {
    const headFirst = patternVolume([6, 5, 7], { direction: [1, 0, 0, 0, 1, 0, 0, 0, -1], origin: [0, 0, 50] });
    const back = decodeNifti(encodeNifti(headFirst), 'head-first.nii');
    expect(back.direction[8]).toBeCloseTo(1, 9);
    expect(back.origin[2]).toBeCloseTo(50 - 6 * 2.5, 5);
    expect(mismatchesByPosition(headFirst, back)).toBe(0);
    // First stored slice (top of the head) is now the last k.
    expect(back.data[6 * 5 * 6]).toBe(headFirst.data[0]);
  });

  it('reads a NIfTI written by another tool: qform only, scl_slope/scl_inter, big endian, RAS+', async () => {
    // Hand-built header as FSL/ITK write it: RAS+ qform (identity rotation, qfac 1), uint16 with slope 2, intercept -1024.
    const dims = [4, 3, 2];
    const n = 24;
    const buf = new Uint8Array(352 + n * 2);
    const v = new DataView(buf.buffer);
    const le = false;
    v.setInt32(0, 348, le);
    [3, ...dims, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
    v.setInt16(70, 512, le); // uint16
    v.setInt16(72, 16, le);
    [1, 0.9, 0.8, 3, 0, 0, 0, 0].forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
    v.setFloat32(108, 352, le);
    v.setFloat32(112, 2, le);
    v.setFloat32(116, -1024, le);
    buf[123] = 2;
    v.setInt16(252, 1, le); // qform_code
    v.setInt16(254, 0, le); // sform_code
    v.setFloat32(268, 10, le); // qoffset x (RAS)
    v.setFloat32(272, -20, le);
    v.setFloat32(276, 30, le);
    buf.set([0x6e, 0x2b, 0x31, 0], 344);
    for (let p = 0; p < n; p++) v.setUint16(352 + 2 * p, p * 10, le);
    const vol = decodeNifti(gzipSync(buf), 'fsl.nii.gz');
    expect(vol.dims).toEqual([4, 3, 2]);
    expect(vol.data).toBeInstanceOf(Int16Array);
    expect(Array.from(vol.data.slice(0, 3))).toEqual([-1024, -1004, -984]);
    expect(vol.spacing).toEqual([0.9, 0.8, 3]);
    // RAS (10, -20, 30) is LPS (-10, 20, 30); RAS axes +x,+y are LPS -x,-y.
    expect(vol.origin).toEqual([-10, 20, 30]);
    expectClose(vol.direction, [-1, 0, 0, 0, -1, 0, 0, 0, 1], 1e-9);
    expect(voxelToLps(vol, 1, 1, 1)).toEqual([-10.9, 19.2, 33]);
  });

  it('reads NIfTI-2', async () => {
    const n = 2 * 2 * 2;
    const buf = new Uint8Array(544 + n * 4);
    const v = new DataView(buf.buffer);
    v.setInt32(0, 540, true);
    buf.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
    v.setInt16(12, 16, true); // float32
    v.setInt16(14, 32, true);
    [3, 2, 2, 2, 1, 1, 1, 1].forEach((d, i) => v.setBigInt64(16 + 8 * i, BigInt(d), true));
    [1, 1.5, 1.5, 4, 0, 0, 0, 0].forEach((p, i) => v.setFloat64(104 + 8 * i, p, true));
    v.setBigInt64(168, 544n, true);
    v.setFloat64(176, 1, true);
    v.setInt32(348, 2, true); // sform_code
    const srow = [-1.5, 0, 0, 90, 0, -1.5, 0, 100, 0, 0, 4, -50];
    srow.forEach((x, i) => v.setFloat64(400 + 8 * i, x, true));
    for (let p = 0; p < n; p++) v.setFloat32(544 + 4 * p, p - 0.5, true);
    const vol = decodeNifti(buf, 'v2.nii');
    expect(vol.dims).toEqual([2, 2, 2]);
    expect(Array.from(vol.data)).toEqual([-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    expect(vol.spacing).toEqual([1.5, 1.5, 4]);
    expect(vol.origin).toEqual([-90, -100, -50]);
    expectClose(vol.direction, [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12);
  });

  it('loads only the first volume of a 4D file, with a warning', async () => {
    const vol = patternVolume([3, 3, 2]);
    const bytes = encodeNifti(vol);
    const four = new Uint8Array(bytes.length + vol.data.length * 2);
    four.set(bytes);
    four.set(bytes.subarray(352).map((b) => b ^ 0xff), bytes.length); // a different second volume
    const v = new DataView(four.buffer);
    v.setInt16(40, 4, true);
    v.setInt16(48, 2, true);
    const back = decodeNifti(four, 'fmri.nii');
    expect(Array.from(back.data)).toEqual(Array.from(vol.data));
    expect(back.warnings.some((w) => w.code === 'OTHER' && /2 volumes/.test(w.message))).toBe(true);
  });

  it('writes the sform and a qform that an independent reader (nifti-reader-js) turns into the same RAS affine', async () => {
    const vol = patternVolume([5, 4, 3], { direction: rotationZ(90) });
    const bytes = encodeNifti(vol);
    const v = new DataView(bytes.buffer);
    expect(v.getInt32(0, true)).toBe(348);
    expect(v.getFloat32(108, true)).toBe(352);
    expect(String.fromCharCode(bytes[344], bytes[345], bytes[346], bytes[347])).toBe('n+1\0');
    expect(bytes.length).toBe(352 + 5 * 4 * 3 * 2);
    // LPS i axis = +y (0.75 mm), j axis = -x (0.8 mm); RAS negates x and y.
    const expectedRas = [0, 0.8, 0, 100.5, -0.75, 0, 0, 90.25, 0, 0, 2.5, -40];
    const srow = Array.from({ length: 12 }, (_, i) => v.getFloat32(280 + 4 * i, true));
    expectClose(srow, expectedRas, 1e-6);
    // Drop the sform: nifti-reader-js then builds its affine from our quaternion alone.
    v.setInt16(254, 0, true);
    const header = nifti.readHeader(bytes.slice().buffer) as nifti.NIFTI1;
    expectClose(header.affine.slice(0, 3).flat(), expectedRas, 1e-5);
    const fromQform = decodeNifti(bytes, 'qform-only.nii');
    expect(mismatchesByPosition(vol, fromQform)).toBe(0);
  });

  it('reads a NIfTI-1 .hdr/.img pair through scanInputs, ignoring the .img half', async () => {
    const dir = await tempDir();
    const vol = patternVolume([6, 5, 4]);
    const single = encodeNifti(vol);
    const hdr = single.slice(0, 348);
    const hv = new DataView(hdr.buffer);
    hv.setFloat32(108, 0, true);
    hdr.set([0x6e, 0x69, 0x31, 0], 344); // "ni1"
    await writeFile(join(dir, 'brain.hdr'), hdr);
    await writeFile(join(dir, 'brain.img'), single.subarray(352));
    const scan = await scanInputs([dir]);
    expect(scan.errors).toEqual([]);
    expect(scan.notes).toEqual([]);
    expect(scan.series).toHaveLength(1);
    expect(Array.from(scan.series[0].volume.data)).toEqual(Array.from(vol.data));
    expect(scan.series[0].volume.origin).toEqual(vol.origin);
  });

  it('streams series through onSeries without keeping them in the result', async () => {
    const dir = await tempDir();
    await writeNifti(patternVolume([4, 4, 2]), join(dir, 'a.nii'));
    await writeNifti(patternVolume([5, 4, 2]), join(dir, 'b.nii.gz'));
    const seen: string[] = [];
    const scan = await scanInputs([dir], { onSeries: (s) => void seen.push(s.volume.dims.join('x')) });
    expect(scan.series).toEqual([]);
    expect(seen.sort()).toEqual(['4x4x2', '5x4x2']);
  });
});
