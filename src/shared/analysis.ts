/**
 * How a reader looks at a scored study: which residual metric and fusion, which threshold
 * strategy, the minimum lesion size and the brain-border erosion. Shared by the threshold
 * panel, the services, the CLI and reports, so every one of them means the same thing.
 */
import { z } from 'zod';

/** The absolute score cut of an inpainter without a healthy reference: a repainted voxel 20 HU (a quarter of the brain window) away from the scan. */
export const DEFAULT_ABSOLUTE_CUT = 0.25;

/** Default density limit of the lesion search: the brain extraction's bone threshold. */
export const DENSE_EXCLUSION_HU = 170;

export const readingSettingsSchema = z
  .object({
    metric: z.enum(['absolute', 'squared', 'ssim']).default('absolute'),
    fusion: z.enum(['max', 'mean', 'weighted']).default('max'),
    /** One weight per square size (8, 16, 32, 64 px) for weighted fusion. */
    weights: z.array(z.number().min(0)).max(8).optional(),
    strategy: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('absolute'), value: z.number().finite() }),
        z.object({ kind: z.literal('percentile'), percentile: z.number().min(0).max(100) }),
        z.object({ kind: z.literal('zscore'), z: z.number().finite().min(-10).max(50) }),
      ])
      .default({ kind: 'absolute', value: DEFAULT_ABSOLUTE_CUT }),
    /**
     * In-plane Gaussian sigma (mm) applied to the residual before the cut (0 = none). Averages out
     * the healthy estimate's voxel noise so faint, extended lesions (infarct, oedema, mass) stand out.
     */
    smoothingMm: z.number().min(0).max(10).default(0),
    /** Lesions smaller than this are dropped. */
    minSizeMl: z.number().min(0).max(1000).default(0.05),
    /** Erode the brain border by this many mm before thresholding (skull partial volume). */
    borderErosionMm: z.number().min(0).max(20).default(2),
    /**
     * Voxels at or above this many HU are never lesion voxels (null: every voxel is searched).
     * Acute blood is 40-100 HU; the brain mask keeps the partial volume of the inner table at
     * the vertex and skull base and the physiological calcifications (choroid plexus, pineal),
     * which read 170-900 HU and would otherwise be listed as hyperdense lesions.
     */
    denseExclusionHu: z.number().min(100).max(3000).nullable().default(DENSE_EXCLUSION_HU),
    polarity: z.enum(['any', 'split', 'hyper', 'hypo']).default('split'),
    connectivity: z.union([z.literal(6), z.literal(26)]).default(26),
    /**
     * How far a lesion reaches once detected: 'threshold' = exactly its voxels above the cut;
     * 'half-contrast' = grown to the outline at half its own median residual (volumetry that does
     * not depend on the cut or on the lesion's density).
     */
    extent: z.enum(['threshold', 'half-contrast']).default('half-contrast'),
  })
  .strict();

export type ReadingSettings = z.output<typeof readingSettingsSchema>;
export type ReadingSettingsInput = z.input<typeof readingSettingsSchema>;

/** A stored reading object without `key` gets `value`, the meaning it had before the setting existed; anything else is returned as it is. */
function withStoredSetting(saved: unknown, key: string, value: unknown): unknown {
  return saved && typeof saved === 'object' && !Array.isArray(saved) && !(key in saved) ? { ...saved, [key]: value } : saved;
}

/**
 * A reading saved before lesions had an extent setting was read at the threshold: it keeps that
 * meaning, so a stored run or review shows the same lesions after an update. Only for readings
 * read back from storage; new readings get the schema's default.
 */
export function withStoredExtent(saved: unknown): unknown {
  return withStoredSetting(saved, 'extent', 'threshold');
}

/**
 * A reading saved before the dense-voxel exclusion searched every brain voxel: it keeps that
 * meaning (null), so a stored run or review shows the same lesions after an update. Only for
 * readings read back from storage.
 */
export function withStoredDenseExclusion(saved: unknown): unknown {
  return withStoredSetting(saved, 'denseExclusionHu', null);
}

/** Every default a stored reading predates, filled with the meaning it had when it was saved. */
export function withStoredReadingDefaults(saved: unknown): unknown {
  return withStoredDenseExclusion(withStoredExtent(saved));
}

