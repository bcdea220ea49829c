/**
 * Detection benchmark: synthetic head CTs with one lesion each (seeds 5000+, never used for
 * training), analysed by every method through the same scoring, against the exact lesion masks.
 *
 * Per method and lesion type: Dice at the best global threshold (pooled over the type's cases),
 * AUPRC (average precision) and AUROC over brain voxels, lesion sensitivity and false positives
 * per scan at two cuts (the absolute 0.25, and the cut a new analysis starts with: z = 3 against
 * the method's healthy reference where one is calibrated, else the same 0.25),
 * and time per analysed slice. Lesions are outlined as a new analysis outlines them: at half
 * their contrast for the diffusion model, at the threshold for the classical inpainters.
 *
 * Methods: the diffusion model (fast preset; when models/<id>/ is installed), the classical
 * inpainters through the same grid and scoring, and a density threshold (no inpainting: distance
 * of each brain voxel's HU from the normal brain range 20-45 HU).
 *
 * To keep a run within tens of minutes on a 2-core CPU, each case analyses the slices holding its
 * lesion plus 2 slices above and below (`--full` analyses every slice). Voxel metrics and false
 * positives are counted over the analysed slices only.
 *
 * `--hypodense-model ID` adds the method `diffusion-split`: the hyperdense part of the residual
 * from the model (`--model`) and the hypodense part from model ID, each analysed on its own (twice
 * the time). It measures whether two models, each used for the polarity it reads best, beat
 * either alone.
 *
 * `--smooth-mm S` smooths the inpainters' residuals in-plane (Gaussian sigma S mm, the reading's
 * residual smoothing) before every metric; the density baseline is left as it is.
 *
 * `--dense-hu V[,V...]` reads every analysis with each density limit of the lesion search (HU,
 * or `off` for every brain voxel; default the reading's 170): voxels at or above it are left out
 * of the lesions and of the voxel metrics, as the app leaves them out.
 *
 * `--z 3[,Z...]` reads each analysis at these z cuts against the healthy reference (the first
 * is the main table's second cut) and, for more than one, prints sensitivity / false positives
 * per scan at each: the operating points a default cut is chosen from.
 *
 * Run: npx tsx bench/detect.ts [--cases N] [--dense-hu 170,off] [--z 3,2.5,3.5] [--types iph,sdh,...] [--methods diffusion,biharmonic,density] [--model ID] [--hypodense-model ID] [--full] [--smooth-mm S]
 * Writes bench/results/detect.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generateCase } from '../src/main/core/synth/case';
import { analyzeVolume, scoreReconstruction, type InpainterChoice } from '../src/main/core/pipeline/analyze';
import { DEFAULT_MODEL_ID } from '../src/main/core/pipeline/run-analysis';
import { canReadZ, defaultExtent, toThresholdSettings, loadHealthyReferences } from '../src/main/core/pipeline/reading';
import type { HealthyReferenceSet } from '../src/main/core/scoring/threshold';
import type { ReadingSettings } from '../src/shared/analysis';
import { describeStrategy } from '../src/shared/analysis';
import { DEFAULT_READING_SETTINGS, DEFAULT_Z_CUT } from '../src/shared/analysis';
import { thresholdStudy, withoutDenseVoxels } from '../src/main/core/scoring/lesions';
import { averagePrecision, bestThresholdDice, lesionDetection, pixelAuroc, summarizeDetection, type LesionDetection, type ScoredVoxels } from '../src/main/core/metrics/index';
import { classicalBrainMask } from '../src/main/core/preprocess/brain-mask';
import { listModels } from '../src/main/core/inpaint/model';
import { modelsDir } from '../src/main/paths';
import type { LesionType } from '../src/main/core/synth/lesions';
import type { Volume } from '../src/main/core/volume';


/** A z cut against healthy scans (empirical quantiles), where the method has a reference; null where it has none. */
function zReading(refs: HealthyReferenceSet, base: ReadingSettings, z: number): ReadingSettings | null {
  // The bench smooths the residual itself (--smooth-mm); the references describe unsmoothed ones.
  return canReadZ({ ...base, smoothingMm }, refs) ? { ...base, strategy: { kind: 'zscore', z } } : null;
}
const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '2' },
    types: { type: 'string', default: 'iph,ivh,sah,sdh,edh,infarct,mass' },
    methods: { type: 'string' },
    model: { type: 'string', default: DEFAULT_MODEL_ID },
    'hypodense-model': { type: 'string' },
    full: { type: 'boolean', default: false },
    seed: { type: 'string', default: '5000' },
    'smooth-mm': { type: 'string', default: '0' },
    'dense-hu': { type: 'string', default: String(DEFAULT_READING_SETTINGS.denseExclusionHu ?? 'off') },
    z: { type: 'string', default: String(DEFAULT_Z_CUT) },
  },
});
/** z cuts to read each analysis at against its method's healthy reference; the first is the table's second cut. */
const zCuts = values.z!.split(',').map(Number);
if (zCuts.some((z) => !(z > 0))) throw new Error('--z takes positive z values, comma-separated.');
/** Density limits of the lesion search to read each analysis at ('off' = every brain voxel). */
const denseLimits: (number | null)[] = values['dense-hu']!.split(',').map((v) => (v.trim() === 'off' ? null : Number(v)));
if (denseLimits.some((v) => v !== null && !(v > 0))) throw new Error('--dense-hu takes HU values or off, comma-separated.');
const smoothingMm = Number(values['smooth-mm']);
const casesPerType = Number(values.cases);
const types = values.types!.split(',') as LesionType[];
const firstSeed = Number(values.seed);

