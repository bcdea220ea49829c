import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { inpaintSlice } from '../../../src/main/core/inpaint/engine';
import { loadModel } from '../../../src/main/core/inpaint/model';
import { onnxNetwork } from '../../../src/main/core/inpaint/network';

const MODELS = resolve(__dirname, '../../../models');

describe('engine in a worker thread', () => {
  it('runs ONNX inference off the main thread with the same result as on it', async () => {
    const w = 48;
    const image = new Float32Array(w * w).map((_, p) => 0.3 + 0.001 * p);
    const brainMask = new Uint8Array(w * w).map((_, p) => (Math.hypot((p % w) - 24, Math.floor(p / w) - 24) < 18 ? 1 : 0));
    // The app's own source-mode bootstrap (registers tsx in the worker, then imports sourceEntry).
    const bootstrap = resolve(__dirname, '../../../src/main/jobs/worker-bootstrap.mjs');
    const worker = new Worker(bootstrap, { workerData: { sourceEntry: resolve(__dirname, 'worker-fixture.ts'), modelsDir: MODELS, image, brainMask, width: w, height: w } });
    const fromWorker = await new Promise<{ fused: Float32Array; networkCalls: number; progress: number[]; device: string }>((res, rej) => {
      worker.once('message', res);
      worker.once('error', rej);
    });
    await worker.terminate();
    expect(fromWorker.device).toBe('cpu');
    expect(fromWorker.progress.at(-1)).toBe(fromWorker.networkCalls);
    const model = await loadModel(MODELS, 'test-tiny', { device: 'cpu' });
    const here = await inpaintSlice({ image, brainMask, width: w, height: w }, { method: { kind: 'diffusion', network: onnxNetwork(model) }, sizesPx: [8, 16], seed: 2 });
    await model.dispose();
    expect(fromWorker.networkCalls).toBe(here.networkCalls);
    let maxDiff = 0;
    for (let p = 0; p < here.fused.length; p++) maxDiff = Math.max(maxDiff, Math.abs(fromWorker.fused[p] - here.fused[p]));
    expect(maxDiff).toBeLessThan(1e-5);
  });
});
