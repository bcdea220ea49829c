import { AppError } from '../../../shared/errors';
import { maskBoundingBox } from '../preprocess/geometry';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../progress';
import { inpaintClassical, type ClassicalMethod } from './classical';
import { EstimateAccumulator, gridKey, planGrid, type GridPlan, type GridSquare, type Rect } from './grid';
import { fromNetworkUnits, toNetworkUnits, type BatchConditioning, type InpaintNetwork } from './network';
import { contextMarginPx, presetTimesteps, resolvePreset, type DiffusionPreset, type PresetName } from './presets';
import { GaussianRng } from './rng';
import { modelCallsPerChain, sampleInpaint, type SamplerSettings } from './sampler';

/**
 * The slice-level inpainting engine: plans the multi-scale grid on a slice, inpaints every
 * square (diffusion model or classical method), and fuses the reconstructions into healthy
 * estimates per grid, per scale and overall. Pure computation on typed arrays: it runs the same
 * in a worker thread, the CLI or a test.
 *
 * Intensities: `image`, `above` and `below` are windowed values in the network's windowed range
 * (the preprocessed [0, 1] slices); the healthy estimates come back in the same units.
 */

export type InpaintMethod = { kind: 'diffusion'; network: InpaintNetwork } | { kind: 'classical'; method: ClassicalMethod };

export interface SliceInput {
  /** Windowed slice, x fastest, width x height (default 256 x 256). */
  image: Float32Array;
  brainMask: ArrayLike<number>;
  /** Windowed neighbour slices (superior k+1 and inferior k-1); null or absent where there is none. */
  above?: Float32Array | null;
  below?: Float32Array | null;
  width?: number;
  height?: number;
}

export interface InpaintSliceOptions extends TaskOptions {
  method: InpaintMethod;
  preset?: PresetName | DiffusionPreset;
  presetOverrides?: Partial<DiffusionPreset>;
  seed?: number;
  sizesPx?: readonly number[];
  halfOffsets?: boolean;
}

export interface GridEstimate {
  sizePx: number;
  offsetPx: number;
  /** Healthy estimate: inpainted squares, the original image elsewhere. */
  healthy: Float32Array;
  /** 1 where a square of this grid was inpainted. */
  covered: Uint8Array;
  /** The squares inpainted in this grid (those with brain). */
  squares: GridSquare[];
  skippedSquares: number;
}

export interface ScaleEstimate {
  sizePx: number;
  /** Mean of the grids of this size (both offsets) where they covered the pixel. */
  healthy: Float32Array;
  covered: Uint8Array;
}

export interface WorkCost {
  /** Independent sampling chains (squares or phase masks). */
  chains: number;
  /** Network invocations (session.run calls). */
  networkCalls: number;
  /** Σ batch × height × width over all calls. */
  elementPixelEvaluations: number;
  /** Network calls each chain needs (RePaint jumps included). */
  callsPerChain: number;
}

export interface SliceInpaintResult {
  width: number;
  height: number;
  method: string;
  preset: string | null;
  grids: GridEstimate[];
  perScale: ScaleEstimate[];
  /** Mean over every square that covered the pixel, all grids together. */
  fused: Float32Array;
  fusedCovered: Uint8Array;
  networkCalls: number;
  elementPixelEvaluations: number;
  chains: number;
  timings: { totalMs: number; networkMs: number; classicalMs: number };
}

/** One sampling chain: a crop of the slice with one or more square holes. */
interface Element {
  key: string;
  gridIndex: number;
  crop: Rect;
  /** Square holes (image coordinates); their pixels are what the element contributes. */
  holes: Rect[];
  /** Or an arbitrary hole raster over the crop. */
  holeMask?: Uint8Array;
}

interface Chunk {
  width: number;
  height: number;
  elements: Element[];
}

function roundUp(v: number, multiple: number): number {
  return Math.ceil(v / multiple) * multiple;
}

