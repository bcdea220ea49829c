import { resolve } from 'node:path';
import { AppError } from '../../../shared/errors';
import { scoreReconstruction } from '../../core/pipeline/analyze';
import { loadRunDir, updateRunDir } from '../../core/pipeline/run-dir';
import { loadHealthyReferences, scoringKey, toThresholdSettings } from '../../core/pipeline/reading';
import { thresholdStudy } from '../../core/scoring/lesions';
import { readNifti } from '../../core/io/nifti';
import { modelsDir } from '../../paths';
import { defineCommand, parseCommandArgs } from '../command';
import { READING_OPTIONS, READING_USAGE, lesionSummary, readingFromArgs } from './analyze';
import { join } from 'node:path';

export const thresholdCommand = defineCommand({
  name: 'threshold',
  summary: 'Re-threshold a finished analysis with other reading settings (no inpainting again)',
  usage: `Usage: inpaint-ct threshold <run-dir> [reading options] [--json]

Recomputes the lesion mask, labels and lesions.json of a folder written by "inpaint-ct analyze".
Options not given keep the values stored in its run.json. A new metric or fusion rescores from the
saved reconstructions (recon/) and replaces score.nii.gz; so does new residual smoothing.

${READING_USAGE}`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs(argv, READING_OPTIONS);
    if (positionals.length !== 1) throw new AppError('BAD_REQUEST', 'Name exactly one analysis folder.');
    const dir = resolve(positionals[0]);
    const t0 = performance.now();
    const loaded = await loadRunDir(dir);
    const reading = readingFromArgs(values, loaded.record.reading);
    const references = await loadHealthyReferences(modelsDir(), loaded.record.provenance.inpainter);
    const settings = toThresholdSettings(reading, references);
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
    const record = await updateRunDir(dir, loaded, { result, reading, ...(rescore ? { score, signed } : {}) });
    return {
      out: dir,
      reading,
      threshold: record.threshold,
      lesions: lesionSummary(result.lesions),
      lesionVolumeMl: +result.lesionVolumeMl.toFixed(3),
      timingsMs: { load: Math.round(t1 - t0), threshold: Math.round(result.elapsedMs) },
    };
  },
  format(r) {
    return [`Threshold: ${r.threshold.description}`, `Lesions: ${r.lesions.length}, ${r.lesionVolumeMl} mL`, ...r.lesions.map((l) => `  #${l.label}  ${l.volumeMl} mL  ${l.sign}dense  slices ${l.slices[0]}-${l.slices[1]}`)].join('\n');
  },
});
