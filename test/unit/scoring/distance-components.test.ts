import { describe, expect, it } from 'vitest';
import { labelComponents } from '../../../src/main/core/scoring/components';
import { borderDistance, erodeMask } from '../../../src/main/core/scoring/distance';
import type { Vec3 } from '../../../src/main/core/volume';
import { seeded } from './seeded';

/** Distance from each mask voxel to the nearest non-mask voxel of the grid, by trying them all. */
function bruteBorderDistance(mask: Uint8Array, dims: Vec3, w: Vec3, mode: '2d' | '3d'): Float64Array {
  const [nx, ny, nz] = dims;
  const out = new Float64Array(mask.length);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const p = i + nx * (j + ny * k);
        if (!mask[p]) continue;
        let best = Infinity;
        for (let kk = 0; kk < nz; kk++) {
          if (mode === '2d' && kk !== k) continue;
          for (let jj = 0; jj < ny; jj++)
            for (let ii = 0; ii < nx; ii++) {
              if (mask[ii + nx * (jj + ny * kk)]) continue;
              const d = Math.hypot((ii - i) * w[0], (jj - j) * w[1], (kk - k) * w[2]);
              if (d < best) best = d;
            }
        }
        out[p] = best;
      }
  return out;
}

describe('brain border distance and erosion', () => {
  const dims: Vec3 = [11, 9, 6];
  const rand = seeded(5);
  const mask = Uint8Array.from({ length: 11 * 9 * 6 }, () => (rand() < 0.8 ? 1 : 0));
  const spacing: Vec3 = [0.5, 0.8, 3];

  for (const mode of ['2d', '3d'] as const)
    for (const unit of ['mm', 'px'] as const) {
      it(`is the exact Euclidean distance (${mode}, ${unit}, anisotropic spacing)`, () => {
        const got = borderDistance(mask, dims, spacing, { mode, unit });
        const want = bruteBorderDistance(mask, dims, unit === 'mm' ? spacing : [1, 1, 1], mode);
        for (let p = 0; p < mask.length; p++) {
          if (want[p] === Infinity) expect(got[p]).toBe(Infinity);
          else expect(got[p]).toBeCloseTo(want[p], 4);
        }
      });
    }

  it('is exact for a mask that fills only part of the grid (the transform works in its bounding box)', () => {
    const d: Vec3 = [20, 18, 8];
    const blob = new Uint8Array(20 * 18 * 8);
    const r = seeded(8);
    for (let k = 2; k < 6; k++) for (let j = 4; j < 12; j++) for (let i = 5; i < 16; i++) if (r() < 0.9) blob[i + 20 * (j + 18 * k)] = 1;
    for (const mode of ['2d', '3d'] as const) {
      const got = borderDistance(blob, d, spacing, { mode, unit: 'mm' });
      const want = bruteBorderDistance(blob, d, spacing, mode);
      for (let p = 0; p < blob.length; p++) expect(got[p]).toBeCloseTo(want[p], 4);
    }
  });

  it('does not erode from the faces of the grid (the brain goes on beyond the field of view)', () => {
    const full = new Uint8Array(4 * 4 * 3).fill(1);
    expect([...erodeMask(full, [4, 4, 3], [1, 1, 1], { distance: 2, unit: 'px', mode: '3d' })].every((x) => x === 1)).toBe(true);
  });

  it('erodes a ball by its radius: a 3D erosion also reaches across slices', () => {
    // a 5x5x5 cube of brain in a 7x7x7 grid; 1 px removes the cube's shell, leaving 3x3x3
    const d: Vec3 = [7, 7, 7];
    const cube = new Uint8Array(343);
    for (let k = 1; k <= 5; k++) for (let j = 1; j <= 5; j++) for (let i = 1; i <= 5; i++) cube[i + 7 * (j + 7 * k)] = 1;
    const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
    expect(count(erodeMask(cube, d, [1, 1, 1], { distance: 1, unit: 'px', mode: '3d' }))).toBe(27);
    // 2D erosion leaves every slice's 3x3 core: 5 slices x 9
    expect(count(erodeMask(cube, d, [1, 1, 1], { distance: 1, unit: 'px', mode: '2d' }))).toBe(45);
    // in mm with 0.5 mm pixels and 3 mm slices, 1 mm removes two in-plane rings (distances 0.5 and 1.0): 1x1 per slice
    expect(count(erodeMask(cube, d, [0.5, 0.5, 3], { distance: 1, unit: 'mm', mode: '2d' }))).toBe(5);
    // no erosion: a 0/1 copy
    expect(count(erodeMask(cube, d, [1, 1, 1], null))).toBe(125);
  });
});

describe('connected components', () => {
  // Two voxels touching only at a corner across slices, one touching by an edge, one isolated.
  const dims: Vec3 = [5, 5, 3];
  const at = (i: number, j: number, k: number) => i + 5 * (j + 5 * k);
  const mask = new Uint8Array(75);
  mask[at(1, 1, 0)] = 1;
  mask[at(2, 2, 1)] = 1; // corner neighbour of (1,1,0)
  mask[at(3, 2, 1)] = 1; // face neighbour of (2,2,1)
  mask[at(4, 3, 1)] = 1; // edge neighbour of (3,2,1) (in-plane diagonal)
  mask[at(0, 4, 2)] = 1; // isolated

  it('joins face neighbours only with 6-connectivity', () => {
    const c = labelComponents(mask, dims, 6);
    expect(c.count).toBe(4);
    expect(c.labels[at(2, 2, 1)]).toBe(c.labels[at(3, 2, 1)]);
    expect(c.labels[at(1, 1, 0)]).not.toBe(c.labels[at(2, 2, 1)]);
    expect([...c.sizes].slice(1).sort()).toEqual([1, 1, 1, 2]);
  });

  it('also joins edge and corner neighbours with 26-connectivity', () => {
    const c = labelComponents(mask, dims, 26);
    expect(c.count).toBe(2);
    expect([...c.sizes].slice(1).sort()).toEqual([1, 4]);
    expect(c.labels[at(0, 4, 2)]).toBeGreaterThan(0);
    expect(c.labels[at(0, 0, 0)]).toBe(0);
  });

  it('rejects other connectivities', () => {
    expect(() => labelComponents(mask, dims, 18 as never)).toThrow(/6 or 26/);
  });
});
