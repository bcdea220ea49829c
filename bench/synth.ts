/**
 * Synthetic CT generation benchmark at the default size (512 x 512 x 36, 0.45 mm, 5 mm):
 * a healthy phantom, a case with one hemorrhage, a case with every lesion type, a three-
 * timepoint series, and writing a case (DICOM + NIfTI). Wall and CPU time per row (median of
 * --runs), plus the machine's load average (other processes share the cores).
 *
 * Run: npx tsx bench/synth.ts [--runs N] [--size M] [--slices S]   (writes bench/results/synth.json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCase, generatePhantom, writeSyntheticCase, type LesionType } from '../src/main/core/synth/index';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

const runs = arg('runs', 3);
const size = arg('size', 512);
const slices = arg('slices', 36);
const grid = { dims: [size, size], slices } as const;

interface Row {
  task: string;
  wallMs: number;
  cpuMs: number;
  voxels: number;
  note: string;
}

async function measure(task: string, voxels: number, fn: () => unknown | Promise<unknown>): Promise<Row> {
  const walls: number[] = [];
  const cpu: number[] = [];
  let note = '';
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (typeof out === 'string') note = out;
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { task, wallMs: med(walls), cpuMs: med(cpu), voxels, note };
}

const n = size * size * slices;
const all: LesionType[] = ['iph', 'ivh', 'sah', 'sdh', 'edh', 'infarct', 'mass'];
const load0 = loadavg()[0];
// Warm the JIT once so the first row does not pay for compilation.
generatePhantom({ seed: 999, dims: [128, 128], slices: 8 });

const rows: Row[] = [];
rows.push(await measure('healthy phantom', n, () => {
  generatePhantom({ seed: 1, ...grid });
  return '';
}));
rows.push(await measure('case: iph + edema', n, () => {
  const c = generateCase({ seed: 2, lesions: ['iph'], ...grid });
  return c.timepoints[0].lesions.map((l) => `${l.id} ${l.volumeMl.toFixed(1)} mL`).join(', ');
}));
rows.push(await measure(`case: ${all.join('+')}`, n, () => {
  const c = generateCase({ seed: 3, lesions: all, ...grid });
  return `${c.timepoints[0].lesions.length} lesions, midline shift ${c.timepoints[0].midlineShiftMm.toFixed(1)} mm`;
}));
rows.push(await measure('series: iph, 3 timepoints', 3 * n, () => {
  const c = generateCase({ seed: 4, lesions: ['iph'], timepoints: 3, ...grid });
  return c.timepoints.map((t) => t.lesions[0].volumeMl.toFixed(1)).join(' -> ') + ' mL';
}));
const toWrite = generateCase({ seed: 5, lesions: ['sdh'], ...grid });
rows.push(await measure('write case (DICOM + NIfTI)', n, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  try {
    const w = await writeSyntheticCase(toWrite, join(dir, 'case'), { format: 'both' });
    return `${w.files.length} files`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}));
const load1 = loadavg()[0];

const header = ['task', 'wall s', 'cpu s', 'Mvox/s (wall)', 'note'];
const table = rows.map((r) => [r.task, (r.wallMs / 1000).toFixed(2), (r.cpuMs / 1000).toFixed(2), (r.voxels / 1e6 / (r.wallMs / 1000)).toFixed(1), r.note]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`Synthetic CT generation, ${size} x ${size} x ${slices}, median of ${runs} run(s); ${cpus().length} cores, load average ${load0.toFixed(1)} -> ${load1.toFixed(1)}`);
console.log(line(header));
for (const t of table) console.log(line(t));

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/synth.json',
  JSON.stringify({ date: new Date().toISOString(), size, slices, runs, cores: cpus().length, cpuModel: cpus()[0]?.model, loadAverage: [load0, load1], rows }, null, 2) + '\n',
);
