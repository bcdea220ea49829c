/**
 * The threshold engine: from a scored study (score, signed residual and HU volumes on the native
 * grid, plus the brain mask) to a lesion label volume and a lesion table, fast enough for a live
 * threshold slider.
 *
 * Once per study (constructor, about half a second for 9.4 M voxels): the brain voxels are
 * gathered and radix-sorted by score, with their HU and signed residual in the same order.
 * Per border erosion (lazily, cached): the eroded subset of that order. Per threshold (`apply`):
 * a binary search for the cut, then one of two labellings of the voxels above it:
 *  - the component tree (component-tree.ts) of the sorted voxels, grown lazily and in bounded
 *    steps over the upper quarter of the scores where lesion thresholds live: one pass over the
 *    candidates, no neighbour lookups (well under a millisecond for a few thousand candidates);
 *  - for cuts the tree does not reach yet, a two-pass connected-component scan of the grid in
 *    memory order, whose cost is bounded by a few passes over the grid.
 * Both give identical labels and tables. The previous call's voxels are cleared from the one
 * reusable label buffer; no other full-size array is allocated per call.
 *
 * The engine keeps references to the study's arrays (the grid scan reads them): do not modify
 * them while the engine is in use.
 */
import { AppError } from '../../../shared/errors';
import { throwIfAborted, type TaskOptions } from '../progress';
import { voxelToLps, voxelVolumeMl, type Vec3, type Volume } from '../volume';
import { ComponentTree, rankOfVoxels } from './component-tree';
import { checkConnectivity, neighbourSteps, type Connectivity } from './components';
import { borderDistance, erosionKey, erosionLimit, type BorderErosion } from './distance';
import { sortScoresDescending } from './score-sort';
import { Delineator, type DelineationResult, type LesionExtent } from './delineate';
import { countAtLeast, quantileSorted, resolveThreshold, type ResolvedThreshold, type ThresholdStrategy } from './threshold';

export type LesionSign = 'hyper' | 'hypo' | 'unknown';

export interface Lesion {
  /** Value of this lesion's voxels in the label volume. */
  label: number;
  voxelCount: number;
  volumeMl: number;
  /** First and last slice (k, inclusive). */
  sliceRange: [number, number];
  /** Inclusive voxel bounding box. */
  bbox: { min: Vec3; max: Vec3 };
  /** Mean voxel position (i, j, k), fractional. */
  centroidVoxel: Vec3;
  /** Patient position of the centroid, LPS mm. */
  centroidLps: Vec3;
  /** The highest-scoring voxel (i, j, k): where to jump to on a click. */
  peakVoxel: Vec3;
  meanScore: number;
  maxScore: number;
  /** Mean HU, null without an HU volume. */
  meanHu: number | null;
  /** Mean original - reconstruction (windowed units), null without a signed residual. */
  meanSignedResidual: number | null;
  sign: LesionSign;
}

/**
 * Which voxels may form a lesion:
 * - 'any': every voxel above the threshold; a lesion's sign is that of its mean.
 * - 'split': as 'any', but hyperdense and hypodense voxels never join one lesion (a bleed and
 *   its dark oedema rim become two lesions with clear signs).
 * - 'hyper' / 'hypo': only voxels brighter / darker than the healthy reconstruction.
 */
export type LesionPolarity = 'any' | 'split' | 'hyper' | 'hypo';

export interface ThresholdSettings {
  strategy: ThresholdStrategy;
  /**
   * Hysteresis: a lesion is a connected region of voxels at or above this lower cut whose peak
   * reaches `strategy`'s cut (default: the same cut, no hysteresis). The cut decides which
   * lesions exist, the support how far each reaches before its outline, so a higher cut drops
   * the faint false positives without shrinking the lesions it keeps.
   */
  support?: ThresholdStrategy;
  /** Lesions smaller than this are dropped (mL; default 0 keeps all). */
  minSizeMl?: number;
  /** Default 26. */
  connectivity?: Connectivity;
  /** Default 'any'. */
  polarity?: LesionPolarity;
  /** Brain border erosion applied before thresholding (default none). */
  borderErosion?: BorderErosion | null;
  /**
   * Voxels at or above this many HU are left out of the lesion search (default none): bone and
   * calcification are denser than any blood. They count as outside the brain for the border
   * erosion too, which keeps lesions off their partial-volume rim. Needs the study's HU volume.
   */
  denseExclusionHu?: number | null;
  /**
   * How a lesion's sign is decided: 'residual' (default) by its mean signed residual (brighter
   * or darker than the healthy reconstruction at the same place); 'hu' by its mean HU against
   * the median HU of the (eroded) brain. Falls back to the other when its volume is missing.
   */
  signBy?: 'residual' | 'hu';
  /**
   * How far a lesion reaches: 'threshold' (default here) keeps exactly its voxels above the cut;
   * 'half-contrast' grows each one to half its own median residual (delineate.ts). Needs the
   * signed residual; without it lesions keep the threshold extent.
   */
  extent?: LesionExtent;
  /** Also return the histogram of the (eroded) brain scores with this many bins, for the slider. */
  histogramBins?: number;
}

/** The brain voxels a threshold searches: the brain mask, eroded at its border, without dense voxels. */
export type SearchRegion = Pick<ThresholdSettings, 'borderErosion' | 'denseExclusionHu'>;

/**
 * The brain mask without its voxels of `denseHu` or more (a copy; the mask itself when there is
 * no limit): the brain the border erosion starts from, here and wherever a search region is
 * rebuilt outside the engine (the healthy-reference calibration, the detection benchmark).
 */
export function withoutDenseVoxels(brainMask: ArrayLike<number>, hu: ArrayLike<number>, denseHu: number | null): ArrayLike<number> {
  if (denseHu === null) return brainMask;
  const out = new Uint8Array(brainMask.length);
  for (let p = 0; p < out.length; p++) out[p] = brainMask[p] > 0 && hu[p] < denseHu ? 1 : 0;
  return out;
}

