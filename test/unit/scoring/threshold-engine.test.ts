import { describe, expect, it } from 'vitest';
import { labelComponents, type Connectivity } from '../../../src/main/core/scoring/components';
import { erodeMask } from '../../../src/main/core/scoring/distance';
import { ThresholdEngine, thresholdStudy, type ScoredStudy } from '../../../src/main/core/scoring/lesions';
import { parseHealthyReference } from '../../../src/main/core/scoring/threshold';
import type { Vec3 } from '../../../src/main/core/volume';
import { seeded } from './seeded';

const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];

function box(values: Float32Array, dims: Vec3, lo: Vec3, hi: Vec3, value: number) {
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) values[i + dims[0] * (j + dims[1] * k)] = value;
}

/** Same partition of voxels into components (labels may be numbered differently). */
function samePartition(got: Int32Array, want: Int32Array): boolean {
  const map = new Map<number, number>();
  const back = new Map<number, number>();
  for (let p = 0; p < got.length; p++) {
    const g = got[p], w = want[p];
    if ((g === 0) !== (w === 0)) return false;
    if (g === 0) continue;
    if ((map.get(g) ?? w) !== w || (back.get(w) ?? g) !== g) return false;
    map.set(g, w);
    back.set(w, g);
  }
  return true;
}

describe('lesion table', () => {
  // 0.5 x 0.8 x 3 mm voxels: 1.2 mm^3 = 0.0012 mL each
  const dims: Vec3 = [10, 8, 5];
  const spacing: Vec3 = [0.5, 0.8, 3];
  const n = 400;
  const score = new Float32Array(n).fill(0.1);
  const signed = new Float32Array(n);
  const hu = new Float32Array(n).fill(30);
  const brain = new Uint8Array(n).fill(1);
  // lesion A: i 2..4, j 3..4, k 1..2 = 12 voxels, hyperdense
  box(score, dims, [2, 3, 1], [4, 4, 2], 0.9);
  box(signed, dims, [2, 3, 1], [4, 4, 2], 0.3);
  box(hu, dims, [2, 3, 1], [4, 4, 2], 70);
  score[3 + 10 * (3 + 8 * 1)] = 0.95; // its peak at (3, 3, 1)
  // lesion B: i 7..8, j 0..0, k 3..4 = 4 voxels, hypodense
  box(score, dims, [7, 0, 3], [8, 0, 4], 0.7);
  box(signed, dims, [7, 0, 3], [8, 0, 4], -0.2);
  box(hu, dims, [7, 0, 3], [8, 0, 4], 12);
  const study: ScoredStudy = { score, signedResidual: signed, hu, brainMask: brain, geometry: { dims, spacing, origin: [10, -20, 30], direction: identity } };

  it('reports volume, slices, box, centroid in LPS, scores, HU and sign', () => {
    const r = thresholdStudy(study, { strategy: { kind: 'absolute', value: 0.5 } });
    expect(r.lesions).toHaveLength(2);
    const [a, b] = r.lesions;
    expect(a.voxelCount).toBe(12);
    expect(a.volumeMl).toBeCloseTo(12 * 0.0012, 12);
    expect(a.sliceRange).toEqual([1, 2]);
    expect(a.bbox).toEqual({ min: [2, 3, 1], max: [4, 4, 2] });
    expect(a.centroidVoxel).toEqual([3, 3.5, 1.5]);
    // origin + (3 * 0.5, 3.5 * 0.8, 1.5 * 3)
    a.centroidLps.forEach((x, t) => expect(x).toBeCloseTo([11.5, -17.2, 34.5][t], 9));
    expect(a.peakVoxel).toEqual([3, 3, 1]);
    expect(a.maxScore).toBeCloseTo(0.95, 6);
    expect(a.meanScore).toBeCloseTo((11 * 0.9 + 0.95) / 12, 6);
    expect(a.meanHu).toBeCloseTo(70, 6);
    expect(a.sign).toBe('hyper');
    expect(b.voxelCount).toBe(4);
    expect(b.volumeMl).toBeCloseTo(0.0048, 12);
    expect(b.sliceRange).toEqual([3, 4]);
    expect(b.centroidVoxel).toEqual([7.5, 0, 3.5]);
    expect(b.sign).toBe('hypo');
    expect(b.meanSignedResidual).toBeCloseTo(-0.2, 6);
    expect(r.lesionVoxels).toBe(16);
    // the label volume marks exactly the lesion voxels with the lesion's label
    let marked = 0;
    for (let p = 0; p < n; p++) if (r.labels[p]) marked++;
    expect(marked).toBe(16);
    expect(r.labels[3 + 10 * (3 + 8 * 1)]).toBe(a.label);
    expect(r.labels[7 + 10 * (0 + 8 * 4)]).toBe(b.label);
  });

  it('puts the centroid in patient space through the direction matrix', () => {
    // i runs to patient right (-L), j to anterior (-P): LPS = origin + (-i*0.5, -j*0.8, k*3)
    const r = thresholdStudy({ ...study, geometry: { ...study.geometry, direction: [-1, 0, 0, 0, -1, 0, 0, 0, 1] } }, { strategy: { kind: 'absolute', value: 0.5 } });
    r.lesions[0].centroidLps.forEach((x, t) => expect(x).toBeCloseTo([8.5, -22.8, 34.5][t], 9));
  });

  it('drops lesions below the minimum size in mL', () => {
    // B is 0.0048 mL, A 0.0144 mL
    const engine = new ThresholdEngine(study);
    expect(engine.apply({ strategy: { kind: 'absolute', value: 0.5 }, minSizeMl: 0.0048 }).lesions).toHaveLength(2);
    const r = engine.apply({ strategy: { kind: 'absolute', value: 0.5 }, minSizeMl: 0.005 });
    expect(r.lesions.map((l) => l.voxelCount)).toEqual([12]);
    expect(r.droppedComponents).toBe(1);
    expect(r.candidateVoxels).toBe(16);
    // the dropped lesion's voxels are not labelled
    expect(r.labels[7 + 10 * (0 + 8 * 4)]).toBe(0);
  });

  it('decides the sign by HU against the brain median when asked', () => {
    const r = thresholdStudy(study, { strategy: { kind: 'absolute', value: 0.5 }, signBy: 'hu' });
    expect(r.lesions.map((l) => l.sign)).toEqual(['hyper', 'hypo']);
    // without a signed residual the HU decides
    const noSigned = thresholdStudy({ ...study, signedResidual: null }, { strategy: { kind: 'absolute', value: 0.5 } });
    expect(noSigned.lesions.map((l) => [l.sign, l.meanSignedResidual])).toEqual([['hyper', null], ['hypo', null]]);
  });

  it('clears the previous labels when the threshold changes', () => {
    const engine = new ThresholdEngine(study);
    engine.apply({ strategy: { kind: 'absolute', value: 0.05 } });
    const r = engine.apply({ strategy: { kind: 'absolute', value: 0.92 } });
    expect(r.lesions).toHaveLength(1);
    let marked = 0;
    for (let p = 0; p < n; p++) if (r.labels[p]) marked++;
    expect(marked).toBe(1);
  });

  it('thresholds by percentile of the brain scores and by healthy z-score', () => {
    const engine = new ThresholdEngine(study);
    // ascending brain scores: 384 x 0.1 (positions 0..383), 4 x 0.7 (384..387), 11 x 0.9, 1 x 0.95
    // 96th percentile: position 0.96*399 = 383.04 -> 0.1 + 0.04 * (0.7 - 0.1) = 0.124: both lesions
    const p96 = engine.apply({ strategy: { kind: 'percentile', percentile: 96 } });
    expect(p96.threshold.value).toBeCloseTo(0.124, 6);
    expect(p96.lesionVoxels).toBe(16);
    // 97th: position 387.03 -> 0.7 + 0.03 * (0.9 - 0.7) = 0.706: lesion A only
    const p97 = engine.apply({ strategy: { kind: 'percentile', percentile: 97 } });
    expect(p97.threshold.value).toBeCloseTo(0.706, 6);
    expect(p97.lesionVoxels).toBe(12);
    const reference = parseHealthyReference({ metric: 'absolute', fusion: 'max', scans: 1, voxels: 100, mean: 0.2, std: 0.2, quantiles: { p: [0, 1], value: [0, 1] } });
    // 0.2 + 3 * 0.2 = 0.8: only lesion A
    const z = engine.apply({ strategy: { kind: 'zscore', z: 3, reference } });
    expect(z.threshold.value).toBeCloseTo(0.8, 9);
    expect(z.lesions.map((l) => l.voxelCount)).toEqual([12]);
  });

  it('refuses mismatched grids and empty brains with clear errors', () => {
    expect(() => new ThresholdEngine({ ...study, hu: new Float32Array(5) })).toThrow(expect.objectContaining({ code: 'GEOMETRY_MISMATCH' }));
    expect(() => new ThresholdEngine({ ...study, brainMask: new Uint8Array(n) })).toThrow(expect.objectContaining({ code: 'NO_BRAIN' }));
    // the brain ends before the first column, so it has a border to erode from
    const engine = new ThresholdEngine({ ...study, brainMask: Uint8Array.from(brain, (_, p) => (p % 10 === 0 ? 0 : 1)) });
    expect(() => engine.apply({ strategy: { kind: 'absolute', value: 0.5 }, borderErosion: { distance: 50, unit: 'mm', mode: '3d' } })).toThrow(/leaves no brain/);
    expect(engine.apply({ strategy: { kind: 'absolute', value: 0.5 }, borderErosion: { distance: 1, unit: 'px', mode: '2d' } }).brainVoxels).toBe(400 - 40 - 40);
    expect(() => engine.apply({ strategy: { kind: 'absolute', value: 0.5 }, minSizeMl: -1 })).toThrow(/0 mL or more/);
  });
});

