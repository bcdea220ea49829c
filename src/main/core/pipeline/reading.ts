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
import { healthyReferenceKey, parseHealthyReferenceSet, requireHealthyReference, type HealthyReferenceSet } from '../scoring/threshold';
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

export function toThresholdSettings(reading: ReadingSettings, references: HealthyReferenceSet): ThresholdSettings {
  const s = reading.strategy;
  let strategy: ThresholdSettings['strategy'];
  if (s.kind === 'zscore') {
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
  };
}

/** z of the default cut when healthy statistics exist: 1 brain voxel in ~4,300 of healthy scans. */
export const DEFAULT_Z = 3.5;

/**
 * The reading a new analysis starts with: a z-score against healthy scans when the inpainter has
 * statistics for the default metric and fusion (the cut then means the same false-alarm rate for
 * every model), else the absolute default.
 */
export function defaultReading(references: HealthyReferenceSet): ReadingSettings {
  const key = healthyReferenceKey(DEFAULT_READING_SETTINGS.metric, DEFAULT_READING_SETTINGS.fusion);
  return references.metrics[key] ? { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'zscore', z: DEFAULT_Z } } : DEFAULT_READING_SETTINGS;
}
