/**
 * CPU-side voxel work of the viewer: label slices (filled or outline) for the overlay layers,
 * the bounding box of a mask (so marching cubes runs on a small crop), and the in-plane
 * downsampling that keeps 3D rendering usable on laptop GPUs and in software WebGL.
 */
import type { Axis, Vec3 } from './geometry';

export type LabelArray = Uint8Array | Uint16Array | Int32Array;

/** Dims of the one-voxel-thick image that holds a slice across `axis`. */
export function sliceDims(dims: Vec3, axis: Axis): Vec3 {
  const d: Vec3 = [dims[0], dims[1], dims[2]];
  d[axis] = 1;
  return d;
}

/** Labels above 255 share the colour slots of lower ones (a slice image is 8-bit). */
export function colourSlot(label: number): number {
  return label <= 0 ? 0 : ((label - 1) % 255) + 1;
}

/**
 * Writes slice `index` across `axis` of a label volume into `out` (x-fastest order of the
 * remaining axes) as colour slots. 'outline' keeps only labelled voxels that touch a voxel of
 * another label (or the image edge) within the slice, so the anatomy under a lesion stays
 * visible. Returns whether anything on the slice is labelled.
 */
export function labelSlice(labels: ArrayLike<number>, dims: Vec3, axis: Axis, index: number, style: 'filled' | 'outline', out: Uint8Array): boolean {
  const stride: Vec3 = [1, dims[0], dims[0] * dims[1]];
  const [u, v] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const nu = dims[u];
  const nv = dims[v];
  const su = stride[u];
  const sv = stride[v];
  const base = index * stride[axis];
  let any = false;
  for (let b = 0; b < nv; b++) {
    const row = base + b * sv;
    for (let a = 0; a < nu; a++) {
      const at = row + a * su;
      const l = labels[at];
      let slot = 0;
      if (l !== 0) {
        any = true;
        if (style === 'filled') slot = colourSlot(l);
        else {
          const edge =
            a === 0 || b === 0 || a === nu - 1 || b === nv - 1 || labels[at - su] !== l || labels[at + su] !== l || labels[at - sv] !== l || labels[at + sv] !== l;
          if (edge) slot = colourSlot(l);
        }
      }
      out[a + b * nu] = slot;
    }
  }
  return any;
}

/** Inclusive voxel bounds [i0, i1, j0, j1, k0, k1] of the non-zero voxels, or null when there are none. */
export function nonZeroBounds(mask: ArrayLike<number>, dims: Vec3): [number, number, number, number, number, number] | null {
  const [nx, ny, nz] = dims;
  let i0 = nx;
  let i1 = -1;
  let j0 = ny;
  let j1 = -1;
  let k0 = nz;
  let k1 = -1;
  let at = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, at++) {
        if (mask[at] === 0) continue;
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
        if (k < k0) k0 = k;
        if (k > k1) k1 = k;
      }
    }
  }
  return i1 < 0 ? null : [i0, i1, j0, j1, k0, k1];
}

export interface CroppedMask {
  /** 1 inside, 0 outside, with a one-voxel empty border so surfaces close. */
  data: Uint8Array;
  dims: Vec3;
  /** Voxel index of crop voxel (0, 0, 0) in the full grid (may be -1 because of the border). */
  offset: Vec3;
}

/** The non-zero voxels of `mask` cropped to their bounds plus an empty border, as 0/1. */
export function cropMask(mask: ArrayLike<number>, dims: Vec3): CroppedMask | null {
  const b = nonZeroBounds(mask, dims);
  if (!b) return null;
  const offset: Vec3 = [b[0] - 1, b[2] - 1, b[4] - 1];
  const cd: Vec3 = [b[1] - b[0] + 3, b[3] - b[2] + 3, b[5] - b[4] + 3];
  const data = new Uint8Array(cd[0] * cd[1] * cd[2]);
  for (let k = b[4]; k <= b[5]; k++) {
    for (let j = b[2]; j <= b[3]; j++) {
      const src = dims[0] * (j + dims[1] * k);
      const dst = cd[0] * (j - offset[1] + cd[1] * (k - offset[2])) - offset[0];
      for (let i = b[0]; i <= b[1]; i++) if (mask[src + i] !== 0) data[dst + i] = 1;
    }
  }
  return { data, dims: cd, offset };
}

