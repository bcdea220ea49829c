/**
 * Voxel overlap between a predicted and a ground-truth mask (any value > 0 is "in").
 * Convention for empty masks: when both are empty the prediction is perfect (Dice = IoU = 1);
 * when only one is empty they are 0.
 */

export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, region?: ArrayLike<number> | null): void {
  if (a.length !== b.length || (region && region.length !== a.length)) throw new RangeError(`Masks differ in size (${a.length}, ${b.length}${region ? `, region ${region.length}` : ''})`);
}

/** Counts over every voxel, or only where `region` > 0 (e.g. the brain). */
export function confusionCounts(predicted: ArrayLike<number>, truth: ArrayLike<number>, region?: ArrayLike<number> | null): ConfusionCounts {
  checkSameLength(predicted, truth, region);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let p = 0; p < predicted.length; p++) {
    if (region && !(region[p] > 0)) continue;
    const pr = predicted[p] > 0;
    const gt = truth[p] > 0;
    if (pr && gt) tp++;
    else if (pr) fp++;
    else if (gt) fn++;
    else tn++;
  }
  return { truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn };
}

/** 2|P ∩ G| / (|P| + |G|). */
export function dice(predicted: ArrayLike<number>, truth: ArrayLike<number>, region?: ArrayLike<number> | null): number {
  return diceFromCounts(confusionCounts(predicted, truth, region));
}

/** |P ∩ G| / |P ∪ G| (Jaccard index). */
export function iou(predicted: ArrayLike<number>, truth: ArrayLike<number>, region?: ArrayLike<number> | null): number {
  return iouFromCounts(confusionCounts(predicted, truth, region));
}

export function diceFromCounts(c: Pick<ConfusionCounts, 'truePositives' | 'falsePositives' | 'falseNegatives'>): number {
  const denominator = 2 * c.truePositives + c.falsePositives + c.falseNegatives;
  return denominator === 0 ? 1 : (2 * c.truePositives) / denominator;
}

export function iouFromCounts(c: Pick<ConfusionCounts, 'truePositives' | 'falsePositives' | 'falseNegatives'>): number {
  const denominator = c.truePositives + c.falsePositives + c.falseNegatives;
  return denominator === 0 ? 1 : c.truePositives / denominator;
}