/** `hypodense`: a second inpainter whose residual supplies the voxels darker than its healthy estimate. */
type Method = { name: string; inpainter: InpainterChoice | null; hypodense?: InpainterChoice };
// Which diffusion model the diffusion row uses (any installed one; the app's default otherwise).
const modelId = values.model!;
const installedManifest = (await listModels(modelsDir())).find((m) => m.id === modelId)?.manifest;
const installed = Boolean(installedManifest);
const fastOnCpu = (id: string): InpainterChoice => ({ kind: 'diffusion', modelId: id, preset: 'fast', device: 'cpu' });
const allMethods: Method[] = [
  ...(installed ? [{ name: 'diffusion', inpainter: fastOnCpu(modelId) }] : []),
  { name: 'biharmonic', inpainter: { kind: 'classical', method: 'biharmonic' } },
  { name: 'density', inpainter: null },
  ...(installed && values['hypodense-model']
    ? [{ name: 'diffusion-split', inpainter: fastOnCpu(modelId), hypodense: fastOnCpu(values['hypodense-model']) }]
    : []),
];
const methods = values.methods ? allMethods.filter((m) => values.methods!.split(',').includes(m.name)) : allMethods;
if (!installed) process.stderr.write(`note: model ${modelId} is not installed; the diffusion row is skipped.\n`);

/** Score of the density baseline: how far a brain voxel's HU lies outside 20-45 HU, in brain-window units. */
function densityScore(vol: Volume, brain: Uint8Array): { score: Float32Array; signed: Float32Array } {
  const score = new Float32Array(brain.length);
  const signed = new Float32Array(brain.length);
  for (let p = 0; p < brain.length; p++) {
    if (!brain[p]) continue;
    const hu = vol.data[p];
    const d = hu > 45 ? (hu - 45) / 80 : hu < 20 ? (hu - 20) / 80 : 0;
    score[p] = Math.abs(d);
    signed[p] = d;
  }
  return { score, signed };
}

interface Row {
  method: string;
  type: string;
  /** The reading's density limit ('off' = every brain voxel searched). */
  denseHu: string;
  cases: ScoredVoxels[];
  detections: LesionDetection[];
  /** At the first --z cut against the method's healthy reference, when it has one (else the absolute cut). */
  defaultDetections: LesionDetection[];
  /** At every --z cut, when the method has a reference. */
  zDetections: Map<number, LesionDetection[]>;
  defaultCut: string;
  seconds: number;
  slices: number;
}
const rows = new Map<string, Row>();
const loadStart = loadavg()[0];

