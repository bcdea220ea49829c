import { describe, expect, it } from 'vitest';
import { fuseScaleScores, fuseScores, fuseSignedResiduals, restrictToBrain } from '../../../src/main/core/scoring/fusion';
import { residualMap, scoreScales, signedResidual } from '../../../src/main/core/scoring/residuals';
import { ssimMap2d, WANG_SSIM_WINDOW } from '../../../src/main/core/scoring/ssim';
import { seeded } from './seeded';

/** Direct 2D SSIM at one pixel: the full window summed explicitly (no separable filtering), truncated and renormalised at the border. */
function ssimAtBruteForce(a: ArrayLike<number>, b: ArrayLike<number>, w: number, h: number, x: number, y: number, sigma: number, r: number, L: number): number {
  let sw = 0, ma = 0, mb = 0;
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      const wt = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
      sw += wt;
      ma += wt * a[yy * w + xx];
      mb += wt * b[yy * w + xx];
    }
  ma /= sw;
  mb /= sw;
  let va = 0, vb = 0, cov = 0;
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      const wt = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) / sw;
      const da = a[yy * w + xx] - ma, db = b[yy * w + xx] - mb;
      va += wt * da * da;
      vb += wt * db * db;
      cov += wt * da * db;
    }
  const c1 = (0.01 * L) ** 2, c2 = (0.03 * L) ** 2;
  return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
}

describe('residual maps', () => {
  const shape = { width: 2, height: 1, depth: 1 };
  const original = Float32Array.from([0.5, 0.2]);
  const recon = Float32Array.from([0.3, 0.6]);

  it('computes absolute, squared and signed residuals', () => {
    // differences original - reconstruction: +0.2 and -0.4
    expect([...residualMap(original, recon, shape, 'absolute')].map((x) => +x.toFixed(6))).toEqual([0.2, 0.4]);
    expect([...residualMap(original, recon, shape, 'squared')].map((x) => +x.toFixed(6))).toEqual([0.04, 0.16]);
    expect([...signedResidual(original, recon, shape)].map((x) => +x.toFixed(6))).toEqual([0.2, -0.4]);
  });

  it('zeroes pixels outside the scoring region', () => {
    expect([...residualMap(original, recon, shape, 'absolute', { region: [0, 1] })].map((x) => +x.toFixed(6))).toEqual([0, 0.4]);
  });

  it('rejects stacks of the wrong size with a geometry error', () => {
    expect(() => residualMap(original, Float32Array.from([1]), shape, 'absolute')).toThrow(expect.objectContaining({ code: 'GEOMETRY_MISMATCH' }));
  });

  it('gives zero structural dissimilarity for a perfect reconstruction and more for a changed patch', () => {
    const w = 24, h = 20;
    const rand = seeded(3);
    const img = Float32Array.from({ length: w * h * 2 }, () => rand());
    const same = residualMap(img, img, { width: w, height: h, depth: 2 }, 'ssim');
    expect(Math.max(...same)).toBeLessThan(1e-6);
    const changed = img.slice();
    for (let y = 8; y < 12; y++) for (let x = 8; x < 12; x++) changed[w * h + y * w + x] = 1 - changed[w * h + y * w + x];
    const d = residualMap(img, changed, { width: w, height: h, depth: 2 }, 'ssim');
    // dissimilarity lives in [0, 1]; the changed patch on slice 1 scores, slice 0 does not
    expect(Math.max(...d.subarray(0, w * h))).toBeLessThan(1e-6);
    expect(d[w * h + 10 * w + 10]).toBeGreaterThan(0.3);
    expect(d[w * h + 1 * w + 1]).toBeLessThan(1e-6);
    for (const x of d) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
  });

  it('scores every scale and keeps its signed residual', () => {
    const orig = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
    const s = scoreScales(orig, [
      { sizePx: 8, offsetPx: 0, healthy: Float32Array.from([0.4, 0.5, 0.9, 0.5]), covered: [1, 1, 1, 0] },
      { sizePx: 16, healthy: Float32Array.from([0.5, 0.2, 0.5, 0.1]) },
    ], { width: 4, height: 1, depth: 1 }, 'absolute');
    expect(s.map((x) => [x.sizePx, x.offsetPx])).toEqual([[8, 0], [16, null]]);
    expect([...s[0].score].map((x) => +x.toFixed(6))).toEqual([0.1, 0, 0.4, 0]);
    expect([...s[0].signed].map((x) => +x.toFixed(6))).toEqual([0.1, 0, -0.4, 0]);
    expect([...s[1].signed].map((x) => +x.toFixed(6))).toEqual([0, 0.3, 0, 0.4]);
  });
});

