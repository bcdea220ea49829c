/**
 * From a reader's settings (shared with the UI) to the threshold engine's settings, including
 * the healthy reference a z-score needs. References live with the model that produced the
 * scores: in a diffusion model's manifest, or for a classical inpainter in
 * models/classical/<method>.reference.json (written by `npm run calibrate`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors';
import { DEFAULT_READING_SETTINGS, type ReadingSettings } from '../../../shared/analysis';
import type { ThresholdSettings } from '../scoring/lesions';
import { parseHealthyReferenceSet, requireHealthyReference, type HealthyReferenceSet } from '../scoring/threshold';
import { readManifest } from '../inpaint/model';
import type { InpainterChoice } from './analyze';

export async function loadHealthyReferences(modelsDir: string, inpainter: InpainterChoice): Promise<HealthyReferenceSet> {
  if (inpainter.kind === 'diffusion') {
    const { manifest } = await readManifest(modelsDir, inpainter.modelId);
    return parseHealthyReferenceSet(manifest.healthyReference);
  }
  try {
    const text = await readFile(join(modelsDir, 'classical', `${inpainter.method}.reference.json`), 'utf8');
    return parseHealthyReferenceSet(JSON.parse(text));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { metrics: {} };
    throw e;
  }
}

/** The part of a reading that decides the score maps: two readings with the same key share them. */
export function scoringKey(r: Pick<ReadingSettings, 'metric' | 'fusion' | 'weights' | 'smoothingMm'>): string {
  return `${r.metric}/${r.fusion}/${r.weights?.join(',') ?? ''}/${r.smoothingMm ?? 0}`;
}

export function toThresholdSettings(reading: ReadingSettings, references: HealthyReferenceSet): ThresholdSettings {
  const s = reading.strategy;
  let strategy: ThresholdSettings['strategy'];
  if (s.kind === 'zscore') {
    if (reading.smoothingMm > 0) {
      throw new AppError('BAD_REQUEST', 'z-scores are calibrated on unsmoothed residuals: set the residual smoothing to 0, or use an absolute or percentile cut.');
    }
    const reference = requireHealthyReference(references, reading.metric, reading.fusion);
    // Healthy score distributions are heavy-tailed: read the cut from the measured quantiles.
    strategy = { kind: 'zscore', z: s.z, reference, distribution: 'empirical' };
  } else if (s.kind === 'percentile') strategy = { kind: 'percentile', percentile: s.percentile };
  else strategy = { kind: 'absolute', value: s.value };
  if (reading.fusion === 'weighted' && !reading.weights) throw new AppError('BAD_REQUEST', 'Weighted fusion needs one weight per square size.');
  return {
    strategy,
    minSizeMl: reading.minSizeMl,
    connectivity: reading.connectivity,
    polarity: reading.polarity,
    borderErosion: reading.borderErosionMm > 0 ? { distance: reading.borderErosionMm, unit: 'mm', mode: '2d' } : null,
    denseExclusionHu: reading.denseExclusionHu,
    extent: reading.extent,
  };
}

/**
 * The reading a new analysis starts with: the absolute cut, for every inpainter; lesions outlined
 * at half their own contrast for the diffusion model, at the threshold for the classical
 * inpainters. The outline needs a residual whose healthy spread sits well below half a lesion's
 * contrast: the diffusion model's does (median haematoma volume error -6%, change error -12% in
 * bench:volumetry with 1.1.0, against -13% and -35% at the threshold), the biharmonic fill's does not (its
 * noise blobs grow into each other: unreviewed lesion volume per scan 42 -> 94 mL, haematoma
 * volume error +3% -> +131%).
 *
 * A z-score against the calibrated healthy reference stays one click away in the threshold panel, but it is not the
 * default: on the phantoms the far tail of healthy scores (z 3.5 = 1 voxel in ~4,300) is set by
 * skull partial volume at the brain edge, which puts the cut (0.84 for healthy-brain-ddpm 1.0.0,
 * 0.63 for 1.1.0, 0.97 for biharmonic) above the score of acute blood (~0.5), so a z default found
 * no lesion, or one of seven with 1.1.0, in bench:detect (docs/benchmarks.md).
 */
export function defaultReading(inpainter: InpainterChoice): ReadingSettings {
  return inpainter.kind === 'diffusion' ? DEFAULT_READING_SETTINGS : { ...DEFAULT_READING_SETTINGS, extent: 'threshold' };
}
