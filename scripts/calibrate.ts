/**
 * Healthy reference for the z-score threshold: runs the whole analysis (brain extraction,
 * preprocessing, multi-scale grid inpainting, scoring) on healthy synthetic head CTs and pools
 * their brain scores per metric and fusion, under the same brain-border erosion and density
 * limit (voxels of 170 HU or more left out) the default reading applies, into the distribution
 * `computeHealthyReference` stores.
 *
 *   npm run calibrate -- --inpainter biharmonic [--subjects 8] [--seed 6000] [--every 2]
 *   npm run calibrate -- --inpainter diffusion --model healthy-brain-ddpm [--preset fast]
 *
 * Where it writes (what `loadHealthyReferences` reads):
 *   classical inpainters  models/classical/<method>.reference.json  as {metrics: {"absolute/max": ref, ...}}
 *   diffusion models      models/<id>/model.json under healthyReference.metrics (the rest of the
 *                         manifest is kept; its sha256 is of the ONNX file and does not change)
 * Seeds 6000+ are healthy evaluation phantoms, outside the training range (1000-4999) and the
 * benchmarks' lesion cases (5000+). `--every 2` inpaints only every 2nd slice (half the time);
 * only analysed slices enter the reference. `--dry-run` prints the result without writing.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/case';
import { analyzeVolume, scoreReconstruction, SCORE_METRICS, type InpainterChoice } from '../src/main/core/pipeline/analyze';
import { DEFAULT_MODEL_ID } from '../src/main/core/pipeline/run-analysis';
import { CLASSICAL_METHODS, type ClassicalMethod } from '../src/main/core/inpaint/classical';
import type { PresetName } from '../src/main/core/inpaint/presets';
import { erodeMask, type BorderErosion } from '../src/main/core/scoring/distance';
import { computeHealthyReference, healthyReferenceKey, parseHealthyReferenceSet, referenceQuantile, normalCdf, type HealthyReference } from '../src/main/core/scoring/threshold';
import type { FusionMethod } from '../src/main/core/scoring/fusion';
import { withoutDenseVoxels } from '../src/main/core/scoring/lesions';
import { DEFAULT_READING_SETTINGS, DEFAULT_Z_CUT } from '../src/shared/analysis';
import { modelsDir } from '../src/main/paths';
// Through a temporary file and a rename: a running app reading the reference never sees half of it.
import { replaceFile } from '../src/main/core/io/files';

const { values } = parseArgs({
  options: {
    inpainter: { type: 'string', default: 'biharmonic' },
    model: { type: 'string', default: DEFAULT_MODEL_ID },
    preset: { type: 'string', default: 'fast' },
    subjects: { type: 'string', default: '8' },
    seed: { type: 'string', default: '6000' },
    every: { type: 'string', default: '1' },
    'dry-run': { type: 'boolean', default: false },
  },
});

const subjects = Number(values.subjects);
const firstSeed = Number(values.seed);
const every = Number(values.every);
if (!(Number.isInteger(subjects) && subjects >= 1)) throw new Error('--subjects must be a whole number of 1 or more.');
if (!(Number.isInteger(every) && every >= 1)) throw new Error('--every must be a whole number of 1 or more.');
if (firstSeed < 6000) throw new Error('--seed: healthy reference seeds start at 6000 (lower seeds are training data or benchmark cases).');

let inpainter: InpainterChoice;
if (values.inpainter === 'diffusion') inpainter = { kind: 'diffusion', modelId: values.model!, preset: values.preset as PresetName, device: 'cpu' };
else if ((CLASSICAL_METHODS as readonly string[]).includes(values.inpainter!)) inpainter = { kind: 'classical', method: values.inpainter as ClassicalMethod };
else throw new Error(`--inpainter: use diffusion or one of ${CLASSICAL_METHODS.join(', ')}.`);

const FUSIONS: FusionMethod[] = ['max', 'mean'];
// The reading's default restriction, exactly as toThresholdSettings builds it.
const erosion: BorderErosion | null = DEFAULT_READING_SETTINGS.borderErosionMm > 0 ? { distance: DEFAULT_READING_SETTINGS.borderErosionMm, unit: 'mm', mode: '2d' } : null;
const denseHu = DEFAULT_READING_SETTINGS.denseExclusionHu;
const dir = modelsDir();

const started = performance.now();
/** Per metric/fusion, per scan: the scores of the eroded brain voxels on analysed slices (compact, so memory stays small). */
const pooled = new Map<string, Float32Array[]>();
let analysedSlices = 0;
for (let s = 0; s < subjects; s++) {
  const seed = firstSeed + s;
  const t0 = performance.now();
  const volume = generateCase({ seed, lesions: [] }).timepoints[0].volume;
  const depth = volume.dims[2];
  const slices = every > 1 ? Array.from({ length: depth }, (_, k) => k).filter((k) => k % every === 0) : undefined;
  const analysis = await analyzeVolume(volume, {
    inpainter,
    modelsDir: dir,
    seed,
    slices,
    onProgress: (p) => {
      if (p.total && p.done === p.total) process.stderr.write(`  ${p.stage}: ${p.done}/${p.total}\n`);
    },
  });
  // Bone partial volume and calcifications inside the brain mask are never lesion voxels in the
  // reading (which erodes around them as around the mask's edge), so they do not belong in the
  // distribution a z cut is read from either: the same region as the threshold engine's.
  const region = erodeMask(withoutDenseVoxels(analysis.brainMask, volume.data, denseHu), volume.dims, volume.spacing, erosion);
  const plane = volume.dims[0] * volume.dims[1];
  const analysed = new Uint8Array(depth);
  for (const k of analysis.recon.slices) analysed[k] = 1;
  analysedSlices += analysis.recon.slices.length;
  let count = 0;
  for (let p = 0; p < region.length; p++) if (region[p] && analysed[Math.floor(p / plane)]) count++;
  for (const metric of SCORE_METRICS) {
    for (const fusion of FUSIONS) {
      const { score } = scoreReconstruction(analysis.recon, { metric, fusion });
      const kept = new Float32Array(count);
      let at = 0;
      for (let p = 0; p < region.length; p++) if (region[p] && analysed[Math.floor(p / plane)]) kept[at++] = score[p];
      const key = healthyReferenceKey(metric, fusion);
      pooled.set(key, [...(pooled.get(key) ?? []), kept]);
    }
  }
  process.stderr.write(`seed ${seed}: ${analysis.recon.slices.length} slices analysed, ${count} brain voxels after ${erosion ? `${erosion.distance} mm` : 'no'} erosion${denseHu !== null ? ` and without voxels of ${denseHu} HU or more` : ''}, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

const label = inpainter.kind === 'diffusion' ? `diffusion model ${inpainter.modelId} (${inpainter.preset} preset)` : `${inpainter.method} inpainting`;
const source = `${subjects} healthy synthetic phantoms (seeds ${firstSeed}-${firstSeed + subjects - 1}), ${analysedSlices} slices${every > 1 ? ` (every ${every}${every === 2 ? 'nd' : 'th'} slice)` : ''}, ${label}, default grid, classical brain mask; scripts/calibrate.ts`;
const metrics: Record<string, HealthyReference> = {};
for (const [key, maps] of pooled) {
  const [metric, fusion] = key.split('/');
  metrics[key] = computeHealthyReference(
    maps,
    maps.map((m) => new Uint8Array(m.length).fill(1)),
    { metric, fusion, borderErosion: erosion, denseExclusionHu: denseHu, source },
  );
}
// Validate what is about to be written with the loader's own parser.
parseHealthyReferenceSet({ metrics });

const seconds = (performance.now() - started) / 1000;
const p4 = normalCdf(4);
console.log(`Healthy reference for ${label}: ${subjects} scans, ${analysedSlices} slices, ${seconds.toFixed(0)} s on ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
console.log(`metric/fusion     voxels        mean         std   z=4 gaussian  z=${DEFAULT_Z_CUT} empirical  z=4 empirical`);
for (const [key, ref] of Object.entries(metrics)) {
  console.log(`${key.padEnd(16)} ${String(ref.voxels).padStart(8)}  ${ref.mean.toPrecision(4).padStart(10)}  ${ref.std.toPrecision(4).padStart(10)}  ${(ref.mean + 4 * ref.std).toPrecision(4).padStart(12)}  ${referenceQuantile(ref, normalCdf(DEFAULT_Z_CUT)).toPrecision(4).padStart(13)}  ${referenceQuantile(ref, p4).toPrecision(4).padStart(13)}`);
}

if (values['dry-run']) process.exit(0);
if (inpainter.kind === 'classical') {
  const out = join(dir, 'classical', `${inpainter.method}.reference.json`);
  await mkdir(join(dir, 'classical'), { recursive: true });
  await replaceFile(out, JSON.stringify({ metrics }, null, 2) + '\n');
  console.log(`wrote ${out}`);
} else {
  const path = join(dir, inpainter.modelId, 'model.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const previous = (manifest.healthyReference ?? {}) as { metrics?: Record<string, unknown> };
  manifest.healthyReference = { ...previous, metrics: { ...(previous.metrics ?? {}), ...metrics } };
  await replaceFile(path, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote healthyReference.metrics into ${path}`);
}
console.log(
  'New analyses read this reference. Finished runs keep the one they were analysed with; move one to this with "Read against the current reference" in its threshold panel, or inpaint-ct threshold <run-dir> --adopt-current-reference.',
);
