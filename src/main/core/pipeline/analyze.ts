/**
 * The method end to end, as one core function every host shares (CLI `analyze`, the app's
 * analysis job, the benchmarks): brain extraction -> windowed 256x256 stack -> multi-scale grid
 * inpainting (diffusion model or a classical inpainter) -> per-scale healthy estimates.
 * Scoring the estimates is a separate, cheap step (`scoreReconstruction`) so that a reader can
 * switch metric and fusion without inpainting again.
 */
import { cpus, platform, arch } from 'node:os';
import { AppError } from '../../../shared/errors';
import { APP_VERSION } from '../../../shared/version';
import type { HealthyReferenceStamp } from '../../../shared/types';
import { throwIfAborted, type TaskOptions } from '../progress';
import { voxelCount, type Volume } from '../volume';
import { extractBrain } from '../preprocess/model-brain-mask';
import { assertCtLike } from '../preprocess/brain-mask';
import { prepareStack, inverseToNative, type PreprocessTransform } from '../preprocess/geometry';
import { windowRangeHu } from '../preprocess/window';
import { loadModel, type LoadedModel } from '../inpaint/model';
import { onnxNetwork } from '../inpaint/network';
import { inpaintStack, type InpaintMethod } from '../inpaint/engine';
import { resolvePreset, type PresetName } from '../inpaint/presets';
import { DEFAULT_SQUARE_SIZES_PX } from '../inpaint/grid';
import type { ClassicalMethod } from '../inpaint/classical';
import type { DeviceRequest, DeviceReport } from '../inpaint/runtime';
import { scoreScales, smoothResidual, SCORE_SSIM_OPTIONS, type ScaleReconstruction } from '../scoring/residuals';
import { fuseScaleScores, type FusionMethod } from '../scoring/fusion';

export type InpainterChoice =
  | { kind: 'diffusion'; modelId: string; preset: PresetName; device: DeviceRequest }
  | { kind: 'classical'; method: ClassicalMethod };

export interface AnalyzeOptions extends TaskOptions {
  inpainter: InpainterChoice;
  /** Folder holding models/<id>/ (needed for diffusion and model brain extraction). */
  modelsDir: string;
  /** 'classical' (default) or a brain-extraction model id. */
  brainMaskMethod?: string;
  seed?: number;
  sizesPx?: readonly number[];
  halfOffsets?: boolean;
  /** Analyse only these slices (default: every slice with brain). */
  slices?: number[];
}

/** Everything the inpainting produced, on the 256x256 analysis grid (depth = native slices). */
export interface Reconstruction {
  size: number;
  depth: number;
  transform: PreprocessTransform;
  /** Windowed [0, 1] original, skull-stripped as the model saw it. */
  original: Float32Array;
  brain: Uint8Array;
  /** One healthy estimate per square size (both grid offsets averaged). */
  scales: { sizePx: number; healthy: Float32Array; covered: Uint8Array }[];
  /** Mean over every square that covered the pixel, all sizes together. */
  fused: Float32Array;
  fusedCovered: Uint8Array;
  /** Slices that were inpainted. */
  slices: number[];
}

export interface RunProvenance {
  appVersion: string;
  createdAt: string;
  inpainter: InpainterChoice;
  model: { id: string; version: string; sha256: string; kind: string } | null;
  /** The sampler settings actually used (diffusion only). */
  preset: Record<string, unknown> | null;
  device: DeviceReport | { active: 'cpu'; note: string };
  seed: number;
  sizesPx: number[];
  halfOffsets: boolean;
  brainMask: { method: string; volumeMl: number };
  window: { centerHu: number; widthHu: number };
  networkCalls: number;
  elementPixelEvaluations: number;
  timingsMs: { brainMask: number; preprocess: number; inpaint: number; total: number };
  host: { platform: string; arch: string; cpu: string; cores: number };
  input: { dims: number[]; spacing: number[]; modality: string | null; seriesInstanceUid: string | null };
  /**
   * The healthy reference the run was analysed with (its copy is healthy-reference.json); null for
   * an inpainter without one. Absent in runs written before runs kept a copy.
   */
  healthyReference?: HealthyReferenceStamp | null;
}

export interface AnalysisOutput {
  brainMask: Uint8Array;
  recon: Reconstruction;
  provenance: RunProvenance;
  warnings: string[];
}

