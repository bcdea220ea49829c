import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services } from '../../../src/main/services/index';
import { runCliCaptured } from '../run-cli';
import { writeNifti } from '../../../src/main/core/io/nifti';
import { projectRoot } from '../../../src/main/paths';
import { PINNED_REFERENCE_FILE, stampHealthyReferences } from '../../../src/main/core/pipeline/pinned-reference';
import { parseHealthyReferenceSet } from '../../../src/main/core/scoring/threshold';
import { simpleHead } from '../preprocess/simple-head';
import type { ComparisonResult, RunInfo, RunReferenceInfo, ThresholdOutcome, JobInfo } from '../../../src/shared/types';
import { DEFAULT_READING_SETTINGS, DEFAULT_Z_CUT } from '../../../src/shared/analysis';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const SHIPPED_LINEAR = join(projectRoot(), 'models', 'classical', 'linear.reference.json');

/** A recalibration that moves every healthy quantile of the linear fill up by a fifth. */
function recalibrated(scale: number): unknown {
  const json = JSON.parse(readFileSync(SHIPPED_LINEAR, 'utf8')) as { metrics: Record<string, { mean: number; std: number; quantiles: { value: number[] }; createdAt?: string }> };
  for (const ref of Object.values(json.metrics)) {
    ref.mean *= scale;
    ref.std *= scale;
    ref.quantiles.value = ref.quantiles.value.map((v) => v * scale);
    ref.createdAt = '2027-01-15T10:00:00.000Z';
  }
  return json;
}

