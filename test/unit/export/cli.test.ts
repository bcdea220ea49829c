import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliJson } from '../run-cli';
import { Services } from '../../../src/main/services/index';
import { readDicomSegMask } from '../../../src/main/core/export/dicom-seg';
import { loadExportSource } from '../../../src/main/core/report/case';
import { writeDicomCtSeries } from '../../../src/main/core/io/dicom-write';
import type { JobInfo } from '../../../src/shared/types';
import { analysedDicomHead, type HeadRun } from '../report/fixture';
import { sampleReview } from '../report/helpers';
import { simpleHead } from '../preprocess/simple-head';

const out = mkdtempSync(join(tmpdir(), 'inpaint-ct-export-cli-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  if (head) rmSync(head.root, { recursive: true, force: true });
});

const cli = runCliJson;

let head: HeadRun;
beforeAll(async () => {
  head = await analysedDicomHead();
}, 120_000);

describe('inpaint-ct report and export on an analysis folder', () => {
  it('writes the PDF and every export format; --source brings the patient and the DICOM references', async () => {
    const lesions = JSON.parse(readFileSync(join(head.dir, 'lesions.json'), 'utf8')).lesions.length;
    const pdf = await cli(['report', head.dir, '--out', join(out, 'r.pdf')]);
    expect(pdf.code, pdf.err).toBe(0);
    expect(pdf.json).toMatchObject({ from: 'folder', lesions, keySlices: lesions });
    expect(readFileSync(join(out, 'r.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.err).toMatch(/does not record the patient/);

    const json = await cli(['export', head.dir, '--format', 'json', '--out', join(out, 't.json'), '--source', head.dicomDir]);
    expect(json.code, json.err).toBe(0);
    const table = JSON.parse(readFileSync(join(out, 't.json'), 'utf8'));
    expect(table.case).toMatchObject({ patientId: 'PAT-0042', seriesInstanceUid: head.volume.meta.seriesInstanceUid });
    expect(table.lesions).toHaveLength(lesions);

    const seg = await cli(['export', head.dir, '--format', 'seg', '--out', join(out, 's.dcm'), '--source', head.dicomDir]);
    expect(seg.code, seg.err).toBe(0);
    expect(seg.json.details).toMatchObject({ referencesSource: true, segments: lesions, studyInstanceUid: head.volume.meta.studyInstanceUid });
    const single = await cli(['export', head.dir, '--format', 'seg', '--segments', 'single', '--out', join(out, 's1.dcm')]);
    expect(single.json.details).toMatchObject({ referencesSource: false, segments: 1 });

    const nifti = await cli(['export', head.dir, '--format', 'nifti', '--labels', '--out', join(out, 'labels.nii.gz')]);
    expect(nifti.json.details).toMatchObject({ content: 'labels' });
    const csv = await cli(['export', head.dir, '--format', 'csv', '--out', join(out, 't.csv'), '--deidentify', '--source', head.dicomDir]);
    expect(csv.json.deidentified).toBe(true);
    const text = readFileSync(join(out, 't.csv'), 'utf8');
    expect(text.split('\r\n').filter(Boolean)).toHaveLength(lesions + 1);
    expect(text).not.toContain('PAT-0042');
    expect(text).toMatch(/\r\nANON-[0-9A-F]{8},/);
  });

  it('applies a review file to the masks and tables', async () => {
    const source = await loadExportSource(head.dir);
    const s = sampleReview(source);
    writeFileSync(join(out, 'review.json'), JSON.stringify({ edits: s.review.edits }));
    const r = await cli(['export', head.dir, '--format', 'seg', '--review', join(out, 'review.json'), '--out', join(out, 'reviewed.dcm')]);
    expect(r.code, r.err).toBe(0);
    expect(r.json).toMatchObject({ reviewed: true, rejected: 1 });
    const back = readDicomSegMask(readFileSync(join(out, 'reviewed.dcm')), source.ct);
    expect(back.segments.some((g) => g.label.startsWith(`Lesion ${s.rejected} `) || g.label === `Lesion ${s.rejected}`)).toBe(false);
    for (let p = 0; p < source.labels.length; p++) if (source.labels[p] === s.rejected) expect(back.mask[p]).toBe(0);
  });

  it('says what is wrong with bad arguments', async () => {
    const noOut = await cli(['report', head.dir]);
    expect(noOut.code).toBe(2);
    expect(noOut.json.error.message).toMatch(/--out <path> is required/);
    expect((await cli(['export', head.dir, '--format', 'png', '--out', 'x'])).json.error.message).toMatch(/--format must be one of pdf, seg, nifti, csv, json; got "png"/);
    expect((await cli(['export', head.dir, '--format', 'csv', '--segments', 'single', '--out', 'x'])).json.error.message).toMatch(/--segments applies to --format seg/);
    const nowhere = await cli(['export', 'no-such-run', '--format', 'csv', '--out', 'x', '--data-dir', join(out, 'empty-library')]);
    expect(nowhere.json.error).toMatchObject({ code: 'NOT_FOUND' });
    const other = simpleHead([64, 64, 5], [3, 3, 5]);
    await writeDicomCtSeries(other.volume, join(out, 'other-dicom'));
    const mismatch = await cli(['export', head.dir, '--format', 'csv', '--out', join(out, 'x.csv'), '--source', join(out, 'other-dicom')]);
    expect(mismatch.json.error).toMatchObject({ code: 'GEOMETRY_MISMATCH' });
  });
});

describe('inpaint-ct report and export on library ids', () => {
  it('resolves a run id, a series id and a study id to the run folder and the series metadata', async () => {
    const dataDir = join(out, 'library');
    const services = await Services.open({ dataDir, mode: 'cli' });
    let seriesId: string;
    let studyId: string;
    let runId: string;
    try {
      const imp = (await services.call('imports.start', { paths: [head.dicomDir] })) as { jobId: string };
      const imported = (await services.jobs.waitFor(imp.jobId)) as JobInfo;
      expect(imported.status).toBe('succeeded');
      const study = (imported.result as { studies: { id: string; series: { id: string }[] }[] }).studies[0];
      studyId = study.id;
      seriesId = study.series[0].id;
      const { jobId } = (await services.call('analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' }, reading: { strategy: { kind: 'absolute', value: 0.22 } } })) as { jobId: string };
      const job = (await services.jobs.waitFor(jobId)) as JobInfo;
      expect(job.status, job.error?.message).toBe('succeeded');
      runId = services.analysis.listRuns(seriesId)[0].id;
    } finally {
      await services.close();
    }
    const bySeries = await cli(['export', seriesId, '--format', 'json', '--out', join(out, 'lib.json'), '--data-dir', dataDir]);
    expect(bySeries.code, bySeries.err).toBe(0);
    expect(bySeries.json).toMatchObject({ from: 'library', runId });
    expect(JSON.parse(readFileSync(join(out, 'lib.json'), 'utf8')).case).toMatchObject({ patientId: 'PAT-0042', studyInstanceUid: head.volume.meta.studyInstanceUid });
    const byRun = await cli(['report', runId, '--out', join(out, 'lib.pdf'), '--max-key-slices', '2', '--data-dir', dataDir]);
    expect(byRun.code, byRun.err).toBe(0);
    expect(byRun.json.keySlices).toBeLessThanOrEqual(2);
    const byStudy = await cli(['export', studyId, '--format', 'seg', '--out', join(out, 'lib.dcm'), '--data-dir', dataDir]);
    expect(byStudy.code, byStudy.err).toBe(0);
    expect(byStudy.json.details.referencesSource).toBe(true);
    const unknown = await cli(['export', 'f00', '--format', 'csv', '--out', 'x', '--data-dir', dataDir]);
    expect(unknown.json.error.message).toMatch(/neither an analysis folder nor a run, series or study id/);
  });
});
