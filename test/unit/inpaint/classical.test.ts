import { describe, expect, it } from 'vitest';
import { inpaintClassical, type ClassicalMethod } from '../../../src/main/core/inpaint/classical';
import { GaussianRng } from '../../../src/main/core/inpaint/rng';

function image(w: number, h: number, f: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = f(x, y);
  return out;
}

function squareHole(w: number, h: number, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const m = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * w + x] = 1;
  return m;
}

function maxErrorInHole(values: Float32Array, truth: Float32Array, hole: Uint8Array): number {
  let e = 0;
  for (let p = 0; p < hole.length; p++) if (hole[p]) e = Math.max(e, Math.abs(values[p] - truth[p]));
  return e;
}

const W = 40;
const H = 36;
const ramp = image(W, H, (x, y) => 0.3 * x - 0.2 * y + 5);
const hole = squareHole(W, H, 10, 8, 26, 24);

describe('classical inpainters', () => {
  for (const method of ['linear', 'harmonic', 'biharmonic'] as ClassicalMethod[]) {
    it(`${method} fills a linear ramp exactly`, () => {
      const broken = ramp.map((v, p) => (hole[p] ? 1000 : v));
      const res = inpaintClassical(method, broken, hole, [W, H, 1]);
      expect(maxErrorInHole(res.values, ramp, hole)).toBeLessThan(1e-4);
      expect(res.stats.converged).toBe(true);
      // Known pixels untouched.
      for (let p = 0; p < hole.length; p++) if (!hole[p]) expect(res.values[p]).toBe(broken[p]);
    });
  }

  it('harmonic fill is exact for a ramp touching the image border (mirror boundary along the ramp-free axis)', () => {
    const ry = image(W, H, (x) => 2 * x);
    const edgeHole = squareHole(W, H, 12, 0, 20, 10);
    expect(maxErrorInHole(inpaintClassical('harmonic', ry, edgeHole, [W, H, 1]).values, ry, edgeHole)).toBeLessThan(1e-4);
  });

  it('biharmonic reproduces x² + y², harmonic does not', () => {
    const q = image(W, H, (x, y) => ((x - 20) ** 2 + (y - 18) ** 2) / 50);
    const bi = inpaintClassical('biharmonic', q, hole, [W, H, 1]);
    expect(maxErrorInHole(bi.values, q, hole)).toBeLessThan(1e-3);
    const ha = inpaintClassical('harmonic', q, hole, [W, H, 1]);
    expect(maxErrorInHole(ha.values, q, hole)).toBeGreaterThan(0.1);
  });

  it('harmonic fill satisfies the discrete Laplace equation on a random image', () => {
    const rng = new GaussianRng(3);
    const noise = image(W, H, () => rng.normal());
    const res = inpaintClassical('harmonic', noise, hole, [W, H, 1]).values;
    for (let y = 8; y < 24; y++)
      for (let x = 10; x < 26; x++) {
        const p = y * W + x;
        const lap = res[p - 1] + res[p + 1] + res[p - W] + res[p + W] - 4 * res[p];
        expect(Math.abs(lap)).toBeLessThan(1e-4);
      }
  });

  it('nearest copies the closest known pixel (exact Euclidean distance)', () => {
    const rng = new GaussianRng(11);
    const w = 30;
    const h = 20;
    const values = image(w, h, () => rng.normal());
    const mask = new Uint8Array(w * h).map(() => (rng.uniform() < 0.7 ? 1 : 0));
    const res = inpaintClassical('nearest', values, mask, [w, h, 1]).values;
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      const px = p % w;
      const py = Math.floor(p / w);
      let best = Infinity;
      const candidates: number[] = [];
      for (let q = 0; q < mask.length; q++) {
        if (mask[q]) continue;
        const d = (q % w - px) ** 2 + (Math.floor(q / w) - py) ** 2;
        if (d < best) {
          best = d;
          candidates.length = 0;
        }
        if (d === best) candidates.push(values[q]);
      }
      expect(candidates).toContain(res[p]);
    }
  });

  it('fills a fully missing slice of a volume from its neighbours, weighting by spacing', () => {
    const nx = 12;
    const ny = 10;
    const nz = 3;
    const vol = new Float32Array(nx * ny * nz);
    vol.fill(10, 0, nx * ny);
    vol.fill(30, 2 * nx * ny);
    const mask = new Uint8Array(nx * ny * nz).fill(1, nx * ny, 2 * nx * ny);
    for (const method of ['harmonic', 'biharmonic', 'linear'] as ClassicalMethod[]) {
      const res = inpaintClassical(method, vol, mask, [nx, ny, nz], { spacingMm: [0.5, 0.5, 5] });
      expect(res.stats.converged).toBe(true);
      for (let p = nx * ny; p < 2 * nx * ny; p++) expect(res.values[p]).toBeCloseTo(20, 3);
    }
  });

  it('solves independent holes separately and reuses factorisations', () => {
    const many = new Uint8Array(W * H);
    for (const [x, y] of [
      [2, 2],
      [20, 2],
      [2, 20],
      [20, 20],
    ])
      for (let yy = y; yy < y + 8; yy++) for (let xx = x; xx < x + 8; xx++) many[yy * W + xx] = 1;
    const res = inpaintClassical('biharmonic', ramp, many, [W, H, 1]);
    expect(res.stats.groups).toBe(4);
    expect(maxErrorInHole(res.values, ramp, many)).toBeLessThan(1e-4);
  });
});