describe('the healthy reference a run keeps', () => {
  it('stamps a reference by its content, not by how its JSON was written', () => {
    const shipped = JSON.parse(readFileSync(SHIPPED_LINEAR, 'utf8')) as { metrics: Record<string, Record<string, unknown>> };
    const reordered = { metrics: Object.fromEntries(Object.entries(shipped.metrics).reverse().map(([k, v]) => [k, Object.fromEntries(Object.entries(v).reverse())])) };
    const a = stampHealthyReferences(parseHealthyReferenceSet(shipped))!;
    const b = stampHealthyReferences(parseHealthyReferenceSet(reordered))!;
    expect(b.sha256).toBe(a.sha256);
    expect(a).toMatchObject({ entries: 6, scans: 8, calibratedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(stampHealthyReferences(parseHealthyReferenceSet(recalibrated(1.2)))!.sha256).not.toBe(a.sha256);
    expect(stampHealthyReferences({ metrics: {} })).toBeNull();
  });

  let modelsDir: string;
  const previousModelsDir = process.env.INPAINT_CT_MODELS_DIR;
  beforeEach(() => {
    // A models folder of the test's own, so the test can recalibrate the linear fill.
    modelsDir = tmp('ict-models-');
    mkdirSync(join(modelsDir, 'classical'));
    copyFileSync(SHIPPED_LINEAR, join(modelsDir, 'classical', 'linear.reference.json'));
    process.env.INPAINT_CT_MODELS_DIR = modelsDir;
  });
  afterEach(() => {
    if (previousModelsDir === undefined) delete process.env.INPAINT_CT_MODELS_DIR;
    else process.env.INPAINT_CT_MODELS_DIR = previousModelsDir;
  });

  /** The library opened again (as after a restart) for `body`, and closed after it whatever happens. */
  async function withLibraryReopened(dataDir: string, body: (services: Services) => Promise<void>): Promise<void> {
    const services = await Services.open({ dataDir, mode: 'cli' });
    try {
      await body(services);
    } finally {
      await services.close();
    }
  }

  async function analysedRun(dataDir: string): Promise<{ services: Services; run: RunInfo }> {
    const services = await Services.open({ dataDir, mode: 'cli' });
    const file = join(tmp('ict-head-'), 'head.nii.gz');
    await writeNifti(simpleHead([128, 128, 4], [1.8, 1.8, 5], 7, { subdural: true }).volume, file);
    const imported = await services.jobs.waitFor(((await services.call('imports.start', { paths: [file] })) as { jobId: string }).jobId);
    const seriesId = (imported.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
    const job = (await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })) as { jobId: string }).jobId)) as JobInfo;
    expect(job.error).toBeNull();
    const [run] = (await services.call('analysis.runs', { seriesId })) as RunInfo[];
    return { services, run };
  }

  it('keeps reading a finished run at the cut it was analysed with after the model is recalibrated, until the reader adopts the new reference', async () => {
    const dataDir = tmp('ict-pin-');
    const first = await analysedRun(dataDir);
    let services = first.services;
    const run = first.run;
    expect(run.reading.strategy).toEqual({ kind: 'zscore', z: DEFAULT_Z_CUT });
    const before = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    expect(before.reference.kept).toBe(true);
    expect(before.reference.readAgainst?.sha256).toBe(before.reference.current?.sha256);
    expect((run.provenance as { healthyReference?: { sha256: string } }).healthyReference?.sha256).toBe(before.reference.readAgainst?.sha256);
    await services.close();

    // The model's reference is recalibrated (an app update, or `npm run calibrate`).
    writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), JSON.stringify(recalibrated(1.2)));
    services = await Services.open({ dataDir, mode: 'cli' });
    const reopened = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    expect(reopened.threshold.value).toBe(before.threshold.value);
    expect(reopened.lesionVolumeMl).toBe(before.lesionVolumeMl);
    expect(reopened.reference.readAgainst?.sha256).toBe(before.reference.readAgainst?.sha256);
    expect(reopened.reference.current?.sha256).not.toBe(before.reference.readAgainst?.sha256);
    expect(reopened.reference.current?.calibratedAt).toBe('2027-01-15T10:00:00.000Z');

    // Adopting it re-reads the saved reading against the new reference, and that survives a restart.
    const adopted = (await services.call('analysis.adoptCurrentReference', { runId: run.id })) as RunInfo;
    const after = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    expect(after.threshold.value).toBeCloseTo(before.threshold.value * 1.2, 6);
    expect(after.reference.readAgainst?.sha256).toBe(reopened.reference.current?.sha256);
    expect(after.reference.adoptedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(adopted.summary.lesionVolumeMl).toBe(after.lesionVolumeMl);
    const runJson = JSON.parse(readFileSync(join(dataDir, 'runs', run.id, 'run.json'), 'utf8')) as { threshold: { value: number } };
    expect(runJson.threshold.value).toBeCloseTo(after.threshold.value, 9);
    await expect(services.call('analysis.adoptCurrentReference', { runId: run.id })).rejects.toThrow(/already read against the current/);
    await services.close();

    services = await Services.open({ dataDir, mode: 'cli' });
    const restarted = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    expect(restarted.threshold.value).toBe(after.threshold.value);
    await services.close();
  });

  it('refuses to adopt a reference that cannot serve the saved z cut, and changes nothing', async () => {
    const dataDir = tmp('ict-pin-');
    const { services, run } = await analysedRun(dataDir);
    const before = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    const runDir = join(dataDir, 'runs', run.id);
    const files = [PINNED_REFERENCE_FILE, 'run.json', 'lesions.json'].map((f) => readFileSync(join(runDir, f), 'utf8'));
    // Recalibrated for the squared metric only: nothing for the run's absolute/max reading.
    const partial = recalibrated(1.2) as { metrics: Record<string, unknown> };
    partial.metrics = { 'squared/max': partial.metrics['squared/max'] };
    writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), JSON.stringify(partial));
    await expect(services.call('analysis.adoptCurrentReference', { runId: run.id })).rejects.toThrow(/healthy statistics for the absolute metric with max fusion/);
    expect([PINNED_REFERENCE_FILE, 'run.json', 'lesions.json'].map((f) => readFileSync(join(runDir, f), 'utf8'))).toEqual(files);
    const still = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    expect(still.threshold.value).toBe(before.threshold.value);
    // Noticed without a restart: a calibration may finish while the app is open.
    expect(still.reference.current?.entries).toBe(1);
    expect(still.reference.current?.sha256).not.toBe(still.reference.readAgainst?.sha256);
    await services.close();
  });

  it('reads a run analysed before runs kept a reference against the current one, says so, and can keep a copy', async () => {
    const dataDir = tmp('ict-pin-');
    const { services, run } = await analysedRun(dataDir);
    await services.close();
    const pinnedPath = join(dataDir, 'runs', run.id, PINNED_REFERENCE_FILE);
    rmSync(pinnedPath);
    await withLibraryReopened(dataDir, async (services) => {
      const old = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
      expect(old.reference.kept).toBe(false);
      expect(old.reference.readAgainst?.sha256).toBe(old.reference.current?.sha256);
      await services.call('analysis.adoptCurrentReference', { runId: run.id });
      expect(existsSync(pinnedPath)).toBe(true);
      const kept = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
      expect(kept.reference.kept).toBe(true);
      expect(kept.threshold.value).toBe(old.threshold.value);
    });
  });

  it('still reads a run with its own reference when its inpainter has none any more', async () => {
    const dataDir = tmp('ict-pin-');
    const { services, run } = await analysedRun(dataDir);
    const zReading = { ...DEFAULT_READING_SETTINGS, extent: 'threshold', strategy: { kind: 'zscore', z: 3 } };
    const before = (await services.call('analysis.threshold', { runId: run.id, reading: zReading })) as ThresholdOutcome;
    await services.close();
    rmSync(join(modelsDir, 'classical', 'linear.reference.json'));
    await withLibraryReopened(dataDir, async (services) => {
      const after = (await services.call('analysis.threshold', { runId: run.id, reading: zReading })) as ThresholdOutcome;
      expect(after.threshold.value).toBe(before.threshold.value);
      expect(after.reference.current).toBeNull();
      await expect(services.call('analysis.adoptCurrentReference', { runId: run.id })).rejects.toThrow(/healthy statistics/);
    });
  });

  it('inpaint-ct threshold reads a run folder against its own reference, says when the model has a newer one, and adopts it when asked', async () => {
    const root = tmp('ict-pin-cli-');
    const input = join(root, 'head.nii.gz');
    await writeNifti(simpleHead([128, 128, 4], [1.8, 1.8, 5], 7, { subdural: true }).volume, input);
    const out = join(root, 'run');
    const cli = runCliCaptured;
    const analysed = await cli(['analyze', input, '--out', out, '--inpainter', 'linear', '--json']);
    expect(analysed.code, analysed.stderr).toBe(0);
    expect(existsSync(join(out, PINNED_REFERENCE_FILE))).toBe(true);
    const first = await cli(['threshold', out, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const cut = (JSON.parse(first.stdout) as { threshold: { value: number } }).threshold.value;

    writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), JSON.stringify(recalibrated(1.2)));
    const kept = await cli(['threshold', out]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/healthy reference has changed since \(now 8 healthy scans, calibrated 2027-01-15/);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).threshold.value).toBe(cut);

    const adopted = await cli(['threshold', out, '--adopt-current-reference', '--json']);
    expect(adopted.code, adopted.stderr).toBe(0);
    const result = JSON.parse(adopted.stdout) as { threshold: { value: number }; reference: { adoptedAt: string | null } };
    expect(result.threshold.value).toBeCloseTo(cut * 1.2, 6);
    expect(result.reference.adoptedAt).not.toBeNull();
    const again = await cli(['threshold', out, '--adopt-current-reference']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already read against the current healthy reference/);
  });

  it('warns when two timepoints of one inpainter were read against different references, until both read the same', async () => {
    const services = await Services.open({ dataDir: tmp('ict-pin-cmp-'), mode: 'cli' });
    try {
      const synth = await services.jobs.waitFor(((await services.call('synth.start', { seed: 7, lesions: ['iph'], timepoints: 2, intervalDays: 2, slices: 6 })) as { jobId: string }).jobId);
      const [seriesA, seriesB] = (synth.result as { studies: { series: { id: string }[] }[] }).studies.flatMap((st) => st.series.map((x) => x.id));
      const analyse = async (seriesId: string) => {
        const job = await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })) as { jobId: string }).jobId);
        expect(job.error).toBeNull();
        return ((await services.call('analysis.runs', { seriesId })) as RunInfo[])[0];
      };
      const runA = await analyse(seriesA);
      // The first timepoint was read before a recalibration, the second after it.
      writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), JSON.stringify(recalibrated(1.2)));
      const runB = await analyse(seriesB);
      const mixed = (await services.call('compare.runs', { runA: runA.id, runB: runB.id })) as ComparisonResult;
      expect(mixed.referenceNote).toMatch(/different healthy references of the same inpainter \(A: 8 healthy scans, calibrated [\d-]+; B: 8 healthy scans, calibrated 2027-01-15\)/);

      expect(mixed.readingNote).toBeNull();

      await services.call('analysis.adoptCurrentReference', { runId: runA.id });
      const same = (await services.call('compare.runs', { runA: runA.id, runB: runB.id })) as ComparisonResult;
      expect(same.referenceNote).toBeNull();

      // A reading saved on one side only: the comparison says which settings differ.
      await services.call('analysis.saveReading', { runId: runB.id, reading: { ...runB.reading, strategy: { kind: 'zscore', z: 4 }, minSizeMl: 0.1 }, asDefault: false });
      const reread = (await services.call('compare.runs', { runA: runA.id, runB: runB.id })) as ComparisonResult;
      expect(reread.readingNote).toMatch(/different settings \(A \/ B: cut z ≥ 3\.25 \/ z ≥ 4; minimum lesion 0\.05 mL \/ 0\.1 mL\)/);
    } finally {
      await services.close();
    }
  });

  it('a damaged copy keeps absolute cuts readable, refuses z cuts with the reason, and adopting the current reference repairs it', async () => {
    const dataDir = tmp('ict-pin-');
    const { services, run } = await analysedRun(dataDir);
    const before = (await services.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
    await services.close();
    writeFileSync(join(dataDir, 'runs', run.id, PINNED_REFERENCE_FILE), '{"format": "inpaint-ct-healthy-ref');
    await withLibraryReopened(dataDir, async (reopened) => {
      const absolute = (await reopened.call('analysis.threshold', { runId: run.id, reading: { ...run.reading, strategy: { kind: 'absolute', value: 0.3 } } })) as ThresholdOutcome;
      expect(absolute.threshold.value).toBe(0.3);
      await expect(reopened.call('analysis.threshold', { runId: run.id, reading: run.reading })).rejects.toThrow(/z cuts cannot be read: The healthy reference kept with the run .* is damaged.* Read the run against the current reference to replace it/);
      const info = await reopened.call('analysis.reference', { runId: run.id });
      expect(info).toMatchObject({ kept: true, readAgainst: null, unreadable: expect.stringMatching(/damaged/) });
      await reopened.call('analysis.adoptCurrentReference', { runId: run.id });
      const repaired = (await reopened.call('analysis.threshold', { runId: run.id, reading: run.reading })) as ThresholdOutcome;
      expect(repaired.threshold.value).toBe(before.threshold.value);
      expect(repaired.reference.unreadable).toBeNull();
    });
  });

  it("an older run whose inpainter's reference cannot be loaded opens at absolute cuts and refuses z cuts with the reason", async () => {
    const dataDir = tmp('ict-pin-');
    const { services, run } = await analysedRun(dataDir);
    await services.close();
    rmSync(join(dataDir, 'runs', run.id, PINNED_REFERENCE_FILE));
    writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), '{"metrics": {');
    await withLibraryReopened(dataDir, async (reopened) => {
      const absolute = (await reopened.call('analysis.threshold', { runId: run.id, reading: { ...run.reading, strategy: { kind: 'absolute', value: 0.3 } } })) as ThresholdOutcome;
      expect(absolute.reference).toMatchObject({ kept: false, current: null, unreadable: expect.stringMatching(/analysed before runs kept their healthy reference/) });
      await expect(reopened.call('analysis.threshold', { runId: run.id, reading: run.reading })).rejects.toThrow(
        /z cuts cannot be read: .*linear inpainting .* is damaged: it is not valid JSON.*Use an absolute or percentile cut/,
      );
    });
  });

  it('an adopted reference is not undone by loads of the run that were under way (the viewer asks for several maps at once)', async () => {
    const dataDir = tmp('ict-pin-');
    const { services, run } = await analysedRun(dataDir);
    await services.close();
    writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), JSON.stringify(recalibrated(1.2)));
    await withLibraryReopened(dataDir, async (reopened) => {
      // What opening a run in the viewer asks for at once, then the reader adopts as soon as the note shows.
      const maps = ['score', 'healthy', 'difference', 'brain'].map((layer) => reopened.readBinary(`runs/${run.id}/${layer}`).catch(() => null));
      const info = await reopened.call('analysis.reference', { runId: run.id });
      expect(info).toMatchObject({ kept: true, adoptedAt: null });
      await reopened.call('analysis.adoptCurrentReference', { runId: run.id });
      await Promise.all(maps);
      const after = (await reopened.call('analysis.reference', { runId: run.id })) as RunReferenceInfo;
      expect(after.adoptedAt).not.toBeNull();
      expect(after.readAgainst?.sha256).toBe(after.current?.sha256);
    });
  });
});