for (const type of types) {
  for (let c = 0; c < casesPerType; c++) {
    const seed = firstSeed + types.indexOf(type) * 100 + c;
    const gen = generateCase({ seed, lesions: [type] });
    const tp = gen.timepoints[0];
    const vol = tp.volume;
    const [nx, ny, nz] = vol.dims;
    const plane = nx * ny;
    const truth = new Uint8Array(tp.lesionLabels.length);
    for (let p = 0; p < truth.length; p++) truth[p] = tp.lesionLabels[p] > 0 ? 1 : 0;
    let kMin = nz;
    let kMax = -1;
    for (let k = 0; k < nz; k++)
      for (let p = k * plane; p < (k + 1) * plane; p++)
        if (truth[p]) {
          kMin = Math.min(kMin, k);
          kMax = Math.max(kMax, k);
          break;
        }
    const slices = values.full ? [...Array(nz).keys()] : Array.from({ length: Math.min(nz - 1, kMax + 2) - Math.max(0, kMin - 2) + 1 }, (_, i) => Math.max(0, kMin - 2) + i);
    const inSlices = new Uint8Array(truth.length);
    for (const k of slices) inSlices.fill(1, k * plane, (k + 1) * plane);
    for (const m of methods) {
      const t0 = performance.now();
      let score: Float32Array;
      let signed: Float32Array;
      let brain: Uint8Array;
      if (m.inpainter) {
        const a = await analyzeVolume(vol, { inpainter: m.inpainter, modelsDir: modelsDir(), seed: 0, slices });
        ({ score, signed } = scoreReconstruction(a.recon, { metric: 'absolute', fusion: 'max', smoothingMm }));
        brain = a.brainMask;
        if (m.hypodense) {
          const b = await analyzeVolume(vol, { inpainter: m.hypodense, modelsDir: modelsDir(), seed: 0, slices });
          const dark = scoreReconstruction(b.recon, { metric: 'absolute', fusion: 'max', smoothingMm });
          for (let p = 0; p < score.length; p++) {
            const bright = signed[p] > 0 ? score[p] : 0;
            const darkScore = dark.signed[p] < 0 ? dark.score[p] : 0;
            score[p] = Math.max(bright, darkScore);
            signed[p] = darkScore > bright ? dark.signed[p] : Math.max(signed[p], 0);
          }
        }
      } else {
        brain = classicalBrainMask(vol).mask;
        ({ score, signed } = densityScore(vol, brain));
      }
      const seconds = (performance.now() - t0) / 1000;
      // No healthy reference describes a combined residual, so the split method is read at the absolute cut only.
      const refs = m.inpainter && !m.hypodense ? await loadHealthyReferences(modelsDir(), m.inpainter) : { metrics: {} };
      const analysed = new Uint8Array(brain.length);
      for (let p = 0; p < analysed.length; p++) analysed[p] = brain[p] && inSlices[p] ? 1 : 0;
      for (const denseHu of denseLimits) {
        // Lesions outlined as a new analysis with this inpainter outlines them (the density baseline, not an app method, at the default).
        const base: ReadingSettings = { ...DEFAULT_READING_SETTINGS, extent: m.inpainter ? defaultExtent(m.inpainter) : DEFAULT_READING_SETTINGS.extent, denseExclusionHu: denseHu };
        // The engine leaves the dense voxels out as the app does (and erodes around them); the
        // voxel metrics count the brain voxels it does not leave out.
        const region = withoutDenseVoxels(analysed, vol.data, denseHu);
        const scored = { score: Float32Array.from(score, (s, p) => (region[p] ? s : 0)), signedResidual: signed, hu: vol.data, brainMask: analysed, geometry: vol };
        const result = thresholdStudy(scored, toThresholdSettings(base, refs));
        const atZ = new Map<number, ReturnType<typeof thresholdStudy>>();
        for (const z of zCuts) {
          const r = zReading(refs, base, z);
          if (r) atZ.set(z, thresholdStudy(scored, toThresholdSettings(r, refs)));
        }
        const reading = zReading(refs, base, zCuts[0]) ?? base;
        const atDefault = atZ.get(zCuts[0]) ?? result;
        const denseLabel = denseHu === null ? 'off' : `${denseHu}`;
        const key = `${m.name}/${type}/${denseLabel}`;
        const row: Row = rows.get(key) ?? { method: m.name, type, denseHu: denseLabel, cases: [], detections: [], defaultDetections: [], zDetections: new Map(), defaultCut: describeStrategy(reading.strategy), seconds: 0, slices: 0 };
        row.cases.push({ scores: score, truth, region });
        row.detections.push(lesionDetection(result.labels, truth, vol.dims));
        row.defaultDetections.push(lesionDetection(atDefault.labels, truth, vol.dims));
        for (const [z, r] of atZ) row.zDetections.set(z, [...(row.zDetections.get(z) ?? []), lesionDetection(r.labels, truth, vol.dims)]);
        row.seconds += seconds;
        row.slices += slices.length;
        rows.set(key, row);
        process.stderr.write(`${type} seed ${seed} ${m.name}, dense ${denseLabel}: ${seconds.toFixed(1)} s, ${result.lesions.length} lesions at the absolute cut, ${atDefault.lesions.length} at ${row.defaultCut}\n`);
      }
    }
  }
}

