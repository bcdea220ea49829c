/**
 * Longitudinal volumetry benchmark: does a comparison of two timepoints measure how much a
 * haemorrhage changed?
 *
 * Synthetic cases (seeds 7+ by default) with one intraparenchymal haemorrhage whose volume
 * changes by --growth per day (default +15%: haematoma expansion), scanned --interval days apart
 * (default 2). The blood fades by about 1.5 HU a day, as generated. Each timepoint is analysed
 * like the app does (all slices, the cut a new analysis starts with: z 3 against the method's
 * healthy reference, else the absolute 0.25; max fusion, split polarity, 2 mm border erosion,
 * dense voxels left out), and read with both lesion extents: at the threshold, and outlined at half
 * each lesion's own contrast (the default). A reader's review is emulated: the lesions that touch
 * the generated haematoma are kept, the rest rejected; the measured haematoma volume is theirs.
 *
 * Per method and extent: median and worst absolute error of the volume at each timepoint and of
 * the change between them, against the generated haematoma (its oedema is a separate, hypodense
 * lesion and is not counted), and the median unreviewed lesion volume per scan (what false
 * positives add before review).
 *
 * `--support-steps 0.25,0.5,1` reads each analysis with lesions reaching down to each of these
 * steps below the z cut (the reading's is Z_SUPPORT_STEP): how the hysteresis step moves volumes.
 *
 * Run: npx tsx bench/volumetry.ts [--cases 4] [--seed 7] [--growth 0.15] [--interval 2] [--model ID]
 *        [--slices 6] [--methods diffusion,biharmonic] [--support-steps 0.25,0.5,1]
 * Writes bench/results/volumetry.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/case';
import { analyzeVolume, scoreReconstruction, type InpainterChoice } from '../src/main/core/pipeline/analyze';
import { DEFAULT_MODEL_ID } from '../src/main/core/pipeline/run-analysis';
import { defaultReading, loadHealthyReferences, toThresholdSettings } from '../src/main/core/pipeline/reading';
import { describeStrategy, Z_SUPPORT_STEP } from '../src/shared/analysis';
import { thresholdStudy } from '../src/main/core/scoring/lesions';
import { LESION_EXTENTS } from '../src/main/core/scoring/delineate';
import { listModels } from '../src/main/core/inpaint/model';
import { modelsDir } from '../src/main/paths';
import { voxelVolumeMl } from '../src/main/core/volume';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '4' },
    seed: { type: 'string', default: '7' },
    growth: { type: 'string', default: '0.15' },
    interval: { type: 'string', default: '2' },
    slices: { type: 'string', default: '6' },
    methods: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_ID },
    'support-steps': { type: 'string' },
  },
});
const cases = Number(values.cases);
const firstSeed = Number(values.seed);
const growth = Number(values.growth);
const interval = Number(values.interval);
const slices = Number(values.slices);
// How far below a z cut each lesion may reach (the reading's Z_SUPPORT_STEP unless measured here).
const supportSteps = values['support-steps'] ? values['support-steps'].split(',').map(Number) : [Z_SUPPORT_STEP];
if (supportSteps.some((x) => !(x >= 0))) throw new Error('--support-steps: give steps of 0 or more, e.g. 0.25,0.5,1');

// Which diffusion model the diffusion row uses (any installed one; the app's default otherwise).
const modelId = values.model!;
const installed = (await listModels(modelsDir())).some((m) => m.id === modelId);
const allMethods: { name: string; inpainter: InpainterChoice }[] = [
  ...(installed ? [{ name: 'diffusion', inpainter: { kind: 'diffusion', modelId, preset: 'fast', device: 'cpu' } as InpainterChoice }] : []),
  { name: 'biharmonic', inpainter: { kind: 'classical', method: 'biharmonic' } },
];
const methods = values.methods ? allMethods.filter((m) => values.methods!.split(',').includes(m.name)) : allMethods;
if (!installed) process.stderr.write(`note: model ${modelId} is not installed; the diffusion row is skipped.\n`);

interface Measure {
  seed: number;
  truth: [number, number];
  measured: [number, number];
  unreviewed: [number, number];
}
const results = new Map<string, Measure[]>();
/** The cut each method was read at, in words. */
const cuts = new Map<string, string>();
const loadStart = loadavg()[0];

