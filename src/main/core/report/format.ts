/** How report values read, shared by the PDF and the CLI so both show the same numbers. */
import type { LesionSign } from '../scoring/lesions';
import type { RunProvenance } from '../pipeline/analyze';
import type { RunRecord } from '../pipeline/run-dir';
import { describeDenseExclusion, describeStrategy, type ReadingSettings } from '../../../shared/analysis';
import { describeDevice, describeReferenceStamp } from '../../../shared/provenance';
import type { CaseReport } from './case';

export function formatVolumeMl(ml: number): string {
  return ml >= 0.095 ? ml.toFixed(2) : ml.toFixed(3);
}

export function formatScore(s: number): string {
  return s.toFixed(3);
}

export function formatHu(hu: number | null): string {
  return hu === null || !Number.isFinite(hu) ? '—' : hu.toFixed(0);
}

/** 1-based slice numbers, inferior to superior, as the viewer shows them. */
export function formatSlices(range: readonly [number, number]): string {
  return range[0] === range[1] ? `${range[0] + 1}` : `${range[0] + 1}–${range[1] + 1}`;
}

export function formatLps(p: readonly number[]): string {
  return p.map((c) => c.toFixed(1)).join(', ');
}

export function signLabel(sign: LesionSign): string {
  return sign === 'hyper' ? 'hyperdense' : sign === 'hypo' ? 'hypodense' : 'mixed/unknown';
}

/** DICOM DA (YYYYMMDD) as YYYY-MM-DD; other text unchanged. */
export function formatDicomDate(da: string | undefined): string {
  if (!da) return '';
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : da;
}

