/**
 * Threshold engine speed on a 512 x 512 x 36 study (9.4 M voxels): the cost of one slider move
 * (new threshold -> label volume + lesion table) and the one-time costs behind it.
 *
 * Synthetic scored study: an ellipsoidal brain (~40 % of the voxels), a smooth low-frequency
 * score background plus voxel noise (the signed residual is the score with a random sign, as an
 * absolute residual would be), and six blobs of high score (three hyper-, three hypodense). Each "slider" row sweeps 21 threshold values across its band and reports the
 * median and worst time of `apply`.
 *
 * Run: npx tsx bench/threshold.ts   (writes bench/results/threshold.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { ThresholdEngine, type ThresholdSettings } from '../src/main/core/scoring/lesions';
import type { Vec3 } from '../src/main/core/volume';

const dims: Vec3 = [512, 512, 36];
const spacing: Vec3 = [0.45, 0.45, 4];
const [nx, ny, nz] = dims;
const n = nx * ny * nz;

/** Seeded uniform [0, 1) (32-bit LCG): the same study every run. */
function lcg(seed: number) {
  let a = seed >>> 0;
  return () => (a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296;
}

function makeStudy() {
  const rand = lcg(7);
  const score = new Float32Array(n);
  const signed = new Float32Array(n);
  const hu = new Float32Array(n);
  const brain = new Uint8Array(n);
  const blobs = [
    { c: [200, 220, 12], r: 14, hyper: true },
    { c: [320, 300, 18], r: 22, hyper: false },
    { c: [260, 180, 25], r: 8, hyper: true },
    { c: [180, 330, 9], r: 30, hyper: false },
    { c: [340, 200, 20], r: 5, hyper: true },
    { c: [250, 260, 30], r: 12, hyper: false },
  ];
  for (let k = 0; k < nz; k++) {
    const zr = (k - 17.5) / 19;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = i + j * nx + k * nx * ny;
        const xr = (i - 256) / 190;
        const yr = (j - 256) / 230;
        if (xr * xr + yr * yr + zr * zr >= 1) {
          hu[p] = -1000;
          continue;
        }
        brain[p] = 1;
        const smooth = 0.04 * (1 + Math.sin(i / 23) * Math.cos(j / 31) + 0.5 * Math.sin(k / 3 + i / 57));
        let s = smooth + 0.03 * rand();
        // As in an analysis (absolute residual), the score is the size of the signed residual.
        let d = rand() < 0.5 ? -s : s;
        let h = 32 + (rand() - 0.5) * 8;
        for (const b of blobs) {
          const di = (i - b.c[0]) / b.r;
          const dj = (j - b.c[1]) / b.r;
          const dk = ((k - b.c[2]) * spacing[2]) / (b.r * spacing[0]);
          const q = di * di + dj * dj + dk * dk;
          if (q < 1) {
            const w = 0.35 * (1 - q) + 0.15;
            s += w;
            d = b.hyper ? w : -w;
            h = b.hyper ? 65 : 18;
          }
        }
        score[p] = s;
        signed[p] = d;
        hu[p] = h;
      }
    }
  }
  return { score, signed, hu, brain };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const time = <T>(f: () => T): [T, number] => {
  const t0 = performance.now();
  const r = f();
  return [r, performance.now() - t0];
};

const study = makeStudy();
const geometry = { dims, spacing, origin: [0, 0, 0] as Vec3, direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] };
const newEngine = () => new ThresholdEngine({ score: study.score, signedResidual: study.signed, hu: study.hu, brainMask: study.brain, geometry });
const [probe, constructMs] = time(newEngine);
const brainVoxels = probe.brainVoxelCount();
const [, fullTreeMs] = time(() => probe.prepare({ connectivity: 26 }, 0));
const engineMemoryMb = probe.memoryBytes / 2 ** 20;

interface Row {
  case: string;
  settings: string;
  firstMs: number;
  dragMedianMs: number;
  dragMaxMs: number;
  warmMedianMs: number;
  warmMaxMs: number;
  candidateVoxels: string;
  lesions: string;
  grownVoxels: string;
  methods: string;
}
const rows: Row[] = [];

/**
 * One slider band on a fresh engine: the first call (cold: erosion index and component tree built
 * down to the cut), a first drag from the top to the bottom of the band (the tree grows as the cut
 * goes down), then 21 more moves in shuffled order over the band (everything built).
 */
