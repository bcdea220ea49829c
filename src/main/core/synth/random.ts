/**
 * Deterministic randomness for the synthetic phantom. Everything random in synth/ flows from
 * a user seed through named streams (`streamSeed(seed, 'ventricles')`), so adding a draw in one
 * part of the generator never shifts the numbers another part sees; Math.random is never used.
 */

/** 32-bit FNV-1a of a label mixed with a seed: independent stream seeds from one user seed. */
export function streamSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  h = Math.imul(h, 0x01000193);
  h ^= Math.floor(seed / 0x100000000) >>> 0;
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** sfc32: small, fast, statistically good; state from a 32-bit seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  static stream(seed: number, label: string): Rng {
    return new Rng(streamSeed(seed, label));
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Normal with the given mean and standard deviation, clamped to mean +- 2.5 sd (no absurd subjects). */
  gauss(mean: number, sd: number): number {
    const z = Math.max(-2.5, Math.min(2.5, this.normal()));
    return mean + sd * z;
  }
}

// Improved Perlin gradient noise (Perlin 2002) with a seeded permutation.
const GRAD3 = new Float64Array([1, 1, 0, -1, 1, 0, 1, -1, 0, -1, -1, 0, 1, 0, 1, -1, 0, 1, 1, 0, -1, -1, 0, -1, 0, 1, 1, 0, -1, 1, 0, 1, -1, 0, -1, -1, 1, 1, 0, 0, -1, 1, -1, 1, 0, 0, -1, -1]);

/**
 * Smooth 3D gradient noise, roughly in [-1, 1], zero on integer lattice points, feature size one
 * lattice cell. Its zero set is a random smooth surface network: the generator uses it for sulci.
 */
export class GradientNoise3 {
  private readonly perm: Uint8Array;

  constructor(seed: number) {
    const rng = new Rng(seed);
    const p = new Uint8Array(256);
    for (let i = 0; i < 256; i++) p[i] = i;
    for (let i = 255; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    this.perm = new Uint8Array(512);
    for (let i = 0; i < 512; i++) this.perm[i] = p[i & 255];
  }

  /** Result of the last evaluate() call. */
  value = 0;

  /** Noise at (x, y, z). */
  noise(x: number, y: number, z: number): number {
    this.evaluate(x, y, z);
    return this.value;
  }

  /**
   * Noise at (x, y, z) into `value`: hot loops call this (a double returned from a call that
   * is not inlined is boxed on the heap; a field store is not).
   */
  evaluate(x: number, y: number, z: number): void {
    const fx = Math.floor(x);
    const fy = Math.floor(y);
    const fz = Math.floor(z);
    const X = fx & 255;
    const Y = fy & 255;
    const Z = fz & 255;
    x -= fx;
    y -= fy;
    z -= fz;
    const u = x * x * x * (x * (x * 6 - 15) + 10);
    const v = y * y * y * (y * (y * 6 - 15) + 10);
    const w = z * z * z * (z * (z * 6 - 15) + 10);
    const p = this.perm;
    const A = p[X] + Y;
    const AA = p[A] + Z;
    const AB = p[A + 1] + Z;
    const B = p[X + 1] + Y;
    const BA = p[B] + Z;
    const BB = p[B + 1] + Z;
    const g = GRAD3;
    let h = (p[AA] % 12) * 3;
    const n000 = g[h] * x + g[h + 1] * y + g[h + 2] * z;
    h = (p[BA] % 12) * 3;
    const n100 = g[h] * (x - 1) + g[h + 1] * y + g[h + 2] * z;
    h = (p[AB] % 12) * 3;
    const n010 = g[h] * x + g[h + 1] * (y - 1) + g[h + 2] * z;
    h = (p[BB] % 12) * 3;
    const n110 = g[h] * (x - 1) + g[h + 1] * (y - 1) + g[h + 2] * z;
    h = (p[AA + 1] % 12) * 3;
    const n001 = g[h] * x + g[h + 1] * y + g[h + 2] * (z - 1);
    h = (p[BA + 1] % 12) * 3;
    const n101 = g[h] * (x - 1) + g[h + 1] * y + g[h + 2] * (z - 1);
    h = (p[AB + 1] % 12) * 3;
    const n011 = g[h] * x + g[h + 1] * (y - 1) + g[h + 2] * (z - 1);
    h = (p[BB + 1] % 12) * 3;
    const n111 = g[h] * (x - 1) + g[h + 1] * (y - 1) + g[h + 2] * (z - 1);
    const x00 = n000 + u * (n100 - n000);
    const x10 = n010 + u * (n110 - n010);
    const x01 = n001 + u * (n101 - n001);
    const x11 = n011 + u * (n111 - n011);
    const y0 = x00 + v * (x10 - x00);
    const y1 = x01 + v * (x11 - x01);
    this.value = y0 + w * (y1 - y0);
  }

  /** Two-octave sum, for irregular (but still smooth) shape perturbations. */
  fbm2(x: number, y: number, z: number): number {
    this.evaluate(x, y, z);
    const a = this.value;
    this.evaluate(2.03 * x + 17.1, 2.03 * y - 9.3, 2.03 * z + 5.7);
    return a + 0.5 * this.value;
  }
}
