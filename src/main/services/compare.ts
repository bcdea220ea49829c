import { AppError } from '../../shared/errors';
import type { ComparisonResult } from '../../shared/types';
import { compareSides, truthOfOneCase, type ComparisonSide } from '../core/compare/runs';
import { voxelVolumeMl } from '../core/volume';
import type { AnalysisService } from './analysis';
import type { LibraryService } from './library';
import type { ReviewService } from './review';

/** A library run's side: its series (for the generated truth of a synthetic case) as well. */
interface Side extends ComparisonSide {
  seriesId: string;
}

/** Two runs of the library side by side: lesion volumes per timepoint and their change (core/compare/runs). */
export class CompareService {
  constructor(private readonly deps: { analysis: AnalysisService; review: ReviewService; library: LibraryService }) {}

  private async side(runId: string): Promise<Side> {
    const run = this.deps.analysis.getRun(runId);
    const volume = await this.deps.analysis.volumeOf(runId);
    const series = await this.deps.library.loadVolume(run.seriesId).catch(() => null);
    const meta = series?.meta ?? volume.meta;
    const reviewed = await this.deps.review.finalLabels(runId);
    const voxelMl = voxelVolumeMl(volume.spacing);
    const reference = await this.deps.analysis.referenceOf(runId);
    if (reviewed) {
      const state = await this.deps.review.state(runId);
      const reading = state.reading ?? run.reading;
      const signs = new Map((await this.deps.analysis.labelsFor(runId, reading)).lesions.map((l) => [l.label, l.sign] as const));
      return {
        grid: volume,
        meta,
        labels: reviewed.labels,
        lesions: reviewed.lesions
          .filter((l) => l.status !== 'rejected' && l.voxelCount > 0)
          .map((l) => ({ label: l.label, volumeMl: l.voxelCount * voxelMl, centroid: l.centroidLps, sign: l.origin === 'detected' ? (signs.get(l.label) ?? 'unknown') : 'unknown' })),
        reviewed: true,
        studyDate: meta.studyDate ?? null,
        seriesId: run.seriesId,
        inpainter: run.inpainter,
        reading,
        reference,
      };
    }
    const at = await this.deps.analysis.labelsFor(runId, run.reading);
    return {
      grid: volume,
      meta,
      labels: at.labels,
      lesions: at.lesions.map((l) => ({ label: l.label, volumeMl: l.volumeMl, centroid: l.centroidLps, sign: l.sign })),
      reviewed: false,
      studyDate: meta.studyDate ?? null,
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
    if (truthOfOneCase(a, b)) [a.truthIds, b.truthIds] = await Promise.all([this.truthIdsOfLesions(a), this.truthIdsOfLesions(b)]);
    return compareSides(runA, runB, a, b);
  }

  /** For each lesion of a side: the generated lesion it overlaps most (by voxels), when the series has truth labels. */
  private async truthIdsOfLesions(side: Side): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const synthetic = side.meta.synthetic;
    const truth = synthetic ? await this.deps.library.truthLabels(side.seriesId) : null;
    if (!truth || truth.length !== side.labels.length || !synthetic) return out;
    const idOfLabel = new Map(synthetic.lesions.filter((l) => l.label !== undefined).map((l) => [l.label!, l.id] as const));
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

