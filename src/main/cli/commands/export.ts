import { AppError } from '../../../shared/errors';
import { EXPORT_FORMATS, type ExportFormat } from '../../core/export/index';
import { formatVolumeMl } from '../../core/report/format';
import { defineCommand, parseCommandArgs } from '../command';
import { TARGET_OPTIONS, TARGET_OPTIONS_USAGE, TARGET_USAGE, exportSummary, exportTarget } from './report';

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Export an analysis as DICOM SEG, NIfTI mask, CSV or JSON lesion table (or PDF)',
  usage: `Usage: inpaint-ct export <target> --format seg|nifti|csv|json|pdf --out <path> [options] [--json]

${TARGET_USAGE}

Formats:
  seg     DICOM Segmentation of the final mask in the source study, referencing the source
          images (3D Slicer, OHIF); one segment per lesion unless --segments single
  nifti   the final mask on the scan's grid (uint8 0/1), or lesion numbers with --labels
  csv     the lesion table, one row per lesion
  json    the lesion table with the case, the analysis provenance and the review history
  pdf     the report (as "inpaint-ct report")
Lesions rejected in the review are left out of the masks and kept, marked, in the tables.

Options:
${TARGET_OPTIONS_USAGE}
  --format F            one of ${EXPORT_FORMATS.join(', ')} (required)
  --segments per-lesion|single   DICOM SEG segments (default per-lesion)
  --labels              NIfTI: lesion numbers (int16) instead of a 0/1 mask`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, { ...TARGET_OPTIONS, format: { type: 'string' }, segments: { type: 'string' }, labels: { type: 'boolean' } });
    if (positionals.length !== 1) throw new AppError('BAD_REQUEST', 'Name exactly one analysis folder or library id.');
    const format = values.format as ExportFormat | undefined;
    if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format)) throw new AppError('BAD_REQUEST', `--format must be one of ${EXPORT_FORMATS.join(', ')}${values.format ? `; got "${values.format}"` : ''}.`);
    if (values.segments !== undefined && values.segments !== 'per-lesion' && values.segments !== 'single') throw new AppError('BAD_REQUEST', `--segments must be per-lesion or single; got "${values.segments}".`);
    if (values.segments && format !== 'seg') throw new AppError('BAD_REQUEST', '--segments applies to --format seg only.');
    if (values.labels && format !== 'nifti') throw new AppError('BAD_REQUEST', '--labels applies to --format nifti only.');
    const t0 = performance.now();
    const { report, result, from } = await exportTarget(positionals[0], format, values, ctx, {
      segments: values.segments as 'per-lesion' | 'single' | undefined,
      niftiContent: values.labels ? 'labels' : 'mask',
    });
    return { out: result.path, format, from, ...exportSummary(report), bytes: result.bytes, details: result.details, warnings: result.warnings, elapsedMs: Math.round(performance.now() - t0) };
  },
  format(r) {
    return [
      `${r.format.toUpperCase()} written to ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB, research use only)`,
      `${r.lesions} lesion${r.lesions === 1 ? '' : 's'}, ${formatVolumeMl(r.lesionVolumeMl)} mL${r.rejected ? `; ${r.rejected} rejected by the reader` : ''}${r.deidentified ? '; de-identified' : ''}`,
      ...r.warnings.map((w) => `warning: ${w}`),
    ].join('\n');
  },
});
