import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { attachSourceSeries, buildCaseReport, loadExportSource, type CaseReport, type ExportSource } from '../../core/report/case';
import { readReviewFile, writeExport, type ExportFormat, type ExportOptions } from '../../core/export/index';
import { formatVolumeMl } from '../../core/report/format';
import { Services } from '../../services/index';
import { defineCommand, parseCommandArgs, requireNumber, type CliContext } from '../command';
import { loadOneVolume } from './brain-mask';

export const TARGET_USAGE = `<target> is an analysis folder written by "inpaint-ct analyze", or an id in the library
(--data-dir): a run id, a series id (its newest run) or a study id (its newest run).`;

export const TARGET_OPTIONS = {
  out: { type: 'string' },
  deidentify: { type: 'boolean' },
  source: { type: 'string' },
  review: { type: 'string' },
} as const;

export const TARGET_OPTIONS_USAGE = `  --out PATH            the file to write (required)
  --deidentify          pseudonyms instead of names and IDs, no dates (UIDs pseudonymised)
  --source PATH         the DICOM folder or file the folder's analysis was computed from, for the
                        patient/study header and DICOM references (a library run has them already)
  --review FILE         reader decisions as JSON: {"edits": [{lesionLabel, status, type, note,
                        author, at}], "labels": "edited-labels.nii.gz"}`;

export interface ResolvedTarget {
  source: ExportSource;
  from: 'folder' | 'library';
  seriesId: string | null;
}

/** Finds the run a target names: an analysis folder, or a run, series or study id in the library. */
export async function resolveTarget(target: string, ctx: CliContext, sourcePath?: string): Promise<ResolvedTarget> {
  const dir = resolve(target);
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    let source = await loadExportSource(dir);
    if (sourcePath) {
      const series = await loadOneVolume(sourcePath, undefined, ctx);
      source = attachSourceSeries(source, series.volume);
    }
    return { source, from: 'folder', seriesId: null };
  }
  if (sourcePath) throw new AppError('BAD_REQUEST', '--source applies to an analysis folder; a library run knows its series already.');
  if (!existsSync(join(ctx.dataDir, 'library.sqlite'))) {
    throw new AppError('NOT_FOUND', `"${target}" is not an analysis folder, and there is no library at ${ctx.dataDir} to look it up in.`);
  }
  const services = await Services.open({ dataDir: ctx.dataDir, mode: 'cli' });
  try {
    const runId = findRunId(services, target);
    const run = services.analysis.getRun(runId);
    const volume = await services.library.loadVolume(run.seriesId);
    ctx.log(`Run ${run.id} of series ${run.seriesId} (${run.label}, ${run.createdAt})`);
    const source = await loadExportSource(join(ctx.dataDir, run.dir), { meta: volume.meta, runId: run.id });
    return { source, from: 'library', seriesId: run.seriesId };
  } finally {
    await services.close();
  }
}

export function findRunId(services: Services, id: string): string {
  try {
    return services.analysis.getRun(id).id;
  } catch (e) {
    if (!(e instanceof AppError && e.code === 'NOT_FOUND')) throw e;
  }
  const seriesRuns = services.analysis.listRuns(id);
  if (seriesRuns.length) return seriesRuns[0].id;
  const study = services.library.listStudies().find((s) => s.id === id);
  if (study) {
    const runs = study.series.flatMap((s) => services.analysis.listRuns(s.id)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (runs.length) return runs[0].id;
    throw new AppError('NOT_FOUND', `Study "${id}" has no analysis yet; run one first.`);
  }
  throw new AppError('NOT_FOUND', `"${id}" is neither an analysis folder nor a run, series or study id in the library.`);
}

/** Resolves the target, applies review and de-identification, and writes one export. */
export async function exportTarget(
  target: string,
  format: ExportFormat,
  values: { out?: string; deidentify?: boolean; source?: string; review?: string },
  ctx: CliContext,
  options: ExportOptions = {},
): Promise<{ report: CaseReport; result: Awaited<ReturnType<typeof writeExport>>; from: ResolvedTarget['from'] }> {
  if (!values.out) throw new AppError('BAD_REQUEST', '--out <path> is required: the file to write.');
  const resolved = await resolveTarget(target, ctx, values.source);
  const review = values.review ? await readReviewFile(resolve(values.review), resolved.source.ct) : null;
  const report = buildCaseReport(resolved.source, { review, deidentify: values.deidentify });
  const result = await writeExport(report, format, values.out, { ...options, signal: ctx.signal });
  for (const w of result.warnings) ctx.log(`warning: ${w}`);
  return { report, result, from: resolved.from };
}

export function exportSummary(report: CaseReport) {
  return {
    runId: report.runId,
    deidentified: report.deidentified,
    lesions: report.totals.included,
    rejected: report.totals.rejected,
    lesionVolumeMl: +report.totals.includedVolumeMl.toFixed(3),
    reviewed: report.review !== null,
  };
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'Write the PDF report of an analysis (header, findings, key slices, provenance)',
  usage: `Usage: inpaint-ct report <target> --out report.pdf [options] [--json]

${TARGET_USAGE}

The report has the patient/study header (or "De-identified"), the research-use disclaimer on every
page, the findings table with the reader's decisions, key slices with the lesion outline and the
anomaly-score overlay, the reader's edit history and the analysis parameters and provenance.

Options:
${TARGET_OPTIONS_USAGE}
  --max-key-slices N    key slices for at most N lesions, largest first (default 24)`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, { ...TARGET_OPTIONS, 'max-key-slices': { type: 'string' } });
    if (positionals.length !== 1) throw new AppError('BAD_REQUEST', 'Name exactly one analysis folder or library id.');
    const maxKeySlices = requireNumber(values['max-key-slices'], '--max-key-slices', { integer: true, min: 0 });
    const t0 = performance.now();
    const { report, result, from } = await exportTarget(positionals[0], 'pdf', values, ctx, { maxKeySlices });
    return { out: result.path, from, ...exportSummary(report), pages: result.details.pages as number, keySlices: result.details.keySlices as number, bytes: result.bytes, warnings: result.warnings, elapsedMs: Math.round(performance.now() - t0) };
  },
  format(r) {
    return [
      `Report written to ${r.out} (${r.pages} page${r.pages === 1 ? '' : 's'}, research use only)`,
      `${r.lesions} lesion${r.lesions === 1 ? '' : 's'}, ${formatVolumeMl(r.lesionVolumeMl)} mL${r.rejected ? `; ${r.rejected} rejected by the reader` : ''}${r.deidentified ? '; de-identified' : ''}`,
      ...r.warnings.map((w) => `warning: ${w}`),
    ].join('\n');
  },
});
