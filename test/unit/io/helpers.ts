import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { voxelToLps, type Vec3, type Volume } from '../../../src/main/core/volume';

/** A temp folder removed after the test file. */
export function useTempDir(prefix = 'inpaint-io-'): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}

/**
 * A small CT-like volume whose every voxel is distinct enough to catch a wrong slice order,
 * transposition or byte swap: HU = -1000 + (i*7 + j*13 + k*101) mod 3000 (so -1000..1999).
 */
export function patternVolume(dims: Vec3 = [12, 10, 6], geometry: Partial<Pick<Volume, 'spacing' | 'origin' | 'direction'>> = {}): Volume {
  const [nx, ny, nz] = dims;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + j * nx + k * nx * ny] = -1000 + ((i * 7 + j * 13 + k * 101) % 3000);
  return {
    data,
    dims,
    spacing: geometry.spacing ?? [0.75, 0.8, 2.5],
    origin: geometry.origin ?? [-100.5, -90.25, -40],
    direction: geometry.direction ?? [1, 0, 0, 0, 1, 0, 0, 0, 1],
    intensityUnit: 'HU',
    meta: { modality: 'CT', patientName: 'Test^Phantom', patientId: 'PH-1', studyDescription: 'IO test', seriesDescription: 'pattern', seriesNumber: 3 },
    warnings: [],
  };
}

/** Value of `vol` at the LPS point nearest to `p` (exact grid points only), or undefined. */
function valueAtLps(vol: Volume, p: Vec3): number | undefined {
  const { origin: o, spacing: s, direction: d } = vol;
  // Solve p = o + D * diag(s) * idx for idx (D may be sheared): 3x3 inverse.
  const m = [d[0] * s[0], d[3] * s[1], d[6] * s[2], d[1] * s[0], d[4] * s[1], d[7] * s[2], d[2] * s[0], d[5] * s[1], d[8] * s[2]];
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  const inv = [
    (m[4] * m[8] - m[5] * m[7]) / det,
    (m[2] * m[7] - m[1] * m[8]) / det,
    (m[1] * m[5] - m[2] * m[4]) / det,
    (m[5] * m[6] - m[3] * m[8]) / det,
    (m[0] * m[8] - m[2] * m[6]) / det,
    (m[2] * m[3] - m[0] * m[5]) / det,
    (m[3] * m[7] - m[4] * m[6]) / det,
    (m[1] * m[6] - m[0] * m[7]) / det,
    (m[0] * m[4] - m[1] * m[3]) / det,
  ];
  const q = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
  const idx = [0, 1, 2].map((r) => inv[r * 3] * q[0] + inv[r * 3 + 1] * q[1] + inv[r * 3 + 2] * q[2]);
  const rounded = idx.map((x) => Math.round(x));
  if (idx.some((x, t) => Math.abs(x - rounded[t]) > 1e-3)) return undefined;
  const [i, j, k] = rounded;
  if (i < 0 || j < 0 || k < 0 || i >= vol.dims[0] || j >= vol.dims[1] || k >= vol.dims[2]) return undefined;
  return vol.data[i + j * vol.dims[0] + k * vol.dims[0] * vol.dims[1]];
}

/**
 * Counts voxels of `actual` whose value differs from `expected` at the same patient position:
 * the check that survives any legitimate reordering of slices.
 */
export function mismatchesByPosition(expected: Volume, actual: Volume, tolerance = 0): number {
  let bad = 0;
  const [nx, ny, nz] = actual.dims;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const v = valueAtLps(expected, voxelToLps(actual, i, j, k));
        const a = actual.data[i + j * nx + k * nx * ny];
        if (v === undefined || Math.abs(v - a) > tolerance) bad++;
      }
  return bad;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  for (let t = 0; t < actual.length; t++) {
    if (!(Math.abs(actual[t] - expected[t]) <= tol)) throw new Error(`element ${t}: ${actual[t]} vs ${expected[t]} (tol ${tol}); actual [${Array.from(actual).join(', ')}] expected [${Array.from(expected).join(', ')}]`);
  }
}

/** Deterministic shuffle (mulberry32), so a failing order can be reproduced. */
export function shuffled<T>(items: T[], seed = 1): T[] {
  const out = [...items];
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