describe('SSIM map', () => {
  it('matches a direct full-window computation, border pixels included', () => {
    const w = 17, h = 13;
    const rand = seeded(11);
    const a = Float32Array.from({ length: w * h }, () => 255 * rand());
    const b = Float32Array.from(a, (x, p) => (p % 3 === 0 ? x * 0.6 + 40 : x));
    const map = ssimMap2d(a, b, w, h, { window: WANG_SSIM_WINDOW, dataRange: 255 });
    for (const [x, y] of [[0, 0], [3, 2], [8, 6], [16, 12], [10, 0]]) {
      expect(map[y * w + x]).toBeCloseTo(ssimAtBruteForce(a, b, w, h, x, y, 1.5, 5, 255), 5);
    }
  });

  it('reduces to the luminance term on flat images', () => {
    // mu_a = 100, mu_b = 50, no variance: SSIM = (2*100*50 + C1) / (100^2 + 50^2 + C1), C1 = (0.01*255)^2 = 6.5025
    const map = ssimMap2d(new Float32Array(49).fill(100), new Float32Array(49).fill(50), 7, 7, { dataRange: 255 });
    expect(map[24]).toBeCloseTo(10006.5025 / 12506.5025, 6);
  });
});

describe('fusion', () => {
  const maps = [Float32Array.from([1, 5, 3]), Float32Array.from([4, 2, 3]), Float32Array.from([0, 0, 9])];
  const signed = [Float32Array.from([-1, 5, 3]), Float32Array.from([4, -2, -3]), Float32Array.from([0, 0, -9])];

  it('fuses by max, mean and normalised weights', () => {
    expect([...fuseScores(maps, { method: 'max' })]).toEqual([4, 5, 9]);
    // mean: (1+4+0)/3, (5+2+0)/3, (3+3+9)/3
    const mean = fuseScores(maps, { method: 'mean' });
    [5 / 3, 7 / 3, 5].forEach((v, p) => expect(mean[p]).toBeCloseTo(v, 6));
    // weights 2:0:2 -> 0.5 each of maps 0 and 2: [0.5, 2.5, 6]
    expect([...fuseScores(maps, { method: 'weighted', weights: [2, 0, 2] })]).toEqual([0.5, 2.5, 6]);
  });

  it('takes the sign of the scale that won the max', () => {
    // winners: voxel 0 map 1 (4), voxel 1 map 0 (5), voxel 2 map 2 (9)
    expect([...fuseSignedResiduals(signed, maps, { method: 'max' })]).toEqual([4, 5, -9]);
    const mean = fuseSignedResiduals(signed, maps, { method: 'mean' });
    [1, 1, -3].forEach((v, p) => expect(mean[p]).toBeCloseTo(v, 6));
  });

  it('fuses scale scores with provenance', () => {
    const fused = fuseScaleScores(
      maps.map((score, t) => ({ sizePx: 8 << t, offsetPx: 0, metric: 'absolute' as const, score, signed: signed[t] })),
      { method: 'weighted', weights: [1, 1, 2] },
    );
    expect(fused.weights).toEqual([0.25, 0.25, 0.5]);
    expect(fused.scales.map((s) => s.sizePx)).toEqual([8, 16, 32]);
    expect(fused.score[2]).toBeCloseTo(0.25 * 3 + 0.25 * 3 + 0.5 * 9, 6);
  });

  it('refuses bad weights with a clear error', () => {
    expect(() => fuseScores(maps, { method: 'weighted', weights: [1, 2] })).toThrow(/one weight per scale map/);
    expect(() => fuseScores(maps, { method: 'weighted', weights: [0, 0, 0] })).toThrow(/above zero/);
    expect(() => fuseScores(maps, { method: 'weighted', weights: [1, -1, 1] })).toThrow(/not negative/);
    expect(() => fuseScores([], { method: 'max' })).toThrow(/no score maps/);
  });

  it('restricts to the brain, optionally eroding its border', () => {
    // a 5x5 single-slice brain with a 1-voxel ring: erosion by 1 px keeps the 3x3 core
    const dims: [number, number, number] = [7, 7, 1];
    const brain = new Uint8Array(49);
    for (let j = 1; j <= 5; j++) for (let i = 1; i <= 5; i++) brain[j * 7 + i] = 1;
    const score = new Float32Array(49).fill(1);
    const plain = restrictToBrain(score, brain, { dims, spacing: [1, 1, 1] });
    expect(plain.score.reduce((a, b) => a + b, 0)).toBe(25);
    const eroded = restrictToBrain(score, brain, { dims, spacing: [1, 1, 1] }, { distance: 1, unit: 'px', mode: '2d' });
    expect(eroded.score.reduce((a, b) => a + b, 0)).toBe(9);
    expect(eroded.region[3 * 7 + 3]).toBe(1);
    expect(eroded.region[1 * 7 + 3]).toBe(0);
  });
});
