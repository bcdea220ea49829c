import { describe, expect, it } from 'vitest';
import { generateCase, generatePhantom, LESION_TYPES, type LesionSpec, type LesionType } from '../../../src/main/core/synth/index';

const GRID = { dims: [128, 128], slices: 24 } as const;

const REQUESTS: Record<LesionType, LesionSpec> = {
  iph: { type: 'iph', volumeMl: 20, site: 'basal-ganglia', edemaMl: 0 },
  ivh: { type: 'ivh', volumeMl: 4 },
  sah: { type: 'sah', volumeMl: 6, site: 'sylvian' },
  sdh: { type: 'sdh', volumeMl: 45 },
  edh: { type: 'edh', volumeMl: 30 },
  infarct: { type: 'infarct', volumeMl: 40, site: 'mca' },
  edema: { type: 'edema', volumeMl: 25 },
  mass: { type: 'mass', volumeMl: 15, edemaMl: 10 },
};

const HEMORRHAGE = new Set<LesionType>(['iph', 'ivh', 'sah', 'sdh', 'edh']);

function mean(data: ArrayLike<number>, voxels: Uint32Array): number {
  let s = 0;
  for (const v of voxels) s += data[v];
  return s / voxels.length;
}

describe('lesion simulator', () => {
  for (const type of LESION_TYPES) {
    it(`${type}: generated volume within 10% of the request, density of its kind, mask = changed voxels`, () => {
      const spec = REQUESTS[type];
      const opts = { seed: 40 + LESION_TYPES.indexOf(type), lesions: [spec], ...GRID, noise: false };
      const c = generateCase(opts);
      // Same head, same deformation, intensities left healthy: the counterfactual.
      const healthy = generateCase({ ...opts, paintLesions: false });
      const tp = c.timepoints[0];
      const ref = healthy.timepoints[0];
      for (const l of tp.lesions) {
        expect(l.voxelCount).toBeGreaterThan(0);
        expect(Math.abs(l.volumeMl - l.requestedVolumeMl) / l.requestedVolumeMl).toBeLessThan(0.1);
      }
      const main = tp.lesions[0];
      expect(main.requestedVolumeMl).toBeCloseTo(spec.volumeMl!, 6);
      // Density of the lesion itself: voxels not sharing partial volume with bone.
      const core = main.voxels.filter((v) => ref.volume.data[v] < 100);
      expect(core.length).toBeGreaterThan(main.voxels.length * 0.3);
      const after = mean(tp.volume.data, core);
      const before = mean(ref.volume.data, core);
      if (HEMORRHAGE.has(type)) {
        expect(after).toBeGreaterThanOrEqual(45);
        expect(after).toBeLessThanOrEqual(90);
        expect(after).toBeGreaterThan(before + 10);
      } else if (type === 'infarct' || type === 'edema') {
        expect(after).toBeLessThan(before - 3);
        expect(after).toBeGreaterThan(8);
      } else {
        expect(after).toBeGreaterThan(20);
      }
      // The masks are exactly the voxels whose value the lesions changed.
      const inMask = new Uint8Array(tp.volume.data.length);
      for (const l of tp.lesions) for (const v of l.voxels) inMask[v] = 1;
      let changedOutside = 0;
      let unchangedInside = 0;
      for (let p = 0; p < inMask.length; p++) {
        const changed = tp.volume.data[p] !== ref.volume.data[p];
        if (changed && !inMask[p]) changedOutside++;
        if (!changed && inMask[p]) unchangedInside++;
      }
      expect(changedOutside).toBe(0);
      expect(unchangedInside).toBe(0);
      // Masks live inside the brain mask; the label map agrees with the masks.
      for (const l of tp.lesions) for (const v of l.voxels) expect(c.brainMask[v]).toBe(1);
      let labelled = 0;
      for (let p = 0; p < inMask.length; p++) if (tp.lesionLabels[p]) labelled++;
      expect(labelled).toBe(inMask.reduce((a, v) => a + v, 0));
    });
  }

  it('hematomas push the midline away and leave distant anatomy bit-identical to the healthy head', () => {
    const opts = { seed: 9, ...GRID, noise: false } as const;
    const c = generateCase({ ...opts, lesions: [{ type: 'sdh', volumeMl: 70, side: 'left', site: 'convexity' }] });
    const tp = c.timepoints[0];
    // A left collection shifts the midline to the patient's right (-x in LPS).
    expect(tp.midlineShiftMm).toBeLessThan(-2);
    expect(tp.maxDisplacementMm).toBeGreaterThan(tp.midlineShiftMm * -1);
    const healthy = generatePhantom({ ...opts });
    const r = tp.deformedRegion!;
    const [nx, ny, nz] = tp.volume.dims;
    let outside = 0;
    let differ = 0;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          if (i >= r.i0 && i <= r.i1 && j >= r.j0 && j <= r.j1 && k >= r.k0 && k <= r.k1) continue;
          const p = i + nx * (j + ny * k);
          outside++;
          if (tp.volume.data[p] !== healthy.volume.data[p]) differ++;
        }
    expect(outside).toBeGreaterThan(1000);
    expect(differ).toBe(0);
    // Inside the region the brain did move: the lateral ventricles changed.
    let moved = 0;
    for (let p = 0; p < tp.labels.length; p++) if (tp.labels[p] !== healthy.labels[p]) moved++;
    expect(moved).toBeGreaterThan(100);
  });

  it('is deterministic for a seed and draws different lesions for different seeds', () => {
    const a = generateCase({ seed: 3, lesions: ['iph'], dims: [96, 96], slices: 12, noise: false });
    const b = generateCase({ seed: 3, lesions: ['iph'], dims: [96, 96], slices: 12, noise: false });
    const c = generateCase({ seed: 4, lesions: ['iph'], dims: [96, 96], slices: 12, noise: false });
    expect(a.lesions[0]).toEqual(b.lesions[0]);
    expect(Buffer.from(a.timepoints[0].volume.data.buffer).equals(Buffer.from(b.timepoints[0].volume.data.buffer))).toBe(true);
    expect(a.lesions[0].volumeMl).not.toBe(c.lesions[0].volumeMl);
  });

  it('explains impossible requests', () => {
    expect(() => generateCase({ seed: 1, lesions: [{ type: 'ivh', volumeMl: 200 }], dims: [96, 96], slices: 12 })).toThrow(/does not fit/);
    expect(() => generateCase({ seed: 1, lesions: ['tumour' as LesionType] })).toThrow(/Unknown lesion type/);
    expect(() => generateCase({ seed: 1, lesions: [{ type: 'sah', site: 'cerebellum' }] })).toThrow(/not a site/);
    expect(() => generateCase({ seed: 1, lesions: [{ type: 'sdh', edemaMl: 5 }] })).toThrow(/edema/);
  });
});
