import { throwIfAborted } from '../progress';
import { GaussianRng } from './rng';
import { countDenoisingSteps, repaintSchedule, respacedAlphaBar } from './schedule';

/**
 * Diffusion samplers for inpainting: DDPM ancestral and DDIM steps, with RePaint's known-pixel
 * re-noising at every step and its jump-back resampling on top of either. They work on any
 * denoiser `(x, t) -> prediction`: an ONNX model bound to its conditioning, or a plain function
 * (tests use an oracle that returns the true noise).
 *
 * All images here are in network units (the manifest's network range, e.g. [-1, 1]) and laid out
 * [batch, height, width], x fastest.
 */

export type PredictionType = 'epsilon' | 'v' | 'x0';

export interface BatchShape {
  batch: number;
  height: number;
  width: number;
}

export interface Denoiser {
  prediction: PredictionType;
  /** Predicts for the whole batch at training timestep `timestep`; returns batch*height*width values. */
  predict(x: Float32Array, timestep: number, shape: BatchShape): Promise<Float32Array> | Float32Array;
}

/** Wraps a plain `(x, t) => eps` function as a denoiser. */
export function epsilonDenoiser(fn: (x: Float32Array, timestep: number, shape: BatchShape) => Promise<Float32Array> | Float32Array): Denoiser {
  return { prediction: 'epsilon', predict: fn };
}

export interface SamplerSettings {
  kind: 'ddpm' | 'ddim';
  /** DDIM stochasticity (0 = deterministic given the start noise). Ignored by DDPM. */
  eta: number;
  /** Training timesteps of the respaced chain, strictly rising. */
  timesteps: readonly number[];
  /** Step index the chain starts from (default: the last, i.e. timesteps[S-1]). */
  startIndex?: number;
  /** RePaint jump length and number of resamplings; 1 and 1 mean a plain chain. */
  jumpLength: number;
  jumpNSample: number;
  /** DDPM posterior variance: β̃ (fixedSmall, default) or β (fixedLarge). */
  variance?: 'fixedSmall' | 'fixedLarge';
  /** Clip predicted clean images to this range (the network range), as guided-diffusion does. */
  clipX0?: [number, number] | null;
}

export interface InpaintBatch {
  shape: BatchShape;
  /** The real image in network units; only pixels with knownMask = 1 are used. */
  known: Float32Array;
  /** 1 where the pixel is known (kept), 0 where it is inpainted. */
  knownMask: Uint8Array;
  /**
   * Starting estimate for a chain that starts from partial noise: x_start = sqrt(ᾱ) init + sqrt(1-ᾱ) z.
   * Without it the chain starts from pure noise, as RePaint does.
   */
  init?: Float32Array;
  /** One generator per batch element, so results do not depend on batching. */
  rngs: GaussianRng[];
}

export interface SampleResult {
  /** The inpainted images; known pixels equal `known` exactly. */
  x0: Float32Array;
  modelCalls: number;
}

export interface SampleOptions {
  signal?: AbortSignal;
  /** Called after every model call with (calls done, calls in all). */
  onModelCall?: (done: number, total: number) => void;
}

/** The step-index sequence a sampler walks (ending with -1), RePaint jumps included. */
export function samplerSequence(settings: Pick<SamplerSettings, 'timesteps' | 'startIndex' | 'jumpLength' | 'jumpNSample'>): number[] {
  const start = settings.startIndex ?? settings.timesteps.length - 1;
  if (!Number.isInteger(start) || start < 0 || start >= settings.timesteps.length) throw new Error(`Start index ${start} is outside the ${settings.timesteps.length}-step chain.`);
  return repaintSchedule(start + 1, settings.jumpLength, settings.jumpNSample);
}

/** Model calls one chain costs (independent of the batch size). */
export function modelCallsPerChain(settings: Pick<SamplerSettings, 'timesteps' | 'startIndex' | 'jumpLength' | 'jumpNSample'>): number {
  return countDenoisingSteps(samplerSequence(settings));
}

function fillNoise(rngs: GaussianRng[], plane: number, out: Float32Array): Float32Array {
  for (let b = 0; b < rngs.length; b++) rngs[b].fillNormal(out, b * plane, plane);
  return out;
}

/**
 * Runs one inpainting chain over a batch. Before every model call the known pixels are replaced
 * by the real image noised to the current level (RePaint eq. 8); jumps back up re-noise the whole
 * image by q(x_{t+1} | x_t). The returned image is composited so known pixels are exact.
 */