function placeCrop(center: number, size: number, extent: number): number {
  return Math.max(0, Math.min(extent - size, Math.round(center - size / 2)));
}

/** Crop-layout rectangle of a uniform size (so a scale batches together), centred on a group of squares. */
function cropAround(squares: readonly Rect[], cropSize: number, width: number, height: number): Rect {
  const cw = Math.min(cropSize, width);
  const ch = Math.min(cropSize, height);
  const bx0 = Math.min(...squares.map((s) => s.x0));
  const bx1 = Math.max(...squares.map((s) => s.x1));
  const by0 = Math.min(...squares.map((s) => s.y0));
  const by1 = Math.max(...squares.map((s) => s.y1));
  const x0 = placeCrop((bx0 + bx1) / 2, cw, width);
  const y0 = placeCrop((by0 + by1) / 2, ch, height);
  return { x0, y0, x1: x0 + cw, y1: y0 + ch };
}

function sizeRequirements(network: InpaintNetwork, width: number, height: number): { multiple: number; minSize: number; fixed: boolean } {
  const spec = network.imageSize;
  if (spec.mode === 'fixed') {
    if (spec.width !== width || spec.height !== height)
      throw new AppError('MODEL_SHAPE_MISMATCH', `The model "${network.id}" takes ${spec.width}x${spec.height} images only; this slice is ${width}x${height}.`);
    return { multiple: 1, minSize: width, fixed: true };
  }
  if (width % spec.multiple || height % spec.multiple)
    throw new AppError('MODEL_SHAPE_MISMATCH', `The model "${network.id}" needs image sides that are multiples of ${spec.multiple} px; this slice is ${width}x${height}.`);
  return { multiple: spec.multiple, minSize: spec.minSize ?? spec.multiple, fixed: false };
}

/** Splits the plan into chains and batches exactly as the diffusion run will. */
function diffusionChunks(plan: GridPlan, preset: DiffusionPreset, network: InpaintNetwork): Chunk[] {
  const { width, height } = plan;
  const req = sizeRequirements(network, width, height);
  const byShape = new Map<string, Chunk>();
  const add = (w: number, h: number, e: Element) => {
    const k = `${w}x${h}`;
    let c = byShape.get(k);
    if (!c) byShape.set(k, (c = { width: w, height: h, elements: [] }));
    c.elements.push(e);
  };
  const useCrops = preset.layout === 'crop' && !req.fixed;
  for (const [gi, grid] of plan.grids.entries()) {
    const key = gridKey(grid.sizePx, grid.offsetPx);
    if (useCrops) {
      // Tiles of k x k same-phase squares (k = 1: one square per crop). Same-phase squares are
      // 3 cells apart, so a tile spans (3(k-1)+1) squares plus the context margin on both sides.
      const k = Math.max(1, Math.floor(preset.tileSquares[grid.sizePx] ?? 1));
      const margin = contextMarginPx(preset, grid.sizePx);
      const size = Math.max(req.minSize, roundUp((3 * (k - 1) + 1) * grid.sizePx + 2 * margin, req.multiple));
      const tiles = new Map<string, GridSquare[]>();
      for (const sq of grid.squares) {
        const t = `${sq.phase}/${Math.floor(sq.col / (3 * k))},${Math.floor(sq.row / (3 * k))}`;
        const list = tiles.get(t);
        if (list) list.push(sq);
        else tiles.set(t, [sq]);
      }
      for (const [t, holes] of tiles) {
        const crop = cropAround(holes, size, width, height);
        add(crop.x1 - crop.x0, crop.y1 - crop.y0, { key: `${key}/${k}/${t}`, gridIndex: gi, crop, holes });
      }
    } else {
      for (let phase = 0; phase < 9; phase++) {
        const holes = grid.squares.filter((s) => s.phase === phase);
        if (holes.length) add(width, height, { key: `${key}/p${phase}`, gridIndex: gi, crop: { x0: 0, y0: 0, x1: width, y1: height }, holes });
      }
    }
  }
  const chunks: Chunk[] = [];
  for (const group of byShape.values()) {
    const per = Math.max(1, Math.min(preset.maxBatch, Math.floor(preset.maxBatchPixels / (group.width * group.height))));
    for (let i = 0; i < group.elements.length; i += per) chunks.push({ width: group.width, height: group.height, elements: group.elements.slice(i, i + per) });
  }
  return chunks;
}

