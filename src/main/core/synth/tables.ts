/**
 * Smooth fields precomputed once per subject on coarse lattices and sampled with (bi/tri)linear
 * interpolation in the per-voxel loops: the skull-base heightmap (floor of the cranial cavity)
 * and the skull/scalp thickness maps. Sampling a table is far cheaper than the procedural
 * noise and formulas behind it.
 */
import type { SubjectParams } from './anatomy';
import { TEMPLATE } from './anatomy';
import { GradientNoise3, Rng } from './random';
import { clamp, smoothstep } from './shapes';

export class Table2 {
  readonly data: Float32Array;
  /** Magnitude of the in-plane gradient (dz/dxy), for the heightmap's surface normal. */
  readonly slope: Float32Array;

  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly step: number,
    readonly nx: number,
    readonly ny: number,
  ) {
    this.data = new Float32Array(nx * ny);
    this.slope = new Float32Array(nx * ny);
  }

  /** Slope at the point of the last sample call. */
  lastSlope = 0;

  /** Value at the point of the last lookup. */
  lastValue = 0;

  /** Bilinear sample of the height (the slope at that point goes to lastSlope). */
  sample(x: number, y: number): number {
    this.lookup(x, y);
    return this.lastValue;
  }

  /** Bilinear height and slope into lastValue and lastSlope (no boxed return value in hot loops). */
  lookup(x: number, y: number): void {
    let fx = (x - this.x0) / this.step;
    let fy = (y - this.y0) / this.step;
    fx = fx < 0 ? 0 : fx > this.nx - 1.001 ? this.nx - 1.001 : fx;
    fy = fy < 0 ? 0 : fy > this.ny - 1.001 ? this.ny - 1.001 : fy;
    const ix = fx | 0;
    const iy = fy | 0;
    const tx = fx - ix;
    const ty = fy - iy;
    const p = ix + iy * this.nx;
    const nx = this.nx;
    const w00 = (1 - tx) * (1 - ty);
    const w10 = tx * (1 - ty);
    const w01 = (1 - tx) * ty;
    const w11 = tx * ty;
    const d = this.data;
    const s = this.slope;
    this.lastSlope = w00 * s[p] + w10 * s[p + 1] + w01 * s[p + nx] + w11 * s[p + nx + 1];
    this.lastValue = w00 * d[p] + w10 * d[p + 1] + w01 * d[p + nx] + w11 * d[p + nx + 1];
  }

  fill(f: (x: number, y: number) => number): void {
    for (let j = 0; j < this.ny; j++) for (let i = 0; i < this.nx; i++) this.data[i + j * this.nx] = f(this.x0 + i * this.step, this.y0 + j * this.step);
  }

  /** Approximately Gaussian smoothing (three box passes per axis). */
  blur(radius: number): void {
    const tmp = new Float32Array(Math.max(this.nx, this.ny));
    for (let pass = 0; pass < 3; pass++) {
      for (let j = 0; j < this.ny; j++) boxLine(this.data, j * this.nx, 1, this.nx, radius, tmp);
      for (let i = 0; i < this.nx; i++) boxLine(this.data, i, this.nx, this.ny, radius, tmp);
    }
  }

  computeSlope(): void {
    const { nx, ny, step } = this;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = i + j * nx;
        const gx = (this.data[p + (i < nx - 1 ? 1 : 0)] - this.data[p - (i > 0 ? 1 : 0)]) / (step * ((i < nx - 1 ? 1 : 0) + (i > 0 ? 1 : 0)));
        const gy = (this.data[p + (j < ny - 1 ? nx : 0)] - this.data[p - (j > 0 ? nx : 0)]) / (step * ((j < ny - 1 ? 1 : 0) + (j > 0 ? 1 : 0)));
        this.slope[p] = Math.sqrt(gx * gx + gy * gy);
      }
    }
  }
}

function boxLine(a: Float32Array, start: number, stride: number, n: number, r: number, tmp: Float32Array): void {
  for (let i = 0; i < n; i++) tmp[i] = a[start + i * stride];
  let acc = 0;
  for (let i = -r; i <= r; i++) acc += tmp[clamp(i, 0, n - 1)];
  const inv = 1 / (2 * r + 1);
  for (let i = 0; i < n; i++) {
    a[start + i * stride] = acc * inv;
    acc += tmp[Math.min(n - 1, i + r + 1)] - tmp[Math.max(0, i - r)];
  }
}

/** Smooth fields (one or more channels) on a coarse 3D lattice, trilinearly interpolated. */
export class Table3 {
  readonly data: Float32Array;

  constructor(
    readonly origin: [number, number, number],
    readonly step: number,
    readonly n: [number, number, number],
    readonly channels = 1,
  ) {
    this.data = new Float32Array(n[0] * n[1] * n[2] * channels);
  }

