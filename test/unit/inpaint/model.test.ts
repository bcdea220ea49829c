import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/main/core/inpaint/manifest';
import { fileSha256, listModels, loadModel } from '../../../src/main/core/inpaint/model';
import { liveSessionCount } from '../../../src/main/core/inpaint/runtime';
import { buildConditioning, type BatchConditioning } from '../../../src/main/core/inpaint/network';
import { CONDITIONING_CHANNELS } from '../../../src/main/core/inpaint/manifest';

const MODELS = resolve(__dirname, '../../../models');

let dir: string;
// Manifests are edited as plain JSON here to build invalid variants on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let tinyManifest: Record<string, any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function variant(id: string, edit: (m: Record<string, any>) => void, onnx = true): Promise<void> {
  const m = structuredClone(tinyManifest);
  m.id = id;
  edit(m);
  await cp(join(MODELS, 'test-tiny'), join(dir, id), { recursive: true });
  if (!onnx) await rm(join(dir, id, 'model.onnx'));
  await writeFile(join(dir, id, 'model.json'), JSON.stringify(m));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inpaint-models-'));
  tinyManifest = JSON.parse(await readFile(join(MODELS, 'test-tiny', 'model.json'), 'utf8'));
  await cp(join(MODELS, 'test-tiny'), join(dir, 'test-tiny'), { recursive: true });
  await variant('bad-beta', (m) => (m.schedule.betaEnd = 'high'));
  await variant('no-card', (m) => delete m.card.intendedUse);
  await variant('wrong-sha', (m) => (m.sha256 = 'a'.repeat(64)));
  await variant('five-channels', (m) => {
    m.conditioning.channels = m.conditioning.channels.slice(0, 5);
    m.io.inputs.condition.shape[1] = 5;
  });
  await variant('wrong-name', (m) => (m.io.inputs.condition.name = 'image'));
  await variant('no-onnx', () => {}, false);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model manifest and loader', () => {
  it('the checked-in tiny model matches its manifest and stays small', async () => {
    expect(await fileSha256(join(MODELS, 'test-tiny', 'model.onnx'))).toBe(tinyManifest.sha256);
    const m = parseManifest(tinyManifest);
    expect(m.kind).toBe('inpainting');
  });

  it('loads on auto, reports the CPU and why faster devices were skipped, and shares one session', async () => {
    const a = await loadModel(dir, 'test-tiny', { device: 'auto' });
    const b = await loadModel(dir, 'test-tiny', { device: 'auto' });
    expect(a.device.active).toBe('cpu');
    expect(a.device.skipped.map((s) => s.device)).toEqual(['cuda', 'webgpu']);
    for (const s of a.device.skipped) expect(s.reason.length).toBeGreaterThan(10);
    const c = await loadModel(dir, 'test-tiny', { device: 'cpu' });
    expect(liveSessionCount()).toBe(1);
    const out = await a.run({ x: { data: new Float32Array(2 * 6 * 16 * 24), dims: [2, 6, 16, 24] }, t: { data: new Float32Array([5, 900]), dims: [2] } });
    expect(out.eps.dims).toEqual([2, 1, 16, 24]);
    expect(a.runs).toBe(1);
    await a.dispose();
    await a.dispose();
    await b.dispose();
    expect(liveSessionCount()).toBe(1);
    await c.dispose();
    expect(liveSessionCount()).toBe(0);
    await expect(a.run({})).rejects.toThrow(/disposed/);
  });

  it('a missing model is MODEL_NOT_FOUND', async () => {
    // The message names what is installed, so a mistyped --model is easy to correct.
    await expect(loadModel(dir, 'nope')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('Installed: bad-beta, five-channels, no-card, no-onnx, test-tiny, wrong-name, wrong-sha.') });
    await expect(loadModel(join(dir, 'empty'), 'nope')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('No models are installed.') });
    await expect(loadModel(dir, 'no-onnx')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('network file') });
    await expect(loadModel(dir, '../etc')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('a bad manifest is MODEL_MANIFEST_INVALID naming the field', async () => {
    await expect(loadModel(dir, 'bad-beta')).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', detail: { field: 'schedule.betaEnd' } });
    await expect(loadModel(dir, 'no-card')).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID', message: expect.stringContaining('"card.intendedUse" is missing') });
    expect(() => parseManifest({ ...tinyManifest, conditioning: { channels: ['known', 'inpaintMask'] } })).toThrow(/conditioning.channels/);
    expect(() => parseManifest({ ...tinyManifest, io: { ...tinyManifest.io, inputs: { ...tinyManifest.io.inputs, condition: { name: 'x', shape: ['batch', 6, 'height', 'width'] } } }, conditioning: { channels: ['noisy'] } })).toThrow(/io.inputs.condition.shape.1/);
  });

  it('a wrong sha256 is MODEL_CHECKSUM_MISMATCH', async () => {
    await expect(loadModel(dir, 'wrong-sha')).rejects.toMatchObject({ code: 'MODEL_CHECKSUM_MISMATCH', message: expect.stringContaining('damaged') });
  });

  it('inputs that differ from the manifest are MODEL_SHAPE_MISMATCH', async () => {
    await expect(loadModel(dir, 'five-channels')).rejects.toMatchObject({ code: 'MODEL_SHAPE_MISMATCH', message: expect.stringContaining('[batch, 5, height, width]') });
    await expect(loadModel(dir, 'wrong-name')).rejects.toMatchObject({ code: 'MODEL_SHAPE_MISMATCH', message: expect.stringContaining('"image" is not in the network') });
    expect(liveSessionCount()).toBe(0);
  });

  it('lists models, with the error of each broken one', async () => {
    const list = await listModels(dir);
    expect(list.map((m) => m.id)).toEqual(['bad-beta', 'five-channels', 'no-card', 'no-onnx', 'test-tiny', 'wrong-name', 'wrong-sha']);
    expect(list.find((m) => m.id === 'bad-beta')!.error!.code).toBe('MODEL_MANIFEST_INVALID');
    expect(list.find((m) => m.id === 'test-tiny')!.manifest!.card.intendedUse).toMatch(/tests/);
    expect(await listModels(join(dir, 'missing'))).toEqual([]);
  });

  it('an unavailable explicit device is DEVICE_UNAVAILABLE with the reason', async () => {
    const probe = await loadModel(dir, 'test-tiny');
    await probe.dispose();
    // Only meaningful where CUDA is absent (everywhere the unit tests run today).
    if (!probe.device.skipped.some((s) => s.device === 'cuda')) return;
    await expect(loadModel(dir, 'test-tiny', { device: 'cuda' })).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE', message: expect.stringContaining('cuda') });
  });
});

