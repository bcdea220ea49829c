/**
 * Local structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004) on 2D slices.
 *
 * Shared by the anomaly score (structural dissimilarity between an image and its healthy
 * reconstruction) and by the inpainting-quality metric, so both use exactly the same numbers.
 *
 * Border handling: the window is truncated at the image border and its weights renormalised
 * to sum to 1 (instead of the reference implementation's 'valid' crop), so every pixel,
 * including pixels of a region near the border, gets an SSIM value. Away from the border
 * (more than the window radius) the values equal the reference implementation's.
 */

export type SsimWindow = { kind: 'gaussian'; sigmaPx: number; radiusPx: number } | { kind: 'box'; radiusPx: number };

/** The window of Wang et al.: 11x11 Gaussian, sigma 1.5 px. */
export const WANG_SSIM_WINDOW: Readonly<SsimWindow> = Object.freeze({ kind: 'gaussian', sigmaPx: 1.5, radiusPx: 5 });

export interface SsimOptions {
  window?: SsimWindow;
  /** Dynamic range L of the values (1 for windowed [0, 1] images, 255 for 0-255). Default 1. */
  dataRange?: number;
  /** Stabilising constants, C1 = (k1 L)^2 and C2 = (k2 L)^2; Wang et al.'s 0.01 and 0.03 by default. */
  k1?: number;
  k2?: number;
}

/** Normalised 1D kernel (length 2r+1) of the window. */
export function windowKernel(window: SsimWindow): Float64Array {
  const r = Math.round(window.radiusPx);
  if (!(r >= 0)) throw new RangeError(`SSIM window radius must be >= 0, got ${window.radiusPx}`);
  const kernel = new Float64Array(2 * r + 1);
  if (window.kind === 'gaussian' && !(window.sigmaPx > 0)) throw new RangeError(`SSIM Gaussian sigma must be > 0, got ${window.sigmaPx}`);
  for (let t = -r; t <= r; t++) kernel[t + r] = window.kind === 'box' ? 1 : Math.exp(-(t * t) / (2 * window.sigmaPx * window.sigmaPx));
  let sum = 0;
  for (const w of kernel) sum += w;
  for (let t = 0; t < kernel.length; t++) kernel[t] /= sum;
  return kernel;
}

/**
 * Separable weighted local mean with the window truncated and renormalised at the borders.
 * Renormalising each 1D pass separately equals renormalising the 2D window, because the 2D
 * window is the outer product of the 1D kernel.
 */
export function localMean2d(src: ArrayLike<number>, width: number, height: number, kernel: Float64Array, out: Float64Array, scratch: Float64Array): void {
  const r = (kernel.length - 1) >> 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const lo = x - r < 0 ? r - x : 0;
      const hi = x + r >= width ? r + (width - 1 - x) : 2 * r;
      let acc = 0;
      let norm = 0;
      for (let t = lo; t <= hi; t++) {
        const w = kernel[t];
        acc += w * src[row + x - r + t];
        norm += w;
      }
      scratch[row + x] = acc / norm;
    }
  }
  for (let y = 0; y < height; y++) {
    const lo = y - r < 0 ? r - y : 0;
    const hi = y + r >= height ? r + (height - 1 - y) : 2 * r;
    let norm = 0;
    for (let t = lo; t <= hi; t++) norm += kernel[t];
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = lo; t <= hi; t++) acc += kernel[t] * scratch[(y - r + t) * width + x];
      out[row + x] = acc / norm;
    }
  }
}

/** Scratch buffers for one slice, reusable across slices of the same size. */
export class SsimScratch {
  readonly muA: Float64Array;
  readonly muB: Float64Array;
  readonly aa: Float64Array;
  readonly bb: Float64Array;
  readonly ab: Float64Array;
  readonly product: Float64Array;
  readonly pass: Float64Array;
  constructor(readonly pixels: number) {
    this.muA = new Float64Array(pixels);
    this.muB = new Float64Array(pixels);
    this.aa = new Float64Array(pixels);
    this.bb = new Float64Array(pixels);
    this.ab = new Float64Array(pixels);
    this.product = new Float64Array(pixels);
    this.pass = new Float64Array(pixels);
  }
}

/**
 * Per-pixel SSIM of slice `b` against slice `a` (x fastest, width x height), written to `out`.
 * `offset` selects the slice inside larger stacks (a, b and out share it).
 */
export function ssimMap2d(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  width: number,
  height: number,
  options: SsimOptions = {},
  out: Float32Array = new Float32Array(width * height),
  offset = 0,
  scratch: SsimScratch = new SsimScratch(width * height),
): Float32Array {
  const n = width * height;
  if (scratch.pixels !== n) throw new RangeError('SSIM scratch size does not match the slice');
  const kernel = windowKernel(options.window ?? WANG_SSIM_WINDOW);
  const range = options.dataRange ?? 1;
  const c1 = ((options.k1 ?? 0.01) * range) ** 2;
  const c2 = ((options.k2 ?? 0.03) * range) ** 2;
  const { muA, muB, aa, bb, ab, product, pass } = scratch;
  const sliceA = offset === 0 && a.length === n ? a : view(a, offset, n);
  const sliceB = offset === 0 && b.length === n ? b : view(b, offset, n);
  localMean2d(sliceA, width, height, kernel, muA, pass);
  localMean2d(sliceB, width, height, kernel, muB, pass);
  for (let p = 0; p < n; p++) product[p] = sliceA[p] * sliceA[p];
  localMean2d(product, width, height, kernel, aa, pass);
  for (let p = 0; p < n; p++) product[p] = sliceB[p] * sliceB[p];
  localMean2d(product, width, height, kernel, bb, pass);
  for (let p = 0; p < n; p++) product[p] = sliceA[p] * sliceB[p];
  localMean2d(product, width, height, kernel, ab, pass);
  for (let p = 0; p < n; p++) {
    const ma = muA[p];
    const mb = muB[p];
    // E[x^2] - mu^2 can come out a hair below zero in floating point on flat patches.
    const va = Math.max(0, aa[p] - ma * ma);
    const vb = Math.max(0, bb[p] - mb * mb);
    const cov = ab[p] - ma * mb;
    out[offset + p] = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  }
  return out;
}

function view(values: ArrayLike<number>, offset: number, n: number): ArrayLike<number> {
  if (ArrayBuffer.isView(values)) return (values as unknown as Float32Array).subarray(offset, offset + n);
  return Array.prototype.slice.call(values, offset, offset + n) as number[];
}