describe('dense voxels left out of the lesion search', () => {
  // A bleed (70 HU) and, apart from it, a calcification / partial-volume bone (400 HU) with a
  // higher score: the healthy estimate cannot know where either is.
  const dims: Vec3 = [12, 10, 4];
  const spacing: Vec3 = [0.5, 0.5, 5];
  const n = 12 * 10 * 4;
  const score = new Float32Array(n).fill(0.05);
  const signed = new Float32Array(n).fill(0.01);
  const hu = new Float32Array(n).fill(30);
  const brain = new Uint8Array(n).fill(1);
  box(score, dims, [1, 1, 1], [3, 3, 2], 0.6);
  box(signed, dims, [1, 1, 1], [3, 3, 2], 0.5);
  box(hu, dims, [1, 1, 1], [3, 3, 2], 70);
  box(score, dims, [8, 6, 0], [10, 8, 1], 0.9);
  box(signed, dims, [8, 6, 0], [10, 8, 1], 0.7);
  box(hu, dims, [8, 6, 0], [10, 8, 1], 400);
  // One bleed voxel that partial volume with the bone pushes over the limit.
  hu[3 + 12 * (3 + 10 * 2)] = 180;
  const study: ScoredStudy = { score, signedResidual: signed, hu, brainMask: brain, geometry: { dims, spacing, origin: [0, 0, 0], direction: identity } };
  const cut = { kind: 'absolute', value: 0.3 } as const;

  it('lists the bone as a lesion when every voxel is searched', () => {
    const r = thresholdStudy(study, { strategy: cut });
    expect(r.lesions.map((l) => l.voxelCount)).toEqual([18, 18]);
    expect(Math.max(...r.lesions.map((l) => l.meanHu!))).toBe(400);
    expect(r.brainVoxels).toBe(n);
  });

  it('keeps only the bleed when voxels of 170 HU or more are left out, in the table, the labels and the counts', () => {
    const engine = new ThresholdEngine(study);
    const r = engine.apply({ strategy: cut, denseExclusionHu: 170 });
    expect(r.lesions).toHaveLength(1);
    expect(r.lesions[0].voxelCount).toBe(17);
    expect(r.lesions[0].meanHu).toBe(70);
    expect(r.labels[9 + 12 * (7 + 10 * 0)]).toBe(0);
    expect(r.labels[3 + 12 * (3 + 10 * 2)]).toBe(0);
    expect(r.brainVoxels).toBe(n - 19);
    expect(engine.brainVoxelCount({ denseExclusionHu: 170 })).toBe(n - 19);
    // The slider's histogram and bounds describe the searched voxels only: the bone's 0.9 is gone.
    expect(engine.quantile(1, { denseExclusionHu: 170 })).toBeCloseTo(0.6, 6);
    expect(engine.histogram(8, { denseExclusionHu: 170 }).total).toBe(n - 19);
    expect(engine.quantile(1)).toBeCloseTo(0.9, 6);
  });

  it('keeps the outline out of dense voxels and combines with the border erosion', () => {
    const outlined = thresholdStudy(study, { strategy: { kind: 'absolute', value: 0.55 }, denseExclusionHu: 170, extent: 'half-contrast' });
    for (let p = 0; p < n; p++) if (hu[p] >= 170) expect(outlined.labels[p]).toBe(0);
    const eroded = thresholdStudy(study, { strategy: cut, denseExclusionHu: 170, borderErosion: { distance: 0.5, unit: 'mm', mode: '2d' } });
    const erodedOnly = thresholdStudy(study, { strategy: cut, borderErosion: { distance: 0.5, unit: 'mm', mode: '2d' } });
    expect(eroded.brainVoxels).toBeLessThan(erodedOnly.brainVoxels);
    expect(eroded.lesions.every((l) => l.meanHu! < 170)).toBe(true);
  });

  it('erodes around dense voxels as around the brain edge: their partial-volume rim is not searched', () => {
    // A calcification (one 400 HU voxel) inside healthy brain, with a bright rim of partial volume
    // below the limit scoring like a lesion.
    const rimStudy: ScoredStudy = { ...study, score: new Float32Array(n).fill(0.05), signedResidual: new Float32Array(n).fill(0.01), hu: new Float32Array(n).fill(30) };
    const at = (i: number, j: number, k: number) => i + 12 * (j + 10 * k);
    (rimStudy.hu as Float32Array)[at(6, 5, 2)] = 400;
    for (const [di, dj] of [[-1, 0], [1, 0], [0, -1], [0, 1]]) {
      (rimStudy.score as Float32Array)[at(6 + di, 5 + dj, 2)] = 0.8;
      (rimStudy.signedResidual as Float32Array)[at(6 + di, 5 + dj, 2)] = 0.6;
      (rimStudy.hu as Float32Array)[at(6 + di, 5 + dj, 2)] = 120;
    }
    const erosion = { distance: 0.5, unit: 'mm', mode: '2d' } as const;
    const rimAsLesion = thresholdStudy(rimStudy, { strategy: cut, borderErosion: erosion });
    expect(rimAsLesion.lesions.map((l) => l.voxelCount)).toEqual([4]);
    const withLimit = thresholdStudy(rimStudy, { strategy: cut, borderErosion: erosion, denseExclusionHu: 170 });
    expect(withLimit.lesions).toEqual([]);
    // Without an erosion only the dense voxel itself is left out; the rim stays a lesion.
    expect(thresholdStudy(rimStudy, { strategy: cut, denseExclusionHu: 170 }).lesions.map((l) => l.voxelCount)).toEqual([4]);
  });

  it('says why when the limit cannot be applied or leaves nothing', () => {
    const noHu = new ThresholdEngine({ ...study, hu: null });
    expect(() => noHu.apply({ strategy: cut, denseExclusionHu: 170 })).toThrow(/needs the CT values \(HU\)/);
    const allDense = new ThresholdEngine({ ...study, hu: new Float32Array(n).fill(500) });
    expect(() => allDense.apply({ strategy: cut, denseExclusionHu: 170 })).toThrow(/Leaving out voxels of 170 HU or more leaves no brain to analyse; use a higher density limit/);
  });
});

