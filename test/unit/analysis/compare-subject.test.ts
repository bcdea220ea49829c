import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Services } from '../../../src/main/services/index';
import { runCli } from '../../../src/main/cli/main';
import { writeDicomCtSeries } from '../../../src/main/core/io/dicom-write';
import { newDicomUid } from '../../../src/main/core/io/uid';
import type { ComparisonResult, RunInfo } from '../../../src/shared/types';
import type { ImportSummary } from '../../../src/main/services/library';
import { simpleHead } from '../preprocess/simple-head';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/**
 * compare.runs says when its change table does not follow one patient in one coordinate
 * system: two different patients, or one patient scanned in two DICOM frames of reference
 * (separate acquisitions the app does not register). Scans of one frame say nothing.
 */
describe('compare.runs names who and which scans it compares', () => {
  it('warns for different patients and for separate frames of reference, not for one frame; so does inpaint-ct compare', async () => {
    const dataDir = tmp('ict-cmp-subject-');
    const services = await Services.open({ dataDir, mode: 'cli' });
    const runIds: string[] = [];
    try {
      const frame = newDicomUid();
      const scans = [
        { patientId: 'PAT-1', frame, seed: 1 },
        { patientId: 'PAT-1', frame, seed: 2 },
        { patientId: 'PAT-1', frame: newDicomUid(), seed: 3 },
        { patientId: 'PAT-2', frame: newDicomUid(), seed: 4 },
      ];
      const folders = [];
      for (const [i, scan] of scans.entries()) {
        const { volume } = simpleHead([64, 64, 6], [3, 3, 5], scan.seed);
        volume.meta = { ...volume.meta, patientId: scan.patientId, patientName: `TEST^${scan.patientId}`, modality: 'CT', studyDate: `2026010${i + 1}` };
        const dir = tmp('ict-cmp-subject-dicom-');
        await writeDicomCtSeries(volume, dir, { studyInstanceUid: newDicomUid(), seriesInstanceUid: newDicomUid(), frameOfReferenceUid: scan.frame });
        folders.push(dir);
      }

      for (const dir of folders) {
        const imported = await services.jobs.waitFor(((await services.call('imports.start', { paths: [dir] })) as { jobId: string }).jobId);
        expect(imported.error).toBeNull();
        const seriesId = (imported.result as ImportSummary).studies[0].series[0].id;
        const job = await services.jobs.waitFor(((await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })) as { jobId: string }).jobId);
        expect(job.error).toBeNull();
        runIds.push(((await services.call('analysis.runs', { seriesId })) as RunInfo[])[0].id);
      }
      const compare = async (a: number, b: number) => (await services.call('compare.runs', { runA: runIds[a], runB: runIds[b] })) as ComparisonResult;

      // One patient, one frame of reference: the table follows that patient; nothing to say.
      expect((await compare(0, 1)).subjectNote).toBeNull();
      // One patient, a second acquisition: pairs assume the head lay in the same place.
      expect((await compare(0, 2)).subjectNote).toMatch(/^A and B are separate acquisitions \(different DICOM frames of reference\) and were not registered/);
      // Two patients: two cases, not a course, named by their IDs.
      expect((await compare(2, 3)).subjectNote).toBe('A and B belong to different patients (A: PAT-1; B: PAT-2): the changes below compare two cases, not one patient over time.');
    } finally {
      await services.close();
    }

    // The same comparison from the command line: the table, the interval and the warning.
    const cli = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli([...args, '--data-dir', dataDir], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
      return { code, stdout, stderr };
    };
    const printed = await cli(['compare', runIds[2], runIds[3]]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('Interval: 1 day\n');
    expect(printed.stdout).toContain('warning: A and B belong to different patients (A: PAT-1; B: PAT-2)');
    expect(printed.stdout).toMatch(/^Total\s+\d+\.\d\d\s+\d+\.\d\d\s+[+−±]\d+\.\d\d\s+/m);
    const json = await cli(['compare', runIds[0], runIds[1], '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { a: { runId: string }; b: { runId: string }; comparison: ComparisonResult };
    expect([result.a.runId, result.b.runId]).toEqual([runIds[0], runIds[1]]);
    expect(result.comparison.subjectNote).toBeNull();
    expect(result.comparison.intervalDays).toBe(1);
    // Reversed, the interval says which scan came first.
    expect((await cli(['compare', runIds[1], runIds[0]])).stdout).toContain('Interval: -1 day (B is the earlier scan)');
    // Bad input: a clear sentence and exit code 2, nothing else.
    const one = await cli(['compare', runIds[0]]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/Name two analyses to compare/);
    const unknown = await cli(['compare', runIds[0], 'no-such-run']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/"no-such-run" is neither an analysis folder nor a run, series or study id in the library/);
  }, 120_000);
});