export interface ThresholdResult {
  threshold: ResolvedThreshold;
  /**
   * Lesion label per voxel (0 = none), on the native grid. This is the engine's own buffer:
   * valid until the next `apply`; copy it to keep it.
   */
  labels: Int32Array;
  /** Largest first. */
  lesions: Lesion[];
  /** Brain voxels searched (after erosion and the dense-voxel exclusion). */
  brainVoxels: number;
  /** Voxels at or above the threshold (after polarity), before the size filter. */
  candidateVoxels: number;
  /** The support cut lesions reach down to (the threshold itself without hysteresis). */
  support: number;
  /** The extent the lesions have (half-contrast falls back to threshold without a signed residual). */
  extent: LesionExtent;
  /** Voxels the half-contrast outline added to the lesions above the cut. */
  grownVoxels: number;
  lesionVoxels: number;
  lesionVolumeMl: number;
  /** Components dropped by the minimum size. */
  droppedComponents: number;
  /** How the labels were found: from the component tree, or by scanning the grid (cuts the tree does not reach yet). */
  method: 'tree' | 'scan';
  /** With `histogramBins`: the brain score histogram over the scores' range. */
  histogram?: ScoreHistogram;
  elapsedMs: number;
}

export interface ThresholdEngineOptions extends TaskOptions {
  /**
   * The component tree is grown only over this top fraction of the brain scores (default 0.25:
   * every lesion-like threshold); lower cuts are labelled by a grid scan.
   */
  treeFraction?: number;
  /** Most voxels one `apply` adds to the tree (default 32768, tens of milliseconds); a longer jump scans instead. */
  treeStepVoxels?: number;
}

export interface ScoreHistogram {
  /** Lower edge of the first bin and upper edge of the last (inclusive). */
  min: number;
  max: number;
  binWidth: number;
  counts: number[];
  /** Brain voxels counted (after erosion), including those outside [min, max]. */
  total: number;
  below: number;
  above: number;
}

export interface ScoredStudy {
  /** Anomaly score per voxel, larger = more abnormal. */
  score: ArrayLike<number>;
  /** original - reconstruction per voxel (positive = hyperdense); optional. */
  signedResidual?: ArrayLike<number> | null;
  /** CT values per voxel, HU; optional. */
  hu?: ArrayLike<number> | null;
  brainMask: ArrayLike<number>;
  geometry: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>;
}

/** Brain voxels sorted by score (highest first), with their HU and signed residual in the same order. */
interface ScoreIndex {
  key: string;
  order: Int32Array;
  scores: Float32Array;
  hu: Float32Array | null;
  signed: Float32Array | null;
  /** Rank in the engine's full brain order of each rank here; null for the full order itself. */
  baseRank: Int32Array | null;
  /** Inverse of baseRank (full-order rank -> rank here, -1 = absent), built with the first tree. */
  rankMap?: Int32Array | null;
  /** 1 for the voxels of this index, per voxel; built for the grid scan of an eroded brain. */
  member?: Uint8Array;
  medianHu?: number;
}

interface TreeEntry {
  index: ScoreIndex;
  tree: ComponentTree;
}

const MAX_CACHED_INDICES = 4;
const MAX_CACHED_TREES = 6;

/** Per-component running sums of one `apply`, grown on demand and reused across calls. */
class ComponentStats {
  capacity = 0;
  count = new Int32Array(0);
  peakVoxel = new Int32Array(0);
  peakScore = new Float64Array(0);
  box = new Int32Array(0); // minI, minJ, minK, maxI, maxJ, maxK per component
  sums = new Float64Array(0); // score, hu, signed, i, j, k per component

  ensure(components: number): void {
    if (components < this.capacity) return;
    const capacity = Math.max(64, 2 * components);
    const grow = <T extends Int32Array | Float64Array>(old: T, per: number, make: (n: number) => T): T => {
      const next = make(capacity * per);
      next.set(old as never);
      return next;
    };
    this.count = grow(this.count, 1, (n) => new Int32Array(n));
    this.peakVoxel = grow(this.peakVoxel, 1, (n) => new Int32Array(n));
    this.peakScore = grow(this.peakScore, 1, (n) => new Float64Array(n));
    this.box = grow(this.box, 6, (n) => new Int32Array(n));
    this.sums = grow(this.sums, 6, (n) => new Float64Array(n));
    this.capacity = capacity;
  }

  /** Starts component c (growing the buffers when needed). */
  open(c: number): void {
    if (c >= this.capacity) this.ensure(c);
    this.count[c] = 0;
    const b = 6 * c;
    this.box[b] = this.box[b + 1] = this.box[b + 2] = 0x7fffffff;
    this.box[b + 3] = this.box[b + 4] = this.box[b + 5] = -1;
    this.sums.fill(0, b, b + 6);
  }

  /**
   * Adds voxel v = (i, j, k). The peak is the highest score, the lowest voxel index among equal
   * scores (the order of the sorted index), so it does not depend on the order voxels arrive in.
   */
  add(c: number, i: number, j: number, k: number, v: number, score: number, hu: number, signed: number): void {
    const { box, sums } = this;
    if (this.count[c]++ === 0 || score > this.peakScore[c] || (score === this.peakScore[c] && v < this.peakVoxel[c])) {
      this.peakScore[c] = score;
      this.peakVoxel[c] = v;
    }
    const b = 6 * c;
    if (i < box[b]) box[b] = i;
    if (j < box[b + 1]) box[b + 1] = j;
    if (k < box[b + 2]) box[b + 2] = k;
    if (i > box[b + 3]) box[b + 3] = i;
    if (j > box[b + 4]) box[b + 4] = j;
    if (k > box[b + 5]) box[b + 5] = k;
    sums[b] += score;
    sums[b + 1] += hu;
    sums[b + 2] += signed;
    sums[b + 3] += i;
    sums[b + 4] += j;
    sums[b + 5] += k;
  }

