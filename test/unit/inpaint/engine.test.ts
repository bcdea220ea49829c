import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateDiffusionCost, inpaintMasked, inpaintSlice, inpaintStack, type SliceInput } from '../../../src/main/core/inpaint/engine';
import { loadModel } from '../../../src/main/core/inpaint/model';
import { functionNetwork, onnxNetwork, oracleNetwork, type BatchConditioning } from '../../../src/main/core/inpaint/network';
import { PRESETS } from '../../../src/main/core/inpaint/presets';

const MODELS = resolve(__dirname, '../../../models');

function phantom(w: number, h: number, ry = 0.4): SliceInput {
  const image = new Float32Array(w * h);
  const brainMask = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const r = ((x - w / 2) / (w * 0.35)) ** 2 + ((y - h / 2) / (h * ry)) ** 2;
      if (r <= 1) {
        brainMask[y * w + x] = 1;
        image[y * w + x] = 0.5 + 0.002 * x - 0.001 * y;
      }
    }
  return { image, brainMask, width: w, height: h };
}

function brainLike256(): Uint8Array {
  const m = new Uint8Array(256 * 256);
  for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) if (((x - 128) / 80) ** 2 + ((y - 128) / 100) ** 2 <= 1) m[y * 256 + x] = 1;
  return m;
}

