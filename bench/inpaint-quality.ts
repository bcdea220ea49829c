/**
 * Inpainting quality benchmark: how well each inpainter repaints healthy brain it cannot see.
 *
 * Healthy synthetic head CTs (phantom seeds 5500+, never used for training, which uses
 * 1000-4999), brain-extracted and preprocessed exactly as an analysis does (classical brain
 * mask, brain window, 256x256 skull-stripped stack). On each chosen slice, one mask at a time of
 * each kind is hidden and filled with `inpaintMasked`:
 *   square32, square64  a square placed at random fully inside the brain
 *   blob                an irregular blob (union of random discs, ~900-2000 px) fully inside the brain
 * Metrics (`inpaintingQuality`, windowed input) inside the mask only: MAE on the 0-255 brain
 * window scale (the inpainting challenge's metric), MAE in HU within the window, PSNR and SSIM,
 * plus wall time per mask. Every method sees the same masks.
 *
 * Methods: nearest, linear, harmonic, biharmonic, and the diffusion model (fast preset, CPU) when
 * models/<id>/ is installed. The diffusion model is conditioned on the slices above and below,
 * as in an analysis.
 *
 * Run: npx tsx bench/inpaint-quality.ts [--subjects 4] [--slices 6] [--seed 5500]
 *        [--kinds square32,square64,blob] [--methods nearest,...,diffusion] [--model ID]
 *        [--preset fast] [--mask truth|classical]
 *        [--start-fraction F] [--steps N] [--eta E] [--init linear|harmonic|...]   (sampler experiments)
 * Writes bench/results/inpaint-quality.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/case';
import { Rng } from '../src/main/core/synth/random';
import { classicalBrainMask } from '../src/main/core/preprocess/brain-mask';
import { prepareStack } from '../src/main/core/preprocess/geometry';
import { inpaintMasked, type InpaintMethod } from '../src/main/core/inpaint/engine';
import { CLASSICAL_METHODS, type ClassicalMethod } from '../src/main/core/inpaint/classical';
import { listModels, loadModel, type LoadedModel } from '../src/main/core/inpaint/model';
import { onnxNetwork } from '../src/main/core/inpaint/network';
import type { DiffusionPreset, PresetName } from '../src/main/core/inpaint/presets';
import { inpaintingQuality } from '../src/main/core/metrics/inpainting';
import { DEFAULT_MODEL_ID } from '../src/main/core/pipeline/run-analysis';
import { modelsDir } from '../src/main/paths';

const { values } = parseArgs({
  options: {
    subjects: { type: 'string', default: '4' },
    slices: { type: 'string', default: '6' },
    seed: { type: 'string', default: '5500' },
    kinds: { type: 'string', default: 'square32,square64,blob' },
    methods: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_ID },
    preset: { type: 'string', default: 'fast' },
    mask: { type: 'string', default: 'classical' },
    // Sampler experiments on top of the preset (e.g. --start-fraction 0.3 --steps 2).
    'start-fraction': { type: 'string' },
    steps: { type: 'string' },
    eta: { type: 'string' },
    init: { type: 'string' },
  },
});
const presetOverrides: Partial<DiffusionPreset> = {
  ...(values['start-fraction'] !== undefined ? { startFraction: Number(values['start-fraction']) } : {}),
  ...(values.steps !== undefined ? { steps: Number(values.steps) } : {}),
  ...(values.eta !== undefined ? { eta: Number(values.eta) } : {}),
};
for (const [k, v] of Object.entries(presetOverrides)) if (!Number.isFinite(v)) throw new Error(`--${k}: a number, please.`);
if (values.init !== undefined) {
  if (!(CLASSICAL_METHODS as readonly string[]).includes(values.init)) throw new Error(`--init: one of ${CLASSICAL_METHODS.join(', ')}.`);
  presetOverrides.init = values.init as ClassicalMethod;
}
const subjects = Number(values.subjects);
const slicesPerSubject = Number(values.slices);
const firstSeed = Number(values.seed);
if (firstSeed < 5000) throw new Error('--seed: seeds below 5000 overlap the training range; use 5500 or more.');
type MaskKind = 'square32' | 'square64' | 'blob';
const kinds = values.kinds!.split(',') as MaskKind[];
for (const k of kinds) if (!['square32', 'square64', 'blob'].includes(k)) throw new Error(`--kinds: unknown mask kind "${k}"`);
const SIZE = 256;
const PLANE = SIZE * SIZE;

// ---------------------------------------------------------------------------------------------
// Methods

interface Method {
  name: string;
  method: InpaintMethod;
}
const wanted = values.methods?.split(',');
const methods: Method[] = CLASSICAL_METHODS.filter((m) => !wanted || wanted.includes(m)).map((m: ClassicalMethod) => ({ name: m, method: { kind: 'classical', method: m } }));
let model: LoadedModel | null = null;
const modelId = values.model!;
if (!wanted || wanted.includes('diffusion')) {
  const installed = (await listModels(modelsDir())).some((m) => m.id === modelId && m.manifest);
  if (installed) {
    model = await loadModel(modelsDir(), modelId, { kind: 'inpainting', device: 'cpu' });
    methods.push({ name: `diffusion:${modelId}`, method: { kind: 'diffusion', network: onnxNetwork(model) } });
    if (modelId === 'test-tiny') process.stderr.write('note: test-tiny is an untrained plumbing model; its numbers mean nothing.\n');
  } else process.stderr.write(`note: model ${modelId} is not installed; the diffusion row is skipped.\n`);
}

// ---------------------------------------------------------------------------------------------
// Masks

/** Summed-area table of the brain mask: O(1) "is this rectangle all brain". */
function integral(mask: Uint8Array): Int32Array {
  const s = new Int32Array((SIZE + 1) * (SIZE + 1));
  for (let y = 0; y < SIZE; y++) {
    let row = 0;
    for (let x = 0; x < SIZE; x++) {
      row += mask[y * SIZE + x] ? 1 : 0;
      s[(y + 1) * (SIZE + 1) + x + 1] = s[y * (SIZE + 1) + x + 1] + row;
    }
  }
  return s;
}

