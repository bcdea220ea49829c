import { mkdir, stat } from 'node:fs/promises';
import { writeNifti } from '../core/io/index';
import { join } from 'node:path';
import { buildCaseReport, loadExportSource } from '../core/report/case';
import { reviewFromLesionStates } from '../core/report/review';
import { defaultExportFileName, writeExport, type ExportFormat } from '../core/export/index';
import type { AnalysisService } from './analysis';
import type { LibraryService } from './library';
import type { ReviewService } from './review';

export interface SeriesExportOutcome {
  format: 'nifti';
  fileName: string;
  downloadPath: string;
  path: string;
  bytes: number;
  warnings: string[];
}

export interface ExportOutcome {
  format: ExportFormat;
  fileName: string;
  /** Path for the binary endpoint (download). */
  downloadPath: string;
  /** Where the file was written on this computer. */
  path: string;
  bytes: number;
  warnings: string[];
  reviewed: boolean;
}

/** Reports and exports of a run from the library, including the reviewer's edits. */
export class ExportService {
  constructor(private readonly deps: { analysis: AnalysisService; review: ReviewService; library: LibraryService; dataDir: string }) {}

  async exportRun(runId: string, format: ExportFormat, deidentify: boolean): Promise<ExportOutcome> {
    const run = this.deps.analysis.getRun(runId);
    const volume = await this.deps.library.loadVolume(run.seriesId);
    const source = await loadExportSource(join(this.deps.dataDir, run.dir), { meta: volume.meta, runId: run.id });
    const state = await this.deps.review.state(runId);
    const final = state.started ? await this.deps.review.finalLabels(runId) : null;
    // The review's own labels (rejected lesions included): the report lists rejections itself.
    const review = final
      ? reviewFromLesionStates({ labels: await this.deps.review.editedLabels(runId), lesions: state.lesions, history: state.history.map((h) => ({ ...h })) })
      : null;
    const report = buildCaseReport(source, { review, deidentify });
    const fileName = defaultExportFileName(report, format);
    const dir = join(this.deps.dataDir, 'exports', runId);
    await mkdir(dir, { recursive: true });
    const result = await writeExport(report, format, join(dir, fileName));
    return { format, fileName, downloadPath: `exports/${runId}/${fileName}`, path: result.path, bytes: result.bytes, warnings: result.warnings, reviewed: !!final };
  }

  /**
   * A series as NIfTI (int16 HU, its own grid), e.g. the result of a workbench fill. The NIfTI
   * header carries no patient identifiers; the file is named after the series description only.
   */
  async exportSeries(seriesId: string): Promise<SeriesExportOutcome> {
    const volume = await this.deps.library.loadVolume(seriesId);
    const base = (volume.meta.seriesDescription || 'series').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '').slice(0, 80) || 'series';
    const fileName = `${base}.nii.gz`;
    const dir = join(this.deps.dataDir, 'exports', seriesId);
    await mkdir(dir, { recursive: true });
    const path = join(dir, fileName);
    await writeNifti(volume, path, { datatype: 'int16' });
    const warnings = volume.intensityUnit === 'HU' ? [] : [`The values are ${volume.intensityUnit} intensities, not Hounsfield units.`];
    return { format: 'nifti', fileName, downloadPath: `exports/${seriesId}/${fileName}`, path, bytes: (await stat(path)).size, warnings };
  }
}