  /** Folds component `from` into `into` (as if its voxels had been added there) and empties it. */
  merge(into: number, from: number): void {
    const n = this.count[from];
    if (n === 0) return;
    const { box, sums } = this;
    if (this.count[into] === 0 || this.peakScore[from] > this.peakScore[into] || (this.peakScore[from] === this.peakScore[into] && this.peakVoxel[from] < this.peakVoxel[into])) {
      this.peakScore[into] = this.peakScore[from];
      this.peakVoxel[into] = this.peakVoxel[from];
    }
    this.count[into] += n;
    this.count[from] = 0;
    const a = 6 * into;
    const b = 6 * from;
    for (let d = 0; d < 3; d++) {
      if (box[b + d] < box[a + d]) box[a + d] = box[b + d];
      if (box[b + 3 + d] > box[a + 3 + d]) box[a + 3 + d] = box[b + 3 + d];
    }
    for (let d = 0; d < 6; d++) sums[a + d] += sums[b + d];
  }

  /** Copies component `from`'s totals to `to` (renumbering; `from` is not used afterwards). */
  move(to: number, from: number): void {
    this.count[to] = this.count[from];
    this.peakScore[to] = this.peakScore[from];
    this.peakVoxel[to] = this.peakVoxel[from];
    this.box.copyWithin(6 * to, 6 * from, 6 * from + 6);
    this.sums.copyWithin(6 * to, 6 * from, 6 * from + 6);
  }
}

interface LabellingOutcome {
  components: number;
  dropped: number;
  lesionVoxels: number;
}

function lruGet<K, V>(map: Map<K, V>, key: K): V | undefined {
  const value = map.get(key);
  if (value !== undefined) {
    map.delete(key);
    map.set(key, value);
  }
  return value;
}

function lruSet<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.set(key, value);
  while (map.size > limit) map.delete(map.keys().next().value as K);
}

export class ThresholdEngine {
  readonly dims: Vec3;
  readonly spacing: Vec3;
  readonly voxelMl: number;
  private readonly geometry: ScoredStudy['geometry'];
  private readonly base: ScoreIndex;
  private readonly labels: Int32Array;
  private readonly componentOf: Int32Array;
  private readonly stats = new ComponentStats();
  private readonly distances = new Map<string, Float32Array>();
  private readonly indices = new Map<string, ScoreIndex>();
  private readonly trees = new Map<string, TreeEntry>();
  private readonly brainMask: ArrayLike<number>;
  /** Voxel -> rank in the full brain order, shared by every tree. */
  private readonly baseRankOf: Int32Array;
  /** The study's own arrays (kept, not copied): the grid scan reads them in memory order. */
  private readonly inputs: { score: ArrayLike<number>; hu: ArrayLike<number> | null; signed: ArrayLike<number> | null; brainMask: ArrayLike<number> };
  private lastOrder: Int32Array | null = null;
  private lastCount = 0;
  private readonly delineator = new Delineator();
  /** Voxels the previous call's delineation labelled (a view into the delineator's queue). */
  private lastGrown: Int32Array | null = null;
  private readonly treeFraction: number;
  private readonly treeStepVoxels: number;

  constructor(study: ScoredStudy, options: ThresholdEngineOptions = {}) {
    this.treeFraction = Math.min(1, Math.max(0, options.treeFraction ?? 0.25));
    this.treeStepVoxels = Math.max(0, options.treeStepVoxels ?? 32768);
    const { dims, spacing } = study.geometry;
    const n = dims[0] * dims[1] * dims[2];
    if (!(n > 0)) throw new AppError('GEOMETRY_MISMATCH', `The score volume has no voxels (dims ${dims.join('x')}).`);
    if (!spacing.every((s) => s > 0 && Number.isFinite(s))) throw new AppError('GEOMETRY_MISMATCH', `The voxel spacing must be positive; got ${spacing.join(' x ')} mm.`);
    const check = (name: string, values: ArrayLike<number> | null | undefined) => {
      if (values && values.length !== n) throw new AppError('GEOMETRY_MISMATCH', `The ${name} has ${values.length} voxels but the study has ${n} (${dims.join('x')}); they must share one grid.`);
    };
    check('score map', study.score);
    check('brain mask', study.brainMask);
    check('signed residual map', study.signedResidual);
    check('CT volume', study.hu);
    this.dims = [...dims] as Vec3;
    this.spacing = [...spacing] as Vec3;
    this.voxelMl = voxelVolumeMl(this.spacing);
    this.geometry = { dims: this.dims, spacing: this.spacing, origin: [...study.geometry.origin] as Vec3, direction: [...study.geometry.direction] };
    this.brainMask = study.brainMask;
    this.inputs = { score: study.score, hu: study.hu ?? null, signed: study.signedResidual ?? null, brainMask: study.brainMask };

    const { score, brainMask } = study;
    let count = 0;
    for (let p = 0; p < n; p++) if (brainMask[p] > 0 && !Number.isNaN(score[p])) count++;
    if (count === 0) throw new AppError('NO_BRAIN', 'There are no brain voxels with a score: the brain mask is empty or outside the scored area.');
    const scores = new Float32Array(count);
    const order = new Int32Array(count);
    let at = 0;
    for (let p = 0; p < n; p++) {
      if (brainMask[p] > 0 && !Number.isNaN(score[p])) {
        scores[at] = score[p];
        order[at++] = p;
      }
    }
    throwIfAborted(options.signal);
    options.onProgress?.({ stage: 'threshold-index', done: 0, total: 1 });
    sortScoresDescending(scores, order);
    const gather = (values: ArrayLike<number> | null | undefined) => {
      if (!values) return null;
      const out = new Float32Array(count);
      for (let r = 0; r < count; r++) out[r] = values[order[r]];
      return out;
    };
    this.base = { key: 'none', order, scores, hu: gather(study.hu), signed: gather(study.signedResidual), baseRank: null, rankMap: null };
    this.baseRankOf = rankOfVoxels(order, n);
    this.indices.set('none', this.base);
    this.labels = new Int32Array(n);
    this.componentOf = new Int32Array(count);
    options.onProgress?.({ stage: 'threshold-index', done: 1, total: 1 });
  }

