import { resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { scoreReconstruction } from '../../core/pipeline/analyze';
import { loadRunDir, updateRunDir } from '../../core/pipeline/run-dir';
import { loadHealthyReferences, scoringKey, toThresholdSettings } from '../../core/pipeline/reading';
import { assertZReadable, readsReferences, runReferences } from '../../core/pipeline/pinned-reference';
import type { HealthyReferenceStamp, RunReferenceInfo } from '../../../shared/types';
import { describeReferenceStamp, referenceState } from '../../../shared/provenance';
import { thresholdStudy } from '../../core/scoring/lesions';
import { readNifti } from '../../core/io/nifti';
import { modelsDir } from '../../paths';
import { defineCommand, parseCommandArgs } from '../command';
import { READING_OPTIONS, READING_USAGE, lesionSummary, readingFromArgs } from './analyze';
import { join } from 'node:path';

export const thresholdCommand = defineCommand({
  name: 'threshold',
  summary: 'Re-threshold a finished analysis with other reading settings (no inpainting again)',
  usage: `Usage: inpaint-ct threshold <run-dir> [reading options] [--adopt-current-reference] [--json]

Recomputes the lesion mask, labels and lesions.json of a folder written by "inpaint-ct analyze".
Options not given keep the values stored in its run.json. A new metric or fusion rescores from the
saved reconstructions (recon/) and replaces score.nii.gz; so does new residual smoothing.

z cuts are read against the healthy reference the run keeps (healthy-reference.json, copied at
analysis), so recalibrating the model does not move them. --adopt-current-reference replaces that
copy with the inpainter's current reference and reads the run against it from now on.

${READING_USAGE}`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, { ...READING_OPTIONS, 'adopt-current-reference': { type: 'boolean' } });
    if (positionals.length !== 1) throw new AppError('BAD_REQUEST', 'Name exactly one analysis folder.');
    const dir = resolve(positionals[0]);
    const t0 = performance.now();
    const loaded = await loadRunDir(dir);
    const reading = readingFromArgs(values, loaded.record.reading);
    const kept = await runReferences(dir, loaded.record.provenance.inpainter, modelsDir());
    const adopted = values['adopt-current-reference'] ? await loadHealthyReferences(modelsDir(), loaded.record.provenance.inpainter) : undefined;
    if (adopted && readsReferences(kept.info, adopted)) {
      throw new AppError('BAD_REQUEST', 'This run is already read against the current healthy reference; leave out --adopt-current-reference.');
    }
    if (!adopted) assertZReadable(reading, kept.info);
    const settings = toThresholdSettings(reading, adopted ?? kept.references);
    const rescore = scoringKey(reading) !== scoringKey(loaded.record.reading);
    let score: Float32Array;
    let signed: Float32Array;
    if (rescore) {
      ctx.log(`Rescoring with ${reading.metric} residuals and ${reading.fusion} fusion${reading.smoothingMm > 0 ? `, smoothed ${reading.smoothingMm} mm` : ''}…`);
      ({ score, signed } = scoreReconstruction(loaded.recon, reading));
    } else {
      score = (await readNifti(join(dir, 'score.nii.gz'))).data as Float32Array;
      signed = (await readNifti(join(dir, 'signed.nii.gz'))).data as Float32Array;
    }
    const t1 = performance.now();
    const result = thresholdStudy({ score, signedResidual: signed, hu: loaded.volume.data, brainMask: loaded.brainMask, geometry: loaded.volume }, settings);
    const record = await updateRunDir(dir, loaded, { result, reading, ...(rescore ? { score, signed } : {}), ...(adopted ? { adoptedReferences: adopted } : {}) });
    const reference = adopted ? (await runReferences(dir, loaded.record.provenance.inpainter, modelsDir())).info : kept.info;
    return {
      out: dir,
      reading,
      threshold: record.threshold,
      reference,
      lesions: lesionSummary(result.lesions),
      lesionVolumeMl: +result.lesionVolumeMl.toFixed(3),
      timingsMs: { load: Math.round(t1 - t0), threshold: Math.round(result.elapsedMs) },
    };
  },
  format(r) {
    return [`Threshold: ${r.threshold.description}`, ...describeReference(r.reading.strategy.kind === 'zscore', r.reference), `Lesions: ${r.lesions.length}, ${r.lesionVolumeMl} mL`, ...r.lesions.map((l) => `  #${l.label}  ${l.volumeMl} mL  ${l.sign}dense  slices ${l.slices[0]}-${l.slices[1]}`)].join('\n');
  },
});

/** What the reader should know about the reference behind the run's z cuts, as lines. */
function describeReference(readsZ: boolean, info: RunReferenceInfo): string[] {
  const lines: string[] = [];
  const stamp = info.readAgainst;
  // Absolute and percentile cuts do not read the reference.
  if (!readsZ) return lines;
  if (stamp) lines.push(`Healthy reference: ${describeStamp(stamp)}${info.adoptedAt ? `, adopted ${info.adoptedAt.slice(0, 10)}` : info.kept ? ', kept with the run' : ''}`);
  const state = referenceState(info);
  if (state === 'not-kept') lines.push('Note: this run was analysed before runs kept their healthy reference, so it reads the current one; --adopt-current-reference keeps a copy with it.');
  else if (state === 'changed' && info.current) lines.push(`Note: the inpainter's healthy reference has changed since (now ${describeStamp(info.current)}); --adopt-current-reference reads the run against it.`);
  return lines;
}

function describeStamp(s: HealthyReferenceStamp): string {
  return `${describeReferenceStamp(s)}, sha256 ${s.sha256.slice(0, 12)}`;
}
