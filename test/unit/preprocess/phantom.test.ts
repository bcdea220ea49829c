import { describe, expect, it } from 'vitest';
import { classicalBrainMask } from '../../../src/main/core/preprocess/brain-mask';
import { inverseMaskToNative, prepareStack } from '../../../src/main/core/preprocess/geometry';
import { generateCase } from '../../../src/main/core/synth/case';
import { dice } from './simple-head';

/**
 * Classical brain extraction on the synthetic head phantom at reduced size (128 x 128 pixels of
 * 1.8 mm, 12 slices of 8 mm): coarser than clinical data, so partial volume at the inner table is
 * harsher than at the default 512 x 512 x 36 (see bench/brain.ts for that size).
 */
function smallCase(seed: number, lesion?: 'sdh' | 'edh' | 'infarct' | 'iph') {
  return generateCase({ seed, dims: [128, 128], slices: 12, sliceThicknessMm: 8, lesions: lesion ? [lesion] : [] });
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
  it('matches the cranial cavity of a healthy head (Dice >= 0.93)', () => {
    const c = smallCase(21);
    const r = classicalBrainMask(c.timepoints[0].volume);
    expect(dice(r.mask, c.brainMask)).toBeGreaterThan(0.95);
  });

  it('keeps a subdural hematoma and an infarct inside the mask', () => {
    const sdh = smallCase(22, 'sdh');
    const rs = classicalBrainMask(sdh.timepoints[0].volume);
    expect(dice(rs.mask, sdh.brainMask)).toBeGreaterThan(0.93);
    // Only half-bone voxels at the inner table may escape.
    expect(lesionInside(rs.mask, sdh.timepoints[0].lesions.map((l) => l.voxels))).toBeGreaterThan(0.97);

    const inf = smallCase(23, 'infarct');
    const ri = classicalBrainMask(inf.timepoints[0].volume);
    expect(dice(ri.mask, inf.brainMask)).toBeGreaterThan(0.93);
    expect(lesionInside(ri.mask, inf.timepoints[0].lesions.map((l) => l.voxels))).toBe(1);
  });

  it('prepares the phantom for the model and maps the mask back within one output pixel', () => {
    const c = smallCase(24);
    const vol = c.timepoints[0].volume;
    const r = classicalBrainMask(vol);
    const st = prepareStack(vol, r.mask);
    expect(st.transform.mode).toBe('resample');
    expect(st.warnings).toEqual([]);
    const back = inverseMaskToNative(st.masks256, st.transform);
    // 1.8 mm native pixels are two output pixels wide: the round trip is exact up to rounding at edges.
    expect(dice(back, r.mask)).toBeGreaterThan(0.98);
  });
});
