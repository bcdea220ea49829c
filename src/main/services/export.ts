import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCaseReport, loadExportSource } from '../core/report/case';
import { reviewFromLesionStates } from '../core/report/review';
import { defaultExportFileName, writeExport, type ExportFormat } from '../core/export/index';
import type { AnalysisService } from './analysis';
import type { LibraryService } from './library';
import type { ReviewService } from './review';

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
}