describe('polarity', () => {
  // a bright core (hyper) touching a dark rim (hypo) in one row of voxels
  const dims: Vec3 = [8, 3, 1];
  const score = new Float32Array(24);
  const signed = new Float32Array(24);
  for (let i = 1; i <= 6; i++) {
    score[8 + i] = 0.8;
    signed[8 + i] = i <= 3 ? 0.5 : -0.1; // hyper i 1..3, hypo i 4..6
  }
  const study: ScoredStudy = { score, signedResidual: signed, brainMask: new Uint8Array(24).fill(1), geometry: { dims, spacing: [1, 1, 1], origin: [0, 0, 0], direction: identity } };
  const engine = new ThresholdEngine(study);
  const run = (polarity: 'any' | 'split' | 'hyper' | 'hypo') => engine.apply({ strategy: { kind: 'absolute', value: 0.5 }, polarity }).lesions.map((l) => [l.voxelCount, l.sign]);

  it('joins or separates hyper- and hypodense voxels', () => {
    // mean signed (3*0.5 - 3*0.1)/6 > 0
    expect(run('any')).toEqual([[6, 'hyper']]);
    expect(run('split').sort()).toEqual([[3, 'hyper'], [3, 'hypo']]);
    expect(run('hyper')).toEqual([[3, 'hyper']]);
    expect(run('hypo')).toEqual([[3, 'hypo']]);
  });

  it('needs the signed residual to separate signs', () => {
    expect(() => new ThresholdEngine({ ...study, signedResidual: null }).apply({ strategy: { kind: 'absolute', value: 0.5 }, polarity: 'split' })).toThrow(/signed residual/);
  });
});

