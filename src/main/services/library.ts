import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../shared/errors';
import type { SeriesDetail, StudySummary } from '../../shared/types';
import type { ImportJobParams, ImportJobResult } from '../jobs/import-job';
import type { SynthJobParams } from '../jobs/synth-job';
import type { LesionType } from '../core/synth/lesions';
import type { ImportFileResult, LibraryRepository, NewSeriesRecord } from '../storage/repositories/library';
import type { EventBus } from './events';
import type { JobManager } from './jobs';
import type { Volume, Vec3 } from '../core/volume';
import { writeFile } from 'node:fs/promises';
import { decodeMaskRuns, encodeMaskRuns } from '../../shared/mask-rle';
import type { FillMethodName } from '../../shared/types';
import { scanInputs } from '../core/io/index';
import { readManifest } from '../core/inpaint/model';
import type { DeviceRequest } from '../core/inpaint/runtime';
import { binaryMask, checkMaskGrid } from '../core/pipeline/fill';
import type { FillJobParams } from '../jobs/fill-job';
import { loadVolumeRef, type VolumeRef } from '../jobs/volume-ref';
import { modelsDir } from '../paths';

/** Files an import left out, as a count and the first one's reason (the readers' reasons name their file). */
function firstOf(files: { file: string; message?: string }[], what: string): string {
  const first = files[0];
  let reason = first.message?.trim() || `"${first.file}" gave no reason.`;
  if (!/[.!?]$/.test(reason)) reason += '.';
  return files.length === 1 ? `1 file ${what}: ${reason}` : `${files.length} files ${what}; the first: ${reason}`;
}

/** Why an import added nothing, in the reader's words: the readers' own reasons, first one quoted. */
export function nothingImported(files: ImportFileResult[]): AppError {
  const errors = files.filter((f) => f.status === 'error');
  const skipped = files.filter((f) => f.status === 'skipped');
  if (errors.length === 1 && skipped.length === 0 && errors[0].message) return new AppError((errors[0].code as never) ?? 'NO_IMAGES_FOUND', `Nothing was imported. ${errors[0].message}`);
  const parts = [errors.length ? firstOf(errors, 'could not be read') : '', skipped.length ? firstOf(skipped, 'skipped as not images') : ''].filter(Boolean);
  return new AppError('NO_IMAGES_FOUND', `Nothing was imported. ${parts.length ? parts.join(' ') : 'No DICOM, NIfTI or PNG image was found.'}`);
}

/** One line for the job list: what was added, what was already there, which files were left out. */
export function describeImport(summary: ImportSummary): string {
  const series = summary.studies.flatMap((s) => s.series);
  const already = series.filter((s) => s.alreadyInLibrary).length;
  const added = series.length - already;
  const parts = [`${added} series added`];
  if (already) parts.push(`${already} already in the library`);
  if (summary.errors.length) parts.push(firstOf(summary.errors, 'could not be read'));
  if (summary.skipped.length) parts.push(firstOf(summary.skipped, 'skipped as not images'));
  return parts.join(' · ');
}

export interface ImportSummary {
  studies: { id: string; series: { id: string; modality: string; dims: Vec3; spacing: Vec3; warnings: { code: string; message: string }[]; alreadyInLibrary: boolean }[] }[];
  errors: { file: string; code: string; message: string }[];
  skipped: { file: string; message: string }[];
}

/** Studies, series and imports: the study library on top of SQLite rows and array files. */
export class LibraryService {
  constructor(
    private readonly deps: { repo: LibraryRepository; jobs: JobManager; events: EventBus; dataDir: string },
  ) {}

  listStudies(): StudySummary[] {
    return this.deps.repo.listStudies();
  }

  getSeries(seriesId: string): SeriesDetail {
    const s = this.deps.repo.getSeries(seriesId);
    if (!s) throw new AppError('NOT_FOUND', 'That series is not in the library (it may have been deleted).');
    const { voxelsFile: _v, thumbnailFile: _t, meta: _m, ...detail } = s;
    return detail;
  }

