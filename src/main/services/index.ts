import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { validateRequest, type MethodName, type ResultOf, type ValidParamsOf } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { ModelInfo } from '../../shared/types';
import { APP_VERSION, RESEARCH_USE_NOTICE } from '../../shared/version';
import { openDatabase, type Database } from '../storage/db';
import { JobsRepository } from '../storage/repositories/jobs';
import { LibraryRepository } from '../storage/repositories/library';
import { SettingsRepository } from '../storage/repositories/settings';
import { EventBus } from './events';
import { JobManager } from './jobs';
import { LibraryService } from './library';
import { AnalysisService } from './analysis';
import { ReviewService } from './review';
import { CompareService } from './compare';
import { ExportService } from './export';
import { ReviewRepository } from '../storage/repositories/review';
import { RunsRepository } from '../storage/repositories/runs';
import { listModels } from '../core/inpaint/model';
import { modelsDir } from '../paths';
import { DEFAULT_MODEL_ID } from '../core/pipeline/run-analysis';
import { FILL_MASK_FILE } from '../jobs/fill-job';

export interface ServicesOptions {
  dataDir: string;
  mode: 'electron' | 'browser' | 'cli';
  /** Test hook: job handler module for the worker threads. */
  handlersModule?: string;
  maxConcurrentJobs?: number;
}

type Handlers = { [M in MethodName]: (params: ValidParamsOf<M>) => Promise<ResultOf<M>> | ResultOf<M> };

/**
 * The API implemented once. Every transport (Electron IPC, HTTP/WebSocket, CLI, tests) calls
 * `call(method, params)`, which validates at the boundary and dispatches here.
 */
export class Services {
  readonly events = new EventBus();
  readonly db: Database;
  readonly jobs: JobManager;
  readonly library: LibraryService;
  readonly analysis: AnalysisService;
  readonly review: ReviewService;
  readonly compare: CompareService;
  readonly exports: ExportService;
  readonly settings: SettingsRepository;
  private readonly handlers: Handlers;

  constructor(readonly options: ServicesOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.db = openDatabase(join(options.dataDir, 'library.sqlite'));
    this.jobs = new JobManager({
      repo: new JobsRepository(this.db),
      events: this.events,
      dataDir: options.dataDir,
      maxConcurrent: options.maxConcurrentJobs ?? 1,
      handlersModule: options.handlersModule,
    });
    this.settings = new SettingsRepository(this.db);
    this.library = new LibraryService({ repo: new LibraryRepository(this.db), jobs: this.jobs, events: this.events, dataDir: options.dataDir });
    this.analysis = new AnalysisService({ runs: new RunsRepository(this.db), settings: this.settings, library: this.library, jobs: this.jobs, events: this.events, dataDir: options.dataDir });
    this.review = new ReviewService({ repo: new ReviewRepository(this.db), analysis: this.analysis, dataDir: options.dataDir });
    this.compare = new CompareService({ analysis: this.analysis, review: this.review, library: this.library });
    this.exports = new ExportService({ analysis: this.analysis, review: this.review, library: this.library, dataDir: options.dataDir });
    this.handlers = {
      'app.info': async () => ({
        version: APP_VERSION,
        mode: options.mode === 'electron' ? 'electron' : 'browser',
        dataDir: options.dataDir,
        researchNotice: RESEARCH_USE_NOTICE,
        models: await this.models(),
      }),
      'models.list': () => this.models(),
      'synth.start': (p) => this.library.startSynth(p),
      'analysis.start': (p) => this.analysis.start(p),
      'analysis.runs': ({ seriesId }) => this.analysis.listRuns(seriesId),
      'analysis.threshold': ({ runId, reading }) => this.analysis.threshold(runId, reading),
      'analysis.saveReading': ({ runId, reading, asDefault }) => this.analysis.saveReading(runId, reading, asDefault),
      'analysis.readingFor': ({ seriesId }) => this.analysis.readingFor(seriesId),
      'review.get': ({ runId }) => this.review.state(runId),
      'review.start': ({ runId, reading, author }) => this.review.start(runId, reading, author),
      'review.brush': ({ runId, author, ...op }) => this.review.brush(runId, op, author),
      'review.setLesion': ({ runId, label, author, ...patch }) => this.review.setLesion(runId, label, patch, author),
      'review.undo': ({ runId }) => this.review.undo(runId),
      'review.redo': ({ runId }) => this.review.redo(runId),
      'review.discard': ({ runId }) => this.review.discard(runId),
      'export.run': ({ runId, format, deidentify }) => this.exports.exportRun(runId, format, deidentify),
      'compare.runs': ({ runA, runB }) => this.compare.compare(runA, runB),
      'workbench.importMask': ({ seriesId, path }) => this.library.importMask(seriesId, path),
      'workbench.fill': (p) => this.library.startFill(p),
      'export.series': ({ seriesId }) => this.exports.exportSeries(seriesId),
      'analysis.reference': ({ runId }) => this.analysis.referenceOf(runId),
      'analysis.adoptCurrentReference': ({ runId }) => this.analysis.adoptCurrentReference(runId),
      'analysis.deleteRun': async ({ runId }) => ({ deleted: await this.analysis.deleteRun(runId) }),
      'studies.list': () => this.library.listStudies(),
      'studies.delete': async ({ studyId }) => ({ deleted: await this.deleteStudy(studyId) }),
      'series.get': ({ seriesId }) => this.library.getSeries(seriesId),
      'imports.start': ({ paths, deidentify, label }) => this.library.startImport(paths, deidentify, label),
      'jobs.list': ({ limit }) => this.jobs.list(limit),
      'jobs.get': ({ jobId }) => this.jobs.get(jobId),
      'jobs.cancel': ({ jobId }) => ({ cancelled: this.jobs.cancel(jobId) }),
    };
  }

