import { describe, expect, it } from 'vitest';
import { smoothResidual } from '../../../src/main/core/scoring/residuals';
import { pixelAuroc } from '../../../src/main/core/metrics/index';
import { toThresholdSettings } from '../../../src/main/core/pipeline/reading';
import { DEFAULT_READING_SETTINGS } from '../../../src/shared/analysis';
import { AppError } from '../../../src/shared/errors';
import { seeded } from './seeded';

const width = 64;
const height = 64;
const depth = 2;
const shape = { width, height, depth };
const n = width * height * depth;
const at = (i: number, j: number, k: number) => k * width * height + j * width + i;

/** A round brain, a faint dark "infarct" inside it, and voxel noise of both signs larger than the lesion's contrast. */
function faintLesion() {
  const rand = seeded(11);
  const brain = new Uint8Array(n);
  const truth = new Uint8Array(n);
  const signed = new Float32Array(n);
  for (let k = 0; k < depth; k++)
    for (let j = 0; j < height; j++)
      for (let i = 0; i < width; i++) {
        const p = at(i, j, k);
        if (Math.hypot(i - 32, j - 32) > 28) continue;
        brain[p] = 1;
        const noise = (rand() + rand() + rand() - 1.5) * 0.2; // SD about 0.1
        const lesion = Math.hypot(i - 38, j - 30) < 10;
        truth[p] = lesion ? 1 : 0;
        signed[p] = (lesion ? -0.06 : 0) + noise;
      }
  return { brain, truth, signed, score: signed.map(Math.abs) };
}

describe('residual smoothing', () => {
  it('lifts a faint extended lesion out of the voxel noise', () => {
    const { brain, truth, signed, score } = faintLesion();
    const before = pixelAuroc({ scores: score, truth, region: brain });
    const fused = { score: Float32Array.from(score), signed: Float32Array.from(signed) };
    smoothResidual(fused, brain, shape, 'absolute', 2);
    const after = pixelAuroc({ scores: fused.score, truth, region: brain });
    expect(before).toBeLessThan(0.7);
    expect(after).toBeGreaterThan(0.9);
    // The score follows the smoothed signed residual, and the lesion stays dark.
    for (let p = 0; p < n; p++) expect(fused.score[p]).toBeCloseTo(Math.abs(fused.signed[p]), 6);
    let inside = 0;
    let count = 0;
    for (let p = 0; p < n; p++) {
      if (!truth[p]) continue;
      inside += fused.signed[p];
      count++;
    }
    expect(inside / count).toBeLessThan(-0.03);
  });

  it('averages over brain pixels only: a uniform residual stays uniform up to the border, and nothing leaks outside', () => {
    const brain = new Uint8Array(n);
    const signed = new Float32Array(n);
    for (let k = 0; k < depth; k++)
      for (let j = 0; j < height; j++)
        for (let i = 0; i < width; i++)
          if (i >= 10 && i < 40) {
            brain[at(i, j, k)] = 1;
            signed[at(i, j, k)] = 0.2;
          }
    const fused = { score: signed.map((v) => v * v), signed: Float32Array.from(signed) };
    smoothResidual(fused, brain, shape, 'squared', 3);
    for (let p = 0; p < n; p++) {
      if (brain[p]) {
        expect(fused.signed[p]).toBeCloseTo(0.2, 6);
        expect(fused.score[p]).toBeCloseTo(0.04, 6);
      } else {
        expect(fused.signed[p]).toBe(0);
        expect(fused.score[p]).toBe(0);
      }
    }
  });

  it('changes nothing at sigma 0', () => {
    const { brain, signed, score } = faintLesion();
    const fused = { score: Float32Array.from(score), signed: Float32Array.from(signed) };
    smoothResidual(fused, brain, shape, 'absolute', 0);
    expect(fused.signed).toEqual(signed);
    expect(fused.score).toEqual(score);
  });

  it('refuses a z-score cut on smoothed residuals, which the healthy references do not describe', () => {
    const reading = { ...DEFAULT_READING_SETTINGS, smoothingMm: 2, strategy: { kind: 'zscore' as const, z: 3 } };
    let err: unknown;
    try {
      toThresholdSettings(reading, { metrics: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/unsmoothed residuals/);
  });
});
