/**
 * Distance from each brain voxel to the brain border, and erosion of the brain mask by a
 * distance. The skull's partial-volume rim makes the outermost brain voxels score high in
 * every healthy scan; eroding the border by a few millimetres removes those false alarms.
 *
 * Distances are exact Euclidean distances between voxel centres (Felzenszwalb & Huttenlocher's
 * separable squared distance transform), in mm with the grid's anisotropic spacing or in
 * voxel units. Only voxels inside the grid count as background: the edge of the field of view
 * is not the brain's border (the brain continues beyond the first and last slice), so nothing
 * is eroded from the grid's faces.
 */
import type { Vec3 } from '../volume';

/**
 * Erode the brain mask by `distance` ('mm' or 'px' = voxel units), in-plane per slice ('2d')
 * or across slices too ('3d'). A voxel survives when no non-brain voxel lies within
 * `distance` of it, i.e. erosion by a closed Euclidean ball: 1 px removes voxels with a
 * face neighbour outside the brain.
 */
export interface BorderErosion {
  distance: number;
  unit: 'mm' | 'px';
  mode: '2d' | '3d';
}

export function erosionKey(e: BorderErosion | null | undefined): string {
  return !e || !(e.distance > 0) ? 'none' : `${e.mode}:${e.unit}:${e.distance}`;
}

/**
 * Distances above this survive the erosion. The tolerance keeps a neighbour exactly `distance`
 * away (e.g. 0.45 mm spacing, 0.45 mm erosion) from surviving by floating-point rounding.
 */
export function erosionLimit(e: BorderErosion): number {
  return e.distance + 1e-6 * Math.max(1, e.distance);
}

/** 1D squared distance transform of `f` along a line with sample spacing `w` (lower envelope of parabolas). */
function distanceTransform1d(f: Float64Array, n: number, w: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    const xq = q * w;
    while (k >= 0) {
      const xv = v[k] * w;
      const s = (f[q] + xq * xq - (f[v[k]] + xv * xv)) / (2 * (xq - xv));
      if (s <= z[k]) k--;
      else {
        k++;
        v[k] = q;
        z[k] = s;
        break;
      }
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
    }
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) d[q] = Infinity;
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    const xq = q * w;
    while (j < k && z[j + 1] < xq) j++;
    const dx = xq - v[j] * w;
    d[q] = dx * dx + f[v[j]];
  }
}

/**
 * Distance (mm, or voxel units for 'px') from every mask voxel's centre to the nearest
 * non-mask voxel's centre; 0 outside the mask; Infinity where the mask has no border at all
 * (a mask filling the whole grid or slice).
 */
export function borderDistance(mask: ArrayLike<number>, dims: Vec3, spacing: Vec3, options: Pick<BorderErosion, 'unit' | 'mode'>): Float32Array {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (mask.length !== n) throw new RangeError(`borderDistance: mask has ${mask.length} voxels for dims ${dims.join('x')}`);
  const out = new Float32Array(n);
  // Work inside the mask's bounding box grown by one voxel: the nearest background voxel of any
  // mask voxel lies in it (clamping a farther one onto the box's rim gives a closer background
  // voxel), and a brain usually fills a fraction of the grid.
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  for (let k = 0, p = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        if (!(mask[p] > 0)) continue;
        if (i < lo[0]) lo[0] = i;
        if (i > hi[0]) hi[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (j > hi[1]) hi[1] = j;
        if (k < lo[2]) lo[2] = k;
        if (k > hi[2]) hi[2] = k;
      }
  if (hi[0] < 0) return out;
  for (let a = 0; a < 3; a++) {
    lo[a] = Math.max(0, lo[a] - 1);
    hi[a] = Math.min(dims[a] - 1, hi[a] + 1);
  }
  const [bx, by, bz] = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const gridIndex = (i: number, j: number, k: number) => lo[0] + i + nx * (lo[1] + j + ny * (lo[2] + k));
  const w = options.unit === 'mm' ? spacing : ([1, 1, 1] as Vec3);
  const sq = new Float64Array(bx * by * bz);
  for (let k = 0, q = 0; k < bz; k++)
    for (let j = 0; j < by; j++) {
      const src = gridIndex(0, j, k);
      for (let i = 0; i < bx; i++, q++) sq[q] = mask[src + i] > 0 ? Infinity : 0;
    }
  const longest = Math.max(bx, by, bz);
  const f = new Float64Array(longest);
  const d = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  // Transforms one line of `length` samples read from `buf` at `start + t * stride`, in place.
  // Lines without any mask voxel (all 0) are already final and skipped.
  const line = (buf: Float64Array, start: number, stride: number, length: number, step: number) => {
    let inside = false;
    for (let t = 0; t < length; t++) {
      const x = buf[start + t * stride];
      f[t] = x;
      if (x !== 0) inside = true;
    }
    if (!inside) return;
    distanceTransform1d(f, length, step, d, v, z);
    for (let t = 0; t < length; t++) buf[start + t * stride] = d[t];
  };
  for (let row = 0; row < by * bz; row++) line(sq, row * bx, 1, bx, w[0]);
  // Columns and stacks are strided; gathering a slice (or a row across slices) into a small
  // block first keeps the strided reads in cache.
  const block = new Float64Array(Math.max(bx * by, bx * bz));
  for (let k = 0; k < bz; k++) {
    const base = k * bx * by;
    block.set(sq.subarray(base, base + bx * by));
    for (let i = 0; i < bx; i++) line(block, i, bx, by, w[1]);
    sq.set(block.subarray(0, bx * by), base);
  }
  if (options.mode === '3d' && bz > 1) {
    for (let j = 0; j < by; j++) {
      for (let k = 0; k < bz; k++) block.set(sq.subarray((k * by + j) * bx, (k * by + j + 1) * bx), k * bx);
      for (let i = 0; i < bx; i++) line(block, i, bx, bz, w[2]);
      for (let k = 0; k < bz; k++) sq.set(block.subarray(k * bx, (k + 1) * bx), (k * by + j) * bx);
    }
  }
  for (let k = 0, q = 0; k < bz; k++)
    for (let j = 0; j < by; j++) {
      const dst = gridIndex(0, j, k);
      for (let i = 0; i < bx; i++, q++) if (mask[dst + i] > 0) out[dst + i] = Math.sqrt(sq[q]);
    }
  return out;
}

/** The mask eroded by `erosion` (a copy; the input is not changed). No erosion returns a 0/1 copy. */
export function erodeMask(mask: ArrayLike<number>, dims: Vec3, spacing: Vec3, erosion: BorderErosion | null | undefined): Uint8Array {
  const out = new Uint8Array(mask.length);
  if (!erosion || !(erosion.distance > 0)) {
    for (let p = 0; p < mask.length; p++) out[p] = mask[p] > 0 ? 1 : 0;
    return out;
  }
  const dist = borderDistance(mask, dims, spacing, erosion);
  const limit = erosionLimit(erosion);
  for (let p = 0; p < mask.length; p++) out[p] = dist[p] > limit ? 1 : 0;
  return out;
}