describe('conditioning of the neighbour slices', () => {
  // Two 4x1 elements; the hole is pixels 1-2 of the first and nothing of the second. The slice
  // above holds a "lesion" (0.9) that also lies in the hole of the slice being repainted.
  const cond: BatchConditioning = {
    shape: { batch: 2, height: 1, width: 4 },
    known: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]),
    knownMask: Uint8Array.from([1, 0, 0, 1, 1, 1, 1, 1]),
    brainMask: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]),
    above: [Float32Array.from([0.2, 0.9, 0.9, 0.2]), Float32Array.from([0.3, 0.3, 0.3, 0.3])],
    below: [null, Float32Array.from([0.4, 0.4, 0.4, 0.4])],
  };
  const channel = (input: Float32Array, b: number, name: (typeof CONDITIONING_CHANNELS)[number]) => {
    const c = CONDITIONING_CHANNELS.indexOf(name);
    return [...input.subarray((b * CONDITIONING_CHANNELS.length + c) * 4, (b * CONDITIONING_CHANNELS.length + c + 1) * 4)].map((v) => +v.toFixed(3));
  };

  it('"hidden" keeps a lesion in the slice above out of the network inside the hole, and only there', () => {
    const input = buildConditioning(cond, CONDITIONING_CHANNELS, { knownFill: -1, missingSliceFill: -0.5, neighbourSlicesInHole: 'hidden' });
    expect(channel(input, 0, 'known')).toEqual([0.1, -1, -1, 0.4]);
    expect(channel(input, 0, 'sliceAbove')).toEqual([0.2, -1, -1, 0.2]);
    expect(channel(input, 0, 'sliceBelow')).toEqual([-0.5, -0.5, -0.5, -0.5]);
    expect(channel(input, 1, 'sliceAbove')).toEqual([0.3, 0.3, 0.3, 0.3]);
    expect(channel(input, 1, 'sliceBelow')).toEqual([0.4, 0.4, 0.4, 0.4]);
  });

  it('"shown" (models trained with whole neighbours) passes them unchanged', () => {
    const input = buildConditioning(cond, CONDITIONING_CHANNELS, { knownFill: -1, missingSliceFill: -0.5, neighbourSlicesInHole: 'shown' });
    expect(channel(input, 0, 'sliceAbove')).toEqual([0.2, 0.9, 0.9, 0.2]);
    expect(channel(input, 0, 'inpaintMask')).toEqual([0, 1, 1, 0]);
  });

  it('the manifest defaults to "shown" and refuses other values naming the field', () => {
    expect(parseManifest(tinyManifest)).toMatchObject({ conditioning: { neighbourSlicesInHole: 'shown' } });
    expect(() => parseManifest({ ...tinyManifest, conditioning: { ...tinyManifest.conditioning, neighbourSlicesInHole: 'masked' } })).toThrow(/conditioning.neighbourSlicesInHole/);
  });
});