function samplerSettings(preset: DiffusionPreset, network: InpaintNetwork): SamplerSettings {
  return {
    kind: preset.sampler,
    eta: preset.eta,
    timesteps: presetTimesteps(preset, network.schedule.trainingSteps),
    jumpLength: preset.jumpLength,
    jumpNSample: preset.jumpNSample,
    variance: network.schedule.variance,
    clipX0: preset.clipX0 ? network.networkRange : null,
  };
}

/**
 * What a diffusion run of `preset` costs on a slice with this brain mask, computed without
 * running it (used for progress totals, the benchmark's reference extrapolation, and tests).
 */
export function estimateDiffusionCost(brainMask: ArrayLike<number>, width: number, height: number, network: InpaintNetwork, preset: PresetName | DiffusionPreset = 'fast', grid: { sizesPx?: readonly number[]; halfOffsets?: boolean } = {}): WorkCost {
  const p = resolvePreset(preset);
  const plan = planGrid(brainMask, width, height, grid);
  return costOfChunks(diffusionChunks(plan, p, network), modelCallsPerChain(samplerSettings(p, network)));
}

function costOfChunks(chunks: Chunk[], callsPerChain: number): WorkCost {
  let chains = 0;
  let elementPixels = 0;
  for (const c of chunks) {
    chains += c.elements.length;
    elementPixels += c.elements.length * c.width * c.height;
  }
  return { chains, networkCalls: chunks.length * callsPerChain, elementPixelEvaluations: elementPixels * callsPerChain, callsPerChain };
}

function copyRect(src: ArrayLike<number>, srcWidth: number, r: Rect, dst: Float32Array | Uint8Array, dstOffset: number, map?: (v: number) => number): void {
  let i = dstOffset;
  for (let y = r.y0; y < r.y1; y++) {
    const row = y * srcWidth;
    for (let x = r.x0; x < r.x1; x++, i++) dst[i] = map ? map(src[row + x]) : src[row + x] > 0 ? 1 : 0;
  }
}

interface Accumulators {
  grids: EstimateAccumulator[];
}

export async function inpaintSlice(input: SliceInput, options: InpaintSliceOptions): Promise<SliceInpaintResult> {
  const started = performance.now();
  const width = input.width ?? 256;
  const height = input.height ?? 256;
  const n = width * height;
  if (input.image.length !== n || input.brainMask.length !== n) throw new AppError('BAD_REQUEST', `The slice must be ${width}x${height}; got ${input.image.length} pixels and a mask of ${input.brainMask.length}.`);
  for (const [name, s] of [['above', input.above], ['below', input.below]] as const) if (s && s.length !== n) throw new AppError('BAD_REQUEST', `The slice ${name} must be ${width}x${height} too.`);
  const plan = planGrid(input.brainMask, width, height, { sizesPx: options.sizesPx, halfOffsets: options.halfOffsets });
  const acc: Accumulators = { grids: plan.grids.map(() => new EstimateAccumulator(width, height)) };
  const seed = options.seed ?? 0;
  let networkCalls = 0;
  let elementPixels = 0;
  let chains = 0;
  let networkMs = 0;
  let classicalMs = 0;
  let presetName: string | null = null;

  if (options.method.kind === 'classical') {
    const t0 = performance.now();
    await classicalGrid(input, width, height, plan, options.method.method, acc, options);
    classicalMs = performance.now() - t0;
    chains = plan.grids.reduce((s, g) => s + g.squares.length, 0);
  } else {
    const network = options.method.network;
    const preset = resolvePreset(options.preset, options.presetOverrides);
    presetName = preset.name;
    const chunks = diffusionChunks(plan, preset, network);
    const run = await runDiffusionChunks(chunks, input, width, network, preset, seed, options, (e, windowed, cropWidth) => {
      for (const hole of e.holes) acc.grids[e.gridIndex].addRect(hole, windowed, cropWidth, e.crop.x0, e.crop.y0);
    });
    ({ networkCalls, elementPixels, networkMs } = run);
    classicalMs = run.classicalMs;
    chains = run.chains;
  }
  return assemble(input.image, width, height, plan, acc, {
    method: options.method.kind === 'classical' ? options.method.method : `diffusion:${options.method.network.id}`,
    preset: presetName,
    networkCalls,
    elementPixelEvaluations: elementPixels,
    chains,
    timings: { totalMs: performance.now() - started, networkMs, classicalMs },
  });
}

