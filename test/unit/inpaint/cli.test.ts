import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/main/cli/main';
import { readNifti, writeNifti } from '../../../src/main/core/io/index';
import { PRESETS } from '../../../src/main/core/inpaint/presets';
import type { Volume } from '../../../src/main/core/volume';
import { simpleHead } from '../preprocess/simple-head';

const dir = mkdtempSync(join(tmpdir(), 'inpaint-ct-inpaint-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let out = '';
  let err = '';
  try {
    const code = await runCli(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    return { code, out, err };
  } finally {
    process.env = saved;
  }
}

function maskVolume(like: Volume, inside: (i: number, j: number, k: number) => boolean): Volume {
  const [nx, ny, nz] = like.dims;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (inside(i, j, k)) data[i + nx * (j + ny * k)] = 1;
  return { ...like, data, intensityUnit: 'raw', meta: {}, warnings: [] };
}

describe('CLI inpaint', () => {
  it('fills a linear ramp exactly with harmonic fill and keeps the other voxels', async () => {
    const dims: [number, number, number] = [32, 24, 3];
    const data = new Float32Array(32 * 24 * 3);
    for (let k = 0; k < 3; k++) for (let j = 0; j < 24; j++) for (let i = 0; i < 32; i++) data[i + 32 * (j + 24 * k)] = 10 + 2 * i - j + 3 * k;
    const image: Volume = { data, dims, spacing: [1, 1, 2], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], intensityUnit: 'HU', meta: { modality: 'CT' }, warnings: [] };
    const mask = maskVolume(image, (i, j, k) => k === 1 && i >= 10 && i < 20 && j >= 6 && j < 14);
    // Corrupted voxels inside the mask only.
    const broken = { ...image, data: data.map((v, p) => (mask.data[p] && p % 3 === 0 ? -1000 : v)) };
    await writeNifti(broken, join(dir, 'ramp.nii.gz'));
    await writeNifti(mask, join(dir, 'ramp-mask.nii.gz'), { datatype: 'uint8' });
    const r = await cli(['inpaint', join(dir, 'ramp.nii.gz'), '--mask', join(dir, 'ramp-mask.nii.gz'), '--out', join(dir, 'ramp-out.nii.gz'), '--method', 'harmonic', '--json']);
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.maskedVoxels).toBe(10 * 8);
    expect(res.networkCalls).toBe(0);
    const out = await readNifti(join(dir, 'ramp-out.nii.gz'));
    expect(out.dims).toEqual(dims);
    for (let p = 0; p < data.length; p++) {
      if (mask.data[p]) expect(out.data[p]).toBeCloseTo(data[p], 3);
      else expect(out.data[p]).toBeCloseTo(broken.data[p], 5);
    }
  });

  it('runs the diffusion path on a head with a model from the models folder', async () => {
    const h = simpleHead([96, 96, 3], [2.4, 2.4, 5]);
    await writeNifti(h.volume, join(dir, 'head.nii.gz'));
    // A square inside the brain on the middle slice plus a few voxels in the scalp.
    const mask = maskVolume(h.volume, (i, j, k) => (k === 1 && i >= 40 && i < 52 && j >= 40 && j < 52) || (k === 1 && i === 48 && j < 3));
    await writeNifti(mask, join(dir, 'head-mask.nii.gz'), { datatype: 'uint8' });
    const r = await cli(['inpaint', join(dir, 'head.nii.gz'), '--mask', join(dir, 'head-mask.nii.gz'), '--out', join(dir, 'head-out.nii.gz'), '--model', 'test-tiny', '--device', 'cpu', '--json'], {
      INPAINT_CT_MODELS_DIR: resolve(__dirname, '../../../models'),
    });
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out);
    expect(res.method).toBe('diffusion');
    expect(res.device.active).toBe('cpu');
    // The log names the device the way the report's provenance does (src/shared/provenance.ts).
    expect(r.err).toMatch(/Model test-tiny on CPU \d+ threads\./);
    expect(res.slicesInpainted).toBe(1);
    expect(res.networkCalls).toBe(PRESETS.fast.steps);
    expect(res.filledByDiffusion).toBe(144);
    expect(res.filledByClassical).toBe(3);
    const out = await readNifti(join(dir, 'head-out.nii.gz'));
    let changed = 0;
    for (let p = 0; p < out.data.length; p++) {
      if (!mask.data[p]) expect(out.data[p]).toBeCloseTo(h.volume.data[p], 3);
      else {
        if (Math.abs(out.data[p] - h.volume.data[p]) > 1e-3) changed++;
        // Brain voxels come back inside the brain window.
        if (h.truth[p]) expect(out.data[p]).toBeGreaterThanOrEqual(-1e-3);
        if (h.truth[p]) expect(out.data[p]).toBeLessThanOrEqual(80 + 1e-3);
      }
    }
    expect(changed).toBeGreaterThan(0);
  });

  it('reads and writes single PNG slices', async () => {
    const w = 24;
    const gray = new Uint8Array(w * w).map((_, p) => 40 + 4 * (p % w));
    const m = new Uint8Array(w * w);
    for (let y = 8; y < 16; y++) for (let x = 8; x < 16; x++) m[y * w + x] = 255;
    const sub = join(dir, 'png');
    const subMask = join(dir, 'pngmask');
    for (const d of [sub, subMask]) rmSync(d, { recursive: true, force: true });
    await import('node:fs').then((fs) => (fs.mkdirSync(sub), fs.mkdirSync(subMask)));
    writeFileSync(join(sub, 'slice.png'), encodePng({ width: w, height: w, data: gray, channels: 1, depth: 8 }));
    writeFileSync(join(subMask, 'mask.png'), encodePng({ width: w, height: w, data: m, channels: 1, depth: 8 }));
    const out = join(dir, 'filled.png');
    const r = await cli(['inpaint', join(sub, 'slice.png'), '--mask', join(subMask, 'mask.png'), '--out', out, '--method', 'linear', '--json']);
    expect(r.code, r.err).toBe(0);
    const { decode } = await import('fast-png');
    const back = decode(new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(out))));
    for (let p = 0; p < w * w; p++) expect(Math.abs((back.data[p] as number) - gray[p])).toBeLessThanOrEqual(1);
  });

  it('refuses a mask on another grid and unknown options with clear errors', async () => {
    await writeNifti(maskVolume({ data: new Int16Array(8), dims: [2, 2, 2], spacing: [1, 1, 1], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], intensityUnit: 'raw', meta: {}, warnings: [] }, () => true), join(dir, 'small-mask.nii.gz'), { datatype: 'uint8' });
    const r = await cli(['inpaint', join(dir, 'ramp.nii.gz'), '--mask', join(dir, 'small-mask.nii.gz'), '--out', join(dir, 'x.nii.gz'), '--method', 'harmonic', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe('GEOMETRY_MISMATCH');
    const bad = await cli(['inpaint', join(dir, 'ramp.nii.gz'), '--mask', join(dir, 'ramp-mask.nii.gz'), '--out', join(dir, 'x.nii.gz'), '--method', 'magic', '--json']);
    expect(JSON.parse(bad.out).error.message).toMatch(/--method must be one of diffusion, nearest/);
    const missing = await cli(['inpaint', join(dir, 'ramp.nii.gz'), '--mask', join(dir, 'ramp-mask.nii.gz'), '--out', join(dir, 'x.nii.gz'), '--model', 'nope', '--json'], { INPAINT_CT_MODELS_DIR: dir });
    expect(JSON.parse(missing.out).error.code).toBe('MODEL_NOT_FOUND');
  });
});
