/**
 * Time of the engine's fast preset per 256x256 slice with a model, on real preprocessed slices.
 *
 *   npx tsx training/speed.ts --models-dir models --model healthy-brain-ddpm [--model ...] \
 *       [--data training/data/phantoms/seed-1400] [--slices 3] [--runs 2]
 *
 * Prints seconds per slice (median and best of the runs), network calls, pixels evaluated and
 * network throughput, and the process CPU time per slice: on a shared machine wall time measures
 * the other jobs too, while CPU time (all threads) is the model's own cost; on an idle 2-core
 * machine the wall time is about CPU time / 2 (ONNX Runtime uses both cores).
 */
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inpaintSlice } from '../src/main/core/inpaint/engine';
import { loadModel } from '../src/main/core/inpaint/model';
import { onnxNetwork } from '../src/main/core/inpaint/network';
import { loadPreprocessedStack, pickBrainSlices, sliceInput } from './stack';

const { values } = parseArgs({
  options: {
    'models-dir': { type: 'string', default: 'models' },
    model: { type: 'string', multiple: true, default: ['healthy-brain-ddpm'] },
    data: { type: 'string', default: 'training/data/phantoms/seed-1400' },
    slices: { type: 'string', default: '3' },
    runs: { type: 'string', default: '2' },
    threads: { type: 'string' },
  },
});

const stack = await loadPreprocessedStack(resolve(values.data!));
const ks = pickBrainSlices(stack, Number(values.slices));
const load0 = loadavg()[0];
for (const id of values.model!) {
  const model = await loadModel(resolve(values['models-dir']!), id, { device: 'cpu', ...(values.threads ? { threads: Number(values.threads) } : {}) });
  const net = onnxNetwork(model);
  await inpaintSlice(sliceInput(stack, ks[0]), { method: { kind: 'diffusion', network: net }, preset: 'fast', seed: 0 });
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  let calls = 0;
  let px = 0;
  let netMs = 0;
  for (let r = 0; r < Number(values.runs); r++)
    for (const k of ks) {
      const res = await inpaintSlice(sliceInput(stack, k), { method: { kind: 'diffusion', network: net }, preset: 'fast', seed: r });
      times.push(res.timings.totalMs / 1000);
      calls += res.networkCalls;
      px += res.elementPixelEvaluations;
      netMs += res.timings.networkMs;
    }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerSlice = (cpu.user + cpu.system) / 1e6 / times.length;
  const sorted = [...times].sort((a, b) => a - b);
  const params = (model.manifest.card as { parameters?: number }).parameters;
  console.log(
    `${id}: ${params ? `${(params / 1e6).toFixed(2)} M params, ` : ''}median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s/slice, best ${sorted[0].toFixed(2)} s, ` +
      `${(calls / times.length).toFixed(0)} calls and ${((px / times.length) / 1e6).toFixed(2)} M px evaluations per slice, network ${((px / netMs) * 1000 / 1e3).toFixed(0)} k px/s, CPU ${cpuPerSlice.toFixed(2)} s per slice, slices ${ks.join(',')}`,
  );
  await model.dispose();
}
console.log(`${cpus()[0]?.model} x${cpus().length}, load average ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}; data ${join(values.data!)}`);
