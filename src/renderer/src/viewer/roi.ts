/**
 * Density in a circle drawn on a slice: how a reader checks what a finding measures in HU (fresh
 * blood 50-80, an infarct below the brain's 25-40) without trusting a single voxel under the cursor.
 */
import type { Axis, Vec3 } from './geometry';

export interface RoiStats {
  /** Mean and sample standard deviation of the voxel values inside the circle. */
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** Voxels whose centres lie inside the circle. */
  voxels: number;
  /** The drawn circle's area, π r² (mm²). */
  areaMm2: number;
}

/**
 * Statistics of the voxels of slice `slice` along `normal` whose centres lie within `radiusMm` of
 * `centre` in the slice plane (grid-world mm: voxel index times spacing). Null when the circle
 * holds no voxel centre (smaller than a voxel, or off the volume).
 */
export function circleStats(data: ArrayLike<number>, dims: Vec3, spacing: Vec3, normal: Axis, slice: number, centre: Vec3, radiusMm: number): RoiStats | null {
  const [u, v] = ([0, 1, 2] as Axis[]).filter((a) => a !== normal);
  const stride: Vec3 = [1, dims[0], dims[0] * dims[1]];
  const range = (axis: Axis): [number, number] => [Math.max(0, Math.ceil((centre[axis] - radiusMm) / spacing[axis])), Math.min(dims[axis] - 1, Math.floor((centre[axis] + radiusMm) / spacing[axis]))];
  const [u0, u1] = range(u);
  const [v0, v1] = range(v);
  const base = slice * stride[normal];
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let b = v0; b <= v1; b++) {
    const dv = b * spacing[v] - centre[v];
    for (let a = u0; a <= u1; a++) {
      const du = a * spacing[u] - centre[u];
      if (du * du + dv * dv > radiusMm * radiusMm) continue;
      const value = data[base + a * stride[u] + b * stride[v]];
      n++;
      sum += value;
      sumSq += value * value;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  if (n === 0) return null;
  const mean = sum / n;
  const sd = n > 1 ? Math.sqrt(Math.max(0, (sumSq - n * mean * mean) / (n - 1))) : 0;
  return { mean, sd, min, max, voxels: n, areaMm2: Math.PI * radiusMm * radiusMm };
}

/** "72.1 ± 4.9 HU (60 to 85) · 2.01 cm²", as the viewer labels the circle. */
export function describeRoi(s: RoiStats, unit: string): string {
  const area = s.areaMm2 >= 100 ? `${(s.areaMm2 / 100).toFixed(2)} cm²` : `${s.areaMm2.toFixed(1)} mm²`;
  const value = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  return `${s.mean.toFixed(1)} ± ${s.sd.toFixed(1)}${unit ? ` ${unit}` : ''} (${value(s.min)} to ${value(s.max)}) · ${area}`;
}
