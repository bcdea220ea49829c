import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deviceCheck, loadModel, readManifest } from '../../../src/main/core/inpaint/model';
import { openSession, type RuntimeSession } from '../../../src/main/core/inpaint/runtime';

/**
 * Accelerators are trusted only after they agree with the CPU. Exercised on a real WebGPU device
 * in software: Chromium's SwiftShader Vulkan driver (Debian's chromium, installed for the
 * end-to-end tests) through the Vulkan loader (libvulkan1). ONNX Runtime generates the same WebGPU
 * kernels for it as for a GPU, so their faults show here too; it is only far slower.
 */
const MODELS = resolve(__dirname, '../../../models');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const VULKAN_LOADERS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'];

let unavailable: string | null = null;

async function maxDifference(a: RuntimeSession, b: RuntimeSession, feeds: Parameters<RuntimeSession['run']>[0]): Promise<number> {
  const [x, y] = [Object.values(await a.run(feeds))[0].data, Object.values(await b.run(feeds))[0].data];
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

beforeAll(async () => {
  if (!existsSync(SWIFTSHADER_ICD)) unavailable = `no software Vulkan driver (${SWIFTSHADER_ICD}, from Debian's chromium)`;
  else if (!VULKAN_LOADERS.some((p) => existsSync(p))) unavailable = 'the Vulkan loader is not installed (apt-get install libvulkan1)';
  if (unavailable) return;
  // Read by Dawn when ONNX Runtime first asks for a WebGPU adapter, i.e. later in this process.
  process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  process.env.XDG_RUNTIME_DIR ??= tmpdir();
  try {
    const probe = await openSession(join(MODELS, 'test-tiny', 'model.onnx'), { device: 'webgpu' });
    await probe.dispose();
  } catch (e) {
    unavailable = `no WebGPU adapter: ${(e as Error).message.slice(0, 200)}`;
  }
}, 60_000);

describe('accelerator check against the CPU', () => {
  it('refuses WebGPU for a network it computes wrongly, and auto falls back to the CPU with the reason', async (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    // test-tiny reads a 6-channel input straight into a convolution (it predates onnx_fixups.py).
    const { manifest } = await readManifest(MODELS, 'test-tiny');
    const check = deviceCheck(manifest);
    const onnx = join(MODELS, 'test-tiny', 'model.onnx');
    const [gpu, cpu] = [await openSession(onnx, { device: 'webgpu' }), await openSession(onnx, { device: 'cpu' })];
    const wrong = await maxDifference(gpu, cpu, check.feeds);
    await gpu.dispose();
    await cpu.dispose();
    if (wrong <= check.relativeTolerance) ctx.skip(`ONNX Runtime now computes test-tiny right on WebGPU (difference ${wrong}); the refusal cannot be shown with it`);

    await expect(loadModel(MODELS, 'test-tiny', { device: 'webgpu' })).rejects.toMatchObject({ code: 'DEVICE_UNAVAILABLE', message: expect.stringMatching(/webgpu: its results on a test input differ from the CPU's/) });
    const model = await loadModel(MODELS, 'test-tiny', { device: 'auto' });
    try {
      expect(model.device.active).toBe('cpu');
      expect(model.device.skipped.find((s) => s.device === 'webgpu')?.reason).toMatch(/differ from the CPU's/);
    } finally {
      await model.dispose();
    }
  }, 60_000);

  for (const id of ['healthy-brain-ddpm', 'healthy-brain-ddpm-hidden-neighbours']) {
    it(`runs the shipped ${id} on WebGPU when asked, agreeing with the CPU; auto passes over a software adapter`, async (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const model = await loadModel(MODELS, id, { device: 'webgpu' });
      try {
        expect(model.device.active).toBe('webgpu');
        const checked = model.device.checkedAgainstCpu!;
        expect(checked.maxDifference).toBeLessThan(1e-3 * Math.max(1, checked.outputScale));
        // SwiftShader emulates the GPU on the CPU: hundreds of times slower than ONNX Runtime's CPU kernels.
        const auto = await loadModel(MODELS, id, { device: 'auto' });
        expect(auto.device.active).toBe('cpu');
        expect(auto.device.skipped.find((s) => s.device === 'webgpu')?.reason).toMatch(/times slower than the CPU .* a software adapter/);
        await auto.dispose();
      } finally {
        await model.dispose();
      }
    }, 120_000);
  }
});
