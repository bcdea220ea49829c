import { describe, expect, it } from 'vitest';
import { generateCase } from '../../../src/main/core/synth/index';

const GRID = { dims: [112, 112], slices: 20 } as const;

function inside(r: NonNullable<ReturnType<typeof generateCase>['timepoints'][number]['deformedRegion']>, i: number, j: number, k: number): boolean {
  return i >= r.i0 && i <= r.i1 && j >= r.j0 && j <= r.j1 && k >= r.k0 && k <= r.k1;
}

describe('longitudinal series', () => {
  const growing = generateCase({
    seed: 17,
    ...GRID,
    timepoints: 3,
    intervalDays: 2,
    keepNoiseFree: true,
    lesions: [{ type: 'iph', volumeMl: 10, site: 'basal-ganglia', volumeRatePerDay: 0.12, edemaMl: 4, densityRatePerDay: -2 }],
  });

  it('grows monotonically when asked, fading the blood', () => {
    const tps = growing.timepoints;
    expect(tps.map((t) => t.day)).toEqual([0, 2, 4]);
    const vols = tps.map((t) => t.lesions[0].volumeMl);
    expect(vols[1]).toBeGreaterThan(vols[0]);
    expect(vols[2]).toBeGreaterThan(vols[1]);
    tps.forEach((t, i) => {
      const want = 10 * Math.exp(0.12 * t.day);
      expect(Math.abs(t.lesions[0].volumeMl - want) / want).toBeLessThan(0.1);
      expect(t.lesions[0].densityHu).toBeCloseTo(growing.lesions[0].densityHu - 2 * t.day, 6);
      if (i) expect(t.lesions[0].densityHu).toBeLessThan(tps[i - 1].lesions[0].densityHu);
    });
    // Edema around it follows its own (default, growing) course.
    expect(tps[2].lesions[1].type).toBe('edema');
    expect(tps[2].lesions[1].volumeMl).toBeGreaterThan(tps[0].lesions[1].volumeMl);
  });

  it('resolves when the rate is negative', () => {
    const c = generateCase({ seed: 18, ...GRID, timepoints: 3, intervalDays: 5, lesions: [{ type: 'sdh', volumeMl: 50, volumeRatePerDay: -0.05, massEffect: 0 }] });
    const v = c.timepoints.map((t) => t.lesions[0].volumeMl);
    expect(v[1]).toBeLessThan(v[0]);
    expect(v[2]).toBeLessThan(v[1]);
  });

  it('keeps the anatomy outside the lesions and their mass effect identical between timepoints', () => {
    const [a, b, c] = growing.timepoints;
    const [nx, ny, nz] = a.volume.dims;
    const lesionVoxels = new Uint8Array(nx * ny * nz);
    for (const t of growing.timepoints) for (const l of t.lesions) for (const v of l.voxels) lesionVoxels[v] = 1;
    let compared = 0;
    let differ = 0;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const p = i + nx * (j + ny * k);
          if (lesionVoxels[p]) continue;
          if ([a, b, c].some((t) => t.deformedRegion && inside(t.deformedRegion, i, j, k))) continue;
          compared++;
          if (a.noiseFreeHu![p] !== b.noiseFreeHu![p] || a.noiseFreeHu![p] !== c.noiseFreeHu![p]) differ++;
        }
    expect(compared).toBeGreaterThan(nx * ny * nz * 0.1);
    expect(differ).toBe(0);
    // The brain mask (cranial cavity) is one for the whole case.
    expect(growing.brainMask.length).toBe(nx * ny * nz);
  });

  it('gives every timepoint its own acquisition noise', () => {
    const [a, b] = growing.timepoints;
    let same = 0;
    let brain = 0;
    let diff2 = 0;
    for (let p = 0; p < growing.brainMask.length; p++) {
      if (!growing.brainMask[p]) continue;
      const ea = a.volume.data[p] - a.noiseFreeHu![p];
      const eb = b.volume.data[p] - b.noiseFreeHu![p];
      brain++;
      if (ea === eb) same++;
      diff2 += (ea - eb) ** 2;
    }
    expect(same / brain).toBeLessThan(0.01);
    const sd = Math.sqrt(diff2 / brain / 2);
    expect(sd).toBeGreaterThan(2);
    expect(sd).toBeLessThan(7);
  });

  it('rejects bad timepoint requests', () => {
    expect(() => generateCase({ seed: 1, timepoints: 0 })).toThrow(/timepoints/);
    expect(() => generateCase({ seed: 1, days: [0, 3, 2] })).toThrow(/increasing/);
  });
});
