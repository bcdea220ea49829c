// Runs the slice engine with a real ONNX model inside a worker thread, as the app's job system does.
import { parentPort, workerData } from 'node:worker_threads';
import { inpaintSlice } from '../../../src/main/core/inpaint/engine';
import { loadModel } from '../../../src/main/core/inpaint/model';
import { onnxNetwork } from '../../../src/main/core/inpaint/network';

const { modelsDir, image, brainMask, width, height } = workerData as { modelsDir: string; image: Float32Array; brainMask: Uint8Array; width: number; height: number };
const model = await loadModel(modelsDir, 'test-tiny', { device: 'cpu' });
const progress: number[] = [];
const res = await inpaintSlice({ image, brainMask, width, height }, { method: { kind: 'diffusion', network: onnxNetwork(model) }, sizesPx: [8, 16], seed: 2, onProgress: (p) => progress.push(p.done) });
await model.dispose();
parentPort!.postMessage({ fused: res.fused, networkCalls: res.networkCalls, progress, device: model.device.active });