interface ChunkRunStats {
  networkCalls: number;
  elementPixels: number;
  networkMs: number;
  classicalMs: number;
  chains: number;
}

/** Samples every chunk; `deliver` receives each element's inpainted crop in windowed units. */
async function runDiffusionChunks(
  chunks: Chunk[],
  input: SliceInput,
  width: number,
  network: InpaintNetwork,
  preset: DiffusionPreset,
  seed: number,
  options: TaskOptions,
  deliver: (element: Element, windowedCrop: Float32Array, cropWidth: number) => void,
): Promise<ChunkRunStats> {
  const settings = samplerSettings(preset, network);
  const cost = costOfChunks(chunks, modelCallsPerChain(settings));
  const toNet = toNetworkUnits(network);
  const fromNet = fromNetworkUnits(network);
  const before = { ...network.counters };
  let classicalMs = 0;
  let callsDone = 0;
  options.onProgress?.({ stage: 'inpaint', done: 0, total: cost.networkCalls });
  for (const chunk of chunks) {
    throwIfAborted(options.signal);
    const { cond, init } = chunkConditioning(chunk, input, width, preset, toNet, (m) => (classicalMs += m));
    const denoiser = network.bind(cond);
    const rngs = chunk.elements.map((e) => new GaussianRng(seed, e.key));
    const result = await sampleInpaint({ shape: cond.shape, known: cond.known, knownMask: cond.knownMask, init: preset.startFraction < 1 ? init : undefined, rngs }, denoiser, network.alphaBar, settings, {
      signal: options.signal,
      onModelCall: () => {
        callsDone++;
        options.onProgress?.({ stage: 'inpaint', done: callsDone, total: cost.networkCalls });
      },
    });
    const plane = chunk.width * chunk.height;
    chunk.elements.forEach((e, b) => {
      const windowed = new Float32Array(plane);
      for (let p = 0; p < plane; p++) windowed[p] = fromNet(result.x0[b * plane + p]);
      deliver(e, windowed, chunk.width);
    });
    // Let cancel requests and progress messages through between chunks.
    await yieldToEventLoop();
  }
  return {
    networkCalls: network.counters.calls - before.calls,
    elementPixels: network.counters.elementPixels - before.elementPixels,
    networkMs: network.counters.ms - before.ms,
    classicalMs,
    chains: cost.chains,
  };
}

