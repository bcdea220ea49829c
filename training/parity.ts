/**
 * ONNX Runtime vs PyTorch parity of an exported model: runs the inputs export.py saved (crop
 * sizes the engine uses and a whole 256 slice, several timesteps) through the app's own loader
 * (sha256 check, ONNX Runtime CPU session) and compares with PyTorch's outputs.
 *
 *   npx tsx training/parity.ts --models-dir models --model healthy-brain-ddpm --fixture training/runs/main/parity
 *
 * Exits non-zero when the largest absolute difference exceeds --tolerance (default 1e-3, in
 * network units where outputs are of order 1).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../src/main/core/inpaint/model';
import type { InpaintingManifest } from '../src/main/core/inpaint/manifest';

const { values } = parseArgs({
  options: {
    'models-dir': { type: 'string', default: 'models' },
    model: { type: 'string', default: 'healthy-brain-ddpm' },
    fixture: { type: 'string', default: 'training/runs/main/parity' },
    tolerance: { type: 'string', default: '1e-3' },
  },
});

async function f32(path: string): Promise<Float32Array> {
  const buf = await readFile(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const dir = resolve(values.fixture!);
const { cases } = JSON.parse(await readFile(join(dir, 'cases.json'), 'utf8')) as { cases: { name: string; x: number[]; t: number; y: number[] }[] };
const model = await loadModel(resolve(values['models-dir']!), values.model!, { device: 'cpu' });
const m = model.manifest as InpaintingManifest;
let worst = 0;
for (const c of cases) {
  const x = await f32(join(dir, `${c.name}.x.f32`));
  const t = await f32(join(dir, `${c.name}.t.f32`));
  const y = await f32(join(dir, `${c.name}.y.f32`));
  const out = await model.run({ [m.io.inputs.condition.name]: { data: x, dims: c.x }, [m.io.inputs.timestep.name]: { data: t, dims: [c.x[0]] } });
  const got = out[m.io.output.name].data;
  if (got.length !== y.length) throw new Error(`${c.name}: ONNX Runtime returned ${got.length} values, PyTorch ${y.length}`);
  let maxAbs = 0;
  let sumAbs = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(got[i] - y[i]);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
    scale = Math.max(scale, Math.abs(y[i]));
  }
  worst = Math.max(worst, maxAbs);
  console.log(`${c.name}: [${c.x.join('x')}] t=${c.t}  max |ort - torch| = ${maxAbs.toExponential(2)}  mean = ${(sumAbs / y.length).toExponential(2)}  (max |torch| = ${scale.toFixed(2)})`);
}
await model.dispose();
const tol = Number(values.tolerance);
console.log(`${worst <= tol ? 'PASS' : 'FAIL'}: largest difference ${worst.toExponential(2)} (tolerance ${tol})`);
if (worst > tol) process.exit(1);
