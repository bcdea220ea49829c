/**
 * The one API contract between the renderer and the services. Declared once; the preload,
 * the Electron IPC handlers, the HTTP/WebSocket server and the renderer's client are all
 * derived from it. Every request is validated here at the boundary (zod), so services can
 * trust their inputs; results are typed but not re-validated (they come from our own code).
 */
import { z } from 'zod';
import { AppError } from './errors';
import type { AppInfo, JobInfo, StudySummary, SeriesDetail, RunInfo, ThresholdOutcome, ModelInfo, ReviewState, ComparisonResult, RunReferenceInfo } from './types';
import { readingSettingsSchema, type ReadingSettings } from './analysis';

export type MethodKind = 'query' | 'command' | 'job';

export interface MethodSpec<P extends z.ZodType, R> {
  kind: MethodKind;
  params: P;
  /** Phantom field carrying the result type; never set at runtime. */
  readonly result?: R;
  summary: string;
}

/** Curried so the params type is inferred from the schema while the result type is given. */
function method<R>() {
  return <P extends z.ZodType>(kind: MethodKind, params: P, summary: string): MethodSpec<P, R> => ({ kind, params, summary });
}

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.-]+$/, 'must be an identifier');
const empty = z.object({}).strict();

const inpainterSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('diffusion'),
      modelId: id,
      preset: z.enum(['fast', 'reference']).default('fast'),
      device: z.enum(['auto', 'cpu', 'webgpu', 'cuda']).default('auto'),
    })
    .strict(),
  z.object({ kind: z.literal('classical'), method: z.enum(['nearest', 'linear', 'harmonic', 'biharmonic']) }).strict(),
]);

