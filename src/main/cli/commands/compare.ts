import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { comparisonWarnings, densityLabel, describeInterval, formatChange, formatMl, formatStudyDate, truthTotalChange } from '../../../shared/compare';
import type { ComparisonResult, StudySummary } from '../../../shared/types';
import { compareSides, runFolderSide, type ComparisonSide } from '../../core/compare/runs';
import { modelsDir } from '../../paths';
import { Services } from '../../services/index';
import { defineCommand, parseCommandArgs } from '../command';
import { findRunId } from './report';

interface CompareSide {
  /** The library's run id, or the folder's name. */
  runId: string;
  /** Null for an analysis folder. */
  seriesId: string | null;
  /** The run's label in the library, e.g. "healthy-brain-ddpm fast · cpu". */
  label: string;
  /** Patient and series as the library lists them, or the folder's path. */
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

<a> and <b> are analysis folders written by "inpaint-ct analyze", or ids in the library
(--data-dir): a run id, a series id (its newest run) or a study id (its newest run). A is the
earlier timepoint by convention; the interval is B's date minus A's. A folder records no patient,
frame of reference or date, so with a folder on either side the interval is unknown, and reviews
and the generated truth of synthetic cases (library runs only) are left out.

Prints each lesion of A paired with its lesion in B (by voxel overlap on a shared grid, else by
the distance of their centres), their volumes and the change, the totals, and for synthetic
timepoints the generated truth. A reviewed run counts its reader's final mask, an unreviewed one
the analysis' own mask at its saved reading. Warnings say when the change may not measure the
patient: two patients, two frames of reference, different reading settings or healthy references.`,
  async run(argv, ctx): Promise<CompareCommandResult> {
    const { positionals } = parseCommandArgs(argv, {});
    if (positionals.length !== 2) throw new AppError('BAD_REQUEST', 'Name two analyses to compare: inpaint-ct compare <a> <b>.');
    const folders = positionals.map((p) => {
      const dir = resolve(p);
      return existsSync(dir) && statSync(dir).isDirectory() ? dir : null;
    });
    if (folders[0] && folders[0] === folders[1]) throw new AppError('BAD_REQUEST', 'Choose two different analyses to compare.');
    let services: Services | null = null;
    const library = async () => {
      if (services) return services;
      if (!existsSync(join(ctx.dataDir, 'library.sqlite'))) throw new AppError('NOT_FOUND', `"${positionals[folders[0] ? 1 : 0]}" is not an analysis folder, and there is no library at ${ctx.dataDir} to look it up in.`);
      return (services = await Services.open({ dataDir: ctx.dataDir, mode: 'cli' }));
    };
    try {
      const sides: { side: CompareSide; measured: ComparisonSide | null }[] = [];
      let studies: StudySummary[] | undefined;
      for (const [i, target] of positionals.entries()) {
        const dir = folders[i];
        if (dir) {
          const measured = await runFolderSide(dir, modelsDir());
          const inpainter = measured.inpainter.kind === 'diffusion' ? `${measured.inpainter.modelId} · ${measured.inpainter.preset}` : `${measured.inpainter.method} (classical)`;
          sides.push({ side: { runId: basename(dir), seriesId: null, label: inpainter, series: dir }, measured });
          continue;
        }
        const lib = await library();
        const run = lib.analysis.getRun(findRunId(lib, target));
        studies ??= lib.library.listStudies();
        const study = studies.find((st) => st.series.some((se) => se.id === run.seriesId));
        const series = study?.series.find((se) => se.id === run.seriesId);
        sides.push({ side: { runId: run.id, seriesId: run.seriesId, label: run.label, series: [study?.patientName, series?.description].filter(Boolean).join(' · ') || run.seriesId }, measured: null });
      }
      const [a, b] = sides;
      // Two library runs: the service's comparison, with reviews and the generated truth. A folder
      // on either side: both measured from their saved readings (a library run from its folder).
      let comparison: ComparisonResult;
      if (!a.measured && !b.measured) {
        comparison = (await (await library()).call('compare.runs', { runA: a.side.runId, runB: b.side.runId })) as ComparisonResult;
      } else {
        const measure = async (s: (typeof sides)[number]) => s.measured ?? runFolderSide(join(ctx.dataDir, (await library()).analysis.getRun(s.side.runId).dir), modelsDir());
        comparison = compareSides(a.side.runId, b.side.runId, await measure(a), await measure(b));
      }
      return { a: a.side, b: b.side, comparison, researchUseOnly: true };
    } finally {
      await (services as Services | null)?.close();
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
