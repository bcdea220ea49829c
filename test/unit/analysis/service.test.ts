import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services } from '../../../src/main/services/index';
import { writeNifti } from '../../../src/main/core/io/nifti';
import { simpleHead } from '../preprocess/simple-head';
import type { RunInfo, ThresholdOutcome, JobInfo } from '../../../src/shared/types';
import { DEFAULT_READING_SETTINGS, DEFAULT_Z_CUT } from '../../../src/shared/analysis';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

async function importHead(services: Services): Promise<string> {
  const file = join(tmp('ict-head-'), 'head.nii.gz');
  const head = simpleHead([128, 128, 4], [1.8, 1.8, 5], 7, { subdural: true });
  await writeNifti(head.volume, file);
  const { jobId } = (await services.call('imports.start', { paths: [file] })) as { jobId: string };
  const job = await services.jobs.waitFor(jobId);
  expect(job.status).toBe('succeeded');
  return (job.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
}

describe('analysis runs through the services', () => {
  it('runs an analysis job, keeps the run with provenance, thresholds live and persists a reading', async () => {
    const dataDir = tmp('ict-an-');
    let services = await Services.open({ dataDir, mode: 'cli' });
    const seriesId = await importHead(services);
    const { jobId } = (await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })) as { jobId: string };
    const stages = new Set<string>();
    services.events.on('job.progress', (j) => j.id === jobId && stages.add(j.stage));
    const job = (await services.jobs.waitFor(jobId)) as JobInfo;
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect([...stages].some((s) => s.startsWith('Inpainting'))).toBe(true);

    const runs = (await services.call('analysis.runs', { seriesId })) as RunInfo[];
    expect(runs).toHaveLength(1);
    const run = runs[0];
    expect(run.inpainter).toEqual({ kind: 'classical', method: 'linear' });
    expect(run.provenance).toMatchObject({ appVersion: expect.any(String), seed: 0, sizesPx: [8, 16, 32, 64] });
    // A classical inpainter's residual is too noisy for half-contrast outlines: its lesions start at
    // the threshold; the cut is the default z against the linear fill's own healthy reference.
    expect(run.reading).toEqual({ ...DEFAULT_READING_SETTINGS, extent: 'threshold', strategy: { kind: 'zscore', z: DEFAULT_Z_CUT } });

    const strict = (await services.call('analysis.threshold', { runId: run.id, reading: { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'absolute', value: 0.6 } } })) as ThresholdOutcome;
    const loose = (await services.call('analysis.threshold', { runId: run.id, reading: { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'absolute', value: 0.15 } } })) as ThresholdOutcome;
    expect(loose.lesionVolumeMl).toBeGreaterThan(strict.lesionVolumeMl);
    expect(loose.histogram.counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const indices = new Uint32Array(Buffer.from(loose.labelIndices, 'base64').buffer.slice(0));
    expect(indices.length).toBe(loose.lesions.reduce((a, l) => a + l.voxelCount, 0));

    const reading = { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'absolute' as const, value: 0.15 }, minSizeMl: 0.1 };
    await services.call('analysis.saveReading', { runId: run.id, reading, asDefault: true });
    await services.close();

    // A restart reopens the run exactly as left.
    services = await Services.open({ dataDir, mode: 'cli' });
    expect(await services.call('analysis.readingFor', { seriesId })).toEqual(reading);
    const [again] = (await services.call('analysis.runs', { seriesId })) as RunInfo[];
    expect(again.reading).toEqual(reading);
    const score = await services.readBinary(`runs/${run.id}/score`);
    expect(score.bytes.byteLength).toBe(128 * 128 * 4 * 4);
    await services.close();
  });

  // test-tiny is the one installed model without a healthy reference (as a user's uncalibrated model would be).
  const uncalibrated = { kind: 'diffusion', modelId: 'test-tiny', preset: 'fast', device: 'cpu' } as const;

  it('refuses a z-score reading asked for without a healthy reference before starting work', async () => {
    const services = await Services.open({ dataDir: tmp('ict-an-'), mode: 'cli' });
    const seriesId = await importHead(services);
    await expect(services.call('analysis.start', { seriesId, inpainter: uncalibrated, reading: { ...DEFAULT_READING_SETTINGS, strategy: { kind: 'zscore', z: 3 } } })).rejects.toThrow(
      /healthy statistics/,
    );
    await services.close();
  });

  it('starts an uncalibrated model at the absolute cut, also when the series kept a z reading from another method', async () => {
    const services = await Services.open({ dataDir: tmp('ict-an-'), mode: 'cli' });
    const seriesId = await importHead(services);
    const first = await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'nearest' } })) as { jobId: string }).jobId);
    expect(first.error).toBeNull();
    const [nearestRun] = (await services.call('analysis.runs', { seriesId })) as RunInfo[];
    expect(nearestRun.reading.strategy).toEqual({ kind: 'zscore', z: DEFAULT_Z_CUT });
    const kept = { ...nearestRun.reading, minSizeMl: 0.2 };
    await services.call('analysis.saveReading', { runId: nearestRun.id, reading: kept, asDefault: false });

    const second = await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: uncalibrated })) as { jobId: string }).jobId);
    expect(second.error).toBeNull();
    const tinyRun = ((await services.call('analysis.runs', { seriesId })) as RunInfo[]).find((r) => r.inpainter.kind === 'diffusion')!;
    // The reader's other choices carry over; only the cut it cannot read becomes the absolute one.
    expect(tinyRun.reading).toEqual({ ...kept, strategy: DEFAULT_READING_SETTINGS.strategy });
    await services.close();
  });
});
