/**
 * From a reader's settings (shared with the UI) to the threshold engine's settings, including
 * the healthy reference a z-score needs. References live with the model that produced the
 * scores: in a diffusion model's manifest, or for a classical inpainter in
 * models/classical/<method>.reference.json (written by `npm run calibrate`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors';
import { DEFAULT_READING_SETTINGS, DEFAULT_Z_CUT, Z_SUPPORT_STEP, type ReadingSettings } from '../../../shared/analysis';
import type { ThresholdSettings } from '../scoring/lesions';
import { healthyReferenceKey, parseHealthyReferenceSet, requireHealthyReference, type HealthyReferenceSet } from '../scoring/threshold';
import { readManifest } from '../inpaint/model';
import type { InpainterChoice } from './analyze';

/** The file an inpainter's healthy reference is read from: the model's manifest, or the classical method's reference. */
export function healthyReferencePath(modelsDir: string, inpainter: InpainterChoice): string {
  return inpainter.kind === 'diffusion' ? join(modelsDir, inpainter.modelId, 'model.json') : join(modelsDir, 'classical', `${inpainter.method}.reference.json`);
}

export async function loadHealthyReferences(modelsDir: string, inpainter: InpainterChoice): Promise<HealthyReferenceSet> {
  if (inpainter.kind === 'diffusion') {
    const { manifest } = await readManifest(modelsDir, inpainter.modelId);
    return parseHealthyReferenceSet(manifest.healthyReference);
  }
  const path = healthyReferencePath(modelsDir, inpainter);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { metrics: {} };
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError('MODEL_MANIFEST_INVALID', `The healthy reference of ${inpainter.method} inpainting (${path}) is damaged: it is not valid JSON. Run "npm run calibrate -- --inpainter ${inpainter.method}" to write it again.`);
  }
  return parseHealthyReferenceSet(json);
}

/** The part of a reading that decides the score maps: two readings with the same key share them. */
export function scoringKey(r: Pick<ReadingSettings, 'metric' | 'fusion' | 'weights' | 'smoothingMm'>): string {
  return `${r.metric}/${r.fusion}/${r.weights?.join(',') ?? ''}/${r.smoothingMm ?? 0}`;
}

/** `supportStep`: how far below a z cut its lesions reach (the app's Z_SUPPORT_STEP; bench:volumetry measures others). */
export function toThresholdSettings(reading: ReadingSettings, references: HealthyReferenceSet, supportStep = Z_SUPPORT_STEP): ThresholdSettings {
  const s = reading.strategy;
  let strategy: ThresholdSettings['strategy'];
  let support: ThresholdSettings['support'];
  if (s.kind === 'zscore') {
    if (reading.smoothingMm > 0) {
      throw new AppError('BAD_REQUEST', 'z-scores are calibrated on unsmoothed residuals: set the residual smoothing to 0, or use an absolute or percentile cut.');
    }
    const reference = requireHealthyReference(references, reading.metric, reading.fusion);
    // Healthy score distributions are heavy-tailed: read the cut from the measured quantiles.
    strategy = { kind: 'zscore', z: s.z, reference, distribution: 'empirical' };
    support = { kind: 'zscore', z: s.z - supportStep, reference, distribution: 'empirical' };
  } else if (s.kind === 'percentile') strategy = { kind: 'percentile', percentile: s.percentile };
  else strategy = { kind: 'absolute', value: s.value };
  if (reading.fusion === 'weighted' && !reading.weights) throw new AppError('BAD_REQUEST', 'Weighted fusion needs one weight per square size.');
  return {
    strategy,
    ...(support ? { support } : {}),
    minSizeMl: reading.minSizeMl,
    connectivity: reading.connectivity,
    polarity: reading.polarity,
    borderErosion: reading.borderErosionMm > 0 ? { distance: reading.borderErosionMm, unit: 'mm', mode: '2d' } : null,
    denseExclusionHu: reading.denseExclusionHu,
    extent: reading.extent,
  };
}

/** Whether a reading can cut at a z-score: the references describe its metric and fusion, and unsmoothed residuals only. */
export function canReadZ(reading: Pick<ReadingSettings, 'metric' | 'fusion' | 'smoothingMm'>, references: HealthyReferenceSet): boolean {
  return reading.smoothingMm === 0 && Boolean(references.metrics[healthyReferenceKey(reading.metric, reading.fusion)]);
}

/**
 * The reading a new analysis starts with. The cut: z = DEFAULT_Z_CUT against the inpainter's own
 * healthy reference where it has one, so every method is cut where the same small share of
 * healthy brain voxels would be (one in ~1,700), not at one score for all; the absolute 0.25 for an
 * inpainter without a reference (a model retrained without calibration). On bench:detect's
 * hemorrhages z 3.25 keeps the foci the absolute cut finds, but one subarachnoid one, at a quarter
 * to a twentieth of its false positives (docs/benchmarks.md, 'The default cut' and 'A healthy reference
 * from eight subjects'). A method whose healthy repainting is loose (biharmonic) gets a high cut
 * and finds little: that is what it can tell from healthy brain.
 *
 * The extent: lesions outlined at half their own contrast for the diffusion model, at the
 * threshold for the classical inpainters. The outline needs a residual whose healthy spread sits
 * well below half a lesion's contrast: the diffusion model's does (median haematoma volume error
 * -6%, change error -12% in bench:volumetry with 1.1.0, against -13% and -35% at the threshold),
 * the biharmonic fill's does not (its noise blobs grow into each other: unreviewed lesion volume
 * per scan 42 -> 94 mL, haematoma volume error +3% -> +131%).
 */
export function defaultReading(inpainter: InpainterChoice, references: HealthyReferenceSet): ReadingSettings {
  const base = { ...DEFAULT_READING_SETTINGS, extent: defaultExtent(inpainter) };
  return canReadZ(base, references) ? { ...base, strategy: { kind: 'zscore', z: DEFAULT_Z_CUT } } : base;
}

/** How a new analysis outlines its lesions with this inpainter (why: see defaultReading). */
export function defaultExtent(inpainter: InpainterChoice): ReadingSettings['extent'] {
  return inpainter.kind === 'diffusion' ? 'half-contrast' : 'threshold';
}

/**
 * A reading whose cut was not chosen for this analysis (carried over from the series' last
 * reading or the reader's default, or the default z cut under CLI options that smooth the
 * residual or change its metric): kept as it is, except a z cut the references cannot serve
 * becomes the absolute cut of DEFAULT_READING_SETTINGS, so the analysis starts instead of failing.
 * A z cut the reader asks for explicitly is not passed through here: it fails with the reason.
 */
export function withReadableCut(reading: ReadingSettings, references: HealthyReferenceSet): ReadingSettings {
  if (reading.strategy.kind !== 'zscore' || canReadZ(reading, references)) return reading;
  return { ...reading, strategy: DEFAULT_READING_SETTINGS.strategy };
}
