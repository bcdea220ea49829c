/**
 * What every report and export format shows, computed once: the run folder's results, the series'
 * patient and study metadata (de-identified on request), and the reader's review applied (final
 * label volume without rejected lesions; lesion table with status, type and note per lesion).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AppError } from '../../../shared/errors';
import { APP_VERSION, RESEARCH_USE_NOTICE } from '../../../shared/version';
import { readNifti } from '../io/nifti';
import { deidentifyMeta } from '../deidentify';
import { sameGrid, voxelCount, type Vec3, type Volume, type VolumeMeta } from '../volume';
import type { Lesion } from '../scoring/lesions';
import type { LesionTable, RunRecord } from '../pipeline/run-dir';
import { readPinnedReference, type PinnedReference } from '../pipeline/pinned-reference';
import { describeLesionType, latestEdits, type ReviewEdit, type ReviewHistoryEntry, type ReviewInput } from './review';
import { measureLesions } from './lesion-stats';

export type Grid = Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>;

/** A run folder read for reporting (lighter than loadRunDir: no reconstructions). */
export interface ExportSource {
  dir: string;
  /** The library's run id, or the folder name for a bare run folder. */
  runId: string;
  record: RunRecord;
  table: LesionTable;
  /** The analysed CT in HU; `meta` is the series' metadata when known. */
  ct: Volume;
  /** True when patient/study metadata came with the run (library series, or a source series given). */
  metaKnown: boolean;
  labels: Int32Array;
  score: Float32Array | null;
  signed: Float32Array | null;
  /** The healthy reference the run's z cuts are read against; null for a run analysed before runs kept one, or when its copy cannot be read. */
  healthyReference: PinnedReference | null;
  /** Why the run's copy cannot be read (damaged); null when it can or there is none. */
  healthyReferenceProblem: string | null;
}

export interface LoadExportSourceOptions {
  /** The series' metadata (library: series.meta_json). */
  meta?: VolumeMeta | null;
  runId?: string;
}

async function readJson<T>(path: string, what: string, dir: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    throw new AppError('UNSUPPORTED_FORMAT', `The ${what} in "${dir}" is damaged or missing.`);
  }
}

async function optionalFloat(path: string): Promise<Float32Array | null> {
  if (!existsSync(path)) return null;
  const v = await readNifti(path);
  return v.data instanceof Float32Array ? v.data : new Float32Array(v.data);
}

/** Integer labels as Int32 (typed-array `from` with a map function is very slow on millions of voxels). */
function toLabels(values: ArrayLike<number>): Int32Array {
  const out = new Int32Array(values.length);
  for (let p = 0; p < out.length; p++) out[p] = Math.round(values[p]);
  return out;
}

/** What every reader of an analysis folder needs: its record, its lesion table, the scan and the saved labels (checked to share a grid). */
export type RunFolderLabels = Pick<ExportSource, 'record' | 'table' | 'ct' | 'labels'>;

/** Reads and checks the record, lesion table, scan and labels of an analysis folder; the score maps and the reference are left to the caller. */
export async function loadRunFolderLabels(dir: string): Promise<RunFolderLabels> {
  if (!existsSync(join(dir, 'run.json'))) throw new AppError('FILE_NOT_FOUND', `"${dir}" is not an analysis folder (run.json is missing). Run "inpaint-ct analyze" first.`);
  const record = await readJson<RunRecord>(join(dir, 'run.json'), 'run.json', dir);
  if (record.format !== 'inpaint-ct-run') throw new AppError('UNSUPPORTED_FORMAT', `The run.json in "${dir}" was not written by Inpaint CT.`);
  const table = await readJson<LesionTable>(join(dir, 'lesions.json'), 'lesion table (lesions.json)', dir);
  for (const name of ['ct.nii.gz', 'labels.nii.gz']) {
    if (!existsSync(join(dir, name))) throw new AppError('FILE_NOT_FOUND', `The analysis folder "${dir}" is incomplete: ${name} is missing.`);
  }
  const ct = await readNifti(join(dir, 'ct.nii.gz'));
  ct.intensityUnit = 'HU';
  const labelVolume = await readNifti(join(dir, 'labels.nii.gz'));
  if (!sameGrid(ct, labelVolume, 1e-2)) throw new AppError('GEOMETRY_MISMATCH', `labels.nii.gz in "${dir}" is not on the grid of ct.nii.gz; the folder was altered.`);
  return { record, table, ct, labels: toLabels(labelVolume.data) };
}

