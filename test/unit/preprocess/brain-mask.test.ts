import { describe, expect, it } from 'vitest';
import { assertCtLike, classicalBrainMask } from '../../../src/main/core/preprocess/brain-mask';
import type { Vec3, Volume } from '../../../src/main/core/volume';
import { dice, simpleHead } from './simple-head';

/** Sub-volume [i0, i1) x [j0, j1) x [k0, k1) of a volume and its truth mask. */
function crop(v: Volume, truth: Uint8Array, [i0, i1]: [number, number], [j0, j1]: [number, number], [k0, k1]: [number, number]) {
  const [nx, ny] = v.dims;
  const dims: Vec3 = [i1 - i0, j1 - j0, k1 - k0];
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  const t = new Uint8Array(data.length);
  let q = 0;
  for (let k = k0; k < k1; k++)
    for (let j = j0; j < j1; j++)
      for (let i = i0; i < i1; i++, q++) {
        data[q] = v.data[i + nx * (j + ny * k)];
        t[q] = truth[i + nx * (j + ny * k)];
      }
  return { volume: { ...v, data, dims } as Volume, truth: t };
}

function count(m: Uint8Array): number {
  let c = 0;
  for (const x of m) c += x;
  return c;
}

describe('classical brain extraction: robustness', () => {
  it('finds the intracranial cavity of a plain head', () => {
    const h = simpleHead();
    const r = classicalBrainMask(h.volume);
    expect(dice(r.mask, h.truth)).toBeGreaterThan(0.97);
    expect(r.stats.volumeMl).toBeGreaterThan(300);
    // DICOM series arrive as Int16Array: same result.
    const asInt16 = classicalBrainMask({ ...h.volume, data: Int16Array.from(h.volume.data, Math.round) });
    expect(dice(asInt16.mask, r.mask)).toBeGreaterThan(0.995);
  });

  it('keeps a bright subdural collection and a dark infarct inside the mask', () => {
    const h = simpleHead([96, 96, 8], [2.4, 2.4, 5], 3, { subdural: true, infarct: true });
    const r = classicalBrainMask(h.volume);
    expect(dice(r.mask, h.truth)).toBeGreaterThan(0.97);
    let blood = 0;
    let bloodIn = 0;
    let dark = 0;
    let darkIn = 0;
    for (let p = 0; p < r.mask.length; p++) {
      if (!h.truth[p]) continue;
      const v = h.volume.data[p];
      if (v > 62 && v < 90) {
        blood++;
        bloodIn += r.mask[p];
      }
      if (v > 8 && v < 20) {
        dark++;
        darkIn += r.mask[p];
      }
    }
    expect(blood).toBeGreaterThan(100);
    expect(bloodIn / blood).toBeGreaterThan(0.97);
    expect(darkIn / dark).toBeGreaterThan(0.97);
  });

  it('handles a field of view cropped inside the skull (no skull, no air)', () => {
    const h = simpleHead();
    const c = crop(h.volume, h.truth, [30, 66], [25, 71], [2, 6]);
    expect(count(c.truth)).toBe(c.truth.length);
    const r = classicalBrainMask(c.volume);
    expect(dice(r.mask, c.truth)).toBeGreaterThan(0.99);
    expect(r.stats.slicesWithoutSkull).toBe(4);
  });

  it('handles a field of view that cuts through the head on one side', () => {
    const h = simpleHead();
    const c = crop(h.volume, h.truth, [0, 60], [0, 96], [0, 8]);
    const r = classicalBrainMask(c.volume);
    expect(dice(r.mask, c.truth)).toBeGreaterThan(0.97);
  });

  /** Calls fn(i, j, xMm, yMm, index) for every voxel of slice k, with mm from the image centre. */
  function eachVoxel(h: ReturnType<typeof simpleHead>, k: number, fn: (xMm: number, yMm: number, p: number) => void) {
    const [nx, ny] = h.volume.dims;
    const [sx, sy] = h.volume.spacing;
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) fn((i - (nx - 1) / 2) * sx, (j - (ny - 1) / 2) * sy, i + nx * (j + ny * k));
  }

  it('rescues a slice whose skull is open (a 12 mm gap) from its neighbours', () => {
    const h = simpleHead([100, 110, 8], [2, 2, 5], 4);
    const data = h.volume.data as Float32Array;
    const k = 4;
    // A 12 mm gap through the right skull wall of slice 4, filled with scalp-like tissue.
    eachVoxel(h, k, (x, y, p) => {
      if (x > 0 && Math.abs(y) < 6 && data[p] > 500) data[p] = 30;
    });
    const r = classicalBrainMask(h.volume);
    expect(r.stats.slicesCorrected).toBeGreaterThanOrEqual(1);
    const n = 100 * 110;
    expect(dice(r.mask.subarray(k * n, (k + 1) * n), h.truth.subarray(k * n, (k + 1) * n))).toBeGreaterThan(0.9);
    expect(dice(r.mask, h.truth)).toBeGreaterThan(0.97);
  });

  it('cuts a leak into the scalp back to the neighbouring slices (padded head holder + open skull)', () => {
    const h = simpleHead([110, 120, 8], [2, 2, 5], 5);
    const data = h.volume.data as Float32Array;
    const k = 4;
    eachVoxel(h, k, (x, y, p) => {
      const r = Math.hypot(x / 80, y / 95);
      // A padded head holder: 12 mm of soft padding around the scalp inside a dense shell...
      if (r > 0.99 && r < 1.15) data[p] = 30;
      if (r >= 1.15 && r < 1.2) data[p] = 400;
      // ...and a 14 mm gap that opens the skull into it.
      if (x > 0 && Math.abs(y) < 7 && data[p] > 500) data[p] = 30;
    });
    const r = classicalBrainMask(h.volume);
    expect(r.stats.slicesCorrected).toBeGreaterThanOrEqual(1);
    // Nothing beyond the 8 mm margin around the neighbours' brain (+ 2 mm partial-volume reach,
    // + the octagon's corners) remains: the padding ring reaches 30 mm out.
    let far = 0;
    eachVoxel(h, k, (x, y, p) => {
      if (r.mask[p] && Math.hypot(x / (68 + 13), y / (83 + 13)) > 1) far++;
    });
    expect(far).toBe(0);
    expect(dice(r.mask, h.truth)).toBeGreaterThan(0.95);
  });

  it('works on a single slice', () => {
    const h = simpleHead();
    const c = crop(h.volume, h.truth, [0, 96], [0, 96], [4, 5]);
    const r = classicalBrainMask(c.volume);
    expect(dice(r.mask, c.truth)).toBeGreaterThan(0.97);
  });

  it('refuses an MR volume by its modality tag', () => {
    const h = simpleHead([32, 32, 2]);
    expect(() => classicalBrainMask({ ...h.volume, meta: { modality: 'MR' } })).toThrow(expect.objectContaining({ code: 'NOT_CT', message: expect.stringMatching(/MR scan.*needs CT/) }));
  });

  it('refuses MR-like intensities without a tag (no air at -1000 HU, no tissue peak)', () => {
    const h = simpleHead([48, 48, 4]);
    // Positive MR-like grey values: background 0, tissue 300-900.
    const data = Float32Array.from(h.volume.data, (v) => (v < -500 ? Math.abs(v + 1000) : v > 500 ? 150 : 600 + 8 * v));
    for (const intensityUnit of ['raw', 'HU'] as const) {
      expect(() => classicalBrainMask({ ...h.volume, data, intensityUnit, meta: {} })).toThrow(expect.objectContaining({ code: 'NOT_CT' }));
    }
    // A CT stored without its rescale (air 0, brain ~1060) is also not HU.
    const unscaled = Float32Array.from(h.volume.data, (v) => v + 1024);
    expect(() => classicalBrainMask({ ...h.volume, data: unscaled })).toThrow(expect.objectContaining({ code: 'NOT_CT', message: expect.stringMatching(/rescale/) }));
  });

  it('refuses windowed grey values', () => {
    const h = simpleHead([32, 32, 2]);
    expect(() => assertCtLike({ ...h.volume, intensityUnit: 'windowed' })).toThrow(/windowed/);
    // PNG stacks are mapped back to HU by the reader, but bone and air were clipped away.
    expect(() => classicalBrainMask({ ...h.volume, meta: { source: 'png' } })).toThrow(expect.objectContaining({ code: 'NOT_CT', message: expect.stringMatching(/PNG/) }));
  });

  it('reports NO_BRAIN for air, an empty skull and a water phantom', () => {
    const dims: Vec3 = [48, 48, 3];
    const n = 48 * 48 * 3;
    const head = simpleHead(dims, [4.8, 4.8, 5]);
    const base = head.volume;
    const air = { ...base, data: new Float32Array(n).fill(-1000) };
    expect(() => classicalBrainMask(air)).toThrow(expect.objectContaining({ code: 'NO_BRAIN' }));
    // A head with scalp and skull but air inside (no brain).
    const emptySkull = { ...base, data: Float32Array.from(base.data, (v, p) => (v > 500 || (v > -500 && !head.truth[p]) ? v : -1000)) };
    expect(() => classicalBrainMask(emptySkull)).toThrow(expect.objectContaining({ code: 'NO_BRAIN' }));
    // A body part without a skull (soft tissue in air): nothing is enclosed by bone.
    const limb = { ...base, data: Float32Array.from({ length: n }, (_, p) => (Math.hypot((p % 48) - 24, Math.floor(p / 48) % 48 - 24) < 18 ? 40 : -1000)) };
    expect(() => classicalBrainMask(limb)).toThrow(expect.objectContaining({ code: 'NO_BRAIN' }));
    // A water phantom in a plastic shell: enclosed, but 0 HU is not brain.
    const water = {
      ...base,
      data: Float32Array.from({ length: n }, (_, p) => {
        const r = Math.hypot((p % 48) - 24, (Math.floor(p / 48) % 48) - 24);
        return r < 18 ? ((p * 7919) % 9) - 4 : r < 20 ? 300 : -1000;
      }),
    };
    expect(() => classicalBrainMask(water)).toThrow(expect.objectContaining({ code: 'NO_BRAIN', message: expect.stringMatching(/density/) }));
  });

  it('reports progress and honours cancellation', () => {
    const h = simpleHead([48, 48, 4]);
    const stages: number[] = [];
    classicalBrainMask(h.volume, { onProgress: (p) => stages.push(p.done) });
    expect(stages.length).toBeGreaterThan(3);
    const ac = new AbortController();
    ac.abort();
    expect(() => classicalBrainMask(h.volume, { signal: ac.signal })).toThrow(/cancelled/);
  });
});
