/**
 * Plain data types that cross the API boundary. No functions, no classes: they travel as JSON.
 */
import type { ErrorPayload } from './errors';

export type Vec3 = [number, number, number];

export interface SeriesWarningInfo {
  code: string;
  message: string;
}

export interface SeriesSummary {
  id: string;
  studyId: string;
  modality: string;
  description: string;
  seriesNumber: number | null;
  /** Voxel grid [x, y, z]; z is slices, k = 0 is the most inferior. */
  dims: Vec3;
  /** mm */
  spacing: Vec3;
  source: string;
  deidentified: boolean;
  warnings: SeriesWarningInfo[];
  createdAt: string;
  /**
   * The date of this series' images (YYYYMMDD as read; '' when unknown). Usually the study's;
   * the timepoints of a synthetic follow-up share one study but each has its own.
   */
  date: string;
}

export interface SeriesDetail extends SeriesSummary {
  /** LPS mm of voxel (0,0,0). */
  origin: Vec3;
  /** Column-major 3x3 direction cosines. */
  direction: number[];
  intensityUnit: 'HU' | 'raw' | 'windowed';
  windowCenter: number | null;
  windowWidth: number | null;
  /** Path, relative to the binary endpoint, of the Int16 voxel data (x-fastest). */
  voxelsPath: string;
  /** Path of an 8-bit thumbnail PNG (middle slice at brain window). */
  thumbnailPath: string;
  /** Set when the series was made by the inpainting workbench from another series. */
  fill: FillProvenance | null;
}

export type FillMethodName = 'diffusion' | 'nearest' | 'linear' | 'harmonic' | 'biharmonic';

/** How a filled series was made: recorded with it, shown beside it, exported with it. */
export interface FillProvenance {
  sourceSeriesId: string;
  sourceSeriesInstanceUid: string;
  sourceDescription: string;
  method: FillMethodName;
  model: { id: string; version: string } | null;
  preset: string | null;
  /** The execution provider that ran the model (cpu, webgpu, cuda). */
  device: string | null;
  seed: number;
  maskedVoxels: number;
  maskVolumeMl: number;
  filledByDiffusion: number;
  filledByClassical: number;
  slicesInpainted: number;
  networkCalls: number;
  timeMs: number;
  appVersion: string;
  createdAt: string;
  notes: string[];
  /** Path of the fill mask (uint8, the series grid) for the binary endpoint. */
  maskPath: string;
}