  /** Brain voxels searched for lesions (after the given erosion and dense-voxel exclusion). */
  brainVoxelCount(region: SearchRegion = {}): number {
    return this.indexFor(region).scores.length;
  }

  /** Quantile (q in [0, 1]) of the searched brain scores, e.g. for slider bounds. */
  quantile(q: number, region: SearchRegion = {}): number {
    return resolveThreshold({ kind: 'percentile', percentile: 100 * q }, this.indexFor(region).scores).value;
  }

  /** Histogram of the searched brain scores over [min, max] (default: the scores' own range). */
  histogram(bins = 64, options: SearchRegion & { range?: [number, number] } = {}): ScoreHistogram {
    if (!(Number.isInteger(bins) && bins >= 1 && bins <= 100_000)) throw new AppError('BAD_REQUEST', `The histogram needs between 1 and 100000 bins; got ${bins}.`);
    const desc = this.indexFor(options).scores;
    const total = desc.length;
    const [min, requestedMax] = options.range ?? [desc[total - 1], desc[0]];
    if (!(Number.isFinite(min) && Number.isFinite(requestedMax) && requestedMax >= min)) throw new AppError('BAD_REQUEST', 'The histogram range must be two finite numbers, low then high.');
    // A single-valued range still needs a bin width.
    const max = requestedMax === min ? min + (Math.abs(min) || 1) * 1e-6 : requestedMax;
    const binWidth = (max - min) / bins;
    const atLeast = (v: number) => countAtLeast(desc, v);
    const above = countAbove(desc, max);
    const counts: number[] = [];
    let upper = above;
    for (let b = bins - 1; b >= 0; b--) {
      const lowerCount = atLeast(b === 0 ? min : min + b * binWidth);
      counts[b] = lowerCount - upper;
      upper = lowerCount;
    }
    return { min, max, binWidth, counts, total, below: total - upper, above };
  }

  /**
   * Builds the index and component tree for these settings ahead of time (e.g. in the analysis
   * job right after scoring), so that thresholds down to `downToPercentile` of the brain
   * scores (default 0: every threshold) answer without construction work.
   */
  prepare(settings: Pick<ThresholdSettings, 'borderErosion' | 'denseExclusionHu' | 'connectivity' | 'polarity' | 'signBy'>, downToPercentile = 0): void {
    const index = this.indexFor(settings);
    const { index: sub, tree } = this.treeFor(index, checkConnectivity(settings.connectivity ?? 26), settings.polarity ?? 'any');
    const cut = resolveThreshold({ kind: 'percentile', percentile: downToPercentile }, index.scores).value;
    tree.extendTo(countAtLeast(sub.scores, cut));
    if (settings.signBy === 'hu') this.medianHu(index);
  }

