import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { AppError } from '../../../shared/errors';
import { writeNifti } from '../../core/io/index';
import { CLASSICAL_METHODS, inpaintClassical, type ClassicalMethod } from '../../core/inpaint/classical';
import { inpaintMasked } from '../../core/inpaint/engine';
import type { InpaintingManifest } from '../../core/inpaint/manifest';
import { loadModel } from '../../core/inpaint/model';
import { onnxNetwork } from '../../core/inpaint/network';
import { PRESET_NAMES, type PresetName } from '../../core/inpaint/presets';
import type { DeviceReport } from '../../core/inpaint/runtime';
import { DEFAULT_MODEL_ID } from '../../core/pipeline/run-analysis';
import { extractBrain } from '../../core/preprocess/model-brain-mask';
import { conditioningSlices, inverseToNative, prepareStack, type PreparedStack } from '../../core/preprocess/geometry';
import { sameGrid, type Volume } from '../../core/volume';
import { modelsDir } from '../../paths';
import { defineCommand, parseCommandArgs, requireNumber, type CliContext } from '../command';
import { loadOneVolume, parseDevice } from './brain-mask';

/**
 * `inpaint`: fill the masked voxels of an image with healthy-looking tissue ("repair a corrupted
 * slice", "fill a lesion"), by the diffusion model or a classical method, and write the result on
 * the input's grid. Unmasked voxels are copied unchanged.
 */

type Method = 'diffusion' | ClassicalMethod;
const METHODS: readonly Method[] = ['diffusion', ...CLASSICAL_METHODS];

export interface InpaintCommandResult {
  input: string;
  mask: string;
  output: string;
  method: Method;
  model?: { id: string; version: string };
  preset?: PresetName;
  device?: DeviceReport;
  seed: number;
  dims: [number, number, number];
  maskedVoxels: number;
  /** Voxels filled by the diffusion model (inside the brain) and by the classical fallback (outside it). */
  filledByDiffusion: number;
  filledByClassical: number;
  slicesInpainted: number;
  networkCalls: number;
  elementPixelEvaluations: number;
  timeMs: number;
  notes: string[];
}

function parseMethod(v: string | undefined): Method {
  const m = (v ?? 'diffusion') as Method;
  if (!METHODS.includes(m)) throw new AppError('BAD_REQUEST', `--method must be one of ${METHODS.join(', ')}; got "${v}".`);
  return m;
}

function parsePreset(v: string | undefined): PresetName {
  const p = (v ?? 'fast') as PresetName;
  if (!PRESET_NAMES.includes(p)) throw new AppError('BAD_REQUEST', `--preset must be ${PRESET_NAMES.join(' or ')}; got "${v}".`);
  return p;
}

/** The mask must lie on the image's voxel grid; PNG masks carry no geometry, so for them only the size counts. */
function checkMaskGrid(image: Volume, mask: Volume, notes: string[]): void {
  if (mask.dims.some((d, i) => d !== image.dims[i])) throw new AppError('GEOMETRY_MISMATCH', `The mask is ${mask.dims.join('x')} voxels but the image is ${image.dims.join('x')}; they must share one grid.`);
  if (sameGrid(image, mask)) return;
  const assumed = (v: Volume) => v.warnings.some((w) => w.code === 'ASSUMED_GEOMETRY');
  if (assumed(image) || assumed(mask)) {
    notes.push('The image or the mask has no stored geometry; they were matched by voxel index.');
    return;
  }
  throw new AppError('GEOMETRY_MISMATCH', 'The mask has the same size as the image but a different position or orientation in space; it must be drawn on the image grid.');
}

function toBinary(mask: Volume): Uint8Array {
  const out = new Uint8Array(mask.data.length);
  for (let p = 0; p < out.length; p++) out[p] = mask.data[p] > 0 ? 1 : 0;
  return out;
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

async function writeOutput(volume: Volume, out: string, ctx: CliContext): Promise<void> {
  await mkdir(dirname(out), { recursive: true });
  const lower = out.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) {
    await writeNifti(volume, out, { datatype: volume.data instanceof Int16Array ? 'int16' : 'float32' });
    return;
  }
  if (lower.endsWith('.png')) {
    if (volume.dims[2] !== 1) throw new AppError('BAD_REQUEST', `A PNG holds one slice; this image has ${volume.dims[2]}. Write a .nii.gz instead.`);
    // Back to gray values with the window the PNG was read with (see core/io/png.ts).
    const center = volume.meta.windowCenter ?? 40;
    const width = volume.meta.windowWidth ?? 80;
    const gray = new Uint8Array(volume.data.length);
    for (let p = 0; p < gray.length; p++) gray[p] = Math.max(0, Math.min(255, Math.round(((volume.data[p] - (center - width / 2)) / width) * 255)));
    await writeFile(out, encodePng({ width: volume.dims[0], height: volume.dims[1], data: gray, channels: 1, depth: 8 }));
    ctx.log(`PNG written with window ${center}/${width} HU.`);
    return;
  }
  throw new AppError('BAD_REQUEST', `--out must end in .nii, .nii.gz or .png; got "${out}".`);
}