/**
 * The cut a new analysis starts with when its inpainter has a healthy reference for the default
 * metric and fusion: z 3.25 against healthy scans, the score that about 1 healthy brain voxel in
 * 1,700 reaches (0.37 for healthy-brain-ddpm 1.3.0, whose reference pools 8 healthy phantoms). On
 * bench:detect's cases (three per type, healthy-brain-ddpm 1.3.0) it finds every focus z 3 finds,
 * on every lesion type, at half its false positives (13.0 against 26.0 per scan summed over the
 * five hemorrhage types); z 3.5 loses intraventricular and subarachnoid foci. Chosen on cases
 * 5000-5002 of each type and checked on 5003-5005 (docs/benchmarks.md, "A healthy reference from
 * eight subjects").
 */
export const DEFAULT_Z_CUT = 3.25;

/**
 * A z cut finds lesions; each reaches through its connected voxels down to this much lower z
 * (hysteresis) before its outline. Without it a higher cut shrinks the lesions it keeps: a faded
 * haematoma seeded by a few voxels at z 3 was outlined at 2.1 of its 3.7 mL (bench:volumetry,
 * seed 11). From the default z 3.25 lesions reach down to z 2.75, 0.29 for healthy-brain-ddpm;
 * haematoma volumes at that reading are within 6.3% of the truth (median, bench:volumetry).
 */
export const Z_SUPPORT_STEP = 0.5;

/**
 * Defaults: absolute residual, max over scales, cut at 0.25 of the brain window (a repainted
 * voxel 20 HU away from the scan; the cut of an inpainter without a healthy reference, see
 * DEFAULT_Z_CUT for the others), lesions from 0.05 mL, a 2 mm border erosion against the
 * skull's partial volume, voxels of 170 HU or more (bone, calcification) left out, hyper- and hypodense voxels kept in separate lesions, and each lesion
 * outlined at half its own contrast (for the diffusion model; a new analysis with a classical
 * inpainter starts at the threshold extent, see defaultReading in core/pipeline/reading.ts).
 */
export const DEFAULT_READING_SETTINGS: ReadingSettings = readingSettingsSchema.parse({});

/** The density limit of a reading in words (readings stored before it existed searched every voxel). */
export function describeDenseExclusion(hu: number | null | undefined): string {
  return hu == null ? 'every brain voxel searched, bone-dense ones too' : `voxels of ${hu} HU or more (bone, calcification) left out`;
}

export function describeStrategy(s: ReadingSettings['strategy']): string {
  switch (s.kind) {
    case 'absolute':
      return `score ≥ ${+s.value.toPrecision(3)}`;
    case 'percentile':
      return `top ${+(100 - s.percentile).toPrecision(4)}% of brain scores`;
    case 'zscore':
      return `z ≥ ${s.z} against healthy scans, reaching down to z ${+(s.z - Z_SUPPORT_STEP).toPrecision(4)}`;
  }
}

/**
 * The settings two readings differ in that change which voxels become lesions, in words ("cut z ≥
 * 3.25 / z ≥ 4"), A first. Empty when they would outline the same lesions on the same scores:
 * a comparison of two runs read differently measures the settings as well as the patient.
 */
export function describeReadingDifferences(a: ReadingSettings, b: ReadingSettings): string[] {
  const out: string[] = [];
  const pair = (what: string, x: string, y: string) => x !== y && out.push(`${what} ${x} / ${y}`);
  const cut = (s: ReadingSettings['strategy']) => (s.kind === 'absolute' ? `score ≥ ${+s.value.toPrecision(3)}` : s.kind === 'percentile' ? `top ${+(100 - s.percentile).toPrecision(4)}%` : `z ≥ ${s.z}`);
  pair('cut', cut(a.strategy), cut(b.strategy));
  pair('residual', a.metric, b.metric);
  pair('fusion', a.fusion + (a.weights ? ` ${a.weights.join(',')}` : ''), b.fusion + (b.weights ? ` ${b.weights.join(',')}` : ''));
  pair('smoothing', `${a.smoothingMm} mm`, `${b.smoothingMm} mm`);
  pair('minimum lesion', `${a.minSizeMl} mL`, `${b.minSizeMl} mL`);
  pair('border erosion', `${a.borderErosionMm} mm`, `${b.borderErosionMm} mm`);
  pair('dense voxels', a.denseExclusionHu === null ? 'searched' : `left out from ${a.denseExclusionHu} HU`, b.denseExclusionHu === null ? 'searched' : `left out from ${b.denseExclusionHu} HU`);
  pair('polarity', a.polarity, b.polarity);
  pair('connectivity', String(a.connectivity), String(b.connectivity));
  pair('outline', a.extent === 'half-contrast' ? 'half-contrast' : 'at the cut', b.extent === 'half-contrast' ? 'half-contrast' : 'at the cut');
  return out;
}
