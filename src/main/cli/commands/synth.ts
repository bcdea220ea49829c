import { randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { generateCase, LESION_TYPES, writeSyntheticCase, renderCasePreview, type LesionSpec, type LesionType, type SynthFormat } from '../../core/synth/index';
import { defineCommand, parseCommandArgs, requireNumber } from '../command';

export interface SynthCliResult {
  outDir: string;
  seed: number;
  format: SynthFormat;
  metadata: string;
  files: string[];
  studyInstanceUid: string;
  timepoints: {
    index: number;
    day: number;
    directory: string;
    midlineShiftMm: number;
    lesions: { id: string; type: string; requestedVolumeMl: number; volumeMl: number; densityHu: number; mask: string }[];
  }[];
  preview?: string;
  elapsedMs: number;
}

function parseLesions(text: string | undefined): LesionType[] {
  if (text === undefined || text === '' || text === 'none') return [];
  const out: LesionType[] = [];
  for (const raw of text.split(',')) {
    const t = raw.trim().toLowerCase();
    if (!(LESION_TYPES as readonly string[]).includes(t)) throw new AppError('BAD_REQUEST', `Unknown lesion type "${raw}" in --lesions; use a comma-separated list of ${LESION_TYPES.join(', ')}, or none.`);
    out.push(t as LesionType);
  }
  return out;
}

function parseList(text: string | undefined, flag: string, count: number, lo: number, hi: number): (number | undefined)[] {
  if (text === undefined) return new Array(count).fill(undefined);
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== count) throw new AppError('BAD_REQUEST', `${flag} needs one value per lesion (${count}); got ${parts.length}.`);
  return parts.map((p) => (p === '' || p === '-' ? undefined : requireNumber(p, flag, { min: lo, max: hi })));
}