  getSeriesFiles(seriesId: string): { voxelsFile: string; thumbnailFile: string } {
    const s = this.deps.repo.getSeries(seriesId);
    if (!s) throw new AppError('NOT_FOUND', 'That series is not in the library (it may have been deleted).');
    return { voxelsFile: s.voxelsFile, thumbnailFile: s.thumbnailFile };
  }

  /** The series' geometry and metadata with the path of its voxels, for a job (no voxels read). */
  volumeRef(seriesId: string): VolumeRef {
    const s = this.deps.repo.getSeries(seriesId);
    if (!s) throw new AppError('NOT_FOUND', 'That series is not in the library (it may have been deleted).');
    return {
      dims: s.dims,
      spacing: s.spacing,
      origin: s.origin,
      direction: s.direction,
      intensityUnit: s.intensityUnit,
      meta: s.meta,
      warnings: s.warnings as Volume['warnings'],
      voxelsFile: join(this.deps.dataDir, s.voxelsFile),
    };
  }

  /** The series as a core Volume (voxels read from its file). */
  loadVolume(seriesId: string): Promise<Volume> {
    return loadVolumeRef(this.volumeRef(seriesId));
  }

  /** The series ids of a study (none when it is not in the library). */
  studySeries(studyId: string): { seriesId: string }[] {
    return this.deps.repo.studyFiles(studyId).map(({ seriesId }) => ({ seriesId }));
  }

  async deleteStudy(studyId: string): Promise<boolean> {
    const files = this.deps.repo.studyFiles(studyId);
    const deleted = this.deps.repo.deleteStudy(studyId);
    // Rows go first: if removing files fails, the startup sweep finds them orphaned.
    for (const f of files) await rm(join(this.deps.dataDir, 'series', f.seriesId), { recursive: true, force: true });
    if (deleted) this.deps.events.emit('library.changed', { reason: 'study-deleted' });
    return deleted;
  }

  /**
   * Import files and folders as a job. `label` names the job where the paths do not (an upload
   * batch's folder is a random id). An import that finds no image fails with the reasons, so
   * nothing reads "succeeded" when nothing was added; one that imports something but could not
   * read every file succeeds and says which files it left out.
   */
  startImport(paths: string[], deidentify: boolean, label?: string): { jobId: string } {
    const stagingDir = join(this.deps.dataDir, 'staging', randomUUID());
    const params: ImportJobParams = { paths, deidentify, stagingDir };
    const title = `Import ${label ?? (paths.length === 1 ? paths[0].split(/[\\/]/).filter(Boolean).pop() : `${paths.length} items`)}`;
    const job = this.deps.jobs.start<ImportJobResult>('import', params, {
      title,
      complete: (result, jobId) => {
        if (result.staged.length === 0) throw nothingImported(result.files);
        return this.commitImport(params, result, jobId);
      },
      summarize: (summary) => describeImport(summary as ImportSummary),
      cleanup: () => rm(stagingDir, { recursive: true, force: true }),
    });
    return { jobId: job.id };
  }

