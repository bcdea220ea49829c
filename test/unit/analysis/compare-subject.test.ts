import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Services } from '../../../src/main/services/index';
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
  it('warns for different patients and for separate frames of reference, not for one frame', async () => {
    const services = await Services.open({ dataDir: tmp('ict-cmp-subject-'), mode: 'cli' });
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
      const runIds: string[] = [];
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
  }, 120_000);
});