  apply(settings: ThresholdSettings): ThresholdResult {
    const started = performance.now();
    const index = this.indexFor(settings);
    const threshold = resolveThreshold(settings.strategy, index.scores);
    const support = settings.support ? Math.min(threshold.value, resolveThreshold(settings.support, index.scores).value) : threshold.value;
    const connectivity = checkConnectivity(settings.connectivity ?? 26);
    const polarity = settings.polarity ?? 'any';
    const minSizeMl = settings.minSizeMl ?? 0;
    if (!(minSizeMl >= 0) || !Number.isFinite(minSizeMl)) throw new AppError('BAD_REQUEST', `The minimum lesion size must be 0 mL or more; got ${minSizeMl}.`);
    const { index: sub, tree } = this.treeFor(index, connectivity, polarity);

    const labels = this.labels;
    if (this.lastOrder) {
      // Scattered writes cost a cache miss each; past a few percent of the grid a memset is cheaper.
      const grownBefore = this.lastGrown?.length ?? 0;
      if (this.lastCount + grownBefore > labels.length >>> 5) labels.fill(0);
      else {
        const prev = this.lastOrder;
        for (let r = 0; r < this.lastCount; r++) labels[prev[r]] = 0;
        const grown = this.lastGrown;
        for (let r = 0; r < grownBefore; r++) labels[grown![r]] = 0;
      }
      this.lastGrown = null;
    }
    const m = countAtLeast(sub.scores, support);
    // Smallest voxel count whose volume reaches the minimum (tolerant of mL rounding).
    const minVoxels = Math.max(1, Math.ceil(minSizeMl / this.voxelMl - 1e-9));
    // The tree answers in one pass over the candidates once built down to the cut. It grows by a
    // bounded step per call (construction is ~1 µs per voxel) and only over the upper part of the
    // scores; cuts beyond it are labelled by a scan of the grid, whose cost is bounded too.
    const treeLimit = Math.floor(this.treeFraction * sub.order.length);
    if (m > tree.built && m <= treeLimit && m - tree.built <= this.treeStepVoxels) tree.extendTo(m);
    const method: 'tree' | 'scan' = m <= tree.built ? 'tree' : 'scan';
    const outcome = method === 'tree' ? this.labelByTree(sub, tree, m, minVoxels) : this.labelByScan(index, support, minVoxels, connectivity, polarity);
    this.lastOrder = sub.order;
    this.lastCount = m;
    const { dropped } = outcome;
    let { components, lesionVoxels } = outcome;
    // Candidates of rank below this are at or above the cut itself (the support reaches lower).
    const aboveCut = support < threshold.value ? countAtLeast(sub.scores, threshold.value) : m;
    if (aboveCut < m && components > 0) ({ components, lesionVoxels } = this.keepFoundAtCut(aboveCut, minVoxels, sub.order, m, components));
    const { hu, signed } = sub;
    const { count, peakVoxel, peakScore, box, sums } = this.stats;
    const [nx, ny] = this.dims;
    const plane = nx * ny;
    const extent = settings.extent === 'half-contrast' && this.inputs.signed ? 'half-contrast' : 'threshold';
    let grownVoxels = 0;
    if (extent === 'half-contrast' && components > 0) {
      const inputs = this.inputs;
      const grown = this.delineator.run({
        labels,
        components,
        candidates: sub.order,
        candidateCount: m,
        signed: inputs.signed!,
        signedSums: (c) => sums[6 * c + 2],
        member: this.memberMask(index),
        brainMask: inputs.brainMask,
        dims: this.dims,
        spacing: this.spacing,
      });
      this.lastGrown = grown.grown;
      grownVoxels = grown.grownCount;
      for (let r = 0; r < grown.grownCount; r++) {
        const v = grown.grown[r];
        const k = (v / plane) | 0;
        const rem = v - k * plane;
        const j = (rem / nx) | 0;
        this.stats.add(labels[v], rem - j * nx, j, k, v, Math.fround(inputs.score[v]), inputs.hu ? Math.fround(inputs.hu[v]) : 0, Math.fround(inputs.signed![v]));
      }
      lesionVoxels += grownVoxels;
      components = this.mergeTouchingOutlines(sub.order, m, grown, components);
    }

    const signBy = settings.signBy ?? 'residual';
    const useHu = hu !== null && (signBy === 'hu' || signed === null);
    const referenceHu = useHu ? this.medianHu(index) : NaN;
    const lesions: Lesion[] = [];
    for (let c = 1; c <= components; c++) {
      const nv = count[c];
      const b = 6 * c;
      const centroid: Vec3 = [sums[b + 3] / nv, sums[b + 4] / nv, sums[b + 5] / nv];
      const peak = peakVoxel[c];
      const pk = (peak / plane) | 0;
      const pj = ((peak - pk * plane) / nx) | 0;
      const meanHu = hu ? sums[b + 1] / nv : null;
      const meanSigned = signed ? sums[b + 2] / nv : null;
      let sign: LesionSign = 'unknown';
      if (useHu && meanHu !== null) sign = meanHu > referenceHu ? 'hyper' : meanHu < referenceHu ? 'hypo' : 'unknown';
      else if (meanSigned !== null) sign = meanSigned > 0 ? 'hyper' : meanSigned < 0 ? 'hypo' : 'unknown';
      lesions.push({
        label: c,
        voxelCount: nv,
        volumeMl: nv * this.voxelMl,
        sliceRange: [box[b + 2], box[b + 5]],
        bbox: { min: [box[b], box[b + 1], box[b + 2]], max: [box[b + 3], box[b + 4], box[b + 5]] },
        centroidVoxel: centroid,
        centroidLps: voxelToLps(this.geometry, centroid[0], centroid[1], centroid[2]),
        peakVoxel: [peak - pk * plane - pj * nx, pj, pk],
        meanScore: sums[b] / nv,
        maxScore: peakScore[c],
        meanHu,
        meanSignedResidual: meanSigned,
        sign,
      });
    }
    lesions.sort((a, b) => b.voxelCount - a.voxelCount || b.maxScore - a.maxScore || a.label - b.label);
    return {
      threshold,
      labels,
      lesions,
      brainVoxels: index.scores.length,
      candidateVoxels: aboveCut,
      support,
      extent,
      grownVoxels,
      lesionVoxels,
      lesionVolumeMl: lesionVoxels * this.voxelMl,
      droppedComponents: dropped,
      method,
      ...(settings.histogramBins ? { histogram: this.histogram(settings.histogramBins, settings) } : {}),
      elapsedMs: performance.now() - started,
    };
  }

  /**
   * After the half-contrast growth, lesions of one sign whose outlines touch face to face (the
   * growth's own connectivity; the delineator records each contact it meets) are one lesion: a
   * haematoma whose score dips below the cut between its brightest parts is found as several
   * pieces, and each grows until it meets the others. Without this a higher cut lists one bleed
   * as several lesions (seed 7 of bench:volumetry: three pieces at z 3, one at 0.25). Relabels
   * the lesion voxels 1..K (in the order of their first piece) and folds the pieces' totals
   * together; returns K.
   */
  private mergeTouchingOutlines(candidates: Int32Array, candidateCount: number, grown: DelineationResult, components: number): number {
    if (grown.contactCount === 0) return components;
    const parent = new Int32Array(components + 1);
    for (let c = 0; c <= components; c++) parent[c] = c;
    const find = (c: number): number => {
      while (parent[c] !== c) {
        parent[c] = parent[parent[c]];
        c = parent[c];
      }
      return c;
    };
    const { contacts } = grown;
    for (let t = 0; t < grown.contactCount; t++) {
      const ra = find(contacts[2 * t]);
      const rb = find(contacts[2 * t + 1]);
      // The lower label survives, so numbering follows the first piece.
      if (ra < rb) parent[rb] = ra;
      else if (rb < ra) parent[ra] = rb;
    }
    for (let c = 1; c <= components; c++) {
      const root = find(c);
      if (root !== c) this.stats.merge(root, c);
    }
    const { renumbered, kept } = this.compactComponents(components, (c) => find(c) === c);
    for (let c = 1; c <= components; c++) renumbered[c] = renumbered[find(c)];
    this.relabel(renumbered, candidates, candidateCount, grown.grown, grown.grownCount);
    return kept;
  }

  /**
   * Hysteresis: keeps the components (labelled at the support cut) that the cut alone would have
   * found, i.e. holding at least the minimum lesion size of voxels at or above the cut (the
   * candidates of rank below `aboveCut`), renumbered 1..K in their order; the others lose their
   * labels. The cut decides which lesions exist, as without a support; the support only how far
   * they reach.
   */
  private keepFoundAtCut(aboveCut: number, minVoxels: number, candidates: Int32Array, candidateCount: number, components: number): { components: number; lesionVoxels: number } {
    const labels = this.labels;
    const found = new Int32Array(components + 1);
    for (let r = 0; r < aboveCut; r++) found[labels[candidates[r]]]++;
    const { renumbered, kept } = this.compactComponents(components, (c) => found[c] >= minVoxels);
    if (kept < components) this.relabel(renumbered, candidates, candidateCount, candidates, 0);
    let lesionVoxels = 0;
    for (let c = 1; c <= kept; c++) lesionVoxels += this.stats.count[c];
    return { components: kept, lesionVoxels };
  }