  fill(f: (x: number, y: number, z: number, out: Float64Array) => void): void {
    const [nx, ny, nz] = this.n;
    const out = new Float64Array(this.channels);
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          f(this.origin[0] + i * this.step, this.origin[1] + j * this.step, this.origin[2] + k * this.step, out);
          const base = (i + nx * (j + ny * k)) * this.channels;
          for (let c = 0; c < this.channels; c++) this.data[base + c] = out[c];
        }
  }

  /** Trilinear sample of every channel into out. */
  sampleInto(x: number, y: number, z: number, out: Float64Array): void {
    const [nx, ny, nz] = this.n;
    let fx = (x - this.origin[0]) / this.step;
    let fy = (y - this.origin[1]) / this.step;
    let fz = (z - this.origin[2]) / this.step;
    fx = fx < 0 ? 0 : fx > nx - 1.001 ? nx - 1.001 : fx;
    fy = fy < 0 ? 0 : fy > ny - 1.001 ? ny - 1.001 : fy;
    fz = fz < 0 ? 0 : fz > nz - 1.001 ? nz - 1.001 : fz;
    const ix = fx | 0;
    const iy = fy | 0;
    const iz = fz | 0;
    const tx = fx - ix;
    const ty = fy - iy;
    const tz = fz - iz;
    const C = this.channels;
    const d = this.data;
    const sx = C;
    const sy = nx * C;
    const sz = nx * ny * C;
    const p = (ix + nx * (iy + ny * iz)) * C;
    const w000 = (1 - tx) * (1 - ty) * (1 - tz);
    const w100 = tx * (1 - ty) * (1 - tz);
    const w010 = (1 - tx) * ty * (1 - tz);
    const w110 = tx * ty * (1 - tz);
    const w001 = (1 - tx) * (1 - ty) * tz;
    const w101 = tx * (1 - ty) * tz;
    const w011 = (1 - tx) * ty * tz;
    const w111 = tx * ty * tz;
    for (let c = 0; c < C; c++) {
      const q = p + c;
      out[c] = w000 * d[q] + w100 * d[q + sx] + w010 * d[q + sy] + w110 * d[q + sx + sy] + w001 * d[q + sz] + w101 * d[q + sx + sz] + w011 * d[q + sy + sz] + w111 * d[q + sx + sy + sz];
    }
  }
}

/** Sphenoid ridge: the anterior cranial fossa lies in front of (y less than) this line. */
export function sphenoidRidgeY(ax: number): number {
  const t = Math.max(0, ax - 10);
  return -20 - 0.75 * t + 0.006 * t * t;
}

/** Petrous ridge (and dorsum sellae medially): the posterior fossa lies behind this line. */
export function petrousRidgeY(ax: number): number {
  const t = Math.max(0, ax - 12);
  return -3 + 0.35 * t + 0.008 * t * t;
}

/**
 * z of the floor of the cranial cavity (template mm): anterior fossa over the orbits, middle
 * fossae for the temporal lobes, sella and clivus in the midline, the posterior fossa bowl with
 * the foramen magnum. Built raw and smoothed, as bone surfaces are.
 */
