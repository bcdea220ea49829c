import type { ClassicalMethod } from './classical';
import { evenlySpacedTimesteps, partialTimesteps } from './schedule';

/**
 * Named sampling presets of the diffusion inpainter.
 *
 * `reference` is the seed method as published: DDPM with 250 respaced steps and RePaint
 * resampling (jump length 10, 10 resamplings: 2,410 network calls per chain), one chain per
 * phase mask over the whole 256x256 slice, one mask per network call: about 171,000 calls for a
 * slice with a typical brain (71 non-empty masks). It exists to compare against; on this 2-core
 * CPU it would take hours per slice (bench/inpaint.ts extrapolates it from timed calls).
 *
 * `fast` is the default, designed against a budget of 10 s per slice on a 2-core CPU
 * (measurements in bench/inpaint.ts; numbers for a typical slice):
 * 1. Context crops instead of whole slices. Each square is inpainted in a crop twice its size
 *    (the square plus half a square of real context on each side). Squares of one phase are two
 *    squares apart, so a crop never holds a second hole and sees exactly the neighbourhood its
 *    phase mask gives it; the 9 phases and both offsets of a scale become independent crops of
 *    one size, batched together (split only by `maxBatchPixels`). The network evaluates 1.12 M
 *    pixels per step instead of 4.65 M for 71 whole-slice masks. Tiling several same-phase
 *    squares into one larger crop (`tileSquares`) was measured too: it wastes more pixels at the
 *    brain's edge (x2 to x5) than larger inputs gain in throughput.
 * 2. SDEdit-like partial noise: the chain starts from the linear-interpolation fill of the hole
 *    noised to half the chain (t = 500 of 1000) instead of pure noise, so a few steps suffice;
 *    the known pixels are still re-noised from the real image before every step (RePaint).
 * 3. One DDIM step (eta 0) and no resampling: the model is conditioned on the known image and
 *    the mask, so RePaint's jumps (which harmonise an unconditional model's fill with its
 *    context) are not needed, and the single step returns the model's estimate of the clean
 *    image, a conditional mean. Measured with healthy-brain-ddpm (bench:inpaint-quality, 24
 *    masks per cell, on seeds 5600-5603 that chose nothing before): 1 step against 3 lowers the
 *    median MAE (0-255) from 18.77 / 20.04 / 20.64 to 17.52 / 18.61 / 19.11 for 32 px squares,
 *    64 px squares and blobs, at a third of the network calls. More steps draw a sample, and
 *    a sample is further from the truth than the mean. A single step from pure noise
 *    (startFraction 1) was far worse (median MAE 83), so the chain still starts at t = 500.
 * Result: 7 network calls per slice (24,400x fewer than the reference) and 1.1 M pixel
 * evaluations. Every field can be overridden (`presetOverrides`; bench:inpaint-quality
 * --steps/--start-fraction/--eta).
 */
export interface DiffusionPreset {
  name: string;
  sampler: 'ddpm' | 'ddim';
  /** DDIM stochasticity. */
  eta: number;
  /** Respaced chain length: network calls per chain when there is no resampling. */
  steps: number;
  /** 1: start from pure noise at the last training step; below 1: start at this fraction of the chain from a classical fill. */
  startFraction: number;
  /** How the hole is filled before noising for a partial chain. */
  init: ClassicalMethod;
  jumpLength: number;
  jumpNSample: number;
  /** 'fullImage': one chain per phase mask over the whole slice; 'crop': one chain per square (and per masked fill) in a context crop. */
  layout: 'fullImage' | 'crop';
  /** Context margin on each side of a square, px at 256, per square size. */
  contextPx: Record<number, number>;
  /** Crop layout: k x k squares of one phase share a crop (tile), per square size; default 1. */
  tileSquares: Record<number, number>;
  /** Batch limits: elements, and batch x height x width pixels (bounds memory). */
  maxBatch: number;
  maxBatchPixels: number;
  clipX0: boolean;
}

export type PresetName = 'fast' | 'reference';
export const PRESET_NAMES: readonly PresetName[] = ['fast', 'reference'];

export const PRESETS: Readonly<Record<PresetName, Readonly<DiffusionPreset>>> = Object.freeze({
  reference: Object.freeze({
    name: 'reference',
    sampler: 'ddpm',
    eta: 1,
    steps: 250,
    startFraction: 1,
    init: 'linear',
    jumpLength: 10,
    jumpNSample: 10,
    layout: 'fullImage',
    contextPx: {},
    tileSquares: {},
    maxBatch: 1,
    maxBatchPixels: 256 * 256,
    clipX0: true,
  }),
  fast: Object.freeze({
    name: 'fast',
    sampler: 'ddim',
    eta: 0,
    steps: 1,
    startFraction: 0.5,
    init: 'linear',
    jumpLength: 1,
    jumpNSample: 1,
    layout: 'crop',
    contextPx: { 8: 4, 16: 8, 32: 16, 64: 32 },
    tileSquares: {},
    maxBatch: 512,
    maxBatchPixels: 1 << 18,
    clipX0: true,
  }),
});

export function resolvePreset(preset: PresetName | DiffusionPreset | undefined, overrides: Partial<DiffusionPreset> = {}): DiffusionPreset {
  const base = typeof preset === 'object' ? preset : PRESETS[preset ?? 'fast'];
  if (!base) throw new Error(`Unknown preset "${String(preset)}"; use ${PRESET_NAMES.join(' or ')}.`);
  return { ...base, contextPx: { ...base.contextPx }, tileSquares: { ...base.tileSquares }, ...overrides };
}

/** Context margin for a square size: the preset's entry, else half the square (at least 8 px). */
export function contextMarginPx(preset: DiffusionPreset, sizePx: number): number {
  return preset.contextPx[sizePx] ?? Math.max(8, Math.ceil(sizePx / 2));
}

/** The training timesteps a preset's chain visits, ascending. */
export function presetTimesteps(preset: DiffusionPreset, trainingSteps: number): number[] {
  if (preset.startFraction >= 1) return evenlySpacedTimesteps(trainingSteps, preset.steps);
  if (!(preset.startFraction > 0)) throw new Error('startFraction must be in (0, 1].');
  return partialTimesteps(Math.round(preset.startFraction * (trainingSteps - 1)), preset.steps);
}
