/**
 * A finished analysis as a folder of standard files, readable by any NIfTI viewer and by
 * `inpaint-ct threshold` / `report` / `export` without the library:
 *
 *   ct.nii.gz               the analysed CT (HU, int16), native grid
 *   brain-mask.nii.gz       brain extraction (uint8), native grid
 *   score.nii.gz            fused anomaly score (float32), native grid, for run.json's metric/fusion
 *   signed.nii.gz           original - healthy (windowed units, float32), native grid
 *   healthy.nii.gz          healthy reconstruction (HU, int16), native grid
 *   mask.nii.gz             thresholded lesion mask (uint8 0/1), native grid
 *   labels.nii.gz           lesion labels (int16, 0 = none; numbers match lesions.json)
 *   recon/original.nii.gz   windowed 256x256 stack the model saw, analysis grid
 *   recon/brain.nii.gz      brain mask on the analysis grid
 *   recon/scale-<N>.nii.gz  healthy estimate from N-pixel squares, analysis grid
 *   recon/covered-<N>.nii.gz where N-pixel squares inpainted
 *   recon/transform.json    the exact native <-> analysis grid mapping
 *   lesions.json            the lesion table
 *   healthy-reference.json  the healthy reference its z cuts are read against (pinned-reference.ts)
 *   run.json                provenance, reading settings, threshold, timings
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors';
import { withStoredReadingDefaults, type ReadingSettings } from '../../../shared/analysis';
import { readNifti, writeNifti } from '../io/nifti';
import { outputGrid, type PreprocessTransform } from '../preprocess/geometry';
import { withData, type Volume } from '../volume';
import type { Lesion, ThresholdResult } from '../scoring/lesions';
import type { HealthyReferenceSet } from '../scoring/threshold';
import { PINNED_REFERENCE_FILE, writePinnedReference } from './pinned-reference';
import type { Reconstruction, RunProvenance } from './analyze';

export interface RunRecord {
  format: 'inpaint-ct-run';
  formatVersion: 1;
  provenance: RunProvenance;
  reading: ReadingSettings;
  threshold: { value: number; description: string };
  summary: { lesions: number; lesionVolumeMl: number; brainVoxels: number };
  warnings: string[];
  researchUseOnly: string;
}

export interface LesionTable {
  lesions: Lesion[];
  threshold: { value: number; description: string };
  reading: ReadingSettings;
}

function nativeVolume(like: Volume, data: Float32Array | Int16Array | Uint8Array, unit: Volume['intensityUnit'] = 'raw'): Volume {
  const v = withData(like, data instanceof Uint8Array ? Float32Array.from(data) : data, unit);
  return v;
}

function analysisVolume(t: PreprocessTransform, data: Float32Array | Uint8Array): Volume {
  const g = outputGrid(t);
  return { data: data instanceof Uint8Array ? Float32Array.from(data) : data, dims: g.dims, spacing: g.spacing, origin: g.origin, direction: g.direction, intensityUnit: 'windowed', meta: {}, warnings: [] };
}

function roundHu(values: Float32Array): Int16Array {
  const out = new Int16Array(values.length);
  for (let p = 0; p < values.length; p++) out[p] = Math.max(-32768, Math.min(32767, Math.round(values[p])));
  return out;
}

export async function writeRunDir(
  dir: string,
  parts: {
    volume: Volume;
    brainMask: Uint8Array;
    recon: Reconstruction;
    score: Float32Array;
    signed: Float32Array;
    healthyHu: Float32Array;
    result: ThresholdResult;
    reading: ReadingSettings;
    provenance: RunProvenance;
    /** The inpainter's healthy reference at analysis time: the run keeps a copy. */
    references: HealthyReferenceSet;
    warnings: string[];
    researchUseOnly: string;
  },
): Promise<RunRecord> {
  await mkdir(join(dir, 'recon'), { recursive: true });
  const { volume, recon } = parts;
  const ct = volume.data instanceof Int16Array ? volume.data : roundHu(Float32Array.from(volume.data));
  await writeNifti(nativeVolume(volume, ct, 'HU'), join(dir, 'ct.nii.gz'), { datatype: 'int16' });
  await writeNifti(nativeVolume(volume, parts.brainMask), join(dir, 'brain-mask.nii.gz'), { datatype: 'uint8' });
  await writeNifti(nativeVolume(volume, parts.score), join(dir, 'score.nii.gz'), { datatype: 'float32' });
  await writeNifti(nativeVolume(volume, parts.signed), join(dir, 'signed.nii.gz'), { datatype: 'float32' });
  await writeNifti(nativeVolume(volume, roundHu(parts.healthyHu), 'HU'), join(dir, 'healthy.nii.gz'), { datatype: 'int16' });
  await writeLesionFiles(dir, volume, parts.result, parts.reading);
  await writeNifti(analysisVolume(recon.transform, recon.original), join(dir, 'recon', 'original.nii.gz'), { datatype: 'float32' });
  await writeNifti(analysisVolume(recon.transform, recon.brain), join(dir, 'recon', 'brain.nii.gz'), { datatype: 'uint8' });
  for (const s of recon.scales) {
    await writeNifti(analysisVolume(recon.transform, s.healthy), join(dir, 'recon', `scale-${s.sizePx}.nii.gz`), { datatype: 'float32' });
    await writeNifti(analysisVolume(recon.transform, s.covered), join(dir, 'recon', `covered-${s.sizePx}.nii.gz`), { datatype: 'uint8' });
  }
  await writeNifti(analysisVolume(recon.transform, recon.fused), join(dir, 'recon', 'fused.nii.gz'), { datatype: 'float32' });
  await writeFile(join(dir, 'recon', 'transform.json'), JSON.stringify({ transform: recon.transform, slices: recon.slices, sizesPx: recon.scales.map((s) => s.sizePx) }, null, 2));
  const pinned = await writePinnedReference(dir, parts.references, { adopted: false });
  const record: RunRecord = {
    format: 'inpaint-ct-run',
    formatVersion: 1,
    provenance: { ...parts.provenance, healthyReference: pinned.stamp },
    reading: parts.reading,
    threshold: { value: parts.result.threshold.value, description: parts.result.threshold.description },
    summary: { lesions: parts.result.lesions.length, lesionVolumeMl: parts.result.lesionVolumeMl, brainVoxels: parts.result.brainVoxels },
    warnings: parts.warnings,
    researchUseOnly: parts.researchUseOnly,
  };
  await writeFile(join(dir, 'run.json'), JSON.stringify(record, null, 2));
  return record;
}

