import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services } from '../../../src/main/services/index';
import { writeNifti } from '../../../src/main/core/io/nifti';
import { simpleHead } from '../preprocess/simple-head';
import type { ReviewState, RunInfo } from '../../../src/shared/types';
import { DEFAULT_READING_SETTINGS } from '../../../src/shared/analysis';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

async function analysedRun(services: Services): Promise<RunInfo> {
  const file = join(tmp('ict-head-'), 'head.nii.gz');
  await writeNifti(simpleHead([128, 128, 4], [1.8, 1.8, 5], 5, { subdural: true }).volume, file);
  const imp = await services.jobs.waitFor(((await services.call('imports.start', { paths: [file] })) as { jobId: string }).jobId);
  const seriesId = (imp.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
  const an = await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })) as { jobId: string }).jobId);
  expect(an.status).toBe('succeeded');
  return ((await services.call('analysis.runs', { seriesId })) as RunInfo[])[0];
}

const reading = { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'absolute' as const, value: 0.3 } };

describe('review edits', () => {
  it('brush, eraser, reject, type and note, undo/redo; all of it survives a restart', async () => {
    const dataDir = tmp('ict-rev-');
    let services = await Services.open({ dataDir, mode: 'cli' });
    const run = await analysedRun(services);
    let st = (await services.call('review.start', { runId: run.id, reading, author: 'dr.test' })) as ReviewState;
    expect(st.started).toBe(true);
    const detected = st.lesions.length;

    // A new lesion drawn with a 3 mm brush in an empty corner of slice 2.
    st = (await services.call('review.brush', { runId: run.id, mode: 'paint', center: [20, 20, 1], radiusMm: 3, author: 'dr.test' })) as ReviewState;
    const drawn = st.lesions.find((l) => l.origin === 'drawn')!;
    expect(drawn).toBeDefined();
    expect(drawn.status).toBe('accepted');
    // Disc of radius 3 mm at 1.8 mm pixels: the 9 pixels within 3 mm of the centre (0, ±1 along each axis, and the four diagonals at 2.55 mm).
    expect(drawn.voxelCount).toBe(9);
    expect(drawn.sliceRange).toEqual([1, 1]);
    expect(st.history.at(-1)).toMatchObject({ author: 'dr.test', undone: false });

    // Erase the centre and its four face neighbours (1.8 mm away) with a 2 mm eraser.
    st = (await services.call('review.brush', { runId: run.id, mode: 'erase', center: [20, 20, 1], radiusMm: 2 })) as ReviewState;
    expect(st.lesions.find((l) => l.label === drawn.label)!.voxelCount).toBe(9 - 5);

    // Reject a detected lesion, with a type and a note.
    if (detected > 0) {
      const target = st.lesions.find((l) => l.origin === 'detected')!;
      st = (await services.call('review.setLesion', { runId: run.id, label: target.label, status: 'rejected', type: 'artefact', note: 'beam hardening' })) as ReviewState;
      expect(st.lesions.find((l) => l.label === target.label)).toMatchObject({ status: 'rejected', type: 'artefact', note: 'beam hardening' });
      const final = await services.review.finalLabels(run.id);
      expect(Array.from(final!.labels).includes(target.label)).toBe(false);
    }

    // Undo the last two edits, redo one.
    st = (await services.call('review.undo', { runId: run.id })) as ReviewState;
    st = (await services.call('review.undo', { runId: run.id })) as ReviewState;
    expect(st.lesions.find((l) => l.label === drawn.label)!.voxelCount).toBe(detected > 0 ? 9 : 0);
    st = (await services.call('review.redo', { runId: run.id })) as ReviewState;
    expect(st.canRedo).toBe(detected > 0);
    const before = JSON.stringify({ lesions: st.lesions, labels: st.labelIndices, history: st.history });
    await services.close();

    services = await Services.open({ dataDir, mode: 'cli' });
    const reopened = (await services.call('review.get', { runId: run.id })) as ReviewState;
    expect(JSON.stringify({ lesions: reopened.lesions, labels: reopened.labelIndices, history: reopened.history })).toBe(before);
    await services.close();
  });

  it('the run list says how far the review of the found lesions has got', async () => {
    const services = await Services.open({ dataDir: tmp('ict-rev-'), mode: 'cli' });
    const run = await analysedRun(services);
    const listed = async () => ((await services.call('analysis.runs', { seriesId: run.seriesId })) as RunInfo[])[0].review;
    expect(run.review).toBeNull();
    const st = (await services.call('review.start', { runId: run.id, reading, author: 'dr.test' })) as ReviewState;
    const found = st.lesions.map((l) => l.label);
    expect(found.length).toBeGreaterThanOrEqual(2);
    expect(await listed()).toMatchObject({ found: found.length, accepted: 0, rejected: 0, startedBy: 'dr.test' });

    await services.call('review.setLesion', { runId: run.id, label: found[0], status: 'accepted' });
    await services.call('review.setLesion', { runId: run.id, label: found[1], status: 'rejected' });
    // A lesion the reviewer draws is accepted as drawn, but it is not one the analysis found.
    await services.call('review.brush', { runId: run.id, mode: 'paint', center: [20, 20, 1], radiusMm: 3 });
    expect(await listed()).toMatchObject({ found: found.length, accepted: 1, rejected: 1 });
    await services.call('review.undo', { runId: run.id });
    await services.call('review.undo', { runId: run.id });
    expect(await listed()).toMatchObject({ found: found.length, accepted: 1, rejected: 0 });

    await services.call('review.discard', { runId: run.id });
    expect(await listed()).toBeNull();
    await services.close();
  });

  it('corrects the brain mask with the same brush and can be discarded', async () => {
    const services = await Services.open({ dataDir: tmp('ict-rev-'), mode: 'cli' });
    const run = await analysedRun(services);
    await services.call('review.start', { runId: run.id, reading });
    let st = (await services.call('review.brush', { runId: run.id, target: 'brain', mode: 'erase', center: [64, 64, 2], radiusMm: 5 })) as ReviewState;
    expect(st.brainEdited).toBe(true);
    const final = await services.review.finalLabels(run.id);
    expect(final!.brain[64 + 128 * (64 + 128 * 2)]).toBe(0);
    st = (await services.call('review.discard', { runId: run.id })) as ReviewState;
    expect(st.started).toBe(false);
    await expect(services.call('review.undo', { runId: run.id })).rejects.toThrow(/nothing to undo/);
    await services.close();
  });
});
