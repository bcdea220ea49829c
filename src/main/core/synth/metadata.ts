/**
 * The JSON description of a synthetic case: every parameter needed to understand (and, with
 * the seed, regenerate) it, and the ground-truth numbers per timepoint.
 */
import { createHash } from 'node:crypto';
import type { SyntheticCase } from './case';
import { TISSUE_NAMES } from './labels';

export const LESION_MASK_DEFINITION =
  'A lesion mask holds exactly the voxels whose value the lesion changed: those where the lesion fills at least half of the voxel (partial-volume fraction >= 0.5). ' +
  'Voxels outside the mask were not touched by that lesion; the mask volume (voxel count x voxel volume) is the lesion volume reported here. ' +
  'Where masks overlap, lesions.nii.gz shows the lesion painted last (blood over edema or infarct).';

export interface CaseMetadata {
  kind: 'inpaint-ct synthetic case';
  version: 1;
  seed: number;
  /** Hash of everything that determines the voxels; equal fingerprints mean identical cases. */
  fingerprint: string;
  subject: Record<string, unknown>;
  geometry: { dims: number[]; spacing: number[]; origin: number[]; direction: number[]; voxelVolumeMl: number };
  tissueLabels: Record<string, string>;
  lesionMaskDefinition: string;
  lesions: Record<string, unknown>[];
  timepoints: {
    index: number;
    day: number;
    midlineShiftMm: number;
    maxDisplacementMm: number;
    lesions: { id: string; type: string; label: number; requestedVolumeMl: number; volumeMl: number; voxelCount: number; densityHu: number; sizeParameter: number }[];
  }[];
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function caseMetadata(c: SyntheticCase): CaseMetadata {
  const g = c.geometry.grid;
  const { fieldSeeds, hu, calcifications, ...rest } = c.subject;
  const subject = {
    ...rest,
    tissueHu: Object.fromEntries(Object.entries(hu).map(([k, v]) => [k, round(v, 1)])),
    calcifications: calcifications.map((x) => ({ centerTemplateMm: x.center.map((v) => round(v, 1)), radiusMm: round(x.radiusMm, 2), hu: round(x.hu, 0) })),
    fieldSeeds,
  };
  const lesions = c.lesions.map((l) => {
    const { given, ...params } = l;
    return { ...params, givenParameters: Object.keys(given).filter((k) => given[k as keyof typeof given]) };
  });
  const voxelVolumeMl = (g.spacing[0] * g.spacing[1] * g.spacing[2]) / 1000;
  const body = {
    seed: c.seed,
    dims: g.dims,
    spacing: g.spacing,
    lesions,
    days: c.timepoints.map((t) => t.day),
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 24);
  return {
    kind: 'inpaint-ct synthetic case',
    version: 1,
    seed: c.seed,
    fingerprint,
    subject,
    geometry: { dims: [...g.dims], spacing: [...g.spacing], origin: g.origin.map((v) => round(v, 4)), direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], voxelVolumeMl },
    tissueLabels: Object.fromEntries(TISSUE_NAMES.map((n, i) => [String(i), n])),
    lesionMaskDefinition: LESION_MASK_DEFINITION,
    lesions,
    timepoints: c.timepoints.map((t) => ({
      index: t.index,
      day: t.day,
      midlineShiftMm: round(t.midlineShiftMm, 2),
      maxDisplacementMm: round(t.maxDisplacementMm, 2),
      lesions: t.lesions.map((l) => ({
        id: l.id,
        type: l.type,
        label: l.index + 1,
        requestedVolumeMl: round(l.requestedVolumeMl, 3),
        volumeMl: round(l.volumeMl, 3),
        voxelCount: l.voxelCount,
        densityHu: round(l.densityHu, 1),
        sizeParameter: round(l.sizeParameter, 4),
      })),
    })),
  };
}