function chunkConditioning(chunk: Chunk, input: SliceInput, width: number, preset: DiffusionPreset, toNet: (v: number) => number, addClassicalMs: (ms: number) => void): { cond: BatchConditioning; init: Float32Array } {
  const batch = chunk.elements.length;
  const plane = chunk.width * chunk.height;
  const known = new Float32Array(batch * plane);
  const knownMask = new Uint8Array(batch * plane).fill(1);
  const brainMask = new Uint8Array(batch * plane);
  const init = new Float32Array(batch * plane);
  const above: (Float32Array | null)[] = [];
  const below: (Float32Array | null)[] = [];
  const windowedCrop = new Float32Array(plane);
  const holeCrop = new Uint8Array(plane);
  chunk.elements.forEach((e, b) => {
    const off = b * plane;
    copyRect(input.image, width, e.crop, windowedCrop, 0, (v) => v);
    copyRect(input.brainMask, width, e.crop, brainMask, off);
    holeCrop.fill(0);
    if (e.holeMask) holeCrop.set(e.holeMask);
    for (const h of e.holes)
      for (let y = h.y0; y < h.y1; y++) holeCrop.fill(1, (y - e.crop.y0) * chunk.width + (h.x0 - e.crop.x0), (y - e.crop.y0) * chunk.width + (h.x1 - e.crop.x0));
    for (let p = 0; p < plane; p++) {
      known[off + p] = toNet(windowedCrop[p]);
      if (holeCrop[p]) knownMask[off + p] = 0;
    }
    if (preset.startFraction < 1) {
      const t0 = performance.now();
      const filled = inpaintClassical(preset.init, windowedCrop, holeCrop, [chunk.width, chunk.height, 1]).values;
      addClassicalMs(performance.now() - t0);
      for (let p = 0; p < plane; p++) init[off + p] = toNet(filled[p]);
    }
    for (const [src, list] of [
      [input.above, above],
      [input.below, below],
    ] as const) {
      if (!src) list.push(null);
      else {
        const c = new Float32Array(plane);
        copyRect(src, width, e.crop, c, 0, toNet);
        list.push(c);
      }
    }
  });
  return { cond: { shape: { batch, height: chunk.height, width: chunk.width }, known, knownMask, brainMask, above, below }, init };
}

/** Classical methods per square, in a crop reaching just past the solver's stencil (exactly equal to a whole-phase solve). */
async function classicalGrid(input: SliceInput, width: number, height: number, plan: GridPlan, method: ClassicalMethod, acc: Accumulators, options: TaskOptions): Promise<void> {
  const margin = 3;
  const total = plan.grids.reduce((s, g) => s + g.squares.length, 0);
  let done = 0;
  options.onProgress?.({ stage: 'inpaint', done: 0, total });
  for (const [gi, grid] of plan.grids.entries()) {
    throwIfAborted(options.signal);
    for (const sq of grid.squares) {
      const crop = { x0: Math.max(0, sq.x0 - margin), y0: Math.max(0, sq.y0 - margin), x1: Math.min(width, sq.x1 + margin), y1: Math.min(height, sq.y1 + margin) };
      const cw = crop.x1 - crop.x0;
      const ch = crop.y1 - crop.y0;
      const values = new Float32Array(cw * ch);
      copyRect(input.image, width, crop, values, 0, (v) => v);
      const unknown = new Uint8Array(cw * ch);
      for (let y = sq.y0; y < sq.y1; y++) unknown.fill(1, (y - crop.y0) * cw + (sq.x0 - crop.x0), (y - crop.y0) * cw + (sq.x1 - crop.x0));
      const filled = inpaintClassical(method, values, unknown, [cw, ch, 1], { signal: options.signal }).values;
      acc.grids[gi].addRect(sq, filled, cw, crop.x0, crop.y0);
      done++;
    }
    options.onProgress?.({ stage: 'inpaint', done, total });
    await yieldToEventLoop();
  }
}

function assemble(
  image: Float32Array,
  width: number,
  height: number,
  plan: GridPlan,
  acc: Accumulators,
  meta: Pick<SliceInpaintResult, 'method' | 'preset' | 'networkCalls' | 'elementPixelEvaluations' | 'chains' | 'timings'>,
): SliceInpaintResult {
  const grids: GridEstimate[] = plan.grids.map((g, i) => ({
    sizePx: g.sizePx,
    offsetPx: g.offsetPx,
    healthy: acc.grids[i].result(image),
    covered: acc.grids[i].covered(),
    squares: g.squares,
    skippedSquares: g.skipped,
  }));
  const sizes = [...new Set(plan.grids.map((g) => g.sizePx))];
  const perScale: ScaleEstimate[] = sizes.map((size) => {
    const merged = new EstimateAccumulator(width, height);
    plan.grids.forEach((g, i) => {
      if (g.sizePx === size) merged.merge(acc.grids[i]);
    });
    return { sizePx: size, healthy: merged.result(image), covered: merged.covered() };
  });
  const all = new EstimateAccumulator(width, height);
  for (const a of acc.grids) all.merge(a);
  return { width, height, grids, perScale, fused: all.result(image), fusedCovered: all.covered(), ...meta, timings: { ...meta.timings, totalMs: meta.timings.totalMs } };
}

