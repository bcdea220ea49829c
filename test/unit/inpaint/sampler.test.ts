import { describe, expect, it } from 'vitest';
import { GaussianRng } from '../../../src/main/core/inpaint/rng';
import { epsilonDenoiser, modelCallsPerChain, sampleInpaint, type BatchShape, type Denoiser, type PredictionType, type SamplerSettings } from '../../../src/main/core/inpaint/sampler';
import { evenlySpacedTimesteps, partialTimesteps, trainingAlphaBar } from '../../../src/main/core/inpaint/schedule';

const alphaBar = trainingAlphaBar({ type: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainingSteps: 1000 });

function testBatch(batch: number, height = 8, width = 8, seed = 7) {
  const n = batch * height * width;
  const rng = new GaussianRng(99);
  const clean = new Float32Array(n).map(() => Math.tanh(rng.normal()));
  const knownMask = new Uint8Array(n).fill(1);
  for (let b = 0; b < batch; b++) for (let y = 2; y < 6; y++) for (let x = 3; x < 7; x++) knownMask[b * height * width + y * width + x] = 0;
  const rngs = Array.from({ length: batch }, (_, b) => new GaussianRng(seed, `e${b}`));
  return { shape: { batch, height, width } as BatchShape, clean, knownMask, rngs };
}

/** Predicts exactly what a perfect network would for the given clean images. */
function oracle(clean: Float32Array, prediction: PredictionType): Denoiser {
  return {
    prediction,
    predict(x, t) {
      const sa = Math.sqrt(alphaBar[t]);
      const sn = Math.sqrt(1 - alphaBar[t]);
      return x.map((v, p) => {
        const eps = (v - sa * clean[p]) / sn;
        return prediction === 'epsilon' ? eps : prediction === 'x0' ? clean[p] : sa * eps - sn * clean[p];
      });
    },
  };
}

const garbage: Denoiser = epsilonDenoiser((x, t) => x.map((v, p) => Math.sin(p * 12.9898 + t) * 3));

const ddim = (timesteps: number[], extra: Partial<SamplerSettings> = {}): SamplerSettings => ({ kind: 'ddim', eta: 0, timesteps, jumpLength: 1, jumpNSample: 1, clipX0: null, ...extra });

describe('samplers', () => {
  for (const prediction of ['epsilon', 'v', 'x0'] as const) {
    it(`one DDIM step with an oracle (${prediction}) recovers the clean image`, async () => {
      const { shape, clean, knownMask, rngs } = testBatch(2);
      const res = await sampleInpaint({ shape, known: clean, knownMask, rngs }, oracle(clean, prediction), alphaBar, ddim(partialTimesteps(499, 1)));
      expect(res.modelCalls).toBe(1);
      for (let p = 0; p < clean.length; p++) expect(res.x0[p]).toBeCloseTo(clean[p], 4);
    });
  }

  it('a DDPM chain from pure noise with an oracle ends at the clean image', async () => {
    const { shape, clean, knownMask, rngs } = testBatch(1);
    const res = await sampleInpaint({ shape, known: clean, knownMask, rngs }, oracle(clean, 'epsilon'), alphaBar, { kind: 'ddpm', eta: 1, timesteps: evenlySpacedTimesteps(1000, 50), jumpLength: 5, jumpNSample: 2 });
    for (let p = 0; p < clean.length; p++) expect(res.x0[p]).toBeCloseTo(clean[p], 4);
  });

  it('keeps known pixels exactly, whatever the network says', async () => {
    for (const settings of [ddim(partialTimesteps(599, 4)), { kind: 'ddpm', eta: 1, timesteps: evenlySpacedTimesteps(1000, 20), jumpLength: 5, jumpNSample: 3 } as SamplerSettings]) {
      const { shape, clean, knownMask, rngs } = testBatch(3);
      const res = await sampleInpaint({ shape, known: clean, knownMask, rngs, init: new Float32Array(clean.length) }, garbage, alphaBar, settings);
      let changed = 0;
      for (let p = 0; p < clean.length; p++) {
        if (knownMask[p]) expect(res.x0[p]).toBe(clean[p]);
        else if (Math.abs(res.x0[p] - clean[p]) > 1e-3) changed++;
      }
      expect(changed).toBeGreaterThan(0);
    }
  });

  it('DDIM with eta 0 is deterministic and independent of batching', async () => {
    const settings = ddim(partialTimesteps(599, 3));
    const run = async (batch: number, seed: number) => {
      const t = testBatch(batch, 8, 8, seed);
      return (await sampleInpaint({ shape: t.shape, known: t.clean, knownMask: t.knownMask, rngs: t.rngs }, garbage, alphaBar, settings)).x0;
    };
    const a = await run(3, 1);
    const b = await run(3, 1);
    expect(Array.from(b)).toEqual(Array.from(a));
    // Element 0 alone equals element 0 of the batch of three.
    const single = await run(1, 1);
    expect(Array.from(single)).toEqual(Array.from(a.subarray(0, 64)));
    const other = await run(3, 2);
    expect(Array.from(other)).not.toEqual(Array.from(a));
  });

  it('calls the network exactly as often as the schedule says (2,410 for 250/10/10)', async () => {
    const settings: SamplerSettings = { kind: 'ddpm', eta: 1, timesteps: evenlySpacedTimesteps(1000, 250), jumpLength: 10, jumpNSample: 10 };
    expect(modelCallsPerChain(settings)).toBe(2410);
    const seen: number[] = [];
    const counting: Denoiser = epsilonDenoiser((x, t) => {
      seen.push(t);
      return new Float32Array(x.length);
    });
    const { clean, knownMask } = testBatch(1, 2, 2);
    const res = await sampleInpaint({ shape: { batch: 1, height: 2, width: 2 }, known: clean.subarray(0, 4), knownMask: knownMask.subarray(0, 4), rngs: [new GaussianRng(1)] }, counting, alphaBar, settings);
    expect(res.modelCalls).toBe(2410);
    expect(seen.length).toBe(2410);
    // The network sees training timesteps: the first call at 999, the last at 0.
    expect(seen[0]).toBe(999);
    expect(seen.at(-1)).toBe(0);
  });

  it('stops when cancelled', async () => {
    const ctl = new AbortController();
    const { shape, clean, knownMask, rngs } = testBatch(1);
    let calls = 0;
    const d = epsilonDenoiser((x) => {
      if (++calls === 3) ctl.abort();
      return new Float32Array(x.length);
    });
    await expect(sampleInpaint({ shape, known: clean, knownMask, rngs }, d, alphaBar, ddim(evenlySpacedTimesteps(1000, 50)), { signal: ctl.signal })).rejects.toThrow(/cancelled/);
    expect(calls).toBe(3);
  });
});

describe('seeded Gaussian generator', () => {
  it('is reproducible and roughly standard normal', () => {
    const a = new GaussianRng(5, 'k');
    const b = new GaussianRng(5, 'k');
    const xs = Array.from({ length: 20000 }, () => a.normal());
    expect(xs.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => b.normal()));
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(new GaussianRng(5, 'other').normal()).not.toBe(xs[0]);
  });
});
