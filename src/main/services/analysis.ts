import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../shared/errors';
import { DEFAULT_READING_SETTINGS, readingSettingsSchema, type ReadingSettings } from '../../shared/analysis';
import type { RunInfo, ThresholdOutcome, InpainterInfo, RunReferenceInfo } from '../../shared/types';
import type { AnalysisJobParams } from '../jobs/analysis-job';
import type { RunRecord } from '../core/pipeline/run-dir';
import { loadRunDir, updateRunDir, type LoadedRun } from '../core/pipeline/run-dir';
import { healthyNativeHu, scoreReconstruction, type NativeScore } from '../core/pipeline/analyze';
import { defaultReading, withReadableCut, loadHealthyReferences, scoringKey, toThresholdSettings } from '../core/pipeline/reading';
import { assertZReadable, readsReferences, referenceVersion, runReferences } from '../core/pipeline/pinned-reference';
import { ThresholdEngine, type SearchRegion, type ThresholdResult } from '../core/scoring/lesions';
import type { HealthyReferenceSet } from '../core/scoring/threshold';
import { modelsDir } from '../paths';
import type { RunsRepository } from '../storage/repositories/runs';
import type { SettingsRepository } from '../storage/repositories/settings';
import type { LibraryService } from './library';
import type { JobManager } from './jobs';
import type { EventBus } from './events';

/** What stays in memory per opened run: the live threshold slider needs all of it. */
interface RunCache {
  run: LoadedRun;
  /** Where the run's folder is and what inpainted it: all the slider's reference check needs, without a database query. */
  runDir: string;
  inpainter: InpainterInfo;
  /** What its z cuts are read against: the run's own copy (an older run: the inpainter's current one). */
  references: HealthyReferenceSet;
  referenceInfo: RunReferenceInfo;
  /** referenceVersion when referenceInfo was read. */
  referenceVersion: string;
  scores: Map<string, { score: NativeScore; engine: ThresholdEngine }>;
  healthyHu?: Int16Array;
}