// ---------------------------------------------------------------------------------------------

export interface StackInput {
  /** depth slices of width x height windowed values, slice k = inferior to superior. */
  images: Float32Array;
  brainMasks: Uint8Array | Float32Array;
  width: number;
  height: number;
  depth: number;
}

export interface InpaintStackOptions extends InpaintSliceOptions {
  /** Only these slice indices (default: every slice with brain). */
  slices?: number[];
  /** Receives each slice's result as soon as it is done (lets the caller store it and drop it). */
  onSlice?: (k: number, result: SliceInpaintResult) => void | Promise<void>;
  /** Keep every result in the returned list (default true). */
  keepResults?: boolean;
}

export interface StackInpaintResult {
  slices: { k: number; result?: SliceInpaintResult }[];
  networkCalls: number;
  elementPixelEvaluations: number;
  totalMs: number;
}

/** Runs `inpaintSlice` over a stack; the slices directly above and below condition each slice. */
export async function inpaintStack(stack: StackInput, options: InpaintStackOptions): Promise<StackInpaintResult> {
  const started = performance.now();
  const { width, height, depth } = stack;
  const plane = width * height;
  if (stack.images.length !== plane * depth || stack.brainMasks.length !== plane * depth) throw new AppError('BAD_REQUEST', `The stack must hold ${depth} slices of ${width}x${height}.`);
  const hasBrain = (k: number) => {
    for (let p = k * plane; p < (k + 1) * plane; p++) if (stack.brainMasks[p] > 0) return true;
    return false;
  };
  const todo = options.slices ?? [...Array(depth).keys()].filter(hasBrain);
  const out: StackInpaintResult = { slices: [], networkCalls: 0, elementPixelEvaluations: 0, totalMs: 0 };
  const sliceOf = (k: number) => (k >= 0 && k < depth ? stack.images.subarray(k * plane, (k + 1) * plane) : null);
  for (const [i, k] of todo.entries()) {
    throwIfAborted(options.signal);
    options.onProgress?.({ stage: 'inpaint-stack', done: i, total: todo.length, message: `slice ${k + 1} of ${depth}` });
    const result = await inpaintSlice(
      { image: sliceOf(k)!, brainMask: stack.brainMasks.subarray(k * plane, (k + 1) * plane), above: sliceOf(k + 1), below: sliceOf(k - 1), width, height },
      { ...options, seed: (options.seed ?? 0) + k, onProgress: undefined },
    );
    out.networkCalls += result.networkCalls;
    out.elementPixelEvaluations += result.elementPixelEvaluations;
    await options.onSlice?.(k, result);
    out.slices.push(options.keepResults === false ? { k } : { k, result });
  }
  options.onProgress?.({ stage: 'inpaint-stack', done: todo.length, total: todo.length });
  out.totalMs = performance.now() - started;
  return out;
}

// ---------------------------------------------------------------------------------------------

export interface MaskedSliceInput extends SliceInput {
  /** 1 where the pixel is to be filled. */
  mask: ArrayLike<number>;
}

export interface MaskedInpaintResult {
  /** The slice with masked pixels filled; every other pixel is the input, exactly. */
  values: Float32Array;
  networkCalls: number;
  elementPixelEvaluations: number;
  timings: { totalMs: number; networkMs: number; classicalMs: number };
}

