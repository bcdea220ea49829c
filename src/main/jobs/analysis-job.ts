/**
 * The worker half of an analysis run: read the series' voxels, run the method end to end and
 * write the run folder into staging. The main thread moves it into runs/<id>/ and adds the row.
 */
import { readFile } from 'node:fs/promises';
import type { ReadingSettings } from '../../shared/analysis';
import type { InpainterChoice } from '../core/pipeline/analyze';
import { runAnalysisToDir } from '../core/pipeline/run-analysis';
import type { RunRecord } from '../core/pipeline/run-dir';
import type { Volume } from '../core/volume';
import { modelsDir } from '../paths';
import type { JobContext } from './types';

export interface AnalysisJobParams {
  seriesId: string;
  volume: Omit<Volume, 'data'> & { voxelsFile: string };
  inpainter: InpainterChoice;
  reading: ReadingSettings;
  seed: number;
  stagingDir: string;
}

export async function runAnalysisJob(params: AnalysisJobParams, ctx: JobContext): Promise<RunRecord> {
  const bytes = await readFile(params.volume.voxelsFile);
  const { voxelsFile: _file, ...geometry } = params.volume;
  const volume: Volume = { ...geometry, data: new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) };
  const run = await runAnalysisToDir(volume, params.stagingDir, params.reading, {
    inpainter: params.inpainter,
    modelsDir: modelsDir(),
    seed: params.seed,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  });
  return run.record;
}
