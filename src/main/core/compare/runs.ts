/**
 * Two analyses side by side: each lesion of A paired with its lesion in B, their volumes and the
 * change, with the notes a reader needs before trusting that change. Pure over two sides, so the
 * library's compare service and `inpaint-ct compare` on analysis folders measure the same way.
 */
import { describeReadingDifferences, type ReadingSettings } from '../../../shared/analysis';
import { describeReferenceStamp } from '../../../shared/provenance';
import type { ComparisonResult, ComparisonTruthLesion, HealthyReferenceStamp, InpainterInfo, RunReferenceInfo } from '../../../shared/types';
import { runReferences, sameReference } from '../pipeline/pinned-reference';
import { loadRunFolderLabels } from '../report/case';
import { sameGrid, type Vec3, type Volume } from '../volume';

export interface ComparisonSide {
  /** The analysed scan's grid (its voxels are not read). */
  grid: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>;
  /** The series' metadata where known (patient, frame of reference, synthetic truth); {} for a bare analysis folder. */
  meta: Volume['meta'];
  labels: ArrayLike<number>;
  lesions: { label: number; volumeMl: number; centroid: Vec3; sign: 'hyper' | 'hypo' | 'unknown' }[];
  reviewed: boolean;
  studyDate: string | null;
  inpainter: InpainterInfo;
  /** The reading its lesions come from, and the healthy reference a z cut in it reads. */
  reading: ReadingSettings;
  reference: Pick<RunReferenceInfo, 'readAgainst'>;
  /** For each lesion, the generated lesion it lies on (synthetic timepoints of one case), when known. */
  truthIds?: Map<number, string>;
}

/** Lesions further apart than this between timepoints are not the same lesion. */
export const MATCH_DISTANCE_MM = 20;

function describeStamp(s: HealthyReferenceStamp | null): string {
  return s ? describeReferenceStamp(s) : 'none';
}

function sameInpainter(a: InpainterInfo, b: InpainterInfo): boolean {
  return a.kind === 'diffusion' ? b.kind === 'diffusion' && a.modelId === b.modelId : b.kind === 'classical' && a.method === b.method;
}

/**
 * Two runs of one inpainter whose z cuts read different healthy references (one analysed before
 * a recalibration, one after) do not cut at the same score for the same z: part of a volume
 * change between them would come from the cut, not the patient. Runs of different inpainters
 * have different references by nature, and absolute cuts read none.
 */
function referenceNote(a: ComparisonSide, b: ComparisonSide): string | null {
  if (a.reading.strategy.kind !== 'zscore' || b.reading.strategy.kind !== 'zscore' || !sameInpainter(a.inpainter, b.inpainter)) return null;
  if (sameReference(a.reference.readAgainst, b.reference.readAgainst)) return null;
  return `A and B read their z cuts against different healthy references of the same inpainter (A: ${describeStamp(a.reference.readAgainst)}; B: ${describeStamp(b.reference.readAgainst)}), so one z is not one score on both and part of the change may come from the cuts. "Read against the current reference" in each run's threshold panel (for an analysis folder, inpaint-ct threshold --adopt-current-reference) puts both on the same one.`;
}

/** Two runs read with different settings: the change between them is partly the settings'. */
function readingNote(a: ComparisonSide, b: ComparisonSide): string | null {
  const differences = describeReadingDifferences(a.reading, b.reading);
  if (differences.length === 0) return null;
  return `A and B were read with different settings (A / B: ${differences.join('; ')}), so part of the volume change may come from the settings, not the patient. Save one reading for both runs to compare like with like.`;
}

/**
 * Whose and which scans are compared. Different patients: the changes compare two cases, not one
 * patient over time. One patient (or IDs unknown) in different DICOM frames of reference: separate
 * acquisitions whose patient coordinates need not agree, and nothing here registers them, so
 * lesions are paired as if the head lay in the same place in both.
 */
function subjectNote(a: ComparisonSide, b: ComparisonSide): string | null {
  const idA = a.meta.patientId?.trim();
  const idB = b.meta.patientId?.trim();
  if (idA && idB && idA !== idB) return `A and B belong to different patients (A: ${idA}; B: ${idB}): the changes below compare two cases, not one patient over time.`;
  const frameA = a.meta.frameOfReferenceUid;
  const frameB = b.meta.frameOfReferenceUid;
  if (frameA && frameB && frameA !== frameB) {
    return 'A and B are separate acquisitions (different DICOM frames of reference) and were not registered: lesions are paired as if the head lay in the same place in both scans. Check each pair on the images before reading a change.';
  }
  return null;
}

function daysBetween(a: string | null, b: string | null): number | null {
  const parse = (d: string | null) => (d && /^\d{8}$/.test(d) ? Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8)) : null);
  const ta = parse(a);
  const tb = parse(b);
  return ta === null || tb === null ? null : Math.round((tb - ta) / 86_400_000);
}

function syntheticTruthMl(side: ComparisonSide): number | null {
  return side.meta.synthetic ? side.meta.synthetic.lesions.reduce((a, l) => a + l.volumeMl, 0) : null;
}

/**
 * The generated lesions, each with its volume at both timepoints, when A and B are timepoints
 * of one synthetic case (same seed): a haematoma and its oedema are separate entries, so a
 * reader can check the lesion a row measures against the lesion that was generated there.
 */
export function truthOfOneCase(a: ComparisonSide, b: ComparisonSide): ComparisonTruthLesion[] | null {
  const sa = a.meta.synthetic;
  const sb = b.meta.synthetic;
  if (!sa || !sb || sa.seed !== sb.seed) return null;
  const ids = [...new Set([...sa.lesions, ...sb.lesions].map((l) => l.id))];
  return ids.map((id) => {
    const la = sa.lesions.find((l) => l.id === id);
    const lb = sb.lesions.find((l) => l.id === id);
    const va = la?.volumeMl ?? 0;
    const vb = lb?.volumeMl ?? 0;
    return { id, type: (la ?? lb)!.type, volumeMlA: va, volumeMlB: vb, changeMl: vb - va, changePct: va > 0 ? (vb - va) / va : null };
  });
}

