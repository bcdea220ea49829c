/**
 * Brain extraction benchmark: the classical method against the synthetic phantom's ground truth
 * (the cranial cavity: brain, CSF, ventricles) over subjects with and without each lesion type,
 * at the default size (512 x 512 x 36, 0.45 mm pixels, 5 mm slices).
 *
 * Per case: Dice against the truth, the share of lesion voxels inside the mask (hemorrhage and
 * infarct must stay brain), wall and CPU time of the extraction, and of the 256x256 preparation
 * (window, pad/crop, area resize). One table per lesion type (mean / min), one overall row.
 *
 * Run: npx tsx bench/brain.ts [--cases N] [--size M] [--slices S] [--seed S0]
 *      (writes bench/results/brain.json). Generation dominates the run time (~5-15 s a case here).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dice } from '../src/main/core/metrics/overlap';
import { classicalBrainMask } from '../src/main/core/preprocess/brain-mask';
import { prepareStack } from '../src/main/core/preprocess/geometry';
import { generateCase } from '../src/main/core/synth/case';
import { LESION_TYPES, type LesionType } from '../src/main/core/synth/lesions';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

const GROUPS: ('none' | LesionType)[] = ['none', ...LESION_TYPES];
const cases = arg('cases', 3 * GROUPS.length);
const size = arg('size', 512);
const slices = arg('slices', 36);
const seed0 = arg('seed', 1000);

interface CaseRow {
  seed: number;
  lesion: string;
  lesionMl: number;
  dice: number;
  /** Share of lesion voxels inside the extracted mask (1 when there is no lesion). */
  lesionInside: number;
  /** Lesion voxels outside the mask. */
  lesionMissedVoxels: number;
  truthMl: number;
  maskMl: number;
  extractWallMs: number;
  extractCpuMs: number;
  prepareWallMs: number;
}

function timed<T>(fn: () => T): { value: T; wallMs: number; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const c = process.cpuUsage(c0);
  return { value, wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
}

const rows: CaseRow[] = [];
for (let c = 0; c < cases; c++) {
  const lesion = GROUPS[c % GROUPS.length];
  const seed = seed0 + c;
  const kase = generateCase({ seed, dims: [size, size], slices, ...(size !== 512 ? { spacing: [230.4 / size, 230.4 / size] } : {}), lesions: lesion === 'none' ? [] : [lesion] });
  const tp = kase.timepoints[0];
  const voxelMl = (tp.volume.spacing[0] * tp.volume.spacing[1] * tp.volume.spacing[2]) / 1000;
  const extraction = timed(() => classicalBrainMask(tp.volume));
  const mask = extraction.value.mask;
  const prepare = timed(() => prepareStack(tp.volume, mask));
  let lesionVoxels = 0;
  let inside = 0;
  for (const l of tp.lesions) {
    for (const v of l.voxels) {
      lesionVoxels++;
      inside += mask[v];
    }
  }
  let truth = 0;
  for (const v of kase.brainMask) truth += v;
  const row: CaseRow = {
    seed,
    lesion,
    lesionMl: tp.lesions.reduce((s, l) => s + l.volumeMl, 0),
    dice: dice(mask, kase.brainMask),
    lesionInside: lesionVoxels ? inside / lesionVoxels : 1,
    lesionMissedVoxels: lesionVoxels - inside,
    truthMl: truth * voxelMl,
    maskMl: extraction.value.stats.volumeMl,
    extractWallMs: extraction.wallMs,
    extractCpuMs: extraction.cpuMs,
    prepareWallMs: prepare.wallMs,
  };
  rows.push(row);
  process.stderr.write(`case ${c + 1}/${cases} seed ${seed} ${lesion}: Dice ${row.dice.toFixed(4)}, lesion inside ${(100 * row.lesionInside).toFixed(2)}%, ${row.extractWallMs.toFixed(0)} ms\n`);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const min = (xs: number[]) => Math.min(...xs);
function summarise(group: string, rs: CaseRow[]) {
  return {
    group,
    cases: rs.length,
    diceMean: mean(rs.map((r) => r.dice)),
    diceMin: min(rs.map((r) => r.dice)),
    lesionInsideMin: min(rs.map((r) => r.lesionInside)),
    lesionMissedVoxels: rs.reduce((s, r) => s + r.lesionMissedVoxels, 0),
    extractWallMsMean: mean(rs.map((r) => r.extractWallMs)),
    extractCpuMsMean: mean(rs.map((r) => r.extractCpuMs)),
    prepareWallMsMean: mean(rs.map((r) => r.prepareWallMs)),
  };
}
const groups = GROUPS.map((g) => summarise(g, rows.filter((r) => r.lesion === g))).filter((g) => g.cases > 0);
const overall = summarise('all', rows);

const header = ['lesion', 'cases', 'Dice mean', 'Dice min', 'lesion in mask (min)', 'missed lesion vox', 'extract ms (wall)', 'extract ms (CPU)', 'prepare ms'];
const fmt = (g: ReturnType<typeof summarise>) => [
  g.group,
  String(g.cases),
  g.diceMean.toFixed(4),
  g.diceMin.toFixed(4),
  `${(100 * g.lesionInsideMin).toFixed(2)}%`,
  String(g.lesionMissedVoxels),
  g.extractWallMsMean.toFixed(0),
  g.extractCpuMsMean.toFixed(0),
  g.prepareWallMsMean.toFixed(0),
];
const table = [header, ...groups.map(fmt), fmt(overall)];
const widths = header.map((_, c) => Math.max(...table.map((r) => r[c].length)));
const line = (r: string[]) => `| ${r.map((x, c) => x.padEnd(widths[c])).join(' | ')} |`;
console.log(`Brain extraction (classical) vs phantom truth, ${size}x${size}x${slices}, ${cases} cases; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(1)}`);
console.log(line(table[0]));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of table.slice(1)) console.log(line(r));

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/brain.json',
  JSON.stringify({ bench: 'brain', date: new Date().toISOString(), size: [size, size, slices], cpus: cpus().length, loadAverage: loadavg(), overall, groups, cases: rows }, null, 2) + '\n',
);
