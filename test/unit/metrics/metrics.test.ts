import { describe, expect, it } from 'vitest';
import { lesionDetection, summarizeDetection } from '../../../src/main/core/metrics/detection';
import { inpaintingQuality } from '../../../src/main/core/metrics/inpainting';
import { confusionCounts, dice, iou } from '../../../src/main/core/metrics/overlap';
import { averagePrecision, bestThresholdDice, pixelAuroc } from '../../../src/main/core/metrics/ranking';
import { ssimMap2d, WANG_SSIM_WINDOW } from '../../../src/main/core/scoring/ssim';
import type { Vec3 } from '../../../src/main/core/volume';
import { seeded } from '../scoring/seeded';

describe('overlap', () => {
  // pred 1 1 0 0 1, truth 1 0 0 1 1: TP 2, FP 1, FN 1, TN 1
  const pred = [1, 1, 0, 0, 1];
  const truth = [1, 0, 0, 1, 1];

  it('Dice = 2*2 / (2*2 + 1 + 1) = 2/3 and IoU = 2 / 4', () => {
    expect(confusionCounts(pred, truth)).toEqual({ truePositives: 2, falsePositives: 1, falseNegatives: 1, trueNegatives: 1 });
    expect(dice(pred, truth)).toBeCloseTo(2 / 3, 12);
    expect(iou(pred, truth)).toBe(0.5);
  });

  it('counts only inside a region, and treats two empty masks as agreeing', () => {
    // region drops voxel 1 (the FP): TP 2, FN 1 -> Dice 4/5
    expect(dice(pred, truth, [1, 0, 1, 1, 1])).toBeCloseTo(0.8, 12);
    expect(dice([0, 0], [0, 0])).toBe(1);
    expect(iou([0, 0], [0, 0])).toBe(1);
    expect(dice([1, 0], [0, 0])).toBe(0);
  });
});

