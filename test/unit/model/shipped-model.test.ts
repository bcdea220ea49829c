import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inpaintSlice, type SliceInput } from '../../../src/main/core/inpaint/engine';
import { CONDITIONING_CHANNELS, type InpaintingManifest } from '../../../src/main/core/inpaint/manifest';
import { fileSha256, loadModel, type LoadedModel } from '../../../src/main/core/inpaint/model';
import { onnxNetwork } from '../../../src/main/core/inpaint/network';
import { prepareStack } from '../../../src/main/core/preprocess/geometry';
import { generatePhantom } from '../../../src/main/core/synth/phantom';

/**
 * The models the app ships, both trained by training/: the default (models/healthy-brain-ddpm,
 * shown the slices above and below everywhere) and the one for lesions that span slices
 * (models/healthy-brain-ddpm-hidden-neighbours, those slices hidden inside the hole). Each loads
 * through the one loader, its checksum matches, it follows the manifest contract the engine
 * feeds, and one fast-preset slice of a healthy phantom comes back plausible and better than the
 * classical baseline it exists to beat.
 */
const MODELS = resolve(__dirname, '../../../models');
const SHIPPED = [
  { id: 'healthy-brain-ddpm', neighbourSlicesInHole: 'shown' },
  { id: 'healthy-brain-ddpm-hidden-neighbours', neighbourSlicesInHole: 'hidden' },
] as const;

/** A healthy phantom (a seed outside the training range 1000-4999) prepared exactly as the app prepares a scan. */
function phantomSlice(): SliceInput {
  const p = generatePhantom({ seed: 7, dims: [256, 256], spacing: [0.9, 0.9], slices: 3, sliceThicknessMm: 5 });
  const stack = prepareStack(p.volume, p.brainMask);
  const n = stack.size * stack.size;
  const view = (k: number) => stack.images256.slice(k * n, (k + 1) * n);
  return { image: view(1), brainMask: stack.masks256.slice(n, 2 * n), above: view(2), below: view(0), width: stack.size, height: stack.size };
}

function maeInSquares(truth: Float32Array, estimate: Float32Array, squares: { x0: number; y0: number; x1: number; y1: number; brainPixels: number }[], size: number, width: number): number {
  let sum = 0;
  let count = 0;
  for (const sq of squares) {
    if (sq.brainPixels < size * size) continue;
    for (let y = sq.y0; y < sq.y1; y++)
      for (let x = sq.x0; x < sq.x1; x++) {
        sum += Math.abs(truth[y * width + x] - estimate[y * width + x]);
        count++;
      }
  }
  expect(count).toBeGreaterThan(0);
  return (255 * sum) / count;
}

describe.each(SHIPPED)('shipped model $id', ({ id: ID, neighbourSlicesInHole }) => {
  let model: LoadedModel;
  let manifest: InpaintingManifest;

  beforeAll(async () => {
    model = await loadModel(MODELS, ID, { device: 'cpu', kind: 'inpainting' });
    manifest = model.manifest as InpaintingManifest;
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('has a matching sha256, the engine contract and a model card with measured quality', async () => {
    expect(await fileSha256(model.onnxPath)).toBe(manifest.sha256);
    expect(manifest.conditioning.channels).toEqual([...CONDITIONING_CHANNELS]);
    // How the model was trained to see the neighbours; the engine must feed it the same way.
    expect(manifest.conditioning.neighbourSlicesInHole).toBe(neighbourSlicesInHole);
    expect(manifest.imageSize.mode).toBe('fullyConvolutional');
    expect(['epsilon', 'v', 'x0']).toContain(manifest.prediction);
    expect(manifest.intensity.window).toEqual({ centerHu: 40, widthHu: 80 });
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(model.onnxPath));
    expect(size).toBeLessThan(40 * 1024 * 1024);
    expect(manifest.card.trainingData).toMatch(/seeds/);
    expect(manifest.card.metrics).toHaveProperty('inpaintingQuality');
  });

  it('is refused when the ONNX file does not match the manifest checksum', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shipped-model-'));
    try {
      const copy = join(dir, ID);
      await import('node:fs/promises').then((fs) => fs.mkdir(copy));
      const json = JSON.parse(await readFile(join(MODELS, ID, 'model.json'), 'utf8'));
      await writeFile(join(copy, 'model.json'), JSON.stringify({ ...json, sha256: '0'.repeat(64) }));
      await copyFile(join(MODELS, ID, manifest.file), join(copy, manifest.file));
      await expect(loadModel(dir, ID, { device: 'cpu' })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM_MISMATCH' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('inpaints a healthy phantom slice with the fast preset, better than biharmonic fill', async () => {
    const slice = phantomSlice();
    const width = slice.width!;
    const net = onnxNetwork(model);
    // One scale (both grid offsets) keeps the test quick on a shared 2-core machine: about 3 CPU-seconds;
    // training/speed.ts times the whole four-scale preset.
    const res = await inpaintSlice(slice, { method: { kind: 'diffusion', network: net }, preset: 'fast', seed: 1, sizesPx: [32] });
    expect(res.networkCalls).toBeGreaterThan(0);
    expect(res.grids.map((g) => g.offsetPx)).toEqual([0, 16]);
    for (let p = 0; p < slice.image.length; p++) {
      const v = res.fused[p];
      expect(Number.isFinite(v) && v >= 0 && v <= 1).toBe(true);
      // Pixels no square covered keep the real image exactly.
      if (!res.fusedCovered[p]) expect(v).toBe(slice.image[p]);
    }
    const classical = await inpaintSlice(slice, { method: { kind: 'classical', method: 'biharmonic' }, sizesPx: [32] });
    const grid32 = res.grids.find((g) => g.sizePx === 32 && g.offsetPx === 0)!;
    const diffusionMae = maeInSquares(slice.image, grid32.healthy, grid32.squares, 32, width);
    const biharmonicMae = maeInSquares(slice.image, classical.grids[0].healthy, classical.grids[0].squares, 32, width);
    // A model that learned healthy tissue fills 32 px squares inside the brain far better than a smooth
    // extrapolation of the noisy border (on held-out phantoms about half the error; see the card).
    expect(diffusionMae).toBeLessThan(0.85 * biharmonicMae);
    expect(diffusionMae).toBeLessThan(25);
  });
});