export const contract = {
  'app.info': method<AppInfo>()('query', empty, 'Version, data directory, models and devices.'),

  'studies.list': method<StudySummary[]>()('query', empty, 'All studies in the library with their series.'),
  'studies.delete': method<{ deleted: boolean }>()(
    'command',
    z.object({ studyId: id }).strict(),
    'Remove a study, its series and derived files from the library.',
  ),
  'series.get': method<SeriesDetail>()('query', z.object({ seriesId: id }).strict(), 'Geometry, metadata and warnings of one series.'),

  'imports.start': method<{ jobId: string }>()(
    'job',
    z
      .object({
        paths: z.array(z.string().min(1).max(4096)).min(1, 'Choose at least one file or folder to import.').max(10_000),
        deidentify: z.boolean().default(false),
        /** How the job is named in the job list, where the paths say nothing (an upload batch). */
        label: z.string().min(1).max(200).optional(),
      })
      .strict(),
    'Import DICOM folders, NIfTI files or PNG stacks (paths on this computer).',
  ),

  'models.list': method<ModelInfo[]>()('query', empty, 'Installed models (inpainting and brain extraction).'),

  'analysis.start': method<{ jobId: string }>()(
    'job',
    z.object({ seriesId: id, inpainter: inpainterSchema, reading: readingSettingsSchema.optional(), seed: z.number().int().min(0).max(2 ** 31).default(0) }).strict(),
    'Analyse a series: brain extraction, multi-scale inpainting, scoring and thresholding.',
  ),
  'analysis.runs': method<RunInfo[]>()('query', z.object({ seriesId: id }).strict(), 'Finished analysis runs of a series, newest first, with provenance.'),
  'analysis.threshold': method<ThresholdOutcome>()(
    'query',
    z.object({ runId: id, reading: readingSettingsSchema }).strict(),
    'Lesions, label mask and score histogram of a run for a reading (fast: drives the live slider).',
  ),
  'analysis.saveReading': method<RunInfo>()(
    'command',
    z.object({ runId: id, reading: readingSettingsSchema, asDefault: z.boolean().default(false) }).strict(),
    'Keep a reading on the run and the series (and as the user default).',
  ),
  'analysis.reference': method<RunReferenceInfo>()(
    'query',
    z.object({ runId: id }).strict(),
    "The healthy reference a run's z cuts read, next to its inpainter's current one (also when the run's cannot be read).",
  ),
  'analysis.adoptCurrentReference': method<RunInfo>()(
    'command',
    z.object({ runId: id }).strict(),
    "Read a run against its inpainter's current healthy reference from now on (its saved reading is thresholded again).",
  ),
  'analysis.readingFor': method<ReadingSettings>()('query', z.object({ seriesId: id }).strict(), 'The reading settings last used for a series, else the user default.'),
  'analysis.deleteRun': method<{ deleted: boolean }>()('command', z.object({ runId: id }).strict(), 'Delete an analysis run and its files.'),

  'synth.start': method<{ jobId: string }>()(
    'job',
    z
      .object({
        seed: z.number().int().min(0).max(2 ** 31).default(42),
        lesions: z.array(z.enum(['iph', 'ivh', 'sah', 'sdh', 'edh', 'infarct', 'edema', 'mass'])).max(8).default(['iph']),
        timepoints: z.number().int().min(1).max(10).default(1),
        intervalDays: z.number().min(0.5).max(365).default(3),
        slices: z.number().int().min(1).max(120).default(36),
        /** Volume change per day of every lesion (0.15 = +15%/day, e.g. haematoma expansion); default: drawn from the seed. */
        growthPerDay: z.number().min(-0.5).max(0.5).optional(),
      })
      .strict(),
    'Generate a synthetic head CT with lesions (and timepoints) as a study in the library.',
  ),

  'review.get': method<ReviewState>()('query', z.object({ runId: id }).strict(), 'The review of a run: edited lesions, history, undo/redo availability.'),
  'review.start': method<ReviewState>()(
    'command',
    z.object({ runId: id, reading: readingSettingsSchema, author: z.string().min(1).max(100).optional() }).strict(),
    "Freeze the run's lesion mask at this reading and start reviewing it.",
  ),
  'review.brush': method<ReviewState>()(
    'command',
    z
      .object({
        runId: id,
        target: z.enum(['lesion', 'brain']).default('lesion'),
        mode: z.enum(['paint', 'erase']),
        center: z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(0)]),
        radiusMm: z.number().positive().max(50),
        sphere: z.boolean().default(false),
        /** The grid axis a disc lies across (the view the reader paints in); 2 = axial slices. */
        sliceAxis: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(2),
        /** Paint into this lesion; absent: a new lesion. */
        label: z.number().int().positive().optional(),
        author: z.string().min(1).max(100).optional(),
      })
      .strict(),
    'Paint or erase the lesion or brain mask with a disc (in the slice painted in) or sphere brush.',
  ),
  'review.setLesion': method<ReviewState>()(
    'command',
    z
      .object({
        runId: id,
        label: z.number().int().positive(),
        status: z.enum(['pending', 'accepted', 'rejected']).optional(),
        type: z.enum(['iph', 'ivh', 'sah', 'sdh', 'edh', 'infarct', 'mass', 'artefact', 'other', '']).optional(),
        note: z.string().max(2000).optional(),
        author: z.string().min(1).max(100).optional(),
      })
      .strict(),
    'Accept or reject a lesion, set its type or note.',
  ),
  'review.undo': method<ReviewState>()('command', z.object({ runId: id }).strict(), 'Undo the last review edit.'),
  'review.redo': method<ReviewState>()('command', z.object({ runId: id }).strict(), 'Redo the last undone review edit.'),
  'review.discard': method<ReviewState>()('command', z.object({ runId: id }).strict(), 'Discard the review and all its edits.'),

  'workbench.importMask': method<{ runs: number[]; maskedVoxels: number; notes: string[] }>()(
    'query',
    z.object({ seriesId: id, path: z.string().min(1).max(4096) }).strict(),
    "Read a mask image (NIfTI, DICOM or PNG on this computer) on a series' grid, run-length encoded, for the inpainting workbench.",
  ),
  'workbench.fill': method<{ jobId: string }>()(
    'job',
    z
      .object({
        seriesId: id,
        /** Run lengths of the mask on the series grid, alternating 0 and 1, starting with 0. */
        maskRuns: z.array(z.number().int().min(0)).min(1).max(4_000_000),
        method: z.enum(['diffusion', 'nearest', 'linear', 'harmonic', 'biharmonic']),
        modelId: id.optional(),
        preset: z.enum(['fast', 'reference']).default('fast'),
        device: z.enum(['auto', 'cpu', 'webgpu', 'cuda']).default('auto'),
        seed: z.number().int().min(0).max(2 ** 31).default(0),
      })
      .strict(),
    'Fill the masked voxels of a series with the diffusion model or a classical inpainter; the result is a new series of the same study.',
  ),

  'compare.runs': method<ComparisonResult>()(
    'query',
    z.object({ runA: id, runB: id }).strict(),
    'Lesion volumes of two runs (e.g. two timepoints) and their change; says whether the grids match.',
  ),

  'export.run': method<{ format: string; fileName: string; downloadPath: string; path: string; bytes: number; warnings: string[]; reviewed: boolean }>()(
    'command',
    z.object({ runId: id, format: z.enum(['pdf', 'seg', 'nifti', 'csv', 'json']), deidentify: z.boolean().default(false) }).strict(),
    'Write a PDF report, DICOM SEG, NIfTI mask or lesion table of a run (with review edits); returns where to download it.',
  ),

  'export.series': method<{ format: string; fileName: string; downloadPath: string; path: string; bytes: number; warnings: string[] }>()(
    'command',
    z.object({ seriesId: id }).strict(),
    'Write a series (for example a filled one) as a NIfTI image; returns where to download it.',
  ),

  'jobs.list': method<JobInfo[]>()('query', z.object({ limit: z.number().int().min(1).max(500).default(50) }).strict(), 'Recent jobs, newest first.'),
  'jobs.get': method<JobInfo>()('query', z.object({ jobId: id }).strict(), 'One job.'),
  'jobs.cancel': method<{ cancelled: boolean }>()('command', z.object({ jobId: id }).strict(), 'Ask a running job to stop; it ends as cancelled.'),
} as const;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export const METHOD_NAMES = Object.keys(contract) as MethodName[];