/** (Re)writes mask.nii.gz, labels.nii.gz and lesions.json for one thresholding. */
export async function writeLesionFiles(dir: string, volume: Volume, result: ThresholdResult, reading: ReadingSettings): Promise<void> {
  const labels = new Int16Array(result.labels.length);
  const mask = new Uint8Array(result.labels.length);
  for (let p = 0; p < labels.length; p++) {
    const l = result.labels[p];
    if (l > 0) {
      labels[p] = Math.min(32767, l);
      mask[p] = 1;
    }
  }
  await writeNifti(nativeVolume(volume, mask), join(dir, 'mask.nii.gz'), { datatype: 'uint8' });
  await writeNifti(nativeVolume(volume, labels), join(dir, 'labels.nii.gz'), { datatype: 'int16' });
  const table: LesionTable = { lesions: result.lesions, threshold: { value: result.threshold.value, description: result.threshold.description }, reading };
  await writeFile(join(dir, 'lesions.json'), JSON.stringify(table, null, 2));
}

export interface LoadedRun {
  record: RunRecord;
  volume: Volume;
  brainMask: Uint8Array;
  recon: Reconstruction;
}

async function readMask(path: string): Promise<Uint8Array> {
  const v = await readNifti(path);
  const out = new Uint8Array(v.data.length);
  for (let p = 0; p < out.length; p++) out[p] = v.data[p] > 0 ? 1 : 0;
  return out;
}

async function readFloat(path: string): Promise<Float32Array> {
  const v = await readNifti(path);
  return v.data instanceof Float32Array ? v.data : Float32Array.from(v.data);
}

