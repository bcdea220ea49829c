/**
 * Masked filling ("repair a corrupted slice", "fill a lesion"): the voxels under a mask are
 * replaced by healthy-looking tissue, by the diffusion model or a classical inpainter, and every
 * other voxel is kept. Shared by the CLI `inpaint` command and the workbench of the app, so both
 * produce the same values for the same inputs.
 */
import { AppError } from '../../../shared/errors';
import { CLASSICAL_METHODS, inpaintClassical, type ClassicalMethod } from '../inpaint/classical';
import { inpaintMasked } from '../inpaint/engine';
import type { InpaintingManifest } from '../inpaint/manifest';
import { loadModel } from '../inpaint/model';
import { onnxNetwork } from '../inpaint/network';
import type { PresetName } from '../inpaint/presets';
import type { DeviceReport, DeviceRequest } from '../inpaint/runtime';
import { extractBrain } from '../preprocess/model-brain-mask';
import { conditioningSlices, inverseToNative, prepareStack, type PreparedStack } from '../preprocess/geometry';
import { throwIfAborted, type TaskOptions } from '../progress';
import { sameGrid, type Volume } from '../volume';

export type FillMethod = 'diffusion' | ClassicalMethod;
export const FILL_METHODS: readonly FillMethod[] = ['diffusion', ...CLASSICAL_METHODS];

export interface FillOptions extends TaskOptions {
  method: FillMethod;
  /** Diffusion only. */
  modelsDir?: string;
  modelId?: string;
  preset?: PresetName;
  device?: DeviceRequest;
  /** Seed of the diffusion sampler; slice k uses seed + k. */
  seed?: number;
}

export interface FillResult {
  /** The whole image on its own grid, masked voxels replaced (HU, or the input's unit). */
  values: Float32Array;
  method: FillMethod;
  model?: { id: string; version: string };
  preset?: PresetName;
  device?: DeviceReport;
  seed: number;
  maskedVoxels: number;
  /** Voxels filled by the diffusion model (inside the brain) and by the classical fallback (outside it). */
  filledByDiffusion: number;
  filledByClassical: number;
  slicesInpainted: number;
  networkCalls: number;
  elementPixelEvaluations: number;
  notes: string[];
}

/** Non-zero voxels of a mask image as 0/1. */
export function binaryMask(mask: Volume): Uint8Array {
  const out = new Uint8Array(mask.data.length);
  for (let p = 0; p < out.length; p++) out[p] = mask.data[p] > 0 ? 1 : 0;
  return out;
}

/**
 * The mask must lie on the image's voxel grid; PNG masks carry no geometry, so for them only the
 * size counts. Returns a note when the grids were matched by voxel index alone.
 */
export function checkMaskGrid(image: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction' | 'warnings'>, mask: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction' | 'warnings'>): string | null {
  if (mask.dims.some((d, i) => d !== image.dims[i])) throw new AppError('GEOMETRY_MISMATCH', `The mask is ${mask.dims.join('x')} voxels but the image is ${image.dims.join('x')}; they must share one grid.`);
  if (sameGrid(image, mask)) return null;
  const assumed = (v: Pick<Volume, 'warnings'>) => v.warnings.some((w) => w.code === 'ASSUMED_GEOMETRY');
  if (assumed(image) || assumed(mask)) return 'The image or the mask has no stored geometry; they were matched by voxel index.';
  throw new AppError('GEOMETRY_MISMATCH', 'The mask has the same size as the image but a different position or orientation in space; it must be drawn on the image grid.');
}

