import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { decodeNifti, scanInputs, writeNifti, type LoadedSeries } from '../../core/io/index';
import { gunzipOrThrow, isGzip, readInputFile } from '../../core/io/files';
import { DEVICE_REQUESTS, type DeviceRequest } from '../../core/inpaint/runtime';
import { CLASSICAL_METHOD, extractBrain } from '../../core/preprocess/model-brain-mask';
import type { BrainMaskStats } from '../../core/preprocess/brain-mask';
import { voxelToLps, type Vec3, type Volume } from '../../core/volume';
import { modelsDir } from '../../paths';
import { defineCommand, parseCommandArgs, requireNumber, type CliContext } from '../command';

/**
 * Loads exactly one volume from a file or folder. A folder with several series needs --series N
 * (1-based, in the order the importer lists them), so the mask never lands on the wrong series.
 */
export async function loadOneVolume(input: string, seriesNumber: number | undefined, ctx: CliContext): Promise<LoadedSeries> {
  const scan = await scanInputs([resolve(input)], { signal: ctx.signal });
  for (const n of scan.notes) ctx.log(`note: ${n.file}: ${n.message}`);
  if (scan.series.length === 0) {
    const e = scan.errors[0];
    throw new AppError(e?.code ?? 'NO_IMAGES_FOUND', e?.message ?? `No images were found in "${input}".`, e ? { file: e.file } : undefined);
  }
  for (const e of scan.errors) ctx.log(`skipped: ${e.file}: ${e.message}`);
  const list = scan.series.map((s, i) => `  ${i + 1}: ${s.volume.meta.modality ?? '?'} ${s.volume.dims.join('x')} ${s.volume.meta.seriesDescription ?? ''} (${s.files.length} file${s.files.length === 1 ? '' : 's'})`).join('\n');
  if (seriesNumber !== undefined) {
    if (seriesNumber > scan.series.length) throw new AppError('BAD_REQUEST', `--series ${seriesNumber} does not exist; "${input}" holds ${scan.series.length} series:\n${list}`);
    return scan.series[seriesNumber - 1];
  }
  if (scan.series.length > 1) throw new AppError('BAD_REQUEST', `"${input}" holds ${scan.series.length} series; choose one with --series N:\n${list}`);
  return scan.series[0];
}

/**
 * Readers put slice k = 0 at the feet. For a NIfTI stored head-first that reorders the slices,
 * and a mask written from the volume would carry a different (though equivalent) affine. To
 * write on the input's exact grid, ask the same reader how it orders this file's slices: a probe
 * with the file's own header, one voxel per slice holding its stored index.
 */
async function niftiSliceOrderReversed(path: string, nz: number): Promise<boolean> {
  if (nz < 2) return false;
  const raw = await readInputFile(path);
  const bytes = isGzip(raw) ? gunzipOrThrow(raw, path) : raw;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getInt32(0, true) === 348 || view.getInt32(0, true) === 540;
  const v2 = view.getInt32(0, le) === 540;
  const headerBytes = v2 ? 544 : 352;
  const probe = new Uint8Array(headerBytes + nz * 4);
  probe.set(bytes.subarray(0, headerBytes));
  const pv = new DataView(probe.buffer);
  if (v2) {
    pv.setInt16(12, 16, le); // datatype float32
    pv.setInt16(14, 32, le);
    const dims = [3, 1, 1, nz, 1, 1, 1, 1];
    dims.forEach((d, i) => pv.setBigInt64(16 + 8 * i, BigInt(d), le));
    pv.setBigInt64(168, BigInt(headerBytes), le);
    pv.setFloat64(176, 1, le);
    pv.setFloat64(184, 0, le);
    pv.setInt32(540, 0, le); // no extensions
  } else {
    const dims = [3, 1, 1, nz, 1, 1, 1, 1];
    dims.forEach((d, i) => pv.setInt16(40 + 2 * i, d, le));
    pv.setInt16(70, 16, le);
    pv.setInt16(72, 32, le);
    pv.setFloat32(108, headerBytes, le);
    pv.setFloat32(112, 1, le);
    pv.setFloat32(116, 0, le);
    pv.setInt32(348, 0, le); // no extensions
  }
  for (let k = 0; k < nz; k++) pv.setFloat32(headerBytes + 4 * k, k, le);
  const decoded = decodeNifti(probe, 'probe');
  return decoded.data[0] === nz - 1;
}

/**
 * Writes a binary mask as uint8 NIfTI on the grid of `volume`; for a NIfTI input stored
 * head-first, in the input's own slice order and affine.
 */
