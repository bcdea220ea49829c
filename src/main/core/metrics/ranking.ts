/**
 * Threshold-free voxel metrics of an anomaly score against a ground-truth mask: AUROC, average
 * precision (AUPRC) and the Dice at the best global threshold. All are exact: the scores of
 * positive and negative voxels are sorted once and every distinct score is visited as a
 * threshold ("predict abnormal where score >= t"), tied scores entering together.
 *
 * Several cases (scans) can be pooled: their voxels form one set, which is how the anomaly
 * detection literature reports dataset-level AUROC, AUPRC and best-threshold Dice (Baur et al.
 * 2021). NaN scores count as the lowest possible score.
 */

export interface ScoredVoxels {
  scores: ArrayLike<number>;
  /** Ground truth, > 0 = abnormal. */
  truth: ArrayLike<number>;
  /** Only voxels with region > 0 count (e.g. the brain mask); all when absent. */
  region?: ArrayLike<number> | null;
}

type SortedScores = Float32Array | Float64Array;

interface SplitScores {
  /** Ascending. */
  positives: SortedScores;
  negatives: SortedScores;
}

function asCases(input: ScoredVoxels | readonly ScoredVoxels[]): readonly ScoredVoxels[] {
  return Array.isArray(input) ? input : [input as ScoredVoxels];
}

function splitAndSort(input: ScoredVoxels | readonly ScoredVoxels[]): SplitScores {
  const cases = asCases(input);
  let nPos = 0;
  let nNeg = 0;
  for (const c of cases) {
    if (c.scores.length !== c.truth.length || (c.region && c.region.length !== c.scores.length)) throw new RangeError('Scores, truth and region must have the same size');
    for (let p = 0; p < c.scores.length; p++) {
      if (c.region && !(c.region[p] > 0)) continue;
      if (c.truth[p] > 0) nPos++;
      else nNeg++;
    }
  }
  // float32 scores stay float32 (half the memory, no new ties); anything else keeps full precision.
  const single = cases.every((c) => c.scores instanceof Float32Array);
  const positives = single ? new Float32Array(nPos) : new Float64Array(nPos);
  const negatives = single ? new Float32Array(nNeg) : new Float64Array(nNeg);
  let ip = 0;
  let ineg = 0;
  for (const c of cases) {
    for (let p = 0; p < c.scores.length; p++) {
      if (c.region && !(c.region[p] > 0)) continue;
      const s = c.scores[p];
      const v = Number.isNaN(s) ? -Infinity : s;
      if (c.truth[p] > 0) positives[ip++] = v;
      else negatives[ineg++] = v;
    }
  }
  positives.sort();
  negatives.sort();
  return { positives, negatives };
}

/**
 * Visits every distinct score from high to low with the cumulative counts of positives (tp)
 * and negatives (fp) scoring at or above it.
 */
function walkThresholds(split: SplitScores, visit: (threshold: number, tp: number, fp: number) => void): void {
  const { positives: pos, negatives: neg } = split;
  let ip = pos.length - 1;
  let ineg = neg.length - 1;
  let tp = 0;
  let fp = 0;
  while (ip >= 0 || ineg >= 0) {
    const t = ip < 0 ? neg[ineg] : ineg < 0 ? pos[ip] : Math.max(pos[ip], neg[ineg]);
    while (ip >= 0 && pos[ip] === t) {
      ip--;
      tp++;
    }
    while (ineg >= 0 && neg[ineg] === t) {
      ineg--;
      fp++;
    }
    visit(t, tp, fp);
  }
}

/**
 * Area under the ROC curve, the ROC drawn through every distinct threshold with straight
 * segments between them. Equals the Mann-Whitney probability that a random abnormal voxel
 * scores above a random normal one, ties counting one half. NaN without both classes.
 */
export function pixelAuroc(input: ScoredVoxels | readonly ScoredVoxels[]): number {
  const split = splitAndSort(input);
  const P = split.positives.length;
  const N = split.negatives.length;
  if (P === 0 || N === 0) return NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  walkThresholds(split, (_t, tp, fp) => {
    area += (fp - prevFp) * (tp + prevTp);
    prevTp = tp;
    prevFp = fp;
  });
  return area / (2 * P * N);
}

/**
 * AUPRC as average precision (the definition of scikit-learn's average_precision_score and of
 * PASCAL VOC's non-interpolated AP): AP = Σ_t (R_t - R_{t-1}) P_t over the distinct thresholds
 * from high to low, i.e. precision weighted by the recall gained at each threshold, with no
 * interpolation (trapezoidal PR areas are optimistic). NaN without abnormal voxels.
 */
export function averagePrecision(input: ScoredVoxels | readonly ScoredVoxels[]): number {
  const split = splitAndSort(input);
  const P = split.positives.length;
  if (P === 0) return NaN;
  let ap = 0;
  let prevTp = 0;
  walkThresholds(split, (_t, tp, fp) => {
    if (tp > prevTp) ap += ((tp - prevTp) / P) * (tp / (tp + fp));
    prevTp = tp;
  });
  return ap;
}

export interface BestDice {
  /** The score cut (predict abnormal where score >= threshold); Infinity = predict nothing. */
  threshold: number;
  /** Dice of all cases' voxels pooled, at that threshold. */
  dice: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Dice of each case at that threshold, and their mean. */
  caseDice: number[];
  meanCaseDice: number;
}

/**
 * The single global threshold that maximises the pooled Dice over all cases (the "best
 * possible Dice" of unsupervised anomaly segmentation), found exactly over every distinct score.
 * With no abnormal voxel at all, predicting nothing is perfect (Dice 1 at threshold Infinity).
 * Among equally good thresholds the highest wins.
 */
export function bestThresholdDice(input: ScoredVoxels | readonly ScoredVoxels[]): BestDice {
  const cases = asCases(input);
  const split = splitAndSort(cases);
  const P = split.positives.length;
  let best = { threshold: Infinity, dice: P === 0 ? 1 : 0, tp: 0, fp: 0 };
  walkThresholds(split, (t, tp, fp) => {
    const d = (2 * tp) / (P + tp + fp);
    if (d > best.dice) best = { threshold: t, dice: d, tp, fp };
  });
  const caseDice = cases.map((c) => {
    let tp = 0;
    let predicted = 0;
    let truth = 0;
    for (let p = 0; p < c.scores.length; p++) {
      if (c.region && !(c.region[p] > 0)) continue;
      const s = Number.isNaN(c.scores[p]) ? -Infinity : c.scores[p];
      const pr = s >= best.threshold;
      const gt = c.truth[p] > 0;
      if (pr) predicted++;
      if (gt) truth++;
      if (pr && gt) tp++;
    }
    return predicted + truth === 0 ? 1 : (2 * tp) / (predicted + truth);
  });
  return {
    threshold: best.threshold,
    dice: best.dice,
    truePositives: best.tp,
    falsePositives: best.fp,
    falseNegatives: P - best.tp,
    caseDice,
    meanCaseDice: caseDice.reduce((a, b) => a + b, 0) / Math.max(1, caseDice.length),
  };
}
