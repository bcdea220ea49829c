import { AppError } from '../../../shared/errors';
import { describeInputs, type DescribeResult } from '../../core/io/index';
import { defineCommand, parseCommandArgs, requireNumber } from '../command';

export const infoCommand = defineCommand<DescribeResult>({
  name: 'info',
  summary: 'Describe the series in DICOM / NIfTI / PNG files or folders without importing them',
  usage: `Usage: inpaint-ct info <path...> [--png-window C,W] [--png-spacing MM] [--json]

Lists every series found (modality, dims [x,y,z], spacing mm, orientation, warnings, intensity
min/max/mean in HU for CT) and every file that could not be used, with the reason.
  --png-window C,W   window the PNG slices were made with (default: brain window 40,80, assumed)
  --png-spacing MM   pixel and slice spacing of PNG stacks in mm (default 1, assumed)`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, {
      'png-window': { type: 'string' },
      'png-spacing': { type: 'string' },
    });
    if (positionals.length === 0) throw new AppError('BAD_REQUEST', 'Name at least one file or folder.');
    let windowCenter: number | undefined;
    let windowWidth: number | undefined;
    if (values['png-window'] !== undefined) {
      const parts = values['png-window'].split(',');
      if (parts.length !== 2) throw new AppError('BAD_REQUEST', `--png-window needs "center,width", e.g. 40,80; got "${values['png-window']}".`);
      windowCenter = requireNumber(parts[0], '--png-window center');
      windowWidth = requireNumber(parts[1], '--png-window width', { min: 1 });
    }
    const spacing = requireNumber(values['png-spacing'], '--png-spacing', { min: 0.001 });
    let lastStage = '';
    return describeInputs(positionals, {
      signal: ctx.signal,
      png: { windowCenter, windowWidth, pixelSpacingMm: spacing, sliceSpacingMm: spacing },
      onProgress: (p) => {
        if (p.stage !== lastStage) ctx.log(`${p.stage}...`);
        lastStage = p.stage;
      },
    });
  },
  format(r) {
    const lines: string[] = [];
    r.series.forEach((s, i) => {
      const unit = s.intensityUnit === 'HU' ? ' HU' : '';
      lines.push(`Series ${i + 1}: ${s.modality ?? '?'} ${s.format}${s.description ? ` "${s.description}"` : ''}, ${s.fileCount} file${s.fileCount === 1 ? '' : 's'} (${s.firstFile})`);
      lines.push(`  dims ${s.dims.join(' x ')}, spacing ${s.spacing.map((v) => Number(v.toFixed(4))).join(' x ')} mm`);
      lines.push(`  values ${s.huMin} .. ${s.huMax}${unit}, mean ${s.huMean}${unit}`);
      for (const w of s.warnings) lines.push(`  warning ${w.code}: ${w.message}`);
    });
    if (r.series.length === 0) lines.push('No series found.');
    for (const e of r.errors) lines.push(`error ${e.code}: ${e.file}: ${e.message}`);
    for (const n of r.notes) lines.push(`note: ${n.file}: ${n.message}`);
    return lines.join('\n');
  },
});