function methodLabel(c: InpainterChoice): string {
  return c.kind === 'diffusion' ? `diffusion model ${c.modelId} (${c.preset})` : `${c.method} inpainting`;
}

export async function analyzeVolume(volume: Volume, options: AnalyzeOptions): Promise<AnalysisOutput> {
  const t0 = performance.now();
  const { signal, onProgress } = options;
  assertCtLike(volume);
  onProgress?.({ stage: 'Brain extraction', done: 0, total: 1 });
  const brain = await extractBrain(volume, { method: options.brainMaskMethod ?? 'classical', modelsDir: options.modelsDir, signal });
  const t1 = performance.now();
  throwIfAborted(signal);
  onProgress?.({ stage: 'Preparing 256x256 slices', done: 0, total: 1 });
  const stack = prepareStack(volume, brain.mask, { signal });
  const t2 = performance.now();

  let model: LoadedModel | null = null;
  let method: InpaintMethod;
  if (options.inpainter.kind === 'diffusion') {
    model = await loadModel(options.modelsDir, options.inpainter.modelId, { kind: 'inpainting', device: options.inpainter.device });
    method = { kind: 'diffusion', network: onnxNetwork(model) };
  } else {
    method = { kind: 'classical', method: options.inpainter.method };
  }
  const size = stack.size;
  const depth = stack.sliceCount;
  const plane = size * size;
  const sizesPx = [...(options.sizesPx ?? DEFAULT_SQUARE_SIZES_PX)];
  const halfOffsets = options.halfOffsets ?? true;
  const scales = sizesPx.map((sizePx) => ({ sizePx, healthy: Float32Array.from(stack.images256), covered: new Uint8Array(plane * depth) }));
  const fused = Float32Array.from(stack.images256);
  const fusedCovered = new Uint8Array(plane * depth);
  const done: number[] = [];
  let stackResult;
  try {
    stackResult = await inpaintStack(
      { images: stack.images256, brainMasks: stack.masks256, width: size, height: size, depth },
      {
        method,
        preset: options.inpainter.kind === 'diffusion' ? options.inpainter.preset : undefined,
        seed: options.seed ?? 0,
        sizesPx,
        halfOffsets,
        slices: options.slices,
        signal,
        keepResults: false,
        onProgress: (p) => onProgress?.({ stage: `Inpainting with ${methodLabel(options.inpainter)}`, done: p.done, total: p.total, message: p.message }),
        // Copy each slice's estimates into the stacks as it finishes, so memory stays one slice deep.
        onSlice: (k, r) => {
          const base = k * plane;
          for (const s of r.perScale) {
            const target = scales.find((x) => x.sizePx === s.sizePx);
            if (!target) continue;
            target.healthy.set(s.healthy, base);
            clampToWindow(target.healthy, base, plane);
            target.covered.set(s.covered, base);
          }
          fused.set(r.fused, base);
          clampToWindow(fused, base, plane);
          fusedCovered.set(r.fusedCovered, base);
          done.push(k);
        },
      },
    );
  } finally {
    await model?.dispose();
  }
  const t3 = performance.now();
  const provenance: RunProvenance = {
    appVersion: APP_VERSION,
    createdAt: new Date().toISOString(),
    inpainter: options.inpainter,
    model: model ? { id: model.manifest.id, version: model.manifest.version, sha256: model.manifest.sha256, kind: model.manifest.kind } : null,
    preset: options.inpainter.kind === 'diffusion' ? { ...resolvePreset(options.inpainter.preset) } : null,
    device: model ? model.device : { active: 'cpu', note: 'classical inpainting runs on the CPU in JavaScript' },
    seed: options.seed ?? 0,
    sizesPx,
    halfOffsets,
    brainMask: { method: brain.stats.method, volumeMl: brain.stats.volumeMl },
    window: { centerHu: stack.transform.window.centerHu, widthHu: stack.transform.window.widthHu },
    networkCalls: stackResult.networkCalls,
    elementPixelEvaluations: stackResult.elementPixelEvaluations,
    timingsMs: { brainMask: t1 - t0, preprocess: t2 - t1, inpaint: t3 - t2, total: t3 - t0 },
    host: { platform: platform(), arch: arch(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    input: { dims: [...volume.dims], spacing: [...volume.spacing], modality: volume.meta.modality ?? null, seriesInstanceUid: volume.meta.seriesInstanceUid ?? null },
  };
  return {
    brainMask: brain.mask,
    recon: { size, depth, transform: stack.transform, original: stack.images256, brain: stack.masks256, scales, fused, fusedCovered, slices: done.sort((a, b) => a - b) },
    provenance,
    warnings: stack.warnings,
  };
}

/**
 * A healthy estimate is an image seen through the brain window: values outside [0, 1] (a
 * biharmonic fill overshooting at a sharp edge) cannot exist in the windowed scan and would
 * only inflate residuals, so they are clipped like the scan itself was.
 */
function clampToWindow(values: Float32Array, start: number, count: number): void {
  for (let p = start; p < start + count; p++) {
    const v = values[p];
    values[p] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

export type ScoreMetric = 'absolute' | 'squared' | 'ssim';
export const SCORE_METRICS: readonly ScoreMetric[] = ['absolute', 'squared', 'ssim'];

/** How to score (a reader's settings carry all of it, so a reading can be passed as it is). */
export interface ScoreChoice {
  metric: ScoreMetric;
  fusion: FusionMethod;
  /** One per square size (in the order of recon.scales) for 'weighted'. */
  weights?: number[];
  /** In-plane Gaussian sigma (mm) applied to the fused residual inside the brain (0 or absent = none). */
  smoothingMm?: number;
}

export interface NativeScore {
  /** Anomaly score per native voxel (0 outside the analysed brain). */
  score: Float32Array;
  /** original - healthy, windowed units, per native voxel (positive = hyperdense). */
  signed: Float32Array;
  score256: Float32Array;
}

/** Residuals per scale, fused, then mapped back onto the native voxels. */
export function scoreReconstruction(recon: Reconstruction, choice: ScoreChoice, options: TaskOptions = {}): NativeScore {
  const shape = { width: recon.size, height: recon.size, depth: recon.depth };
  const reconstructions: ScaleReconstruction[] = recon.scales.map((s) => ({ sizePx: s.sizePx, healthy: s.healthy, covered: s.covered }));
  const perScale = scoreScales(recon.original, reconstructions, shape, choice.metric, { ssim: SCORE_SSIM_OPTIONS, signal: options.signal });
  const fusedScore = fuseScaleScores(perScale, { method: choice.fusion, weights: choice.weights });
  // Scores live only inside the brain the model saw.
  for (let p = 0; p < fusedScore.score.length; p++) {
    if (!recon.brain[p]) {
      fusedScore.score[p] = 0;
      fusedScore.signed[p] = 0;
    }
  }
  if (choice.smoothingMm && choice.smoothingMm > 0) {
    // An analysis pixel is two frame pixels wide: twice the mean frame spacing.
    const pixelMm = recon.transform.framePixelSpacingMm[0] + recon.transform.framePixelSpacingMm[1];
    smoothResidual(fusedScore, recon.brain, shape, choice.metric, choice.smoothingMm / pixelMm);
  }
  return {
    score: inverseToNative(fusedScore.score, recon.transform, { interpolation: 'bilinear', fill: 0 }),
    signed: inverseToNative(fusedScore.signed, recon.transform, { interpolation: 'bilinear', fill: 0 }),
    score256: fusedScore.score,
  };
}

/**
 * The healthy reconstruction on the native grid in HU, for display and export: inside the brain
 * mask the fused estimate (windowed values mapped back through the brain window, so it spans the
 * window's HU range only), elsewhere the original voxels.
 */
export function healthyNativeHu(volume: Volume, recon: Reconstruction, brainMask: Uint8Array): Float32Array {
  if (brainMask.length !== voxelCount(volume.dims)) throw new AppError('GEOMETRY_MISMATCH', 'The brain mask does not match the volume.');
  const native = inverseToNative(recon.fused, recon.transform, { interpolation: 'bilinear', fill: 0 });
  const { lowHu, highHu } = windowRangeHuOf(recon.transform);
  const out = new Float32Array(native.length);
  const src = volume.data;
  for (let p = 0; p < out.length; p++) out[p] = brainMask[p] ? lowHu + native[p] * (highHu - lowHu) : src[p];
  return out;
}

function windowRangeHuOf(t: PreprocessTransform): { lowHu: number; highHu: number } {
  const [lowHu, highHu] = windowRangeHu(t.window);
  return { lowHu, highHu };
}
