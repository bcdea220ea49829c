/**
 * Thresholding strategies for anomaly scores, and the healthy reference distribution the
 * z-score strategy compares against.
 *
 * The healthy reference is stored in the inpainting model's manifest (`healthyReference`), one
 * entry per metric and fusion (`HealthyReferenceSet.metrics["ssim/max"]`), because scores
 * depend on the model: the same threshold means different things for different models.
 */
import { z } from 'zod';
import { AppError } from '../../../shared/errors';
import type { BorderErosion } from './distance';

// ---------------------------------------------------------------------------------------------
// Healthy reference

/**
 * z values whose healthy quantiles the table stores exactly: every quarter from 1 to 4.5, so the
 * default cut (z 3.25), its support (z 2.75) and the threshold panel's quarter stops read a
 * measured quantile rather than an interpolation. Between the older, round probabilities alone, z 3 fell
 * between p 0.9975 and 0.999 and z 3.5 between 0.9995 and 0.9999, where the heavy healthy tail
 * bends: read linearly in p, the shipped reference put z 3 2% and z 3.5 10% above the quantile
 * it stood for (docs/benchmarks.md, "A healthy reference from eight subjects").
 */
export const REFERENCE_TABLE_Z: readonly number[] = Object.freeze(Array.from({ length: 15 }, (_, k) => 1 + k / 4));

/** Probabilities of the stored quantile table: dense in the upper tail, where thresholds live. */
export const DEFAULT_REFERENCE_PROBABILITIES: readonly number[] = Object.freeze(
  [
    ...[0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.96, 0.97, 0.975, 0.98, 0.985, 0.99, 0.9925, 0.995, 0.9975, 0.999, 0.9995, 0.9999, 0.99995, 0.99999, 1],
    ...REFERENCE_TABLE_Z.map((z) => normalCdf(z)),
  ].sort((a, b) => a - b),
);

const erosionSchema = z.object({ distance: z.number().nonnegative(), unit: z.enum(['mm', 'px']), mode: z.enum(['2d', '3d']) });

const healthyReferenceSchema = z
  .object({
    metric: z.string().min(1),
    fusion: z.string().min(1),
    /** The brain border erosion the scores were restricted with; thresholds are only comparable under the same erosion. */
    borderErosion: erosionSchema.nullable().default(null),
    /** Voxels at or above this HU were left out (bone, calcification); null: every brain voxel (references calibrated before the limit existed). */
    denseExclusionHu: z.number().nullable().default(null),
    scans: z.number().int().positive(),
    voxels: z.number().int().positive(),
    mean: z.number(),
    std: z.number().nonnegative(),
    /** Empirical quantiles of the pooled healthy brain scores: p ascending in [0, 1], value non-decreasing. */
    quantiles: z
      .object({ p: z.array(z.number().min(0).max(1)).min(2), value: z.array(z.number()).min(2) })
      .refine((q) => q.p.length === q.value.length, { message: 'p and value must have the same length' })
      .refine((q) => q.p.every((x, i) => i === 0 || x > q.p[i - 1]) && q.value.every((x, i) => i === 0 || x >= q.value[i - 1]), { message: 'p must rise and value must not fall' }),
    createdAt: z.string().optional(),
    /** Free text: which healthy data, which preset, which grid. */
    source: z.string().optional(),
  })
  .loose();

export type HealthyReference = z.infer<typeof healthyReferenceSchema>;

/** What a model manifest stores under `healthyReference`: entries keyed by `healthyReferenceKey`. */
export interface HealthyReferenceSet {
  metrics: Record<string, HealthyReference>;
}