/** Fills the masked voxels of `image`; voxels outside the mask keep their values exactly. */
export async function fillMasked(image: Volume, mask: Uint8Array, options: FillOptions): Promise<FillResult> {
  if (mask.length !== image.data.length) throw new AppError('GEOMETRY_MISMATCH', `The mask holds ${mask.length} voxels but the image ${image.data.length}; they must share one grid.`);
  if (!FILL_METHODS.includes(options.method)) throw new AppError('BAD_REQUEST', `The fill method must be one of ${FILL_METHODS.join(', ')}.`);
  const maskedVoxels = mask.reduce((s, v) => s + (v ? 1 : 0), 0);
  const result: FillResult = {
    values: Float32Array.from(image.data),
    method: options.method,
    seed: options.seed ?? 0,
    maskedVoxels,
    filledByDiffusion: 0,
    filledByClassical: 0,
    slicesInpainted: 0,
    networkCalls: 0,
    elementPixelEvaluations: 0,
    notes: [],
  };
  if (maskedVoxels === 0) {
    result.notes.push('The mask is empty; the image is unchanged.');
    return result;
  }
  if (options.method === 'diffusion') {
    await diffusionFill(image, mask, result, options);
    return result;
  }
  options.onProgress?.({ stage: `Filling with ${options.method} interpolation`, done: 0, total: 1 });
  const res = inpaintClassical(options.method, image.data, mask, image.dims, { spacingMm: image.spacing, signal: options.signal });
  result.values.set(res.values);
  result.filledByClassical = maskedVoxels;
  if (options.method === 'biharmonic') {
    const clipped = clampToBoundaryRange(result.values, image.data, mask, image.dims);
    if (clipped > 0) result.notes.push(`${clipped} biharmonic values overshot the range of the voxels around the mask and were clipped to it.`);
  }
  if (!res.stats.converged) result.notes.push(`The ${options.method} solver stopped at relative residual ${res.stats.maxRelativeResidual.toExponential(1)}.`);
  options.onProgress?.({ stage: `Filling with ${options.method} interpolation`, done: 1, total: 1 });
  return result;
}

/**
 * A biharmonic fill is smooth but, unlike a harmonic one, not bounded by its boundary values: next
 * to bone or air it rings by hundreds of HU. Filled values are clipped to the range of the known
 * voxels that touch the mask (6-neighbourhood). Returns how many values were clipped.
 */
function clampToBoundaryRange(values: Float32Array, known: ArrayLike<number>, mask: Uint8Array, dims: readonly [number, number, number]): number {
  const [nx, ny, nz] = dims;
  const plane = nx * ny;
  let low = Infinity;
  let high = -Infinity;
  for (let p = 0; p < mask.length; p++) {
    if (mask[p]) continue;
    const i = p % nx;
    const j = Math.floor(p / nx) % ny;
    const k = Math.floor(p / plane);
    const touches = (i > 0 && mask[p - 1]) || (i < nx - 1 && mask[p + 1]) || (j > 0 && mask[p - nx]) || (j < ny - 1 && mask[p + nx]) || (k > 0 && mask[p - plane]) || (k < nz - 1 && mask[p + plane]);
    if (!touches) continue;
    low = Math.min(low, known[p]);
    high = Math.max(high, known[p]);
  }
  if (low > high) return 0; // the mask covers everything: no boundary to bound by
  let clipped = 0;
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const v = values[p];
    if (v < low || v > high) {
      values[p] = v < low ? low : high;
      clipped++;
    }
  }
  return clipped;
}

/** Maps a native-grid mask onto the prepared 256 grid: a 256 pixel is masked when any of its native voxels is. */
function maskTo256(volume: Volume, brainMask: Uint8Array, mask: Uint8Array, stack: PreparedStack): Uint8Array {
  // Same framing (it is centred on the brain mask) with a window that passes 0/1 through unchanged.
  const maskVolume: Volume = { ...volume, data: Float32Array.from(mask), intensityUnit: 'HU', warnings: [] };
  const framed = prepareStack(maskVolume, brainMask, { window: { centerHu: 0.5, widthHu: 1 }, skullStrip: false });
  const a = stack.transform;
  const b = framed.transform;
  if (a.frameOriginNative.join() !== b.frameOriginNative.join() || a.nativePixelsPerFramePixel.join() !== b.nativePixelsPerFramePixel.join()) throw new Error('The mask was framed differently from the image.');
  return Uint8Array.from(framed.images256, (v) => (v > 0 ? 1 : 0));
}

