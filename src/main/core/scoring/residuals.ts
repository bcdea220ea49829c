/**
 * Residuals between the original windowed slices and their healthy reconstructions, on the
 * model's 256x256 stacks (depth slices, x fastest, slice k = native slice k).
 *
 * Every score is "larger = more abnormal". The sign of the difference is kept separately
 * (original - reconstruction: positive where the scan is brighter than the healthy estimate,
 * i.e. hyperdense such as blood; negative where it is darker, i.e. hypodense such as infarct
 * or oedema), so lesions carry a hyper/hypo sign whatever metric scored them.
 */
import { AppError } from '../../../shared/errors';
import { throwIfAborted, type TaskOptions } from '../progress';
import { SsimScratch, ssimMap2d, type SsimOptions } from './ssim';

export interface StackShape {
  width: number;
  height: number;
  depth: number;
}

/**
 * - 'absolute': |original - reconstruction|.
 * - 'squared': (original - reconstruction)^2.
 * - 'signed': original - reconstruction (not an anomaly score by itself: negative values are anomalies too).
 * - 'ssim': local structural dissimilarity (1 - SSIM) / 2 in [0, 1], per slice with a small window.
 */
export type ResidualMetric = 'absolute' | 'squared' | 'signed' | 'ssim';

export const RESIDUAL_METRICS: readonly ResidualMetric[] = Object.freeze(['absolute', 'squared', 'signed', 'ssim']);

/** The default structural window for scoring: small, so a lesion a few pixels wide stands out. */
export const SCORE_SSIM_OPTIONS: Readonly<SsimOptions> = Object.freeze({ window: Object.freeze({ kind: 'gaussian', sigmaPx: 1.5, radiusPx: 3 }), dataRange: 1 });

export interface ResidualOptions extends TaskOptions {
  ssim?: SsimOptions;
  /** Only pixels with region > 0 are scored; others get 0 (e.g. the pixels a grid actually inpainted). */
  region?: ArrayLike<number> | null;
  out?: Float32Array;
}

function checkShape(name: string, values: ArrayLike<number>, shape: StackShape): void {
  const expected = shape.width * shape.height * shape.depth;
  if (values.length !== expected) {
    throw new AppError('GEOMETRY_MISMATCH', `The ${name} holds ${values.length} values; ${shape.depth} slices of ${shape.width}x${shape.height} were expected.`);
  }
}

/** One residual map of `reconstruction` against `original` (both windowed, same stack shape). */
export function residualMap(original: ArrayLike<number>, reconstruction: ArrayLike<number>, shape: StackShape, metric: ResidualMetric, options: ResidualOptions = {}): Float32Array {
  checkShape('original image', original, shape);
  checkShape('reconstruction', reconstruction, shape);
  const region = options.region ?? null;
  if (region) checkShape('scoring region', region, shape);
  const n = original.length;
  const out = options.out ?? new Float32Array(n);
  if (out.length !== n) throw new RangeError('residualMap: output buffer has the wrong size');
  if (metric === 'ssim') {
    const plane = shape.width * shape.height;
    const scratch = new SsimScratch(plane);
    for (let k = 0; k < shape.depth; k++) {
      throwIfAborted(options.signal);
      ssimMap2d(original, reconstruction, shape.width, shape.height, options.ssim ?? SCORE_SSIM_OPTIONS, out, k * plane, scratch);
      for (let p = k * plane; p < (k + 1) * plane; p++) out[p] = (1 - out[p]) / 2;
      options.onProgress?.({ stage: 'score-ssim', done: k + 1, total: shape.depth });
    }
  } else {
    for (let p = 0; p < n; p++) {
      const d = original[p] - reconstruction[p];
      out[p] = metric === 'absolute' ? Math.abs(d) : metric === 'squared' ? d * d : d;
    }
  }
  if (region) for (let p = 0; p < n; p++) if (!(region[p] > 0)) out[p] = 0;
  return out;
}

/** original - reconstruction: positive = hyperdense (brighter than healthy), negative = hypodense. */
export function signedResidual(original: ArrayLike<number>, reconstruction: ArrayLike<number>, shape: StackShape, region?: ArrayLike<number> | null): Float32Array {
  return residualMap(original, reconstruction, shape, 'signed', { region });
}

/** A healthy estimate of the whole stack from one grid (square size and offset) or one scale. */
export interface ScaleReconstruction {
  /** Square size in pixels on the 256 grid (8, 16, 32, 64 in the method). */
  sizePx: number;
  /** Grid offset in pixels; null when the reconstruction already combines the offsets of this size. */
  offsetPx?: number | null;
  healthy: ArrayLike<number>;
  /** 1 where this grid inpainted the pixel; elsewhere the reconstruction is the original and scores 0. */
  covered?: ArrayLike<number> | null;
}

export interface ScaleScore {
  sizePx: number;
  offsetPx: number | null;
  metric: ResidualMetric;
  /** Anomaly score, larger = more abnormal. */
  score: Float32Array;
  /** original - reconstruction at every pixel, the sign source for fusion. */
  signed: Float32Array;
}

/**
 * Scores every reconstruction (one per scale, or per scale and offset) against the original.
 * 'signed' is not an anomaly score on its own; ask for 'absolute' to rank by signed magnitude.
 */
export function scoreScales(original: ArrayLike<number>, reconstructions: readonly ScaleReconstruction[], shape: StackShape, metric: Exclude<ResidualMetric, 'signed'>, options: TaskOptions & { ssim?: SsimOptions } = {}): ScaleScore[] {
  if (reconstructions.length === 0) throw new AppError('BAD_REQUEST', 'No reconstructions to score: the inpainting produced no healthy estimate.');
  return reconstructions.map((rec, index) => {
    throwIfAborted(options.signal);
    const region = rec.covered ?? null;
    const score = residualMap(original, rec.healthy, shape, metric, { ssim: options.ssim, region, signal: options.signal });
    const signed = signedResidual(original, rec.healthy, shape, region);
    options.onProgress?.({ stage: 'score-scales', done: index + 1, total: reconstructions.length });
    return { sizePx: rec.sizePx, offsetPx: rec.offsetPx ?? null, metric, score, signed };
  });
}
