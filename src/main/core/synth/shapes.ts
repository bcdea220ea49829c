/**
 * Signed-distance shapes and the partial-volume rule of the phantom.
 *
 * Every structure is a signed distance d (mm, negative inside) plus nz, the superior component
 * of its unit normal. A CT voxel is a thick slab (5 mm) seen through a small in-plane blur, so
 * the fraction of a voxel a structure fills is the average over the slab of an in-plane ramp:
 * with d varying linearly across the slab (d +- h, h = |nz| T / 2) that average has a closed
 * form. Oblique surfaces (the skull at the vertex, the tentorium, ventricle roofs) therefore
 * blur across several pixels exactly as they do on a real scanner, without supersampling.
 */

/** Integral from d to +inf of the in-plane ramp clamp(0.5 - u / w, 0, 1). */
function rampTail(d: number, w: number): number {
  const hw = 0.5 * w;
  if (d >= hw) return 0;
  if (d <= -hw) return -d;
  const t = w - 2 * d;
  return (t * t) / (8 * w);
}

/**
 * Fraction (0..1) of a voxel inside a shape whose signed distance at the slab centre is d and
 * changes by +-h across the slab; w is the in-plane edge width (mm).
 */
export function slabFraction(d: number, h: number, w: number): number {
  if (h < 0.02 * w) {
    const r = 0.5 - d / w;
    return r <= 0 ? 0 : r >= 1 ? 1 : r;
  }
  if (d - h >= 0.5 * w) return 0;
  if (d + h <= -0.5 * w) return 1;
  return (rampTail(d - h, w) - rampTail(d + h, w)) / (2 * h);
}

/** Same as slabFraction for d varying linearly from a (slab bottom) to b (slab top). */
export function segmentFraction(a: number, b: number, w: number): number {
  return slabFraction(0.5 * (a + b), 0.5 * Math.abs(b - a), w);
}

/** In-plane ramp only (no through-plane spread). */
export function ramp(d: number, w: number): number {
  const r = 0.5 - d / w;
  return r <= 0 ? 0 : r >= 1 ? 1 : r;
}

export function smoothstep(e0: number, e1: number, x: number): number {
  let t = (x - e0) / (e1 - e0);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return t * t * (3 - 2 * t);
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

/** Result slot for shape evaluations (avoids allocating in hot loops). */
export interface DistanceSample {
  d: number;
  nz: number;
}

/**
 * Approximate signed distance to an axis-aligned ellipsoid (exact on the surface to first
 * order, good within a few mm of it, which is all the partial-volume rule needs).
 */
export function ellipsoidDistance(px: number, py: number, pz: number, rx: number, ry: number, rz: number, out: DistanceSample): void {
  const ax = px / rx;
  const ay = py / ry;
  const az = pz / rz;
  const k0 = Math.sqrt(ax * ax + ay * ay + az * az);
  const bx = ax / rx;
  const by = ay / ry;
  const bz = az / rz;
  const k1 = Math.sqrt(bx * bx + by * by + bz * bz);
  if (k1 < 1e-9) {
    out.d = -Math.min(rx, ry, rz);
    out.nz = 0;
    return;
  }
  out.d = (k0 * (k0 - 1)) / k1;
  out.nz = bz / k1;
}

/** A tube along a polyline with a radius per vertex (linearly interpolated). */
export interface Tube {
  /** x, y, z of each vertex, flattened. */
  points: Float64Array;
  radii: Float64Array;
  /** Cross-section squash: distances along z are multiplied by this (> 1 makes the tube flatter). */
  zSquash: number;
}

export function makeTube(vertices: ReadonlyArray<readonly [number, number, number, number]>, zSquash = 1): Tube {
  const points = new Float64Array(vertices.length * 3);
  const radii = new Float64Array(vertices.length);
  vertices.forEach(([x, y, z, r], i) => {
    points[3 * i] = x;
    points[3 * i + 1] = y;
    points[3 * i + 2] = z;
    radii[i] = r;
  });
  return { points, radii, zSquash };
}

/** Signed distance to a tube (smooth union of its segment cones, approximated by the nearest segment). */
export function tubeDistance(tube: Tube, point: Float64Array, out: DistanceSample): void {
  const px = point[0];
  const py = point[1];
  const pz = point[2];
  const P = tube.points;
  const R = tube.radii;
  const sq = tube.zSquash;
  let best = Infinity;
  let bestNz = 0;
  const n = R.length;
  for (let s = 0; s + 1 < n; s++) {
    const ax = P[3 * s];
    const ay = P[3 * s + 1];
    const az = P[3 * s + 2] * sq;
    const bx = P[3 * s + 3] - ax;
    const by = P[3 * s + 4] - ay;
    const bz = P[3 * s + 5] * sq - az;
    const qx = px - ax;
    const qy = py - ay;
    const qz = pz * sq - az;
    const len2 = bx * bx + by * by + bz * bz;
    let t = len2 > 0 ? (qx * bx + qy * by + qz * bz) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = qx - t * bx;
    const dy = qy - t * by;
    const dz = qz - t * bz;
    const dist = Math.sqrt(dx * dx + dy * dy + dz * dz);
    const d = dist - (R[s] + t * (R[s + 1] - R[s]));
    if (d < best) {
      best = d;
      bestNz = dist > 1e-9 ? (dz * sq) / dist : 0;
    }
  }
  out.d = best;
  out.nz = bestNz > 1 ? 1 : bestNz < -1 ? -1 : bestNz;
}

/** Axis-aligned bounds of a tube including its radii. */
export function tubeBounds(tube: Tube): [number, number, number, number, number, number] {
  const b: [number, number, number, number, number, number] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (let i = 0; i < tube.radii.length; i++) {
    const r = tube.radii[i];
    for (let a = 0; a < 3; a++) {
      const v = tube.points[3 * i + a];
      const ra = a === 2 ? r / tube.zSquash : r;
      if (v - ra < b[a]) b[a] = v - ra;
      if (v + ra > b[a + 3]) b[a + 3] = v + ra;
    }
  }
  return b;
}
