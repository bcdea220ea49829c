import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors';
import { comparisonWarnings, densityLabel, describeInterval, formatChange, formatMl, formatStudyDate, truthTotalChange } from '../../../shared/compare';
import type { ComparisonResult } from '../../../shared/types';
import { Services } from '../../services/index';
import { defineCommand, parseCommandArgs } from '../command';
import { findRunId } from './report';

interface CompareSide {
  runId: string;
  seriesId: string;
  /** The run's label in the library, e.g. "healthy-brain-ddpm fast · cpu". */
  label: string;
  /** Patient and series as the library lists them. */
  series: string;
}

export interface CompareCommandResult {
  a: CompareSide;
  b: CompareSide;
  comparison: ComparisonResult;
  researchUseOnly: true;
}

/** Columns padded to their widest cell; numbers right-aligned. */
function table(rows: string[][], numeric: boolean[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
}

export const compareCommand = defineCommand({
  name: 'compare',
  summary: 'Compare two analyses in the library: lesion volumes, their change and the interval',
  usage: `Usage: inpaint-ct compare <a> <b> [--json]

<a> and <b> are ids in the library (--data-dir): a run id, a series id (its newest run) or a study
id (its newest run). A is the earlier timepoint by convention; the interval is B's date minus A's.

Prints each lesion of A paired with its lesion in B (by voxel overlap on a shared grid, else by
the distance of their centres), their volumes and the change, the totals, and for synthetic
timepoints the generated truth. A reviewed run counts its reader's final mask, an unreviewed one
the analysis' own mask at its saved reading. Warnings say when the change may not measure the
patient: two patients, two frames of reference, different reading settings or healthy references.`,
  async run(argv, ctx): Promise<CompareCommandResult> {
    const { positionals } = parseCommandArgs(argv, {});
    if (positionals.length !== 2) throw new AppError('BAD_REQUEST', 'Name two analyses to compare: inpaint-ct compare <a> <b>.');
    if (!existsSync(join(ctx.dataDir, 'library.sqlite'))) throw new AppError('NOT_FOUND', `There is no library at ${ctx.dataDir}; compare reads analyses from the library (--data-dir).`);
    const services = await Services.open({ dataDir: ctx.dataDir, mode: 'cli' });
    try {
      const side = (id: string): CompareSide => {
        const run = services.analysis.getRun(findRunId(services, id));
        const study = services.library.listStudies().find((s) => s.series.some((se) => se.id === run.seriesId));
        const series = study?.series.find((se) => se.id === run.seriesId);
        return { runId: run.id, seriesId: run.seriesId, label: run.label, series: [study?.patientName, series?.description].filter(Boolean).join(' · ') || run.seriesId };
      };
      const a = side(positionals[0]);
      const b = side(positionals[1]);
      const comparison = (await services.call('compare.runs', { runA: a.runId, runB: b.runId })) as ComparisonResult;
      return { a, b, comparison, researchUseOnly: true };
    } finally {
      await services.close();
    }
  },
  format({ a, b, comparison: r }) {
    const date = (d: string | null) => (d ? formatStudyDate(d) : 'no date');
    const lines = [
      `A: ${a.series} · ${a.label} · ${date(r.dateA)} ${r.reviewedA ? '(reviewed)' : '(not reviewed)'} · run ${a.runId}`,
      `B: ${b.series} · ${b.label} · ${date(r.dateB)} ${r.reviewedB ? '(reviewed)' : '(not reviewed)'} · run ${b.runId}`,
      `Interval: ${describeInterval(r.intervalDays)}`,
      r.matching,
      ...comparisonWarnings(r).map((w) => `warning: ${w}`),
      ...(!r.reviewedA || !r.reviewedB ? ["Volumes of an unreviewed run are the analysis' own mask at its saved reading, false positives included."] : []),
      '',
    ];
    const rows = [['Lesion A', 'Lesion B', 'Density', 'A (mL)', 'B (mL)', 'Change (mL)', 'Change']];
    for (const row of r.rows) {
      const c = formatChange(row.changeMl, row.changePct);
      rows.push([
        row.labelA === null ? '—' : String(row.labelA),
        row.labelB === null ? '—' : String(row.labelB),
        densityLabel(row.sign) + (row.truthId ? ` (on generated ${row.truthId})` : ''),
        row.labelA === null ? '—' : formatMl(row.volumeMlA),
        row.labelB === null ? '—' : formatMl(row.volumeMlB),
        c.ml,
        row.labelB === null ? 'gone' : c.pct,
      ]);
    }
    const total = formatChange(r.totalChangeMl, r.totalChangePct);
    rows.push(['Total', '', '', formatMl(r.totalMlA), formatMl(r.totalMlB), total.ml, total.pct]);
    const truth = truthTotalChange(r);
    if (r.truth && truth) {
      rows.push(['Generated (synthetic truth)', '', '', formatMl(r.truth.totalMlA), formatMl(r.truth.totalMlB), truth.ml, truth.pct]);
      for (const t of r.truth.lesions) {
        const c = formatChange(t.changeMl, t.changePct);
        rows.push([`Generated ${t.id} (${t.type})`, '', '', formatMl(t.volumeMlA), formatMl(t.volumeMlB), c.ml, c.pct]);
      }
    }
    lines.push(...table(rows, [false, false, false, true, true, true, true]));
    if (r.rows.length === 0) lines.push('No lesions in either run.');
    lines.push('', 'Research use only: not for diagnosis or treatment decisions.');
    return lines.join('\n');
  },
});
