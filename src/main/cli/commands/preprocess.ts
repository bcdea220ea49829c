import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { WINDOW_PRESET_IDS, WINDOW_PRESETS, type WindowPresetId } from '../../../shared/windows';
import { readNifti, writeNifti } from '../../core/io/index';
import { outputGrid, prepareStack, type PreprocessTransform, type SpacingPolicy } from '../../core/preprocess/geometry';
import { CLASSICAL_METHOD, extractBrain } from '../../core/preprocess/model-brain-mask';
import { sameGrid, type Volume } from '../../core/volume';
import { modelsDir } from '../../paths';
import { defineCommand, parseCommandArgs, requireNumber } from '../command';
import { loadOneVolume, parseDevice, statsSummary, writeMaskOnInputGrid } from './brain-mask';

export const PREPROCESS_FILES = {
  image: 'image256.nii.gz',
  mask: 'brainmask256.nii.gz',
  nativeMask: 'brainmask.nii.gz',
  transform: 'preprocess.json',
} as const;

export interface PreprocessCommandResult {
  input: string;
  outDir: string;
  files: string[];
  brainMask: { source: 'given' } | ReturnType<typeof statsSummary>;
  transform: PreprocessTransform;
  warnings: string[];
}

const SPACING_POLICIES: SpacingPolicy[] = ['auto', 'pixels', 'resample'];

