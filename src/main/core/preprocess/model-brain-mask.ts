import { AppError } from '../../../shared/errors';
import type { BrainExtractionManifest } from '../inpaint/manifest';
import { loadModel, type LoadedModel } from '../inpaint/model';
import type { DeviceRequest } from '../inpaint/runtime';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../progress';
import { voxelVolumeMl, type Volume } from '../volume';
import { assertBrainFound, assertCtLike, classicalBrainMask, countMask, type BrainMaskResult } from './brain-mask';
import { borderPixels, fillHolesInPlace, keepLargestComponent3D, SliceScratch } from './morphology';

/**
 * Brain extraction by a segmentation network of CT_BET's kind (a U-Net taking HU slices and
 * returning a brain probability per pixel), loaded through the same manifest and loader as the
 * inpainting models (kind "brain-extraction"). Slices are fed in native pixels, padded or cropped
 * about the image centre to the network's size, as such networks are trained on 512x512 slices.
 * The probability is cut at the manifest's threshold, then cleaned the way CT_BET's own
 * post-processing does: largest 3D component, holes filled per slice.
 */

export const CLASSICAL_METHOD = 'classical';

export interface BrainExtractionOptions extends TaskOptions {
  /** 'classical' (default) or the id of an installed brain-extraction model. */
  method?: string;
  modelsDir?: string;
  device?: DeviceRequest;
  /** Slices per network call (default 4; 1 when the model's batch axis is fixed at 1). */
  batchSize?: number;
}

/** The one entry point: classical by default, a model when one is named. */
export async function extractBrain(volume: Volume, options: BrainExtractionOptions = {}): Promise<BrainMaskResult> {
  const method = options.method ?? CLASSICAL_METHOD;
  if (method === CLASSICAL_METHOD) return classicalBrainMask(volume, options);
  if (!options.modelsDir) throw new AppError('MODEL_NOT_FOUND', `The brain extraction model "${method}" cannot be looked up: no models folder is configured.`);
  assertCtLike(volume);
  const model = (await loadModel(options.modelsDir, method, { kind: 'brain-extraction', device: options.device })) as LoadedModel<BrainExtractionManifest>;
  try {
    return await modelBrainMask(volume, model, options);
  } finally {
    await model.dispose();
  }
}

/** Affine map HU -> network units: window to windowedRange (clipped), then to networkRange. */
function intensityMap(m: BrainExtractionManifest): (hu: number) => number {
  const { window, windowedRange, networkRange } = m.intensity;
  const low = window.centerHu - window.widthHu / 2;
  const [w0, w1] = windowedRange;
  const [n0, n1] = networkRange;
  return (hu: number) => {
    let t = (hu - low) / window.widthHu;
    t = t > 0 ? (t < 1 ? t : 1) : 0;
    const w = w0 + t * (w1 - w0);
    return n0 + ((w - w0) / (w1 - w0)) * (n1 - n0);
  };
}

function networkSize(m: BrainExtractionManifest, nx: number, ny: number): [width: number, height: number] {
  if (m.imageSize.mode === 'fixed') return [m.imageSize.width, m.imageSize.height];
  const q = m.imageSize.multiple;
  return [Math.ceil(nx / q) * q, Math.ceil(ny / q) * q];
}

/** Native and network pixel offsets of the pixels both grids share (the pad/crop overlap). */
function overlapPairs(nx: number, ny: number, W: number, H: number, ox: number, oy: number): { native: Int32Array; network: Int32Array } {
  const i0 = Math.max(0, -ox);
  const i1 = Math.min(nx, W - ox);
  const j0 = Math.max(0, -oy);
  const j1 = Math.min(ny, H - oy);
  const count = Math.max(0, i1 - i0) * Math.max(0, j1 - j0);
  const native = new Int32Array(count);
  const network = new Int32Array(count);
  let q = 0;
  for (let j = j0; j < j1; j++)
    for (let i = i0; i < i1; i++, q++) {
      native[q] = j * nx + i;
      network[q] = (j + oy) * W + i + ox;
    }
  return { native, network };
}