/** DICOM PN (Family^Given^Middle^Prefix^Suffix) as "Family, Given Middle". */
export function formatPersonName(pn: string | undefined): string {
  if (!pn) return '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = pn.split('=')[0].split('^').map((s) => s.trim());
  const first = [prefix, given, middle].filter(Boolean).join(' ');
  return [family, first].filter(Boolean).join(', ') + (suffix ? ` ${suffix}` : '');
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatSeconds(ms: number): string {
  return ms >= 100_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`;
}

export function describeInpainter(p: RunProvenance): string {
  if (p.inpainter.kind === 'classical') return `Classical ${p.inpainter.method} inpainting (no diffusion model)`;
  const m = p.model;
  return `Diffusion model ${m?.id ?? p.inpainter.modelId}${m?.version ? ` v${m.version}` : ''}, ${p.inpainter.preset} preset`;
}


/** The cut as the run's record states it, with its strategy unless it is an absolute score. */
export function describeThreshold(run: Pick<RunRecord, 'reading' | 'threshold'>): string {
  const s = run.reading.strategy;
  return s.kind === 'absolute' ? run.threshold.description : `${describeStrategy(s)}: ${run.threshold.description}`;
}

/** Every reading setting in one line (residual, fusion, size, erosion, dense voxels, polarity, connectivity, smoothing, outline). */
export function describeReadingSettings(reading: ReadingSettings, separator = ' · '): string {
  return [
    `${reading.metric} residual`,
    `${reading.fusion} fusion${reading.weights ? ` (weights ${reading.weights.join(', ')})` : ''}`,
    `minimum lesion ${reading.minSizeMl} mL`,
    `border erosion ${reading.borderErosionMm} mm`,
    describeDenseExclusion(reading.denseExclusionHu),
    `polarity ${reading.polarity}`,
    `${reading.connectivity}-connected`,
    ...(reading.smoothingMm && reading.smoothingMm > 0 ? [smoothingText(reading.smoothingMm)] : []),
    extentText(reading.extent),
  ].join(separator);
}

/** The lesion extent of a reading in words (readings stored before it existed were at the threshold). */
export function extentText(extent: string | undefined): string {
  return extent === 'half-contrast' ? 'lesions outlined at half their own contrast' : 'lesions outlined at the threshold';
}

/** The residual smoothing of a reading in words. */
export function smoothingText(smoothingMm: number): string {
  return `residual smoothed (Gaussian sigma ${smoothingMm} mm)`;
}

/**
 * Which healthy reference the z cut was read against, so a reader can tell two reports' cuts
 * apart: the PDF's provenance row and the DICOM SEG's algorithm parameters.
 */
export function describeHealthyReference(r: Pick<CaseReport, 'healthyReference' | 'healthyReferenceProblem' | 'run'>, formatDate: (iso: string) => string, sha256Length = 16): string {
  const readsZ = r.run.reading.strategy.kind === 'zscore';
  const kept = r.healthyReference;
  if (r.healthyReferenceProblem) return `cannot be read: ${r.healthyReferenceProblem}`;
  if (!kept) return readsZ ? "the inpainter's reference at the time of reading (this run was analysed before runs kept their own)" : 'not kept with this run';
  const s = kept.stamp;
  if (!s) return 'none (the inpainter has no healthy calibration; only absolute and percentile cuts)';
  const origin = kept.adopted ? `adopted by the reader on ${formatDate(kept.pinnedAt)}` : 'kept with the run since the analysis';
  const sha = s.sha256.length > sha256Length ? `${s.sha256.slice(0, sha256Length)}…` : s.sha256;
  return `${describeReferenceStamp(s, formatDate)} · ${origin} · SHA-256 ${sha}${readsZ ? '' : ' · not used by this cut'}`;
}

export interface ProvenanceRow {
  label: string;
  value: string;
  /** A hash or UID, shown in a monospaced font. */
  identifier?: boolean;
}

/**
 * Everything that produced a report's result, row by row: the PDF's provenance table and the
 * DICOM SEG's algorithm parameters list the same facts. `sha256Length` shortens the healthy
 * reference's hash (the PDF's narrow column); the model's hash is always given in full.
 */
export function provenanceRows(r: CaseReport, options: { formatDate: (iso: string) => string; sha256Length?: number }): ProvenanceRow[] {
  const p = r.run.provenance;
  const preset = p.preset ? Object.entries(p.preset).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ') : 'not applicable (classical inpainting)';
  const t = p.timingsMs;
  const rows: ProvenanceRow[] = [
    { label: 'Software', value: `Inpaint CT ${p.appVersion} (analysis) · report by ${r.appVersion}` },
    { label: 'Analysis run', value: `${r.runId} · ${options.formatDate(p.createdAt)}` },
    { label: 'Inpainter', value: describeInpainter(p) },
    { label: 'Model SHA-256', value: p.model?.sha256 ?? 'no model file (classical inpainting)', identifier: !!p.model },
    { label: 'Sampler preset', value: preset },
    { label: 'Device', value: describeDevice(p.device) },
    { label: 'Seed · squares', value: `seed ${p.seed} · ${p.sizesPx.join(', ')} px squares${p.halfOffsets ? ' with half-square offsets' : ''} · ${p.networkCalls.toLocaleString('en-US')} model evaluations (forward passes of the network)` },
    { label: 'Brain extraction', value: `${p.brainMask.method}, ${p.brainMask.volumeMl.toFixed(0)} mL` },
    { label: 'Window', value: `centre ${p.window.centerHu} HU, width ${p.window.widthHu} HU` },
    { label: 'Threshold', value: describeThreshold(r.run) },
    { label: 'Healthy reference', value: describeHealthyReference(r, options.formatDate, options.sha256Length ?? 16) },
    { label: 'Reading settings', value: describeReadingSettings(r.run.reading) },
    { label: 'Timings', value: `brain mask ${formatSeconds(t.brainMask)} · preprocessing ${formatSeconds(t.preprocess)} · inpainting ${formatSeconds(t.inpaint)} · total ${formatSeconds(t.total)}` },
    { label: 'Host', value: `${p.host.platform} ${p.host.arch} · ${p.host.cpu} · ${p.host.cores} cores` },
    { label: 'Input', value: `${p.input.dims.join(' × ')} voxels · ${p.input.spacing.map((s) => +s.toFixed(3)).join(' × ')} mm${p.input.modality ? ` · ${p.input.modality}` : ''}` },
  ];
  if (r.meta.seriesInstanceUid) rows.push({ label: 'Series UID', value: r.meta.seriesInstanceUid + (r.deidentified ? ' (pseudonym)' : ''), identifier: true });
  return rows;
}
