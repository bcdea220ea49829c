import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Services } from '../../../src/main/services/index';
import { runCliCaptured } from '../run-cli';
import { writeDicomCtSeries } from '../../../src/main/core/io/dicom-write';
import { writeNifti } from '../../../src/main/core/io/nifti';
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
describe('comparing two analyses: who and which scans, and inpaint-ct compare', () => {
  it('warns for different patients and for separate frames of reference, not for one frame; so does inpaint-ct compare, and inpaint-ct list gives the ids', async () => {
    const dataDir = tmp('ict-cmp-subject-');
    const services = await Services.open({ dataDir, mode: 'cli' });
    const runIds: string[] = [];
    const dicomFolders: string[] = [];
    try {
      const frame = newDicomUid();
      const scans = [
        { patientId: 'PAT-1', frame, seed: 1 },
        { patientId: 'PAT-1', frame, seed: 2 },
        { patientId: 'PAT-1', frame: newDicomUid(), seed: 3 },
        { patientId: 'PAT-2', frame: newDicomUid(), seed: 4 },
      ];
      for (const [i, scan] of scans.entries()) {
        const { volume } = simpleHead([64, 64, 6], [3, 3, 5], scan.seed, { subdural: true });
        volume.meta = { ...volume.meta, patientId: scan.patientId, patientName: `TEST^${scan.patientId}`, modality: 'CT', studyDate: `2026010${i + 1}` };
        const dir = tmp('ict-cmp-subject-dicom-');
        await writeDicomCtSeries(volume, dir, { studyInstanceUid: newDicomUid(), seriesInstanceUid: newDicomUid(), frameOfReferenceUid: scan.frame });
        dicomFolders.push(dir);
      }

      for (const dir of dicomFolders) {
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
    const cli = (args: string[]) => runCliCaptured([...args, '--data-dir', dataDir]);
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
    // A library run against an analysis folder of the same scan read the same way: no change.
    const folder = join(tmp('ict-cmp-mixed-'), 'run');
    expect((await runCliCaptured(['analyze', dicomFolders[0], '--out', folder, '--inpainter', 'linear'])).code).toBe(0);
    const mixed = JSON.parse((await cli(['compare', runIds[0], folder, '--json'])).stdout) as { comparison: ComparisonResult };
    expect(mixed.comparison.rows.length).toBeGreaterThan(0);
    expect(mixed.comparison.totalMlB).toBeCloseTo(mixed.comparison.totalMlA, 9);
    expect(mixed.comparison.rows.every((r) => r.labelA !== null && r.labelB !== null && r.changeMl === 0)).toBe(true);
    // inpaint-ct list names every run with the id compare, report and export take.
    const listed = await cli(['list']);
    expect(listed.code, listed.stderr).toBe(0);
    for (const id of runIds) expect(listed.stdout).toMatch(new RegExp(`^    Run ${id}  \\S`, 'm'));
    expect(listed.stdout.match(/^Study /gm)).toHaveLength(4);
    expect(listed.stdout).toContain('TEST^PAT-2 PAT-2 · 2026-01-04');
    const listedJson = JSON.parse((await cli(['list', '--json'])).stdout) as { studies: { series: { runs: { id: string; provenance?: unknown }[] }[] }[] };
    const jsonRuns = listedJson.studies.flatMap((st) => st.series.flatMap((se) => se.runs));
    expect(jsonRuns.map((r) => r.id).sort()).toEqual([...runIds].sort());
    expect(jsonRuns.every((r) => r.provenance === undefined)).toBe(true);
    const noLibrary = await runCliCaptured(['list', '--data-dir', tmp('ict-cmp-empty-')]);
    expect(noLibrary.code).not.toBe(0);
    expect(noLibrary.stderr).toMatch(/There is no library at .*Import a series first/);
    // Bad input: a clear sentence and exit code 2, nothing else.
    const one = await cli(['compare', runIds[0]]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/Name two analyses to compare/);
    const unknown = await cli(['compare', runIds[0], 'no-such-run']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/"no-such-run" is neither an analysis folder nor a run, series or study id in the library/);
  }, 120_000);

  it('inpaint-ct compare reads two analysis folders from their saved readings, with the interval unknown', async () => {
    const folders: string[] = [];
    for (const seed of [11, 12]) {
      const { volume } = simpleHead([64, 64, 6], [3, 3, 5], seed, { subdural: true });
      const input = join(tmp('ict-cmp-folder-in-'), 'head.nii.gz');
      await writeNifti(volume, input);
      const out = join(tmp('ict-cmp-folder-'), 'run');
      const analysed = await runCliCaptured(['analyze', input, '--out', out, '--inpainter', 'linear', '--threshold', '0.25', '--json']);
      expect(analysed.code, analysed.stderr).toBe(0);
      folders.push(out);
    }
    const printed = await runCliCaptured(['compare', folders[0], folders[1], '--data-dir', tmp('ict-cmp-no-library-')]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('Interval: unknown (study dates missing)');
    expect(printed.stdout).toContain('Both series share one voxel grid');
    const json = JSON.parse((await runCliCaptured(['compare', folders[0], folders[1], '--json', '--data-dir', tmp('ict-cmp-no-library-')])).stdout) as { comparison: ComparisonResult };
    // The totals are the folders' own lesion tables at their saved readings.
    for (const [i, total] of [json.comparison.totalMlA, json.comparison.totalMlB].entries()) {
      const table = JSON.parse(readFileSync(join(folders[i], 'lesions.json'), 'utf8')) as { lesions: { volumeMl: number }[] };
      expect(table.lesions.length).toBeGreaterThan(0);
      expect(total).toBeCloseTo(table.lesions.reduce((a, l) => a + l.volumeMl, 0), 9);
    }
    expect(json.comparison.subjectNote).toBeNull();
    expect(json.comparison.readingNote).toBeNull();
    // The same folder twice, or a name that is neither a folder nor in a library, is refused.
    expect((await runCliCaptured(['compare', folders[0], folders[0]])).stderr).toMatch(/Choose two different analyses/);
    const missing = await runCliCaptured(['compare', folders[0], 'no-such-run', '--data-dir', tmp('ict-cmp-no-library-')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/"no-such-run" is not an analysis folder, and there is no library at/);
  }, 120_000);
});
