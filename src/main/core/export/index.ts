/**
 * One entry point for every way a result leaves the app (CLI, services, UI): a case report built
 * once, written in the chosen format.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { readNifti } from '../io/nifti';
import { sameGrid } from '../volume';
import type { TaskOptions } from '../progress';
import type { CaseReport, Grid } from '../report/case';
import { renderReportPdf } from '../report/pdf';
import type { ReviewEdit, ReviewInput } from '../report/review';
import { writeDicomSeg } from './dicom-seg';
import { lesionTableCsv, lesionTableJson, writeMaskNifti, type NiftiMaskContent } from './tables';

export const EXPORT_FORMATS = ['pdf', 'seg', 'nifti', 'csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions extends TaskOptions {
  /** DICOM SEG: one segment per lesion (default) or a single "Anomaly" segment. */
  segments?: 'per-lesion' | 'single';
  /** NIfTI: 0/1 mask (default) or lesion numbers. */
  niftiContent?: NiftiMaskContent;
  /** PDF: lesions with key slices (default 24). */
  maxKeySlices?: number;
}

export interface ExportResult {
  format: ExportFormat;
  path: string;
  bytes: number;
  warnings: string[];
  /** Format-specific facts (pages, frames, segments...). */
  details: Record<string, unknown>;
}

/** A file name for the export of a run, e.g. for save dialogs. */
/** A reviewed export is named apart from the unreviewed one of the same run, so neither is mistaken for the other. */
export function defaultExportFileName(report: Pick<CaseReport, 'runId' | 'deidentified' | 'review'>, format: ExportFormat): string {
  const ext = { pdf: 'pdf', seg: 'dcm', nifti: 'nii.gz', csv: 'csv', json: 'json' }[format];
  const kind = { pdf: 'report', seg: 'seg', nifti: 'mask', csv: 'lesions', json: 'lesions' }[format];
  return `inpaint-ct-${kind}-${report.runId.slice(0, 8)}${report.review ? '-reviewed' : ''}${report.deidentified ? '-deid' : ''}.${ext}`;
}

export async function writeExport(report: CaseReport, format: ExportFormat, outPath: string, options: ExportOptions = {}): Promise<ExportResult> {
  const path = resolve(outPath);
  const warnings = [...report.warnings];
  switch (format) {
    case 'pdf': {
      const r = await renderReportPdf(report, { ...options, outPath: path });
      return { format, path, bytes: r.bytes.byteLength, warnings, details: { pages: r.pages, keySlices: r.keySlices } };
    }
    case 'seg': {
      const r = await writeDicomSeg(report, path, { segments: options.segments });
      return {
        format,
        path,
        bytes: r.bytes,
        warnings: [...warnings, ...r.warnings],
        details: { frames: r.frames, segments: r.segments.length, referencesSource: r.referencesSource, studyInstanceUid: r.studyInstanceUid, seriesInstanceUid: r.seriesInstanceUid, sopInstanceUid: r.sopInstanceUid },
      };
    }
    case 'nifti': {
      const content = options.niftiContent ?? 'mask';
      await writeMaskNifti(report, path, content);
      return { format, path, bytes: (await readFile(path)).byteLength, warnings, details: { content, lesions: report.totals.included } };
    }
    case 'csv': {
      const csv = lesionTableCsv(report);
      await writeFile(path, csv);
      return { format, path, bytes: Buffer.byteLength(csv), warnings, details: { rows: report.lesions.length } };
    }
    case 'json': {
      const json = JSON.stringify(lesionTableJson(report), null, 2);
      await writeFile(path, json);
      return { format, path, bytes: Buffer.byteLength(json), warnings, details: { rows: report.lesions.length } };
    }
    default:
      throw new AppError('BAD_REQUEST', `Unknown export format "${String(format)}"; use ${EXPORT_FORMATS.join(', ')}.`);
  }
}

/**
 * A review saved as JSON, for scripts and the CLI: `{ "edits": [ReviewEdit...], "labels": "edited-labels.nii.gz" }`
 * (labels optional, a NIfTI path relative to the JSON file, on the run's grid).
 */
export async function readReviewFile(path: string, grid: Grid): Promise<ReviewInput> {
  let raw: { edits?: unknown; labels?: unknown };
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new AppError('UNSUPPORTED_FORMAT', `The review file "${path}" is missing or not valid JSON.`);
  }
  if (!Array.isArray(raw.edits)) throw new AppError('UNSUPPORTED_FORMAT', `The review file "${path}" has no "edits" list.`);
  const edits = raw.edits.map((e, i): ReviewEdit => {
    const x = e as Partial<ReviewEdit>;
    if (!Number.isInteger(x.lesionLabel) || !['accepted', 'rejected', 'edited', 'pending'].includes(String(x.status)) || typeof x.author !== 'string' || typeof x.at !== 'string') {
      throw new AppError('UNSUPPORTED_FORMAT', `Edit ${i + 1} in "${path}" needs lesionLabel (integer), status (accepted, rejected, edited or pending), author and at (ISO time).`);
    }
    return { lesionLabel: x.lesionLabel!, status: x.status!, type: x.type ?? null, note: x.note ?? null, author: x.author, at: x.at };
  });
  if (raw.labels === undefined || raw.labels === null) return { edits };
  if (typeof raw.labels !== 'string') throw new AppError('UNSUPPORTED_FORMAT', `"labels" in "${path}" must be the path of a NIfTI label volume.`);
  const labels = await readNifti(resolve(dirname(path), raw.labels));
  if (!sameGrid(labels, grid, 1e-2)) throw new AppError('GEOMETRY_MISMATCH', `The edited labels "${raw.labels}" are not on the grid of the analysed scan.`);
  return { edits, labels: labels.data };
}
