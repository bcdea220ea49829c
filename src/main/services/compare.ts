import { AppError } from '../../shared/errors';
import { describeReadingDifferences, type ReadingSettings } from '../../shared/analysis';
import type { ComparisonResult, ComparisonTruthLesion, HealthyReferenceStamp, InpainterInfo, RunReferenceInfo } from '../../shared/types';
import { sameReference } from '../core/pipeline/pinned-reference';
import { describeReferenceStamp } from '../../shared/provenance';
import { sameGrid, voxelVolumeMl, type Vec3, type Volume } from '../core/volume';
import type { AnalysisService } from './analysis';
import type { LibraryService } from './library';
import type { ReviewService } from './review';

interface Side {
  volume: Volume;
  /** The series' metadata (the library's, else the run's copy). */
  meta: Volume['meta'];
  labels: ArrayLike<number>;
  lesions: { label: number; volumeMl: number; centroid: Vec3; sign: 'hyper' | 'hypo' | 'unknown' }[];
  reviewed: boolean;
  studyDate: string | null;
  truthMl: number | null;
  synthetic: NonNullable<Volume['meta']['synthetic']> | null;
  seriesId: string;
  inpainter: InpainterInfo;
  /** The reading its lesions come from, and the healthy reference a z cut in it reads. */
  reading: ReadingSettings;
  reference: RunReferenceInfo;
}

/** Lesions further apart than this between timepoints are not the same lesion. */
const MATCH_DISTANCE_MM = 20;

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
function referenceNote(a: Side, b: Side): string | null {
  if (a.reading.strategy.kind !== 'zscore' || b.reading.strategy.kind !== 'zscore' || !sameInpainter(a.inpainter, b.inpainter)) return null;
  if (sameReference(a.reference.readAgainst, b.reference.readAgainst)) return null;
  return `A and B read their z cuts against different healthy references of the same inpainter (A: ${describeStamp(a.reference.readAgainst)}; B: ${describeStamp(b.reference.readAgainst)}), so one z is not one score on both and part of the change may come from the cuts. "Read against the current reference" in each run's threshold panel puts both on the same one.`;
}