  /** Open the services and clean up after any previous crash. */
  static async open(options: ServicesOptions): Promise<Services> {
    const s = new Services(options);
    await s.library.sweepOrphans();
    await s.analysis.sweepOrphans();
    return s;
  }

  async call(method: unknown, params: unknown): Promise<unknown> {
    const v = validateRequest(method, params);
    const handler = this.handlers[v.method] as (p: unknown) => unknown;
    return await handler(v.params);
  }

  /**
   * Binary resources (voxels, maps, thumbnails) by path, for the custom protocol and HTTP GET.
   * Paths are fixed shapes with ids looked up in the database: nothing outside the data
   * directory can be named.
   */
  private async models(): Promise<ModelInfo[]> {
    // Unusable folders (bad manifest) are left out here; loading one names its problem.
    return (await listModels(modelsDir())).flatMap((m) => (m.manifest ? [{ id: m.id, kind: m.manifest.kind, version: m.manifest.version, description: m.manifest.card.description }] : []));
  }

  async readBinary(path: string): Promise<{ bytes: Uint8Array; contentType: string }> {
    const exp = /^exports\/([A-Za-z0-9-]{1,64})\/([A-Za-z0-9._-]{1,120})$/.exec(path);
    if (exp && !exp[2].startsWith('.')) {
      const types: Record<string, string> = { pdf: 'application/pdf', dcm: 'application/dicom', gz: 'application/gzip', csv: 'text/csv', json: 'application/json' };
      try {
        const buf = await readFile(join(this.options.dataDir, 'exports', exp[1], exp[2]));
        return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), contentType: types[exp[2].split('.').pop() ?? ''] ?? 'application/octet-stream' };
      } catch {
        throw new AppError('NOT_FOUND', 'That export no longer exists; export it again.');
      }
    }
    const run = /^runs\/([A-Za-z0-9-]{1,64})\/(brain-mask|healthy|difference|score)(?:\/(absolute|squared|ssim)\/(max|mean|weighted))?$/.exec(path);
    if (run) return { bytes: await this.analysis.binary(run[1], run[2], run[3], run[4]), contentType: 'application/octet-stream' };
    const m = /^series\/([A-Za-z0-9-]{1,64})\/(voxels|thumbnail|truth|fill-mask)$/.exec(path);
    if (!m) throw new AppError('NOT_FOUND', 'Unknown resource.');
    const s = this.library.getSeriesFiles(m[1]);
    // Synthetic series carry their lesion truth (uint8 labels) beside the voxels.
    // Filled series keep the mask they were filled with.
    const file = m[2] === 'voxels' ? s.voxelsFile : m[2] === 'thumbnail' ? s.thumbnailFile : m[2] === 'truth' ? `series/${m[1]}/truth-labels.u8` : `series/${m[1]}/${FILL_MASK_FILE}`;
    const full = resolve(this.options.dataDir, file);
    if (!full.startsWith(resolve(this.options.dataDir) + sep)) throw new AppError('NOT_FOUND', 'Unknown resource.');
    let buf: Buffer;
    try {
      buf = await readFile(full);
    } catch {
      const missing = { truth: 'This series has no ground truth (only synthetic cases do).', 'fill-mask': 'This series was not made by the inpainting workbench, so it has no fill mask.' } as Record<string, string>;
      throw new AppError('NOT_FOUND', missing[m[2]] ?? 'The image data of this series is missing from the library folder.');
    }
    return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), contentType: m[2] === 'thumbnail' ? 'image/png' : 'application/octet-stream' };
  }

  /**
   * First launch with an empty library: generate the demo study (a synthetic head CT with an
   * intraparenchymal hemorrhage) and analyse it with the shipped model (or the biharmonic
   * baseline when no model is installed), so a newcomer sees the method work without patient
   * data. Happens once per library; deleting the demo does not bring it back.
   */
  async ensureDemo(): Promise<{ jobId: string } | null> {
    if (this.settings.get<boolean>('demo:created')) return null;
    if (this.library.listStudies().length > 0) return null;
    this.settings.set('demo:created', true);
    const { jobId } = this.library.startSynth({ seed: 42, lesions: ['iph'], timepoints: 1, intervalDays: 3, slices: 36 });
    void this.jobs.waitFor(jobId).then(async (job) => {
      if (job.status !== 'succeeded') return;
      const seriesId = (job.result as { studies: { series: { id: string }[] }[] }).studies[0]?.series[0]?.id;
      if (!seriesId) return;
      const models = await this.models();
      const inpainter = models.some((m) => m.id === DEFAULT_MODEL_ID)
        ? ({ kind: 'diffusion', modelId: DEFAULT_MODEL_ID, preset: 'fast', device: 'auto' } as const)
        : ({ kind: 'classical', method: 'biharmonic' } as const);
      await this.analysis.start({ seriesId, inpainter, seed: 0 }).catch(() => undefined);
    });
    return { jobId };
  }

  /**
   * A study goes with everything derived from it: its analysis runs (rows, reviews and the run
   * folders, which hold the patient's images) first, then its series. Nothing of the patient
   * stays on disk until a later start sweeps it.
   */
  private async deleteStudy(studyId: string): Promise<boolean> {
    for (const { seriesId } of this.library.studySeries(studyId)) for (const run of this.analysis.listRuns(seriesId)) await this.analysis.deleteRun(run.id);
    return this.library.deleteStudy(studyId);
  }

  async close(): Promise<void> {
    await this.jobs.shutdown();
    this.db.close();
  }
}
