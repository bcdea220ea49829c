/**
 * Inpainting quality of a model through the app's own engine, against the classical inpainters,
 * on held-out healthy slices: squares of each size that lie inside the brain (at least 95 % of
 * their pixels in the brain mask), inpainted on the method's grids (both offsets; each grid is
 * scored on its own, so every square is inpainted once with its real neighbours as context), scored with src/main/core/metrics (MAE on the 0-255 brain-window
 * scale; SSIM averaged over the squares' pixels).
 *
 *   npx tsx training/evaluate.ts --data training/data/phantoms --seeds 1400-1449 \
 *       [--model healthy-brain-ddpm] [--models-dir models] [--slices 2] [--sizes 32,64] \
 *       [--methods diffusion,biharmonic] [--preset fast] [--write-card] [--out FILE]
 *
 * Phantom subjects (a seed in preprocess.json) are also scored against their noise-free render
 * (the same phantom without acquisition noise, prepared like the stored stack): MAE and SSIM of
 * the fill against the anatomy, with the clean image outside the region too, so that only the
 * fill differs. Against the noisy slice no inpainter can reach a high SSIM (the noise is not
 * predictable: training/noise-floor.ts), so this second pair says how well the anatomy was
 * repainted. `--no-clean` skips it.
 *
 * --write-card stores the numbers in the model's model.json card (metrics.inpaintingQuality, or
 * metrics.inpaintingQualityVariants[<override>] when --override is given) and renders the card as
 * README.md beside it; the ONNX file and its sha256 do not change.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClassicalMethod } from '../src/main/core/inpaint/classical';
import { inpaintSlice, type InpaintMethod } from '../src/main/core/inpaint/engine';
import { loadModel } from '../src/main/core/inpaint/model';
import { onnxNetwork } from '../src/main/core/inpaint/network';
import { inpaintingQuality } from '../src/main/core/metrics/inpainting';
import { renderModelCard } from './card';
import { loadPreprocessedStack, phantomStacks, pickBrainSlices, sliceInput } from './stack';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'training/data/phantoms' },
    seeds: { type: 'string', default: '1400-1449' },
    subjects: { type: 'string' },
    model: { type: 'string', default: 'healthy-brain-ddpm' },
    'models-dir': { type: 'string', default: 'models' },
    slices: { type: 'string', default: '2' },
    sizes: { type: 'string', default: '32,64' },
    methods: { type: 'string', default: 'diffusion,biharmonic' },
    preset: { type: 'string', default: 'fast' },
    /** JSON overrides of the preset's fields, e.g. '{"steps":1}' (to compare sampler settings). */
    override: { type: 'string' },
    seed: { type: 'string', default: '0' },
    'write-card': { type: 'boolean', default: false },
    'no-clean': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function parseSeeds(spec: string): number[] {
  return spec.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, i) => a + i);
  });
}

interface Sums {
  pixels: number;
  abs: number;
  ssim: number;
  /** Against the noise-free render (phantoms only). */
  cleanPixels: number;
  cleanAbs: number;
  cleanSsim: number;
  squares: number;
  seconds: number;
  slices: number;
}

/** A square counts as inside the brain when this fraction of its pixels is (the mask's edge is ragged at 256 px). */
const INSIDE_FRACTION = 0.95;
const sizes = values.sizes!.split(',').map(Number);
const methods = values.methods!.split(',');
const dataRoot = resolve(values.data!);
let seeds = parseSeeds(values.seeds!).filter((s) => existsSync(join(dataRoot, `seed-${s}`, 'preprocess.json')));
if (values.subjects) seeds = seeds.slice(0, Number(values.subjects));
if (!seeds.length) throw new Error(`No preprocessed subjects for seeds ${values.seeds} under ${dataRoot}.`);

let diffusion: InpaintMethod | null = null;
let dispose = async () => {};
let modelInfo: Record<string, unknown> = {};
if (methods.includes('diffusion')) {
  const model = await loadModel(resolve(values['models-dir']!), values.model!, { device: 'cpu' });
  diffusion = { kind: 'diffusion', network: onnxNetwork(model) };
  dispose = () => model.dispose();
  modelInfo = { id: model.manifest.id, version: model.manifest.version, sha256: model.manifest.sha256 };
}

const sums = new Map<string, Sums>();
const key = (m: string, s: number) => `${m}@${s}`;
const load0 = loadavg()[0];
const started = performance.now();
/** The subject's noise-free images on the stored stack's grid, when it is a phantom prepared with the classical mask. */
async function cleanImages(dir: string, stack: { images: Float32Array }): Promise<Float32Array | null> {
  if (values['no-clean']) return null;
  const meta = JSON.parse(await readFile(join(dir, 'preprocess.json'), 'utf8')) as { seed?: number; brainMask?: string };
  if (typeof meta.seed !== 'number' || meta.brainMask !== 'classical') return null;
  const { noisy, clean } = phantomStacks(meta.seed);
  // The noisy render must reproduce the stored stack, or the clean one is not its anatomy.
  const check = noisy.images256;
  let worst = 0;
  for (let p = 0; p < check.length; p += 97) worst = Math.max(worst, Math.abs(check[p] - stack.images[p]));
  if (worst > 1e-3) throw new Error(`${dir}: the phantom generator no longer reproduces this stack (max difference ${worst.toFixed(4)}); regenerate the data.`);
  return clean.images256;
}