describe('ranking metrics', () => {
  // scores 0.1 0.4 0.35 0.8 0.4 0.7, truth 0 0 1 1 1 0
  // positives {0.35, 0.8, 0.4}, negatives {0.1, 0.4, 0.7}
  const example = { scores: Float32Array.from([0.1, 0.4, 0.35, 0.8, 0.4, 0.7]), truth: [0, 0, 1, 1, 1, 0] };

  it('AUROC counts a tie as one half: (1 + 3 + 1.5) / 9', () => {
    // 0.35 beats 0.1 only (1); 0.8 beats all (3); 0.4 beats 0.1 and ties 0.4 (1.5)
    expect(pixelAuroc(example)).toBeCloseTo(5.5 / 9, 12);
  });

  it('average precision sums precision at each recall step: 1/3*1 + 1/3*2/4 + 1/3*3/5', () => {
    // t=0.8: tp 1 fp 0 (P 1); t=0.7: fp 1; t=0.4: tp 2 fp 2 (P 0.5, tied pair enters together); t=0.35: tp 3 fp 2 (P 0.6)
    expect(averagePrecision(example)).toBeCloseTo(1 / 3 + 1 / 6 + 1 / 5, 12);
  });

  it('finds the Dice-optimal global threshold exactly', () => {
    // Dice = 2tp/(3 + tp + fp): t 0.8 -> 0.5, 0.7 -> 0.4, 0.4 -> 4/7, 0.35 -> 6/8, 0.1 -> 6/9
    const best = bestThresholdDice(example);
    expect(best.threshold).toBeCloseTo(0.35, 6);
    expect(best.dice).toBeCloseTo(0.75, 12);
    expect([best.truePositives, best.falsePositives, best.falseNegatives]).toEqual([3, 2, 0]);
    expect(best.caseDice[0]).toBeCloseTo(0.75, 12);
  });

  it('pools cases and honours regions', () => {
    // splitting the example in two cases changes nothing when pooled
    const a = { scores: Float64Array.from([0.1, 0.4, 0.35]), truth: [0, 0, 1] };
    const b = { scores: Float64Array.from([0.8, 0.4, 0.7]), truth: [1, 1, 0] };
    expect(pixelAuroc([a, b])).toBeCloseTo(5.5 / 9, 12);
    expect(averagePrecision([a, b])).toBeCloseTo(0.7, 12);
    const best = bestThresholdDice([a, b]);
    expect(best.dice).toBeCloseTo(0.75, 12);
    // case a at t = 0.35: predicts {0.4, 0.35}, truth {0.35}: 2*1/(2+1); case b: predicts all 3, truth 2: 4/5
    expect(best.caseDice[0]).toBeCloseTo(2 / 3, 12);
    expect(best.caseDice[1]).toBeCloseTo(0.8, 12);
    // a region excluding the negative 0.7 leaves a perfectly ranked... almost: 0.4 tie remains
    // positives {0.35, 0.8, 0.4}, negatives {0.1, 0.4}: (1 + 2 + 1.5) / 6
    expect(pixelAuroc({ ...example, region: [1, 1, 1, 1, 1, 0] })).toBeCloseTo(4.5 / 6, 12);
  });

  it('perfect and undefined cases', () => {
    expect(pixelAuroc({ scores: [0.9, 0.1], truth: [1, 0] })).toBe(1);
    expect(averagePrecision({ scores: [0.9, 0.1], truth: [1, 0] })).toBe(1);
    expect(pixelAuroc({ scores: [0.9, 0.1], truth: [0, 0] })).toBeNaN();
    expect(averagePrecision({ scores: [0.9, 0.1], truth: [0, 0] })).toBeNaN();
    expect(bestThresholdDice({ scores: [0.9, 0.1], truth: [0, 0] })).toMatchObject({ threshold: Infinity, dice: 1 });
    // NaN scores rank lowest
    expect(pixelAuroc({ scores: [NaN, 0.1], truth: [1, 0] })).toBe(0);
  });

  it('agrees with the pairwise definition on random data with ties', () => {
    const rnd = seeded(9);
    const scores = Float32Array.from({ length: 300 }, () => Math.round(rnd() * 20) / 20);
    const truth = Array.from(scores, (x) => (rnd() < 0.2 + 0.5 * x ? 1 : 0));
    let wins = 0, pairs = 0;
    for (let i = 0; i < 300; i++) for (let j = 0; j < 300; j++) if (truth[i] && !truth[j]) {
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
    expect(pixelAuroc({ scores, truth })).toBeCloseTo(wins / pairs, 12);
  });
});

describe('lesion detection', () => {
  const dims: Vec3 = [8, 4, 2];
  const at = (i: number, j: number, k: number) => i + 8 * (j + 4 * k);
  const truth = new Uint8Array(64);
  truth[at(0, 0, 0)] = truth[at(1, 0, 0)] = 1; // lesion 1
  truth[at(5, 2, 1)] = 1; // lesion 2
  truth[at(7, 3, 0)] = 1; // lesion 3 (missed)
  const pred = new Uint8Array(64);
  pred[at(1, 0, 0)] = pred[at(2, 0, 0)] = 1; // overlaps lesion 1
  pred[at(4, 2, 1)] = pred[at(5, 2, 1)] = 1; // covers lesion 2
  pred[at(2, 3, 1)] = 1; // false positive
  pred[at(0, 3, 0)] = 1; // false positive

  it('counts a lesion as found when any predicted voxel overlaps it, and predictions touching no lesion as false positives', () => {
    const r = lesionDetection(pred, truth, dims);
    expect(r.truthLesions).toBe(3);
    expect(r.detectedLesions).toBe(2);
    expect(r.sensitivity).toBeCloseTo(2 / 3, 12);
    expect(r.predictedComponents).toBe(4);
    expect(r.falsePositives).toBe(2);
    // lesions are numbered in voxel order (x fastest): (0..1,0,0), (7,3,0), (5,2,1)
    expect(r.lesions.map((l) => [l.voxels, l.overlapVoxels, l.detected])).toEqual([[2, 1, true], [1, 0, false], [1, 1, true]]);
    // stricter overlap rule: 2 voxels needed -> only... none of them has 2 overlapping voxels
    expect(lesionDetection(pred, truth, dims, { minOverlapVoxels: 2 }).detectedLesions).toBe(0);
  });

  it('takes a label volume as given and summarises over scans', () => {
    const labels = new Int32Array(64);
    labels[at(1, 0, 0)] = 3;
    labels[at(6, 0, 1)] = 3; // same predicted lesion, though not connected
    labels[at(0, 3, 1)] = 7;
    const r = lesionDetection(labels, truth, dims);
    expect([r.predictedComponents, r.falsePositives, r.detectedLesions]).toEqual([2, 1, 1]);
    const s = summarizeDetection([r, lesionDetection(pred, truth, dims)]);
    expect(s).toEqual({ scans: 2, truthLesions: 6, detectedLesions: 3, sensitivity: 0.5, falsePositives: 3, falsePositivesPerScan: 1.5 });
  });

  it('uses the connectivity for both masks', () => {
    // two truth voxels touching at a corner: one lesion with 26-, two with 6-connectivity
    const t = new Uint8Array(64);
    t[at(0, 0, 0)] = t[at(1, 1, 1)] = 1;
    expect(lesionDetection(new Uint8Array(64), t, dims, { connectivity: 26 }).truthLesions).toBe(1);
    expect(lesionDetection(new Uint8Array(64), t, dims, { connectivity: 6 }).truthLesions).toBe(2);
  });
});

describe('inpainting quality', () => {
  it('measures MAE (0-255 and HU), MSE and PSNR inside the region', () => {
    // HU 40 80 0 | 10 (region = first three and the 4th; the 5th is outside)
    // brain window 0..80 HU -> 0..255: 40->127.5, 80->255, 0->0, 50->159.375, 60->191.25, 10->31.875
    const original = [40, 40, 80, 0, 500];
    const inpainted = [50, 40, 60, 10, -500];
    const region = [1, 1, 1, 1, 0];
    const q = inpaintingQuality(original, inpainted, region, { width: 5, height: 1 });
    // |127.5-159.375| = 31.875, 0, |255-191.25| = 63.75, 31.875 -> 127.5 / 4
    expect(q.pixels).toBe(4);
    expect(q.mae255).toBeCloseTo(31.875, 9);
    // (10 + 0 + 20 + 10) / 4
    expect(q.maeHu).toBeCloseTo(10, 9);
    // (2 * 31.875^2 + 63.75^2) / 4 = 6096.09375 / 4
    expect(q.mse255).toBeCloseTo(1524.0234375, 6);
    expect(q.psnrDb).toBeCloseTo(10 * Math.log10(65025 / 1524.0234375), 9);
  });

  it('keeps the HU error where the window clips', () => {
    // 100 and 90 HU both window to 255
    const q = inpaintingQuality([100], [90], [1], { width: 1, height: 1 });
    expect([q.mae255, q.maeHu, q.psnrDb]).toEqual([0, 10, Infinity]);
    expect(q.ssim).toBeCloseTo(1, 12);
    // windowed inputs: 0.1 of the 80 HU window = 8 HU
    const w = inpaintingQuality([0.5], [0.4], [1], { width: 1, height: 1 }, { input: 'windowed' });
    expect(w.mae255).toBeCloseTo(25.5, 9);
    expect(w.maeHu).toBeCloseTo(8, 9);
  });

  it('averages the SSIM map over the region only', () => {
    const w = 16, h = 16;
    const rnd = seeded(1);
    const original = Float32Array.from({ length: w * h }, () => 80 * rnd());
    const inpainted = original.slice();
    const region = new Uint8Array(w * h);
    for (let y = 6; y < 10; y++) for (let x = 6; x < 10; x++) {
      region[y * w + x] = 1;
      inpainted[y * w + x] = 40; // a flat fill
    }
    const q = inpaintingQuality(original, inpainted, region, { width: w, height: h });
    // the same number from the SSIM map on the 0-255 windowed slices, averaged over the 16 region pixels
    const to255 = (x: number) => (255 * Math.min(80, Math.max(0, x))) / 80;
    const map = ssimMap2d(Float32Array.from(original, to255), Float32Array.from(inpainted, to255), w, h, { window: WANG_SSIM_WINDOW, dataRange: 255 });
    let sum = 0;
    for (let p = 0; p < w * h; p++) if (region[p]) sum += map[p];
    expect(q.ssim).toBeCloseTo(sum / 16, 9);
    // a fill closer to the truth scores higher, a perfect one 1
    const closer = original.map((x, p) => (region[p] ? x + 4 * (rnd() - 0.5) : x));
    const qCloser = inpaintingQuality(original, closer, region, { width: w, height: h });
    expect(q.ssim).toBeLessThan(qCloser.ssim);
    expect(qCloser.ssim).toBeLessThan(1);
    // a perfect fill scores 1 whatever the region
    expect(inpaintingQuality(original, original, region, { width: w, height: h }).ssim).toBeCloseTo(1, 9);
    expect(() => inpaintingQuality(original, inpainted, new Uint8Array(w * h), { width: w, height: h })).toThrow(/region is empty/);
  });
});
