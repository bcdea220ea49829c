import { AppError } from '../../../shared/errors';
import type { ConditioningChannel, ImageSizeSpec, InpaintingManifest, NoiseSchedule } from './manifest';
import type { LoadedModel } from './model';
import type { DeviceReport } from './runtime';
import type { BatchShape, Denoiser, PredictionType } from './sampler';
import { trainingAlphaBar } from './schedule';

/**
 * An inpainting network as the engine sees it: its noise schedule, how images map to its value
 * range, what input sizes it accepts, and a way to bind a batch's fixed conditioning so the
 * sampler only has to pass the noisy image and the timestep. The ONNX model is one
 * implementation; tests inject plain functions (an oracle that knows the true noise).
 */

/** Fixed conditioning of one batch. Images in network units, [batch, height, width]. */
export interface BatchConditioning {
  shape: BatchShape;
  /** The real image (network units); used only where knownMask = 1. */
  known: Float32Array;
  /** 1 where known, 0 where inpainted. */
  knownMask: Uint8Array;
  brainMask: Uint8Array;
  /** Neighbour slices in network units; null where the element has none (filled per the manifest). */
  above: (Float32Array | null)[];
  below: (Float32Array | null)[];
}

export interface NetworkCounters {
  /** Network invocations (session.run for ONNX models). */
  calls: number;
  /** Σ batch × height × width over all calls: the work actually done. */
  elementPixels: number;
  /** Wall time inside the network, ms. */
  ms: number;
}

export interface InpaintNetwork {
  id: string;
  prediction: PredictionType;
  schedule: NoiseSchedule;
  /** ᾱ of the training chain. */
  alphaBar: Float64Array;
  imageSize: ImageSizeSpec;
  windowedRange: [number, number];
  networkRange: [number, number];
  device?: DeviceReport;
  counters: NetworkCounters;
  bind(cond: BatchConditioning): Denoiser;
}

/** Linear maps between windowed values and network units. */
export function toNetworkUnits(net: Pick<InpaintNetwork, 'windowedRange' | 'networkRange'>): (v: number) => number {
  const [w0, w1] = net.windowedRange;
  const [n0, n1] = net.networkRange;
  const scale = (n1 - n0) / (w1 - w0);
  return (v) => n0 + (v - w0) * scale;
}

export function fromNetworkUnits(net: Pick<InpaintNetwork, 'windowedRange' | 'networkRange'>): (v: number) => number {
  const [w0, w1] = net.windowedRange;
  const [n0, n1] = net.networkRange;
  const scale = (w1 - w0) / (n1 - n0);
  return (v) => w0 + (v - n0) * scale;
}

export function newCounters(): NetworkCounters {
  return { calls: 0, elementPixels: 0, ms: 0 };
}

/** Adapts a loaded ONNX inpainting model. */
export function onnxNetwork(model: LoadedModel): InpaintNetwork {
  if (model.manifest.kind !== 'inpainting') throw new AppError('MODEL_MANIFEST_INVALID', `The model "${model.manifest.id}" is a ${model.manifest.kind} model, not an inpainting model.`, { field: 'kind' });
  const manifest = model.manifest as InpaintingManifest;
  const counters = newCounters();
  const { channels, knownFill, missingSliceFill, neighbourSlicesInHole } = manifest.conditioning;
  const condName = manifest.io.inputs.condition.name;
  const tName = manifest.io.inputs.timestep.name;
  const tInt = manifest.io.inputs.timestep.dtype === 'int64';
  const outName = manifest.io.output.name;
  return {
    id: manifest.id,
    prediction: manifest.prediction,
    schedule: manifest.schedule,
    alphaBar: trainingAlphaBar(manifest.schedule),
    imageSize: manifest.imageSize,
    windowedRange: manifest.intensity.windowedRange,
    networkRange: manifest.intensity.networkRange,
    device: model.device,
    counters,
    bind(cond) {
      const { batch, height, width } = cond.shape;
      const plane = height * width;
      const toNet = toNetworkUnits({ windowedRange: manifest.intensity.windowedRange, networkRange: manifest.intensity.networkRange });
      const input = buildConditioning(cond, channels, { knownFill: toNet(knownFill), missingSliceFill: toNet(missingSliceFill), neighbourSlicesInHole });
      const noisyChannel = channels.indexOf('noisy');
      const c = channels.length;
      const dims = [batch, c, height, width];
      return {
        prediction: manifest.prediction,
        async predict(x, timestep) {
          for (let b = 0; b < batch; b++) input.set(x.subarray(b * plane, (b + 1) * plane), (b * c + noisyChannel) * plane);
          const t = tInt ? new BigInt64Array(batch).fill(BigInt(timestep)) : new Float32Array(batch).fill(timestep);
          const started = performance.now();
          const out = await model.run({ [condName]: { data: input, dims }, [tName]: { data: t, dims: [batch] } });
          counters.ms += performance.now() - started;
          counters.calls++;
          counters.elementPixels += batch * plane;
          const pred = out[outName];
          if (!pred || pred.data.length !== batch * plane) throw new AppError('MODEL_SHAPE_MISMATCH', `The model "${manifest.id}" returned ${pred ? `shape [${pred.dims.join(', ')}]` : 'no output'} for an input of [${dims.join(', ')}].`);
          return pred.data;
        },
      };
    },
  };
}