export async function sampleInpaint(batch: InpaintBatch, denoiser: Denoiser, alphaBarTrain: Float64Array, settings: SamplerSettings, options: SampleOptions = {}): Promise<SampleResult> {
  const { batch: nb, height, width } = batch.shape;
  const plane = height * width;
  const n = nb * plane;
  if (batch.known.length !== n || batch.knownMask.length !== n || (batch.init && batch.init.length !== n)) throw new Error('sampleInpaint: array sizes do not match the batch shape.');
  if (batch.rngs.length !== nb) throw new Error('sampleInpaint: one random generator per batch element is required.');
  const alphaBar = respacedAlphaBar(alphaBarTrain, settings.timesteps);
  const sequence = samplerSequence(settings);
  const totalCalls = countDenoisingSteps(sequence);
  const ab = (i: number) => (i < 0 ? 1 : alphaBar[i]);
  const clip = settings.clipX0 ?? null;
  const eta = settings.kind === 'ddim' ? settings.eta : 1;
  const { known, knownMask } = batch;
  const noise = new Float32Array(n);

  // Start state at sequence[0].
  const x = new Float32Array(n);
  fillNoise(batch.rngs, plane, noise);
  {
    const a = ab(sequence[0]);
    const sa = Math.sqrt(a);
    const sn = Math.sqrt(1 - a);
    if (batch.init) for (let p = 0; p < n; p++) x[p] = sa * batch.init[p] + sn * noise[p];
    else x.set(noise);
  }

  let calls = 0;
  const x0 = new Float32Array(n);
  const eps = new Float32Array(n);
  for (let s = 1; s < sequence.length; s++) {
    throwIfAborted(options.signal);
    const tLast = sequence[s - 1];
    const tCur = sequence[s];
    if (tCur > tLast) {
      // RePaint "undo": x_{t+1} ~ N(sqrt(1-β) x_t, β I) with the respaced β of step t+1.
      const beta = 1 - ab(tCur) / ab(tLast);
      const c = Math.sqrt(1 - beta);
      const sb = Math.sqrt(beta);
      fillNoise(batch.rngs, plane, noise);
      for (let p = 0; p < n; p++) x[p] = c * x[p] + sb * noise[p];
      continue;
    }
    const aLast = ab(tLast);
    const saLast = Math.sqrt(aLast);
    const snLast = Math.sqrt(1 - aLast);
    // Known region: the real image at the current noise level.
    fillNoise(batch.rngs, plane, noise);
    for (let p = 0; p < n; p++) if (knownMask[p]) x[p] = saLast * known[p] + snLast * noise[p];

    const pred = await denoiser.predict(x, settings.timesteps[tLast], batch.shape);
    calls++;
    if (pred.length !== n) throw new Error(`The denoiser returned ${pred.length} values for ${n} pixels.`);
    toX0AndEps(pred, denoiser.prediction, x, saLast, snLast, clip, x0, eps);

    const aCur = ab(tCur);
    const saCur = Math.sqrt(aCur);
    if (settings.kind === 'ddim') {
      const sigma = tCur < 0 ? 0 : eta * Math.sqrt((1 - aCur) / (1 - aLast)) * Math.sqrt(1 - aLast / aCur);
      const dir = Math.sqrt(Math.max(0, 1 - aCur - sigma * sigma));
      if (sigma > 0) fillNoise(batch.rngs, plane, noise);
      for (let p = 0; p < n; p++) x[p] = saCur * x0[p] + dir * eps[p] + (sigma > 0 ? sigma * noise[p] : 0);
    } else {
      // Posterior q(x_{t-1} | x_t, x0) of the respaced chain (Ho et al. 2020, eq. 7).
      const beta = 1 - aLast / aCur;
      const c0 = (saCur * beta) / (1 - aLast);
      const ct = (Math.sqrt(1 - beta) * (1 - aCur)) / (1 - aLast);
      const variance = tCur < 0 ? 0 : settings.variance === 'fixedLarge' ? beta : (beta * (1 - aCur)) / (1 - aLast);
      const sd = Math.sqrt(variance);
      if (sd > 0) fillNoise(batch.rngs, plane, noise);
      for (let p = 0; p < n; p++) x[p] = c0 * x0[p] + ct * x[p] + (sd > 0 ? sd * noise[p] : 0);
    }
    options.onModelCall?.(calls, totalCalls);
  }
  for (let p = 0; p < n; p++) if (knownMask[p]) x[p] = known[p];
  return { x0: x, modelCalls: calls };
}

/** Converts a model output into the clean-image and noise estimates at noise level ᾱ = sa². */
function toX0AndEps(pred: Float32Array, type: PredictionType, xt: Float32Array, sa: number, sn: number, clip: [number, number] | null, x0: Float32Array, eps: Float32Array): void {
  const n = xt.length;
  for (let p = 0; p < n; p++) {
    const v = pred[p];
    let c: number;
    if (type === 'epsilon') c = (xt[p] - sn * v) / sa;
    else if (type === 'v') c = sa * xt[p] - sn * v;
    else c = v;
    if (clip) c = c < clip[0] ? clip[0] : c > clip[1] ? clip[1] : c;
    x0[p] = c;
    // The noise consistent with the (possibly clipped) clean image, as guided-diffusion's DDIM does.
    eps[p] = sn > 0 ? (xt[p] - sa * c) / sn : 0;
  }
}