/** Two runs read with different settings: the change between them is partly the settings'. */
function readingNote(a: Side, b: Side): string | null {
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
function subjectNote(a: Side, b: Side): string | null {
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

/** Two runs side by side: lesion volumes per timepoint and their change. */
export class CompareService {
  constructor(private readonly deps: { analysis: AnalysisService; review: ReviewService; library: LibraryService }) {}

  private async side(runId: string): Promise<Side> {
    const run = this.deps.analysis.getRun(runId);
    const volume = await this.deps.analysis.volumeOf(runId);
    const series = await this.deps.library.loadVolume(run.seriesId).catch(() => null);
    const meta = series?.meta ?? volume.meta;
    const truthMl = meta.synthetic ? meta.synthetic.lesions.reduce((a, l) => a + l.volumeMl, 0) : null;
    const reviewed = await this.deps.review.finalLabels(runId);
    const voxelMl = voxelVolumeMl(volume.spacing);
    const reference = await this.deps.analysis.referenceOf(runId);
    if (reviewed) {
      const state = await this.deps.review.state(runId);
      const reading = state.reading ?? run.reading;
      const signs = new Map((await this.deps.analysis.labelsFor(runId, reading)).lesions.map((l) => [l.label, l.sign] as const));
      return {
        volume,
        meta,
        labels: reviewed.labels,
        lesions: reviewed.lesions
          .filter((l) => l.status !== 'rejected' && l.voxelCount > 0)
          .map((l) => ({ label: l.label, volumeMl: l.voxelCount * voxelMl, centroid: l.centroidLps, sign: l.origin === 'detected' ? (signs.get(l.label) ?? 'unknown') : 'unknown' })),
        reviewed: true,
        studyDate: meta.studyDate ?? null,
        truthMl,
        synthetic: meta.synthetic ?? null,
        seriesId: run.seriesId,
        inpainter: run.inpainter,
        reading,
        reference,
      };
    }
    const at = await this.deps.analysis.labelsFor(runId, run.reading);
    return {
      volume,
      meta,
      labels: at.labels,
      lesions: at.lesions.map((l) => ({ label: l.label, volumeMl: l.volumeMl, centroid: l.centroidLps, sign: l.sign })),
      reviewed: false,
      studyDate: meta.studyDate ?? null,
      truthMl,
      synthetic: meta.synthetic ?? null,
      seriesId: run.seriesId,
      inpainter: run.inpainter,
      reading: run.reading,
      reference,
    };
  }

  async compare(runA: string, runB: string): Promise<ComparisonResult> {
    if (runA === runB) throw new AppError('BAD_REQUEST', 'Choose two different analysis runs to compare.');
    const a = await this.side(runA);
    const b = await this.side(runB);
    const grid = sameGrid(a.volume, b.volume, 0.01);
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
    const rows = pairs.map(([la, lb]) => {
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
        truthId: null as string | null,
      };
    });
    const truthLesions = this.truthOfOneCase(a, b);
    if (truthLesions) {
      const [ofA, ofB] = await Promise.all([this.truthIdsOfLesions(a), this.truthIdsOfLesions(b)]);
      for (const r of rows) r.truthId = (r.labelA !== null ? ofA.get(r.labelA) : undefined) ?? (r.labelB !== null ? ofB.get(r.labelB) : undefined) ?? null;
    }
    rows.sort((x, y) => Math.max(y.volumeMlA, y.volumeMlB) - Math.max(x.volumeMlA, x.volumeMlB));
    const totalMlA = a.lesions.reduce((s, l) => s + l.volumeMl, 0);
    const totalMlB = b.lesions.reduce((s, l) => s + l.volumeMl, 0);
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
      truth: a.truthMl !== null && b.truthMl !== null ? { totalMlA: a.truthMl, totalMlB: b.truthMl, lesions: truthLesions ?? [] } : null,
    };
  }

  /**
   * The generated lesions, each with its volume at both timepoints, when A and B are timepoints
   * of one synthetic case (same seed): a haematoma and its oedema are separate entries, so a
   * reader can check the lesion a row measures against the lesion that was generated there.
   */
  private truthOfOneCase(a: Side, b: Side): ComparisonTruthLesion[] | null {
    if (!a.synthetic || !b.synthetic || a.synthetic.seed !== b.synthetic.seed) return null;
    const ids = [...new Set([...a.synthetic.lesions, ...b.synthetic.lesions].map((l) => l.id))];
    return ids.map((id) => {
      const la = a.synthetic!.lesions.find((l) => l.id === id);
      const lb = b.synthetic!.lesions.find((l) => l.id === id);
      const va = la?.volumeMl ?? 0;
      const vb = lb?.volumeMl ?? 0;
      return { id, type: (la ?? lb)!.type, volumeMlA: va, volumeMlB: vb, changeMl: vb - va, changePct: va > 0 ? (vb - va) / va : null };
    });
  }

  /** For each lesion of a side: the generated lesion it overlaps most (by voxels), when the series has truth labels. */
  private async truthIdsOfLesions(side: Side): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const truth = side.synthetic ? await this.deps.library.truthLabels(side.seriesId) : null;
    if (!truth || truth.length !== side.labels.length || !side.synthetic) return out;
    const idOfLabel = new Map(side.synthetic.lesions.filter((l) => l.label !== undefined).map((l) => [l.label!, l.id] as const));
    const overlap = new Map<number, Map<number, number>>();
    for (let p = 0; p < truth.length; p++) {
      const l = side.labels[p];
      const t = truth[p];
      if (l > 0 && t > 0) {
        const row = overlap.get(l) ?? new Map<number, number>();
        row.set(t, (row.get(t) ?? 0) + 1);
        overlap.set(l, row);
      }
    }
    for (const [label, counts] of overlap) {
      const [bestTruth] = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0];
      const id = idOfLabel.get(bestTruth);
      if (id) out.set(label, id);
    }
    return out;
  }
}

