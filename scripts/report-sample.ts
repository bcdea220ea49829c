/**
 * Regenerates docs/report-sample.pdf and docs/report-sample.png: a synthetic head CT with an
 * intraparenchymal hemorrhage and a subdural hematoma (synth phantom, no real patient), analysed
 * end to end with a classical inpainter (no model file needed), reviewed by a fictitious reader,
 * reported. Needs poppler-utils (pdftoppm) for the PNG.
 *
 *   npx tsx scripts/report-sample.ts [--slices N] [--matrix N] [--inpainter linear|biharmonic]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/index';
import { runAnalysisToDir } from '../src/main/core/pipeline/run-analysis';
import { readingSettingsSchema } from '../src/shared/analysis';
import { defaultReading } from '../src/main/core/pipeline/reading';
import { buildCaseReport, loadExportSource } from '../src/main/core/report/case';
import { renderReportPdf } from '../src/main/core/report/pdf';
import { newDicomUid } from '../src/main/core/io/uid';
import type { ClassicalMethod } from '../src/main/core/inpaint/classical';
import type { ReviewEdit } from '../src/main/core/report/review';

const { values } = parseArgs({ options: { slices: { type: 'string', default: '24' }, matrix: { type: 'string', default: '256' }, inpainter: { type: 'string', default: 'biharmonic' }, threshold: { type: 'string', default: '0.4' }, 'min-ml': { type: 'string', default: '0.5' } } });
const docs = resolve(import.meta.dirname, '..', 'docs');
const work = await mkdtemp(join(tmpdir(), 'inpaint-ct-sample-'));
try {
  const t0 = performance.now();
  const matrix = Number(values.matrix);
  const synthetic = generateCase({ seed: 11, lesions: ['iph', 'sdh'], dims: [matrix, matrix], slices: Number(values.slices), spacing: [230.4 / matrix, 230.4 / matrix] });
  const tp = synthetic.timepoints[0];
  const volume = tp.volume;
  const nz = volume.dims[2];
  volume.meta = {
    ...volume.meta,
    modality: 'CT',
    patientName: 'Phantom^Synthetic',
    patientId: 'SYN-0011',
    patientBirthDate: '19570214',
    patientSex: 'M',
    studyDate: '20250310',
    studyDescription: 'CT HEAD WITHOUT CONTRAST',
    accessionNumber: 'SYN250310',
    seriesDescription: 'Axial 5 mm brain (synthetic)',
    seriesNumber: 2,
    studyInstanceUid: volume.meta.studyInstanceUid ?? newDicomUid(),
    seriesInstanceUid: volume.meta.seriesInstanceUid ?? newDicomUid(),
    frameOfReferenceUid: volume.meta.frameOfReferenceUid ?? newDicomUid(),
    sopInstanceUids: Array.from({ length: nz }, () => newDicomUid()),
    source: 'dicom',
  };
  console.error(`phantom ${volume.dims.join('x')} in ${((performance.now() - t0) / 1000).toFixed(1)} s; lesions ${tp.lesions.map((l) => `${l.type} ${l.volumeMl.toFixed(1)} mL`).join(', ')}`);
  const dir = join(work, 'run');
  const inpainter = { kind: 'classical', method: values.inpainter as ClassicalMethod } as const;
  // The reading a new analysis with this inpainter starts with, at the sample's cut and size.
  const reading = readingSettingsSchema.parse({ ...defaultReading(inpainter, { metrics: {} }), strategy: { kind: 'absolute', value: Number(values.threshold) }, minSizeMl: Number(values['min-ml']) });
  const run = await runAnalysisToDir(volume, dir, reading, {
    inpainter,
    modelsDir: join(work, 'models'),
    onProgress: (p) => p.done === p.total && console.error(p.stage),
  });
  console.error(`analysis ${(run.timingsMs.analyze / 1000).toFixed(1)} s, ${run.result.lesions.length} lesions`);

  // A fictitious reader: the lesion overlapping each true lesion gets its type; small others are rejected.
  const source = await loadExportSource(dir, { meta: volume.meta, runId: 'sample-' + synthetic.seed });
  const edits: ReviewEdit[] = [];
  const analysedAt = Date.parse(run.record.provenance.createdAt);
  const at = (minute: number) => new Date(analysedAt + minute * 60_000).toISOString();
  let minute = 5;
  for (const lesion of source.table.lesions) {
    const overlap = new Map<number, number>();
    for (let p = 0; p < source.labels.length; p++) if (source.labels[p] === lesion.label && tp.lesionLabels[p]) overlap.set(tp.lesionLabels[p], (overlap.get(tp.lesionLabels[p]) ?? 0) + 1);
    const best = [...overlap.entries()].sort((a, b) => b[1] - a[1])[0];
    const truth = best && best[1] > lesion.voxelCount * 0.3 ? tp.lesions.find((l) => l.index + 1 === best[0]) : undefined;
    if (truth?.type === 'iph') edits.push({ lesionLabel: lesion.label, status: 'accepted', type: 'iph', note: 'Right basal ganglia hematoma with surrounding edema.', author: 'J. Reader', at: at(minute++) });
    else if (truth?.type === 'sdh') edits.push({ lesionLabel: lesion.label, status: 'accepted', type: 'sdh', note: 'Crescentic extra-axial collection.', author: 'J. Reader', at: at(minute++) });
    else if (!truth && lesion.meanHu !== null && lesion.meanHu > 150) edits.push({ lesionLabel: lesion.label, status: 'rejected', type: 'artefact', note: null, author: 'J. Reader', at: at(minute++) });
    else if (!truth) edits.push({ lesionLabel: lesion.label, status: 'rejected', type: 'other', note: null, author: 'J. Reader', at: at(minute++) });
  }
  const report = buildCaseReport(source, { review: { edits }, now: new Date(analysedAt + 30 * 60_000) });
  await mkdir(docs, { recursive: true });
  const pdf = join(docs, 'report-sample.pdf');
  const r = await renderReportPdf(report, { outPath: pdf, maxKeySlices: 6 });
  execFileSync('pdftoppm', ['-r', '110', '-f', '1', '-l', '1', '-png', '-singlefile', pdf, join(docs, 'report-sample')]);
  console.error(`report: ${r.pages} pages, ${(r.bytes.byteLength / 1024).toFixed(0)} KiB -> ${pdf}, docs/report-sample.png`);
} finally {
  await rm(work, { recursive: true, force: true });
}
