/**
 * Lesion-level detection: does the prediction find each lesion, and how many false alarms
 * does it raise per scan?
 *
 * Rules (the usual "any overlap" criterion of lesion detection studies):
 * - Ground-truth lesions are the connected components of the ground-truth mask; predicted
 *   lesions are the connected components of the predicted mask (or the given label volume),
 *   with the same connectivity.
 * - A ground-truth lesion is detected when at least `minOverlapVoxels` (default 1) of its
 *   voxels are predicted abnormal.
 * - A predicted component is a false positive when none of its voxels lies in the
 *   ground-truth mask.
 * A single large prediction covering two lesions detects both and is no false positive; two
 * predictions on one lesion detect it once and are both true positives.
 */
import { labelComponents, type Connectivity } from '../scoring/components';
import type { Vec3 } from '../volume';

export interface LesionDetectionOptions {
  connectivity?: Connectivity;
  minOverlapVoxels?: number;
}

export interface LesionDetection {
  truthLesions: number;
  detectedLesions: number;
  /** detected / truth lesions; NaN when the scan has no lesion. */
  sensitivity: number;
  predictedComponents: number;
  falsePositives: number;
  /** Per ground-truth lesion: its size and how many of its voxels were predicted. */
  lesions: { voxels: number; overlapVoxels: number; detected: boolean }[];
}

/**
 * @param predicted a 0/1 mask, or a label volume (Int32Array, 0 = none) whose labels are
 *   taken as the predicted lesions as they are (e.g. the threshold engine's output)
 */
export function lesionDetection(predicted: ArrayLike<number>, truth: ArrayLike<number>, dims: Vec3, options: LesionDetectionOptions = {}): LesionDetection {
  const connectivity = options.connectivity ?? 26;
  const minOverlap = Math.max(1, options.minOverlapVoxels ?? 1);
  if (predicted.length !== truth.length) throw new RangeError('Predicted and ground-truth masks differ in size');
  const gt = labelComponents(truth, dims, connectivity);
  let predLabels: ArrayLike<number>;
  let predCount: number;
  if (predicted instanceof Int32Array) {
    predLabels = predicted;
    predCount = 0;
    for (let p = 0; p < predicted.length; p++) if (predicted[p] > predCount) predCount = predicted[p];
  } else {
    const pc = labelComponents(predicted, dims, connectivity);
    predLabels = pc.labels;
    predCount = pc.count;
  }
  const overlap = new Int32Array(gt.count + 1);
  const predHitsTruth = new Uint8Array(predCount + 1);
  const predPresent = new Uint8Array(predCount + 1);
  for (let p = 0; p < truth.length; p++) {
    const pl = predLabels[p];
    if (pl <= 0) continue;
    predPresent[pl] = 1;
    const gl = gt.labels[p];
    if (gl > 0) {
      overlap[gl]++;
      predHitsTruth[pl] = 1;
    }
  }
  let components = 0;
  let falsePositives = 0;
  for (let l = 1; l <= predCount; l++) {
    if (!predPresent[l]) continue;
    components++;
    if (!predHitsTruth[l]) falsePositives++;
  }
  const lesions = [];
  let detected = 0;
  for (let l = 1; l <= gt.count; l++) {
    const hit = overlap[l] >= minOverlap;
    if (hit) detected++;
    lesions.push({ voxels: gt.sizes[l], overlapVoxels: overlap[l], detected: hit });
  }
  return {
    truthLesions: gt.count,
    detectedLesions: detected,
    sensitivity: gt.count === 0 ? NaN : detected / gt.count,
    predictedComponents: components,
    falsePositives,
    lesions,
  };
}

export interface DetectionSummary {
  scans: number;
  truthLesions: number;
  detectedLesions: number;
  /** Pooled over lesions: all detected / all lesions (NaN when there is none). */
  sensitivity: number;
  falsePositives: number;
  falsePositivesPerScan: number;
}

export function summarizeDetection(results: readonly LesionDetection[]): DetectionSummary {
  const truthLesions = results.reduce((a, r) => a + r.truthLesions, 0);
  const detectedLesions = results.reduce((a, r) => a + r.detectedLesions, 0);
  const falsePositives = results.reduce((a, r) => a + r.falsePositives, 0);
  return {
    scans: results.length,
    truthLesions,
    detectedLesions,
    sensitivity: truthLesions === 0 ? NaN : detectedLesions / truthLesions,
    falsePositives,
    falsePositivesPerScan: results.length === 0 ? NaN : falsePositives / results.length,
  };
}
