/**
 * 3D connected components of a binary mask on an x-fastest grid.
 * 6-connectivity joins voxels sharing a face; 26-connectivity also joins voxels sharing an
 * edge or a corner (a lesion running diagonally across slices stays one lesion).
 */
import type { Vec3 } from '../volume';

export type Connectivity = 6 | 26;

/** Neighbour displacements (di, dj, dk) of the connectivity, each unordered pair once per sign. */
export function neighbourSteps(connectivity: Connectivity): Int8Array {
  const steps: number[] = [];
  for (let dk = -1; dk <= 1; dk++)
    for (let dj = -1; dj <= 1; dj++)
      for (let di = -1; di <= 1; di++) {
        const manhattan = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (manhattan === 0 || (connectivity === 6 && manhattan > 1)) continue;
        steps.push(di, dj, dk);
      }
  return Int8Array.from(steps);
}

export function checkConnectivity(c: number): Connectivity {
  if (c !== 6 && c !== 26) throw new RangeError(`Connectivity must be 6 or 26, got ${c}`);
  return c;
}

export interface ComponentLabels {
  /** 0 = background, 1..count = component, in order of first voxel (x fastest). */
  labels: Int32Array;
  count: number;
  /** Voxels per label; sizes[0] is unused (0). */
  sizes: Int32Array;
}

/** Labels the connected components of `mask > 0`. */
export function labelComponents(mask: ArrayLike<number>, dims: Vec3, connectivity: Connectivity = 26, out?: Int32Array): ComponentLabels {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  const n = plane * nz;
  if (mask.length !== n) throw new RangeError(`labelComponents: mask has ${mask.length} voxels for dims ${dims.join('x')}`);
  const labels = out ?? new Int32Array(n);
  if (labels.length !== n) throw new RangeError('labelComponents: label buffer has the wrong size');
  labels.fill(0);
  const steps = neighbourSteps(checkConnectivity(connectivity));
  const stepCount = steps.length / 3;
  const sizes: number[] = [0];
  let stack = new Int32Array(1024);
  let count = 0;
  for (let seed = 0; seed < n; seed++) {
    if (!(mask[seed] > 0) || labels[seed] !== 0) continue;
    const label = ++count;
    labels[seed] = label;
    let top = 0;
    stack[top++] = seed;
    let size = 0;
    while (top > 0) {
      const v = stack[--top];
      size++;
      const k = (v / plane) | 0;
      const rem = v - k * plane;
      const j = (rem / nx) | 0;
      const i = rem - j * nx;
      for (let s = 0; s < stepCount; s++) {
        const ii = i + steps[3 * s];
        const jj = j + steps[3 * s + 1];
        const kk = k + steps[3 * s + 2];
        if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
        const q = ii + jj * nx + kk * plane;
        if (labels[q] !== 0 || !(mask[q] > 0)) continue;
        labels[q] = label;
        if (top === stack.length) {
          const grown = new Int32Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[top++] = q;
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes: Int32Array.from(sizes) };
}
