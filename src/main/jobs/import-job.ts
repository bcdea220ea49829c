/**
 * The worker half of an import: read every input, write each series' voxels and thumbnail to a
 * staging folder, and describe the rows to add. The main thread then moves the files and adds
 * the rows in one transaction (services/library.ts), so a failed or cancelled import never
 * leaves anything half-visible.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { throwIfAborted } from '../core/progress';
import { scanInputs } from '../core/io/index';
import { deidentifyVolume } from '../core/deidentify';
import { assertCtLike } from '../core/preprocess/brain-mask';
import type { SeriesWarning, Volume } from '../core/volume';
import type { JobContext } from './types';
import type { NewSeriesRecord, ImportFileResult } from '../storage/repositories/library';

/**
 * A series the library can show but the analysis will refuse (MR, a PNG-derived stack, values
 * that are not CT) says so from the moment it is imported, in the analysis' own words, instead
 * of only when an analysis is started.
 */
function notAnalysable(vol: Volume): SeriesWarning[] {
  try {
    assertCtLike(vol);
    return [];
  } catch (e) {
    return [{ code: 'NOT_CT', message: `The analysis will refuse this series as it is: ${(e as Error).message}` }];
  }
}

export interface ImportJobParams {
  paths: string[];
  deidentify: boolean;
  /** Folder under the data directory where this import stages its files. */
  stagingDir: string;
}

export interface StagedSeries {
  /** Folder (inside stagingDir) holding voxels.i16 and thumbnail.png. */
  folder: string;
  record: Omit<NewSeriesRecord, 'series'> & { series: Omit<NewSeriesRecord['series'], 'voxelsFile' | 'thumbnailFile'> };
}

export interface ImportJobResult {
  staged: StagedSeries[];
  files: ImportFileResult[];
}

/** Rounds to Int16 HU (sub-HU precision carries no information in CT) and clamps to its range. */
export function toInt16(data: ArrayLike<number>): Int16Array {
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i]);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** An 8-bit thumbnail of the middle slice at the brain window, at most 128 px wide. */
export function thumbnailPng(voxels: Int16Array, dims: [number, number, number], center = 40, width = 80): Uint8Array {
  const [nx, ny, nz] = dims;
  const k = Math.floor(nz / 2);
  const step = Math.max(1, Math.ceil(Math.max(nx, ny) / 128));
  const tw = Math.floor(nx / step);
  const th = Math.floor(ny / step);
  const out = new Uint8Array(tw * th);
  const lo = center - width / 2;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      // Box-average the step x step block so the thumbnail does not alias.
      let sum = 0;
      for (let dy = 0; dy < step; dy++) for (let dx = 0; dx < step; dx++) sum += voxels[k * nx * ny + (y * step + dy) * nx + x * step + dx];
      const v = ((sum / (step * step) - lo) / width) * 255;
      out[y * tw + x] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return encodePng({ width: tw, height: th, data: out, channels: 1, depth: 8 });
}

function contentKey(voxels: Int16Array, vol: Volume, deidentified: boolean): string {
  const h = createHash('sha256');
  h.update(new Uint8Array(voxels.buffer, voxels.byteOffset, voxels.byteLength));
  h.update(JSON.stringify([vol.dims, vol.spacing.map((s) => s.toFixed(4)), vol.origin.map((o) => o.toFixed(3)), vol.direction.map((d) => d.toFixed(5)), deidentified]));
  return h.digest('hex');
}

function keyOf(...parts: (string | undefined)[]): string {
  return createHash('sha256').update(parts.map((p) => p ?? '').join('\u0000')).digest('hex').slice(0, 32);
}

/**
 * Write one volume's voxels and thumbnail into `stagingDir/folder` and describe its rows.
 * `fallbackStudyKey` groups files without a Study Instance UID (NIfTI, PNG) into their own study.
 */
export async function stageVolume(vol: Volume, stagingDir: string, folder: string, opts: { deidentified: boolean; fallbackStudyKey: string }): Promise<StagedSeries> {
  const voxels = toInt16(vol.data);
  const dir = join(stagingDir, folder);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'voxels.i16'), new Uint8Array(voxels.buffer, voxels.byteOffset, voxels.byteLength));
  await writeFile(join(dir, 'thumbnail.png'), thumbnailPng(voxels, vol.dims));
  const m = vol.meta;
  const patientKey = keyOf(m.patientId, m.patientName, m.patientBirthDate);
  return {
    folder,
    record: {
      id: folder,
      contentKey: contentKey(voxels, vol, opts.deidentified),
      patient: { key: patientKey, name: m.patientName ?? '', identifier: m.patientId ?? '', birthDate: m.patientBirthDate ?? '', sex: m.patientSex ?? '' },
      study: {
        key: keyOf(patientKey, m.studyInstanceUid ?? opts.fallbackStudyKey),
        studyInstanceUid: m.studyInstanceUid ?? '',
        studyDate: m.studyDate ?? '',
        description: m.studyDescription ?? '',
        accessionNumber: m.accessionNumber ?? '',
      },
      series: {
        seriesInstanceUid: m.seriesInstanceUid ?? '',
        modality: m.modality ?? '',
        description: m.seriesDescription ?? '',
        seriesNumber: m.seriesNumber ?? null,
        dims: vol.dims,
        spacing: vol.spacing,
        origin: vol.origin,
        direction: vol.direction,
        intensityUnit: vol.intensityUnit,
        windowCenter: m.windowCenter ?? null,
        windowWidth: m.windowWidth ?? null,
        source: m.source ?? 'unknown',
        deidentified: opts.deidentified,
        warnings: [...vol.warnings, ...notAnalysable(vol)],
        meta: { ...m },
      },
    },
  };
}

export async function runImportJob(params: ImportJobParams, ctx: JobContext): Promise<ImportJobResult> {
  const { signal, onProgress } = ctx;
  const files: ImportFileResult[] = [];
  const staged: StagedSeries[] = [];
  await mkdir(params.stagingDir, { recursive: true });
  // Each series is staged as soon as it is read, so only one volume is in memory at a time.
  const scan = await scanInputs(params.paths, {
    signal,
    onProgress,
    onSeries: async (loaded) => {
      throwIfAborted(signal);
      const s = staged.length;
      const vol = params.deidentify ? deidentifyVolume(loaded.volume) : loaded.volume;
      const st = await stageVolume(vol, params.stagingDir, `s${s}`, { deidentified: params.deidentify, fallbackStudyKey: `file:${loaded.files[0] ?? s}` });
      staged.push(st);
      for (const f of loaded.files) files.push({ file: f, status: 'ok', seriesId: st.record.id });
    },
  });
  for (const e of scan.errors) files.push({ file: e.file, status: 'error', code: e.code, message: e.message });
  for (const n of scan.notes) files.push({ file: n.file, status: 'skipped', message: n.message });
  onProgress({ stage: 'Saving series', done: staged.length, total: staged.length });
  return { staged, files };
}
