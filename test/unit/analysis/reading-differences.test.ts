import { describe, expect, it } from 'vitest';
import { DEFAULT_READING_SETTINGS, describeReadingDifferences } from '../../../src/shared/analysis';

describe('describeReadingDifferences', () => {
  it('is empty for the same settings, and names each setting that changes the lesions, A first', () => {
    expect(describeReadingDifferences(DEFAULT_READING_SETTINGS, { ...DEFAULT_READING_SETTINGS })).toEqual([]);
    const b = { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'zscore' as const, z: 3.25 }, extent: 'threshold' as const, denseExclusionHu: null, smoothingMm: 2 };
    expect(describeReadingDifferences(DEFAULT_READING_SETTINGS, b)).toEqual(['cut score ≥ 0.25 / z ≥ 3.25', 'smoothing 0 mm / 2 mm', 'dense voxels left out from 170 HU / searched', 'outline half-contrast / at the cut']);
    expect(describeReadingDifferences({ ...DEFAULT_READING_SETTINGS, fusion: 'weighted', weights: [1, 1, 2, 2] }, { ...DEFAULT_READING_SETTINGS, fusion: 'weighted', weights: [1, 1, 1, 1] })).toEqual([
      'fusion weighted 1,1,2,2 / weighted 1,1,1,1',
    ]);
  });
});