function sweep(name: string, base: Omit<ThresholdSettings, 'strategy'>, band: [number, number]) {
  const engine = newEngine();
  const at = (pct: number) => engine.apply({ ...base, strategy: { kind: 'percentile', percentile: pct } });
  const [, firstMs] = time(() => at(band[1]));
  const steps = 21;
  const pct = (s: number) => band[1] - ((band[1] - band[0]) * s) / (steps - 1);
  const drag: number[] = [];
  for (let s = 0; s < steps; s++) drag.push(at(pct(s)).elapsedMs);
  const rand = lcg(3);
  const order = [...Array(steps).keys()].sort(() => rand() - 0.5);
  const warm: number[] = [];
  const candidates: number[] = [];
  const lesions: number[] = [];
  const grown: number[] = [];
  const methods = new Map<string, number>();
  for (const s of order) {
    const r = at(pct(s));
    methods.set(r.method, (methods.get(r.method) ?? 0) + 1);
    warm.push(r.elapsedMs);
    candidates.push(r.candidateVoxels);
    lesions.push(r.lesions.length);
    grown.push(r.grownVoxels);
  }
  rows.push({
    case: name,
    settings: `${base.connectivity ?? 26}-conn, ${base.polarity ?? 'any'}, min ${base.minSizeMl ?? 0} mL${base.borderErosion ? `, erode ${base.borderErosion.distance} ${base.borderErosion.unit} ${base.borderErosion.mode}` : ''}${base.extent === 'half-contrast' ? ', half-contrast outline' : ''}, p${band[0]}-p${band[1]}`,
    firstMs,
    dragMedianMs: median(drag),
    dragMaxMs: Math.max(...drag),
    warmMedianMs: median(warm),
    warmMaxMs: Math.max(...warm),
    candidateVoxels: `${Math.min(...candidates)}-${Math.max(...candidates)}`,
    lesions: `${Math.min(...lesions)}-${Math.max(...lesions)}`,
    grownVoxels: `${Math.min(...grown)}-${Math.max(...grown)}`,
    methods: [...methods].map(([m, c]) => `${m} ${c}`).join(', '),
  });
}

sweep('lesion range', { connectivity: 26, minSizeMl: 0.05 }, [97, 99.9]);
sweep('lesion range', { connectivity: 6, minSizeMl: 0.05 }, [97, 99.9]);
sweep('lesion range', { connectivity: 26, polarity: 'split', minSizeMl: 0.05 }, [97, 99.9]);
sweep('lesion range', { connectivity: 26, minSizeMl: 0.05, borderErosion: { distance: 3, unit: 'mm', mode: '2d' } }, [97, 99.9]);
// The app's default reading: hyper/hypo apart, each lesion outlined at half its own contrast.
sweep('lesion range', { connectivity: 26, polarity: 'split', minSizeMl: 0.05, extent: 'half-contrast' }, [97, 99.9]);
sweep('low thresholds', { connectivity: 26, minSizeMl: 0 }, [50, 90]);
sweep('low thresholds', { connectivity: 26, polarity: 'split', minSizeMl: 0.05, extent: 'half-contrast' }, [50, 90]);
sweep('whole brain', { connectivity: 26, minSizeMl: 0 }, [0, 10]);

const round = (x: number, d: number) => +x.toFixed(d);
const table = rows.map((r) => ({ ...r, firstMs: round(r.firstMs, 1), dragMedianMs: round(r.dragMedianMs, 2), dragMaxMs: round(r.dragMaxMs, 1), warmMedianMs: round(r.warmMedianMs, 2), warmMaxMs: round(r.warmMaxMs, 2) }));
const load = loadavg()[0].toFixed(1);
console.log(
  `Threshold engine, ${dims.join('x')} (${(n / 1e6).toFixed(1)} M voxels, ${brainVoxels} brain), ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ` +
    `construction ${constructMs.toFixed(0)} ms, full 26-connected tree ${fullTreeMs.toFixed(0)} ms, engine memory with that tree ${engineMemoryMb.toFixed(0)} MiB; load average ${load} on ${cpus().length} cores`,
);
console.table(table);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/threshold.json',
  JSON.stringify(
    {
      benchmark: 'threshold',
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cpuCount: cpus().length,
      loadAverage: loadavg()[0],
      dims,
      spacing,
      voxels: n,
      brainVoxels,
      constructMs,
      fullTreeMs,
      engineMemoryMb,
      note: 'firstMs: first apply on a fresh engine (builds the erosion index, and the component tree when the cut is within reach); drag*: 21 steps top to bottom of the band (the tree grows in bounded steps); warm*: 21 shuffled steps after that; methods: tree or grid scan over the warm steps',
      rows: table,
    },
    null,
    2,
  ),
);
