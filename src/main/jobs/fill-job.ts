/**
 * Worker half of the inpainting workbench: fill the masked voxels of a series and stage the
 * result as a new series of the same study, with its provenance and the mask it was filled
 * with. The main thread commits it to the library like an import.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_VERSION } from '../../shared/version';
import type { FillMethodName, FillProvenance } from '../../shared/types';
import { pseudonymousUid } from '../core/deidentify';
import type { PresetName } from '../core/inpaint/presets';
import type { DeviceRequest } from '../core/inpaint/runtime';
import { fillMasked } from '../core/pipeline/fill';
import { voxelVolumeMl, type Volume } from '../core/volume';
import { modelsDir } from '../paths';
import { stageVolume, type ImportJobResult } from './import-job';
import type { JobContext } from './types';
import { loadVolumeRef, type VolumeRef } from './volume-ref';

export interface FillJobParams {
  sourceSeriesId: string;
  volume: VolumeRef;
  /** uint8 mask on the series grid, written by the main thread before the job starts. */
  maskFile: string;
  method: FillMethodName;
  modelId?: string;
  preset?: PresetName;
  device?: DeviceRequest;
  seed: number;
  /** The source's study, so the filled series files under it. */
  studyKey: string;
  deidentified: boolean;
  stagingDir: string;
}

export const FILL_MASK_FILE = 'fill-mask.u8';

export async function runFillJob(params: FillJobParams, ctx: JobContext): Promise<ImportJobResult> {
  const started = performance.now();
  const source = await loadVolumeRef(params.volume);
  const mask = new Uint8Array(await readFile(params.maskFile));
  const fill = await fillMasked(source, mask, {
    method: params.method,
    modelsDir: modelsDir(),
    modelId: params.modelId,
    preset: params.preset,
    device: params.device,
    seed: params.seed,
    signal: ctx.signal,
    onProgress: ctx.onProgress,
  });
  const m = source.meta;
  const provenance: Omit<FillProvenance, 'maskPath'> = {
    sourceSeriesId: params.sourceSeriesId,
    sourceSeriesInstanceUid: m.seriesInstanceUid ?? '',
    sourceDescription: m.seriesDescription ?? '',
    method: fill.method,
    model: fill.model ?? null,
    preset: fill.preset ?? null,
    device: fill.device?.active ?? null,
    seed: fill.seed,
    maskedVoxels: fill.maskedVoxels,
    maskVolumeMl: fill.maskedVoxels * voxelVolumeMl(source.spacing),
    filledByDiffusion: fill.filledByDiffusion,
    filledByClassical: fill.filledByClassical,
    slicesInpainted: fill.slicesInpainted,
    networkCalls: fill.networkCalls,
    timeMs: Math.round(performance.now() - started),
    appVersion: APP_VERSION,
    createdAt: new Date().toISOString(),
    notes: fill.notes,
  };
  const how = fill.method === 'diffusion' ? `diffusion ${fill.model?.id ?? ''}`.trim() : fill.method;
  const filled: Volume = {
    ...source,
    data: fill.values,
    meta: {
      ...m,
      // A derived series of the same study, with a UID of its own for every fill.
      seriesInstanceUid: pseudonymousUid(`${m.seriesInstanceUid ?? params.sourceSeriesId}:filled:${how}:${fill.seed}:${fill.maskedVoxels}:${Date.now()}`),
      seriesDescription: `${m.seriesDescription || 'Series'} (filled, ${how})`,
      seriesNumber: undefined,
      source: 'inpaint-ct workbench',
      workbenchFill: provenance,
    } as Volume['meta'],
  };
  ctx.onProgress({ stage: 'Saving the filled series', done: 0, total: 1 });
  const staged = await stageVolume(filled, params.stagingDir, 'filled', { deidentified: params.deidentified, fallbackStudyKey: params.studyKey });
  staged.record.study.key = params.studyKey;
  await writeFile(join(params.stagingDir, staged.folder, FILL_MASK_FILE), mask);
  ctx.onProgress({ stage: 'Saving the filled series', done: 1, total: 1 });
  return { staged: [staged], files: [] };
}
