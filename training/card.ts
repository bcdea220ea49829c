/**
 * The human-readable model card (models/<id>/README.md), rendered from model.json so the two
 * never disagree. training/evaluate.ts --write-card writes it after storing the measurements.
 */

interface QualityRow {
  mae255: number;
  ssim: number;
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
  const lines = ['| squares | method | MAE (0-255) | vs biharmonic | SSIM | squares scored |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const [size, byMethod] of Object.entries(report.results)) {
    const base = byMethod.biharmonic?.mae255;
    for (const [method, r] of Object.entries(byMethod))
      lines.push(`| ${size} | ${method} | ${r.mae255.toFixed(2)} | ${base && method !== 'biharmonic' ? `${(100 * (1 - r.mae255 / base)).toFixed(1)}% lower` : ''} | ${r.ssim.toFixed(3)} | ${r.squares} |`);
  }
  return lines;
}

function describeReport(report: QualityReport): string {
  const d = report.data ?? {};
  const preset = `${report.preset ?? 'fast'} preset${report.presetOverrides ? ` with ${JSON.stringify(report.presetOverrides)}` : ''}`;
  return `${preset}; held-out phantom seeds ${d.seeds ?? '?'} (${d.subjects ?? '?'} subjects, ${d.slicesPerSubject ?? '?'} slices each)${report.date ? `, measured ${report.date.slice(0, 10)}` : ''}.`;
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
  for (const [k, v] of Object.entries(card.training ?? {})) out.push(`- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  out.push('');
  if (metrics.validation) {
    const v = metrics.validation;
    out.push('## Validation', '', `Step ${v.step}: loss ${Number(v.loss).toFixed(4)}, one-step MAE ${Number(v.oneStepMae255).toFixed(2)} (0-255). ${v.note ?? ''}`, '');
  }
  if (metrics.inpaintingQuality) {
    const q = metrics.inpaintingQuality as QualityReport;
    out.push('## Measured inpainting quality', '', describeReport(q), '', ...qualityTable(q), '', q.protocol ? `Protocol: ${q.protocol}.` : '', '');
  }
  for (const [name, q] of Object.entries((metrics.inpaintingQualityVariants ?? {}) as Record<string, QualityReport>))
    out.push(`### Sampler variant ${name}`, '', describeReport(q), '', ...qualityTable(q), '');
  if (metrics.noiseFloor) out.push('### What no inpainter can beat', '', String(metrics.noiseFloor), '');
  if (Array.isArray(card.limitations) && card.limitations.length) out.push('## Limitations', '', ...card.limitations.map((l: string) => `- ${l}`), '');
  out.push(`Generated from model.json by training/card.ts. Retrain with training/README.md.`, '');
  return out.join('\n');
}