export const inpaintCommand = defineCommand<InpaintCommandResult>({
  name: 'inpaint',
  summary: 'Fill the masked voxels of an image with healthy tissue (diffusion model or classical)',
  usage: `Usage: inpaint-ct inpaint <input> --mask <mask> --out <file> [options] [--json]

Fills every voxel where the mask is non-zero and writes the image on the same grid (NIfTI, or PNG
for a single slice). Other voxels are copied unchanged.

  <input>                 NIfTI file, DICOM file or folder, or PNG slice(s)
  --mask FILE             mask on the same grid (NIfTI, DICOM or PNG); non-zero = fill
  --out FILE              .nii, .nii.gz or .png
  --method M              diffusion (default), biharmonic, harmonic, linear or nearest
  --model ID              diffusion model in the models folder (default ${DEFAULT_MODEL_ID})
  --preset P              fast (default, 3 network calls per slice) or reference (the published
                          sampler, 2,410 calls per slice: minutes per slice on a CPU)
  --device D              auto (default), cpu, webgpu or cuda
  --seed N                random seed of the diffusion sampler (default 0)
  --series N              choose one series when the input holds several

Diffusion works like the analysis: the image is brain-windowed (40/80 HU), framed and resized
to 256x256, each slice with masked brain pixels is inpainted with the slices above and below as
context, and the result is mapped back; filled values therefore lie within the brain window.
Masked voxels outside the brain get the biharmonic fill. Classical methods work on the native
voxels in 3D, weighting neighbours by 1/spacing².`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, {
      mask: { type: 'string' },
      out: { type: 'string' },
      method: { type: 'string' },
      model: { type: 'string' },
      preset: { type: 'string' },
      device: { type: 'string' },
      seed: { type: 'string' },
      series: { type: 'string' },
    });
    const input = positionals[0];
    if (!input || positionals.length > 1) throw new AppError('BAD_REQUEST', 'Give exactly one input file or folder.');
    if (!values.mask) throw new AppError('BAD_REQUEST', '--mask is required.');
    if (!values.out) throw new AppError('BAD_REQUEST', '--out is required.');
    const method = parseMethod(values.method);
    const preset = parsePreset(values.preset);
    const device = parseDevice(values.device);
    const seed = requireNumber(values.seed, '--seed', { integer: true, min: 0 }) ?? 0;
    const series = requireNumber(values.series, '--series', { integer: true, min: 1 });
    if (method !== 'diffusion' && (values.model || values.preset || values.device)) throw new AppError('BAD_REQUEST', '--model, --preset and --device apply to --method diffusion only.');
    const started = performance.now();
    const notes: string[] = [];

    const image = (await loadOneVolume(input, series, ctx)).volume;
    const maskVolume = (await loadOneVolume(values.mask, undefined, ctx)).volume;
    checkMaskGrid(image, maskVolume, notes);
    const mask = toBinary(maskVolume);
    const maskedVoxels = mask.reduce((s, v) => s + v, 0);
    if (maskedVoxels === 0) notes.push('The mask is empty; the image is written unchanged.');
    const out = resolve(values.out);
    const result: InpaintCommandResult = {
      input: resolve(input),
      mask: resolve(values.mask),
      output: out,
      method,
      seed,
      dims: image.dims,
      maskedVoxels,
      filledByDiffusion: 0,
      filledByClassical: 0,
      slicesInpainted: 0,
      networkCalls: 0,
      elementPixelEvaluations: 0,
      timeMs: 0,
      notes,
    };
    const filled = Float32Array.from(image.data);
    if (maskedVoxels > 0 && method !== 'diffusion') {
      const res = inpaintClassical(method, image.data, mask, image.dims, { spacingMm: image.spacing, signal: ctx.signal });
      filled.set(res.values);
      result.filledByClassical = maskedVoxels;
      if (!res.stats.converged) notes.push(`The ${method} solver stopped at relative residual ${res.stats.maxRelativeResidual.toExponential(1)}.`);
    } else if (maskedVoxels > 0) {
      await diffusionFill(image, mask, filled, result, { model: values.model ?? DEFAULT_MODEL_ID, preset, device, seed }, ctx);
    }
    const data = image.data instanceof Int16Array ? Int16Array.from(filled, (v) => Math.max(-32768, Math.min(32767, Math.round(v)))) : filled;
    await writeOutput({ ...image, data, meta: { ...image.meta, source: 'inpaint-ct inpaint', seriesDescription: `${image.meta.seriesDescription ?? 'image'} (inpainted, ${method})` } }, out, ctx);
    result.timeMs = Math.round(performance.now() - started);
    return result;
  },
  format(r) {
    const lines = [`Filled ${r.maskedVoxels} voxels of ${r.input} (${r.dims.join('x')}) with ${r.method}; wrote ${r.output} in ${(r.timeMs / 1000).toFixed(1)} s.`];
    if (r.method === 'diffusion')
      lines.push(`Model ${r.model?.id} ${r.model?.version}, preset ${r.preset}, device ${r.device?.active}: ${r.slicesInpainted} slices, ${r.networkCalls} network calls; ${r.filledByDiffusion} voxels by the model, ${r.filledByClassical} outside the brain by biharmonic fill.`);
    for (const n of r.notes) lines.push(`Note: ${n}`);
    return lines.join('\n');
  },
});

