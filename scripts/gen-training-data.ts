/**
 * Training data for the healthy-brain inpainting model: healthy synthetic head CTs (the phantom
 * generator of src/main/core/synth) put through the method's own preprocessing, written in the
 * layout of `inpaint-ct preprocess` so that training/ reads them exactly like a user's own
 * preprocessed scans.
 *
 *   npx tsx scripts/gen-training-data.ts --out training/data/phantoms --seeds 1400-1449
 *   npx tsx scripts/gen-training-data.ts --out training/data/phantoms --seeds 1000-1399 [--shard 0/2]
 *
 * Per seed, <out>/seed-NNNN/ holds
 *   image256.nii.gz      brain-windowed [0, 1] stack, 256x256 x slices (int16 with scl_slope 1/32000:
 *                        exact to 3e-5, half the size of float32; any NIfTI reader applies the slope)
 *   brainmask256.nii.gz  brain mask on the same grid (uint8)
 *   preprocess.json      seed, brain-mask method, the preprocessing transform, timings
 * Phantoms are rendered at the default 512x512 x 36 x 5 mm geometry and only the 256 stacks are kept.
 * Existing complete seeds are skipped, so the script resumes after an interruption; shards let
 * several processes share a range.
 *
 * Seeds below 1000 and from 5000 up belong to the benchmarks and evaluation; this script refuses
 * them so that they can never leak into training.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { encodeNifti } from '../src/main/core/io/nifti';
import { classicalBrainMask } from '../src/main/core/preprocess/brain-mask';
import { outputGrid, prepareStack } from '../src/main/core/preprocess/geometry';
import { generatePhantom } from '../src/main/core/synth/phantom';
import type { Volume } from '../src/main/core/volume';

export const TRAINING_SEED_MIN = 1000;
export const TRAINING_SEED_END = 5000;
/** Stored integer per windowed unit: int16 keeps [0, 1] to 3e-5. */
const IMAGE_SCALE = 32000;

function parseSeeds(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--seeds: "${part}" is not a seed or a range like 1000-1399`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let s = a; s <= b; s++) out.push(s);
  }
  const bad = out.filter((s) => s < TRAINING_SEED_MIN || s >= TRAINING_SEED_END);
  if (bad.length) throw new Error(`Seeds ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ' ...' : ''} are reserved for benchmarks and evaluation; training seeds are ${TRAINING_SEED_MIN}..${TRAINING_SEED_END - 1}.`);
  return out;
}

/** NIfTI-1 bytes of a windowed stack stored as int16 with a scale slope. */
function encodeWindowedStack(base: Omit<Volume, 'data' | 'intensityUnit'>, images: Float32Array): Uint8Array {
  const q = new Int16Array(images.length);
  for (let p = 0; p < images.length; p++) q[p] = Math.round(Math.min(1, Math.max(0, images[p])) * IMAGE_SCALE);
  const raw = encodeNifti({ ...base, data: q, intensityUnit: 'windowed', meta: { ...base.meta, windowCenter: 0.5, windowWidth: 1 } }, { datatype: 'int16', gzip: false });
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  view.setFloat32(112, 1 / IMAGE_SCALE, true); // scl_slope
  view.setFloat32(116, 0, true); // scl_inter
  // cal_min/cal_max are in stored units scaled by the slope: keep the [0, 1] display range.
  view.setFloat32(124, 1, true);
  view.setFloat32(128, 0, true);
  return new Uint8Array(gzipSync(raw, { level: 6 }));
}

async function generateSeed(seed: number, outDir: string, maskMethod: 'classical' | 'truth'): Promise<{ slices: number; brainSlices: number; ms: number }> {
  const started = performance.now();
  const phantom = generatePhantom({ seed });
  const genMs = performance.now() - started;
  // The classical extraction is what the app runs on a user's scan, so the model trains on the
  // masks (and the skull stripping) it will see; "truth" uses the phantom's cranial cavity.
  const mask = maskMethod === 'truth' ? phantom.brainMask : classicalBrainMask(phantom.volume).mask;
  const stack = prepareStack(phantom.volume, mask);
  const grid = outputGrid(stack.transform);
  const base: Omit<Volume, 'data' | 'intensityUnit'> = { ...grid, meta: { source: 'scripts/gen-training-data.ts', modality: 'CT', seriesDescription: `phantom seed ${seed}` }, warnings: [] };
  const plane = stack.size * stack.size;
  let brainSlices = 0;
  for (let k = 0; k < stack.sliceCount; k++) {
    let c = 0;
    for (let p = k * plane; p < (k + 1) * plane; p++) c += stack.masks256[p];
    if (c > 0) brainSlices++;
  }
  const tmp = join(outDir, `seed-${seed}.tmp`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, 'image256.nii.gz'), encodeWindowedStack(base, stack.images256));
  await writeFile(join(tmp, 'brainmask256.nii.gz'), encodeNifti({ ...base, data: Int16Array.from(stack.masks256), intensityUnit: 'raw', meta: { ...base.meta, seriesDescription: 'brain mask 256' } }, { datatype: 'uint8', gzip: true }));
  const ms = performance.now() - started;
  await writeFile(
    join(tmp, 'preprocess.json'),
    JSON.stringify({ tool: 'scripts/gen-training-data.ts', seed, healthy: true, brainMask: maskMethod, window: 'brain', transform: stack.transform, warnings: stack.warnings, brainSlices, timingsMs: { phantom: Math.round(genMs), total: Math.round(ms) } }, null, 2) + '\n',
  );
  const final = join(outDir, `seed-${seed}`);
  await rm(final, { recursive: true, force: true });
  await rename(tmp, final);
  return { slices: stack.sliceCount, brainSlices, ms };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'training/data/phantoms' },
      seeds: { type: 'string', default: '1000-1399' },
      shard: { type: 'string', default: '0/1' },
      mask: { type: 'string', default: 'classical' },
      force: { type: 'boolean', default: false },
    },
  });
  const seeds = parseSeeds(values.seeds!);
  const [shard, shards] = values.shard!.split('/').map(Number);
  if (!(shards >= 1 && shard >= 0 && shard < shards)) throw new Error('--shard must be i/n with 0 <= i < n');
  if (values.mask !== 'classical' && values.mask !== 'truth') throw new Error('--mask must be classical or truth');
  const outDir = resolve(values.out!);
  await mkdir(outDir, { recursive: true });
  const mine = seeds.filter((_, i) => i % shards === shard);
  let done = 0;
  for (const seed of mine) {
    if (!values.force && existsSync(join(outDir, `seed-${seed}`, 'preprocess.json'))) {
      done++;
      continue;
    }
    const r = await generateSeed(seed, outDir, values.mask as 'classical' | 'truth');
    done++;
    process.stderr.write(`seed ${seed}: ${r.brainSlices}/${r.slices} slices with brain, ${(r.ms / 1000).toFixed(1)} s (${done}/${mine.length})\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
