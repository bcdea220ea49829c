/**
 * The human-readable model card (models/<id>/README.md), rendered from model.json so the two
 * never disagree. training/evaluate.ts --write-card writes it after storing the measurements.
 */

interface QualityRow {
  mae255: number;
  ssim: number;
  /** Against the phantom rendered without acquisition noise (evaluate.ts, phantoms only). */
  noiseFree?: { mae255: number; ssim: number };
  squares: number;
  slices: number;
  secondsPerSlice: number;
}
interface QualityReport {
  date?: string;
  preset?: string;
  presetOverrides?: Record<string, unknown>;
  data?: { seeds?: string; subjects?: number; slicesPerSubject?: number };
  protocol?: string;
  results: Record<string, Record<string, QualityRow>>;
}

function qualityTable(report: QualityReport): string[] {
  const clean = Object.values(report.results).some((byMethod) => Object.values(byMethod).some((r) => r.noiseFree));
  const lines = clean
    ? ['| squares | method | MAE (0-255) | vs biharmonic | SSIM | noise-free truth: MAE | SSIM | squares scored |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |']
    : ['| squares | method | MAE (0-255) | vs biharmonic | SSIM | squares scored |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const [size, byMethod] of Object.entries(report.results)) {
    const base = byMethod.biharmonic?.mae255;
    for (const [method, r] of Object.entries(byMethod)) {
      const versus = base && method !== 'biharmonic' ? `${Math.abs(100 * (1 - r.mae255 / base)).toFixed(1)}% ${r.mae255 <= base ? 'lower' : 'higher'}` : '';
      const anatomy = clean ? ` ${r.noiseFree?.mae255.toFixed(2) ?? ''} | ${r.noiseFree?.ssim.toFixed(3) ?? ''} |` : '';
      lines.push(`| ${size} | ${method} | ${r.mae255.toFixed(2)} | ${versus} | ${r.ssim.toFixed(3)} |${anatomy} ${r.squares} |`);
    }
  }
  return lines;
}

/** A run of `npm run bench:inpaint-quality` (single masks inside the brain, app engine), as stored by card-benchmarks.ts. */
interface BenchInpaintQuality {
  date: string;
  seeds: [number, number];
  slicesPerSubject: number;
  preset: string | null;
  rows: { method: string; kind: string; masks: number; summary: Record<'mae255' | 'maeHu' | 'psnrDb' | 'ssim', { median: number; mean: number }> }[];
}

/** A run of `npm run bench:detect` (synthetic lesion cases, whole analysis pipeline), as stored by card-benchmarks.ts. */
interface BenchDetection {
  date: string;
  casesPerType: number;
  full: boolean;
  /** z cuts read (the first is the default cut); absent in runs before --z existed, which read z 3.5. */
  zCuts?: number[];
  rows: { method: string; type: string; denseHu?: string; bestDice: number; auprc: number; auroc: number; sensitivity: number; fpPerScan: number; defaultCut?: string; sensitivityDefault?: number; fpPerScanDefault?: number }[];
}

/** A bench:detect result as its JSON file holds it: the main table plus, where several z cuts were read, the counts at each. */
/** Lesion sensitivity and false positives per scan at one z cut. */
export interface CountsAtZ {
  z: number;
  sensitivity: number;
  fpPerScan: number;
}

/**
 * One method and lesion type read at several z cuts. bench:detect stores the counts as numbers in
 * `atZ`; runs recorded before it did (the cards of 2026-12-04 and earlier) hold "sens / FP" text
 * under "z 3", "z 3.25", ... instead, and are read too.
 */
export type OperatingPoint = { method: string; type: string; denseHu?: string; atZ?: CountsAtZ[] } & Record<string, unknown>;

export interface DetectionRun extends Pick<BenchDetection, 'zCuts' | 'rows'> {
  operatingPoints?: OperatingPoint[];
  [key: string]: unknown;
}

/** A point's counts at z, from either form; null when that cut was not read for it. */
export function countsAtZ(point: OperatingPoint, z: number): CountsAtZ | null {
  if (point.atZ) return point.atZ.find((a) => a.z === z) ?? null;
  const text = point[`z ${z}`];
  if (typeof text !== 'string' || text === '-') return null;
  const [sensitivity, fpPerScan] = text.split(' / ').map(Number);
  return Number.isFinite(sensitivity) && Number.isFinite(fpPerScan) ? { z, sensitivity, fpPerScan } : null;
}

/**
 * The same run quoted at another of the z cuts it read: each method with a healthy reference gets
 * that cut's lesion sensitivity and false positives in the main table (bench:detect thresholds
 * every z the same way, so these are the counts a run led by that z would print), and the cut
 * leads zCuts. Methods without a reference (the density baseline) keep their own cut. A run that
 * never read z is refused: its counts at that cut were not measured.
 */