const engineModes = {
  // every cut from the component tree, built as far as needed
  tree: { treeFraction: 1, treeStepVoxels: Number.MAX_SAFE_INTEGER },
  // every cut by the grid scan
  scan: { treeFraction: 0 },
  // the default mix: tree for the top quarter in small steps, scan beyond
  default: {},
} as const;

describe.each(Object.entries(engineModes))('threshold engine against direct labelling (%s)', (mode, engineOptions) => {
  // Smooth random field plus noise: many components merging and splitting across thresholds.
  const dims: Vec3 = [14, 12, 7];
  const n = 14 * 12 * 7;
  const rand = seeded(42);
  const score = new Float32Array(n);
  const signed = new Float32Array(n);
  const brain = new Uint8Array(n);
  for (let k = 0; k < 7; k++)
    for (let j = 0; j < 12; j++)
      for (let i = 0; i < 14; i++) {
        const p = i + 14 * (j + 12 * k);
        brain[p] = (i - 6.5) ** 2 / 49 + (j - 5.5) ** 2 / 36 + (k - 3) ** 2 / 16 < 1 ? 1 : 0;
        // quantised so that ties occur
        score[p] = Math.round(20 * (Math.sin(i / 2) * Math.cos(j / 3) + Math.sin(k) + rand())) / 20;
        signed[p] = rand() - 0.5;
      }
  const spacing: Vec3 = [0.7, 0.7, 2.5];
  const engine = new ThresholdEngine({ score, signedResidual: signed, brainMask: brain, geometry: { dims, spacing, origin: [0, 0, 0], direction: identity } }, engineOptions);
  const thresholds = [2.2, 1.5, 1.05, 0.6, 0.3, -0.2, -1, -5, 1.05, 2.9];

  for (const connectivity of [6, 26] as Connectivity[])
    for (const erosion of [null, { distance: 1, unit: 'mm' as const, mode: '3d' as const }]) {
      it(`finds the same components as labelling the thresholded mask (${connectivity}-connectivity, ${erosion ? 'eroded' : 'whole'} brain)`, () => {
        const region = erodeMask(brain, dims, spacing, erosion);
        for (const t of thresholds) {
          const r = engine.apply({ strategy: { kind: 'absolute', value: t }, connectivity, borderErosion: erosion });
          if (mode === 'tree') expect(r.method).toBe('tree');
          if (mode === 'scan' && r.candidateVoxels > 0) expect(r.method).toBe('scan');
          const mask = Uint8Array.from(score, (s, p) => (region[p] && s >= t ? 1 : 0));
          const want = labelComponents(mask, dims, connectivity);
          expect(samePartition(r.labels, want.labels)).toBe(true);
          expect(r.lesions.length).toBe(want.count);
          expect(r.lesions.map((l) => l.voxelCount).sort((a, b) => a - b)).toEqual([...want.sizes].slice(1).sort((a, b) => a - b));
        }
      });
    }

  it('applies the minimum size exactly like filtering the labelled components', () => {
    const minVoxels = 5;
    const minSizeMl = (minVoxels * 0.7 * 0.7 * 2.5) / 1000;
    for (const t of thresholds) {
      const r = engine.apply({ strategy: { kind: 'absolute', value: t }, minSizeMl });
      const want = labelComponents(Uint8Array.from(score, (s, p) => (brain[p] && s >= t ? 1 : 0)), dims, 26);
      const kept = [...want.sizes].slice(1).filter((s) => s >= minVoxels).sort((a, b) => a - b);
      expect(r.lesions.map((l) => l.voxelCount).sort((a, b) => a - b)).toEqual(kept);
      expect(r.droppedComponents).toBe(want.count - kept.length);
    }
  });

  it('splits by sign exactly like labelling each sign separately', () => {
    for (const t of [1.5, 0.6, -1]) {
      const r = engine.apply({ strategy: { kind: 'absolute', value: t }, polarity: 'split', connectivity: 6 });
      const pos = labelComponents(Uint8Array.from(score, (s, p) => (brain[p] && s >= t && signed[p] > 0 ? 1 : 0)), dims, 6);
      const neg = labelComponents(Uint8Array.from(score, (s, p) => (brain[p] && s >= t && signed[p] < 0 ? 1 : 0)), dims, 6);
      expect(r.lesions.length).toBe(pos.count + neg.count);
      expect(r.lesions.filter((l) => l.sign === 'hyper').length).toBe(pos.count);
    }
  });

  it('gives a histogram of the brain scores that sums to the brain', () => {
    const h = engine.histogram(16);
    expect(engine.apply({ strategy: { kind: 'absolute', value: 1 }, histogramBins: 16 }).histogram).toEqual(h);
    const brainCount = brain.reduce((a, b) => a + b, 0);
    expect(h.total).toBe(brainCount);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(brainCount);
    expect(h.counts).toHaveLength(16);
    const inner = engine.histogram(4, { range: [0, 1] });
    let want = 0;
    for (let p = 0; p < n; p++) if (brain[p] && score[p] >= 0 && score[p] <= 1) want++;
    expect(inner.counts.reduce((a, b) => a + b, 0)).toBe(want);
    expect(inner.below + inner.above + want).toBe(brainCount);
    // first bin [0, 0.25)
    let first = 0;
    for (let p = 0; p < n; p++) if (brain[p] && score[p] >= 0 && score[p] < 0.25) first++;
    expect(inner.counts[0]).toBe(first);
  });
});

