/**
 * CT image noise: Gaussian, spatially correlated (a grain of a few tenths of a millimetre, like
 * filtered back-projection), independent per slice and per acquisition.
 */
import { streamSeed } from './random';

/** Adds noise of standard deviation sdHu and grain sigma grainMm to one slice in place. */
export function addCorrelatedNoise(slice: Float32Array, nx: number, ny: number, pixelMm: number, sdHu: number, grainMm: number, seed: number, scratch?: { a: Float32Array; b: Float32Array }): void {
  const n = nx * ny;
  const a = scratch?.a ?? new Float32Array(n);
  const b = scratch?.b ?? new Float32Array(n);
  // Uniform white noise: the blur below sums dozens of samples per pixel, so its output is
  // Gaussian to within a few percent (central limit) at a quarter of the cost of Box-Muller.
  let x = seed >>> 0 || 0x9e3779b9;
  const scale = 3.4641016 / 4294967296; // unit variance: uniform on [-sqrt(3), sqrt(3)]
  for (let p = 0; p < n; p++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[p] = (x >>> 0) * scale - 1.7320508;
  }
  const sigmaPx = grainMm / pixelMm;
  const kernel = gaussianKernel(sigmaPx);
  let energy = 0;
  for (const k of kernel) energy += k * k;
  const gain = sdHu / energy; // separable: variance of the 2D result is energy^2
  const r = (kernel.length - 1) >> 1;
  // Rows a -> b, then columns b -> slice (added); mirrored borders only near the edges.
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    for (let i = 0; i < nx; i++) {
      let acc = 0;
      if (i >= r && i < nx - r) {
        const base = row + i - r;
        for (let t = 0; t < kernel.length; t++) acc += kernel[t] * a[base + t];
      } else {
        for (let t = -r; t <= r; t++) {
          let ii = i + t;
          ii = ii < 0 ? -ii : ii >= nx ? 2 * nx - 2 - ii : ii;
          acc += kernel[t + r] * a[row + ii];
        }
      }
      b[row + i] = acc;
    }
  }
  for (let j = 0; j < ny; j++) {
    const interior = j >= r && j < ny - r;
    for (let i = 0; i < nx; i++) {
      let acc = 0;
      if (interior) {
        let q = (j - r) * nx + i;
        for (let t = 0; t < kernel.length; t++, q += nx) acc += kernel[t] * b[q];
      } else {
        for (let t = -r; t <= r; t++) {
          let jj = j + t;
          jj = jj < 0 ? -jj : jj >= ny ? 2 * ny - 2 - jj : jj;
          acc += kernel[t + r] * b[jj * nx + i];
        }
      }
      slice[j * nx + i] += gain * acc;
    }
  }
}

function gaussianKernel(sigma: number): Float32Array {
  if (sigma < 0.35) return new Float32Array([1]);
  const r = Math.max(1, Math.ceil(2.5 * sigma));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) {
    k[t + r] = Math.exp(-(t * t) / (2 * sigma * sigma));
    sum += k[t + r];
  }
  for (let t = 0; t < k.length; t++) k[t] /= sum;
  return k;
}

export function sliceNoiseSeed(seed: number, acquisition: number, k: number): number {
  return streamSeed(seed, `noise:${acquisition}:${k}`);
}
