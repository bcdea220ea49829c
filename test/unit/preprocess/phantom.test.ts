import { describe, expect, it } from 'vitest';
import { classicalBrainMask } from '../../../src/main/core/preprocess/brain-mask';
import { inverseMaskToNative, prepareStack } from '../../../src/main/core/preprocess/geometry';
import { generateCase } from '../../../src/main/core/synth/case';
import { dice } from './simple-head';

/**
 * Classical brain extraction on the synthetic head phantom at reduced size (128 x 128 pixels of
 * 1.8 mm, 18 slices of 5 mm): coarser than clinical data, so partial volume at the inner table is
 * harsher than at the default 512 x 512 x 36 (see bench/brain.ts for that size).
 */
function smallCase(seed: number, lesion?: 'sdh' | 'edh' | 'infarct' | 'iph') {
  return generateCase({ seed, dims: [128, 128], slices: 18, sliceThicknessMm: 5, lesions: lesion ? [lesion] : [] });
}

function lesionInside(mask: Uint8Array, voxels: Uint32Array[]): number {
  let total = 0;
  let inside = 0;
  for (const vs of voxels)
    for (const v of vs) {
      total++;
      inside += mask[v];
    }
  return inside / total;
}

describe('classical brain extraction on the synthetic phantom', () => {
  // Two cases cover it all (generation dominates the run time): an extra-axial hemorrhage against
  // the inner table and a large hypodense infarct.
  const sdh = smallCase(22, 'sdh');
  const infarct = smallCase(23, 'infarct');
  const sdhMask = classicalBrainMask(sdh.timepoints[0].volume).mask;
  const infarctMask = classicalBrainMask(infarct.timepoints[0].volume).mask;

  it('matches the cranial cavity (Dice >= 0.95 at this coarse size, >= 0.93 required)', () => {
    expect(dice(sdhMask, sdh.brainMask)).toBeGreaterThan(0.95);
    expect(dice(infarctMask, infarct.brainMask)).toBeGreaterThan(0.95);
  });

  it('keeps a subdural hematoma and an infarct inside the mask', () => {
    // Only half-bone voxels at the inner table may escape.
    expect(lesionInside(sdhMask, sdh.timepoints[0].lesions.map((l) => l.voxels))).toBeGreaterThan(0.97);
    expect(lesionInside(infarctMask, infarct.timepoints[0].lesions.map((l) => l.voxels))).toBe(1);
  });

  it('prepares the phantom for the model and maps the mask back within one output pixel', () => {
    const vol = infarct.timepoints[0].volume;
    const st = prepareStack(vol, infarctMask);
    expect(st.transform.mode).toBe('resample');
    expect(st.warnings).toEqual([]);
    const back = inverseMaskToNative(st.masks256, st.transform);
    // 1.8 mm native pixels are two output pixels wide: the round trip is exact up to rounding at edges.
    expect(dice(back, infarctMask)).toBeGreaterThan(0.98);
  });
});
