/**
 * The lesion table as CSV (one row per lesion, for spreadsheets and statistics) and JSON (the
 * table with the case, analysis provenance and review history), and the final mask as NIfTI.
 * Values are full precision (rounded to 4-6 decimals), unlike the report's display rounding.
 */
import { writeFile } from 'node:fs/promises';
import { encodeNifti } from '../io/nifti';
import type { Volume } from '../volume';
import type { CaseReport, ReportLesion } from '../report/case';
import type { HealthyReferenceStamp } from '../../../shared/types';

export interface LesionRow {
  lesion: number;
  status: ReportLesion['status'];
  included: boolean;
  type: string | null;
  volume_ml: number;
  voxels: number;
  /** 1-based, inferior to superior, as the viewer numbers slices. */
  slice_first: number;
  slice_last: number;
  sign: string;
  max_score: number;
  mean_score: number;
  mean_hu: number | null;
  mean_signed_residual: number | null;
  centroid_l_mm: number;
  centroid_p_mm: number;
  centroid_s_mm: number;
  /** Highest-scoring voxel, 0-based (i, j, k). */
  peak_i: number;
  peak_j: number;
  peak_k: number;
  reviewer: string | null;
  reviewed_at: string | null;
  note: string | null;
}

const round = (x: number, digits: number) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : x);

export function lesionRows(report: CaseReport): LesionRow[] {
  return report.lesions.map((l) => {
    const s = l.stats;
    return {
      lesion: l.label,
      status: l.status,
      included: l.included,
      type: l.type,
      volume_ml: round(s.volumeMl, 4),
      voxels: s.voxelCount,
      slice_first: s.sliceRange[0] + 1,
      slice_last: s.sliceRange[1] + 1,
      sign: s.sign,
      max_score: round(s.maxScore, 5),
      mean_score: round(s.meanScore, 5),
      mean_hu: s.meanHu === null ? null : round(s.meanHu, 2),
      mean_signed_residual: s.meanSignedResidual === null ? null : round(s.meanSignedResidual, 5),
      centroid_l_mm: round(s.centroidLps[0], 2),
      centroid_p_mm: round(s.centroidLps[1], 2),
      centroid_s_mm: round(s.centroidLps[2], 2),
      peak_i: s.peakVoxel[0],
      peak_j: s.peakVoxel[1],
      peak_k: s.peakVoxel[2],
      reviewer: l.reviewedBy,
      reviewed_at: l.reviewedAt,
      note: l.note,
    };
  });
}

const CASE_COLUMNS = ['case_id', 'series_instance_uid', 'run_id'] as const;

/** CSV column order (every key of LesionRow). */
export const LESION_COLUMNS: readonly (keyof LesionRow)[] = [
  'lesion',
  'status',
  'included',
  'type',
  'volume_ml',
  'voxels',
  'slice_first',
  'slice_last',
  'sign',
  'max_score',
  'mean_score',
  'mean_hu',
  'mean_signed_residual',
  'centroid_l_mm',
  'centroid_p_mm',
  'centroid_s_mm',
  'peak_i',
  'peak_j',
  'peak_k',
  'reviewer',
  'reviewed_at',
  'note',
];

