import { describe, expect, it } from 'vitest';
import { ThresholdEngine, thresholdStudy, type ScoredStudy } from '../../../src/main/core/scoring/lesions';
import { MAX_GROWTH_MM } from '../../../src/main/core/scoring/delineate';
import type { Vec3 } from '../../../src/main/core/volume';

const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];
const dims: Vec3 = [48, 48, 5];
const spacing: Vec3 = [0.5, 0.5, 5];
const n = dims[0] * dims[1] * dims[2];
const at = (i: number, j: number, k: number) => i + dims[0] * (j + dims[1] * k);

/**
 * A round "bleed" on the middle three slices: full contrast inside radius r0, falling linearly to
 * zero over the next `edge` voxels (partial volume and resampling blur an edge like this).
 */
function blob(contrast: number, centre: [number, number], r0: number, edge: number, into: Float32Array = new Float32Array(n)): Float32Array {
  for (let k = 1; k <= 3; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const r = Math.hypot(i - centre[0], j - centre[1]);
        const w = r <= r0 ? 1 : r >= r0 + edge ? 0 : 1 - (r - r0) / edge;
        if (w > 0) into[at(i, j, k)] += contrast * w;
      }
  return into;
}

function study(signed: Float32Array, brain = new Uint8Array(n).fill(1)): ScoredStudy {
  return { score: signed.map(Math.abs), signedResidual: signed, hu: null, brainMask: brain, geometry: { dims, spacing, origin: [0, 0, 0], direction: identity } };
}

const count = (labels: Int32Array) => labels.reduce((a, l) => a + (l > 0 ? 1 : 0), 0);

describe('half-contrast lesion outline', () => {
  it('outlines a lesion where its residual falls to half, whatever the cut that found it', () => {
    const signed = blob(0.4, [24, 24], 8, 6);
    let expected = 0;
    for (let p = 0; p < n; p++) if (signed[p] >= 0.2) expected++;
    const outlines = [0.25, 0.3, 0.35].map((value) => thresholdStudy(study(signed), { strategy: { kind: 'absolute', value }, extent: 'half-contrast' }));
    for (const r of outlines) {
      expect(r.extent).toBe('half-contrast');
      expect(r.lesions).toHaveLength(1);
      expect(r.lesions[0].voxelCount).toBe(expected);
      expect(r.grownVoxels).toBeGreaterThan(0);
    }
    // At the threshold alone the same lesion shrinks as the cut rises.
    const cuts = [0.25, 0.35].map((value) => thresholdStudy(study(signed), { strategy: { kind: 'absolute', value } }).lesions[0].voxelCount);
    expect(cuts[0]).toBeLessThan(expected);
    expect(cuts[1]).toBeLessThan(cuts[0]);
  });

  it('gives a fading lesion of the same size the same volume, where the cut alone loses its rim', () => {
    const dense = blob(0.45, [24, 24], 8, 6);
    const faded = blob(0.3, [24, 24], 8, 6);
    const reading = { strategy: { kind: 'absolute' as const, value: 0.25 } };
    const outlined = [dense, faded].map((s) => thresholdStudy(study(s), { ...reading, extent: 'half-contrast' }).lesions[0].volumeMl);
    expect(outlined[1]).toBeCloseTo(outlined[0], 9);
    const atCut = [dense, faded].map((s) => thresholdStudy(study(s), reading).lesions[0].volumeMl);
    expect(atCut[1]).toBeLessThan(0.8 * atCut[0]);
  });

  it('never takes voxels of the other sign, of another lesion, outside the brain or beyond the growth limit', () => {
    const centres: [number, number][] = [
      [12, 24],
      [36, 24],
    ];
    const signed = blob(0.4, centres[0], 5, 1);
    blob(0.4, centres[1], 5, 1, signed);
    // A low positive plateau (above half the lesions' contrast) joining them, a dark row along
    // it, and a row outside the brain with more plateau beyond.
    for (let k = 1; k <= 3; k++)
      for (let j = 20; j <= 34; j++)
        for (let i = 0; i < dims[0]; i++) {
          const p = at(i, j, k);
          if (signed[p] === 0) signed[p] = j === 20 ? -0.3 : 0.25;
        }
    const brain = new Uint8Array(n).fill(1);
    for (let k = 0; k < dims[2]; k++) for (let i = 0; i < dims[0]; i++) brain[at(i, 33, k)] = 0;
    const r = thresholdStudy(study(signed, brain), { strategy: { kind: 'absolute', value: 0.35 }, extent: 'half-contrast', polarity: 'split' });
    expect(r.lesions).toHaveLength(2);
    expect(r.lesions.every((l) => l.sign === 'hyper')).toBe(true);
    const reachMm = (5 + 1) * spacing[0] + MAX_GROWTH_MM;
    for (let k = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++)
        for (let i = 0; i < dims[0]; i++) {
          const p = at(i, j, k);
          if (r.labels[p] === 0) continue;
          expect(signed[p]).toBeGreaterThan(0);
          expect(j).toBeLessThan(33);
          const lesion = r.lesions.find((l) => l.label === r.labels[p])!;
          const [ci, cj] = lesion.centroidVoxel[0] < 24 ? centres[0] : centres[1];
          // The cores span slices 1-3.
          const dz = k < 1 ? 1 - k : k > 3 ? k - 3 : 0;
          expect(Math.hypot((i - ci) * spacing[0], (j - cj) * spacing[1], dz * spacing[2])).toBeLessThanOrEqual(reachMm + 1e-6);
        }
    // It did grow along the plateau, and each lesion kept its own core.
    expect(r.grownVoxels).toBeGreaterThan(0);
    expect(r.labels[at(12, 24, 2)]).not.toBe(r.labels[at(36, 24, 2)]);
  });

  it('keeps the live engine exact when switching outlines and cuts', () => {
    const signed = blob(0.4, [20, 20], 6, 6);
    blob(0.3, [36, 34], 3, 4, signed);
    const engine = new ThresholdEngine(study(signed));
    const sequence = [
      { value: 0.25, extent: 'half-contrast' as const },
      { value: 0.3, extent: 'threshold' as const },
      { value: 0.2, extent: 'half-contrast' as const },
      { value: 0.35, extent: 'half-contrast' as const },
      { value: 0.25, extent: 'threshold' as const },
    ];
    for (const s of sequence) {
      const settings = { strategy: { kind: 'absolute' as const, value: s.value }, extent: s.extent };
      const live = engine.apply(settings);
      const fresh = thresholdStudy(study(signed), settings);
      expect(Array.from(live.labels)).toEqual(Array.from(fresh.labels));
      expect(live.lesions.map((l) => l.voxelCount)).toEqual(fresh.lesions.map((l) => l.voxelCount));
      expect(count(live.labels)).toBe(live.lesionVoxels);
    }
  });

  it('keeps the threshold extent when the run has no signed residual', () => {
    const signed = blob(0.4, [24, 24], 8, 6);
    const r = thresholdStudy({ ...study(signed), signedResidual: null }, { strategy: { kind: 'absolute', value: 0.3 }, extent: 'half-contrast' });
    expect(r.extent).toBe('threshold');
    expect(r.grownVoxels).toBe(0);
  });
});
