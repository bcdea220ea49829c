import { resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { Services } from '../../services/index';
import type { ImportSummary } from '../../services/library';
import { defineCommand, parseCommandArgs } from '../command';

/** Run one job through the real services and wait for it, logging progress to stderr. */
export async function runJobToEnd(services: Services, jobId: string, log: (s: string) => void, signal: AbortSignal): Promise<unknown> {
  let lastStage = '';
  const off = services.events.on('job.progress', (j) => {
    if (j.id !== jobId) return;
    const line = `${j.stage}${j.total ? ` ${j.done}/${j.total}` : ''}`;
    if (j.stage !== lastStage || j.done === j.total) log(line);
    lastStage = j.stage;
  });
  const onAbort = () => services.jobs.cancel(jobId);
  signal.addEventListener('abort', onAbort);
  try {
    const job = await services.jobs.waitFor(jobId);
    if (job.status !== 'succeeded') throw new AppError((job.error?.code as never) ?? 'INTERNAL', job.error?.message ?? `The job ended as ${job.status}.`);
    return job.result;
  } finally {
    off();
    signal.removeEventListener('abort', onAbort);
  }
}

export const importCommand = defineCommand<ImportSummary>({
  name: 'import',
  summary: 'Import DICOM folders, NIfTI files or PNG stacks into the study library',
  usage: `Usage: inpaint-ct import <paths...> [--deidentify] [--data-dir DIR] [--json]

Reads every DICOM file under the given folders (DICOMDIR optional), NIfTI volumes (.nii, .nii.gz)
and folders of same-size PNG slices. Files that cannot be read are listed with a reason; the rest
are imported. Importing the same files again adds nothing new.
  --deidentify   strip names, IDs and dates (geometry is kept); recorded on the series`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, { deidentify: { type: 'boolean' } });
    if (positionals.length === 0) throw new AppError('BAD_REQUEST', 'Name at least one file or folder to import.');
    const services = await Services.open({ dataDir: ctx.dataDir, mode: 'cli' });
    try {
      const { jobId } = services.library.startImport(positionals.map((p) => resolve(p)), values.deidentify ?? false);
      return (await runJobToEnd(services, jobId, ctx.log, ctx.signal)) as ImportSummary;
    } finally {
      await services.close();
    }
  },
  format(r) {
    const lines: string[] = [];
    for (const st of r.studies) {
      lines.push(`Study ${st.id}`);
      for (const s of st.series) {
        lines.push(`  Series ${s.id}  ${s.modality}  ${s.dims.join('x')}  ${s.spacing.map((x) => x.toFixed(2)).join('x')} mm${s.alreadyInLibrary ? '  (already in library)' : ''}`);
        for (const w of s.warnings) lines.push(`    warning: ${w.message}`);
      }
    }
    if (r.studies.length === 0) lines.push('No images were imported.');
    for (const e of r.errors) lines.push(`error: ${e.file}: ${e.message}`);
    return lines.join('\n');
  },
});
