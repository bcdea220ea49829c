/**
 * Stores the app benchmarks' measurements of a model (`npm run bench:inpaint-quality`,
 * `npm run bench:detect`) in its model.json card (metrics.benchmarks) and re-renders README.md,
 * so the card quotes the same numbers as docs/benchmarks.md. The result files must have been
 * made with this model file: a result that records another sha256 is refused.
 *
 *   npx tsx training/card-benchmarks.ts [--model healthy-brain-ddpm] [--models-dir models]
 *       [--inpaint-quality bench/results/inpaint-quality.json] [--detect bench/results/detect.json]
 *       [--note "text under the tables"] [--baselines other-detect.json]
 *
 * `--baselines` takes the rows of the methods without a model (biharmonic, density) from another
 * bench:detect run of the same cases and reading (checked), so a second model's card compares
 * against them without analysing the cases with those methods again.
 *
 * Only model.json's card and README.md change; the ONNX file and its sha256 do not.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { detectionAtCut, renderModelCard, type DetectionRun } from './card';
import { DEFAULT_Z_CUT, describeStrategy } from '../src/shared/analysis';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'healthy-brain-ddpm' },
    'models-dir': { type: 'string', default: 'models' },
    'inpaint-quality': { type: 'string', default: 'bench/results/inpaint-quality.json' },
    detect: { type: 'string', default: 'bench/results/detect.json' },
    baselines: { type: 'string' },
    note: { type: 'string' },
  },
});

const manifestPath = resolve(values['models-dir']!, values.model!, 'model.json');
const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));

interface RecordedModel {
  id: string;
  sha256: string;
}

/** A benchmark result file, checked to be of this model; null when absent. */
async function result(path: string, what: string): Promise<Record<string, unknown> | null> {
  if (!existsSync(path)) {
    console.warn(`${what}: ${path} not found; that part of the card is left as it was.`);
    return null;
  }
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> & { model?: RecordedModel | null };
  if (!json.model) throw new Error(`${what}: ${path} has no diffusion model recorded (was it run with the model installed?).`);
  if (json.model.id !== manifest.id || json.model.sha256 !== manifest.sha256)
    throw new Error(`${what}: ${path} was measured with ${json.model.id} ${json.model.sha256.slice(0, 12)}, not ${manifest.id} ${manifest.sha256.slice(0, 12)}.`);
  return json;
}

const quality = await result(values['inpaint-quality']!, 'inpaint-quality');
const detection = await result(values.detect!, 'detect');
const benchmarks = { ...(manifest.card.metrics?.benchmarks ?? {}) };
if (quality) {
  // Per-mask samples stay in the result file; the card keeps the summary.
  const { date, seeds, slicesPerSubject, preset, model, rows } = quality;
  benchmarks.inpaintQuality = { date, seeds, slicesPerSubject, preset, model, rows };
}
if (detection && values.baselines) {
  const other = JSON.parse(await readFile(values.baselines, 'utf8')) as Record<string, unknown> & { rows: { method: string }[]; operatingPoints?: { method: string }[] };
  // The z cuts as a set: a run led by another z read the same cuts.
  const same = (key: string, v: unknown) => JSON.stringify(key === 'zCuts' && Array.isArray(v) ? [...v].sort((a, b) => a - b) : v);
  for (const key of ['casesPerType', 'firstSeed', 'full', 'smoothingMm', 'denseLimits', 'zCuts'])
    if (same(key, other[key]) !== same(key, detection[key])) throw new Error(`--baselines: ${values.baselines} differs in ${key} (${JSON.stringify(other[key])} against ${JSON.stringify(detection[key])}); it must be a run of the same cases and reading.`);
  const own = detection.rows as { method: string }[];
  const added = other.rows.filter((r) => !r.method.startsWith('diffusion') && !own.some((o) => o.method === r.method));
  const addedMethods = new Set(added.map((r) => r.method));
  detection.rows = [...own, ...added];
  // The same methods' lesion counts at each z cut, where both runs read several cuts.
  if (Array.isArray(detection.operatingPoints))
    detection.operatingPoints = [...(detection.operatingPoints as { method: string }[]), ...(other.operatingPoints ?? []).filter((p) => addedMethods.has(p.method))];
  detection.baselinesFrom = { date: other.date, methods: [...addedMethods] };
}
// The card quotes the cut a new analysis starts with, whichever z led the run.
if (detection) benchmarks.detection = detectionAtCut(detection as DetectionRun, DEFAULT_Z_CUT, (z) => describeStrategy({ kind: 'zscore', z }));
if (values.note !== undefined) benchmarks.note = values.note;
manifest.card.metrics = { ...manifest.card.metrics, benchmarks };
await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
await writeFile(join(resolve(values['models-dir']!, values.model!), 'README.md'), renderModelCard(manifest));
console.log(`benchmarks written to ${manifestPath} and README.md`);
