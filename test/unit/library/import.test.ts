import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services } from '../../../src/main/services/index';
import { writeDicomCtSeries } from '../../../src/main/core/io/dicom-write';
import type { Volume } from '../../../src/main/core/volume';
import type { JobInfo, StudySummary } from '../../../src/shared/types';
import type { ImportSummary } from '../../../src/main/services/library';
import { runCli } from '../../../src/main/cli/main';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

function headPhantom(nz: number, seed = 0): Volume {
  const nx = 48;
  const data = new Int16Array(nx * nx * nz);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < nx; j++)
      for (let i = 0; i < nx; i++) {
        const r2 = (i - 24) ** 2 + (j - 24) ** 2;
        data[i + nx * j + nx * nx * k] = r2 < 300 ? 35 + ((i + j + k + seed) % 7) : r2 < 420 ? 1200 : -1000;
      }
  return {
    data,
    dims: [nx, nx, nz],
    spacing: [0.6, 0.6, 5],
    origin: [-14, -14, -20],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    intensityUnit: 'HU',
    meta: { modality: 'CT', patientName: 'Doe^Jane', patientId: 'MRN-0042', patientBirthDate: '19600101', studyDate: '20260101', studyDescription: 'CT HEAD', seriesDescription: 'Axial 5mm' },
    warnings: [],
  };
}

async function importAndWait(services: Services, paths: string[], deidentify = false): Promise<JobInfo> {
  const { jobId } = (await services.call('imports.start', { paths, deidentify })) as { jobId: string };
  return services.jobs.waitFor(jobId);
}