  /**
   * Numbers the components `keep` accepts 1..K in their order and moves their totals there;
   * returns the old -> new map (0 = not kept) and K. The labels are the caller's to rewrite.
   */
  private compactComponents(components: number, keep: (c: number) => boolean): { renumbered: Int32Array; kept: number } {
    const renumbered = new Int32Array(components + 1);
    let kept = 0;
    for (let c = 1; c <= components; c++) {
      if (!keep(c)) continue;
      renumbered[c] = ++kept;
      if (kept !== c) this.stats.move(kept, c);
    }
    return { renumbered, kept };
  }

  /**
   * Relabels the lesion voxels (old label -> renumbered[old], 0 = none), each voxel once: a grown
   * voxel can also be a candidate (of a piece dropped for its size), so done ones are marked
   * negative and the marks flipped back after.
   */
  private relabel(renumbered: Int32Array, candidates: Int32Array, candidateCount: number, grown: Int32Array, grownCount: number): void {
    const labels = this.labels;
    const mark = (v: number) => {
      if (labels[v] > 0) labels[v] = -renumbered[labels[v]];
    };
    const unmark = (v: number) => {
      if (labels[v] < 0) labels[v] = -labels[v];
    };
    for (let r = 0; r < candidateCount; r++) mark(candidates[r]);
    for (let r = 0; r < grownCount; r++) mark(grown[r]);
    for (let r = 0; r < candidateCount; r++) unmark(candidates[r]);
    for (let r = 0; r < grownCount; r++) unmark(grown[r]);
  }

  /** Labels the candidates (ranks 0..m-1) from the component tree: one pass, highest rank first. */
  private labelByTree(sub: ScoreIndex, tree: ComponentTree, m: number, minVoxels: number): LabellingOutcome {
    const { parent, area } = tree;
    const { order, scores, hu, signed } = sub;
    const labels = this.labels;
    const comp = this.componentOf;
    const stats = this.stats;
    const [nx, ny] = this.dims;
    const plane = nx * ny;
    let components = 0;
    let dropped = 0;
    let lesionVoxels = 0;
    for (let r = m - 1; r >= 0; r--) {
      const p = parent[r];
      let c: number;
      if (p !== r && p < m) c = comp[p];
      else if (area[r] >= minVoxels) {
        c = ++components;
        stats.open(c);
      } else {
        c = 0;
        dropped++;
      }
      comp[r] = c;
      if (c === 0) continue;
      const v = order[r];
      labels[v] = c;
      lesionVoxels++;
      const k = (v / plane) | 0;
      const rem = v - k * plane;
      const j = (rem / nx) | 0;
      stats.add(c, rem - j * nx, j, k, v, scores[r], hu ? hu[r] : 0, signed ? signed[r] : 0);
    }
    return { components, dropped, lesionVoxels };
  }