  /** The generated lesion labels of a synthetic series (0 = none, else the lesion's label), or null for other series. */
  async truthLabels(seriesId: string): Promise<Uint8Array | null> {
    this.getSeriesFiles(seriesId);
    try {
      const buf = await readFile(join(this.deps.dataDir, 'series', seriesId, 'truth-labels.u8'));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Generate a synthetic case (phantom, lesions, timepoints) as a study in the library. */
  startSynth(options: { seed: number; lesions: LesionType[]; timepoints: number; intervalDays: number; slices: number; growthPerDay?: number }): { jobId: string } {
    const stagingDir = join(this.deps.dataDir, 'staging', randomUUID());
    const params: SynthJobParams = { ...options, stagingDir };
    const what = options.lesions.length ? options.lesions.join(', ') : 'healthy';
    const job = this.deps.jobs.start<ImportJobResult>('synth', params, {
      title: `Synthetic case (seed ${options.seed}, ${what}${options.timepoints > 1 ? `, ${options.timepoints} timepoints` : ''})`,
      complete: (result, jobId) => this.commitImport({ paths: [], deidentify: false, stagingDir }, result, jobId),
      cleanup: () => rm(stagingDir, { recursive: true, force: true }),
    });
    return { jobId: job.id };
  }

  /**
   * Read a mask file (NIfTI, DICOM or PNG) for the workbench and check it lies on the series'
   * grid. Returns it run-length encoded; nothing is stored until a fill is started.
   */
  async importMask(seriesId: string, path: string): Promise<{ runs: number[]; maskedVoxels: number; notes: string[] }> {
    const series = this.getSeries(seriesId);
    const scan = await scanInputs([path]);
    if (scan.series.length === 0) {
      const e = scan.errors[0];
      throw new AppError(e?.code ?? 'NO_IMAGES_FOUND', e?.message ?? `No mask image was found in "${path}".`);
    }
    if (scan.series.length > 1) throw new AppError('BAD_REQUEST', `"${path}" holds ${scan.series.length} image series; give the one mask image.`);
    const maskVolume = scan.series[0].volume;
    const note = checkMaskGrid({ ...series, warnings: series.warnings as Volume['warnings'] }, maskVolume);
    const mask = binaryMask(maskVolume);
    const maskedVoxels = mask.reduce((a, v) => a + v, 0);
    if (maskedVoxels === 0) throw new AppError('BAD_REQUEST', 'The mask image is empty (every voxel is 0); there is nothing to fill.');
    return { runs: encodeMaskRuns(mask), maskedVoxels, notes: note ? [note] : [] };
  }

  /**
   * Workbench: fill the voxels under a mask (run-length encoded on the series grid) with the
   * diffusion model or a classical inpainter. The result becomes a new series of the same study;
   * the source series is never modified.
   */
  async startFill(params: { seriesId: string; maskRuns: number[]; method: FillMethodName; modelId?: string; preset: 'fast' | 'reference'; device: DeviceRequest; seed: number }): Promise<{ jobId: string }> {
    const series = this.getSeries(params.seriesId);
    const voxels = series.dims[0] * series.dims[1] * series.dims[2];
    const mask = decodeMaskRuns(params.maskRuns, voxels);
    if (!mask) throw new AppError('GEOMETRY_MISMATCH', `The mask does not cover this series' ${series.dims.join('x')} voxel grid; draw or import it again on this series.`);
    if (!mask.some((v) => v)) throw new AppError('BAD_REQUEST', 'The mask is empty: paint or import the region to fill first.');
    if (params.method === 'diffusion') {
      if (series.intensityUnit !== 'HU') throw new AppError('NOT_CT', `This series holds ${series.modality || 'non-CT'} intensities, not CT Hounsfield units; the diffusion model fills CT only. Use a classical method.`);
      if (!params.modelId) throw new AppError('BAD_REQUEST', 'Choose the diffusion model to fill with.');
      await readManifest(modelsDir(), params.modelId);
    }
    const studyKey = this.deps.repo.studyKeyOfSeries(params.seriesId)!;
    const stagingDir = join(this.deps.dataDir, 'staging', randomUUID());
    await mkdir(stagingDir, { recursive: true });
    const maskFile = join(stagingDir, 'mask.u8');
    await writeFile(maskFile, mask);
    const jobParams: FillJobParams = {
      sourceSeriesId: params.seriesId,
      volume: this.volumeRef(params.seriesId),
      maskFile,
      method: params.method,
      ...(params.method === 'diffusion' ? { modelId: params.modelId, preset: params.preset, device: params.device } : {}),
      seed: params.seed,
      studyKey,
      deidentified: series.deidentified,
      stagingDir,
    };
    const how = params.method === 'diffusion' ? `${params.modelId} (${params.preset})` : params.method;
    const job = this.deps.jobs.start<ImportJobResult>('fill', jobParams, {
      title: `Fill ${series.description || series.modality || 'series'} — ${how}`,
      // The mask lives in staging, which a restart sweeps away: a fill is not resumed.
      resumable: false,
      complete: (result, jobId) => this.commitImport({ paths: [], deidentify: series.deidentified, stagingDir }, result, jobId),
      cleanup: () => rm(stagingDir, { recursive: true, force: true }),
    });
    return { jobId: job.id };
  }

  private async commitImport(params: Pick<ImportJobParams, 'paths' | 'deidentify' | 'stagingDir'>, result: ImportJobResult, jobId: string): Promise<ImportSummary> {
    const { repo, dataDir } = this.deps;
    const moved: string[] = [];
    const records: NewSeriesRecord[] = [];
    const idOf = new Map<string, string>();
    try {
      for (const st of result.staged) {
        const id = randomUUID();
        idOf.set(st.record.id, id);
        const finalDir = join(dataDir, 'series', id);
        await mkdir(join(dataDir, 'series'), { recursive: true });
        await rename(join(params.stagingDir, st.folder), finalDir);
        moved.push(finalDir);
        records.push({
          ...st.record,
          id,
          series: { ...st.record.series, voxelsFile: `series/${id}/voxels.i16`, thumbnailFile: `series/${id}/thumbnail.png` },
        });
      }
      const files = result.files.map((f) => (f.seriesId ? { ...f, seriesId: idOf.get(f.seriesId) } : f));
      const outcome = repo.commitImport({ id: randomUUID(), jobId, paths: params.paths, deidentify: params.deidentify }, records, files);
      // Content already in the library: the copy we just staged is not needed.
      for (const e of outcome.existing) await rm(join(dataDir, 'series', e.newId), { recursive: true, force: true });
      await rm(params.stagingDir, { recursive: true, force: true });
      this.deps.events.emit('library.changed', { reason: 'import' });
      const existingOf = new Map(outcome.existing.map((e) => [e.newId, e.existingId]));
      const byStudy = new Map<string, ImportSummary['studies'][number]>();
      const studies = repo.listStudies();
      for (const rec of records) {
        const seriesId = existingOf.get(rec.id) ?? rec.id;
        const study = studies.find((s) => s.series.some((x) => x.id === seriesId));
        if (!study) continue;
        const entry = byStudy.get(study.id) ?? { id: study.id, series: [] };
        entry.series.push({ id: seriesId, modality: rec.series.modality, dims: rec.series.dims, spacing: rec.series.spacing, warnings: rec.series.warnings, alreadyInLibrary: existingOf.has(rec.id) });
        byStudy.set(study.id, entry);
      }
      return {
        studies: [...byStudy.values()],
        errors: result.files.filter((f) => f.status === 'error').map((f) => ({ file: f.file, code: f.code ?? 'INTERNAL', message: f.message ?? '' })),
        skipped: result.files.filter((f) => f.status === 'skipped').map((f) => ({ file: f.file, message: f.message ?? '' })),
      };
    } catch (e) {
      for (const dir of moved) await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Remove what a crash can leave behind: staging folders of imports that never committed and
   * series folders without a database row. Never touches a folder that has a row.
   */
  async sweepOrphans(): Promise<number> {
    const { dataDir, repo } = this.deps;
    let removed = 0;
    await rm(join(dataDir, 'staging'), { recursive: true, force: true });
    const seriesRoot = join(dataDir, 'series');
    if (existsSync(seriesRoot)) {
      const known = repo.allSeriesIds();
      for (const name of await readdir(seriesRoot)) {
        if (!known.has(name)) {
          await rm(join(seriesRoot, name), { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