export async function writeMaskOnInputGrid(volume: Volume, mask: Uint8Array, out: string, source: LoadedSeries): Promise<{ sliceOrder: 'as-input' | 'restored-head-first' }> {
  let data = Int16Array.from(mask);
  let geometry = { origin: volume.origin, direction: volume.direction };
  let sliceOrder: 'as-input' | 'restored-head-first' = 'as-input';
  if (source.format === 'nifti' && (await niftiSliceOrderReversed(source.files[0], volume.dims[2]))) {
    const [nx, ny, nz] = volume.dims;
    const n = nx * ny;
    const flipped = new Int16Array(data.length);
    for (let k = 0; k < nz; k++) flipped.set(data.subarray(k * n, (k + 1) * n), (nz - 1 - k) * n);
    data = flipped;
    const d = volume.direction;
    geometry = { origin: voxelToLps(volume, 0, 0, nz - 1), direction: [d[0], d[1], d[2], d[3], d[4], d[5], -d[6] + 0, -d[7] + 0, -d[8] + 0] };
    sliceOrder = 'restored-head-first';
  }
  await mkdir(dirname(resolve(out)), { recursive: true });
  const maskVolume: Volume = {
    ...volume,
    data,
    origin: [...geometry.origin] as Vec3,
    direction: [...geometry.direction],
    intensityUnit: 'raw',
    meta: { source: 'inpaint-ct brain-mask', modality: volume.meta.modality, seriesDescription: 'brain mask' },
    warnings: [],
  };
  await writeNifti(maskVolume, resolve(out), { datatype: 'uint8' });
  return { sliceOrder };
}

export function parseDevice(value: string | undefined): DeviceRequest | undefined {
  if (value === undefined) return undefined;
  if (!(DEVICE_REQUESTS as readonly string[]).includes(value)) throw new AppError('BAD_REQUEST', `--device must be one of ${DEVICE_REQUESTS.join(', ')}; got "${value}".`);
  return value as DeviceRequest;
}

export interface BrainMaskCommandResult {
  input: string;
  output: string;
  method: string;
  dims: Vec3;
  spacingMm: Vec3;
  volumeMl: number;
  slicesWithBrain: number;
  slicesWithoutSkull: number;
  slicesCorrected: number;
  elapsedMs: number;
  sliceOrder: 'as-input' | 'restored-head-first';
}

export function statsSummary(stats: BrainMaskStats) {
  return {
    method: stats.method,
    volumeMl: Math.round(stats.volumeMl * 10) / 10,
    slicesWithBrain: stats.slicesWithBrain,
    slicesWithoutSkull: stats.slicesWithoutSkull,
    slicesCorrected: stats.slicesCorrected,
    elapsedMs: Math.round(stats.elapsedMs),
  };
}

export const brainMaskCommand = defineCommand<BrainMaskCommandResult>({
  name: 'brain-mask',
  summary: 'Extract the brain from a head CT and write the mask as NIfTI on the input grid',
  usage: `Usage: inpaint-ct brain-mask <input> --out mask.nii.gz [--method classical|<model-id>] [--series N] [--device D] [--json]

<input> is a DICOM folder, a NIfTI file or a folder of PNG slices holding one CT series.
The mask (uint8, 1 = brain) has the input's exact dimensions and affine.
  --out FILE        output .nii or .nii.gz (required)
  --method M        "classical" (default: HU thresholds and morphology, no model) or the id of an
                    installed brain-extraction model (models/<id>/model.json, kind "brain-extraction")
  --series N        which series when the input holds several (1-based)
  --device D        model device: ${DEVICE_REQUESTS.join(', ')} (model methods only)`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, {
      out: { type: 'string', short: 'o' },
      method: { type: 'string' },
      series: { type: 'string' },
      device: { type: 'string' },
    });
    if (positionals.length !== 1) throw new AppError('BAD_REQUEST', 'Name one input (a DICOM folder, NIfTI file or PNG folder).');
    if (!values.out) throw new AppError('BAD_REQUEST', 'Give the output file with --out mask.nii.gz.');
    if (!/\.nii(\.gz)?$/i.test(values.out)) throw new AppError('BAD_REQUEST', `--out must end in .nii or .nii.gz; got "${values.out}".`);
    const series = requireNumber(values.series, '--series', { min: 1, integer: true });
    const method = values.method ?? CLASSICAL_METHOD;
    const source = await loadOneVolume(positionals[0], series, ctx);
    const volume = source.volume;
    ctx.log(`Brain extraction (${method}) of ${volume.dims.join('x')} voxels...`);
    const result = await extractBrain(volume, { method, modelsDir: modelsDir(), device: parseDevice(values.device), signal: ctx.signal });
    const { sliceOrder } = await writeMaskOnInputGrid(volume, result.mask, values.out, source);
    return {
      input: resolve(positionals[0]),
      output: resolve(values.out),
      dims: [...volume.dims] as Vec3,
      spacingMm: [...volume.spacing] as Vec3,
      ...statsSummary(result.stats),
      sliceOrder,
    };
  },
  format(r) {
    return [
      `Brain mask written to ${r.output}`,
      `  method ${r.method}, ${r.volumeMl} ml in ${r.slicesWithBrain} of ${r.dims[2]} slices, ${r.elapsedMs} ms`,
      r.slicesWithoutSkull ? `  ${r.slicesWithoutSkull} slice(s) without visible skull (cropped field of view)` : '',
      r.slicesCorrected ? `  ${r.slicesCorrected} slice(s) cut back to their neighbours (leak through an open skull)` : '',
    ]
      .filter(Boolean)
      .join('\n');
  },
});
