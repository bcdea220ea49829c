import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelsDir as repoModelsDir } from '../../../src/main/paths';
import { extractBrain } from '../../../src/main/core/preprocess/model-brain-mask';
import { dice, simpleHead } from './simple-head';
import { writeTinyBetModel } from './tiny-bet-model';

const modelsDir = mkdtempSync(join(tmpdir(), 'inpaint-ct-bet-'));
writeTinyBetModel(modelsDir, 'tiny-bet');
writeTinyBetModel(modelsDir, 'tiny-bet-512', { fixed512: true });
afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

describe('ONNX brain extraction path (tiny generated model, not CT_BET)', () => {
  const head = simpleHead([64, 72, 6], [3, 3, 5]);

  it('runs a fully convolutional model through the manifest loader', async () => {
    const r = await extractBrain(head.volume, { method: 'tiny-bet', modelsDir, device: 'cpu', batchSize: 4 });
    expect(r.stats.method).toBe('model:tiny-bet@0.0.1');
    // The network marks all soft tissue (scalp too); the largest 3D component is the brain.
    expect(dice(r.mask, head.truth)).toBeGreaterThan(0.97);
  });

  it('pads native slices into a fixed 512x512 network input and crops the output back', async () => {
    const r = await extractBrain(head.volume, { method: 'tiny-bet-512', modelsDir, device: 'cpu' });
    const c = await extractBrain(head.volume, { method: 'tiny-bet', modelsDir, device: 'cpu' });
    expect(r.mask).toEqual(c.mask);
  });

  it('refuses a missing model, a model of another kind and a damaged file', async () => {
    await expect(extractBrain(head.volume, { method: 'nope', modelsDir })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    // The checked-in inpainting test model is not a brain-extraction model.
    await expect(extractBrain(head.volume, { method: 'test-tiny', modelsDir: repoModelsDir() })).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringMatching(/inpainting model/) });
    const dir = writeTinyBetModel(modelsDir, 'damaged');
    writeFileSync(join(dir, 'model.onnx'), 'not a network');
    await expect(extractBrain(head.volume, { method: 'damaged', modelsDir })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM_MISMATCH' });
  });

  it('still refuses MR input before running the model', async () => {
    await expect(extractBrain({ ...head.volume, meta: { modality: 'MR' } }, { method: 'tiny-bet', modelsDir })).rejects.toMatchObject({ code: 'NOT_CT' });
  });
});
