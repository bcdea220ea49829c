import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services } from '../../../src/main/services/index';
import type { ComparisonResult, ReviewState, RunInfo } from '../../../src/shared/types';
import { labelVolumeFromSparse } from './sparse-labels';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/**
 * Two synthetic timepoints of one expanding haemorrhage (+15% volume per day, scanned 2 days
 * apart; its perihaematomal oedema grows too, and the blood fades by 1.5 HU a day), analysed
 * with the shipped diffusion model at the default reading (z 3.25 against its healthy reference,
 * each lesion reaching through its voxels down to z 2.75, then outlined at half its own contrast). The reader's review is emulated: every detected lesion that
 * does not touch a generated lesion is rejected, the rest kept as found (no painting), so the
 * volumes are the analysis' own.
 *
 * The check is per generated lesion: the row on the haematoma must report its volume at each
 * timepoint within 12% of the generated one and its change within 20%. The oedema (about -10 HU
 * against brain, below the residual noise) is not segmented and is reported only as truth.
 *
 * Why these bounds: over six cases (`npm run bench:volumetry`, seeds 7-12, docs/benchmarks.md)
 * every timepoint's volume was within 10.3% with healthy-brain-ddpm 1.1.0 (9.6% with 1.0.0), but
 * the change, a difference of two volumes about three times its size, was within 15% in 4 of 6
 * cases with either model (median -12%, worst -25%). This case (seed 7, the benchmark's first):
 * haematoma 1.71 -> 2.31 mL (+0.60); 1.1.0 measures 1.57 -> 2.07 (+0.50, -17%; 1.57 -> 2.08 at the
 * absolute cut 0.25 that was the default before), 1.0.0 measured 1.56 -> 2.11 (+0.55, -8%). At the threshold extent alone the change error is -47% (1.1.0), because
 * the fading blood loses its rim below a fixed cut.
 */
