/**
 * Noise schedules and timestep sequences of the samplers.
 *
 * Indices: the training chain has T steps, timesteps 0 .. T-1; ᾱ_t (alphaBar) is the product
 * of (1 - β) up to and including t. A sampler runs on a *respaced* schedule of S training
 * timesteps τ_0 < ... < τ_{S-1}; its own step index i in [0, S) refers to τ_i, and the index -1
 * stands for the clean image (ᾱ = 1).
 */

export type BetaSchedule =
  | { type: 'linear'; betaStart: number; betaEnd: number; trainingSteps: number }
  | { type: 'cosine'; s?: number; maxBeta?: number; trainingSteps: number }
  | { type: 'explicit'; betas: number[]; trainingSteps?: number };

export function trainingBetas(schedule: BetaSchedule): Float64Array {
  if (schedule.type === 'explicit') return Float64Array.from(schedule.betas);
  const T = schedule.trainingSteps;
  const betas = new Float64Array(T);
  if (schedule.type === 'linear') {
    // Same as numpy.linspace(betaStart, betaEnd, T) used by DDPM and guided-diffusion.
    for (let i = 0; i < T; i++) betas[i] = T === 1 ? schedule.betaStart : schedule.betaStart + ((schedule.betaEnd - schedule.betaStart) * i) / (T - 1);
    return betas;
  }
  // Nichol & Dhariwal 2021, eq. 17.
  const s = schedule.s ?? 0.008;
  const maxBeta = schedule.maxBeta ?? 0.999;
  const f = (t: number) => Math.cos(((t + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  for (let i = 0; i < T; i++) betas[i] = Math.min(1 - f((i + 1) / T) / f(i / T), maxBeta);
  return betas;
}

export function alphaBarFromBetas(betas: ArrayLike<number>): Float64Array {
  const out = new Float64Array(betas.length);
  let prod = 1;
  for (let i = 0; i < betas.length; i++) {
    prod *= 1 - betas[i];
    out[i] = prod;
  }
  return out;
}

export function trainingAlphaBar(schedule: BetaSchedule): Float64Array {
  return alphaBarFromBetas(trainingBetas(schedule));
}

/** Python's round(): halves go to the even neighbour (guided-diffusion relies on it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * S timesteps spread over the whole chain exactly as guided-diffusion's `space_timesteps(T, [S])`
 * (used by RePaint's `timestep_respacing: 250`): round(i * (T-1)/(S-1)).
 */
export function evenlySpacedTimesteps(trainingSteps: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > trainingSteps) throw new Error(`Cannot take ${count} of ${trainingSteps} timesteps.`);
  if (count === 1) return [0];
  const stride = (trainingSteps - 1) / (count - 1);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(roundHalfEven(i * stride));
  return out;
}

/**
 * S timesteps ending at `topTimestep` for a chain started from partial noise (SDEdit-like):
 * τ_i = round((i+1) * (top+1) / S) - 1, so the steps are even and the last denoising step starts
 * from a real noise level instead of the nearly clean τ = 0.
 */
export function partialTimesteps(topTimestep: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1 || count > topTimestep + 1) throw new Error(`Cannot take ${count} timesteps up to ${topTimestep}.`);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Math.round(((i + 1) * (topTimestep + 1)) / count) - 1);
  return out;
}

/** ᾱ at each respaced timestep. */
export function respacedAlphaBar(trainingAlphaBarValues: Float64Array, timesteps: readonly number[]): Float64Array {
  const out = new Float64Array(timesteps.length);
  for (let i = 0; i < timesteps.length; i++) {
    const t = timesteps[i];
    if (!(t >= 0 && t < trainingAlphaBarValues.length) || (i > 0 && t <= timesteps[i - 1])) throw new Error(`Timesteps must rise strictly within the chain; got ${timesteps.join(',')}.`);
    out[i] = trainingAlphaBarValues[t];
  }
  return out;
}

/**
 * RePaint's time sequence (Lugmayr et al. 2022, sec. 4.2; `get_schedule_jump` of the authors'
 * code with n_sample = 1 and no second/third-level jumps). Starting at index tT-1, the chain
 * walks down one index at a time; at every multiple of `jumpLength` below tT - jumpLength it
 * jumps back up `jumpLength` indices, `jumpNSample - 1` times in all. The sequence ends with -1
 * (the clean image). A decrease is a denoising step (one model call), an increase a cheap
 * forward re-noising step.
 */
export function repaintSchedule(tT: number, jumpLength: number, jumpNSample: number): number[] {
  if (!Number.isInteger(tT) || tT < 1) throw new Error(`RePaint needs at least one step; got ${tT}.`);
  if (!Number.isInteger(jumpLength) || jumpLength < 1 || !Number.isInteger(jumpNSample) || jumpNSample < 1) throw new Error('Jump length and resampling count must be positive integers.');
  const jumps = new Map<number, number>();
  for (let j = 0; j < tT - jumpLength; j += jumpLength) jumps.set(j, jumpNSample - 1);
  const ts: number[] = [];
  let t = tT;
  while (t >= 1) {
    t -= 1;
    ts.push(t);
    const left = jumps.get(t) ?? 0;
    if (left > 0) {
      jumps.set(t, left - 1);
      for (let k = 0; k < jumpLength; k++) {
        t += 1;
        ts.push(t);
      }
    }
  }
  ts.push(-1);
  return ts;
}

/** Model calls a time sequence costs: one per decreasing pair. */
export function countDenoisingSteps(sequence: readonly number[]): number {
  let n = 0;
  for (let i = 1; i < sequence.length; i++) if (sequence[i] < sequence[i - 1]) n++;
  return n;
}