export async function loadExportSource(dir: string, options: LoadExportSourceOptions = {}): Promise<ExportSource> {
  const { record, table, ct, labels } = await loadRunFolderLabels(dir);
  const metaKnown = !!options.meta;
  if (options.meta) ct.meta = { ...options.meta };
  return {
    dir,
    runId: options.runId ?? basename(dir),
    record,
    table,
    ct,
    metaKnown,
    labels,
    score: await optionalFloat(join(dir, 'score.nii.gz')),
    signed: await optionalFloat(join(dir, 'signed.nii.gz')),
    ...(await readReferenceForReport(dir)),
  };
}

/** A damaged reference copy must not stop a report: the report says so instead. */
async function readReferenceForReport(dir: string): Promise<Pick<ExportSource, 'healthyReference' | 'healthyReferenceProblem'>> {
  try {
    return { healthyReference: await readPinnedReference(dir), healthyReferenceProblem: null };
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { healthyReference: null, healthyReferenceProblem: e.message };
  }
}

/**
 * Gives a bare run folder the patient/study metadata (and DICOM references) of the series it was
 * computed from, after checking that the series is on the same voxel grid.
 */
export function attachSourceSeries(source: ExportSource, series: Volume): ExportSource {
  if (!sameGrid(source.ct, series, 1e-2)) {
    throw new AppError(
      'GEOMETRY_MISMATCH',
      `The source series (${series.dims.join('x')} voxels) is not the one this analysis was computed from (${source.ct.dims.join('x')} voxels, or a different position).`,
    );
  }
  return { ...source, ct: { ...source.ct, meta: { ...series.meta } }, metaKnown: true };
}

export type ReportLesionStatus = 'automatic' | 'accepted' | 'edited' | 'added' | 'rejected';

export interface ReportLesion {
  /** Lesion number (label value) in the final label volume and the run's lesions.json. */
  label: number;
  stats: Lesion;
  status: ReportLesionStatus;
  /** In the final mask (everything except rejected lesions). */
  included: boolean;
  /** Display name of the reader's type, null when none was given. */
  type: string | null;
  note: string | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  /** True when the reader erased the lesion from the label volume without a decision. */
  erased: boolean;
}

export interface CaseReport {
  generatedAt: string;
  appVersion: string;
  researchUseOnly: string;
  deidentified: boolean;
  /** The series metadata as shown and exported (pseudonyms when de-identified). */
  meta: VolumeMeta;
  metaKnown: boolean;
  grid: Grid;
  runId: string;
  run: RunRecord;
  /** The healthy reference kept with the run (its z cuts read it); null for a run analysed before runs kept one, or a damaged copy (`healthyReferenceProblem`). */
  healthyReference: Omit<PinnedReference, 'references'> | null;
  healthyReferenceProblem: string | null;
  /** Included lesions largest first, then rejected ones. */
  lesions: ReportLesion[];
  totals: { included: number; includedVolumeMl: number; rejected: number; brainVolumeMl: number };
  review: { edits: ReviewEdit[]; history: ReviewHistoryEntry[] | null; reviewers: string[]; lastEditAt: string | null } | null;
  /** Final lesion labels (rejected lesions removed), x-fastest on `grid`. */
  finalLabels: Int32Array;
  /** The data behind the key slices (not exported as such). */
  images: { hu: Volume['data']; score: Float32Array | null };
  warnings: string[];
}

export interface CaseReportOptions {
  review?: ReviewInput | null;
  /** Replace names, IDs and dates by pseudonyms (a series de-identified at import stays as it is). */
  deidentify?: boolean;
  now?: Date;
}