export function healthyReferenceKey(metric: string, fusion: string): string {
  return `${metric}/${fusion}`;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validates one stored reference (e.g. read from a manifest). */
export function parseHealthyReference(value: unknown, where = 'healthy reference'): HealthyReference {
  const parsed = healthyReferenceSchema.safeParse(value);
  if (!parsed.success) throw new AppError('MODEL_MANIFEST_INVALID', `The model's ${where} is not valid (${describeIssues(parsed.error)}).`);
  return parsed.data;
}

/** Validates a manifest's `healthyReference` block; absent gives an empty set. */
export function parseHealthyReferenceSet(value: unknown): HealthyReferenceSet {
  if (value === undefined || value === null) return { metrics: {} };
  if (typeof value !== 'object' || Array.isArray(value)) throw new AppError('MODEL_MANIFEST_INVALID', "The model's healthy reference must be an object with a 'metrics' table.");
  const metrics = (value as { metrics?: unknown }).metrics ?? {};
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw new AppError('MODEL_MANIFEST_INVALID', "The model's healthy reference 'metrics' must be a table keyed by metric/fusion.");
  const out: HealthyReferenceSet = { metrics: {} };
  for (const [key, entry] of Object.entries(metrics)) {
    const ref = parseHealthyReference(entry, `healthy reference "${key}"`);
    if (key !== healthyReferenceKey(ref.metric, ref.fusion)) throw new AppError('MODEL_MANIFEST_INVALID', `The model's healthy reference "${key}" describes ${healthyReferenceKey(ref.metric, ref.fusion)}.`);
    out.metrics[key] = ref;
  }
  return out;
}

/** The reference for a metric and fusion, or a clear error naming what is missing. */
export function requireHealthyReference(set: HealthyReferenceSet, metric: string, fusion: string): HealthyReference {
  const ref = set.metrics[healthyReferenceKey(metric, fusion)];
  if (!ref) {
    const have = Object.keys(set.metrics);
    throw new AppError(
      'BAD_REQUEST',
      `The z-score threshold needs healthy statistics for the ${metric} metric with ${fusion} fusion, and this model has ${have.length ? `only ${have.join(', ')}` : 'none'}. Use an absolute or percentile threshold instead.`,
    );
  }
  return ref;
}

/** Quantile of an ascending sorted array at probability q in [0, 1], linear between order statistics (numpy's default). */
export function quantileSorted(ascending: ArrayLike<number>, q: number): number {
  const n = ascending.length;
  if (n === 0) return NaN;
  const pos = Math.min(1, Math.max(0, q)) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return ascending[lo] + (ascending[hi] - ascending[lo]) * (pos - lo);
}

export interface HealthyReferenceOptions {
  metric: string;
  fusion: string;
  /** The erosion already applied to `brainMasks`, recorded so thresholds are used under the same restriction. */
  borderErosion?: BorderErosion | null;
  /** The density limit already applied to `brainMasks`, recorded for the same reason. */
  denseExclusionHu?: number | null;
  probabilities?: readonly number[];
  source?: string;
}

/**
 * Pools the brain scores of healthy scans (score maps on the grid the threshold engine runs on,
 * restricted by `brainMasks`) into mean, standard deviation and an exact quantile table.
 * NaN scores are skipped. Memory: one float32 per brain voxel of all scans together.
 */
export function computeHealthyReference(scoreMaps: readonly ArrayLike<number>[], brainMasks: readonly ArrayLike<number>[], options: HealthyReferenceOptions): HealthyReference {
  if (scoreMaps.length === 0) throw new AppError('BAD_REQUEST', 'A healthy reference needs at least one healthy scan.');
  if (scoreMaps.length !== brainMasks.length) throw new AppError('BAD_REQUEST', `Each healthy score map needs its brain mask: ${scoreMaps.length} maps, ${brainMasks.length} masks.`);
  let total = 0;
  scoreMaps.forEach((map, s) => {
    const mask = brainMasks[s];
    if (map.length !== mask.length) throw new AppError('GEOMETRY_MISMATCH', `Healthy scan ${s + 1}: the score map and the brain mask are on different grids.`);
    for (let p = 0; p < map.length; p++) if (mask[p] > 0 && !Number.isNaN(map[p])) total++;
  });
  if (total === 0) throw new AppError('NO_BRAIN', 'The healthy scans have no brain voxels to build a reference from.');
  const pooled = new Float32Array(total);
  let at = 0;
  let sum = 0;
  scoreMaps.forEach((map, s) => {
    const mask = brainMasks[s];
    for (let p = 0; p < map.length; p++) {
      if (mask[p] > 0 && !Number.isNaN(map[p])) {
        pooled[at++] = map[p];
        sum += map[p];
      }
    }
  });
  const mean = sum / total;
  let squares = 0;
  for (let t = 0; t < total; t++) squares += (pooled[t] - mean) ** 2;
  pooled.sort();
  const probabilities = [...(options.probabilities ?? DEFAULT_REFERENCE_PROBABILITIES)].sort((a, b) => a - b);
  if (probabilities.some((p) => !(p >= 0 && p <= 1))) throw new RangeError('Reference probabilities must lie in [0, 1]');
  return {
    metric: options.metric,
    fusion: options.fusion,
    borderErosion: options.borderErosion && options.borderErosion.distance > 0 ? { ...options.borderErosion } : null,
    denseExclusionHu: options.denseExclusionHu ?? null,
    scans: scoreMaps.length,
    voxels: total,
    mean,
    std: Math.sqrt(squares / total),
    quantiles: { p: probabilities, value: probabilities.map((p) => quantileSorted(pooled, p)) },
    createdAt: new Date().toISOString(),
    ...(options.source ? { source: options.source } : {}),
  };
}

/** Standard normal cumulative distribution, via erfc (fractional error below 1.2e-7 everywhere). */
export function normalCdf(z: number): number {
  return 1 - 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' Chebyshev fit of erfc.
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/** The z whose normalCdf is p (p strictly between 0 and 1), by bisection on normalCdf itself so the two agree to the last bit that matters. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1; got ${p}`);
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 80 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The reference's quantile at probability p: exact at the table's probabilities, and between two
 * of them linear in z (the normal quantile of p), not in p. A z cut is what readers set, and the
 * healthy tail is far closer to linear in z than in p, where it climbs steeply towards 1 (z 3.5
 * read linearly in p between 0.9995 and 0.9999 overshot the measured quantile by 10%). Segments
 * that end at p 0 or 1 (z infinite) stay linear in p.
 */
export function referenceQuantile(ref: HealthyReference, p: number): number {
  const { p: ps, value } = ref.quantiles;
  if (p <= ps[0]) return value[0];
  if (p >= ps[ps.length - 1]) return value[value.length - 1];
  let hi = 1;
  while (ps[hi] < p) hi++;
  const lo = hi - 1;
  if (p === ps[hi]) return value[hi];
  const fraction =
    ps[lo] > 0 && ps[hi] < 1
      ? (normalQuantile(p) - normalQuantile(ps[lo])) / (normalQuantile(ps[hi]) - normalQuantile(ps[lo]))
      : (p - ps[lo]) / (ps[hi] - ps[lo]);
  return value[lo] + (value[hi] - value[lo]) * fraction;
}

// ---------------------------------------------------------------------------------------------
// Strategies

/**
 * - absolute: voxels with score >= value.
 * - percentile: voxels at or above this percentile (0-100) of the scan's own brain scores,
 *   e.g. 99 flags the top 1 % (by construction, whether or not the scan is abnormal).
 * - zscore: voxels at or above the healthy reference's mean + z std ('gaussian', default), or
 *   at or above the healthy quantile of probability Phi(z) ('empirical': the same false-alarm
 *   rate a Gaussian z would promise, read from the measured healthy distribution, which is
 *   usually heavy-tailed).
 */
export type ThresholdStrategy =
  | { kind: 'absolute'; value: number }
  | { kind: 'percentile'; percentile: number }
  | { kind: 'zscore'; z: number; reference: HealthyReference; distribution?: 'gaussian' | 'empirical' };

export interface ResolvedThreshold {
  /** Score cut: voxels with score >= value are candidates. */
  value: number;
  kind: ThresholdStrategy['kind'];
  /** Human-readable description, e.g. "z >= 3 (healthy mean 0.012 + 3 x 0.004)". */
  description: string;
}

/**
 * Turns a strategy into a score cut. `brainScoresDescending` holds the scan's brain scores
 * sorted from high to low (needed for percentiles only).
 */
export function resolveThreshold(strategy: ThresholdStrategy, brainScoresDescending: ArrayLike<number>): ResolvedThreshold {
  switch (strategy.kind) {
    case 'absolute': {
      if (!Number.isFinite(strategy.value)) throw new AppError('BAD_REQUEST', 'The threshold must be a number.');
      return { value: strategy.value, kind: 'absolute', description: `score >= ${fmt(strategy.value)}` };
    }
    case 'percentile': {
      const pct = strategy.percentile;
      if (!(pct >= 0 && pct <= 100)) throw new AppError('BAD_REQUEST', `The percentile must lie between 0 and 100; got ${pct}.`);
      const n = brainScoresDescending.length;
      if (n === 0) throw new AppError('NO_BRAIN', 'There are no brain voxels to take a percentile of.');
      // Ascending position p*(n-1) is descending position (n-1) - p*(n-1).
      const pos = (1 - pct / 100) * (n - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(n - 1, lo + 1);
      const value = brainScoresDescending[lo] + (brainScoresDescending[hi] - brainScoresDescending[lo]) * (pos - lo);
      return { value, kind: 'percentile', description: `${fmt(pct)}th percentile of this scan's brain scores (${fmt(value)})` };
    }
    case 'zscore': {
      if (!Number.isFinite(strategy.z)) throw new AppError('BAD_REQUEST', 'The z-score threshold must be a number.');
      const ref = strategy.reference;
      if (strategy.distribution === 'empirical') {
        const p = normalCdf(strategy.z);
        const value = referenceQuantile(ref, p);
        return { value, kind: 'zscore', description: `z >= ${fmt(strategy.z)} read from the healthy quantiles (p = ${p.toPrecision(6)}, score ${fmt(value)})` };
      }
      if (!(ref.std > 0)) throw new AppError('BAD_REQUEST', 'The healthy reference has zero spread, so z-scores are undefined; use an absolute threshold.');
      const value = ref.mean + strategy.z * ref.std;
      return { value, kind: 'zscore', description: `z >= ${fmt(strategy.z)} (healthy mean ${fmt(ref.mean)} + ${fmt(strategy.z)} x ${fmt(ref.std)} = ${fmt(value)})` };
    }
    default: {
      const kind = (strategy as { kind?: unknown }).kind;
      throw new AppError('BAD_REQUEST', `Unknown threshold strategy "${String(kind)}"; use absolute, percentile or zscore.`);
    }
  }
}

/** Four significant digits without trailing zeros: the cut reads "z >= 3.25", as it was set. */
function fmt(x: number): string {
  return String(+x.toPrecision(4));
}

/** Number of leading entries of a descending array that are >= value (binary search). */
export function countAtLeast(descending: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = descending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (descending[mid] >= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