export function buildSkullBase(subject: SubjectParams): Table2 {
  const rng = Rng.stream(subject.seed, 'skull-base');
  const anteriorZ = 18 + rng.gauss(0, 1.5);
  const middleZ = -13 + rng.gauss(0, 2);
  const posteriorZ = -40 + rng.gauss(0, 2);
  const sellaZ = TEMPLATE.sella.z + rng.gauss(0, 1);
  const fm = TEMPLATE.foramenMagnum;
  const table = new Table2(-100, -130, 1, 201, 261);
  table.fill((x, y) => {
    const ax = Math.abs(x);
    // Orbital roofs dome upwards; the floor climbs towards the frontal bone.
    const anterior = anteriorZ - 0.12 * (y + 45) + 6 * Math.exp(-((ax - 28) ** 2) / (2 * 10 ** 2)) * Math.exp(-((y + 55) ** 2) / (2 * 16 ** 2)) - 3 * Math.exp(-(ax * ax) / (2 * 5 ** 2)) * smoothstep(-64, -56, y) * smoothstep(-34, -42, y);
    // Both fossae are bowls (a flat bony plate cut by a 5 mm slice would fill the image with
    // partial-volume bone).
    const yMiddle = 0.5 * (sphenoidRidgeY(ax) + petrousRidgeY(ax));
    const bowl = (d: number, r: number) => Math.min(1.2, (d / r) ** 2);
    const middle = middleZ + 20 * bowl(ax - 40, 26) + 10 * bowl(y - yMiddle, 24) + 8 * smoothstep(sphenoidRidgeY(ax) + 14, sphenoidRidgeY(ax), y);
    const posterior = posteriorZ + 5 * Math.exp(-(ax * ax) / (2 * 6 ** 2)) + 9 * bowl(ax - 24, 24) + 6 * bowl(y - 48, 30) + 12 * smoothstep(38, 62, ax) + 14 * smoothstep(70, 95, y);
    const yAnt = sphenoidRidgeY(ax);
    const yPost = petrousRidgeY(ax);
    let f = middle;
    f += (anterior - f) * smoothstep(yAnt + 3, yAnt - 3, y);
    f += (posterior - f) * smoothstep(yPost - 1, yPost + 5, y);
    // Petrous ridge: a steep bony crest between the middle and posterior fossae.
    if (ax > 10) {
      const crest = 7 - 0.09 * ax - 2.2 * Math.abs(y - yPost);
      if (crest > f) f = crest;
    }
    // Midline: planum sphenoidale, sella turcica, dorsum sellae, clivus sloping down to the foramen magnum.
    const wMid = smoothstep(17, 11, ax);
    if (wMid > 0) {
      let c: number;
      if (y < -24) c = anteriorZ - 2;
      else if (y < -21) c = anteriorZ - 2 + ((sellaZ - anteriorZ + 2) * (y + 24)) / 3;
      else if (y < -10) c = sellaZ;
      else if (y < -7) c = sellaZ + ((y + 10) / 3) * 7;
      else if (y < -4) c = sellaZ + 7 - ((y + 7) / 3) * 3;
      else c = sellaZ + 4 - ((y + 4) / 24) * (sellaZ + 4 - fm.z);
      c = Math.max(c, posterior);
      if (y > 20) c = posterior;
      f += (c - f) * wMid;
    }
    // Foramen magnum: the cavity opens downwards into the spinal canal.
    const e = Math.sqrt((x / fm.rx) ** 2 + ((y - fm.cy) / fm.ry) ** 2);
    f += (fm.z - 14 - f) * smoothstep(1.1, 0.85, e);
    return f;
  });
  table.blur(2);
  table.computeSlope();
  return table;
}

/** Tentorium height (template z) above point (x, y); the posterior fossa lies below it, behind the petrous ridge. */
export function tentoriumZ(x: number, y: number): number {
  // Highest at the apex of the incisura, down along the free edges (front) and the straight sinus (back).
  const zMid = y < 24 ? 36 - 0.45 * (24 - y) : 36 - (y - 24) * 0.58;
  // Dome-shaped: flat near the straight sinus, steeper towards the transverse sinuses.
  const ax = Math.sqrt(x * x + 9);
  return zMid - 0.25 * ax - 0.0055 * ax * ax;
}

/** Outward slope magnitude of the tentorium (for its surface normal). */
export function tentoriumSlope(x: number, y: number): number {
  const sx = 0.25 + 0.011 * Math.abs(x);
  return Math.sqrt(sx * sx + (y < 24 ? 0.45 * 0.45 : 0.58 * 0.58));
}

/**
 * Thickness maps over the cranium (mm), three channels: skull (thick frontal and occipital
 * bone, thin temporal squama), scalp, and the temporalis muscle fanning over the temporal fossa.
 */
export function buildHeadLayers(subject: SubjectParams): Table3 {
  const skullNoise = new GradientNoise3(subject.fieldSeeds.skull);
  const scalpNoise = new GradientNoise3(subject.fieldSeeds.skull ^ 0x5bd1e995);
  const t = new Table3([-100, -120, -80], 6, [35, 41, 36], 3);
  const base = 6.3 * subject.skullThicknessScale;
  t.fill((x, y, z, out) => {
    const ax = Math.abs(x);
    let th = base;
    th += 1.8 * smoothstep(-30, -75, y) * smoothstep(-5, 25, z);
    th += 2.5 * smoothstep(40, 80, y) * smoothstep(60, 20, z);
    th -= 3.2 * smoothstep(40, 60, ax) * smoothstep(60, 35, z) * smoothstep(-55, -30, y) * smoothstep(45, 25, y);
    th += 1.0 * skullNoise.noise(x / 35, y / 35, z / 35);
    out[0] = Math.max(1.8, th);
    out[1] = Math.max(2.5, subject.scalpThicknessMm * (1 + 0.18 * scalpNoise.noise(x / 30, y / 30, z / 30)) + 2 * smoothstep(60, 20, z) * smoothstep(40, 80, y));
    out[2] = 9 * smoothstep(30, 55, ax) * smoothstep(70, 35, z) * smoothstep(-25, 0, z) * smoothstep(-65, -40, y) * smoothstep(45, 20, y);
  });
  return t;
}