/** Lesion pairs: by voxel overlap on a shared grid, else by the distance of their centres. */
function pairLesions(a: ComparisonSide, b: ComparisonSide, grid: boolean): [number | null, number | null][] {
  const pairs: [number | null, number | null][] = [];
  const usedB = new Set<number>();
  if (grid) {
    // Overlap of every A lesion with every B lesion, counted in one pass.
    const overlap = new Map<string, number>();
    for (let p = 0; p < a.labels.length; p++) {
      const la = a.labels[p];
      const lb = b.labels[p];
      if (la > 0 && lb > 0) overlap.set(`${la}:${lb}`, (overlap.get(`${la}:${lb}`) ?? 0) + 1);
    }
    const ranked = [...overlap.entries()].sort((x, y) => y[1] - x[1]);
    const usedA = new Set<number>();
    for (const [key] of ranked) {
      const [la, lb] = key.split(':').map(Number);
      if (usedA.has(la) || usedB.has(lb)) continue;
      if (!a.lesions.some((l) => l.label === la) || !b.lesions.some((l) => l.label === lb)) continue;
      usedA.add(la);
      usedB.add(lb);
      pairs.push([la, lb]);
    }
    for (const l of a.lesions) if (!usedA.has(l.label)) pairs.push([l.label, null]);
  } else {
    for (const la of a.lesions) {
      let best: { label: number; d: number } | null = null;
      for (const lb of b.lesions) {
        if (usedB.has(lb.label)) continue;
        const d = Math.hypot(la.centroid[0] - lb.centroid[0], la.centroid[1] - lb.centroid[1], la.centroid[2] - lb.centroid[2]);
        if (d <= MATCH_DISTANCE_MM && (!best || d < best.d)) best = { label: lb.label, d };
      }
      if (best) usedB.add(best.label);
      pairs.push([la.label, best?.label ?? null]);
    }
  }
  for (const l of b.lesions) if (!usedB.has(l.label)) pairs.push([null, l.label]);
  return pairs;
}

export function compareSides(runA: string, runB: string, a: ComparisonSide, b: ComparisonSide): ComparisonResult {
  const grid = sameGrid(a.grid, b.grid, 0.01);
  const rows = pairLesions(a, b, grid).map(([la, lb]) => {
    const A = a.lesions.find((l) => l.label === la);
    const B = b.lesions.find((l) => l.label === lb);
    const va = A?.volumeMl ?? 0;
    const vb = B?.volumeMl ?? 0;
    return {
      labelA: la,
      labelB: lb,
      volumeMlA: va,
      volumeMlB: vb,
      changeMl: vb - va,
      changePct: va > 0 ? (vb - va) / va : null,
      sign: (A?.sign ?? B?.sign ?? 'unknown') as 'hyper' | 'hypo' | 'unknown',
      truthId: (la !== null ? a.truthIds?.get(la) : undefined) ?? (lb !== null ? b.truthIds?.get(lb) : undefined) ?? null,
    };
  });
  rows.sort((x, y) => Math.max(y.volumeMlA, y.volumeMlB) - Math.max(x.volumeMlA, x.volumeMlB));
  const totalMlA = a.lesions.reduce((s, l) => s + l.volumeMl, 0);
  const totalMlB = b.lesions.reduce((s, l) => s + l.volumeMl, 0);
  const truthMlA = syntheticTruthMl(a);
  const truthMlB = syntheticTruthMl(b);
  return {
    runA,
    runB,
    sameGrid: grid,
    matching: grid
      ? 'Both series share one voxel grid: lesions are matched by voxel overlap.'
      : `The two series have different voxel grids and were not registered: lesions are matched by the distance of their centres in patient coordinates (within ${MATCH_DISTANCE_MM} mm). Side-by-side slices show the same slice number, not the same anatomy.`,
    subjectNote: subjectNote(a, b),
    referenceNote: referenceNote(a, b),
    readingNote: readingNote(a, b),
    intervalDays: daysBetween(a.studyDate, b.studyDate),
    dateA: a.studyDate,
    dateB: b.studyDate,
    rows,
    totalMlA,
    totalMlB,
    totalChangeMl: totalMlB - totalMlA,
    totalChangePct: totalMlA > 0 ? (totalMlB - totalMlA) / totalMlA : null,
    reviewedA: a.reviewed,
    reviewedB: b.reviewed,
    truth: truthMlA !== null && truthMlB !== null ? { totalMlA: truthMlA, totalMlB: truthMlB, lesions: truthOfOneCase(a, b) ?? [] } : null,
  };
}

/**
 * The side of an analysis folder written by `inpaint-ct analyze`: its saved lesions at its saved
 * reading, and the healthy reference it keeps. A folder records no patient, frame of reference or
 * study date (those live in the library), so the subject note and the interval are left unknown.
 */
export async function runFolderSide(dir: string, modelsDir: string): Promise<ComparisonSide> {
  const { record, table, ct, labels } = await loadRunFolderLabels(dir);
  const { provenance, reading } = record;
  const references = await runReferences(dir, provenance.inpainter, modelsDir);
  return {
    grid: ct,
    meta: {},
    labels,
    lesions: table.lesions.map((l) => ({ label: l.label, volumeMl: l.volumeMl, centroid: l.centroidLps, sign: l.sign })),
    reviewed: false,
    studyDate: null,
    inpainter: provenance.inpainter,
    reading,
    reference: references.info,
  };
}
