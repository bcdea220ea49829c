import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli/main';
import { readNifti, writeNifti } from '../../../src/main/core/io/index';
import { dice, simpleHead } from './simple-head';

const dir = mkdtempSync(join(tmpdir(), 'inpaint-ct-pp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

/** The sform rows and dims of a .nii.gz as stored, bytes 40..56 (dim) and 280..328 (srow). */
function storedGeometry(path: string): { dims: number[]; srow: number[] } {
  const b = gunzipSync(readFileSync(path));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { dims: [0, 1, 2, 3].map((i) => v.getInt16(40 + 2 * i, true)), srow: Array.from({ length: 12 }, (_, i) => v.getFloat32(280 + 4 * i, true)) };
}

describe('CLI brain-mask and preprocess', () => {
  it('brain-mask writes a mask on the exact input grid, also for a head-first NIfTI', async () => {
    const h = simpleHead([64, 64, 6], [3, 3, 5]);
    // Stored head first: k runs towards the feet; the reader reorders, the mask must not.
    const n = 64 * 64;
    const flipped = new Float32Array(h.volume.data.length);
    for (let k = 0; k < 6; k++) flipped.set(h.volume.data.subarray(k * n, (k + 1) * n), (5 - k) * n);
    const input = join(dir, 'head-first.nii.gz');
    await writeNifti({ ...h.volume, data: flipped, origin: [10, -20, 60], direction: [1, 0, 0, 0, 1, 0, 0, 0, -1] }, input);
    const out = join(dir, 'mask.nii.gz');
    const r = await cli(['brain-mask', input, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.sliceOrder).toBe('restored-head-first');
    expect(storedGeometry(out)).toEqual(storedGeometry(input));
    // Read back through the same reader, mask and image line up voxel for voxel.
    const mask = await readNifti(out);
    const m = Uint8Array.from(mask.data);
    expect(dice(m, h.truth)).toBeGreaterThan(0.97);
  });

  it('preprocess writes the 256 stack, masks and transform', async () => {
    const h = simpleHead([128, 128, 4], [1.8, 1.8, 5]);
    const input = join(dir, 'head.nii.gz');
    await writeNifti(h.volume, input);
    const outDir = join(dir, 'pp');
    const r = await cli(['preprocess', input, '--out', outDir, '--json']);
    expect(r.code).toBe(0);
    const img = await readNifti(join(outDir, 'image256.nii.gz'));
    expect(img.dims).toEqual([256, 256, 4]);
    expect(img.intensityUnit).toBe('windowed');
    let max = 0;
    for (const v of img.data) max = Math.max(max, v);
    expect(max).toBeLessThanOrEqual(1);
    const m256 = await readNifti(join(outDir, 'brainmask256.nii.gz'));
    expect(m256.spacing[0]).toBeCloseTo(0.9, 4);
    const json = JSON.parse(readFileSync(join(outDir, 'preprocess.json'), 'utf8'));
    expect(json.transform.mode).toBe('resample');
    expect(json.brainMask.method).toBe('classical');

    // A given mask (e.g. a corrected one) replaces the extraction; one on another grid is refused.
    const given = join(outDir, 'brainmask.nii.gz');
    const r2 = await cli(['preprocess', input, '--mask', given, '--out', join(dir, 'pp2'), '--json']);
    expect(r2.code).toBe(0);
    expect(JSON.parse(r2.out).brainMask).toEqual({ source: 'given' });
    const r3 = await cli(['preprocess', input, '--mask', join(outDir, 'brainmask256.nii.gz'), '--out', join(dir, 'pp3'), '--json']);
    expect(JSON.parse(r3.out).error.code).toBe('GEOMETRY_MISMATCH');
  });

  it('gives clear errors for bad arguments and non-CT input', async () => {
    expect((await cli(['brain-mask', join(dir, 'missing.nii.gz'), '--out', join(dir, 'x.nii.gz')])).err).toMatch(/Error: .*missing\.nii\.gz/);
    expect((await cli(['brain-mask', 'x'])).err).toMatch(/--out/);
    const h = simpleHead([32, 32, 2], [6, 6, 5]);
    const mr = join(dir, 'mr.nii.gz');
    await writeNifti({ ...h.volume, data: Float32Array.from(h.volume.data, (v) => (v < -500 ? 0 : 400 + v)), meta: {} }, mr);
    const r = await cli(['brain-mask', mr, '--out', join(dir, 'mr-mask.nii.gz'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe('NOT_CT');
    expect((await cli(['preprocess', mr, '--out', dir, '--spacing', 'weird'])).err).toMatch(/--spacing must be one of/);
  });
});
