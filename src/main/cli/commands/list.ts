import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors';
import { formatStudyDate } from '../../../shared/compare';
import type { RunInfo, StudySummary } from '../../../shared/types';
import { formatVolumeMl } from '../../core/report/format';
import { Services } from '../../services/index';
import { defineCommand, parseCommandArgs } from '../command';

export interface ListResult {
  dataDir: string;
  studies: (StudySummary & { series: (StudySummary['series'][number] & { runs: Omit<RunInfo, 'provenance'>[] })[] })[];
}

export const listCommand = defineCommand<ListResult>({
  name: 'list',
  summary: 'List the studies, series and analysis runs in the library, with the ids other commands take',
  usage: `Usage: inpaint-ct list [--json]

Lists the library (--data-dir): each study (patient, date, description), its series (modality,
description, grid) and each series' analysis runs, newest first (inpainter, lesions found,
review progress). The ids it prints are what "report", "export" and "compare" take.`,
  async run(argv, ctx) {
    parseCommandArgs(argv, {}, { allowPositionals: false });
    if (!existsSync(join(ctx.dataDir, 'library.sqlite'))) throw new AppError('NOT_FOUND', `There is no library at ${ctx.dataDir}. Import a series first (inpaint-ct import), or give --data-dir.`);
    const services = await Services.open({ dataDir: ctx.dataDir, mode: 'cli' });
    try {
      const studies = services.library.listStudies().map((study) => ({
        ...study,
        series: study.series.map((series) => ({
          ...series,
          // The full provenance is run.json's; the listing keeps what identifies and summarises a run.
          runs: services.analysis.listRuns(series.id).map(({ provenance: _provenance, ...run }) => run),
        })),
      }));
      return { dataDir: ctx.dataDir, studies };
    } finally {
      await services.close();
    }
  },
  format(r) {
    if (r.studies.length === 0) return `The library at ${r.dataDir} is empty.`;
    const lines: string[] = [];
    for (const study of r.studies) {
      lines.push(`Study ${study.id}  ${study.patientName || '(no name)'}${study.patientIdentifier ? ` ${study.patientIdentifier}` : ''} · ${formatStudyDate(study.studyDate)}${study.description ? ` · ${study.description}` : ''}`);
      for (const series of study.series) {
        lines.push(`  Series ${series.id}  ${series.modality || '?'} · ${series.description || `series ${series.seriesNumber ?? '?'}`} · ${series.dims.join('×')} · ${formatStudyDate(series.date)}`);
        for (const run of series.runs) {
          const review = run.review ? ` · review: ${run.review.accepted + run.review.rejected} of ${run.review.found} found lesions decided` : '';
          lines.push(`    Run ${run.id}  ${run.label} · ${run.createdAt.slice(0, 16).replace('T', ' ')} · ${run.summary.lesions} lesion${run.summary.lesions === 1 ? '' : 's'}, ${formatVolumeMl(run.summary.lesionVolumeMl)} mL${review}`);
        }
        if (series.runs.length === 0) lines.push('    (not analysed)');
      }
    }
    return lines.join('\n');
  },
});