async function diffusionFill(
  image: Volume,
  mask: Uint8Array,
  filled: Float32Array,
  result: InpaintCommandResult,
  opts: { model: string; preset: PresetName; device?: ReturnType<typeof parseDevice>; seed: number },
  ctx: CliContext,
): Promise<void> {
  const model = await loadModel(modelsDir(), opts.model, { device: opts.device, kind: 'inpainting' });
  try {
    const manifest = model.manifest as InpaintingManifest;
    const network = onnxNetwork(model);
    result.model = { id: manifest.id, version: manifest.version };
    result.preset = opts.preset;
    result.device = model.device;
    ctx.log(`Model ${manifest.id} on ${model.device.active}${model.device.skipped.length ? ` (skipped: ${model.device.skipped.map((s) => `${s.device}: ${s.reason}`).join('; ')})` : ''}.`);
    const brain = await extractBrain(image, { signal: ctx.signal, onProgress: (p) => ctx.log(`${p.stage} ${p.done}/${p.total}`) });
    const brainMask = brain.mask;
    const window = manifest.intensity.window;
    const stack = prepareStack(image, brainMask, { window, signal: ctx.signal });
    for (const w of stack.warnings) result.notes.push(w);
    const mask256 = maskTo256(image, brainMask, mask, stack);
    const plane = stack.size * stack.size;
    const healthy = Float32Array.from(stack.images256);
    for (let k = 0; k < stack.sliceCount; k++) {
      const m = mask256.subarray(k * plane, (k + 1) * plane);
      if (!m.some((v) => v > 0)) continue;
      const c = conditioningSlices(stack, k);
      const res = await inpaintMasked({ image: c.current, mask: m, brainMask: c.mask, above: c.above, below: c.below, width: stack.size, height: stack.size }, { method: { kind: 'diffusion', network }, preset: opts.preset, seed: opts.seed + k, signal: ctx.signal });
      healthy.set(res.values, k * plane);
      result.networkCalls += res.networkCalls;
      result.elementPixelEvaluations += res.elementPixelEvaluations;
      result.slicesInpainted++;
      ctx.log(`slice ${k + 1}/${stack.sliceCount}: ${res.networkCalls} network calls, ${(res.timings.totalMs / 1000).toFixed(1)} s`);
    }
    // Back to native voxels and HU; only masked brain voxels take the model's values.
    const windowed = inverseToNative(healthy, stack.transform, { interpolation: 'bilinear', fill: 0 });
    const [w0, w1] = manifest.intensity.windowedRange;
    const low = window.centerHu - window.widthHu / 2;
    const outside = new Uint8Array(mask.length);
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      if (brainMask[p]) {
        filled[p] = low + ((windowed[p] - w0) / (w1 - w0)) * window.widthHu;
        result.filledByDiffusion++;
      } else outside[p] = 1;
    }
    const outsideCount = result.maskedVoxels - result.filledByDiffusion;
    if (outsideCount > 0) {
      const res = inpaintClassical('biharmonic', image.data, outside, image.dims, { spacingMm: image.spacing, signal: ctx.signal });
      for (let p = 0; p < mask.length; p++) if (outside[p]) filled[p] = res.values[p];
      result.filledByClassical = outsideCount;
      result.notes.push(`${outsideCount} masked voxels lie outside the brain, where the model does not apply; they were filled by biharmonic interpolation.`);
    }
  } finally {
    await model.dispose();
  }
}