describe('compare.runs on synthetic timepoints', () => {
  it('reports reviewed lesion volumes, their change, the interval and the generated truth', async () => {
    const services = await Services.open({ dataDir: tmp('ict-cmp-'), mode: 'cli' });
    try {
      const synth = await services.jobs.waitFor(((await services.call('synth.start', { seed: 7, lesions: ['iph'], timepoints: 2, intervalDays: 2, slices: 6, growthPerDay: 0.15 })) as { jobId: string }).jobId);
      expect(synth.status).toBe('succeeded');
      const seriesIds = (synth.result as { studies: { series: { id: string }[] }[] }).studies.flatMap((s) => s.series.map((x) => x.id));
      expect(seriesIds).toHaveLength(2);
      const runs: RunInfo[] = [];
      for (const seriesId of seriesIds) {
        const job = await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: { kind: 'diffusion', modelId: 'healthy-brain-ddpm', preset: 'fast', device: 'cpu' } })) as { jobId: string }).jobId);
        expect(job.status).toBe('succeeded');
        runs.push(((await services.call('analysis.runs', { seriesId })) as RunInfo[])[0]);
      }
      // Timepoint order: the earlier study is A.
      const dated = await Promise.all(runs.map(async (r) => ({ run: r, date: (await services.library.loadVolume(r.seriesId)).meta.studyDate ?? '' })));
      dated.sort((x, y) => x.date.localeCompare(y.date));
      const [runA, runB] = dated.map((d) => d.run);

      const raw = (await services.call('compare.runs', { runA: runA.id, runB: runB.id })) as ComparisonResult;
      expect(raw.sameGrid).toBe(true);
      expect(raw.intervalDays).toBe(2);
      // Both timepoints are series of one study; each side shows its own scan date.
      expect([raw.dateA, raw.dateB]).toEqual(['20000101', '20000103']);
      expect(raw.reviewedA || raw.reviewedB).toBe(false);
      expect(raw.truth).not.toBeNull();
      const truth = raw.truth!;
      const truthChange = truth.totalMlB - truth.totalMlA;
      expect(truthChange).toBeGreaterThan(0);

      for (const run of [runA, runB]) {
        const truthLabels = (await services.readBinary(`series/${run.seriesId}/truth`)).bytes;
        let st = (await services.call('review.start', { runId: run.id, reading: run.reading, author: 'test' })) as ReviewState;
        const labels = labelVolumeFromSparse(st, truthLabels.length);
        const touchesTruth = new Set<number>();
        for (let p = 0; p < labels.length; p++) if (labels[p] > 0 && truthLabels[p] > 0) touchesTruth.add(labels[p]);
        expect(touchesTruth.size).toBeGreaterThan(0);
        for (const l of st.lesions) {
          st = (await services.call('review.setLesion', { runId: run.id, label: l.label, status: touchesTruth.has(l.label) ? 'accepted' : 'rejected', author: 'test' })) as ReviewState;
        }
      }

      const reviewed = (await services.call('compare.runs', { runA: runA.id, runB: runB.id })) as ComparisonResult;
      expect(reviewed.reviewedA && reviewed.reviewedB).toBe(true);
      const measuredChange = reviewed.totalMlB - reviewed.totalMlA;
      const rawChange = raw.totalMlB - raw.totalMlA;
      // Reported for the record (the unreviewed error is what a reader would see without review).
      console.info(
        `[compare] truth ${truth.totalMlA.toFixed(2)} -> ${truth.totalMlB.toFixed(2)} mL (change ${truthChange.toFixed(2)}); ` +
          `reviewed ${reviewed.totalMlA.toFixed(2)} -> ${reviewed.totalMlB.toFixed(2)} (change ${measuredChange.toFixed(2)}, error ${((100 * (measuredChange - truthChange)) / truthChange).toFixed(1)}%); ` +
          `unreviewed ${raw.totalMlA.toFixed(2)} -> ${raw.totalMlB.toFixed(2)} (change ${rawChange.toFixed(2)}, error ${((100 * (rawChange - truthChange)) / truthChange).toFixed(1)}%)`,
      );
      // What the comparison reports is exactly the reviewed masks: accepted lesions only, matched
      // by overlap across the shared grid.
      for (const [run, total] of [
        [runA, reviewed.totalMlA],
        [runB, reviewed.totalMlB],
      ] as const) {
        const st = (await services.call('review.get', { runId: run.id })) as ReviewState;
        const kept = st.lesions.filter((l) => l.status !== 'rejected').reduce((a, l) => a + l.volumeMl, 0);
        expect(total).toBeCloseTo(kept, 6);
      }
      expect(reviewed.totalChangeMl).toBeCloseTo(measuredChange, 9);
      // Per generated lesion: the haematoma and its oedema, with their volumes at both timepoints.
      const haematoma = truth.lesions.find((l) => l.type === 'iph')!;
      expect(truth.lesions.map((l) => l.type).sort()).toEqual(['edema', 'iph']);
      expect(haematoma.changeMl).toBeGreaterThan(0.4);
      expect(truth.lesions.reduce((a, l) => a + l.volumeMlA, 0)).toBeCloseTo(truth.totalMlA, 9);
      // The row on the haematoma reports its generated change within 15%.
      const onHaematoma = reviewed.rows.filter((r) => r.truthId === haematoma.id);
      expect(onHaematoma).toHaveLength(1);
      const row = onHaematoma[0];
      expect(row.labelA).not.toBeNull();
      expect(row.labelB).not.toBeNull();
      expect(row.sign).toBe('hyper');
      const error = (row.changeMl - haematoma.changeMl) / haematoma.changeMl;
      console.info(
        `[compare] haematoma ${haematoma.volumeMlA.toFixed(2)} -> ${haematoma.volumeMlB.toFixed(2)} mL (change ${haematoma.changeMl.toFixed(2)}); ` +
          `measured ${row.volumeMlA.toFixed(2)} -> ${row.volumeMlB.toFixed(2)} (change ${row.changeMl.toFixed(2)}, error ${(100 * error).toFixed(1)}%)`,
      );
      expect(Math.abs(row.volumeMlA - haematoma.volumeMlA) / haematoma.volumeMlA).toBeLessThanOrEqual(0.12);
      expect(Math.abs(row.volumeMlB - haematoma.volumeMlB) / haematoma.volumeMlB).toBeLessThanOrEqual(0.12);
      expect(Math.abs(error)).toBeLessThanOrEqual(0.2);
    } finally {
      await services.close();
    }
  }, 300_000);
});
