import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { AppError } from '../../../shared/errors';
import { describeDevice } from '../../../shared/provenance';
import { writeNifti } from '../../core/io/index';
import { PRESET_NAMES, type PresetName } from '../../core/inpaint/presets';
import { binaryMask, checkMaskGrid, fillMasked, FILL_METHODS, type FillMethod, type FillResult } from '../../core/pipeline/fill';
import { DEFAULT_MODEL_ID } from '../../core/pipeline/run-analysis';
import type { Volume } from '../../core/volume';
import { modelsDir } from '../../paths';
import { defineCommand, parseCommandArgs, requireNumber, type CliContext } from '../command';
import { loadOneVolume, parseDevice } from './brain-mask';

/**
 * `inpaint`: fill the masked voxels of an image with healthy-looking tissue ("repair a corrupted
 * slice", "fill a lesion"), by the diffusion model or a classical method, and write the result on
 * the input's grid. Unmasked voxels are copied unchanged.
 */

export type InpaintCommandResult = Omit<FillResult, 'values'> & {
  input: string;
  mask: string;
  output: string;
  dims: [number, number, number];
  timeMs: number;
};

function parseMethod(v: string | undefined): FillMethod {
  const m = (v ?? 'diffusion') as FillMethod;
  if (!FILL_METHODS.includes(m)) throw new AppError('BAD_REQUEST', `--method must be one of ${FILL_METHODS.join(', ')}; got "${v}".`);
  return m;
}

function parsePreset(v: string | undefined): PresetName {
  const p = (v ?? 'fast') as PresetName;
  if (!PRESET_NAMES.includes(p)) throw new AppError('BAD_REQUEST', `--preset must be ${PRESET_NAMES.join(' or ')}; got "${v}".`);
  return p;
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
  --preset P              fast (default, one DDIM step: a few model evaluations per slice) or reference (the published
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

    const image = (await loadOneVolume(input, series, ctx)).volume;
    const maskVolume = (await loadOneVolume(values.mask, undefined, ctx)).volume;
    const gridNote = checkMaskGrid(image, maskVolume);
    const out = resolve(values.out);
    const fill = await fillMasked(image, binaryMask(maskVolume), {
      method,
      modelsDir: modelsDir(),
      modelId: values.model ?? DEFAULT_MODEL_ID,
      preset,
      device,
      seed,
      signal: ctx.signal,
      onProgress: (p) => ctx.log(`${p.stage} ${p.done}/${p.total}`),
    });
    if (fill.device) ctx.log(`Model ${fill.model?.id} on ${describeDevice(fill.device)}.`);
    const { values: filled, ...stats } = fill;
    const result: InpaintCommandResult = { input: resolve(input), mask: resolve(values.mask), output: out, dims: image.dims, ...stats, timeMs: 0, notes: gridNote ? [gridNote, ...fill.notes] : fill.notes };
    const data = image.data instanceof Int16Array ? Int16Array.from(filled, (v) => Math.max(-32768, Math.min(32767, Math.round(v)))) : filled;
    await writeOutput({ ...image, data, meta: { ...image.meta, source: 'inpaint-ct inpaint', seriesDescription: `${image.meta.seriesDescription ?? 'image'} (inpainted, ${method})` } }, out, ctx);
    result.timeMs = Math.round(performance.now() - started);
    return result;
  },
  format(r) {
    const lines = [`Filled ${r.maskedVoxels} voxels of ${r.input} (${r.dims.join('x')}) with ${r.method}; wrote ${r.output} in ${(r.timeMs / 1000).toFixed(1)} s.`];
    if (r.method === 'diffusion')
      lines.push(`Model ${r.model?.id} ${r.model?.version}, preset ${r.preset}, device ${r.device?.active}: ${r.slicesInpainted} slices, ${r.networkCalls} model evaluations; ${r.filledByDiffusion} voxels by the model, ${r.filledByClassical} outside the brain by biharmonic fill.`);
    for (const n of r.notes) lines.push(`Note: ${n}`);
    return lines.join('\n');
  },
});
