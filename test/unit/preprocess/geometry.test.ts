import { describe, expect, it } from 'vitest';
import { conditioningSlices, inverseMaskToNative, inverseToNative, outputGrid, planTransform, prepareStack } from '../../../src/main/core/preprocess/geometry';
import { IDENTITY_DIRECTION, voxelToLps, type Vec3, type Volume } from '../../../src/main/core/volume';

function volumeOf(dims: Vec3, spacing: Vec3, fn: (i: number, j: number, k: number) => number): Volume {
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) data[i + dims[0] * (j + dims[1] * k)] = fn(i, j, k);
  return { data, dims, spacing, origin: [-100, -120, -30], direction: [...IDENTITY_DIRECTION], intensityUnit: 'HU', meta: {}, warnings: [] };
}

/** An ellipse of "brain" per slice, off-centre so the framing matters. */
function ellipseMask(dims: Vec3, cx: number, cy: number, rx: number, ry: number): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++)
    for (let j = 0; j < dims[1]; j++)
      for (let i = 0; i < dims[0]; i++) {
        const s = 1 - 0.15 * Math.abs(k - dims[2] / 2);
        if (((i - cx) / (rx * s)) ** 2 + ((j - cy) / (ry * s)) ** 2 <= 1) m[i + dims[0] * (j + dims[1] * k)] = 1;
      }
  return m;
}

/** Voxels where a and b differ with no voxel of a holding b's value within `radius` voxels in-plane (i.e. not an edge effect). */
function mismatchBeyond(a: Uint8Array, b: Uint8Array, dims: Vec3, radius = 1): number {
  const [nx, ny, nz] = dims;
  let bad = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const p = i + nx * (j + ny * k);
        if (a[p] === b[p]) continue;
        // The mismatch is an edge effect only if the original has the other value within one voxel.
        let nearEdge = false;
        for (let dj = -radius; dj <= radius && !nearEdge; dj++)
          for (let di = -radius; di <= radius; di++) {
            const ii = i + di;
            const jj = j + dj;
            if (ii < 0 || jj < 0 || ii >= nx || jj >= ny) continue;
            if (a[ii + nx * (jj + ny * k)] === b[p]) {
              nearEdge = true;
              break;
            }
          }
        if (!nearEdge) bad++;
      }
  return bad;
}

