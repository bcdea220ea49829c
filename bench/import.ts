/**
 * Import benchmark: DICOM series of 512x512 CT slices written with our writer into a temp folder,
 * then `scanInputs` timed end to end (folder walk, header pass, pixel pass). Reports the median of
 * a few runs and the peak RSS / heap / array-buffer memory seen while scanning. Each series is
 * scanned in a fresh child process, so the memory numbers are the importer's alone (not the
 * generator's leftovers).
 *
 *   npx tsx --expose-gc bench/import.ts [--runs N] [--slices 40,300]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeDicomCtSeries } from '../src/main/core/io/dicom-write';
import { scanInputs } from '../src/main/core/io/index';
import type { Volume } from '../src/main/core/volume';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Number(arg('runs', '5'));
const sliceCounts = arg('slices', '40,300').split(',').map(Number);
const MB = 1024 * 1024;

/** Head-like phantom: air, skull ring, brain, with noise, so files are realistic in size and content. */
function phantom(nz: number): Volume {
  const n = 512;
  const data = new Int16Array(n * n * nz);
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 21) - 10;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        const r = Math.hypot(i - 256, (j - 256) * 1.2);
        const hu = r > 200 ? -1000 : r > 185 ? 1200 : 35 + noise();
        data[i + j * n + k * n * n] = hu;
      }
    }
  }
  return { data, dims: [n, n, nz], spacing: [0.45, 0.45, 5], origin: [-115, -115, -100], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], intensityUnit: 'HU', meta: { modality: 'CT', patientName: 'Bench^Phantom' }, warnings: [] };
}

interface Row {
  slices: number;
  files: number;
  medianMs: number;
  minMs: number;
  msPerSlice: number;
  peakRssMb: number;
  peakHeapMb: number;
  peakExternalMb: number;
  volumeMb: number;
}

async function measure(dir: string, nz: number): Promise<Row> {
  const times: number[] = [];
  let peakRss = 0;
  let peakHeap = 0;
  let peakExternal = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakExternal = Math.max(peakExternal, m.arrayBuffers);
  };
  // Memory is taken from the first run only: later runs would also count the previous run's
  // volume until the collector gets to it.
  let firstRun = true;
  for (let r = 0; r < runs; r++) {
    globalThis.gc?.();
    const timer = firstRun ? setInterval(sample, 5) : undefined;
    const t0 = performance.now();
    const scan = await scanInputs([dir], { onProgress: firstRun ? sample : undefined });
    times.push(performance.now() - t0);
    clearInterval(timer);
    if (firstRun) sample();
    firstRun = false;
    if (scan.errors.length || scan.series.length !== 1 || scan.series[0].volume.dims[2] !== nz) throw new Error(`unexpected scan result: ${JSON.stringify(scan.errors).slice(0, 300)}`);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  return {
    slices: nz,
    files: nz,
    medianMs: Math.round(median),
    minMs: Math.round(times[0]),
    msPerSlice: Math.round((median / nz) * 100) / 100,
    peakRssMb: Math.round(peakRss / MB),
    peakHeapMb: Math.round(peakHeap / MB),
    peakExternalMb: Math.round(peakExternal / MB),
    volumeMb: Math.round((512 * 512 * nz * 2) / MB),
  };
}

/** Child-process mode: time `runs` scans of `dir` and print the row as JSON. */
async function measureChild(dir: string, nz: number): Promise<void> {
  const row = await measure(dir, nz);
  process.stdout.write(JSON.stringify(row));
}

async function main() {
  const root = await mkdtemp(join(tmpdir(), 'inpaint-bench-import-'));
  const rows: Row[] = [];
  try {
    for (const nz of sliceCounts) {
      const dir = join(root, `s${nz}`);
      await mkdir(dir, { recursive: true });
      // Encode and write slice by slice: the benchmark itself should not hold two copies.
      const { encoded } = encodeDicomCtSeries(phantom(nz));
      for (const f of encoded) await writeFile(join(dir, f.name), f.bytes);
      encoded.length = 0;
      const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--measure', dir, '--nz', String(nz), '--runs', String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      rows.push(JSON.parse(out) as Row);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const header = ['slices', 'median ms', 'min ms', 'ms/slice', 'peak RSS MB', 'peak heap MB', 'peak buffers MB', 'volume MB'];
  const lines = rows.map((r) => [r.slices, r.medianMs, r.minMs, r.msPerSlice, r.peakRssMb, r.peakHeapMb, r.peakExternalMb, r.volumeMb].map(String));
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(`import benchmark: DICOM 512x512 int16, explicit LE, ${runs} runs each (median), node ${process.version}`);
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  const target = rows.find((r) => r.slices === 40);
  if (target) console.log(`target < 1000 ms for 40 slices: ${target.medianMs < 1000 ? 'met' : 'NOT met'} (${target.medianMs} ms)`);
  await mkdir(join(process.cwd(), 'bench', 'results'), { recursive: true });
  await writeFile(join(process.cwd(), 'bench', 'results', 'import.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, runs, rows }, null, 2));
}

if (process.argv.includes('--measure')) await measureChild(arg('measure', ''), Number(arg('nz', '0')));
else await main();