export interface ConditioningFills {
  /** Network units. */
  knownFill: number;
  /** Network units. */
  missingSliceFill: number;
  /** 'hidden': the neighbour slices also carry knownFill inside the inpainting mask (see the manifest). */
  neighbourSlicesInHole: 'shown' | 'hidden';
}

/** The [batch, C, height, width] input with every channel except the noisy one filled in. */
export function buildConditioning(cond: BatchConditioning, channels: readonly ConditioningChannel[], fills: ConditioningFills): Float32Array {
  const { knownFill, missingSliceFill } = fills;
  const hideInHole = fills.neighbourSlicesInHole === 'hidden';
  const { batch, height, width } = cond.shape;
  const plane = height * width;
  const c = channels.length;
  const input = new Float32Array(batch * c * plane);
  for (let b = 0; b < batch; b++) {
    for (let ch = 0; ch < c; ch++) {
      const dst = input.subarray((b * c + ch) * plane, (b * c + ch + 1) * plane);
      const src = b * plane;
      switch (channels[ch]) {
        case 'noisy':
          break;
        case 'known':
          for (let p = 0; p < plane; p++) dst[p] = cond.knownMask[src + p] ? cond.known[src + p] : knownFill;
          break;
        case 'inpaintMask':
          for (let p = 0; p < plane; p++) dst[p] = cond.knownMask[src + p] ? 0 : 1;
          break;
        case 'brainMask':
          for (let p = 0; p < plane; p++) dst[p] = cond.brainMask[src + p] ? 1 : 0;
          break;
        case 'sliceAbove':
        case 'sliceBelow': {
          const slice = (channels[ch] === 'sliceAbove' ? cond.above : cond.below)[b];
          if (!slice) dst.fill(missingSliceFill);
          else if (hideInHole) for (let p = 0; p < plane; p++) dst[p] = cond.knownMask[src + p] ? slice[p] : knownFill;
          else dst.set(slice);
          break;
        }
      }
    }
  }
  return input;
}

export interface FunctionNetworkOptions {
  id?: string;
  prediction?: PredictionType;
  schedule?: NoiseSchedule;
  imageSize?: ImageSizeSpec;
  windowedRange?: [number, number];
  networkRange?: [number, number];
  /** The network: (noisy images, timestep, shape, conditioning) -> prediction. */
  fn: (x: Float32Array, timestep: number, shape: BatchShape, cond: BatchConditioning) => Float32Array | Promise<Float32Array>;
}

export const DEFAULT_SCHEDULE: NoiseSchedule = { type: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainingSteps: 1000, variance: 'fixedSmall' };

/** A network implemented by a JavaScript function (tests, oracles, experiments). */
export function functionNetwork(options: FunctionNetworkOptions): InpaintNetwork {
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  const counters = newCounters();
  const prediction = options.prediction ?? 'epsilon';
  return {
    id: options.id ?? 'function',
    prediction,
    schedule,
    alphaBar: trainingAlphaBar(schedule),
    imageSize: options.imageSize ?? { mode: 'fullyConvolutional', multiple: 8, trainedSize: 256 },
    windowedRange: options.windowedRange ?? [0, 1],
    networkRange: options.networkRange ?? [-1, 1],
    counters,
    bind(cond) {
      return {
        prediction,
        async predict(x, timestep, shape) {
          const started = performance.now();
          const out = await options.fn(x, timestep, shape, cond);
          counters.ms += performance.now() - started;
          counters.calls++;
          counters.elementPixels += shape.batch * shape.height * shape.width;
          return out;
        },
      };
    },
  };
}

/**
 * A network that knows the true clean images: it returns the exact noise (or v, or x0) of any
 * noisy input. With it one DDIM step recovers the clean image; tests use it to check samplers.
 */
export function oracleNetwork(clean: (cond: BatchConditioning) => Float32Array, options: Omit<FunctionNetworkOptions, 'fn'> = {}): InpaintNetwork {
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  const alphaBar = trainingAlphaBar(schedule);
  const prediction = options.prediction ?? 'epsilon';
  return functionNetwork({
    ...options,
    schedule,
    prediction,
    fn(x, t, _shape, cond) {
      const x0 = clean(cond);
      const sa = Math.sqrt(alphaBar[t]);
      const sn = Math.sqrt(1 - alphaBar[t]);
      const out = new Float32Array(x.length);
      for (let p = 0; p < x.length; p++) {
        const eps = (x[p] - sa * x0[p]) / sn;
        out[p] = prediction === 'epsilon' ? eps : prediction === 'x0' ? x0[p] : sa * eps - sn * x0[p];
      }
      return out;
    },
  });
}