  /**
   * Labels the candidates by a classic two-pass scan of the grid in memory order (union-find
   * over provisional labels, looking only at already scanned neighbours), for cuts the tree does
   * not reach yet. Every access is sequential except the small label-equivalence table, so the
   * cost is a few passes over the grid whatever the cut. The candidate test is the index's
   * (brain, erosion, polarity, float32 score >= cut), evaluated per voxel.
   */
  private labelByScan(index: ScoreIndex, cut: number, minVoxels: number, connectivity: Connectivity, polarity: LesionPolarity): LabellingOutcome {
    const labels = this.labels;
    const { score, hu, signed, brainMask } = this.inputs;
    const member = this.memberMask(index);
    const [nx, ny, nz] = this.dims;
    const plane = nx * ny;
    const split = polarity === 'split' && signed !== null;
    const onlyHyper = polarity === 'hyper';
    const onlyHypo = polarity === 'hypo';
    const scratch = this.scanScratch();
    const eq = scratch.equivalence;
    const cls = scratch.classes;
    const size = scratch.sizes;
    // Already scanned neighbours. With 26-connectivity, when the voxel to the left joins this one,
    // every scanned neighbour at i-1 or i is its neighbour too and already joined to it: only the
    // four at i+1 remain to look at (decision-tree labelling in the manner of Wu et al. 2005).
    const steps = neighbourSteps(connectivity);
    const backward: number[] = [];
    for (let t = 0; t < steps.length; t += 3) if (steps[t + 2] * plane + steps[t + 1] * nx + steps[t] < 0) backward.push(steps[t], steps[t + 1], steps[t + 2]);
    const nb = backward.length / 3;
    const offset = new Int32Array(nb);
    for (let s = 0; s < nb; s++) offset[s] = backward[3 * s + 2] * plane + backward[3 * s + 1] * nx + backward[3 * s];
    const aheadOnly = connectivity === 26 ? Int32Array.from([...Array(nb).keys()].filter((s) => backward[3 * s] === 1)) : null;
    const allSteps = Int32Array.from(Array(nb).keys());
    let provisional = 0;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const row = k * plane + j * nx;
        for (let i = 0; i < nx; i++) {
          const v = row + i;
          if (member ? member[v] === 0 : !(brainMask[v] > 0)) continue;
          // float32 like the sorted index, so both paths agree on ties at the cut exactly
          if (!(Math.fround(score[v]) >= cut)) continue;
          let myClass = 0;
          if (signed) {
            const d = Math.fround(signed[v]);
            if ((onlyHyper && !(d > 0)) || (onlyHypo && !(d < 0))) continue;
            if (split) myClass = d > 0 ? 1 : d < 0 ? 2 : 0;
          }
          const interior = i > 0 && j > 0 && k > 0 && i < nx - 1 && j < ny - 1;
          let label = 0;
          let seen = 0;
          let look = allSteps;
          if (aheadOnly && i > 0) {
            const left = labels[v - 1];
            if (left > 0 && cls[left] === myClass) {
              label = left;
              while (eq[label] !== label) {
                eq[label] = eq[eq[label]];
                label = eq[label];
              }
              seen = left;
              look = aheadOnly;
            }
          }
          for (let t = 0; t < look.length; t++) {
            const s = look[t];
            if (!interior) {
              const ii = i + backward[3 * s];
              const jj = j + backward[3 * s + 1];
              const kk = k + backward[3 * s + 2];
              if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny) continue;
            }
            const other = labels[v + offset[s]];
            if (other <= 0 || other === seen || cls[other] !== myClass) continue;
            seen = other;
            let root = other;
            while (eq[root] !== root) {
              eq[root] = eq[eq[root]];
              root = eq[root];
            }
            if (label === 0) label = root;
            else if (root !== label) {
              // The smaller label becomes the root, so one forward pass flattens everything.
              if (root < label) {
                eq[label] = root;
                label = root;
              } else eq[root] = label;
            }
          }
          if (label === 0) {
            label = ++provisional;
            eq[label] = label;
            cls[label] = myClass;
            size[label] = 0;
          }
          size[label]++;
          labels[v] = label;
        }
      }
    }
    // Flatten (eq points to smaller labels), total the sizes on the roots, number the kept roots.
    for (let l = 1; l <= provisional; l++) {
      const root = eq[l] === l ? l : eq[eq[l]];
      eq[l] = root;
      if (root !== l) size[root] += size[l];
    }
    let components = 0;
    let dropped = 0;
    const finalOf = cls; // classes are no longer needed; reuse the buffer for final numbers
    for (let l = 1; l <= provisional; l++) {
      if (eq[l] !== l) continue;
      if (size[l] >= minVoxels) {
        finalOf[l] = ++components;
        this.stats.open(components);
      } else {
        finalOf[l] = 0;
        dropped++;
      }
    }
    const stats = this.stats;
    let lesionVoxels = 0;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const row = k * plane + j * nx;
        for (let i = 0; i < nx; i++) {
          const v = row + i;
          const l = labels[v];
          if (l === 0) continue;
          const c = finalOf[eq[l]];
          labels[v] = c;
          if (c === 0) continue;
          lesionVoxels++;
          stats.add(c, i, j, k, v, Math.fround(score[v]), hu ? Math.fround(hu[v]) : 0, signed ? Math.fround(signed[v]) : 0);
        }
      }
    }
    return { components, dropped, lesionVoxels };
  }

  /** Per-voxel membership of an eroded index (null for the whole brain: the brain mask says it). */
  private memberMask(index: ScoreIndex): Uint8Array | null {
    if (index.key === 'none') return null;
    if (!index.member) {
      const member = new Uint8Array(this.labels.length);
      for (let r = 0; r < index.order.length; r++) member[index.order[r]] = 1;
      index.member = member;
    }
    return index.member;
  }

  private scanBuffers: { equivalence: Int32Array; classes: Int32Array; sizes: Int32Array } | null = null;

  /** Provisional labels never outnumber the brain voxels. */
  private scanScratch(): { equivalence: Int32Array; classes: Int32Array; sizes: Int32Array } {
    if (!this.scanBuffers) {
      const n = this.base.order.length + 1;
      this.scanBuffers = { equivalence: new Int32Array(n), classes: new Int32Array(n), sizes: new Int32Array(n) };
    }
    return this.scanBuffers;
  }


  /** Bytes held by the engine's arrays (index, caches, label buffer), for memory budgeting. */
  get memoryBytes(): number {
    let bytes = this.labels.byteLength + this.baseRankOf.byteLength + this.componentOf.byteLength + this.stats.sums.byteLength + this.stats.box.byteLength * 2;
    for (const ix of this.indices.values()) bytes += ix.order.byteLength + ix.scores.byteLength + (ix.hu?.byteLength ?? 0) + (ix.signed?.byteLength ?? 0) + (ix.baseRank?.byteLength ?? 0) + (ix.rankMap?.byteLength ?? 0);
    for (const t of this.trees.values()) bytes += t.tree.parent.byteLength + t.tree.area.byteLength;
    for (const d of this.distances.values()) bytes += d.byteLength;
    return bytes;
  }

  private indexFor(region: SearchRegion): ScoreIndex {
    const erosion = region.borderErosion ?? null;
    const dense = region.denseExclusionHu ?? null;
    const erosionPart = erosionKey(erosion);
    const key = dense === null ? erosionPart : `${erosionPart}|hu<${dense}`;
    const cached = lruGet(this.indices, key);
    if (cached) return cached;
    const base = this.base;
    if (dense !== null) {
      if (!Number.isFinite(dense)) throw new AppError('BAD_REQUEST', `The density above which voxels are left out must be a number of HU; got ${dense}.`);
      if (!base.hu) throw new AppError('BAD_REQUEST', 'Leaving out bone-dense voxels needs the CT values (HU), which this study does not have; turn the dense-voxel exclusion off.');
    }
    let keepRank: (r: number) => boolean = () => true;
    if (erosion && erosionPart !== 'none') {
      const e = erosion;
      if (!(e.unit === 'mm' || e.unit === 'px') || !(e.mode === '2d' || e.mode === '3d') || !Number.isFinite(e.distance)) {
        throw new AppError('BAD_REQUEST', 'The border erosion needs a distance, a unit (mm or px) and a mode (2d or 3d).');
      }
      const dist = this.distanceByRank(e, dense);
      const limit = erosionLimit(e);
      keepRank = (r) => dist[r] > limit;
    }
    if (dense !== null) {
      const hu = base.hu!;
      const inEroded = keepRank;
      keepRank = (r) => inEroded(r) && hu[r] < dense;
    }
    let kept = 0;
    for (let r = 0; r < base.order.length; r++) if (keepRank(r)) kept++;
    if (kept === 0) {
      const eroded = erosionPart !== 'none' && erosion;
      const causes = [eroded ? `Eroding the brain border by ${eroded.distance} ${eroded.unit}` : '', dense !== null ? `leaving out voxels of ${dense} HU or more` : ''].filter(Boolean);
      const cause = causes.join(' and ');
      const advice = [eroded ? 'a smaller erosion' : '', dense !== null ? 'a higher density limit' : ''].filter(Boolean).join(' or ');
      throw new AppError('NO_BRAIN', `${cause[0].toUpperCase()}${cause.slice(1)} leaves no brain to analyse; use ${advice}.`);
    }
    const index = filterIndex(base, key, keepRank, kept);
    lruSet(this.indices, key, index, MAX_CACHED_INDICES);
    if (!this.indices.has('none')) this.indices.set('none', base);
    return index;
  }

  /**
   * Border distance of each base-index voxel (mm or px), computed once per unit, mode and density
   * limit. With a limit, the dense voxels count as outside the brain: they are skull (partial
   * volume at the skull base and vertex) or calcification, and the erosion keeps lesions off their
   * rim of partial volume below the limit as it keeps them off the mask's own edge.
   */
  private distanceByRank(e: BorderErosion, dense: number | null): Float32Array {
    const key = `${e.mode}:${e.unit}${dense === null ? '' : `|hu<${dense}`}`;
    const cached = this.distances.get(key);
    if (cached) return cached;
    const brain = dense === null ? this.brainMask : withoutDenseVoxels(this.brainMask, this.inputs.hu!, dense);
    const full = borderDistance(brain, this.dims, this.spacing, e);
    const order = this.base.order;
    const byRank = new Float32Array(order.length);
    for (let r = 0; r < order.length; r++) byRank[r] = full[order[r]];
    this.distances.set(key, byRank);
    return byRank;
  }

  private treeFor(index: ScoreIndex, connectivity: Connectivity, polarity: LesionPolarity): TreeEntry {
    if (!['any', 'split', 'hyper', 'hypo'].includes(polarity)) throw new AppError('BAD_REQUEST', `Unknown lesion polarity "${polarity}"; use any, split, hyper or hypo.`);
    const key = `${index.key}|${connectivity}|${polarity}`;
    const cached = lruGet(this.trees, key);
    if (cached) return cached;
    if (polarity !== 'any' && !index.signed) throw new AppError('BAD_REQUEST', 'Separating hyperdense from hypodense lesions needs the signed residual map, which this run does not have.');
    let sub = index;
    let classes: Int8Array | null = null;
    if (polarity === 'hyper' || polarity === 'hypo') {
      const signed = index.signed!;
      const wanted = polarity === 'hyper' ? (r: number) => signed[r] > 0 : (r: number) => signed[r] < 0;
      let kept = 0;
      for (let r = 0; r < signed.length; r++) if (wanted(r)) kept++;
      sub = filterIndex(index, `${index.key}|${polarity}`, wanted, kept);
    } else if (polarity === 'split') {
      const signed = index.signed!;
      classes = new Int8Array(signed.length);
      for (let r = 0; r < signed.length; r++) classes[r] = signed[r] > 0 ? 1 : signed[r] < 0 ? -1 : 0;
    }
    if (sub.baseRank && !sub.rankMap) {
      const map = new Int32Array(this.base.order.length).fill(-1);
      for (let r = 0; r < sub.baseRank.length; r++) map[sub.baseRank[r]] = r;
      sub.rankMap = map;
    }
    const entry = { index: sub, tree: new ComponentTree(sub.order, this.dims, connectivity, this.baseRankOf, sub.rankMap ?? null, classes) };
    lruSet(this.trees, key, entry, MAX_CACHED_TREES);
    return entry;
  }

  private medianHu(index: ScoreIndex): number {
    if (index.medianHu !== undefined) return index.medianHu;
    if (!index.hu) return NaN;
    const sorted = Float32Array.from(index.hu).sort();
    index.medianHu = quantileSorted(sorted, 0.5);
    return index.medianHu;
  }
}