export interface Downsampled {
  data: Int16Array;
  dims: Vec3;
  spacing: Vec3;
  /** Grid-world position (mm) of downsampled voxel (0, 0, 0). */
  originMm: Vec3;
  factor: number;
}

/**
 * Box-averages in-plane so neither in-plane side exceeds `maxInPlane` voxels; slices are kept
 * (CT slices are already thick). The origin moves to the centre of the first block, so the
 * result stays aligned with the full-resolution views.
 */
export function downsampleInPlane(data: ArrayLike<number>, dims: Vec3, spacing: Vec3, maxInPlane: number): Downsampled {
  const factor = Math.max(1, Math.ceil(Math.max(dims[0], dims[1]) / maxInPlane));
  if (factor === 1) {
    const copy = data instanceof Int16Array ? data : Int16Array.from(data as ArrayLike<number>);
    return { data: copy, dims: [...dims], spacing: [...spacing], originMm: [0, 0, 0], factor };
  }
  const nx = Math.floor(dims[0] / factor);
  const ny = Math.floor(dims[1] / factor);
  const nz = dims[2];
  const out = new Int16Array(nx * ny * nz);
  const area = factor * factor;
  for (let k = 0; k < nz; k++) {
    const slice = k * dims[0] * dims[1];
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        let sum = 0;
        for (let b = 0; b < factor; b++) {
          const row = slice + (j * factor + b) * dims[0] + i * factor;
          for (let a = 0; a < factor; a++) sum += data[row + a];
        }
        out[i + nx * (j + ny * k)] = Math.round(sum / area);
      }
    }
  }
  const shift = (factor - 1) / 2;
  return {
    data: out,
    dims: [nx, ny, nz],
    spacing: [spacing[0] * factor, spacing[1] * factor, spacing[2]],
    originMm: [shift * spacing[0], shift * spacing[1], 0],
    factor,
  };
}

/** Minimum and maximum of a typed array (ignores NaN). */
export function valueRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < data.length; n++) {
    const v = data[n];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/**
 * Binomial [1 2 1]/4 smoothing along each axis of a 0/1 crop, so marching cubes gives rounded
 * surfaces instead of voxel staircases (CT slices are often 5 mm thick).
 */
export function smoothMask(crop: CroppedMask): Float32Array {
  const [nx, ny, nz] = crop.dims;
  let a = Float32Array.from(crop.data);
  let b = new Float32Array(a.length);
  const strides = [1, nx, nx * ny];
  const sizes = [nx, ny, nz];
  for (let axis = 0; axis < 3; axis++) {
    const s = strides[axis];
    const n = sizes[axis];
    if (n < 3) continue;
    for (let at = 0; at < a.length; at++) {
      const pos = Math.floor(at / s) % n;
      const prev = pos > 0 ? a[at - s] : 0;
      const next = pos < n - 1 ? a[at + s] : 0;
      b[at] = 0.25 * prev + 0.5 * a[at] + 0.25 * next;
    }
    [a, b] = [b, a];
  }
  return a;
}

/**
 * The label at a surface point given in full-grid voxel coordinates: the point lies between
 * voxels, so the labelled voxel among its eight neighbours is taken (0 if none).
 */
export function labelNear(labels: ArrayLike<number>, dims: Vec3, x: number, y: number, z: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const z0 = Math.floor(z);
  let best = 0;
  let bestDist = Infinity;
  for (let dz = 0; dz <= 1; dz++) {
    const k = z0 + dz;
    if (k < 0 || k >= dims[2]) continue;
    for (let dy = 0; dy <= 1; dy++) {
      const j = y0 + dy;
      if (j < 0 || j >= dims[1]) continue;
      for (let dx = 0; dx <= 1; dx++) {
        const i = x0 + dx;
        if (i < 0 || i >= dims[0]) continue;
        const l = labels[i + dims[0] * (j + dims[1] * k)];
        if (l === 0) continue;
        const d = (i - x) ** 2 + (j - y) ** 2 + (k - z) ** 2;
        if (d < bestDist) {
          bestDist = d;
          best = l;
        }
      }
    }
  }
  return best;
}
