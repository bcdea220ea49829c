/**
 * The worker half of an analysis run: read the series' voxels, run the method end to end and
 * write the run folder into staging. The main thread moves it into runs/<id>/ and adds the row.
 */
import type { ReadingSettings } from '../../shared/analysis';
import type { InpainterChoice } from '../core/pipeline/analyze';
import { runAnalysisToDir } from '../core/pipeline/run-analysis';
import type { RunRecord } from '../core/pipeline/run-dir';
import { modelsDir } from '../paths';
import type { JobContext } from './types';
import { loadVolumeRef, type VolumeRef } from './volume-ref';

export interface AnalysisJobParams {
  seriesId: string;
  volume: VolumeRef;
  inpainter: InpainterChoice;
  reading: ReadingSettings;
  seed: number;
  stagingDir: string;
}

export async function runAnalysisJob(params: AnalysisJobParams, ctx: JobContext): Promise<RunRecord> {
  const volume = await loadVolumeRef(params.volume);
  const run = await runAnalysisToDir(volume, params.stagingDir, params.reading, {
    inpainter: params.inpainter,
    modelsDir: modelsDir(),
    seed: params.seed,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  });
  return run.record;
}