function csvCell(value: unknown, isText: boolean): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  // A free-text cell starting with = + - @ would run as a formula in a spreadsheet.
  if (isText && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV (CRLF, quoted where needed), one row per lesion, the case identifiers on every row. */
export function lesionTableCsv(report: CaseReport): string {
  const rows = lesionRows(report);
  const keys = LESION_COLUMNS;
  const caseValues = [report.meta.patientId ?? '', report.meta.seriesInstanceUid ?? '', report.runId];
  const lines = [[...CASE_COLUMNS, ...keys].join(',')];
  for (const r of rows) {
    lines.push([...caseValues.map((v) => csvCell(v, true)), ...keys.map((k) => csvCell(r[k], typeof r[k] === 'string'))].join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

export interface LesionTableJson {
  format: 'inpaint-ct-lesion-table';
  formatVersion: 1;
  generatedAt: string;
  researchUseOnly: string;
  case: {
    deidentified: boolean;
    patientName: string | null;
    patientId: string | null;
    studyInstanceUid: string | null;
    studyDate: string | null;
    studyDescription: string | null;
    seriesInstanceUid: string | null;
    seriesDescription: string | null;
    dims: number[];
    spacingMm: number[];
  };
  analysis: {
    runId: string;
    createdAt: string;
    appVersion: string;
    inpainter: unknown;
    model: { id: string; version: string; sha256: string } | null;
    preset: Record<string, unknown> | null;
    device: string;
    seed: number;
    threshold: { value: number; description: string };
    reading: unknown;
    /**
     * The healthy reference a z cut reads: kept with the run (stamp null where the inpainter had
     * none), or not kept by a run analysed before runs kept one.
     */
    healthyReference: { kept: true; stamp: HealthyReferenceStamp | null; pinnedAt: string; adopted: boolean } | { kept: false } | { kept: true; unreadable: string };
  };
  summary: { lesions: number; lesionVolumeMl: number; rejected: number; brainVolumeMl: number };
  lesions: LesionRow[];
  review: CaseReport['review'];
  warnings: string[];
}

export function lesionTableJson(report: CaseReport): LesionTableJson {
  const m = report.meta;
  const p = report.run.provenance;
  return {
    format: 'inpaint-ct-lesion-table',
    formatVersion: 1,
    generatedAt: report.generatedAt,
    researchUseOnly: report.researchUseOnly,
    case: {
      deidentified: report.deidentified,
      patientName: m.patientName ?? null,
      patientId: m.patientId ?? null,
      studyInstanceUid: m.studyInstanceUid ?? null,
      studyDate: report.deidentified ? null : (m.studyDate ?? null),
      studyDescription: m.studyDescription ?? null,
      seriesInstanceUid: m.seriesInstanceUid ?? null,
      seriesDescription: m.seriesDescription ?? null,
      dims: [...report.grid.dims],
      spacingMm: [...report.grid.spacing],
    },
    analysis: {
      runId: report.runId,
      createdAt: p.createdAt,
      appVersion: p.appVersion,
      inpainter: p.inpainter,
      model: p.model ? { id: p.model.id, version: p.model.version, sha256: p.model.sha256 } : null,
      preset: p.preset,
      device: p.device.active,
      seed: p.seed,
      threshold: report.run.threshold,
      reading: report.run.reading,
      healthyReference: report.healthyReferenceProblem ? { kept: true, unreadable: report.healthyReferenceProblem } : report.healthyReference ? { kept: true, ...report.healthyReference } : { kept: false },
    },
    summary: { lesions: report.totals.included, lesionVolumeMl: round(report.totals.includedVolumeMl, 4), rejected: report.totals.rejected, brainVolumeMl: round(report.totals.brainVolumeMl, 2) },
    lesions: lesionRows(report),
    review: report.review,
    warnings: [...report.run.warnings, ...report.warnings],
  };
}

export type NiftiMaskContent = 'mask' | 'labels';

/**
 * The final lesion mask on the scan's grid: 'mask' = uint8 0/1, 'labels' = int16 lesion numbers
 * (as in the report). Rejected lesions are left out.
 */
export function encodeMaskNifti(report: CaseReport, content: NiftiMaskContent = 'mask', gzip = true): Uint8Array {
  const labels = report.finalLabels;
  const data = content === 'labels' ? new Int16Array(labels.length) : new Float32Array(labels.length);
  for (let p = 0; p < labels.length; p++) data[p] = content === 'labels' ? Math.min(32767, labels[p]) : labels[p] > 0 ? 1 : 0;
  const volume: Volume = { ...report.grid, data, intensityUnit: 'raw', meta: {}, warnings: [] };
  return encodeNifti(volume, { datatype: content === 'labels' ? 'int16' : 'uint8', gzip });
}

export async function writeMaskNifti(report: CaseReport, path: string, content: NiftiMaskContent = 'mask'): Promise<void> {
  await writeFile(path, encodeMaskNifti(report, content, path.toLowerCase().endsWith('.gz')));
}
