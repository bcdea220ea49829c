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
  const w = options.unit === 'mm' ? spacing : ([1, 1, 1] as Vec3);
  const sq = new Float64Array(n);
  for (let p = 0; p < n; p++) sq[p] = mask[p] > 0 ? Infinity : 0;
  const longest = Math.max(nx, ny, nz);
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
  for (let row = 0; row < ny * nz; row++) line(sq, row * nx, 1, nx, w[0]);
  // Columns and stacks are strided; gathering a slice (or a row across slices) into a small
  // block first keeps the strided reads in cache.
  const block = new Float64Array(Math.max(nx * ny, nx * nz));
  for (let k = 0; k < nz; k++) {
    const base = k * nx * ny;
    block.set(sq.subarray(base, base + nx * ny));
    for (let i = 0; i < nx; i++) line(block, i, nx, ny, w[1]);
    sq.set(block.subarray(0, nx * ny), base);
  }
  if (options.mode === '3d' && nz > 1) {
    for (let j = 0; j < ny; j++) {
      for (let k = 0; k < nz; k++) block.set(sq.subarray((k * ny + j) * nx, (k * ny + j + 1) * nx), k * nx);
      for (let i = 0; i < nx; i++) line(block, i, nx, nz, w[2]);
      for (let k = 0; k < nz; k++) sq.set(block.subarray(k * nx, (k + 1) * nx), (k * ny + j) * nx);
    }
  }
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = mask[p] > 0 ? Math.sqrt(sq[p]) : 0;
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