/**
 * Fills one arbitrary mask on a slice ("repair a corrupted slice", "fill a lesion with healthy
 * tissue") in one chain, with the preset's sampler settings. Under the crop layout the chain runs
 * in a crop around the mask (`maskCrop`), as the grid's squares do: on single 32 px squares in
 * healthy phantoms that lowered the median MAE and took a ninth of the time of a whole-slice
 * chain (docs/benchmarks.md, "Masked fills in a crop").
 */
export async function inpaintMasked(input: MaskedSliceInput, options: Omit<InpaintSliceOptions, 'sizesPx' | 'halfOffsets'>): Promise<MaskedInpaintResult> {
  const started = performance.now();
  const width = input.width ?? 256;
  const height = input.height ?? 256;
  const n = width * height;
  if (input.image.length !== n || input.mask.length !== n || input.brainMask.length !== n) throw new AppError('BAD_REQUEST', `The slice, its mask and its brain mask must all be ${width}x${height}.`);
  const hole = new Uint8Array(n);
  let holes = 0;
  for (let p = 0; p < n; p++) {
    if (input.mask[p] > 0) {
      hole[p] = 1;
      holes++;
    }
  }
  const values = Float32Array.from(input.image);
  const zero = { networkCalls: 0, elementPixelEvaluations: 0 };
  if (holes === 0) return { values, ...zero, timings: { totalMs: performance.now() - started, networkMs: 0, classicalMs: 0 } };
  if (options.method.kind === 'classical') {
    const filled = inpaintClassical(options.method.method, input.image, hole, [width, height, 1], { signal: options.signal }).values;
    const classicalMs = performance.now() - started;
    return { values: filled, ...zero, timings: { totalMs: classicalMs, networkMs: 0, classicalMs } };
  }
  const network = options.method.network;
  const req = sizeRequirements(network, width, height);
  const preset = resolvePreset(options.preset, options.presetOverrides);
  const crop = preset.layout === 'crop' && !req.fixed ? maskCrop(hole, width, height, preset, req) : { x0: 0, y0: 0, x1: width, y1: height };
  const cw = crop.x1 - crop.x0;
  const ch = crop.y1 - crop.y0;
  const holeMask = new Uint8Array(cw * ch);
  copyRect(hole, width, crop, holeMask, 0);
  const element: Element = { key: 'mask', gridIndex: 0, crop, holes: [], holeMask };
  const run = await runDiffusionChunks([{ width: cw, height: ch, elements: [element] }], input, width, network, preset, options.seed ?? 0, options, (_e, windowed) => {
    for (let y = crop.y0; y < crop.y1; y++)
      for (let x = crop.x0; x < crop.x1; x++) if (hole[y * width + x]) values[y * width + x] = windowed[(y - crop.y0) * cw + (x - crop.x0)];
  });
  return { values, networkCalls: run.networkCalls, elementPixelEvaluations: run.elementPixels, timings: { totalMs: performance.now() - started, networkMs: run.networkMs, classicalMs: run.classicalMs } };
}

/**
 * The crop a masked fill runs in under the crop layout: the mask's bounding box with the context
 * margin the grid gives a square of that size, as the grid's crops are (the model was trained on
 * such crops), or the whole slice when that does not fit.
 */
function maskCrop(hole: Uint8Array, width: number, height: number, preset: DiffusionPreset, req: { multiple: number; minSize: number }): Rect {
  const whole = { x0: 0, y0: 0, x1: width, y1: height };
  // The caller returns early for an empty mask, so the box exists.
  const [minX, maxX, minY, maxY] = maskBoundingBox(hole, [width, height, 1])!;
  const box = { x0: minX, y0: minY, x1: maxX + 1, y1: maxY + 1 };
  const side = Math.max(box.x1 - box.x0, box.y1 - box.y0);
  const size = Math.max(req.minSize, roundUp(side + 2 * contextMarginPx(preset, side), req.multiple));
  return size >= width || size >= height ? whole : cropAround([box], size, width, height);
}
