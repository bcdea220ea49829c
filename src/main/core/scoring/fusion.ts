/**
 * Fusion of the per-scale (and per-offset) score maps into one anomaly map, and restriction
 * of a map to the brain.
 */
import { AppError } from '../../../shared/errors';
import type { Vec3 } from '../volume';
import { erodeMask, type BorderErosion } from './distance';
import type { ScaleScore } from './residuals';

/**
 * - 'max': the most abnormal scale wins (sensitive: any square size that finds the lesion flags it).
 * - 'mean': plain average over the maps.
 * - 'weighted': weighted average with the given non-negative weights (normalised by their sum).
 */
export type FusionMethod = 'max' | 'mean' | 'weighted';

export const FUSION_METHODS: readonly FusionMethod[] = Object.freeze(['max', 'mean', 'weighted']);

export interface FusionOptions {
  method: FusionMethod;
  /** One weight per map, for 'weighted'. */
  weights?: readonly number[];
}

function normalisedWeights(count: number, options: FusionOptions): Float64Array {
  const w = new Float64Array(count);
  if (options.method !== 'weighted') {
    w.fill(1 / count);
    return w;
  }
  const given = options.weights;
  if (!given || given.length !== count) throw new AppError('BAD_REQUEST', `Weighted fusion needs one weight per scale map: ${count} maps, ${given?.length ?? 0} weights.`);
  let sum = 0;
  for (let t = 0; t < count; t++) {
    if (!(given[t] >= 0) || !Number.isFinite(given[t])) throw new AppError('BAD_REQUEST', `Fusion weights must be finite and not negative; weight ${t + 1} is ${given[t]}.`);
    sum += given[t];
  }
  if (!(sum > 0)) throw new AppError('BAD_REQUEST', 'At least one fusion weight must be above zero.');
  for (let t = 0; t < count; t++) w[t] = given[t] / sum;
  return w;
}

function checkMaps(maps: readonly ArrayLike<number>[]): number {
  if (maps.length === 0) throw new AppError('BAD_REQUEST', 'There are no score maps to fuse.');
  const n = maps[0].length;
  for (const m of maps) if (m.length !== n) throw new AppError('GEOMETRY_MISMATCH', 'The score maps to fuse have different sizes.');
  return n;
}

/** One fused score map from several maps of the same grid. */
export function fuseScores(maps: readonly ArrayLike<number>[], options: FusionOptions): Float32Array {
  const n = checkMaps(maps);
  const out = new Float32Array(n);
  if (options.method === 'max') {
    out.set(maps[0] as ArrayLike<number>);
    for (let t = 1; t < maps.length; t++) {
      const m = maps[t];
      for (let p = 0; p < n; p++) if (m[p] > out[p]) out[p] = m[p];
    }
    return out;
  }
  const w = normalisedWeights(maps.length, options);
  const acc = new Float64Array(n);
  for (let t = 0; t < maps.length; t++) {
    const m = maps[t];
    const wt = w[t];
    if (wt === 0) continue;
    for (let p = 0; p < n; p++) acc[p] += wt * m[p];
  }
  out.set(acc);
  return out;
}

/**
 * The signed residual that goes with a fused score, so the sign agrees with what the score saw:
 * for 'max', the signed residual of the scale that gave the maximum score; otherwise the same
 * weighted average as the scores.
 */
export function fuseSignedResiduals(signedMaps: readonly ArrayLike<number>[], scoreMaps: readonly ArrayLike<number>[], options: FusionOptions): Float32Array {
  const n = checkMaps(signedMaps);
  if (scoreMaps.length !== signedMaps.length || checkMaps(scoreMaps) !== n) throw new AppError('GEOMETRY_MISMATCH', 'Each signed residual map needs its score map, of the same size.');
  if (options.method !== 'max') return fuseScores(signedMaps, options);
  const out = new Float32Array(n);
  const best = new Float32Array(n);
  best.set(scoreMaps[0] as ArrayLike<number>);
  out.set(signedMaps[0] as ArrayLike<number>);
  for (let t = 1; t < scoreMaps.length; t++) {
    const s = scoreMaps[t];
    const r = signedMaps[t];
    for (let p = 0; p < n; p++) {
      if (s[p] > best[p]) {
        best[p] = s[p];
        out[p] = r[p];
      }
    }
  }
  return out;
}

export interface FusedScore {
  score: Float32Array;
  signed: Float32Array;
  method: FusionMethod;
  /** The scales in the order of `weights` (for provenance). */
  scales: { sizePx: number; offsetPx: number | null }[];
  weights: number[] | null;
}

/** Fuses the output of `scoreScales`. Weights, for 'weighted', follow the order of `scales`. */
export function fuseScaleScores(scales: readonly ScaleScore[], options: FusionOptions): FusedScore {
  const score = fuseScores(scales.map((s) => s.score), options);
  const signed = fuseSignedResiduals(
    scales.map((s) => s.signed),
    scales.map((s) => s.score),
    options,
  );
  return {
    score,
    signed,
    method: options.method,
    scales: scales.map((s) => ({ sizePx: s.sizePx, offsetPx: s.offsetPx })),
    weights: options.method === 'weighted' ? [...normalisedWeights(scales.length, options)] : null,
  };
}

/** `values` with everything outside `region` set to `fill` (a new array). */
export function restrictToRegion(values: ArrayLike<number>, region: ArrayLike<number>, fill = 0): Float32Array {
  if (values.length !== region.length) throw new AppError('GEOMETRY_MISMATCH', 'The map and the brain mask are on different grids.');
  const out = new Float32Array(values.length);
  for (let p = 0; p < values.length; p++) out[p] = region[p] > 0 ? values[p] : fill;
  return out;
}

/**
 * The score restricted to the brain mask, optionally with the brain border eroded first.
 * Works on any grid: the 256 stacks (spacing = output pixel spacing) or the native volume.
 */
export function restrictToBrain(score: ArrayLike<number>, brainMask: ArrayLike<number>, grid: { dims: Vec3; spacing: Vec3 }, erosion?: BorderErosion | null): { score: Float32Array; region: Uint8Array } {
  if (brainMask.length !== grid.dims[0] * grid.dims[1] * grid.dims[2]) throw new AppError('GEOMETRY_MISMATCH', 'The brain mask does not match the grid of the score map.');
  const region = erodeMask(brainMask, grid.dims, grid.spacing, erosion);
  return { score: restrictToRegion(score, region), region };
}
