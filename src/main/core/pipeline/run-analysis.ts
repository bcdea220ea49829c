/**
 * One call from a volume to a written run folder: analyse, score with the reader's settings,
 * threshold, write. Used by `inpaint-ct analyze` and by the app's analysis job.
 */
import { RESEARCH_USE_NOTICE } from '../../../shared/version';
import type { ReadingSettings } from '../../../shared/analysis';
import { throwIfAborted } from '../progress';
import type { Volume } from '../volume';
import { thresholdStudy, type ThresholdResult } from '../scoring/lesions';
import { analyzeVolume, healthyNativeHu, scoreReconstruction, type AnalyzeOptions, type AnalysisOutput } from './analyze';
import { loadHealthyReferences, toThresholdSettings } from './reading';
import { writeRunDir, type RunRecord } from './run-dir';

/** The shipped healthy-brain diffusion model (models/<id>/). */
export const DEFAULT_MODEL_ID = 'healthy-brain-ddpm';

export interface AnalysisRun {
  record: RunRecord;
  analysis: AnalysisOutput;
  result: ThresholdResult;
  timingsMs: { analyze: number; score: number; threshold: number; write: number };
}

export async function runAnalysisToDir(volume: Volume, outDir: string, reading: ReadingSettings, options: AnalyzeOptions): Promise<AnalysisRun> {
  const t0 = performance.now();
  // Fail fast on a z-score without a reference, before minutes of inpainting.
  const references = await loadHealthyReferences(options.modelsDir, options.inpainter);
  const thresholdSettings = toThresholdSettings(reading, references);
  const analysis = await analyzeVolume(volume, options);
  const t1 = performance.now();
  throwIfAborted(options.signal);
  options.onProgress?.({ stage: 'Scoring', done: 0, total: 1 });
  const scored = scoreReconstruction(analysis.recon, reading, options);
  const t2 = performance.now();
  const result = thresholdStudy({ score: scored.score, signedResidual: scored.signed, hu: volume.data, brainMask: analysis.brainMask, geometry: volume }, thresholdSettings);
  const t3 = performance.now();
  options.onProgress?.({ stage: 'Saving results', done: 0, total: 1 });
  const record = await writeRunDir(outDir, {
    volume,
    brainMask: analysis.brainMask,
    recon: analysis.recon,
    score: scored.score,
    signed: scored.signed,
    healthyHu: healthyNativeHu(volume, analysis.recon, analysis.brainMask),
    result,
    reading,
    provenance: analysis.provenance,
    references,
    warnings: analysis.warnings,
    researchUseOnly: RESEARCH_USE_NOTICE,
  });
  const t4 = performance.now();
  options.onProgress?.({ stage: 'Saving results', done: 1, total: 1 });
  return { record, analysis, result, timingsMs: { analyze: t1 - t0, score: t2 - t1, threshold: t3 - t2, write: t4 - t3 } };
}