function rectSum(s: Int32Array, x0: number, y0: number, w: number, h: number): number {
  const W = SIZE + 1;
  return s[(y0 + h) * W + x0 + w] - s[y0 * W + x0 + w] - s[(y0 + h) * W + x0] + s[y0 * W + x0];
}

/** Top-left corners where a side x side square lies entirely in the brain. */
function squarePositions(s: Int32Array, side: number): number[] {
  const out: number[] = [];
  for (let y = 0; y + side <= SIZE; y++) for (let x = 0; x + side <= SIZE; x++) if (rectSum(s, x, y, side, side) === side * side) out.push(y * SIZE + x);
  return out;
}

function squareMask(rng: Rng, positions: number[], side: number): Uint8Array {
  const at = positions[Math.floor(rng.next() * positions.length)];
  const x0 = at % SIZE;
  const y0 = Math.floor(at / SIZE);
  const m = new Uint8Array(PLANE);
  for (let y = y0; y < y0 + side; y++) m.fill(1, y * SIZE + x0, y * SIZE + x0 + side);
  return m;
}

/** An irregular blob: 3-6 overlapping discs around a centre, redrawn until it lies entirely in the brain. */
function blobMask(rng: Rng, brain: Uint8Array): Uint8Array | null {
  const inside: number[] = [];
  for (let p = 0; p < PLANE; p++) if (brain[p]) inside.push(p);
  for (let attempt = 0; attempt < 400; attempt++) {
    const c = inside[Math.floor(rng.next() * inside.length)];
    const cx = c % SIZE;
    const cy = Math.floor(c / SIZE);
    const discs = 3 + Math.floor(rng.next() * 4);
    const m = new Uint8Array(PLANE);
    let area = 0;
    let ok = true;
    for (let d = 0; d < discs && ok; d++) {
      const r = 6 + rng.next() * 9;
      const dx = (rng.next() * 2 - 1) * 14;
      const dy = (rng.next() * 2 - 1) * 14;
      const x0 = cx + dx;
      const y0 = cy + dy;
      for (let y = Math.floor(y0 - r); y <= Math.ceil(y0 + r) && ok; y++) {
        for (let x = Math.floor(x0 - r); x <= Math.ceil(x0 + r); x++) {
          if ((x - x0) ** 2 + (y - y0) ** 2 > r * r) continue;
          if (x < 0 || y < 0 || x >= SIZE || y >= SIZE || !brain[y * SIZE + x]) {
            ok = false;
            break;
          }
          const p = y * SIZE + x;
          if (!m[p]) {
            m[p] = 1;
            area++;
          }
        }
      }
    }
    if (ok && area >= 400) return m;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Run

interface Sample {
  method: string;
  kind: MaskKind;
  seed: number;
  slice: number;
  pixels: number;
  mae255: number;
  maeHu: number;
  psnrDb: number;
  ssim: number;
  ms: number;
}
const samples: Sample[] = [];
const started = performance.now();

for (let s = 0; s < subjects; s++) {
  const seed = firstSeed + s;
  const t0 = performance.now();
  const tp = generateCase({ seed, lesions: [] });
  const volume = tp.timepoints[0].volume;
  const brain = values.mask === 'truth' ? tp.brainMask : classicalBrainMask(volume).mask;
  const stack = prepareStack(volume, brain);
  const depth = stack.sliceCount;
  // Slices where even the largest mask fits inside the brain, spread evenly over that range.
  const largest = kinds.includes('square64') ? 64 : 32;
  const eligible: number[] = [];
  const integrals = new Map<number, Int32Array>();
  for (let k = 0; k < depth; k++) {
    const sat = integral(stack.masks256.subarray(k * PLANE, (k + 1) * PLANE));
    if (squarePositions(sat, largest).length >= 16) {
      eligible.push(k);
      integrals.set(k, sat);
    }
  }
  const chosen = eligible.length <= slicesPerSubject ? eligible : Array.from({ length: slicesPerSubject }, (_, i) => eligible[Math.round(((i + 0.5) * eligible.length) / slicesPerSubject - 0.5)]);
  process.stderr.write(`seed ${seed}: ${depth} slices, ${eligible.length} eligible, using ${chosen.join(',')} (${((performance.now() - t0) / 1000).toFixed(1)} s to generate and preprocess)\n`);
  for (const k of chosen) {
    const image = stack.images256.subarray(k * PLANE, (k + 1) * PLANE);
    const brainK = stack.masks256.subarray(k * PLANE, (k + 1) * PLANE);
    const above = k + 1 < depth ? stack.images256.subarray((k + 1) * PLANE, (k + 2) * PLANE) : null;
    const below = k > 0 ? stack.images256.subarray((k - 1) * PLANE, k * PLANE) : null;
    const sat = integrals.get(k)!;
    for (const kind of kinds) {
      const rng = Rng.stream(seed * 1000 + k, `inpaint-quality/${kind}`);
      const mask = kind === 'blob' ? blobMask(rng, brainK) : squareMask(rng, squarePositions(sat, kind === 'square64' ? 64 : 32), kind === 'square64' ? 64 : 32);
      if (!mask) {
        process.stderr.write(`  slice ${k}: no blob fits inside the brain; skipped\n`);
        continue;
      }
      for (const m of methods) {
        const t = performance.now();
        const out = await inpaintMasked({ image, brainMask: brainK, above, below, mask, width: SIZE, height: SIZE }, { method: m.method, preset: values.preset as PresetName, presetOverrides, seed: seed * 1000 + k });
        const ms = performance.now() - t;
        const q = inpaintingQuality(image, out.values, mask, { width: SIZE, height: SIZE }, { input: 'windowed', window: stack.transform.window });
        samples.push({ method: m.name, kind, seed, slice: k, pixels: q.pixels, mae255: q.mae255, maeHu: q.maeHu, psnrDb: q.psnrDb, ssim: q.ssim, ms });
      }
    }
  }
}
await model?.dispose();

// ---------------------------------------------------------------------------------------------
// Report

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
const METRICS = ['mae255', 'maeHu', 'psnrDb', 'ssim', 'ms'] as const;
type Summary = Record<(typeof METRICS)[number], { median: number; mean: number }>;
const rows: { method: string; kind: MaskKind; masks: number; meanPixels: number; summary: Summary }[] = [];
for (const m of methods) {
  for (const kind of kinds) {
    const list = samples.filter((x) => x.method === m.name && x.kind === kind);
    if (!list.length) continue;
    const summary = Object.fromEntries(METRICS.map((key) => [key, { median: median(list.map((x) => x[key])), mean: mean(list.map((x) => x[key])) }])) as Summary;
    rows.push({ method: m.name, kind, masks: list.length, meanPixels: Math.round(mean(list.map((x) => x.pixels))), summary });
  }
}

const cell = (v: { median: number; mean: number }, digits: number) => `${v.median.toFixed(digits)} (${v.mean.toFixed(digits)})`;
const header = ['method', 'mask', 'n', 'px', 'MAE255', 'MAE HU', 'PSNR dB', 'SSIM', 'ms/mask'];
const table = rows.map((r) => [r.method, r.kind, String(r.masks), String(r.meanPixels), cell(r.summary.mae255, 2), cell(r.summary.maeHu, 2), cell(r.summary.psnrDb, 2), cell(r.summary.ssim, 3), cell(r.summary.ms, 0)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`Inpainting quality inside the mask, healthy phantoms seeds ${firstSeed}-${firstSeed + subjects - 1}, ${slicesPerSubject} slices each; median (mean) over masks${Object.keys(presetOverrides).length ? `; preset ${values.preset} with ${JSON.stringify(presetOverrides)}` : ''}`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table) console.log(line(row));
const totalS = (performance.now() - started) / 1000;
console.log(`total ${totalS.toFixed(0)} s on ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'} (load ${loadavg()[0].toFixed(1)}; timings are noisy on a shared machine)`);

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/inpaint-quality.json',
  JSON.stringify(
    {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      seeds: [firstSeed, firstSeed + subjects - 1],
      slicesPerSubject,
      brainMask: values.mask,
      preset: model ? values.preset : null,
      presetOverrides: model ? presetOverrides : null,
      model: model ? { id: model.manifest.id, version: model.manifest.version, sha256: model.manifest.sha256 } : null,
      totalSeconds: totalS,
      rows,
      samples,
    },
    null,
    1,
  ),
);
