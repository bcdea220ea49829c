import { describe, expect, it } from 'vitest';
import { alphaBarFromBetas, countDenoisingSteps, evenlySpacedTimesteps, partialTimesteps, repaintSchedule, trainingAlphaBar, trainingBetas } from '../../../src/main/core/inpaint/schedule';

/**
 * Literal port of `get_schedule_jump` from the RePaint authors' code
 * (guided_diffusion/scheduler.py), all options included, as the independent reference.
 */
function getScheduleJumpPaper(tT: number, nSample: number, jumpLength: number, jumpNSample: number, jump2Length = 1, jump2NSample = 1, jump3Length = 1, jump3NSample = 1, startResampling = 100000000): number[] {
  const range = (a: number, b: number, s: number) => {
    const out: number[] = [];
    for (let j = a; j < b; j += s) out.push(j);
    return out;
  };
  const jumps: Record<number, number> = {};
  for (const j of range(0, tT - jumpLength, jumpLength)) jumps[j] = jumpNSample - 1;
  let jumps2: Record<number, number> = {};
  for (const j of range(0, tT - jump2Length, jump2Length)) jumps2[j] = jump2NSample - 1;
  let jumps3: Record<number, number> = {};
  for (const j of range(0, tT - jump3Length, jump3Length)) jumps3[j] = jump3NSample - 1;
  let t = tT;
  const ts: number[] = [];
  while (t >= 1) {
    t = t - 1;
    ts.push(t);
    if (t + 1 < tT - 1 && t <= startResampling) {
      for (let k = 0; k < nSample - 1; k++) {
        t = t + 1;
        ts.push(t);
        if (t >= 0) {
          t = t - 1;
          ts.push(t);
        }
      }
    }
    if ((jumps3[t] ?? 0) > 0 && t <= startResampling - jump3Length) {
      jumps3[t] = jumps3[t] - 1;
      for (let k = 0; k < jump3Length; k++) ts.push(++t);
    }
    if ((jumps2[t] ?? 0) > 0 && t <= startResampling - jump2Length) {
      jumps2[t] = jumps2[t] - 1;
      for (let k = 0; k < jump2Length; k++) ts.push(++t);
      jumps3 = {};
      for (const j of range(0, tT - jump3Length, jump3Length)) jumps3[j] = jump3NSample - 1;
    }
    if ((jumps[t] ?? 0) > 0 && t <= startResampling - jumpLength) {
      jumps[t] = jumps[t] - 1;
      for (let k = 0; k < jumpLength; k++) ts.push(++t);
      jumps2 = {};
      for (const j of range(0, tT - jump2Length, jump2Length)) jumps2[j] = jump2NSample - 1;
      jumps3 = {};
      for (const j of range(0, tT - jump3Length, jump3Length)) jumps3[j] = jump3NSample - 1;
    }
  }
  ts.push(-1);
  return ts;
}

describe('RePaint schedule', () => {
  it('250 steps, jump length 10, 10 resamplings: exactly 2,410 model calls', () => {
    const ts = repaintSchedule(250, 10, 10);
    expect(countDenoisingSteps(ts)).toBe(2410);
    // 24 jump points x 9 jumps x 10 steps back up.
    const ups = ts.slice(1).filter((t, i) => t > ts[i]).length;
    expect(ups).toBe(2160);
    expect(ts.length).toBe(1 + 2410 + 2160);
  });

  it('matches the paper sequence', () => {
    const ts = repaintSchedule(250, 10, 10);
    expect(ts).toEqual(getScheduleJumpPaper(250, 1, 10, 10));
    // Walk down 249..230, first jump back up to 240, then down again.
    expect(ts.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => 249 - i));
    expect(ts.slice(20, 30)).toEqual(Array.from({ length: 10 }, (_, i) => 231 + i));
    expect(ts[30]).toBe(239);
    expect(ts.at(-1)).toBe(-1);
    expect(ts.at(-2)).toBe(0);
    // Every step moves by exactly one index.
    for (let i = 1; i < ts.length; i++) expect(Math.abs(ts[i] - ts[i - 1])).toBe(1);
  });

  it('matches the paper code for other settings and degenerates to a plain chain', () => {
    for (const [tT, jl, jn] of [
      [100, 5, 3],
      [20, 10, 10],
      [37, 4, 2],
      [10, 10, 5],
    ])
      expect(repaintSchedule(tT, jl, jn)).toEqual(getScheduleJumpPaper(tT, 1, jl, jn));
    expect(repaintSchedule(5, 1, 1)).toEqual([4, 3, 2, 1, 0, -1]);
    expect(countDenoisingSteps(repaintSchedule(4, 3, 1))).toBe(4);
  });
});

describe('noise schedules', () => {
  it('linear DDPM schedule has the published end value of ᾱ', () => {
    const ab = trainingAlphaBar({ type: 'linear', betaStart: 1e-4, betaEnd: 0.02, trainingSteps: 1000 });
    expect(ab.length).toBe(1000);
    expect(ab[0]).toBeCloseTo(0.9999, 8);
    expect(ab[999]).toBeGreaterThan(4.0e-5);
    expect(ab[999]).toBeLessThan(4.1e-5);
  });

  it('cosine schedule follows cos² and clips β', () => {
    const betas = trainingBetas({ type: 'cosine', trainingSteps: 1000 });
    expect(Math.max(...betas)).toBeLessThanOrEqual(0.999);
    const ab = alphaBarFromBetas(betas);
    const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    expect(ab[499]).toBeCloseTo(f(500 / 1000) / f(0), 6);
  });

  it('respaces like guided-diffusion and starts partial chains at the requested step', () => {
    const ts = evenlySpacedTimesteps(1000, 250);
    expect(ts.length).toBe(250);
    expect(ts[0]).toBe(0);
    expect(ts[249]).toBe(999);
    expect(ts[1]).toBe(4);
    expect(ts[42]).toBe(Math.round((42 * 999) / 249));
    expect(partialTimesteps(599, 4)).toEqual([149, 299, 449, 599]);
    expect(partialTimesteps(499, 1)).toEqual([499]);
  });
});
