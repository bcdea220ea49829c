/**
 * Report and export speed on a full-size study: a synthetic 512 x 512 head CT (hemorrhage,
 * subdural, infarct) analysed once with a classical inpainter, then the run folder read and
 * every export written: PDF (24 key slices at most), DICOM SEG (per lesion and single), NIfTI,
 * CSV, JSON. Each export is timed as the CLI does it, from the loaded run.
 *
 * Run: npx tsx bench/report.ts [--slices 36]   (writes bench/results/report.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/index';
import { runAnalysisToDir } from '../src/main/core/pipeline/run-analysis';
import { readingSettingsSchema } from '../src/shared/analysis';
import { newDicomUid } from '../src/main/core/io/uid';
import { buildCaseReport, loadExportSource } from '../src/main/core/report/case';
import { writeExport, type ExportFormat, type ExportOptions } from '../src/main/core/export/index';

const { values } = parseArgs({ options: { slices: { type: 'string', default: '36' } } });
const work = await mkdtemp(join(tmpdir(), 'inpaint-ct-bench-report-'));
try {
  const synthetic = generateCase({ seed: 5, lesions: ['iph', 'sdh', 'infarct'], dims: [512, 512], slices: Number(values.slices) });
  const volume = synthetic.timepoints[0].volume;
  const nz = volume.dims[2];
  volume.meta = { ...volume.meta, modality: 'CT', patientName: 'Bench^Phantom', patientId: 'BENCH', studyInstanceUid: newDicomUid(), seriesInstanceUid: newDicomUid(), frameOfReferenceUid: newDicomUid(), sopInstanceUids: Array.from({ length: nz }, () => newDicomUid()), source: 'dicom' };
  const dir = join(work, 'run');
  const reading = readingSettingsSchema.parse({ strategy: { kind: 'absolute', value: 0.3 }, minSizeMl: 0.1 });
  const analysis = await runAnalysisToDir(volume, dir, reading, { inpainter: { kind: 'classical', method: 'linear' }, modelsDir: join(work, 'models') });

  const rows: { step: string; ms: number; output: string }[] = [];
  const time = async <T>(step: string, f: () => Promise<T>, output: (r: T) => string): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    rows.push({ step, ms: performance.now() - t0, output: output(r) });
    return r;
  };
  const source = await time('load run folder', () => loadExportSource(dir, { meta: volume.meta }), (s) => `${s.ct.dims.join('x')}, ${s.table.lesions.length} lesions`);
  const report = await time('build case report', async () => buildCaseReport(source), (r) => `${r.totals.included} lesions, ${r.totals.includedVolumeMl.toFixed(1)} mL`);
  const exports: [string, ExportFormat, string, ExportOptions][] = [
    ['PDF (<= 24 key slices)', 'pdf', 'report.pdf', {}],
    ['DICOM SEG per lesion', 'seg', 'seg.dcm', {}],
    ['DICOM SEG single segment', 'seg', 'seg1.dcm', { segments: 'single' }],
    ['NIfTI mask', 'nifti', 'mask.nii.gz', {}],
    ['CSV table', 'csv', 'lesions.csv', {}],
    ['JSON table', 'json', 'lesions.json', {}],
  ];
  for (const [step, format, file, options] of exports) {
    await time(step, () => writeExport(report, format, join(work, file), options), (r) => `${(r.bytes / 1024).toFixed(0)} KiB${r.details.pages ? `, ${r.details.pages} pages` : ''}${r.details.frames ? `, ${r.details.frames} frames` : ''}`);
  }
  await stat(join(work, 'report.pdf'));

  console.log(`Report/export on ${volume.dims.join('x')} (${report.lesions.length} lesions; analysis ${(analysis.timingsMs.analyze / 1000).toFixed(0)} s not counted)`);
  console.log('| step | ms | output |\n| --- | ---: | --- |');
  for (const r of rows) console.log(`| ${r.step} | ${r.ms.toFixed(0)} | ${r.output} |`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/report.json',
    JSON.stringify({ dims: volume.dims, lesions: report.lesions.length, rows, host: { cpu: cpus()[0]?.model, cores: cpus().length, load: loadavg() }, at: new Date().toISOString() }, null, 2),
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