export function detectionAtCut<T extends DetectionRun>(run: T, z: number, describeCut: (z: number) => string): T {
  const zCuts = run.zCuts ?? [];
  if (zCuts[0] === z) return run;
  if (!zCuts.includes(z)) throw new Error(`bench:detect read z ${zCuts.join(', ') || '(none recorded)'}, not z ${z}: run it again with --z ${z}[,...] to quote that cut.`);
  const rows = run.rows.map((row) => {
    const point = run.operatingPoints?.find((p) => p.method === row.method && p.type === row.type && p.denseHu === row.denseHu);
    const counts = point ? countsAtZ(point, z) : null;
    if (!counts) return row;
    return { ...row, defaultCut: describeCut(z), sensitivityDefault: counts.sensitivity, fpPerScanDefault: counts.fpPerScan };
  });
  return { ...run, rows, zCuts: [z, ...zCuts.filter((x) => x !== z)] };
}

/** Which brain voxels a detection row searched: all of them, or those below its density limit. */
function searched(denseHu: string | undefined): string {
  return denseHu === undefined || denseHu === 'off' ? 'every voxel' : `< ${denseHu} HU`;
}

function benchInpaintTable(b: BenchInpaintQuality): string[] {
  const base = (kind: string) => b.rows.find((r) => r.method === 'biharmonic' && r.kind === kind)?.summary.mae255.median;
  const lines = [
    `\`npm run bench:inpaint-quality\`, ${b.preset ?? 'fast'} preset; healthy phantoms seeds ${b.seeds[0]}-${b.seeds[1]}, ${b.slicesPerSubject} slices each, one mask at a time fully inside the brain; median (mean) over masks; measured ${b.date.slice(0, 10)}.`,
    '',
    '| method | mask | masks | MAE 0-255 | vs biharmonic | MAE HU | PSNR dB | SSIM |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const cell = (v: { median: number; mean: number }, digits: number) => `${v.median.toFixed(digits)} (${v.mean.toFixed(digits)})`;
  for (const r of b.rows) {
    const ref = base(r.kind);
    const lower = ref ? 100 * (1 - r.summary.mae255.median / ref) : 0;
    const versus = ref && r.method !== 'biharmonic' ? `${Math.abs(lower).toFixed(1)}% ${lower >= 0 ? 'lower' : 'higher'}` : '';
    lines.push(`| ${r.method} | ${r.kind} | ${r.masks} | ${cell(r.summary.mae255, 2)} | ${versus} | ${cell(r.summary.maeHu, 2)} | ${cell(r.summary.psnrDb, 2)} | ${cell(r.summary.ssim, 3)} |`);
  }
  return lines;
}

function benchDetectionTable(b: BenchDetection): string[] {
  const lines = [
    `\`npm run bench:detect\`, ${b.casesPerType} synthetic case(s) per lesion type, ${b.full ? 'every slice' : 'the lesion slices ±2'} analysed; Dice at the best threshold and AUPRC/AUROC over brain voxels; lesion sensitivity and false positives per scan at the absolute cut 0.25 and at the cut a new analysis starts with (z = ${b.zCuts?.[0] ?? 3.5} against the method's healthy reference where it has one); measured ${b.date.slice(0, 10)}.`,
    '',
    '| type | method | voxels searched | best Dice | AUPRC | AUROC | sens. / FP at 0.25 | default cut | sens. / FP there |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |',
  ];
  const types = [...new Set(b.rows.map((r) => r.type))];
  for (const type of types)
    for (const r of b.rows.filter((x) => x.type === type))
      lines.push(
        `| ${type} | ${r.method} | ${searched(r.denseHu)} | ${r.bestDice.toFixed(3)} | ${r.auprc.toFixed(3)} | ${r.auroc.toFixed(3)} | ${r.sensitivity.toFixed(2)} / ${r.fpPerScan} | ${r.defaultCut ?? ''} | ${r.sensitivityDefault === undefined ? '' : `${r.sensitivityDefault.toFixed(2)} / ${r.fpPerScanDefault}`} |`,
      );
  return lines;
}

function describeReport(report: QualityReport): string {
  const d = report.data ?? {};
  const preset = `${report.preset ?? 'fast'} preset${report.presetOverrides ? ` with ${JSON.stringify(report.presetOverrides)}` : ''}`;
  return `${preset}; held-out phantom seeds ${d.seeds ?? '?'} (${d.subjects ?? '?'} subjects, ${d.slicesPerSubject ?? '?'} slices each)${report.date ? `, measured ${report.date.slice(0, 10)}` : ''}.`;
}

interface TrainingStage {
  run: string;
  steps: number;
  trainingSeconds: number;
  hardware?: string | null;
  lr?: number | null;
  fillStart?: number;
  neighbourSlicesInHole?: string;
  mix?: string | null;
}

/** One row per training stage, oldest first (each continued from the previous one's weights). */
function stagesTable(stages: TrainingStage[]): string[] {
  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return [
    '| stage | run | steps | hours | hardware | lr | fill-start | neighbour slices in the hole | layout mix |',
    '| ---: | --- | ---: | ---: | --- | ---: | ---: | --- | --- |',
    ...stages.map((s, i) => `| ${i + 1} | ${s.run} | ${s.steps} | ${(s.trainingSeconds / 3600).toFixed(2)} | ${cell(s.hardware)} | ${cell(s.lr)} | ${cell(s.fillStart)} | ${cell(s.neighbourSlicesInHole)} | ${cell(s.mix)} |`),
  ];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function renderModelCard(manifest: any): string {
  const card = manifest.card ?? {};
  const metrics = card.metrics ?? {};
  const out: string[] = [`# ${manifest.id} ${manifest.version}`, '', card.description ?? '', ''];
  out.push('## Intended use', '', card.intendedUse ?? '', '');
  out.push(
    '## Model',
    '',
    `- Architecture: ${card.architecture ?? '?'}`,
    `- Parameters: ${card.parameters?.toLocaleString('en-US') ?? '?'}; file \`${manifest.file}\`, sha256 \`${manifest.sha256}\``,
    `- Input \`${manifest.io.inputs.condition.name}\` [batch, ${manifest.conditioning.channels.length}, height, width]: ${manifest.conditioning.channels.join(', ')}; input \`${manifest.io.inputs.timestep.name}\` [batch] timestep; output \`${manifest.io.output.name}\` [batch, 1, height, width] = ${manifest.prediction}`,
    `- Sizes: fully convolutional, sides multiples of ${manifest.imageSize.multiple} px (trained on 16-128 px crops and 256 px slices)`,
    `- Intensities: brain window ${manifest.intensity.window.centerHu}/${manifest.intensity.window.widthHu} HU to [${manifest.intensity.windowedRange}], network range [${manifest.intensity.networkRange}]`,
    `- Schedule: ${manifest.schedule.type} betas ${manifest.schedule.betaStart ?? ''}..${manifest.schedule.betaEnd ?? ''}, ${manifest.schedule.trainingSteps} steps`,
    '',
  );
  out.push('## Training', '', `- Data: ${card.trainingData ?? '?'}`, `- Hardware: ${card.hardware ?? '?'}`, `- Time: ${card.trainingTime ?? '?'}`);
  for (const [k, v] of Object.entries(card.training ?? {})) if (k !== 'stages') out.push(`- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  out.push('');
  if (Array.isArray(card.training?.stages) && card.training.stages.length) out.push(...stagesTable(card.training.stages), '');
  if (metrics.validation) {
    const v = metrics.validation;
    const fill = v.fillStartMae255 === undefined ? '' : `, fast-preset problem (fill-start) MAE ${Number(v.fillStartMae255).toFixed(2)}`;
    const stages = Array.isArray(card.training?.stages) ? card.training.stages.length : 0;
    const step = stages > 1 ? `Step ${v.step} of the last training stage (${card.training.steps} in all)` : `Step ${v.step}`;
    out.push('## Validation', '', `${step}: loss ${Number(v.loss).toFixed(4)}, one-step MAE ${Number(v.oneStepMae255).toFixed(2)} (0-255)${fill}. ${v.note ?? ''}`, '');
  }
  if (metrics.inpaintingQuality) {
    const q = metrics.inpaintingQuality as QualityReport;
    out.push('## Measured inpainting quality', '', describeReport(q), '', ...qualityTable(q), '', q.protocol ? `Protocol: ${q.protocol}.` : '', '');
  }
  for (const [name, q] of Object.entries((metrics.inpaintingQualityVariants ?? {}) as Record<string, QualityReport>))
    out.push(`### Sampler variant ${name}`, '', describeReport(q), '', ...qualityTable(q), '');
  if (metrics.noiseFloor) out.push('### What no inpainter can beat', '', String(metrics.noiseFloor), '');
  const bench = metrics.benchmarks ?? {};
  if (bench.inpaintQuality || bench.detection) {
    out.push('## Benchmarks through the analysis pipeline', '');
    if (bench.inpaintQuality) out.push('### Inpainting quality (single masks)', '', ...benchInpaintTable(bench.inpaintQuality as BenchInpaintQuality), '');
    if (bench.detection) out.push('### Detection', '', ...benchDetectionTable(bench.detection as BenchDetection), '');
    if (bench.note) out.push(String(bench.note), '');
  }
  const reference = manifest.healthyReference?.metrics?.['absolute/max'];
  if (reference) {
    const cuts = (reference.quantiles?.p ?? []).map((p: number, i: number) => [p, reference.quantiles.value[i]] as const).filter(([p]: readonly [number, number]) => p >= 0.99);
    out.push(
      '## Healthy reference (z-score reading)',
      '',
      `absolute/max over ${reference.voxels.toLocaleString('en-US')} brain voxels (${reference.source ?? '?'}): mean ${reference.mean.toFixed(3)}, SD ${reference.std.toFixed(3)}; upper quantiles ${cuts.map(([p, v]: readonly [number, number]) => `${+(100 * p).toPrecision(6)}% ${v.toFixed(3)}`).join(', ')}.`,
      '',
    );
  }
  if (Array.isArray(card.limitations) && card.limitations.length) out.push('## Limitations', '', ...card.limitations.map((l: string) => `- ${l}`), '');
  out.push(`Generated from model.json by training/card.ts. Retrain with training/README.md.`, '');
  return out.join('\n');
}
