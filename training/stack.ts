/**
 * Reading preprocessed stacks (the folder layout of `inpaint-ct preprocess` and
 * scripts/gen-training-data.ts) for the TypeScript side of training: speed and quality checks
 * that run the app's own engine on the same slices the Python side trains and validates on.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti } from '../src/main/core/io/nifti';
import type { SliceInput } from '../src/main/core/inpaint/engine';
import { classicalBrainMask } from '../src/main/core/preprocess/brain-mask';
import { prepareStack, type PreparedStack } from '../src/main/core/preprocess/geometry';
import { generatePhantom } from '../src/main/core/synth/phantom';

export interface PreprocessedStack {
  dir: string;
  size: number;
  depth: number;
  /** Windowed [0, 1], slice k = inferior to superior. */
  images: Float32Array;
  masks: Uint8Array;
}

export async function loadPreprocessedStack(dir: string): Promise<PreprocessedStack> {
  const imagePath = join(dir, 'image256.nii.gz');
  const maskPath = join(dir, 'brainmask256.nii.gz');
  if (!existsSync(imagePath) || !existsSync(maskPath)) throw new Error(`${dir} is not a preprocessed stack (image256.nii.gz and brainmask256.nii.gz are needed; run "inpaint-ct preprocess").`);
  const image = await readNifti(imagePath);
  const mask = await readNifti(maskPath);
  const [nx, ny, nz] = image.dims;
  if (nx !== ny || mask.dims.join() !== image.dims.join()) throw new Error(`${dir}: the image (${image.dims.join('x')}) and mask (${mask.dims.join('x')}) must be square stacks of one size.`);
  return { dir, size: nx, depth: nz, images: Float32Array.from(image.data), masks: Uint8Array.from(mask.data, (v) => (v > 0 ? 1 : 0)) };
}

/** Brain pixels per slice. */
export function brainArea(stack: PreprocessedStack, k: number): number {
  const n = stack.size * stack.size;
  let c = 0;
  for (let p = k * n; p < (k + 1) * n; p++) c += stack.masks[p];
  return c;
}

/** `count` slices spread evenly over those whose brain area is at least `minFraction` of the largest. */
export function pickBrainSlices(stack: PreprocessedStack, count: number, minFraction = 0.5): number[] {
  const areas = Array.from({ length: stack.depth }, (_, k) => brainArea(stack, k));
  const max = Math.max(...areas);
  const eligible = areas.map((a, k) => (a >= minFraction * max && a > 0 ? k : -1)).filter((k) => k >= 0);
  if (!eligible.length) return [];
  if (count >= eligible.length) return eligible;
  return Array.from({ length: count }, (_, i) => eligible[Math.floor(((i + 0.5) * eligible.length) / count)]);
}

/** The engine's input for slice k: the slice, its brain mask and the neighbours (null beyond the stack, as the pipeline passes). */
export function sliceInput(stack: PreprocessedStack, k: number): SliceInput {
  const n = stack.size * stack.size;
  const view = (kk: number) => (kk >= 0 && kk < stack.depth ? stack.images.subarray(kk * n, (kk + 1) * n) : null);
  return { image: view(k)!, brainMask: stack.masks.subarray(k * n, (k + 1) * n), above: view(k + 1), below: view(k - 1), width: stack.size, height: stack.size };
}

/**
 * A healthy phantom prepared as the training data are (scripts/gen-training-data.ts: the classical
 * brain mask of the noisy scan), and the same phantom rendered without acquisition noise,
 * prepared with that same mask: the anatomy an ideal inpainter would repaint.
 */
export function phantomStacks(seed: number): { noisy: PreparedStack; clean: PreparedStack } {
  const noisy = generatePhantom({ seed });
  const mask = classicalBrainMask(noisy.volume).mask;
  return { noisy: prepareStack(noisy.volume, mask), clean: prepareStack(generatePhantom({ seed, noise: false }).volume, mask) };
}
