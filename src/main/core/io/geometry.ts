import type { Vec3, VoxelArray } from '../volume';

/**
 * Geometry helpers shared by the readers and writers. Matrices are plain number arrays:
 * a 3x4 affine is rows [r0c0, r0c1, r0c2, r0c3, r1c0, ...], mapping voxel index (i, j, k, 1)
 * to patient mm. `direction` follows volume.ts (column-major unit vectors of i, j, k).
 */

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
}

export function normalize(a: ArrayLike<number>): Vec3 {
  const n = norm(a);
  return n > 0 ? [a[0] / n, a[1] / n, a[2] / n] : [0, 0, 0];
}

export function directionColumn(direction: ArrayLike<number>, axis: 0 | 1 | 2): Vec3 {
  return [direction[axis * 3], direction[axis * 3 + 1], direction[axis * 3 + 2]];
}

/** 3x4 row-major affine (voxel index -> LPS mm) from volume geometry. */
export function affineFromGeometry(spacing: Vec3, origin: Vec3, direction: ArrayLike<number>): number[] {
  const m = new Array<number>(12);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) m[r * 4 + c] = direction[c * 3 + r] * spacing[c];
    m[r * 4 + 3] = origin[r];
  }
  return m;
}

/** Inverse of affineFromGeometry. Column lengths become spacing; a zero column gets spacing 1. */
export function geometryFromAffine(m: ArrayLike<number>): { spacing: Vec3; origin: Vec3; direction: number[] } {
  const spacing: Vec3 = [1, 1, 1];
  const direction = new Array<number>(9).fill(0);
  for (let c = 0; c < 3; c++) {
    const col: Vec3 = [m[c], m[4 + c], m[8 + c]];
    const len = norm(col);
    if (len > 0) {
      spacing[c] = len;
      for (let r = 0; r < 3; r++) direction[c * 3 + r] = col[r] / len + 0; // + 0 turns -0 into 0
    } else {
      direction[c * 3 + c] = 1;
    }
  }
  return { spacing, origin: [m[3] + 0, m[7] + 0, m[11] + 0], direction };
}

/** RAS <-> LPS: negate x and y rows of an affine (the map is its own inverse). */
export function flipAffineXY(m: ArrayLike<number>): number[] {
  const out = Array.from(m);
  for (let c = 0; c < 4; c++) {
    out[c] = -out[c];
    out[4 + c] = -out[4 + c];
  }
  return out;
}

/** True when the three direction columns are unit length and mutually perpendicular. */
export function isOrthonormal(direction: ArrayLike<number>, tol = 1e-4): boolean {
  const a = directionColumn(direction, 0);
  const b = directionColumn(direction, 1);
  const c = directionColumn(direction, 2);
  return Math.abs(norm(a) - 1) < tol && Math.abs(norm(b) - 1) < tol && Math.abs(norm(c) - 1) < tol && Math.abs(dot(a, b)) < tol && Math.abs(dot(a, c)) < tol && Math.abs(dot(b, c)) < tol;
}

/**
 * Enforces the volume.ts rule "k = 0 is the most inferior slice": when the k axis points to the
 * feet (negative LPS z component), the slice order is reversed in place and the geometry follows,
 * so every voxel keeps its patient position.
 */
export function makeSliceOrderInferiorToSuperior(data: VoxelArray, dims: Vec3, spacing: Vec3, origin: Vec3, direction: number[]): { origin: Vec3; direction: number[]; flipped: boolean } {
  if (!(direction[8] < 0)) return { origin, direction, flipped: false };
  const nz = dims[2];
  const n = dims[0] * dims[1];
  for (let lo = 0, hi = nz - 1; lo < hi; lo++, hi--) {
    const a = data.subarray(lo * n, (lo + 1) * n);
    const b = data.subarray(hi * n, (hi + 1) * n);
    const tmp = a.slice();
    a.set(b);
    b.set(tmp);
  }
  const shift = spacing[2] * (nz - 1);
  const newOrigin: Vec3 = [origin[0] + direction[6] * shift, origin[1] + direction[7] * shift, origin[2] + direction[8] * shift];
  const newDirection = [...direction];
  newDirection[6] = -direction[6] + 0;
  newDirection[7] = -direction[7] + 0;
  newDirection[8] = -direction[8] + 0;
  return { origin: newOrigin, direction: newDirection, flipped: true };
}