export function buildCaseReport(source: ExportSource, options: CaseReportOptions = {}): CaseReport {
  const { ct } = source;
  const n = voxelCount(ct.dims);
  const review = options.review ?? null;
  const warnings: string[] = [];
  if (review?.labels && review.labels.length !== n) {
    throw new AppError('GEOMETRY_MISMATCH', `The edited lesion mask has ${review.labels.length} voxels but the scan has ${n}; it belongs to another series.`);
  }
  const labels = review?.labels ? toLabels(review.labels) : source.labels.slice();
  const decisions = review ? latestEdits(review.edits) : new Map<number, ReviewEdit>();
  const original = new Map(source.table.lesions.map((l) => [l.label, l]));

  const present = new Set<number>();
  for (let p = 0; p < n; p++) if (labels[p] > 0) present.add(labels[p]);
  // Lesions whose voxels may differ from lesions.json are measured again.
  const remeasure = new Set<number>();
  let originalCounts: Map<number, Lesion> | null = null;
  if (review?.labels) {
    originalCounts = measureLesions(labels, ct, {}, new Set([...present].filter((l) => original.has(l))));
    for (const l of present) {
      const before = original.get(l);
      if (!before || originalCounts.get(l)?.voxelCount !== before.voxelCount || decisions.get(l)?.status === 'edited') remeasure.add(l);
    }
  }
  const measured = remeasure.size ? measureLesions(labels, ct, { score: source.score, signed: source.signed, hu: ct.data }, remeasure) : new Map<number, Lesion>();

  const lesions: ReportLesion[] = [];
  const describe = (label: number, stats: Lesion, erased: boolean): ReportLesion => {
    const d = decisions.get(label);
    let status: ReportLesionStatus;
    if (erased || d?.status === 'rejected') status = 'rejected';
    else if (!original.has(label)) status = 'added';
    else if (d?.status === 'edited' || (remeasure.has(label) && stats.voxelCount !== original.get(label)!.voxelCount)) status = 'edited';
    else if (d?.status === 'accepted') status = 'accepted';
    else status = 'automatic';
    return {
      label,
      stats,
      status,
      included: status !== 'rejected',
      type: describeLesionType(d?.type)?.label ?? null,
      note: d?.note?.trim() || null,
      reviewedBy: d?.author ?? null,
      reviewedAt: d?.at ?? null,
      erased: erased && d?.status !== 'rejected',
    };
  };
  for (const label of present) {
    const stats = measured.get(label) ?? original.get(label);
    if (stats) lesions.push(describe(label, stats, false));
  }
  for (const [label, stats] of original) if (!present.has(label) && review?.labels) lesions.push(describe(label, stats, true));
  lesions.sort((a, b) => Number(b.included) - Number(a.included) || b.stats.volumeMl - a.stats.volumeMl || a.label - b.label);

  for (const e of review?.edits ?? []) {
    if (!present.has(e.lesionLabel) && !original.has(e.lesionLabel)) {
      warnings.push(`A review decision names lesion #${e.lesionLabel}, which is not in the lesion mask; it is listed in the history only.`);
    }
  }
  const rejected = new Set(lesions.filter((l) => !l.included).map((l) => l.label));
  if (rejected.size) for (let p = 0; p < n; p++) if (rejected.has(labels[p])) labels[p] = 0;

  const deidentified = !!options.deidentify || !!ct.meta.deidentified;
  const meta = options.deidentify && !ct.meta.deidentified ? deidentifyMeta(ct.meta) : { ...ct.meta };
  if (!source.metaKnown) warnings.push('The analysis folder does not record the patient and study of the scan, so none are shown.');
  const included = lesions.filter((l) => l.included);
  const history = review?.history?.length ? [...review.history].sort((a, b) => a.at.localeCompare(b.at)) : null;
  const reviewers = [...new Set([...(review?.edits ?? []), ...(history ?? [])].map((e) => e.author))];
  const times = [...(review?.edits ?? []), ...(history ?? [])].map((e) => e.at).filter((t) => !Number.isNaN(Date.parse(t))).sort();
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    appVersion: APP_VERSION,
    researchUseOnly: source.record.researchUseOnly || RESEARCH_USE_NOTICE,
    deidentified,
    meta,
    metaKnown: source.metaKnown,
    grid: { dims: [...ct.dims] as Vec3, spacing: [...ct.spacing] as Vec3, origin: [...ct.origin] as Vec3, direction: [...ct.direction] },
    runId: source.runId,
    run: source.record,
    healthyReference: source.healthyReference ? { stamp: source.healthyReference.stamp, pinnedAt: source.healthyReference.pinnedAt, adopted: source.healthyReference.adopted } : null,
    healthyReferenceProblem: source.healthyReferenceProblem,
    lesions,
    totals: {
      included: included.length,
      includedVolumeMl: included.reduce((s, l) => s + l.stats.volumeMl, 0),
      rejected: lesions.length - included.length,
      brainVolumeMl: source.record.provenance.brainMask?.volumeMl ?? 0,
    },
    review: review && (review.edits.length || history) ? { edits: [...review.edits].sort((a, b) => a.at.localeCompare(b.at)), history, reviewers, lastEditAt: times.at(-1) ?? null } : null,
    finalLabels: labels,
    images: { hu: ct.data, score: source.score },
    warnings,
  };
}

/** Human-readable status of a lesion in tables. */
export function statusLabel(l: ReportLesion): string {
  switch (l.status) {
    case 'automatic':
      return 'Not reviewed';
    case 'accepted':
      return 'Accepted';
    case 'edited':
      return 'Edited';
    case 'added':
      return 'Added by reader';
    case 'rejected':
      return l.erased ? 'Removed' : 'Rejected';
  }
}