/**
 * Works like the analysis: the image is brain-windowed, framed and resized to 256x256, each slice
 * with masked brain pixels is inpainted with the slices above and below as context, and the result
 * is mapped back, so filled values lie within the brain window. Masked voxels outside the brain,
 * where the model does not apply, get the biharmonic fill.
 */
async function diffusionFill(image: Volume, mask: Uint8Array, result: FillResult, options: FillOptions): Promise<void> {
  if (!options.modelsDir || !options.modelId) throw new AppError('BAD_REQUEST', 'Filling with the diffusion model needs a model; choose one.');
  const model = await loadModel(options.modelsDir, options.modelId, { device: options.device, kind: 'inpainting' });
  try {
    const manifest = model.manifest as InpaintingManifest;
    const network = onnxNetwork(model);
    const preset = options.preset ?? 'fast';
    result.model = { id: manifest.id, version: manifest.version };
    result.preset = preset;
    result.device = model.device;
    const brain = await extractBrain(image, { signal: options.signal, onProgress: options.onProgress });
    const brainMask = brain.mask;
    const window = manifest.intensity.window;
    const stack = prepareStack(image, brainMask, { window, signal: options.signal });
    result.notes.push(...stack.warnings);
    const mask256 = maskTo256(image, brainMask, mask, stack);
    const plane = stack.size * stack.size;
    const healthy = Float32Array.from(stack.images256);
    const todo: number[] = [];
    for (let k = 0; k < stack.sliceCount; k++) if (mask256.subarray(k * plane, (k + 1) * plane).some((v) => v > 0)) todo.push(k);
    const stage = `Inpainting ${todo.length} slice${todo.length === 1 ? '' : 's'} (${manifest.id}, ${preset})`;
    for (const [n, k] of todo.entries()) {
      throwIfAborted(options.signal);
      options.onProgress?.({ stage, done: n, total: todo.length });
      const c = conditioningSlices(stack, k);
      const m = mask256.subarray(k * plane, (k + 1) * plane);
      const res = await inpaintMasked(
        { image: c.current, mask: m, brainMask: c.mask, above: c.above, below: c.below, width: stack.size, height: stack.size },
        { method: { kind: 'diffusion', network }, preset, seed: result.seed + k, signal: options.signal },
      );
      healthy.set(res.values, k * plane);
      result.networkCalls += res.networkCalls;
      result.elementPixelEvaluations += res.elementPixelEvaluations;
      result.slicesInpainted++;
    }
    options.onProgress?.({ stage, done: todo.length, total: todo.length });
    // Back to native voxels and HU; only masked brain voxels take the model's values.
    const windowed = inverseToNative(healthy, stack.transform, { interpolation: 'bilinear', fill: 0 });
    const [w0, w1] = manifest.intensity.windowedRange;
    const low = window.centerHu - window.widthHu / 2;
    const outside = new Uint8Array(mask.length);
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      if (brainMask[p]) {
        result.values[p] = low + ((windowed[p] - w0) / (w1 - w0)) * window.widthHu;
        result.filledByDiffusion++;
      } else outside[p] = 1;
    }
    const outsideCount = result.maskedVoxels - result.filledByDiffusion;
    if (outsideCount > 0) {
      const res = inpaintClassical('biharmonic', image.data, outside, image.dims, { spacingMm: image.spacing, signal: options.signal });
      clampToBoundaryRange(res.values, image.data, outside, image.dims);
      for (let p = 0; p < mask.length; p++) if (outside[p]) result.values[p] = res.values[p];
      result.filledByClassical = outsideCount;
      result.notes.push(`${outsideCount} masked voxels lie outside the brain, where the model does not apply; they were filled by biharmonic interpolation.`);
    }
  } finally {
    await model.dispose();
  }
}