describe('tree and scan labelling', () => {
  it.each([
    ['float32 scores with ties', (p: number, r: number) => Math.round(10 * (Math.sin(p / 7) + r)) / 10, (values: number[]) => Float32Array.from(values)],
    ['float64 scores', (p: number, r: number) => Math.sin(p / 7) + r, (values: number[]) => Float64Array.from(values)],
  ] as const)('give identical lesion tables, and the default engine uses both (%s)', (_name, field, toArray) => {
    const dims: Vec3 = [16, 16, 6];
    const n = 16 * 16 * 6;
    const rand = seeded(7);
    const score = toArray(Array.from({ length: n }, (_, p) => field(p, rand())));
    const signed = Float32Array.from({ length: n }, () => rand() - 0.4);
    const hu = Float32Array.from({ length: n }, () => 20 + 30 * rand());
    const study: ScoredStudy = { score, signedResidual: signed, hu, brainMask: new Uint8Array(n).fill(1), geometry: { dims, spacing: [0.9, 0.9, 5], origin: [-5, 3, 40], direction: identity } };
    const tree = new ThresholdEngine(study, engineModes.tree);
    const scan = new ThresholdEngine(study, engineModes.scan);
    const mixed = new ThresholdEngine(study, { treeStepVoxels: 64 });
    // means are summed in a different voxel order by the two paths: compare to 10 significant digits
    const round = (x: unknown): unknown => (typeof x === 'number' ? +x.toPrecision(10) : Array.isArray(x) ? x.map(round) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round(v)])) : x);
    const table = (r: ReturnType<ThresholdEngine['apply']>) =>
      r.lesions.map(({ label: _label, ...rest }) => round(rest) as typeof rest).sort((a, b) => a.voxelCount - b.voxelCount || a.centroidVoxel[0] - b.centroidVoxel[0] || a.centroidVoxel[1] - b.centroidVoxel[1] || a.centroidVoxel[2] - b.centroidVoxel[2]);
    const methods = new Set<string>();
    for (const percentile of [99.5, 99, 98, 95, 90, 70, 30]) {
      for (const polarity of ['any', 'split'] as const) {
        const settings = { strategy: { kind: 'percentile' as const, percentile }, polarity, minSizeMl: 0.01 };
        const a = tree.apply(settings);
        const b = scan.apply(settings);
        const c = mixed.apply(settings);
        methods.add(c.method);
        expect(a.method).toBe('tree');
        expect(b.method).toBe('scan');
        const want = table(a);
        expect(table(b)).toEqual(want);
        expect(table(c)).toEqual(want);
        expect([b.lesionVoxels, b.droppedComponents]).toEqual([a.lesionVoxels, a.droppedComponents]);
        expect(samePartition(b.labels, a.labels)).toBe(true);
      }
    }
    expect([...methods].sort()).toEqual(['scan', 'tree']);
  });
});