function base64Of(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function runLabel(inpainter: InpainterInfo, device: string): string {
  return inpainter.kind === 'diffusion' ? `${inpainter.modelId} · ${inpainter.preset} · ${device}` : `${inpainter.method} (classical)`;
}

/**
 * Analysis runs of a series: started as jobs, kept side by side with their provenance, and read
 * with a live threshold (the engine and score maps of the open runs stay in memory).
 */
export class AnalysisService {
  private readonly cache = new Map<string, RunCache>();
  private readonly opening = new Map<string, Promise<RunCache>>();
  private static readonly MAX_OPEN_RUNS = 2;

  constructor(
    private readonly deps: {
      runs: RunsRepository;
      settings: SettingsRepository;
      library: LibraryService;
      jobs: JobManager;
      events: EventBus;
      dataDir: string;
    },
  ) {}

  listRuns(seriesId: string): RunInfo[] {
    return this.deps.runs.listForSeries(seriesId);
  }

  getRun(runId: string): RunInfo & { dir: string } {
    const run = this.deps.runs.get(runId);
    if (!run) throw new AppError('NOT_FOUND', 'That analysis run does not exist (it may have been deleted).');
    return run;
  }

  async start(params: { seriesId: string; inpainter: InpainterInfo; reading?: ReadingSettings; seed: number }): Promise<{ jobId: string }> {
    const series = this.deps.library.getSeries(params.seriesId);
    if (series.intensityUnit !== 'HU') {
      throw new AppError('NOT_CT', `This series holds ${series.modality || 'non-CT'} intensities, not CT Hounsfield units; the analysis needs CT.`);
    }
    const references = await loadHealthyReferences(this.modelsDir(), params.inpainter);
    const saved = params.reading ? null : this.savedReading(params.seriesId);
    const reading = params.reading ?? (saved ? withReadableCut(saved, references) : defaultReading(params.inpainter, references));
    // A z-score asked for explicitly needs a healthy reference: say so now, not after minutes of inpainting.
    toThresholdSettings(reading, references);
    const runId = randomUUID();
    const stagingDir = join(this.deps.dataDir, 'staging', `run-${runId}`);
    const jobParams: AnalysisJobParams = {
      seriesId: params.seriesId,
      volume: this.deps.library.volumeRef(params.seriesId),
      inpainter: params.inpainter,
      reading,
      seed: params.seed,
      stagingDir,
    };
    const title = `Analyse ${series.description || series.modality || 'series'} — ${params.inpainter.kind === 'diffusion' ? `${params.inpainter.modelId} (${params.inpainter.preset})` : params.inpainter.method}`;
    const job = this.deps.jobs.start<RunRecord>('analysis', jobParams, {
      title,
      complete: async (record, jobId) => {
        const dir = `runs/${runId}`;
        await mkdir(join(this.deps.dataDir, 'runs'), { recursive: true });
        await rename(stagingDir, join(this.deps.dataDir, dir));
        const device = record.provenance.device.active;
        const info: RunInfo & { dir: string } = {
          id: runId,
          seriesId: params.seriesId,
          jobId,
          label: runLabel(params.inpainter, device),
          inpainter: params.inpainter,
          modelId: record.provenance.model?.id ?? null,
          modelSha256: record.provenance.model?.sha256 ?? null,
          preset: params.inpainter.kind === 'diffusion' ? params.inpainter.preset : null,
          device,
          provenance: record.provenance as unknown as Record<string, unknown>,
          reading: record.reading,
          summary: record.summary,
          review: null,
          createdAt: record.provenance.createdAt,
          dir,
        };
        try {
          this.deps.runs.insert(info);
        } catch (e) {
          await rm(join(this.deps.dataDir, dir), { recursive: true, force: true });
          throw e;
        }
        this.deps.events.emit('library.changed', { reason: 'run-added' });
        return { runId, seriesId: params.seriesId, summary: record.summary };
      },
      cleanup: () => rm(stagingDir, { recursive: true, force: true }),
    });
    return { jobId: job.id };
  }

  private modelsDir(): string {
    return modelsDir();
  }

  private async open(runId: string): Promise<RunCache> {
    const hit = this.cache.get(runId);
    if (hit) {
      this.cache.delete(runId);
      this.cache.set(runId, hit);
      await this.refreshReferences(hit);
      return hit;
    }
    // Opening a run (its volumes and reference) takes a while, and the viewer asks for several of
    // its maps at once: every caller waits for one load. Two loads would each cache an entry, and
    // a change made to the first (an adopted reference) could be overwritten by the second.
    let loading = this.opening.get(runId);
    if (!loading) {
      loading = this.load(runId).finally(() => this.opening.delete(runId));
      this.opening.set(runId, loading);
    }
    return loading;
  }

  private async load(runId: string): Promise<RunCache> {
    const info = this.getRun(runId);
    const runDir = join(this.deps.dataDir, info.dir);
    const run = await loadRunDir(runDir);
    const entry: RunCache = { run, runDir, inpainter: info.inpainter, ...(await this.readReferences(runDir, info.inpainter)), scores: new Map() };
    this.cache.set(runId, entry);
    while (this.cache.size > AnalysisService.MAX_OPEN_RUNS) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  /** Reads what the run's z cuts are read against, and the inpainter's reference now. */
  private async readReferences(runDir: string, inpainter: InpainterInfo): Promise<Pick<RunCache, 'references' | 'referenceInfo' | 'referenceVersion'>> {
    // The version first: a change landing in between is then picked up on the next call.
    const version = await referenceVersion(runDir, this.modelsDir(), inpainter);
    const { references, info: referenceInfo } = await runReferences(runDir, inpainter, this.modelsDir());
    return { references, referenceInfo, referenceVersion: version };
  }

  /** An open run notices a recalibration, or a change to its own copy, made while the app runs (two stats a call; the references are read only when they changed). */
  private async refreshReferences(entry: RunCache): Promise<void> {
    if ((await referenceVersion(entry.runDir, this.modelsDir(), entry.inpainter)) !== entry.referenceVersion) Object.assign(entry, await this.readReferences(entry.runDir, entry.inpainter));
  }

  private scored(entry: RunCache, reading: ReadingSettings): { score: NativeScore; engine: ThresholdEngine } {
    const key = scoringKey(reading);
    let s = entry.scores.get(key);
    if (!s) {
      const score = scoreReconstruction(entry.run.recon, reading);
      const engine = new ThresholdEngine({ score: score.score, signedResidual: score.signed, hu: entry.run.volume.data, brainMask: entry.run.brainMask, geometry: entry.run.volume });
      s = { score, engine };
      entry.scores.set(key, s);
      // Three metric/fusion choices in memory are plenty; each holds a few native volumes.
      while (entry.scores.size > 3) entry.scores.delete(entry.scores.keys().next().value as string);
    }
    return s;
  }

  /** Threshold a run for a reader's settings: the live slider calls this on every change. */
  async threshold(runId: string, readingInput: unknown): Promise<ThresholdOutcome> {
    const reading = readingSettingsSchema.parse(readingInput ?? {});
    const entry = await this.open(runId);
    assertZReadable(reading, entry.referenceInfo);
    const { engine } = this.scored(entry, reading);
    const settings = toThresholdSettings(reading, entry.references);
    const result = engine.apply(settings);
    return this.outcome(runId, entry, engine, result, settings);
  }

  private outcome(runId: string, entry: RunCache, engine: ThresholdEngine, result: ThresholdResult, region: SearchRegion): ThresholdOutcome {
    const count = result.lesionVoxels;
    const indices = new Uint32Array(count);
    const values = new Uint16Array(count);
    let c = 0;
    const labels = result.labels;
    // Lesion voxels are few (mL out of a litre of brain): send them sparse.
    for (const lesion of result.lesions) {
      const { min, max } = lesion.bbox;
      const [nx, ny] = engine.dims;
      for (let k = min[2]; k <= max[2]; k++)
        for (let j = min[1]; j <= max[1]; j++)
          for (let i = min[0]; i <= max[0]; i++) {
            const p = i + nx * (j + ny * k);
            if (labels[p] === lesion.label && c < count) {
              indices[c] = p;
              values[c++] = Math.min(65535, lesion.label);
            }
          }
    }
    const hist = engine.histogram(64, region);
    return {
      runId,
      threshold: { value: result.threshold.value, description: result.threshold.description },
      lesions: result.lesions.map((l) => ({
        label: l.label,
        volumeMl: l.volumeMl,
        voxelCount: l.voxelCount,
        sliceRange: l.sliceRange,
        centroidLps: l.centroidLps,
        peakVoxel: l.peakVoxel,
        meanScore: l.meanScore,
        maxScore: l.maxScore,
        meanHu: l.meanHu,
        sign: l.sign,
      })),
      lesionVolumeMl: result.lesionVolumeMl,
      brainVoxels: result.brainVoxels,
      histogram: { min: hist.min, max: hist.max, binWidth: hist.binWidth, counts: hist.counts, total: hist.total },
      quantiles: { p50: engine.quantile(0.5, region), p99: engine.quantile(0.99, region), p999: engine.quantile(0.999, region), max: engine.quantile(1, region) },
      labelIndices: base64Of(indices.subarray(0, c)),
      labelValues: base64Of(values.subarray(0, c)),
      elapsedMs: result.elapsedMs,
      reference: entry.referenceInfo,
    };
  }

  /** What the run's z cuts are read against, next to its inpainter's reference now. */
  async referenceOf(runId: string): Promise<RunReferenceInfo> {
    return (await this.open(runId)).referenceInfo;
  }

  /** The run's CT volume (native grid). */
  async volumeOf(runId: string): Promise<LoadedRun['volume']> {
    return (await this.open(runId)).run.volume;
  }

  /** Dense lesion labels (a copy) and lesions of a run at a reading, plus its brain mask. */
  async labelsFor(runId: string, readingInput: unknown): Promise<{ labels: Int32Array; lesions: ThresholdResult['lesions']; threshold: { value: number; description: string }; brainMask: Uint8Array }> {
    const reading = readingSettingsSchema.parse(readingInput ?? {});
    const entry = await this.open(runId);
    assertZReadable(reading, entry.referenceInfo);
    const { engine } = this.scored(entry, reading);
    const result = engine.apply(toThresholdSettings(reading, entry.references));
    return { labels: result.labels.slice(), lesions: result.lesions, threshold: { value: result.threshold.value, description: result.threshold.description }, brainMask: entry.run.brainMask };
  }

  /** Keep a reading: on the run (its files and summary), for the series, and optionally as the user default. */
  async saveReading(runId: string, readingInput: unknown, asDefault: boolean): Promise<RunInfo> {
    const reading = readingSettingsSchema.parse(readingInput ?? {});
    const info = this.getRun(runId);
    const entry = await this.open(runId);
    assertZReadable(reading, entry.referenceInfo);
    const { score, engine } = this.scored(entry, reading);
    const result = engine.apply(toThresholdSettings(reading, entry.references));
    const changedScore = scoringKey(reading) !== scoringKey(entry.run.record.reading);
    const record = await updateRunDir(join(this.deps.dataDir, info.dir), entry.run, {
      result: { ...result, labels: result.labels.slice() },
      reading,
      ...(changedScore ? { score: score.score, signed: score.signed } : {}),
    });
    entry.run.record = record;
    this.deps.runs.updateReading(runId, reading, record.summary);
    this.deps.settings.set(`reading:series:${info.seriesId}`, reading);
    if (asDefault) this.deps.settings.set('reading:default', reading);
    return this.getRun(runId);
  }

  /**
   * Reads a run against its inpainter's current healthy reference from now on (after a
   * recalibration, or for a run analysed before runs kept their own): its saved reading is
   * thresholded again and the new results and reference replace the old ones together. Refused,
   * with nothing changed, when the current reference cannot serve the run's saved z cut.
   */
  async adoptCurrentReference(runId: string): Promise<RunInfo> {
    const entry = await this.open(runId);
    const current = await loadHealthyReferences(this.modelsDir(), entry.inpainter);
    if (readsReferences(entry.referenceInfo, current)) {
      throw new AppError('BAD_REQUEST', 'This run is already read against the current healthy reference.');
    }
    const reading = entry.run.record.reading;
    const { engine } = this.scored(entry, reading);
    const result = engine.apply(toThresholdSettings(reading, current));
    const record = await updateRunDir(entry.runDir, entry.run, { result: { ...result, labels: result.labels.slice() }, reading, adoptedReferences: current });
    entry.run.record = record;
    // Read the folder back rather than patch the cache: what the reader sees is what is on disk.
    Object.assign(entry, await this.readReferences(entry.runDir, entry.inpainter));
    this.deps.runs.updateReading(runId, reading, record.summary);
    return this.getRun(runId);
  }

  /** The settings a reader saved for this series or as their default, if any. */
  private savedReading(seriesId: string): ReadingSettings | null {
    const saved = this.deps.settings.get<unknown>(`reading:series:${seriesId}`) ?? this.deps.settings.get<unknown>('reading:default');
    const parsed = readingSettingsSchema.safeParse(saved);
    return saved !== undefined && parsed.success ? parsed.data : null;
  }

  /** The settings a reader last used for this series, else their default, else the app's. */
  readingFor(seriesId: string): ReadingSettings {
    const saved = this.deps.settings.get<unknown>(`reading:series:${seriesId}`) ?? this.deps.settings.get<unknown>('reading:default');
    const parsed = readingSettingsSchema.safeParse(saved ?? {});
    return parsed.success ? parsed.data : DEFAULT_READING_SETTINGS;
  }

  /** Binary layers of a run for the viewer, on the series' native grid. */
  async binary(runId: string, layer: string, metric?: string, fusion?: string): Promise<Uint8Array> {
    const entry = await this.open(runId);
    const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    if (layer === 'brain-mask') return entry.run.brainMask;
    if (layer === 'healthy' || layer === 'difference') {
      if (!entry.healthyHu) {
        const hu = healthyNativeHu(entry.run.volume, entry.run.recon, entry.run.brainMask);
        entry.healthyHu = Int16Array.from(hu, (v) => Math.round(v));
      }
      if (layer === 'healthy') return asBytes(entry.healthyHu);
      // Original minus healthy, in HU: bright where the scan is denser than the healthy estimate.
      const ct = entry.run.volume.data;
      const diff = new Int16Array(ct.length);
      for (let p = 0; p < diff.length; p++) diff[p] = Math.max(-32768, Math.min(32767, Math.round(ct[p] - entry.healthyHu[p])));
      return asBytes(diff);
    }
    if (layer === 'score') {
      const reading = readingSettingsSchema.parse({ ...entry.run.record.reading, ...(metric ? { metric } : {}), ...(fusion ? { fusion } : {}) });
      return asBytes(this.scored(entry, reading).score.score);
    }
    throw new AppError('NOT_FOUND', 'Unknown run layer.');
  }

  async deleteRun(runId: string): Promise<boolean> {
    const info = this.getRun(runId);
    this.cache.delete(runId);
    const deleted = this.deps.runs.delete(runId);
    await rm(join(this.deps.dataDir, info.dir), { recursive: true, force: true });
    if (deleted) this.deps.events.emit('library.changed', { reason: 'run-deleted' });
    return deleted;
  }

  /** Run folders without a row (a crash between the move and the insert). */
  async sweepOrphans(): Promise<void> {
    const root = join(this.deps.dataDir, 'runs');
    if (!existsSync(root)) return;
    const known = this.deps.runs.allIds();
    for (const name of await readdir(root)) if (!known.has(name)) await rm(join(root, name), { recursive: true, force: true });
  }
}