describe('study library import', () => {
  it('imports a DICOM series with its HU values, geometry and a thumbnail, and re-import adds nothing', async () => {
    const dataDir = tmp('ict-lib-');
    const dicomDir = tmp('ict-dcm-');
    const vol = headPhantom(6);
    await writeDicomCtSeries(vol, dicomDir);
    const services = await Services.open({ dataDir, mode: 'cli' });
    const job = await importAndWait(services, [dicomDir]);
    expect(job.status).toBe('succeeded');
    const summary = job.result as ImportSummary;
    expect(summary.studies).toHaveLength(1);
    const seriesId = summary.studies[0].series[0].id;

    const studies = (await services.call('studies.list', {})) as StudySummary[];
    expect(studies).toHaveLength(1);
    expect(studies[0].patientName).toBe('Doe^Jane');
    const detail = (await services.call('series.get', { seriesId })) as { dims: number[]; spacing: number[]; origin: number[] };
    expect(detail.dims).toEqual([48, 48, 6]);
    expect(detail.spacing[0]).toBeCloseTo(0.6);
    expect(detail.spacing[2]).toBeCloseTo(5);
    const loaded = await services.library.loadVolume(seriesId);
    expect(Array.from(loaded.data)).toEqual(Array.from(vol.data));
    const thumb = await services.readBinary(`series/${seriesId}/thumbnail`);
    expect(thumb.contentType).toBe('image/png');
    expect(Array.from(thumb.bytes.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]);

    const again = await importAndWait(services, [dicomDir]);
    expect(again.status).toBe('succeeded');
    expect((again.result as ImportSummary).studies[0].series[0]).toMatchObject({ id: seriesId, alreadyInLibrary: true });
    // The job list says so, and the progress reads complete.
    expect(job.message).toBe('1 series added');
    expect(again.message).toBe('0 series added · 1 already in the library');
    expect(again.done).toBe(again.total);
    expect((await services.call('studies.list', {})) as StudySummary[]).toHaveLength(1);
    expect(readdirSync(join(dataDir, 'series'))).toEqual([seriesId]);
    await services.close();
  });

  it('reports bad files per file and imports the rest', async () => {
    const dataDir = tmp('ict-lib-');
    const dicomDir = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(4), dicomDir);
    const junk = join(tmp('ict-junk-'), 'notes.nii.gz');
    writeFileSync(junk, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    const services = await Services.open({ dataDir, mode: 'cli' });
    const job = await importAndWait(services, [dicomDir, junk, '/no/such/folder']);
    expect(job.status).toBe('succeeded');
    const summary = job.result as ImportSummary;
    expect(summary.studies).toHaveLength(1);
    expect(summary.errors.map((e) => e.code).sort()).toEqual(['FILE_NOT_FOUND', 'GZIP_CORRUPT']);
    // Succeeded, but not silently: the job's line names what was left out and why.
    expect(job.message).toMatch(/^1 series added · 2 files could not be read; the first: .*(notes\.nii\.gz|\/no\/such\/folder).*\.$/);
    await services.close();
  });

  it('fails an import that finds no image, with the reason, and leaves the library as it was', async () => {
    const dataDir = tmp('ict-lib-');
    const services = await Services.open({ dataDir, mode: 'cli' });
    const dicomDir = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(4), dicomDir);
    expect((await importAndWait(services, [dicomDir])).status).toBe('succeeded');

    const empty = tmp('ict-empty-');
    const onlyEmpty = await importAndWait(services, [empty]);
    expect(onlyEmpty.status).toBe('failed');
    expect(onlyEmpty.error?.message).toMatch(/^Nothing was imported\. The folder ".*ict-empty-.*" is empty/);

    const notes = join(tmp('ict-notes-'), 'notes.txt');
    writeFileSync(notes, 'not an image');
    const junk = join(tmp('ict-junk-'), 'scan.nii.gz');
    writeFileSync(junk, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    const bad = await importAndWait(services, [notes, junk, '/no/such/folder']);
    expect(bad.status).toBe('failed');
    expect(bad.error?.code).toBe('NO_IMAGES_FOUND');
    expect(bad.error?.message).toMatch(/^Nothing was imported\. 3 files could not be read; the first: .*(notes\.txt|scan\.nii\.gz|\/no\/such\/folder).*\.$/);

    const studies = (await services.call('studies.list', {})) as StudySummary[];
    expect(studies).toHaveLength(1);
    expect(studies[0].series).toHaveLength(1);
    // Nothing staged is left behind.
    expect(existsSync(join(dataDir, 'staging')) ? readdirSync(join(dataDir, 'staging')) : []).toEqual([]);
    await services.close();
  });

  it('says at import when a series can be shown but not analysed (an MR series in a CT library)', async () => {
    const services = await Services.open({ dataDir: tmp('ict-lib-'), mode: 'cli' });
    const ct = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(4), ct);
    const mrVolume = headPhantom(4, 3);
    mrVolume.meta = { ...mrVolume.meta, modality: 'MR', seriesDescription: 'T2 axial' };
    const mr = tmp('ict-mr-');
    await writeDicomCtSeries(mrVolume, mr);
    const job = await importAndWait(services, [ct, mr]);
    expect(job.status).toBe('succeeded');
    const series = (job.result as ImportSummary).studies.flatMap((s) => s.series);
    const warningsOf = (modality: string) => series.find((s) => s.modality === modality)!.warnings.filter((w) => w.code === 'NOT_CT');
    expect(warningsOf('CT')).toEqual([]);
    expect(warningsOf('MR')).toHaveLength(1);
    expect(warningsOf('MR')[0].message).toMatch(/^The analysis will refuse this series as it is: This series is an MR/);
    await services.close();
  });

  it('inpaint-ct import exits non-zero with the reason when nothing was imported', async () => {
    let err = '';
    const code = await runCli(['import', tmp('ict-empty-'), '--data-dir', tmp('ict-lib-')], { stdout: () => undefined, stderr: (s) => (err += s) });
    expect(code).not.toBe(0);
    expect(err).toMatch(/Nothing was imported\. The folder .* is empty/);
  });

  it('a cancelled import leaves the library exactly as it was', async () => {
    const dataDir = tmp('ict-lib-');
    const first = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(4, 1), first);
    const services = await Services.open({ dataDir, mode: 'cli' });
    expect((await importAndWait(services, [first])).status).toBe('succeeded');
    const before = (await services.call('studies.list', {})) as StudySummary[];

    const big = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(120, 2), big);
    const { jobId } = (await services.call('imports.start', { paths: [big], deidentify: false })) as { jobId: string };
    await new Promise<void>((resolve) => {
      const off = services.events.on('job.progress', (j) => {
        if (j.id === jobId && j.status === 'running') {
          off();
          resolve();
        }
      });
    });
    services.jobs.cancel(jobId);
    const job = await services.jobs.waitFor(jobId);
    expect(job.status).toBe('cancelled');
    expect(await services.call('studies.list', {})).toEqual(before);
    expect(readdirSync(join(dataDir, 'series'))).toHaveLength(1);
    expect(existsSync(join(dataDir, 'staging')) ? readdirSync(join(dataDir, 'staging')) : []).toEqual([]);
    await services.close();
  });

  it('de-identifies on request and records it on the series', async () => {
    const dataDir = tmp('ict-lib-');
    const dicomDir = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(4, 3), dicomDir);
    const services = await Services.open({ dataDir, mode: 'cli' });
    const job = await importAndWait(services, [dicomDir], true);
    expect(job.status).toBe('succeeded');
    const [study] = (await services.call('studies.list', {})) as StudySummary[];
    expect(study.patientName).toMatch(/^ANON-/);
    expect(study.patientIdentifier).not.toContain('MRN-0042');
    expect(study.studyDate).toBe('');
    expect(study.series[0].deidentified).toBe(true);
    const detail = await services.call('series.get', { seriesId: study.series[0].id });
    expect(JSON.stringify(detail)).not.toMatch(/Doe|MRN-0042|19600101/);
    await services.close();
  });

  it('removes files orphaned by a crash on the next start, keeping everything with a row', async () => {
    const dataDir = tmp('ict-lib-');
    const dicomDir = tmp('ict-dcm-');
    await writeDicomCtSeries(headPhantom(4, 4), dicomDir);
    let services = await Services.open({ dataDir, mode: 'cli' });
    const job = await importAndWait(services, [dicomDir]);
    const keep = (job.result as ImportSummary).studies[0].series[0].id;
    await services.close();
    const orphan = join(dataDir, 'series', 'orphan-from-crash');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(orphan, { recursive: true });
    mkdirSync(join(dataDir, 'staging', 'half-done'), { recursive: true });
    services = await Services.open({ dataDir, mode: 'cli' });
    expect(readdirSync(join(dataDir, 'series'))).toEqual([keep]);
    expect(existsSync(join(dataDir, 'staging'))).toBe(false);
    await services.close();
  });
});