export interface StudySummary {
  id: string;
  patientName: string;
  patientIdentifier: string;
  studyDate: string;
  description: string;
  studyInstanceUid: string;
  createdAt: string;
  series: SeriesSummary[];
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface JobInfo {
  id: string;
  kind: string;
  status: JobStatus;
  stage: string;
  done: number;
  total: number;
  message: string;
  /** Short human label, e.g. "Import 3 paths". */
  title: string;
  result: unknown;
  error: ErrorPayload | null;
  /** True when an interrupted job can be started again with the same parameters. */
  resumable: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface ModelInfo {
  id: string;
  kind: string;
  version: string;
  description: string;
}

export interface AppInfo {
  version: string;
  mode: 'electron' | 'browser';
  dataDir: string;
  researchNotice: string;
  models: ModelInfo[];
}

export type InpainterInfo =
  | { kind: 'diffusion'; modelId: string; preset: 'fast' | 'reference'; device: 'auto' | 'cpu' | 'webgpu' | 'cuda' }
  | { kind: 'classical'; method: 'nearest' | 'linear' | 'harmonic' | 'biharmonic' };

export interface RunSummary {
  lesions: number;
  lesionVolumeMl: number;
  brainVoxels: number;
}

/**
 * Which healthy reference a run's z cuts are read against, in brief. A run keeps a copy of the
 * reference it was analysed with, so recalibrating the model later does not silently move the
 * cuts (and lesions) of finished analyses.
 */
export interface HealthyReferenceStamp {
  /** SHA-256 of the reference's canonical JSON: two stamps with the same hash are the same reference. */
  sha256: string;
  /** metric/fusion combinations it describes. */
  entries: number;
  /** Healthy scans it was calibrated on (the fewest over its entries). */
  scans: number;
  /** When it was calibrated (the latest entry), if recorded. */
  calibratedAt: string | null;
  /** Which healthy data and settings, in words, if recorded. */
  source: string | null;
}

/** The reference a run is read against, next to the one its model has now. */
export interface RunReferenceInfo {
  /** Whether the run keeps its own copy; false for a run analysed before runs kept one, which reads the inpainter's current reference. */
  kept: boolean;
  /** The reference its z cuts are read against; null where there is none (an uncalibrated inpainter: absolute and percentile cuts only). */
  readAgainst: HealthyReferenceStamp | null;
  /** The inpainter's reference now; null where it has none or cannot be read (`currentUnavailable` says why). */
  current: HealthyReferenceStamp | null;
  currentUnavailable: string | null;
  /** When the reader replaced the analysis' reference with the inpainter's newer one (ISO time); null: it is the analysis' own. */
  adoptedAt: string | null;
  /** Why the run's z cuts cannot be read (its copy is damaged, or an older run's inpainter has no loadable reference); null when they can. */
  unreadable: string | null;
}

/** How far the review of a run's found lesions has got (lesions drawn by the reviewer not counted). */
export interface RunReviewProgress {
  /** Lesions the analysis found at the reading the review started from. */
  found: number;
  accepted: number;
  rejected: number;
  startedBy: string;
  updatedAt: string;
}

export interface RunInfo {
  id: string;
  seriesId: string;
  jobId: string;
  /** e.g. "healthy-brain-ddpm fast · cpu" */
  label: string;
  inpainter: InpainterInfo;
  modelId: string | null;
  modelSha256: string | null;
  preset: string | null;
  device: string;
  /** Full provenance as written to run.json (app version, timings, host, parameters). */
  provenance: Record<string, unknown>;
  reading: import('./analysis').ReadingSettings;
  summary: RunSummary;
  /** Null until someone starts reviewing the run. */
  review: RunReviewProgress | null;
  createdAt: string;
}

export interface LesionInfo {
  label: number;
  volumeMl: number;
  voxelCount: number;
  sliceRange: [number, number];
  centroidLps: Vec3;
  /** Voxel to jump to (highest score). */
  peakVoxel: Vec3;
  meanScore: number;
  maxScore: number;
  meanHu: number | null;
  sign: 'hyper' | 'hypo' | 'unknown';
}

export interface HistogramInfo {
  min: number;
  max: number;
  binWidth: number;
  counts: number[];
  total: number;
}

export interface ThresholdOutcome {
  runId: string;
  threshold: { value: number; description: string };
  lesions: LesionInfo[];
  lesionVolumeMl: number;
  brainVoxels: number;
  /** Brain score histogram (after erosion), for the slider. */
  histogram: HistogramInfo;
  /** Score quantiles for slider bounds: 50th, 99th, 99.9th percentile and max. */
  quantiles: { p50: number; p99: number; p999: number; max: number };
  /**
   * The lesion label volume, sparse: base64 of little-endian Uint32 voxel indices, and of
   * Uint16 labels in the same order.
   */
  labelIndices: string;
  labelValues: string;
  elapsedMs: number;
  /** The healthy reference behind a z cut (and any recalibration since the analysis). */
  reference: RunReferenceInfo;
}

export type ReviewStatus = 'pending' | 'accepted' | 'rejected';
export const LESION_TYPES_FOR_REVIEW = ['iph', 'ivh', 'sah', 'sdh', 'edh', 'infarct', 'mass', 'artefact', 'other'] as const;
export type ReviewLesionType = (typeof LESION_TYPES_FOR_REVIEW)[number] | '';

export interface ReviewLesion {
  label: number;
  status: ReviewStatus;
  type: ReviewLesionType;
  note: string;
  /** Found by the analysis, or drawn by the reviewer. */
  origin: 'detected' | 'drawn';
  voxelCount: number;
  volumeMl: number;
  sliceRange: [number, number];
  centroidLps: Vec3;
  peakVoxel: Vec3;
  meanHu: number | null;
  updatedBy: string;
  updatedAt: string;
}

export interface ReviewState {
  runId: string;
  started: boolean;
  /** The reading the review froze (threshold and settings of the reviewed mask). */
  reading: import('./analysis').ReadingSettings | null;
  threshold: { value: number; description: string } | null;
  lesions: ReviewLesion[];
  /** Edited lesion labels, sparse as in ThresholdOutcome. */
  labelIndices: string;
  labelValues: string;
  /** True when the reviewer changed the brain mask. */
  brainEdited: boolean;
  canUndo: boolean;
  canRedo: boolean;
  history: { summary: string; author: string; at: string; undone: boolean }[];
  startedBy: string | null;
}

export interface ComparisonTruthLesion {
  id: string;
  /** Lesion type code (iph, edema, ...). */
  type: string;
  volumeMlA: number;
  volumeMlB: number;
  changeMl: number;
  changePct: number | null;
}

export interface ComparisonResult {
  runA: string;
  runB: string;
  /** Same voxel grid (dims, spacing, origin, direction): lesions are matched by overlap. */
  sameGrid: boolean;
  /** A sentence for the reader about how lesions were matched. */
  matching: string;
  /**
   * Set when the two scans are of different patients (the table compares two cases, not a course),
   * or of one patient in different DICOM frames of reference (separate acquisitions, not registered).
   */
  subjectNote: string | null;
  /** Set when the two runs' z cuts read different healthy references of one inpainter (a recalibration between them). */
  referenceNote: string | null;
  /** Set when the two runs' lesions come from different reading settings (each side's saved reading, or the reading its review started from). */
  readingNote: string | null;
  /** Days between the studies when both dates are known (B - A). */
  intervalDays: number | null;
  /** Acquisition dates (YYYYMMDD) of each side's series, which may differ within one study. */
  dateA: string | null;
  dateB: string | null;
  rows: {
    labelA: number | null;
    labelB: number | null;
    volumeMlA: number;
    volumeMlB: number;
    changeMl: number;
    /** Relative change (B - A) / A, null when A is 0. */
    changePct: number | null;
    sign: 'hyper' | 'hypo' | 'unknown';
    /** The generated lesion this row's lesions overlap most (synthetic timepoints of one case only). */
    truthId: string | null;
  }[];
  totalMlA: number;
  totalMlB: number;
  totalChangeMl: number;
  totalChangePct: number | null;
  /** Whether each side's volumes come from a reviewed mask. */
  reviewedA: boolean;
  reviewedB: boolean;
  /**
   * Generated lesion volumes when both series are synthetic (ground truth for checking); per
   * generated lesion (a haematoma and its oedema are two) when both are timepoints of one case.
   */
  truth: { totalMlA: number; totalMlB: number; lesions: ComparisonTruthLesion[] } | null;
}