export const synthCommand = defineCommand<SynthCliResult>({
  name: 'synth',
  summary: 'Generate a synthetic head CT (healthy or with lesions, one or more timepoints) with ground-truth masks',
  usage: `Usage: inpaint-ct synth --out <dir> [--seed N] [--lesions iph,ivh,sah,sdh,edh,infarct,edema,mass|none]
                       [--timepoints K] [--interval-days D] [--format dicom|nifti|both] [--slices N]
                       [--matrix N] [--volumes mL,...] [--growth RATE] [--preview] [--overwrite] [--json]

Writes a synthetic subject (anatomy drawn from the seed) to a new folder: CT per timepoint as a
DICOM series and/or NIfTI, tissue labels and one NIfTI mask per lesion, and metadata.json with every
parameter, the seed and the lesion volumes. Layout: docs/synth.md. Same options and seed, same voxels.
  --seed N           subject and lesion seed (default: random, reported in the result)
  --lesions LIST     lesion types, comma-separated (a type may repeat); default none
                     iph intraparenchymal, ivh intraventricular, sah subarachnoid, sdh subdural,
                     edh epidural hemorrhage; infarct (vascular territory), edema, mass
  --timepoints K     scans of the same subject, --interval-days apart (default 1 and 3)
  --volumes LIST     lesion volumes in mL at the first timepoint, one per lesion ("-" = default)
  --growth RATE      volume change per day for every lesion, e.g. 0.1 (+10 %/day) or -0.05
  --format F         dicom, nifti or both (default both); masks are always NIfTI
  --slices N         number of 5 mm slices (default 36, skull base to vertex)
  --matrix N         in-plane matrix N x N over a 230 mm field of view (default 512)
  --preview          also write preview.png (brain window contact sheet of the last timepoint)
  --overwrite        write into a folder that already has files`,
  async run(argv, ctx) {
    const { values } = parseCommandArgs(
      argv,
      {
        out: { type: 'string' },
        seed: { type: 'string' },
        lesions: { type: 'string' },
        timepoints: { type: 'string' },
        'interval-days': { type: 'string' },
        format: { type: 'string' },
        slices: { type: 'string' },
        matrix: { type: 'string' },
        volumes: { type: 'string' },
        growth: { type: 'string' },
        preview: { type: 'boolean' },
        overwrite: { type: 'boolean' },
      },
      { allowPositionals: false },
    );
    if (!values.out) throw new AppError('BAD_REQUEST', 'Name the output folder with --out <dir>.');
    const format = (values.format ?? 'both') as SynthFormat;
    if (!['dicom', 'nifti', 'both'].includes(format)) throw new AppError('BAD_REQUEST', `--format must be dicom, nifti or both; got "${values.format}".`);
    const seed = requireNumber(values.seed, '--seed', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }) ?? randomInt(0, 2 ** 31);
    const types = parseLesions(values.lesions);
    const volumes = parseList(values.volumes, '--volumes', types.length, 0.2, 250);
    const growth = requireNumber(values.growth, '--growth', { min: -1, max: 1 });
    const lesions: LesionSpec[] = types.map((type, i) => ({ type, volumeMl: volumes[i], volumeRatePerDay: growth }));
    const timepoints = requireNumber(values.timepoints, '--timepoints', { min: 1, max: 20, integer: true }) ?? 1;
    const intervalDays = requireNumber(values['interval-days'], '--interval-days', { min: 0.01, max: 365 });
    const slices = requireNumber(values.slices, '--slices', { min: 1, max: 400, integer: true });
    const matrix = requireNumber(values.matrix, '--matrix', { min: 64, max: 1024, integer: true });
    const outDir = resolve(values.out);

    const started = performance.now();
    let lastStage = '';
    const onProgress = (p: { stage: string; done: number; total: number }) => {
      if (p.stage !== lastStage) ctx.log(`${p.stage}...`);
      lastStage = p.stage;
    };
    ctx.log(`Synthetic case: seed ${seed}, ${types.length ? types.join(', ') : 'no lesions'}, ${timepoints} timepoint${timepoints > 1 ? 's' : ''}`);
    const c = generateCase({ seed, lesions, timepoints, intervalDays, slices, dims: matrix ? [matrix, matrix] : undefined, signal: ctx.signal, onProgress });
    const written = await writeSyntheticCase(c, outDir, { format, overwrite: values.overwrite ?? false, signal: ctx.signal, onProgress });
    let preview: string | undefined;
    if (values.preview) {
      await writeFile(join(outDir, 'preview.png'), renderCasePreview(c));
      preview = 'preview.png';
      written.files.push(preview);
    }
    return {
      outDir,
      seed,
      format,
      metadata: written.metadata,
      files: written.files,
      studyInstanceUid: written.studyInstanceUid,
      timepoints: written.timepoints.map((t) => ({
        index: t.index,
        day: t.day,
        directory: t.directory,
        midlineShiftMm: Math.round(t.midlineShiftMm * 100) / 100,
        lesions: t.lesions.map((l, i) => ({
          id: l.id,
          type: l.type,
          requestedVolumeMl: Math.round(l.requestedVolumeMl * 1000) / 1000,
          volumeMl: Math.round(l.volumeMl * 1000) / 1000,
          densityHu: Math.round(c.timepoints[t.index].lesions[i].densityHu * 10) / 10,
          mask: l.mask,
        })),
      })),
      preview,
      elapsedMs: Math.round(performance.now() - started),
    };
  },
  format(r) {
    const lines = [`Wrote ${r.files.length} files to ${r.outDir} (seed ${r.seed}, ${r.format}) in ${(r.elapsedMs / 1000).toFixed(1)} s`];
    for (const t of r.timepoints) {
      lines.push(`  ${t.directory}${t.midlineShiftMm ? `  midline shift ${t.midlineShiftMm.toFixed(1)} mm` : ''}`);
      for (const l of t.lesions) lines.push(`    ${l.id.padEnd(16)} ${l.volumeMl.toFixed(1).padStart(6)} mL (asked ${l.requestedVolumeMl.toFixed(1)})  ${l.densityHu.toFixed(0)} HU  ${l.mask}`);
      if (!t.lesions.length) lines.push('    no lesions');
    }
    lines.push(`  metadata: ${r.metadata}${r.preview ? `, preview: ${r.preview}` : ''}`);
    return lines.join('\n');
  },
});