/** Reads what re-thresholding and re-scoring need. */
export async function loadRunDir(dir: string): Promise<LoadedRun> {
  const runJson = join(dir, 'run.json');
  if (!existsSync(runJson)) throw new AppError('FILE_NOT_FOUND', `"${dir}" is not an analysis folder (run.json is missing). Run "inpaint-ct analyze" first.`);
  let record: RunRecord;
  try {
    record = JSON.parse(await readFile(runJson, 'utf8')) as RunRecord;
  } catch {
    throw new AppError('UNSUPPORTED_FORMAT', `The run.json in "${dir}" is damaged.`);
  }
  if (record.format !== 'inpaint-ct-run') throw new AppError('UNSUPPORTED_FORMAT', `The run.json in "${dir}" was not written by Inpaint CT.`);
  record.reading = withStoredReadingDefaults(record.reading) as ReadingSettings;
  const volume = await readNifti(join(dir, 'ct.nii.gz'));
  volume.intensityUnit = 'HU';
  const brainMask = await readMask(join(dir, 'brain-mask.nii.gz'));
  const meta = JSON.parse(await readFile(join(dir, 'recon', 'transform.json'), 'utf8')) as { transform: PreprocessTransform; slices: number[]; sizesPx: number[] };
  const original = await readFloat(join(dir, 'recon', 'original.nii.gz'));
  const brain = await readMask(join(dir, 'recon', 'brain.nii.gz'));
  const scales: Reconstruction['scales'] = [];
  for (const sizePx of meta.sizesPx) {
    scales.push({ sizePx, healthy: await readFloat(join(dir, 'recon', `scale-${sizePx}.nii.gz`)), covered: await readMask(join(dir, 'recon', `covered-${sizePx}.nii.gz`)) });
  }
  const fused = await readFloat(join(dir, 'recon', 'fused.nii.gz'));
  const fusedCovered = new Uint8Array(fused.length);
  for (const s of scales) for (let p = 0; p < fusedCovered.length; p++) if (s.covered[p]) fusedCovered[p] = 1;
  const t = meta.transform;
  return {
    record,
    volume,
    brainMask,
    recon: { size: t.outputSize, depth: t.nativeDims[2], transform: t, original, brain, scales, fused, fusedCovered, slices: meta.slices },
  };
}

/**
 * Replaces the thresholding results of a run folder (and the score maps when the metric or
 * fusion changed) without ever leaving it half-written: new files go to a scratch folder and
 * are renamed over the old ones only when all of them exist; run.json is replaced last.
 */
export async function updateRunDir(
  dir: string,
  loaded: LoadedRun,
  update: {
    result: ThresholdResult;
    reading: ReadingSettings;
    score?: Float32Array;
    signed?: Float32Array;
    /** A healthy reference the reader adopted in place of the run's own: kept with the new results, never apart from them. */
    adoptedReferences?: HealthyReferenceSet;
  },
): Promise<RunRecord> {
  const scratch = join(dir, `.update-${process.pid}-${Date.now()}`);
  await mkdir(scratch, { recursive: true });
  try {
    await writeLesionFiles(scratch, loaded.volume, update.result, update.reading);
    if (update.score) await writeNifti(nativeVolume(loaded.volume, update.score), join(scratch, 'score.nii.gz'), { datatype: 'float32' });
    if (update.signed) await writeNifti(nativeVolume(loaded.volume, update.signed), join(scratch, 'signed.nii.gz'), { datatype: 'float32' });
    if (update.adoptedReferences) await writePinnedReference(scratch, update.adoptedReferences, { adopted: true });
    const record: RunRecord = {
      ...loaded.record,
      reading: update.reading,
      threshold: { value: update.result.threshold.value, description: update.result.threshold.description },
      summary: { lesions: update.result.lesions.length, lesionVolumeMl: update.result.lesionVolumeMl, brainVoxels: update.result.brainVoxels },
    };
    await writeFile(join(scratch, 'run.json'), JSON.stringify(record, null, 2));
    const names = ['mask.nii.gz', 'labels.nii.gz', 'lesions.json', ...(update.score ? ['score.nii.gz'] : []), ...(update.signed ? ['signed.nii.gz'] : []), ...(update.adoptedReferences ? [PINNED_REFERENCE_FILE] : []), 'run.json'];
    for (const name of names) await rename(join(scratch, name), join(dir, name));
    return record;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
