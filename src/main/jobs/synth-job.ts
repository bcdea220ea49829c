/**
 * Worker half of "New synthetic case": generate a phantom with lesions (and timepoints) and
 * stage each timepoint as a series of one synthetic study, like an import. The lesion truth
 * (volumes, types, seed) travels in the series metadata so comparisons and benchmarks can
 * check against it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCase } from '../core/synth/case';
import type { LesionType } from '../core/synth/lesions';
import { pseudonymousUid } from '../core/deidentify';
import { throwIfAborted } from '../core/progress';
import type { JobContext } from './types';
import { stageVolume, type ImportJobResult } from './import-job';

export interface SynthJobParams {
  seed: number;
  lesions: LesionType[];
  timepoints: number;
  intervalDays: number;
  slices: number;
  /** Volume change per day of every lesion; undefined = drawn from the seed. */
  growthPerDay?: number;
  stagingDir: string;
}

/** A fixed, obviously synthetic study date; timepoints follow it by their day offset. */
function studyDate(day: number): string {
  const d = new Date(Date.UTC(2000, 0, 1 + day));
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export async function runSynthJob(params: SynthJobParams, ctx: JobContext): Promise<ImportJobResult> {
  const lesions = params.growthPerDay === undefined ? params.lesions : params.lesions.map((type) => ({ type, volumeRatePerDay: params.growthPerDay }));
  const c = generateCase({ seed: params.seed, lesions, timepoints: params.timepoints, intervalDays: params.intervalDays, slices: params.slices, signal: ctx.signal, onProgress: ctx.onProgress });
  await mkdir(params.stagingDir, { recursive: true });
  const staged: ImportJobResult['staged'] = [];
  const lesionText = params.lesions.length ? params.lesions.join('+') : 'healthy';
  // Growth is part of the identity only when chosen, so cases generated before it existed keep their UIDs.
  const growthKey = params.growthPerDay === undefined ? '' : `:growth ${params.growthPerDay}`;
  const studyUid = pseudonymousUid(`synthetic-study:${params.seed}:${lesionText}:${params.timepoints}${growthKey}`);
  for (const tp of c.timepoints) {
    throwIfAborted(ctx.signal);
    ctx.onProgress({ stage: 'Saving synthetic series', done: tp.index, total: c.timepoints.length });
    const vol = tp.volume;
    vol.meta = {
      ...vol.meta,
      patientName: `SYNTHETIC^SEED ${params.seed}`,
      patientId: `SYN-${params.seed}`,
      studyInstanceUid: studyUid,
      seriesInstanceUid: pseudonymousUid(`${studyUid}:series:${tp.index}`),
      frameOfReferenceUid: pseudonymousUid(`synthetic-frame:${params.seed}`),
      studyDate: studyDate(tp.day),
      studyDescription: `Synthetic head CT (${lesionText})`,
      // The ground truth rides along for comparison and reports.
      synthetic: {
        seed: params.seed,
        day: tp.day,
        timepoint: tp.index,
        lesions: tp.lesions.map((l) => ({ id: l.id, type: l.type, label: l.index + 1, volumeMl: l.volumeMl, densityHu: l.densityHu })),
        midlineShiftMm: tp.midlineShiftMm,
      },
    } as typeof vol.meta;
    const st = await stageVolume(vol, params.stagingDir, `t${tp.index}`, { deidentified: false, fallbackStudyKey: studyUid });
    // Lesion labels on the same grid, for truth overlays and benchmarks.
    await writeFile(join(params.stagingDir, st.folder, 'truth-labels.u8'), tp.lesionLabels);
    staged.push(st);
  }
  return { staged, files: [] };
}
