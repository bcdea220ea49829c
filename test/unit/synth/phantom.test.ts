import { describe, expect, it } from 'vitest';
import { generatePhantom, TISSUE } from '../../../src/main/core/synth/index';
import { voxelToLps, voxelVolumeMl } from '../../../src/main/core/volume';

// Small grids keep the suite fast; the whole head (36 x 5 mm) is still covered.
const SMALL = { dims: [128, 128], slices: 36 } as const;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function huByLabel(data: ArrayLike<number>, labels: Uint8Array, label: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < labels.length; p++) if (labels[p] === label) out.push(data[p]);
  return out;
}

describe('healthy phantom', () => {
  const clean = generatePhantom({ seed: 5, ...SMALL, noise: false });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generatePhantom({ seed: 21, dims: [96, 96], slices: 10 });
    const b = generatePhantom({ seed: 21, dims: [96, 96], slices: 10 });
    const c = generatePhantom({ seed: 22, dims: [96, 96], slices: 10 });
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(b.volume.data.buffer))).toBe(true);
    expect(Buffer.from(a.labels).equals(Buffer.from(b.labels))).toBe(true);
    expect(Buffer.from(a.brainMask).equals(Buffer.from(b.brainMask))).toBe(true);
    expect(Buffer.from(a.volume.data.buffer).equals(Buffer.from(c.volume.data.buffer))).toBe(false);
  });

  it('has CT densities per tissue', () => {
    // Brain-level slices at the default 0.45 mm pixel, where few voxels are partial volumes.
    const mid = generatePhantom({ seed: 5, slices: 3, noise: false });
    const { data } = mid.volume;
    const L = mid.labels;
    const gm = median(huByLabel(data, L, TISSUE.grayMatter));
    const wm = median(huByLabel(data, L, TISSUE.whiteMatter));
    expect(gm).toBeGreaterThanOrEqual(35);
    expect(gm).toBeLessThanOrEqual(45);
    expect(wm).toBeGreaterThanOrEqual(22);
    expect(wm).toBeLessThanOrEqual(30);
    expect(gm - wm).toBeGreaterThan(7);
    expect(median(huByLabel(data, L, TISSUE.ventricle))).toBeLessThan(12);
    expect(median(huByLabel(data, L, TISSUE.ventricle))).toBeGreaterThan(0);
    // Sulcal CSF is mostly partial volume at 5 mm.
    expect(median(huByLabel(data, L, TISSUE.csf))).toBeLessThan(22);
    const deep = median(huByLabel(data, L, TISSUE.deepGray));
    expect(deep).toBeGreaterThan(wm + 4);
    expect(deep).toBeLessThan(gm + 3);
    const cortical = median(huByLabel(data, L, TISSUE.corticalBone));
    expect(cortical).toBeGreaterThan(1000);
    expect(cortical).toBeLessThan(2000);
    expect(median(huByLabel(data, L, TISSUE.cancellousBone))).toBeGreaterThan(300);
    expect(median(huByLabel(data, L, TISSUE.softTissue))).toBeGreaterThan(15);
    expect(median(huByLabel(data, L, TISSUE.softTissue))).toBeLessThan(60);
    expect(median(huByLabel(data, L, TISSUE.fat))).toBeLessThan(-30);
    expect(median(huByLabel(data, L, TISSUE.background))).toBe(-1000);
    // Across the whole head: sinus air, physiologic calcifications, cerebellum, eyes.
    const whole = clean.volume.data;
    expect(median(huByLabel(whole, clean.labels, TISSUE.air))).toBeLessThan(-500);
    expect(median(huByLabel(whole, clean.labels, TISSUE.cerebellum))).toBeGreaterThan(28);
    expect(median(huByLabel(whole, clean.labels, TISSUE.eye))).toBeLessThan(30);
    const calc = huByLabel(whole, clean.labels, TISSUE.calcification);
    if (calc.length) expect(median(calc)).toBeGreaterThan(80);
  });

  it('adds correlated noise of a few HU in the brain', () => {
    // One slice at the default 0.45 mm pixel, where the grain spans a few pixels.
    const noisy = generatePhantom({ seed: 5, slices: 1 });
    const ref = generatePhantom({ seed: 5, slices: 1, noise: false });
    let sum = 0;
    let sum2 = 0;
    let lag = 0;
    let n = 0;
    for (let p = 0; p < ref.labels.length - 1; p++) {
      if (ref.labels[p] !== TISSUE.whiteMatter || ref.labels[p + 1] !== TISSUE.whiteMatter) continue;
      const e = noisy.volume.data[p] - ref.volume.data[p];
      const e1 = noisy.volume.data[p + 1] - ref.volume.data[p + 1];
      sum += e;
      sum2 += e * e;
      lag += e * e1;
      n++;
    }
    const sd = Math.sqrt(sum2 / n - (sum / n) ** 2);
    expect(n).toBeGreaterThan(5000);
    expect(sd).toBeGreaterThan(2.5);
    expect(sd).toBeLessThan(6.5);
    expect(Math.abs(sum / n)).toBeLessThan(0.5);
    expect(lag / sum2).toBeGreaterThan(0.3);
  });

  it('changes anatomy with height from skull base to vertex', () => {
    const [nx, ny, nz] = clean.volume.dims;
    const n = nx * ny;
    const count = (k: number, label: number) => {
      let c = 0;
      for (let p = k * n; p < (k + 1) * n; p++) if (clean.labels[p] === label) c++;
      return c;
    };
    const brain = (k: number) => {
      let c = 0;
      for (let p = k * n; p < (k + 1) * n; p++) if (clean.brainMask[p]) c++;
      return c;
    };
    const ks = Array.from({ length: nz }, (_, k) => k);
    const lowest = (label: number) => ks.find((k) => count(k, label) > 5) ?? -1;
    const highest = (label: number) => [...ks].reverse().find((k) => count(k, label) > 5) ?? -1;
    // Posterior fossa and eyes low, lateral ventricles in the middle, none of them at the top.
    expect(lowest(TISSUE.cerebellum)).toBeLessThan(nz * 0.4);
    expect(highest(TISSUE.cerebellum)).toBeLessThan(nz * 0.55);
    expect(highest(TISSUE.eye)).toBeLessThan(nz * 0.45);
    expect(lowest(TISSUE.eye)).toBeGreaterThanOrEqual(0);
    expect(lowest(TISSUE.ventricle)).toBeGreaterThan(nz * 0.2);
    expect(highest(TISSUE.ventricle)).toBeLessThan(nz * 0.85);
    expect(count(Math.round(nz * 0.8), TISSUE.grayMatter)).toBeGreaterThan(50);
    expect(count(Math.round(nz * 0.55), TISSUE.deepGray) + count(Math.round(nz * 0.5), TISSUE.deepGray)).toBeGreaterThan(20);
    // Sinus air low in the stack only.
    expect(count(2, TISSUE.air) + count(5, TISSUE.air)).toBeGreaterThan(20);
    expect(count(nz - 8, TISSUE.air)).toBe(0);
    // The brain grows from the skull base, peaks in the middle and ends under the vertex.
    const areas = ks.map(brain);
    const peak = areas.indexOf(Math.max(...areas));
    expect(peak).toBeGreaterThan(nz * 0.35);
    expect(peak).toBeLessThan(nz * 0.85);
    expect(areas[nz - 1]).toBeLessThan(areas[peak] * 0.5);
  });

  it('brain mask is the cranial cavity: all brain, CSF and ventricles, no bone or scalp', () => {
    const inside = new Set<number>([TISSUE.csf, TISSUE.ventricle, TISSUE.grayMatter, TISSUE.whiteMatter, TISSUE.deepGray, TISSUE.cerebellum, TISSUE.brainstem, TISSUE.dura, TISSUE.calcification]);
    let mismatched = 0;
    for (let p = 0; p < clean.labels.length; p++) if (inside.has(clean.labels[p]) !== (clean.brainMask[p] === 1)) mismatched++;
    expect(mismatched).toBe(0);
    const icvMl = clean.brainMask.reduce((a, v) => a + v, 0) * voxelVolumeMl(clean.volume.spacing);
    expect(icvMl).toBeGreaterThan(1000);
    expect(icvMl).toBeLessThan(2000);
  });

  it('varies head size, ventricles and position between subjects', () => {
    const icv = (seed: number) => {
      const ph = generatePhantom({ seed, dims: [96, 96], slices: 36, noise: false });
      return [ph.brainMask.reduce((a, v) => a + v, 0), ph.labels.reduce((a, v) => a + (v === TISSUE.ventricle ? 1 : 0), 0), ph.params.rotationDeg.yaw];
    };
    const rows = [1, 2, 3, 4].map(icv);
    expect(new Set(rows.map((r) => r[0])).size).toBe(4);
    const vent = rows.map((r) => r[1]);
    expect(Math.max(...vent) / Math.min(...vent)).toBeGreaterThan(1.15);
  });

  it('defines LPS geometry with k = 0 inferior and the default acquisition', () => {
    const v = clean.volume;
    expect(v.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(v.intensityUnit).toBe('HU');
    expect(v.spacing[2]).toBe(5);
    expect(voxelToLps(v, 0, 0, 1)[2] - voxelToLps(v, 0, 0, 0)[2]).toBeCloseTo(5, 6);
    // The head is centred in the field of view: the lateral skull is where i is small and large.
    const mid = voxelToLps(v, (v.dims[0] - 1) / 2, (v.dims[1] - 1) / 2, 0);
    expect(Math.abs(mid[0])).toBeLessThan(1e-6);
    const def = generatePhantom({ seed: 5, slices: 1, noise: false });
    expect(def.volume.dims).toEqual([512, 512, 1]);
    expect(def.volume.spacing[0]).toBeCloseTo(0.45, 6);
  });

  it('refuses impossible grids with a clear error', () => {
    expect(() => generatePhantom({ seed: 1, dims: [64, 64], spacing: [2, 2] })).toThrow(/field of view/);
    expect(() => generatePhantom({ seed: -1 })).toThrow(/seed/);
    expect(() => generatePhantom({ seed: 1, slices: 0 })).toThrow(/slices/);
  });
});