for (const seed of seeds) {
  const dir = join(dataRoot, `seed-${seed}`);
  const stack = await loadPreprocessedStack(dir);
  const clean = await cleanImages(dir, stack);
  const plane = stack.size * stack.size;
  for (const k of pickBrainSlices(stack, Number(values.slices))) {
    const input = sliceInput(stack, k);
    for (const size of sizes)
      for (const m of methods) {
        const method: InpaintMethod = m === 'diffusion' ? diffusion! : { kind: 'classical', method: m as ClassicalMethod };
        const res = await inpaintSlice(input, { method, preset: values.preset as 'fast', presetOverrides: values.override ? JSON.parse(values.override) : undefined, sizesPx: [size], halfOffsets: true, seed: Number(values.seed) + seed * 100 + k });
        const s = sums.get(key(m, size)) ?? { pixels: 0, abs: 0, ssim: 0, cleanPixels: 0, cleanAbs: 0, cleanSsim: 0, squares: 0, seconds: 0, slices: 0 };
        for (const grid of res.grids) {
          const region = new Uint8Array(stack.size * stack.size);
          let squares = 0;
          for (const sq of grid.squares) {
            if (sq.brainPixels < INSIDE_FRACTION * size * size || sq.x1 - sq.x0 < size || sq.y1 - sq.y0 < size) continue;
            squares++;
            for (let y = sq.y0; y < sq.y1; y++) region.fill(1, y * stack.size + sq.x0, y * stack.size + sq.x1);
          }
          if (!squares) continue;
          const q = inpaintingQuality(input.image, grid.healthy, region, { width: stack.size, height: stack.size }, { input: 'windowed' });
          s.pixels += q.pixels;
          s.abs += q.mae255 * q.pixels;
          s.ssim += q.ssim * q.pixels;
          s.squares += squares;
          if (clean) {
            const anatomy = clean.subarray(k * plane, (k + 1) * plane);
            const composed = Float32Array.from(anatomy);
            for (let p = 0; p < plane; p++) if (region[p]) composed[p] = grid.healthy[p];
            const c = inpaintingQuality(anatomy, composed, region, { width: stack.size, height: stack.size }, { input: 'windowed' });
            s.cleanPixels += c.pixels;
            s.cleanAbs += c.mae255 * c.pixels;
            s.cleanSsim += c.ssim * c.pixels;
          }
        }
        s.seconds += res.timings.totalMs / 1000;
        s.slices++;
        sums.set(key(m, size), s);
      }
  }
  process.stderr.write(`seed ${seed} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}
await dispose();

const results: Record<string, Record<string, { mae255: number; ssim: number; noiseFree?: { mae255: number; ssim: number }; squares: number; slices: number; secondsPerSlice: number }>> = {};
for (const size of sizes)
  for (const m of methods) {
    const s = sums.get(key(m, size));
    if (!s) continue;
    const noiseFree = s.cleanPixels ? { mae255: s.cleanAbs / s.cleanPixels, ssim: s.cleanSsim / s.cleanPixels } : undefined;
    (results[`${size}px`] ??= {})[m] = { mae255: s.abs / s.pixels, ssim: s.ssim / s.pixels, ...(noiseFree ? { noiseFree } : {}), squares: s.squares, slices: s.slices, secondsPerSlice: s.seconds / s.slices };
  }
const lines = ['size   method       MAE(0-255)  SSIM   | noise-free truth: MAE  SSIM  | squares  slices  s/slice(2 grids)  vs biharmonic'];
for (const [size, byMethod] of Object.entries(results)) {
  const base = byMethod.biharmonic?.mae255;
  for (const [m, r] of Object.entries(byMethod))
    lines.push(
      `${size.padEnd(6)} ${m.padEnd(12)} ${r.mae255.toFixed(2).padStart(10)}  ${r.ssim.toFixed(3)}  | ${(r.noiseFree?.mae255.toFixed(2) ?? '-').padStart(20)}  ${r.noiseFree?.ssim.toFixed(3) ?? '  -  '} | ${String(r.squares).padStart(7)}  ${String(r.slices).padStart(6)}  ${r.secondsPerSlice.toFixed(2).padStart(18)}  ${base && m !== 'biharmonic' ? `${(100 * (1 - r.mae255 / base)).toFixed(1)}% lower MAE` : ''}`,
    );
}
console.log(lines.join('\n'));
console.log(`${seeds.length} subjects (seeds ${seeds[0]}..${seeds[seeds.length - 1]}), ${values.slices} slices each, preset ${values.preset}${values.override ? ` with ${values.override}` : ''}; ${cpus()[0]?.model} x${cpus().length}, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`);

const report = {
  date: new Date().toISOString(),
  model: modelInfo,
  preset: values.preset,
  presetOverrides: values.override ? JSON.parse(values.override) : undefined,
  data: { root: values.data, seeds: `${seeds[0]}-${seeds[seeds.length - 1]}`, subjects: seeds.length, slicesPerSubject: Number(values.slices) },
  protocol: 'squares of both grids of each size (offset 0 and half a square) with >= 95% of their pixels in the brain mask, each grid inpainted with the app engine (9 phases) and scored on its own; MAE on the 0-255 brain-window scale and SSIM (Wang 11x11, region-averaged) from src/main/core/metrics/inpainting.ts, against the noisy slice and (noiseFree) against the same phantom rendered without acquisition noise, with the noise-free image outside the region too',
  results,
};
if (values.out) await writeFile(resolve(values.out), JSON.stringify(report, null, 2) + '\n');
if (values['write-card']) {
  const path = join(resolve(values['models-dir']!), values.model!, 'model.json');
  const manifest = JSON.parse(await readFile(path, 'utf8'));
  if (values.override) manifest.card.metrics.inpaintingQualityVariants = { ...manifest.card.metrics.inpaintingQualityVariants, [values.override]: report };
  else manifest.card.metrics = { ...manifest.card.metrics, inpaintingQuality: report };
  await writeFile(path, JSON.stringify(manifest, null, 2) + '\n');
  await writeFile(join(dirname(path), 'README.md'), renderModelCard(manifest));
  console.log(`card metrics written to ${path} and README.md`);
}