describe('slice engine', () => {
  it('fast preset needs >= 300x fewer network calls than the reference on a 256x256 slice', () => {
    const net = functionNetwork({ fn: (x) => x });
    const mask = brainLike256();
    const ref = estimateDiffusionCost(mask, 256, 256, net, 'reference');
    const fast = estimateDiffusionCost(mask, 256, 256, net, 'fast');
    expect(ref.callsPerChain).toBe(2410);
    // One chain per non-empty phase mask: 4 sizes x 2 offsets x up to 9 phases.
    expect(ref.chains).toBeGreaterThan(60);
    expect(ref.chains).toBeLessThanOrEqual(72);
    expect(ref.networkCalls).toBe(ref.chains * 2410);
    expect(ref.networkCalls / fast.networkCalls).toBeGreaterThanOrEqual(300);
    expect(fast.elementPixelEvaluations).toBeLessThan(ref.elementPixelEvaluations / 1000);
  });

  it('writes each square where it belongs and fuses per grid, per scale and overall', async () => {
    const input = phantom(64, 64);
    // An x0-predicting network that paints 0 (network units) = 0.5 windowed into every hole.
    const net = functionNetwork({ prediction: 'x0', fn: (x) => new Float32Array(x.length) });
    const res = await inpaintSlice(input, { method: { kind: 'diffusion', network: net }, sizesPx: [8, 16], seed: 1 });
    expect(res.grids.map((g) => `${g.sizePx}+${g.offsetPx}`)).toEqual(['8+0', '8+4', '16+0', '16+8']);
    expect(res.perScale.map((s) => s.sizePx)).toEqual([8, 16]);
    for (const g of res.grids) {
      let wrong = 0;
      for (let p = 0; p < 64 * 64; p++) {
        if (g.covered[p] ? Math.abs(g.healthy[p] - 0.5) > 1e-6 : g.healthy[p] !== input.image[p]) wrong++;
        if (input.brainMask[p] && !g.covered[p]) wrong++;
      }
      expect(wrong).toBe(0);
    }
    const est = estimateDiffusionCost(input.brainMask, 64, 64, net, 'fast', { sizesPx: [8, 16] });
    expect(res.networkCalls).toBe(est.networkCalls);
    expect(res.elementPixelEvaluations).toBe(est.elementPixelEvaluations);
    expect(res.chains).toBe(est.chains);
  });

  it('an oracle network gives back the true healthy slice', async () => {
    const input = phantom(64, 64);
    input.image.fill(0.42);
    const net = oracleNetwork((cond: BatchConditioning) => new Float32Array(cond.known.length).fill(0.42 * 2 - 1));
    const res = await inpaintSlice(input, { method: { kind: 'diffusion', network: net }, sizesPx: [8, 32], seed: 3 });
    for (let p = 0; p < res.fused.length; p++) expect(res.fused[p]).toBeCloseTo(0.42, 4);
  });

  it('is deterministic with a seed and passes neighbours as conditioning', async () => {
    const input = { ...phantom(32, 32), above: new Float32Array(32 * 32).fill(1), below: null };
    const seen: { above: boolean; below: boolean; aboveValue: number }[] = [];
    const net = functionNetwork({
      fn: (x, t, shape, cond) => {
        seen.push({ above: cond.above[0] !== null, below: cond.below[0] !== null, aboveValue: cond.above[0]?.[0] ?? NaN });
        return x.map((v, i) => Math.sin(i + t) * 0.5);
      },
    });
    const run = () => inpaintSlice(input, { method: { kind: 'diffusion', network: net }, sizesPx: [8], seed: 9 });
    const a = await run();
    const b = await run();
    expect(Array.from(a.fused)).toEqual(Array.from(b.fused));
    expect(seen.every((s) => s.above && !s.below && s.aboveValue === 1)).toBe(true);
  });

  it('classical methods run over the same grid: harmonic reproduces a ramp at every scale', async () => {
    // Brain well inside the image, so no square meets the border (where the mirror boundary bends a 2-D ramp).
    const w = 160;
    const input = phantom(w, w, 0.38);
    const ramp = new Float32Array(w * w).map((_, p) => 0.2 + 0.004 * (p % w) + 0.003 * Math.floor(p / w));
    const res = await inpaintSlice({ ...input, image: ramp }, { method: { kind: 'classical', method: 'harmonic' }, sizesPx: [8, 16] });
    expect(res.grids.every((g) => g.squares.every((s) => s.x0 > 0 && s.y0 > 0 && s.x1 < w && s.y1 < w))).toBe(true);
    expect(res.networkCalls).toBe(0);
    for (const g of res.grids) {
      let maxErr = 0;
      for (let p = 0; p < ramp.length; p++) maxErr = Math.max(maxErr, Math.abs(g.healthy[p] - ramp[p]));
      expect(maxErr).toBeLessThan(1e-4);
    }
  });

  it('reports progress and can be cancelled', async () => {
    const input = phantom(64, 64);
    const ctl = new AbortController();
    const progress: number[] = [];
    const net = functionNetwork({
      fn: (x) => {
        if (progress.length >= 2) ctl.abort();
        return new Float32Array(x.length);
      },
    });
    await expect(inpaintSlice(input, { method: { kind: 'diffusion', network: net }, signal: ctl.signal, onProgress: (p) => progress.push(p.done) })).rejects.toThrow(/cancelled/);
    expect(progress[0]).toBe(0);
  });

  it('runs a stack with progress per slice', async () => {
    const one = phantom(32, 32);
    const depth = 3;
    const images = new Float32Array(32 * 32 * depth);
    const masks = new Uint8Array(32 * 32 * depth);
    for (let k = 0; k < depth; k++) {
      images.set(one.image, k * 1024);
      if (k !== 1) masks.set(one.brainMask as Uint8Array, k * 1024);
    }
    const stages: string[] = [];
    const res = await inpaintStack({ images, brainMasks: masks, width: 32, height: 32, depth }, { method: { kind: 'classical', method: 'linear' }, sizesPx: [8], onProgress: (p) => stages.push(`${p.done}/${p.total}`) });
    expect(res.slices.map((s) => s.k)).toEqual([0, 2]);
    expect(stages).toEqual(['0/2', '1/2', '2/2']);
  });

  it('fills an arbitrary mask and keeps every other pixel exactly', async () => {
    const input = phantom(32, 32);
    const mask = new Uint8Array(32 * 32);
    for (let y = 10; y < 20; y++) for (let x = 5; x < 12; x++) mask[y * 32 + x] = 1;
    const net = functionNetwork({ prediction: 'x0', fn: (x) => new Float32Array(x.length).fill(0.5) });
    const res = await inpaintMasked({ ...input, mask }, { method: { kind: 'diffusion', network: net } });
    expect(res.networkCalls).toBe(PRESETS.fast.steps);
    for (let p = 0; p < mask.length; p++) expect(res.values[p]).toBeCloseTo(mask[p] ? 0.75 : input.image[p], 6);
    const lin = await inpaintMasked({ ...input, mask }, { method: { kind: 'classical', method: 'linear' } });
    expect(lin.networkCalls).toBe(0);
  });

  it('fills a small mask from its neighbourhood in a crop like the grid squares, and falls back to the whole slice', async () => {
    // Left half 0.2, right half 0.8; the network fills the hole with the mean of what it is shown.
    const w = 64;
    const image = new Float32Array(w * w);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) image[y * w + x] = x < 32 ? 0.2 : 0.8;
    const input: SliceInput = { image, brainMask: new Uint8Array(w * w).fill(1), width: w, height: w };
    const shapes: string[] = [];
    const net = functionNetwork({
      prediction: 'x0',
      fn: (_x, _t, shape, cond) => {
        shapes.push(`${shape.width}x${shape.height}`);
        let sum = 0;
        let count = 0;
        for (let p = 0; p < cond.known.length; p++)
          if (cond.knownMask[p]) {
            sum += cond.known[p];
            count++;
          }
        return new Float32Array(cond.known.length).fill(sum / count);
      },
    });
    const square = (x0: number, y0: number, side: number) => {
      const m = new Uint8Array(w * w);
      for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) m[y * w + x] = 1;
      return m;
    };
    const mask = square(44, 28, 8);
    const res = await inpaintMasked({ ...input, mask }, { method: { kind: 'diffusion', network: net } });
    // 8 px square + the fast preset's 4 px margin on each side: the crop holds right-half tissue only.
    expect(shapes).toEqual(['16x16']);
    expect(res.elementPixelEvaluations).toBe(16 * 16 * PRESETS.fast.steps);
    for (let p = 0; p < mask.length; p++) expect(res.values[p]).toBeCloseTo(mask[p] ? 0.8 : image[p], 5);
    // At the image's edge the crop is moved inside the image, not shrunk.
    shapes.length = 0;
    const edge = await inpaintMasked({ ...input, mask: square(56, 0, 8) }, { method: { kind: 'diffusion', network: net } });
    expect(shapes).toEqual(['16x16']);
    expect(edge.values[2 * w + 60]).toBeCloseTo(0.8, 5);
    // The reference preset (whole-image chains) and a mask too large for a crop see the whole slice.
    shapes.length = 0;
    await inpaintMasked({ ...input, mask }, { method: { kind: 'diffusion', network: net }, preset: 'reference', presetOverrides: { steps: 1, jumpLength: 1, jumpNSample: 1 } });
    const large = await inpaintMasked({ ...input, mask: square(4, 4, 40) }, { method: { kind: 'diffusion', network: net } });
    expect(shapes).toEqual(['64x64', '64x64']);
    expect(large.values[20 * w + 20]).toBeGreaterThan(0.2);
  });
});

describe('tiny ONNX model through the fast preset', () => {
  it('inpaints a small slice with real session.run calls', async () => {
    const model = await loadModel(MODELS, 'test-tiny', { device: 'cpu' });
    try {
      const net = onnxNetwork(model);
      const input = phantom(64, 64);
      const res = await inpaintSlice(input, { method: { kind: 'diffusion', network: net }, preset: 'fast', sizesPx: [8, 16, 32], seed: 5 });
      const est = estimateDiffusionCost(input.brainMask, 64, 64, net, 'fast', { sizesPx: [8, 16, 32] });
      expect(res.networkCalls).toBe(est.networkCalls);
      expect(model.runs).toBe(res.networkCalls);
      for (const v of res.fused) expect(Number.isFinite(v)).toBe(true);
      // Random weights: the estimate differs from the image inside the brain, is the image outside the squares.
      let diff = 0;
      for (let p = 0; p < res.fused.length; p++) {
        if (!res.fusedCovered[p]) expect(res.fused[p]).toBe(input.image[p]);
        else diff += Math.abs(res.fused[p] - input.image[p]);
      }
      expect(diff).toBeGreaterThan(0);
      expect(res.timings.networkMs).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
  });
});
