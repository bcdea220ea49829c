import { describe, expect, it } from 'vitest';
import {
  computeHealthyReference,
  healthyReferenceKey,
  normalCdf,
  normalQuantile,
  parseHealthyReference,
  quantileSorted,
  parseHealthyReferenceSet,
  referenceQuantile,
  requireHealthyReference,
  resolveThreshold,
  type HealthyReference,
} from '../../../src/main/core/scoring/threshold';

const descending = (xs: number[]) => Float32Array.from([...xs].sort((a, b) => b - a));

describe('threshold strategies', () => {
  const scores = descending(Array.from({ length: 100 }, (_, t) => t + 1)); // 1..100

  it('absolute passes the value through', () => {
    expect(resolveThreshold({ kind: 'absolute', value: 0.25 }, scores).value).toBe(0.25);
    expect(() => resolveThreshold({ kind: 'absolute', value: NaN }, scores)).toThrow(/must be a number/);
  });

  it('percentile interpolates between order statistics of the brain scores', () => {
    // ascending position 0.9 * 99 = 89.1 -> 90 + 0.1 * (91 - 90) = 90.1
    expect(resolveThreshold({ kind: 'percentile', percentile: 90 }, scores).value).toBeCloseTo(90.1, 6);
    expect(resolveThreshold({ kind: 'percentile', percentile: 100 }, scores).value).toBe(100);
    expect(resolveThreshold({ kind: 'percentile', percentile: 0 }, scores).value).toBe(1);
    expect(() => resolveThreshold({ kind: 'percentile', percentile: 101 }, scores)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  const reference: HealthyReference = parseHealthyReference({
    metric: 'absolute',
    fusion: 'max',
    scans: 3,
    voxels: 1000,
    mean: 0.1,
    std: 0.05,
    quantiles: { p: [0, 0.5, 0.9, 0.99, 1], value: [0, 0.09, 0.15, 0.3, 0.8] },
  });

  it('gaussian z-score is mean + z std of the healthy reference', () => {
    // 0.1 + 2 * 0.05
    expect(resolveThreshold({ kind: 'zscore', z: 2, reference }, scores).value).toBeCloseTo(0.2, 9);
    expect(resolveThreshold({ kind: 'zscore', z: -1, reference }, scores).value).toBeCloseTo(0.05, 9);
  });

  it('empirical z-score reads the healthy quantile at Phi(z)', () => {
    // Phi(0) = 0.5 -> 0.09 exactly; Phi(1.2816) ~= 0.9 -> ~0.15
    expect(resolveThreshold({ kind: 'zscore', z: 0, reference, distribution: 'empirical' }, scores).value).toBeCloseTo(0.09, 6);
    expect(resolveThreshold({ kind: 'zscore', z: 1.281552, reference, distribution: 'empirical' }, scores).value).toBeCloseTo(0.15, 4);
    // between p 0.9 and 0.99 the table is read linearly in z, not in p: p 0.945 is z 1.5982, a
    // fraction (1.5982 - 1.2816) / (2.3263 - 1.2816) = 0.3031 of the way -> 0.15 + 0.3031 * 0.15
    expect(referenceQuantile(reference, 0.945)).toBeCloseTo(0.19546, 4);
    // segments ending at p 0 or 1 stay linear in p
    expect(referenceQuantile(reference, 0.25)).toBeCloseTo(0.045, 9);
    expect(referenceQuantile(reference, 0.995)).toBeCloseTo(0.55, 9);
  });

  it('reads the default cut and the panel\'s quarter steps as measured healthy quantiles', () => {
    // A heavy-tailed healthy sample (exponential scores), as the inpainters' residuals are.
    const n = 400_000;
    const sample = Float32Array.from({ length: n }, (_, i) => -Math.log(1 - (i + 0.5) / n) * 0.05);
    const ref = computeHealthyReference([sample], [new Uint8Array(n).fill(1)], { metric: 'absolute', fusion: 'max' });
    const exact = (z: number) => quantileSorted(sample, normalCdf(z));
    for (const z of [2.5, 3, 3.25, 3.5, 4]) {
      const cut = resolveThreshold({ kind: 'zscore', z, reference: ref, distribution: 'empirical' }, scores).value;
      expect(Math.abs(cut / exact(z) - 1), `z ${z}`).toBeLessThan(1e-4);
    }
    // The run record says the cut as it was set.
    expect(resolveThreshold({ kind: 'zscore', z: 3.25, reference: ref, distribution: 'empirical' }, scores).description).toMatch(/^z >= 3.25 read from the healthy quantiles \(p = 0.999423, score 0\.\d{4}\)$/);
    // Between the stored quarters, within a fraction of a percent.
    for (const z of [2.6, 3.1, 3.4, 3.9]) expect(Math.abs(referenceQuantile(ref, normalCdf(z)) / exact(z) - 1), `z ${z}`).toBeLessThan(0.005);
  });

  it('inverts the normal CDF', () => {
    for (const z of [-3, -1, 0, 0.5, 2, 3, 4.5]) expect(normalQuantile(normalCdf(z))).toBeCloseTo(z, 6);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });

  it('normal CDF agrees with tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
    expect(1 - normalCdf(4)).toBeCloseTo(3.167e-5, 7);
  });

  it('rejects unknown strategies', () => {
    expect(() => resolveThreshold({ kind: 'otsu' } as never, scores)).toThrow(/Unknown threshold strategy/);
  });
});

describe('healthy reference', () => {
  it('pools brain voxels of several healthy scans', () => {
    // brain scores 1,2,3 and 4,5 (the 100s are outside the brain): mean 3, population variance (4+1+0+1+4)/5 = 2
    const ref = computeHealthyReference([Float32Array.from([1, 2, 3, 100]), Float32Array.from([100, 4, 5])], [Uint8Array.from([1, 1, 1, 0]), Uint8Array.from([0, 1, 1])], {
      metric: 'ssim',
      fusion: 'mean',
      probabilities: [0, 0.25, 0.5, 1],
      borderErosion: { distance: 2, unit: 'mm', mode: '2d' },
    });
    expect(ref.scans).toBe(2);
    expect(ref.voxels).toBe(5);
    expect(ref.mean).toBeCloseTo(3, 9);
    expect(ref.std).toBeCloseTo(Math.SQRT2, 6);
    // ascending 1..5: p 0.25 -> position 1 -> 2; p 0.5 -> 3
    expect(ref.quantiles).toEqual({ p: [0, 0.25, 0.5, 1], value: [1, 2, 3, 5] });
    expect(ref.borderErosion).toEqual({ distance: 2, unit: 'mm', mode: '2d' });
    // it survives a round trip through a manifest
    const set = parseHealthyReferenceSet(JSON.parse(JSON.stringify({ metrics: { [healthyReferenceKey('ssim', 'mean')]: ref } })));
    expect(requireHealthyReference(set, 'ssim', 'mean').mean).toBeCloseTo(3, 9);
  });

  it('explains what is missing', () => {
    expect(() => requireHealthyReference({ metrics: {} }, 'ssim', 'max')).toThrow(/ssim metric with max fusion.*none/);
    expect(() => computeHealthyReference([new Float32Array(3)], [new Uint8Array(3)], { metric: 'a', fusion: 'max' })).toThrow(expect.objectContaining({ code: 'NO_BRAIN' }));
    expect(() => computeHealthyReference([new Float32Array(3)], [], { metric: 'a', fusion: 'max' })).toThrow(/brain mask/);
  });

  it('rejects a malformed stored reference as an invalid manifest', () => {
    const bad = { metric: 'ssim', fusion: 'max', scans: 1, voxels: 10, mean: 0, std: 1, quantiles: { p: [0, 0.5], value: [2, 1] } };
    expect(() => parseHealthyReference(bad)).toThrow(expect.objectContaining({ code: 'MODEL_MANIFEST_INVALID' }));
    expect(() => parseHealthyReferenceSet({ metrics: { 'ssim/mean': { ...bad, quantiles: { p: [0, 1], value: [0, 1] } } } })).toThrow(/describes ssim\/max/);
    expect(parseHealthyReferenceSet(undefined)).toEqual({ metrics: {} });
  });
});