export async function modelBrainMask(volume: Volume, model: LoadedModel<BrainExtractionManifest>, options: TaskOptions & { batchSize?: number } = {}): Promise<BrainMaskResult> {
  const started = performance.now();
  assertCtLike(volume);
  const m = model.manifest;
  const inputShape = m.io.inputs.image.shape;
  if (inputShape[1] !== 1 && typeof inputShape[1] === 'number') {
    throw new AppError('MODEL_SHAPE_MISMATCH', `The brain extraction model "${m.id}" expects ${inputShape[1]} channels; only single-channel CT slices are supported.`, { id: m.id });
  }
  const [nx, ny, nz] = volume.dims;
  const n = nx * ny;
  const [W, H] = networkSize(m, nx, ny);
  // Native pixel i sits at network column i + ox (centred pad or crop).
  const ox = Math.floor((W - nx) / 2);
  const oy = Math.floor((H - ny) / 2);
  const pairs = overlapPairs(nx, ny, W, H, ox, oy);
  const toNetwork = intensityMap(m);
  const padValue = toNetwork(-1024);
  const batchAxis = inputShape[0];
  const batch = typeof batchAxis === 'number' ? batchAxis : Math.max(1, options.batchSize ?? 4);
  const input = new Float32Array(batch * H * W);
  const mask = new Uint8Array(n * nz);
  const sigmoid = m.maskOutput.activation === 'sigmoid';
  const threshold = m.maskOutput.threshold;

  for (let k0 = 0; k0 < nz; k0 += batch) {
    throwIfAborted(options.signal);
    const count = Math.min(batch, nz - k0);
    input.fill(padValue);
    for (let b = 0; b < count; b++) {
      const base = (k0 + b) * n;
      const netBase = b * H * W;
      for (let q = 0; q < pairs.native.length; q++) input[netBase + pairs.network[q]] = toNetwork(volume.data[base + pairs.native[q]]);
    }
    // A fixed batch axis gets padding slices; a dynamic one gets exactly the slices left.
    const feedBatch = typeof batchAxis === 'number' ? batch : count;
    const outputs = await model.run({ [m.io.inputs.image.name]: { data: input.subarray(0, feedBatch * H * W), dims: [feedBatch, 1, H, W] } });
    const out = outputs[m.io.output.name];
    if (!out || out.data.length < feedBatch * H * W) {
      throw new AppError('MODEL_SHAPE_MISMATCH', `The brain extraction model "${m.id}" returned ${out ? `shape [${out.dims.join(', ')}]` : 'no output'}; [${feedBatch}, 1, ${H}, ${W}] was expected.`, { id: m.id });
    }
    for (let b = 0; b < count; b++) {
      const base = (k0 + b) * n;
      const netBase = b * H * W;
      for (let q = 0; q < pairs.native.length; q++) {
        const raw = out.data[netBase + pairs.network[q]];
        const value = sigmoid ? 1 / (1 + Math.exp(-raw)) : raw;
        if (value >= threshold) mask[base + pairs.native[q]] = 1;
      }
    }
    options.onProgress?.({ stage: 'brain-mask', done: Math.min(nz, k0 + batch), total: nz });
    await yieldToEventLoop();
  }

  const { size } = keepLargestComponent3D(mask, nx, ny, nz);
  const scratch = new SliceScratch(nx, ny);
  const border = borderPixels(nx, ny);
  const outside = new Uint8Array(n);
  for (let k = 0; k < nz; k++) fillHolesInPlace(mask, k * n, nx, ny, scratch, outside, border);
  const { voxels, slicesWithBrain } = countMask(mask, volume.dims);
  const volumeMl = size ? voxels * voxelVolumeMl(volume.spacing) : 0;
  assertBrainFound(volume, mask, volumeMl);
  return {
    mask,
    stats: { method: `model:${m.id}@${m.version}`, volumeMl, slicesWithBrain, slicesWithoutSkull: 0, slicesCorrected: 0, elapsedMs: performance.now() - started },
  };
}