function filterIndex(from: ScoreIndex, key: string, keep: (rank: number) => boolean, kept: number): ScoreIndex {
  const order = new Int32Array(kept);
  const scores = new Float32Array(kept);
  const hu = from.hu ? new Float32Array(kept) : null;
  const signed = from.signed ? new Float32Array(kept) : null;
  const baseRank = new Int32Array(kept);
  let at = 0;
  for (let r = 0; r < from.order.length; r++) {
    if (!keep(r)) continue;
    order[at] = from.order[r];
    scores[at] = from.scores[r];
    if (hu) hu[at] = from.hu![r];
    if (signed) signed[at] = from.signed![r];
    baseRank[at] = from.baseRank ? from.baseRank[r] : r;
    at++;
  }
  return { key, order, scores, hu, signed, baseRank };
}

/** Number of leading entries of a descending array that are > value. */
function countAbove(descending: ArrayLike<number>, value: number): number {
  let lo = 0;
  let hi = descending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (descending[mid] > value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Copy of the label volume as a 0/1 mask. */
export function labelsToMask(labels: Int32Array, out: Uint8Array = new Uint8Array(labels.length)): Uint8Array {
  for (let p = 0; p < labels.length; p++) out[p] = labels[p] > 0 ? 1 : 0;
  return out;
}

/** One-shot thresholding (CLI, benchmarks): builds an engine, applies once, returns labels you own. */
export function thresholdStudy(study: ScoredStudy, settings: ThresholdSettings, options: TaskOptions = {}): ThresholdResult {
  const result = new ThresholdEngine(study, options).apply(settings);
  return { ...result, labels: result.labels.slice() };
}
