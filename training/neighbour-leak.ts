/**
 * Does the model copy a lesion from the slices above and below into its repainting? A lesion that
 * spans slices is also in the neighbour slices the model is conditioned on, right where it
 * repaints; a model trained on healthy slices has learnt that the neighbours are the best clue to
 * what is missing. This runs the engine on the lesion's slices of a synthetic case three ways:
 *
 *   neighbours as the model sees them  (its manifest's neighbourSlicesInHole)
 *   neighbours without the lesion      (the same subject rendered healthy: an upper bound)
 *   biharmonic fill                    (2-D, never sees a neighbour)
 *
 * and reports, per square size, the mean signed residual (scan - repainting) inside the lesion
 * beside the lesion's true contrast (scan - healthy render), the mean absolute residual outside
 * it, and AUPRC / AUROC / best Dice of the max-over-scales absolute residual over the brain.
 *
 *   npx tsx training/neighbour-leak.ts [--type infarct] [--seeds 5500,5501,5502] [--slices 4] \
 *       [--model healthy-brain-ddpm] [--models-dir models]
 *
 * The default seeds are bench:detect's infarct cases (never used in training).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/case';
import type { LesionType } from '../src/main/core/synth/lesions';
import { classicalBrainMask } from '../src/main/core/preprocess/brain-mask';
import { prepareStack, type PreparedStack } from '../src/main/core/preprocess/geometry';
import { inpaintSlice, type InpaintMethod } from '../src/main/core/inpaint/engine';
import { loadModel } from '../src/main/core/inpaint/model';
import { onnxNetwork } from '../src/main/core/inpaint/network';
import { DEFAULT_SQUARE_SIZES_PX } from '../src/main/core/inpaint/grid';
import { averagePrecision, bestThresholdDice, pixelAuroc, type ScoredVoxels } from '../src/main/core/metrics/index';
import type { InpaintingManifest } from '../src/main/core/inpaint/manifest';

const { values } = parseArgs({
  options: {
    type: { type: 'string', default: 'infarct' },
    seeds: { type: 'string', default: '5500,5501,5502' },
    slices: { type: 'string', default: '4' },
    model: { type: 'string', default: 'healthy-brain-ddpm' },
    'models-dir': { type: 'string', default: 'models' },
  },
});
const seeds = values.seeds!.split(',').map(Number);
const slicesPerCase = Number(values.slices);
const sizes: number[] = [...DEFAULT_SQUARE_SIZES_PX];
const model = await loadModel(resolve(values['models-dir']!), values.model!, { kind: 'inpainting', device: 'cpu' });
const hidden = (model.manifest as InpaintingManifest).conditioning.neighbourSlicesInHole;
const network = onnxNetwork(model);

type Neighbours = 'scan' | 'healthy';
const methods: { name: string; method: InpaintMethod; neighbours: Neighbours }[] = [
  { name: `${model.manifest.id} ${model.manifest.version} (neighbours ${hidden} in the hole)`, method: { kind: 'diffusion', network }, neighbours: 'scan' },
  { name: `${model.manifest.id} ${model.manifest.version}, lesion-free neighbours`, method: { kind: 'diffusion', network }, neighbours: 'healthy' },
  { name: 'biharmonic', method: { kind: 'classical', method: 'biharmonic' }, neighbours: 'scan' },
];
interface Sums {
  signedIn: number;
  absIn: number;
  nIn: number;
  absOut: number;
  nOut: number;
}
const perMethod = methods.map(() => ({ scales: sizes.map((): Sums => ({ signedIn: 0, absIn: 0, nIn: 0, absOut: 0, nOut: 0 })), cases: [] as ScoredVoxels[] }));
let contrastSum = 0;
let contrastN = 0;

const sliceOf = (stack: PreparedStack, k: number) => (k >= 0 && k < stack.sliceCount ? stack.images256.subarray(k * stack.size * stack.size, (k + 1) * stack.size * stack.size) : null);

for (const seed of seeds) {
  const lesionCase = generateCase({ seed, lesions: [values.type as LesionType] }).timepoints[0];
  // The same subject without the lesion (same seed: same anatomy and noise draw outside it).
  const healthyCase = generateCase({ seed, lesions: [] }).timepoints[0];
  const brain = classicalBrainMask(lesionCase.volume).mask;
  const scan = prepareStack(lesionCase.volume, brain);
  const healthy = prepareStack(healthyCase.volume, brain);
  // The lesion labels through the same framing: 80 HU is the top of the brain window (1.0).
  const labels = prepareStack({ ...lesionCase.volume, data: Float32Array.from(lesionCase.lesionLabels, (l) => (l > 0 ? 80 : 0)) } as typeof lesionCase.volume, brain);
  const plane = scan.size * scan.size;
  const inLesion = (q: number) => labels.images256[q] > 0.5 && scan.masks256[q] > 0;
  const lesionSlices: number[] = [];
  for (let k = 0; k < scan.sliceCount; k++) {
    let n = 0;
    for (let p = k * plane; p < (k + 1) * plane; p++) if (inLesion(p)) n++;
    if (n > 200) lesionSlices.push(k);
  }
  const step = Math.max(1, Math.floor(lesionSlices.length / slicesPerCase));
  const picked = lesionSlices.filter((_, i) => i % step === 0).slice(0, slicesPerCase);
  process.stderr.write(`seed ${seed}: ${lesionSlices.length} slices with the lesion, analysing ${picked.join(', ')}\n`);
  for (const k of picked) {
    for (let p = k * plane; p < (k + 1) * plane; p++)
      if (inLesion(p)) {
        contrastSum += scan.images256[p] - healthy.images256[p];
        contrastN++;
      }
    for (const [m, spec] of methods.entries()) {
      const source = spec.neighbours === 'scan' ? scan : healthy;
      const image = sliceOf(scan, k)!;
      const result = await inpaintSlice(
        { image, brainMask: scan.masks256.subarray(k * plane, (k + 1) * plane), above: sliceOf(source, k + 1), below: sliceOf(source, k - 1), width: scan.size, height: scan.size },
        { method: spec.method, preset: 'fast', seed: k },
      );
      const score = new Float32Array(plane);
      const truth = new Uint8Array(plane);
      const region = new Uint8Array(plane);
      for (const s of result.perScale) {
        const sums = perMethod[m].scales[sizes.indexOf(s.sizePx)];
        for (let p = 0; p < plane; p++) {
          if (!scan.masks256[k * plane + p] || !s.covered[p]) continue;
          // Clipped to the window like the app's healthy estimates.
          const residual = image[p] - Math.min(1, Math.max(0, s.healthy[p]));
          score[p] = Math.max(score[p], Math.abs(residual));
          if (inLesion(k * plane + p)) {
            sums.signedIn += residual;
            sums.absIn += Math.abs(residual);
            sums.nIn++;
          } else {
            sums.absOut += Math.abs(residual);
            sums.nOut++;
          }
        }
      }
      for (let p = 0; p < plane; p++) {
        region[p] = scan.masks256[k * plane + p];
        truth[p] = inLesion(k * plane + p) ? 1 : 0;
      }
      perMethod[m].cases.push({ scores: score, truth, region });
    }
  }
}
await model.dispose();

const to255 = (v: number) => (v * 255).toFixed(1);
const lines = [
  `Lesion type ${values.type}, seeds ${seeds.join(', ')}, ${slicesPerCase} lesion slices each, fast preset; residuals on the 0-255 brain-window scale.`,
  `True mean contrast of the lesion (scan - healthy render, same pixels): ${to255(contrastSum / contrastN)}`,
  '',
  `| method | ${sizes.map((s) => `${s} px: signed in lesion / abs outside`).join(' | ')} | AUPRC | AUROC | best Dice |`,
  `| --- | ${sizes.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
  ...methods.map((spec, m) => {
    const r = perMethod[m];
    const cells = r.scales.map((s) => `${to255(s.signedIn / s.nIn)} / ${to255(s.absOut / s.nOut)}`);
    return `| ${spec.name} | ${cells.join(' | ')} | ${averagePrecision(r.cases).toFixed(3)} | ${pixelAuroc(r.cases).toFixed(3)} | ${bestThresholdDice(r.cases).dice.toFixed(3)} |`;
  }),
];
process.stdout.write(lines.join('\n') + '\n');
