/**
 * CT image noise: Gaussian, spatially correlated (a grain of a few tenths of a millimetre, like
 * filtered back-projection), different in every slice and every acquisition.
 *
 * Blurring white noise for each of 36 slices is a noticeable share of the generation time, so a
 * case draws its slices from a small bank of periodic correlated fields, each slice taking one
 * field at its own random circular shift and flips: statistically the same noise, seamless
 * (the fields wrap around), and uncorrelated between slices.
 */
import { Rng, streamSeed } from './random';

/** A periodic field of unit-variance correlated Gaussian noise (Gaussian grain, sigma in pixels). */
export function correlatedField(nx: number, ny: number, sigmaPx: number, seed: number): Float32Array {
  const n = nx * ny;
  const a = new Float32Array(n);
  // Uniform white noise: the blur sums many samples per pixel, so its output is Gaussian to
  // within a few percent (central limit) at a fraction of the cost of Box-Muller.
  let x = seed >>> 0 || 0x9e3779b9;
  const scale = 3.4641016 / 4294967296; // unit variance: uniform on [-sqrt(3), sqrt(3)]
  for (let p = 0; p < n; p++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[p] = (x >>> 0) * scale - 1.7320508;
  }
  const kernel = gaussianKernel(sigmaPx);
  let energy = 0;
  for (const k of kernel) energy += k * k;
  const r = (kernel.length - 1) >> 1;
  const b = new Float32Array(n);
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    for (let i = 0; i < nx; i++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) {
        let ii = i + t;
        ii = ii < 0 ? ii + nx : ii >= nx ? ii - nx : ii;
        acc += kernel[t + r] * a[row + ii];
      }
      b[row + i] = acc;
    }
  }
  const gain = 1 / energy; // separable: the 2D variance is energy^2
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) {
        let jj = j + t;
        jj = jj < 0 ? jj + ny : jj >= ny ? jj - ny : jj;
        acc += kernel[t + r] * b[jj * nx + i];
      }
      a[j * nx + i] = gain * acc;
    }
  }
  return a;
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

export class NoiseBank {
  private readonly fields: Float32Array[];

  constructor(
    private readonly nx: number,
    private readonly ny: number,
    pixelMm: number,
    grainMm: number,
    seed: number,
    size = 6,
  ) {
    this.fields = Array.from({ length: size }, (_, i) => correlatedField(nx, ny, grainMm / pixelMm, streamSeed(seed, `noise-bank:${i}`)));
  }

  /** Adds noise of standard deviation sdHu to a slice; `seed` picks the field, shift and flips. */
  add(slice: Float32Array, sdHu: number, seed: number): void {
    const { nx, ny } = this;
    const rng = new Rng(seed);
    const f = this.fields[rng.int(0, this.fields.length - 1)];
    const dx = rng.int(0, nx - 1);
    const dy = rng.int(0, ny - 1);
    const flipX = rng.bool();
    const flipY = rng.bool();
    for (let j = 0; j < ny; j++) {
      const sj = (flipY ? ny - 1 - j : j) + dy;
      const row = (sj >= ny ? sj - ny : sj) * nx;
      const out = j * nx;
      for (let i = 0; i < nx; i++) {
        const si = (flipX ? nx - 1 - i : i) + dx;
        slice[out + i] += sdHu * f[row + (si >= nx ? si - nx : si)];
      }
    }
  }
}

export function sliceNoiseSeed(seed: number, acquisition: number, k: number): number {
  return streamSeed(seed, `noise:${acquisition}:${k}`);
}