for (let c = 0; c < cases; c++) {
  const seed = firstSeed + c;
  const gen = generateCase({ seed, lesions: [{ type: 'iph', volumeRatePerDay: growth }], timepoints: 2, intervalDays: interval, slices });
  const haematomaLabel = gen.lesions.findIndex((l) => l.type === 'iph') + 1;
  for (const m of methods) {
    const references = await loadHealthyReferences(modelsDir(), m.inpainter);
    const reading = defaultReading(m.inpainter, references);
    cuts.set(m.name, describeStrategy(reading.strategy));
    const readings = LESION_EXTENTS.flatMap((extent) => supportSteps.map((step) => ({ extent, step, key: `${m.name}|${extent}|${step}` })));
    const perReading = new Map<string, Measure>(readings.map((r) => [r.key, { seed, truth: [0, 0], measured: [0, 0], unreviewed: [0, 0] }]));
    for (const [t, tp] of gen.timepoints.entries()) {
      const vol = tp.volume;
      const a = await analyzeVolume(vol, { inpainter: m.inpainter, modelsDir: modelsDir(), seed: 0 });
      const score = scoreReconstruction(a.recon, reading);
      const haematoma = tp.lesionLabels.map((x) => (x === haematomaLabel ? 1 : 0));
      const truthMl = haematoma.reduce((s, x) => s + x, 0) * voxelVolumeMl(vol.spacing);
      for (const { extent, step, key } of readings) {
        const r = thresholdStudy(
          { score: score.score, signedResidual: score.signed, hu: vol.data, brainMask: a.brainMask, geometry: vol },
          toThresholdSettings({ ...reading, extent }, references, step),
        );
        const touching = new Set<number>();
        for (let p = 0; p < haematoma.length; p++) if (haematoma[p] && r.labels[p] > 0) touching.add(r.labels[p]);
        const row = perReading.get(key)!;
        row.truth[t] = truthMl;
        row.measured[t] = r.lesions.filter((l) => touching.has(l.label)).reduce((s, l) => s + l.volumeMl, 0);
        row.unreviewed[t] = r.lesionVolumeMl;
      }
    }
    for (const [key, row] of perReading) {
      results.set(key, [...(results.get(key) ?? []), row]);
      const change = row.measured[1] - row.measured[0];
      const truthChange = row.truth[1] - row.truth[0];
      process.stderr.write(
        `seed ${seed} ${key.replaceAll('|', ' ')}: haematoma ${row.truth.map((v) => v.toFixed(2)).join(' -> ')} mL, measured ${row.measured.map((v) => v.toFixed(2)).join(' -> ')} (change error ${((100 * (change - truthChange)) / truthChange).toFixed(1)}%)\n`,
      );
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const table: Record<string, string | number>[] = [];
for (const [key, rows] of results) {
  const [method, extent, supportStep] = key.split('|');
  const volumeErrors = rows.flatMap((r) => [0, 1].map((t) => (r.measured[t] - r.truth[t]) / r.truth[t]));
  const changeErrors = rows.map((r) => (r.measured[1] - r.measured[0] - (r.truth[1] - r.truth[0])) / (r.truth[1] - r.truth[0]));
  table.push({
    method,
    extent,
    ...(supportSteps.length > 1 ? { supportStep } : {}),
    cases: rows.length,
    medianVolumeError: pct(median(volumeErrors)),
    worstVolumeError: pct(volumeErrors.reduce((w, e) => (Math.abs(e) > Math.abs(w) ? e : w), 0)),
    medianChangeError: pct(median(changeErrors)),
    worstChangeError: pct(changeErrors.reduce((w, e) => (Math.abs(e) > Math.abs(w) ? e : w), 0)),
    within15pct: `${changeErrors.filter((e) => Math.abs(e) <= 0.15).length}/${rows.length}`,
    unreviewedMlPerScan: +median(rows.flatMap((r) => r.unreviewed)).toFixed(2),
  });
}
const headers = Object.keys(table[0] ?? {});
const widths = headers.map((h) => Math.max(h.length, ...table.map((t) => String(t[h]).length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
process.stdout.write(
  `Haematoma volumetry over two timepoints (growth ${growth}/day, ${interval} days apart, ${slices} slices; ${[...cuts].map(([name, cut]) => `${name} at ${cut}`).join(', ')}; review emulated), ${cpus()[0]?.model} x${cpus().length}, load ${loadStart.toFixed(1)} -> ${loadavg()[0].toFixed(1)}\n` +
    [line(headers), line(widths.map((w) => '-'.repeat(w))), ...table.map((t) => line(headers.map((h) => String(t[h]))))].join('\n') +
    '\n',
);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/volumetry.json', JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, model: installed && methods.some((m) => m.name === 'diffusion') ? modelId : null, cases, firstSeed, growth, interval, slices, supportSteps, cuts: Object.fromEntries(cuts), rows: table, perCase: Object.fromEntries(results) }, null, 2));