/** What a caller sends (defaults optional). */
export type ParamsOf<M extends MethodName> = z.input<Contract[M]['params']>;
/** What a service receives after validation (defaults filled in). */
export type ValidParamsOf<M extends MethodName> = z.output<Contract[M]['params']>;
export type ResultOf<M extends MethodName> = NonNullable<Contract[M]['result']>;

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name);
}

/**
 * Validate a request at the boundary. Throws BAD_REQUEST with a sentence naming the method and
 * the offending fields, never a zod dump.
 */
export function validateRequest<M extends MethodName>(name: unknown, params: unknown): { method: M; params: ValidParamsOf<M> } {
  if (!isMethodName(name)) throw new AppError('BAD_REQUEST', `Unknown request "${String(name).slice(0, 80)}".`);
  const spec = contract[name];
  const parsed = spec.params.safeParse(params ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => {
      const where = i.path.length ? i.path.join('.') : 'request';
      return `${where}: ${i.message}`;
    });
    throw new AppError('BAD_REQUEST', `Invalid request ${name}: ${issues.join('; ')}.`, { method: name });
  }
  return { method: name as M, params: parsed.data as ValidParamsOf<M> };
}

/** Events pushed from the services to every connected renderer. */
export interface EventMap {
  'job.progress': JobInfo;
  'job.finished': JobInfo;
  'library.changed': { reason: string };
}
export type EventName = keyof EventMap;
export const EVENT_NAMES: EventName[] = ['job.progress', 'job.finished', 'library.changed'];

/** Wire format shared by the WebSocket server and client. */
export type WireRequest = { type: 'request'; id: number; method: string; params: unknown };
export type WireResponse = { type: 'response'; id: number; result?: unknown; error?: { code: string; message: string } };
export type WireEvent = { type: 'event'; event: EventName; payload: unknown };