const table: Record<string, string | number>[] = [];
for (const r of rows.values()) {
  const best = bestThresholdDice(r.cases);
  const det = summarizeDetection(r.detections);
  const atDefault = summarizeDetection(r.defaultDetections);
  table.push({
    method: r.method,
    type: r.type,
    denseHu: r.denseHu,
    cases: r.cases.length,
    bestDice: +best.dice.toFixed(3),
    bestThreshold: +best.threshold.toFixed(3),
    auprc: +averagePrecision(r.cases).toFixed(3),
    auroc: +pixelAuroc(r.cases).toFixed(3),
    sensitivity: +det.sensitivity.toFixed(2),
    fpPerScan: +det.falsePositivesPerScan.toFixed(1),
    defaultCut: r.defaultCut,
    sensitivityDefault: +atDefault.sensitivity.toFixed(2),
    fpPerScanDefault: +atDefault.falsePositivesPerScan.toFixed(1),
    secondsPerSlice: +(r.seconds / r.slices).toFixed(2),
  });
}
/**
 * Operating points: lesion sensitivity and false positives per scan at each z cut (a FROC read at
 * a few points), stored as numbers (training/card.ts quotes them) and printed as "sens / FP".
 */
const operatingPoints = [...rows.values()]
  .filter((r) => r.zDetections.size > 0)
  .map((r) => ({
    method: r.method,
    type: r.type,
    denseHu: r.denseHu,
    atZ: zCuts.flatMap((z) => {
      const d = r.zDetections.get(z);
      if (!d) return [];
      const s = summarizeDetection(d);
      return [{ z, sensitivity: +s.sensitivity.toFixed(2), fpPerScan: +s.falsePositivesPerScan.toFixed(1) }];
    }),
  }));
const operatingPointRows = operatingPoints.map(({ atZ, ...point }) => ({
  ...point,
  ...Object.fromEntries(
    zCuts.map((z) => {
      const at = atZ.find((a) => a.z === z);
      return [`z ${z}`, at ? `${at.sensitivity.toFixed(2)} / ${at.fpPerScan.toFixed(1)}` : '-'];
    }),
  ),
}));
const headers = Object.keys(table[0] ?? {});
const widths = headers.map((h) => Math.max(h.length, ...table.map((t) => String(t[h]).length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
process.stdout.write(
  `Detection on synthetic head CT (scores ${DEFAULT_READING_SETTINGS.metric}/${DEFAULT_READING_SETTINGS.fusion}${smoothingMm > 0 ? `, inpainters' residuals smoothed ${smoothingMm} mm` : ''}; sensitivity and FP at ${describeStrategy(DEFAULT_READING_SETTINGS.strategy)} and at z ${zCuts[0]} against each method's healthy reference; ${values.full ? 'all slices' : 'lesion slices ±2'}), ${cpus()[0]?.model} x${cpus().length}, load ${loadStart.toFixed(1)} -> ${loadavg()[0].toFixed(1)}\n` +
    [line(headers), line(widths.map((w) => '-'.repeat(w))), ...table.map((t) => line(headers.map((h) => String(t[h]))))].join('\n') +
    '\n',
);
if (zCuts.length > 1 && operatingPointRows.length > 0) {
  const opHeaders = Object.keys(operatingPointRows[0]);
  const opWidths = opHeaders.map((h) => Math.max(h.length, ...operatingPointRows.map((t) => String(t[h as keyof typeof t]).length)));
  const opLine = (cells: string[]) => cells.map((c, i) => c.padEnd(opWidths[i])).join('  ');
  process.stdout.write(
    `\nLesion sensitivity / false positives per scan at each z cut against the method's healthy reference\n` +
      [opLine(opHeaders), opLine(opWidths.map((w) => '-'.repeat(w))), ...operatingPointRows.map((t) => opLine(opHeaders.map((h) => String(t[h as keyof typeof t]))))].join('\n') +
      '\n',
  );
}
mkdirSync('bench/results', { recursive: true });
const model = installedManifest && methods.some((m) => m.name.startsWith('diffusion')) ? { id: installedManifest.id, version: installedManifest.version, sha256: installedManifest.sha256, preset: 'fast' } : null;
writeFileSync(`bench/results/detect${smoothingMm > 0 ? `-smooth${smoothingMm}mm` : ''}.json`, JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, full: values.full, casesPerType, firstSeed, smoothingMm, model, hypodenseModel: values['hypodense-model'] ?? null, denseLimits: denseLimits.map((d) => d ?? 'off'), zCuts, rows: table, operatingPoints }, null, 2));
