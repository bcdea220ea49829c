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

/**
 * A cluttered residual: 40 overlapping blobs of both signs and many contrasts plus a fine
 * texture, so that at most cuts pieces merge, specks are dropped for their size and the growth
 * reaches into them.
 */
function clutteredField(seed: number): Float32Array {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const field = new Float32Array(n);
  for (let b = 0; b < 40; b++) blob((random() < 0.7 ? 1 : -1) * (0.08 + 0.3 * random()), [4 + 40 * random(), 4 + 40 * random()], 1 + 4 * random(), 1 + 4 * random(), field);
  for (let p = 0; p < n; p++) field[p] += 0.06 * (random() - 0.5);
  return field;
}

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

  it('never takes voxels of the other sign, outside the brain or beyond the growth limit', () => {
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
    // Both cores grow along the plateau until their outlines meet: one region, one lesion.
    expect(r.lesions).toHaveLength(1);
    expect(r.lesions.every((l) => l.sign === 'hyper')).toBe(true);
    const reachMm = (5 + 1) * spacing[0] + MAX_GROWTH_MM;
    for (let k = 0; k < dims[2]; k++)
      for (let j = 0; j < dims[1]; j++)
        for (let i = 0; i < dims[0]; i++) {
          const p = at(i, j, k);
          if (r.labels[p] === 0) continue;
          expect(signed[p]).toBeGreaterThan(0);
          expect(j).toBeLessThan(33);
          const [ci, cj] = i < 24 ? centres[0] : centres[1];
          // The cores span slices 1-3.
          const dz = k < 1 ? 1 - k : k > 3 ? k - 3 : 0;
          expect(Math.hypot((i - ci) * spacing[0], (j - cj) * spacing[1], dz * spacing[2])).toBeLessThanOrEqual(reachMm + 1e-6);
        }
    expect(r.grownVoxels).toBeGreaterThan(0);
    expect(r.labels[at(12, 24, 2)]).toBe(r.labels[at(36, 24, 2)]);
  });

  it('joins the pieces of one lesion that a high cut finds apart, and only those', () => {
    // Two bright cores 12 voxels (6 mm) apart on a plateau at 60% of their contrast: one bleed
    // whose middle falls below the cut. Each core alone reaches 5 mm, so their outlines meet.
    const joined = blob(0.25, [24, 24], 12, 1);
    blob(0.15, [17, 24], 3, 1, joined);
    blob(0.15, [31, 24], 3, 1, joined);
    // A one-voxel speck above the cut between them, dropped for its size, that the growth reaches.
    joined[at(24, 24, 2)] = 0.4;
    const reading = { strategy: { kind: 'absolute' as const, value: 0.35 }, polarity: 'split' as const, minSizeMl: 0.005 };
    expect(thresholdStudy(study(joined), reading).lesions).toHaveLength(2);
    const outlined = thresholdStudy(study(joined), { ...reading, extent: 'half-contrast' });
    expect(outlined.lesions).toHaveLength(1);
    const [one] = outlined.lesions;
    expect(one.label).toBe(1);
    expect(one.voxelCount).toBe(count(outlined.labels));
    expect(outlined.labels[at(24, 24, 2)]).toBe(1);
    expect(one.maxScore).toBeCloseTo(0.4, 6);
    expect(one.sliceRange).toEqual([1, 3]);

    // The same cores far apart (beyond both growth limits) stay two lesions; a bright and a dark
    // lesion whose outlines touch stay two as well.
    const apart = blob(0.4, [8, 24], 3, 1);
    blob(0.4, [40, 24], 3, 1, apart);
    for (let k = 1; k <= 3; k++) for (let i = 0; i < dims[0]; i++) if (apart[at(i, 24, k)] === 0) apart[at(i, 24, k)] = 0.25;
    expect(thresholdStudy(study(apart), { ...reading, extent: 'half-contrast' }).lesions).toHaveLength(2);
    const opposite = blob(0.4, [18, 24], 4, 4);
    blob(-0.4, [30, 24], 4, 4, opposite);
    const signs = thresholdStudy(study(opposite), { ...reading, extent: 'half-contrast' }).lesions.map((l) => l.sign).sort();
    expect(signs).toEqual(['hyper', 'hypo']);

    // The live engine gives the same labels and lesions as a fresh one, merge or not.
    const engine = new ThresholdEngine(study(joined));
    for (const value of [0.35, 0.2, 0.38, 0.35]) {
      const settings = { ...reading, strategy: { kind: 'absolute' as const, value }, extent: 'half-contrast' as const };
      const live = engine.apply(settings);
      const fresh = thresholdStudy(study(joined), settings);
      expect(Array.from(live.labels)).toEqual(Array.from(fresh.labels));
      expect(live.lesions).toEqual(fresh.lesions);
      expect(count(live.labels)).toBe(live.lesionVoxels);
    }
  });

  it('keeps every lesion\'s voxel count equal to its labelled voxels when many pieces merge', () => {
    let merged = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const field = clutteredField(seed);
      const engine = new ThresholdEngine(study(field));
      for (const value of [0.4, 0.3, 0.15, 0.25, 0.2, 0.1]) {
        for (const minSizeMl of [0, 0.01]) {
          const settings = { strategy: { kind: 'absolute' as const, value }, polarity: 'split' as const, minSizeMl };
          const pieces = thresholdStudy(study(field), settings).lesions.length;
          const r = thresholdStudy(study(field), { ...settings, extent: 'half-contrast' });
          merged += pieces - r.lesions.length;
          expect(r.lesions.map((l) => l.label).sort((a, b) => a - b)).toEqual(r.lesions.map((_, i) => i + 1));
          const perLabel = new Map<number, number>();
          for (const l of r.labels) if (l > 0) perLabel.set(l, (perLabel.get(l) ?? 0) + 1);
          for (const l of r.lesions) expect(perLabel.get(l.label), `field ${seed}, lesion ${l.label} at ${value}`).toBe(l.voxelCount);
          expect(count(r.labels)).toBe(r.lesionVoxels);
          // The live engine, reused across cuts, gives the same.
          const live = engine.apply({ ...settings, extent: 'half-contrast' });
          expect(Array.from(live.labels)).toEqual(Array.from(r.labels));
          expect(live.lesions).toEqual(r.lesions);
        }
      }
    }
    expect(merged).toBeGreaterThan(0);
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

describe('hysteresis: lesions found at the cut reach down to the support', () => {
  // A bleed whose core (0.5) passes the cut 0.4 on a wider rim at 0.3, and a faint spot (0.3) that never does.
  const signed = blob(0.3, [16, 24], 8, 1);
  blob(0.2, [16, 24], 3, 1, signed);
  blob(0.3, [36, 24], 4, 1, signed);
  const cut = { kind: 'absolute' as const, value: 0.4 };
  const support = { kind: 'absolute' as const, value: 0.25 };
  const above = (v: number) => signed.reduce((a, x) => a + (x >= v ? 1 : 0), 0);

  it('keeps only the lesions the cut finds, each with its connected voxels above the support', () => {
    const plain = thresholdStudy(study(signed), { strategy: cut });
    expect(plain.lesions).toHaveLength(1);
    const withSupport = thresholdStudy(study(signed), { strategy: cut, support });
    expect(withSupport.lesions).toHaveLength(1);
    const [bleed] = withSupport.lesions;
    expect(bleed.label).toBe(1);
    expect(bleed.maxScore).toBeCloseTo(0.5, 6);
    // Its whole rim, not only its core; the faint spot is not a lesion.
    let rim = 0;
    for (let p = 0; p < n; p++) if (signed[p] >= 0.25 && withSupport.labels[p] === 0) rim++;
    expect(rim).toBe(above(0.25) - bleed.voxelCount);
    expect(withSupport.labels[at(36, 24, 2)]).toBe(0);
    expect(bleed.voxelCount).toBeGreaterThan(plain.lesions[0].voxelCount);
    expect(withSupport.support).toBe(0.25);
    expect(withSupport.candidateVoxels).toBe(above(0.4));
    // The cut decides which lesions exist, size included: a core below the minimum size is not
    // found, however large the region around it.
    expect(thresholdStudy(study(signed), { strategy: cut, minSizeMl: 0.3 }).lesions).toHaveLength(0);
    expect(thresholdStudy(study(signed), { strategy: cut, support, minSizeMl: 0.3 }).lesions).toHaveLength(0);
    expect(thresholdStudy(study(signed), { strategy: cut, support, minSizeMl: 0.1 }).lesions).toHaveLength(1);
    // A support above the cut changes nothing: the cut is the floor.
    expect(thresholdStudy(study(signed), { strategy: cut, support: { kind: 'absolute', value: 0.45 } }).lesions[0].voxelCount).toBe(plain.lesions[0].voxelCount);
  });

  it('keeps the live engine exact when the support comes and goes', () => {
    const engine = new ThresholdEngine(study(signed));
    const sequence = [
      { strategy: cut, support, extent: 'half-contrast' as const },
      { strategy: cut, extent: 'half-contrast' as const },
      { strategy: { kind: 'absolute' as const, value: 0.28 }, support },
      { strategy: cut, support },
      { strategy: { kind: 'absolute' as const, value: 0.55 }, support },
    ];
    for (const settings of sequence) {
      const live = engine.apply(settings);
      const fresh = thresholdStudy(study(signed), settings);
      expect(Array.from(live.labels)).toEqual(Array.from(fresh.labels));
      expect(live.lesions).toEqual(fresh.lesions);
      expect(count(live.labels)).toBe(live.lesionVoxels);
    }
  });
});