describe('pad/crop and area resize', () => {
  it('512 at 0.45 mm: exact 2x2 means of the windowed image, framed on the brain', () => {
    const dims: Vec3 = [512, 512, 3];
    const vol = volumeOf(dims, [0.45, 0.45, 5], (i, j, k) => (i + 3 * j + 7 * k) % 97);
    const mask = ellipseMask(dims, 270, 250, 150, 180);
    const st = prepareStack(vol, mask, { skullStrip: false });
    expect(st.transform.mode).toBe('pixels');
    const [ox, oy] = st.transform.frameOriginNative;
    expect(Number.isInteger(ox) && Number.isInteger(oy)).toBe(true);
    // Centred on the bounding-box centre, not the image centre.
    expect(ox).toBe(Math.round(270 + 0.5 - 256));
    expect(oy).toBe(Math.round(250 + 0.5 - 256));
    const win = (hu: number) => Math.min(1, Math.max(0, hu / 80));
    for (const [c, d, k] of [[100, 100, 0], [17, 200, 1], [128, 5, 2]]) {
      let s = 0;
      for (const [di, dj] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const i = ox + 2 * c + di;
        const j = oy + 2 * d + dj;
        s += i >= 0 && i < 512 && j >= 0 && j < 512 ? win(vol.data[i + 512 * (j + 512 * k)]) : 0;
      }
      expect(st.images256[c + 256 * (d + 256 * k)]).toBeCloseTo(s / 4, 5);
    }
  });

  it('skull stripping zeroes everything outside the brain', () => {
    const dims: Vec3 = [64, 64, 2];
    const vol = volumeOf(dims, [0.45, 0.45, 5], () => 60);
    const mask = ellipseMask(dims, 32, 32, 10, 10);
    const st = prepareStack(vol, mask);
    let brighterOutside = 0;
    for (let p = 0; p < st.images256.length; p++) if (!st.masks256[p] && st.images256[p] > 0.375 + 1e-6) brighterOutside++;
    // Outside the 256 mask at most half a pixel's area is brain, so at most half the brain value.
    expect(brighterOutside).toBe(0);
    // Far from the brain: exactly background.
    expect(st.images256[0]).toBe(0);
    const centre = st.images256[128 + 256 * 128];
    expect(centre).toBeCloseTo(0.75, 5);
  });

  it('round trip returns the native grid and the mask within one voxel at edges', () => {
    for (const [dims, spacing, policy] of [
      [[512, 512, 4], [0.45, 0.45, 5], 'auto'],
      [[500, 431, 3], [0.45, 0.45, 5], 'auto'],
      [[513, 511, 2], [0.44, 0.47, 5], 'auto'],
      [[257, 255, 3], [0.9, 0.9, 5], 'auto'],
      [[256, 256, 2], [0.9, 0.9, 5], 'pixels'],
      [[37, 41, 1], [0.45, 0.45, 5], 'auto'],
    ] as [Vec3, Vec3, 'auto' | 'pixels'][]) {
      const vol = volumeOf(dims, spacing, () => 30);
      const scale = 0.45 / spacing[0];
      const mask = ellipseMask(dims, dims[0] * 0.55, dims[1] * 0.47, Math.min(dims[0] * 0.3, 160 * scale), Math.min(dims[1] * 0.35, 200 * scale));
      const st = prepareStack(vol, mask, { spacing: policy });
      const back = inverseMaskToNative(st.masks256, st.transform);
      expect(back.length).toBe(mask.length);
      expect(st.transform.nativeDims).toEqual(dims);
      expect([dims.join('x'), mismatchBeyond(mask, back, dims)]).toEqual([dims.join('x'), 0]);
      const cont = inverseToNative(st.images256, st.transform, { interpolation: 'bilinear' });
      expect(cont.length).toBe(mask.length);
    }
  });

  it('finer native pixels (768 at 0.3 mm) round-trip within one output pixel (3 native voxels)', () => {
    const dims: Vec3 = [768, 768, 2];
    const vol = volumeOf(dims, [0.3, 0.3, 5], () => 30);
    const mask = ellipseMask(dims, 400, 370, 240, 290);
    const st = prepareStack(vol, mask);
    expect(st.transform.mode).toBe('resample');
    expect(st.warnings).toEqual([]);
    const back = inverseMaskToNative(st.masks256, st.transform);
    expect(mismatchBeyond(mask, back, dims, 1)).toBeGreaterThan(0);
    expect(mismatchBeyond(mask, back, dims, 3)).toBe(0);
    // In the method's pixel mode the same head does not fit in 512 px: the user is told.
    expect(prepareStack(vol, mask, { spacing: 'pixels' }).warnings[0]).toMatch(/outside the 512-pixel analysis frame/);
  });

  it('odd and large matrices resample to the reference spacing in auto mode', () => {
    const t = planTransform({ dims: [768, 768, 1], spacing: [0.3, 0.3, 5], origin: [0, 0, 0], direction: [...IDENTITY_DIRECTION] }, null);
    expect(t.mode).toBe('resample');
    expect(t.framePixelSpacingMm[0]).toBeCloseTo(0.45, 9);
    const p = planTransform({ dims: [768, 768, 1], spacing: [0.3, 0.3, 5], origin: [0, 0, 0], direction: [...IDENTITY_DIRECTION] }, null, { spacing: 'pixels' });
    expect(p.mode).toBe('pixels');
    expect(p.frameOriginNative).toEqual([128, 128]);
  });

  it('a constant image stays constant after resampling inside the native field of view', () => {
    const dims: Vec3 = [300, 280, 1];
    const vol = volumeOf(dims, [0.7, 0.7, 5], () => 40);
    const mask = new Uint8Array(300 * 280).fill(1);
    const st = prepareStack(vol, mask, { skullStrip: false });
    // Output pixel at the frame centre lies well inside the image.
    expect(st.images256[128 + 256 * 128]).toBeCloseTo(0.5, 5);
    const back = inverseToNative(st.images256, st.transform, { interpolation: 'bilinear' });
    expect(back[150 + 300 * 140]).toBeCloseTo(0.5, 5);
  });

  it('bilinear inverse reproduces a linear ramp exactly inside the frame', () => {
    for (const spacing of [0.45, 0.7]) {
      const dims: Vec3 = [300, 280, 2];
      const vol = volumeOf(dims, [spacing, spacing, 5], () => 30);
      const st = prepareStack(vol, ellipseMask(dims, 150, 140, 80, 90));
      const ramp = new Float32Array(256 * 256 * 2);
      for (let p = 0; p < ramp.length; p++) ramp[p] = (p % 256) + 3 * (Math.floor(p / 256) % 256);
      const back = inverseToNative(ramp, st.transform, { interpolation: 'bilinear' });
      const [x0, y0] = st.transform.frameOriginNative;
      const [fx, fy] = st.transform.nativePixelsPerFramePixel;
      for (const [i, j] of [[100, 100], [151, 77], [200, 190]]) {
        const c = (i + 0.5 - x0) / (2 * fx) - 0.5;
        const d = (j + 0.5 - y0) / (2 * fy) - 0.5;
        expect(back[i + 300 * (j + 280)]).toBeCloseTo(c + 3 * d, 3);
      }
    }
  });

  it('output grid geometry overlays the native image', () => {
    const dims: Vec3 = [512, 512, 2];
    const vol = volumeOf(dims, [0.45, 0.45, 5], () => 0);
    const st = prepareStack(vol, ellipseMask(dims, 256, 256, 100, 100));
    const g = outputGrid(st.transform);
    expect(g.dims).toEqual([256, 256, 2]);
    expect(g.spacing[0]).toBeCloseTo(0.9, 9);
    // Centre of output pixel 0 = midpoint of native pixels ox and ox+1.
    const ox = st.transform.frameOriginNative[0];
    const p = voxelToLps(vol, ox + 0.5, st.transform.frameOriginNative[1] + 0.5, 0);
    expect(g.origin[0]).toBeCloseTo(p[0], 6);
    expect(g.origin[1]).toBeCloseTo(p[1], 6);
  });

  it('conditioning slices: above is k+1, below k-1, zeros at the ends', () => {
    const dims: Vec3 = [32, 32, 3];
    const vol = volumeOf(dims, [0.45, 0.45, 5], (_i, _j, k) => 20 * (k + 1));
    const mask = new Uint8Array(32 * 32 * 3).fill(1);
    const st = prepareStack(vol, mask);
    const c0 = conditioningSlices(st, 0);
    const centre = 128 + 256 * 128;
    expect(c0.below[centre]).toBe(0);
    expect(c0.current[centre]).toBeCloseTo(0.25, 5);
    expect(c0.above[centre]).toBeCloseTo(0.5, 5);
    const c2 = conditioningSlices(st, 2);
    expect(c2.above[centre]).toBe(0);
    expect(c2.below[centre]).toBeCloseTo(0.5, 5);
  });

  it('rejects a mask on another grid and non-HU images', () => {
    const vol = volumeOf([8, 8, 1], [0.45, 0.45, 5], () => 0);
    expect(() => prepareStack(vol, new Uint8Array(10))).toThrow(/share one grid/);
    expect(() => prepareStack({ ...vol, intensityUnit: 'windowed' }, new Uint8Array(64))).toThrow(/Hounsfield/);
    expect(() => prepareStack({ ...vol, data: new Float32Array(64).fill(700), intensityUnit: 'raw' }, new Uint8Array(64))).toThrow(/MR/);
    expect(() => inverseToNative(new Float32Array(5), planTransform(vol, null))).toThrow(/expected/);
  });
});