export const preprocessCommand = defineCommand<PreprocessCommandResult>({
  name: 'preprocess',
  summary: 'Write the 256x256 brain-windowed stack and brain masks the model sees, as NIfTI',
  usage: `Usage: inpaint-ct preprocess <input> --out <dir> [--method classical|<model-id>] [--mask FILE]
       [--spacing auto|pixels|resample] [--window brain|subdural|stroke|bone] [--no-skull-strip] [--series N] [--json]

Runs the method's preprocessing on one CT series: brain extraction, brain window (40/80 HU)
to [0, 1], pad/crop to 512x512 centred on the brain, area resize to 256x256. Writes to <dir>:
  ${PREPROCESS_FILES.image}      windowed stack, float32, one 256x256 slice per input slice
  ${PREPROCESS_FILES.mask}  brain mask on the same grid (uint8)
  ${PREPROCESS_FILES.nativeMask}     brain mask on the input grid (uint8)
  ${PREPROCESS_FILES.transform}       the exact transform (to map results back) and provenance
Both 256 files carry an affine that overlays them on the input in any NIfTI viewer.
  --method M        brain extraction: "classical" (default) or an installed model id
  --mask FILE       use this brain mask (NIfTI on the input grid) instead of extracting one
  --spacing P       auto (default: the method's pixel grid when pixels are 0.45 mm +-10%, else
                    resample to 0.45 mm first), pixels (always the method's pixel grid), resample
  --window W        analysis window preset (default brain)
  --no-skull-strip  keep the tissue outside the brain mask in the image`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, {
      out: { type: 'string', short: 'o' },
      method: { type: 'string' },
      mask: { type: 'string' },
      spacing: { type: 'string' },
      window: { type: 'string' },
      'no-skull-strip': { type: 'boolean' },
      series: { type: 'string' },
      device: { type: 'string' },
    });
    if (positionals.length !== 1) throw new AppError('BAD_REQUEST', 'Name one input (a DICOM folder, NIfTI file or PNG folder).');
    if (!values.out) throw new AppError('BAD_REQUEST', 'Give the output folder with --out <dir>.');
    if (values.mask && values.method) throw new AppError('BAD_REQUEST', 'Give either --mask or --method, not both.');
    const spacing = (values.spacing ?? 'auto') as SpacingPolicy;
    if (!SPACING_POLICIES.includes(spacing)) throw new AppError('BAD_REQUEST', `--spacing must be one of ${SPACING_POLICIES.join(', ')}; got "${values.spacing}".`);
    const windowId = (values.window ?? 'brain') as WindowPresetId;
    if (!WINDOW_PRESET_IDS.includes(windowId)) throw new AppError('BAD_REQUEST', `--window must be one of ${WINDOW_PRESET_IDS.join(', ')}; got "${values.window}".`);
    const seriesNumber = requireNumber(values.series, '--series', { min: 1, integer: true });

    const source = await loadOneVolume(positionals[0], seriesNumber, ctx);
    const volume = source.volume;
    let mask: Uint8Array;
    let brainMask: PreprocessCommandResult['brainMask'];
    if (values.mask) {
      mask = await readMaskOnGrid(values.mask, volume);
      brainMask = { source: 'given' };
    } else {
      const method = values.method ?? CLASSICAL_METHOD;
      ctx.log(`Brain extraction (${method}) of ${volume.dims.join('x')} voxels...`);
      const result = await extractBrain(volume, { method, modelsDir: modelsDir(), device: parseDevice(values.device), signal: ctx.signal });
      mask = result.mask;
      brainMask = statsSummary(result.stats);
    }
    const stack = prepareStack(volume, mask, { spacing, window: WINDOW_PRESETS[windowId], skullStrip: !values['no-skull-strip'], signal: ctx.signal });
    for (const w of stack.warnings) ctx.log(`warning: ${w}`);

    const outDir = resolve(values.out);
    await mkdir(outDir, { recursive: true });
    const grid = outputGrid(stack.transform);
    const base: Omit<Volume, 'data' | 'intensityUnit'> = { ...grid, meta: { source: 'inpaint-ct preprocess', modality: volume.meta.modality }, warnings: [] };
    const files = [join(outDir, PREPROCESS_FILES.image), join(outDir, PREPROCESS_FILES.mask), join(outDir, PREPROCESS_FILES.nativeMask), join(outDir, PREPROCESS_FILES.transform)];
    await writeNifti({ ...base, data: stack.images256, intensityUnit: 'windowed', meta: { ...base.meta, seriesDescription: `${windowId} window 256`, windowCenter: 0.5, windowWidth: 1 } }, files[0], { datatype: 'float32' });
    await writeNifti({ ...base, data: Int16Array.from(stack.masks256), intensityUnit: 'raw', meta: { ...base.meta, seriesDescription: 'brain mask 256' } }, files[1], { datatype: 'uint8' });
    await writeMaskOnInputGrid(volume, mask, files[2], source);
    const result: PreprocessCommandResult = { input: resolve(positionals[0]), outDir, files, brainMask, transform: stack.transform, warnings: stack.warnings };
    await writeFile(files[3], JSON.stringify({ tool: 'inpaint-ct preprocess', window: windowId, ...result }, null, 2) + '\n');
    return result;
  },
  format(r) {
    const t = r.transform;
    return [
      `Preprocessed stack written to ${r.outDir}`,
      `  ${t.nativeDims.join('x')} -> ${t.outputSize}x${t.outputSize}x${t.nativeDims[2]} (${t.mode === 'pixels' ? 'method pixel grid' : `resampled to ${t.framePixelSpacingMm[0].toFixed(2)} mm`}), frame origin ${t.frameOriginNative.map((x) => x.toFixed(1)).join(', ')}`,
      'method' in r.brainMask ? `  brain mask: ${r.brainMask.method}, ${r.brainMask.volumeMl} ml` : '  brain mask: given',
      ...r.warnings.map((w) => `  warning: ${w}`),
    ].join('\n');
  },
});

async function readMaskOnGrid(path: string, volume: Volume): Promise<Uint8Array> {
  const m = await readNifti(resolve(path));
  if (!sameGrid(m, volume, 0.01)) {
    throw new AppError('GEOMETRY_MISMATCH', `The mask ${path} is not on the image's grid (${m.dims.join('x')} voxels vs ${volume.dims.join('x')}, or a different position); give a mask made on this image.`, { file: path });
  }
  const out = new Uint8Array(m.data.length);
  for (let p = 0; p < out.length; p++) out[p] = m.data[p] > 0.5 ? 1 : 0;
  return out;
}
