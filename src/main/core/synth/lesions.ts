/**
 * Lesion simulator: the lesion types, their parameters with seeded defaults, and per-type
 * shape models.
 *
 * Every model turns per-voxel records into a weight w (0..1): the fraction of the voxel the
 * lesion replaces. THE MASK OF A LESION IS THE SET OF VOXELS WITH w >= 0.5, and the generator
 * changes a voxel for that lesion only inside its mask (HU += w * (lesion HU - replaced HU)).
 * So the mask is exactly the set of voxels the lesion changed, and the mask volume is the
 * lesion volume. A size parameter s scales each shape; the case builder searches s so the mask
 * volume matches the requested volume.
 */
import { AppError } from '../../../shared/errors';
import type { Vec3 } from '../volume';
import type { SubjectParams } from './anatomy';
import type { Cranium } from './cranium';
import { CRANIAL_CENTRE, type Push } from './deform';
import { GradientNoise3, Rng, streamSeed } from './random';
import type { VoxelRecords } from './records';
import { clamp, ellipsoidDistance, ramp, slabFraction, smoothstep, type DistanceSample } from './shapes';

export const LESION_TYPES = ['iph', 'ivh', 'sah', 'sdh', 'edh', 'infarct', 'edema', 'mass'] as const;
export type LesionType = (typeof LESION_TYPES)[number];

export const LESION_TYPE_NAMES: Record<LesionType, string> = {
  iph: 'intraparenchymal hemorrhage',
  ivh: 'intraventricular hemorrhage',
  sah: 'subarachnoid hemorrhage',
  sdh: 'subdural hematoma',
  edh: 'epidural hematoma',
  infarct: 'ischemic infarct',
  edema: 'vasogenic edema',
  mass: 'mass lesion',
};

/** Named sites per lesion type (template frame). */
export const LESION_SITES: Record<LesionType, readonly string[]> = {
  iph: ['basal-ganglia', 'thalamus', 'frontal', 'parietal', 'temporal', 'occipital', 'cerebellum'],
  ivh: ['occipital-horns'],
  sah: ['basal', 'sylvian', 'convexity', 'interhemispheric'],
  sdh: ['convexity', 'frontal', 'parietal', 'temporal'],
  edh: ['temporal', 'parietal', 'frontal', 'occipital'],
  infarct: ['mca', 'aca', 'pca'],
  edema: ['frontal', 'parietal', 'temporal', 'occipital'],
  mass: ['frontal', 'parietal', 'temporal', 'occipital'],
};

export interface LesionSpec {
  type: LesionType;
  /** Volume (mL) at the first timepoint. Default: a plausible volume drawn from the seed. */
  volumeMl?: number;
  /** Named site (LESION_SITES[type]); for infarcts the vascular territory. */
  site?: string;
  side?: 'left' | 'right';
  /** Centre in patient LPS mm (intra-axial lesions, SAH); overrides site. */
  centerLps?: Vec3;
  /** 0 (smooth) to 1 (very irregular outline). */
  irregularity?: number;
  /** Lesion density (HU) at the first timepoint. */
  densityHu?: number;
  /** Perilesional edema (mL) at the first timepoint, for iph and mass (0 = none). */
  edemaMl?: number;
  /** Scale of the mass effect (0 = none, 1 = typical, up to 2). */
  massEffect?: number;
  /** Exponential volume change per day (0.1 = +10 %/day; negative resolves). */
  volumeRatePerDay?: number;
  /** Density change per day (HU/day; hemorrhage fades at about -1.5). */
  densityRatePerDay?: number;
  /** Exponential change per day of the edema volume. */
  edemaRatePerDay?: number;
}

/** A lesion with every parameter decided (what metadata.json records). */
export interface ResolvedLesion {
  id: string;
  type: LesionType;
  name: string;
  site: string;
  side: 'left' | 'right' | 'midline';
  volumeMl: number;
  irregularity: number;
  densityHu: number;
  edemaMl: number;
  massEffect: number;
  volumeRatePerDay: number;
  densityRatePerDay: number;
  edemaRatePerDay: number;
  /** Template-frame anchor of the shape (centre, or the point on the skull for extra-axial lesions). */
  anchorTemplate: [number, number, number];
  /** Ellipsoid aspect ratios (product 1) and yaw (degrees) of blob shapes. */
  aspect: [number, number, number];
  yawDeg: number;
  shapeSeed: number;
  /** True when the parameters were given rather than drawn. */
  given: Partial<Record<keyof LesionSpec, boolean>>;
}

const HEMORRHAGE: ReadonlySet<LesionType> = new Set(['iph', 'ivh', 'sah', 'sdh', 'edh']);

const SITE_CENTRES: Record<string, [number, number, number]> = {
  'basal-ganglia': [23, -3, 37],
  thalamus: [11, 9, 36],
  frontal: [30, -50, 50],
  parietal: [32, 28, 72],
  temporal: [46, -8, 14],
  occipital: [22, 62, 40],
  cerebellum: [22, 52, -14],
};

/** Directions (from the cranial centre) of extra-axial sites, before mirroring to the side. */
const EXTRA_AXIAL_DIRECTIONS: Record<string, [number, number, number]> = {
  convexity: [0.85, -0.05, 0.52],
  frontal: [0.55, -0.75, 0.36],
  parietal: [0.7, 0.35, 0.62],
  temporal: [0.98, -0.05, -0.2],
  occipital: [0.45, 0.85, 0.27],
};

const SAH_CENTRES: Record<string, [number, number, number]> = {
  basal: [0, -5, 20],
  sylvian: [38, -8, 30],
  convexity: [50, 2, 70],
  interhemispheric: [0, -30, 62],
};

const TERRITORIES: Record<string, { anchor: [number, number, number]; radii: [number, number, number] }> = {
  mca: { anchor: [60, -4, 40], radii: [40, 46, 34] },
  aca: { anchor: [6, -22, 78], radii: [15, 50, 32] },
  pca: { anchor: [20, 62, 26], radii: [22, 32, 24] },
};

function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(rng.range(Math.log(lo), Math.log(hi)));
}

/** Fills in every missing parameter from the case seed (deterministic per seed and lesion index). */
/** Template z of a site's anchor (for choosing sites the slices cover). */
function siteZ(type: LesionType, site: string): number {
  if (type === 'sdh' || type === 'edh') return CRANIAL_CENTRE[2] + 60 * EXTRA_AXIAL_DIRECTIONS[site][2];
  if (type === 'sah') return SAH_CENTRES[site][2];
  if (type === 'infarct') return TERRITORIES[site].anchor[2];
  if (type === 'ivh') return 46;
  return SITE_CENTRES[site][2];
}

/**
 * Fills in every missing parameter from the case seed (deterministic per seed and lesion index).
 * `coverageZ` (template z of the lowest and highest slice): drawn sites and volumes suit what the
 * slices cover, so a short stack still gets a visible lesion.
 */
export function resolveLesion(spec: LesionSpec, index: number, caseSeed: number, subject: SubjectParams, toTemplate: (lps: Vec3) => Vec3, coverageZ: [number, number] = [-100, 200]): ResolvedLesion {
  if (!(LESION_TYPES as readonly string[]).includes(spec.type)) {
    throw new AppError('BAD_REQUEST', `Unknown lesion type "${spec.type}". Use one of: ${LESION_TYPES.join(', ')}.`);
  }
  const type = spec.type;
  const rng = Rng.stream(caseSeed, `lesion:${index}:${type}`);
  const sites = LESION_SITES[type];
  if (spec.site !== undefined && !sites.includes(spec.site)) {
    throw new AppError('BAD_REQUEST', `"${spec.site}" is not a site for a ${LESION_TYPE_NAMES[type]}; use one of: ${sites.join(', ')}.`);
  }
  const check = (name: string, v: number | undefined, lo: number, hi: number, unit: string) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= lo && v <= hi)) throw new AppError('BAD_REQUEST', `The ${name} of the ${LESION_TYPE_NAMES[type]} must be between ${lo} and ${hi}${unit}; got ${v}.`);
  };
  check('volume', spec.volumeMl, 0.2, 250, ' mL');
  check('irregularity', spec.irregularity, 0, 1, '');
  check('density', spec.densityHu, -50, 150, ' HU');
  check('edema volume', spec.edemaMl, 0, 250, ' mL');
  check('mass effect', spec.massEffect, 0, 2, '');
  check('volume rate', spec.volumeRatePerDay, -1, 1, ' per day');
  check('density rate', spec.densityRatePerDay, -20, 20, ' HU per day');
  check('edema rate', spec.edemaRatePerDay, -1, 1, ' per day');

  let site = spec.site ?? pickSite(type, rng);
  if (spec.site === undefined && spec.centerLps === undefined) {
    const inside = (st: string) => siteZ(type, st) > coverageZ[0] + 5 && siteZ(type, st) < coverageZ[1] - 5;
    if (!inside(site)) {
      const covered = LESION_SITES[type].filter(inside);
      if (covered.length) site = rng.pick(covered);
    }
  }
  const side: 'left' | 'right' = spec.side ?? (rng.bool() ? 'left' : 'right');
  const sign = side === 'left' ? 1 : -1;
  let anchor: [number, number, number];
  if (spec.centerLps && type !== 'ivh') {
    anchor = toTemplate(spec.centerLps) as [number, number, number];
    site = 'custom';
  } else if (type === 'sdh' || type === 'edh') {
    const d = EXTRA_AXIAL_DIRECTIONS[site];
    const j: [number, number, number] = [d[0] + rng.gauss(0, 0.06), d[1] + rng.gauss(0, 0.08), d[2] + rng.gauss(0, 0.06)];
    const n = Math.hypot(...j);
    anchor = [(sign * j[0]) / n, j[1] / n, j[2] / n];
  } else if (type === 'sah') {
    const c = SAH_CENTRES[site];
    anchor = [c[0] === 0 ? rng.gauss(0, 2) : sign * c[0], c[1] + rng.gauss(0, 3), c[2] + rng.gauss(0, 3)];
  } else if (type === 'infarct') {
    const t = TERRITORIES[site];
    anchor = [sign * t.anchor[0], t.anchor[1] + rng.gauss(0, 3), t.anchor[2] + rng.gauss(0, 3)];
  } else if (type === 'ivh') {
    anchor = [0, 30, 46];
  } else {
    const c = SITE_CENTRES[site];
    anchor = [sign * c[0] + rng.gauss(0, 2.5), c[1] + rng.gauss(0, 4), c[2] + rng.gauss(0, 4)];
  }
  const defaults: Record<LesionType, () => number> = {
    iph: () => logUniform(rng, 6, 45),
    ivh: () => logUniform(rng, 2.5, 8),
    sah: () => logUniform(rng, 3, 12),
    sdh: () => logUniform(rng, 25, 80),
    edh: () => logUniform(rng, 15, 50),
    infarct: () => logUniform(rng, site === 'mca' ? 30 : 15, site === 'mca' ? 110 : 50),
    edema: () => logUniform(rng, 15, 50),
    mass: () => logUniform(rng, 8, 35),
  };
  // A short stack holds only part of a large lesion: scale drawn volumes with the coverage.
  const span = coverageZ[1] - coverageZ[0];
  const volumeMl = spec.volumeMl ?? defaults[type]() * Math.min(1, Math.max(0.25, span / 120));
  const density = spec.densityHu ?? (HEMORRHAGE.has(type) ? rng.range(62, 80) : type === 'infarct' ? rng.range(18, 23) : type === 'edema' ? rng.range(18, 22) : rng.range(36, 45));
  const edemaMl = spec.edemaMl ?? (type === 'iph' ? volumeMl * rng.range(0.4, 0.9) : type === 'mass' ? volumeMl * rng.range(0.8, 1.6) : 0);
  if (edemaMl > 0 && type !== 'iph' && type !== 'mass') throw new AppError('BAD_REQUEST', `Perilesional edema can be added to an intraparenchymal hemorrhage or a mass, not to a ${LESION_TYPE_NAMES[type]}.`);
  const massEffect = spec.massEffect ?? ({ iph: 1, mass: 1, sdh: 1, edh: 1, infarct: 0.35, edema: 0.6, ivh: 0, sah: 0 } as const)[type];
  const volumeRate = spec.volumeRatePerDay ?? ({ iph: -0.02, ivh: -0.08, sah: -0.15, sdh: -0.01, edh: 0, infarct: 0, edema: 0.03, mass: 0.01 } as const)[type];
  const densityRate = spec.densityRatePerDay ?? (HEMORRHAGE.has(type) ? -1.5 : type === 'infarct' ? -0.6 : 0);
  const edemaRate = spec.edemaRatePerDay ?? (type === 'iph' ? 0.1 : 0.02);
  const a: [number, number, number] = [rng.range(0.7, 1.3), rng.range(0.8, 1.5), rng.range(0.75, 1.25)];
  const norm = Math.cbrt(a[0] * a[1] * a[2]);
  return {
    id: `${type}-${index + 1}`,
    type,
    name: LESION_TYPE_NAMES[type],
    site,
    side: type === 'ivh' || (type === 'sah' && (site === 'basal' || site === 'interhemispheric')) ? 'midline' : side,
    volumeMl,
    irregularity: spec.irregularity ?? rng.range(0.3, 0.7),
    densityHu: density,
    edemaMl,
    massEffect,
    volumeRatePerDay: volumeRate,
    densityRatePerDay: densityRate,
    edemaRatePerDay: edemaRate,
    anchorTemplate: anchor,
    aspect: [a[0] / norm, a[1] / norm, a[2] / norm],
    yawDeg: rng.range(-40, 40),
    shapeSeed: streamSeed(caseSeed, `lesion-shape:${index}`),
    given: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, v !== undefined])) as ResolvedLesion['given'],
  };
}

function pickSite(type: LesionType, rng: Rng): string {
  const weights: Partial<Record<LesionType, number[]>> = {
    iph: [0.35, 0.15, 0.12, 0.12, 0.1, 0.06, 0.1],
    sah: [0.45, 0.25, 0.25, 0.05],
    sdh: [0.55, 0.15, 0.2, 0.1],
    edh: [0.5, 0.3, 0.12, 0.08],
    infarct: [0.6, 0.15, 0.25],
  };
  const sites = LESION_SITES[type];
  const w = weights[type];
  if (!w) return rng.pick(sites);
  let u = rng.next();
  for (let i = 0; i < sites.length; i++) {
    u -= w[i];
    if (u <= 0) return sites[i];
  }
  return sites[sites.length - 1];
}

/** Lesion state at one timepoint (days after the first scan). */
export interface LesionAtTime {
  volumeMl: number;
  densityHu: number;
  edemaMl: number;
}

export function lesionAtDay(l: ResolvedLesion, day: number): LesionAtTime {
  const floor = HEMORRHAGE.has(l.type) ? 24 : l.type === 'infarct' ? 8 : -20;
  const ceil = 120;
  return {
    volumeMl: l.volumeMl * Math.exp(l.volumeRatePerDay * day),
    densityHu: clamp(l.densityHu + l.densityRatePerDay * day, floor, ceil),
    edemaMl: l.edemaMl * Math.exp(l.edemaRatePerDay * day),
  };
}

/** What a shape model needs from the renderer. */
export interface ShapeContext {
  /** In-plane edge width and slab half thickness (template mm). */
  edgeMm: number;
  slabHalfMm: number;
  csfHu: number;
  /** Mean template-to-patient scale (template mm times this = patient mm). */
  meanScale: number;
}

/**
 * A lesion's shape as a function of the size parameter s. `prepare` caches everything that
 * does not depend on s; `weight(i, s)` is then cheap, so calibration can try many sizes.
 */
export abstract class LesionModel {
  /** 'geometry': depends only on the skull and position (calibrated before rendering); 'anatomy': on the displaced anatomy. */
  abstract readonly dependsOn: 'geometry' | 'anatomy';
  /** Largest size parameter tried; the recorded region covers the shape at this size. */
  sMax = 2.5;
  /** Size found by calibration. */
  s = 1;
  /** Records that may be in the mask (weight >= 0.5 at sMax), increasing; set by calibration. */
  candidates: Int32Array = new Int32Array(0);
  protected rec!: VoxelRecords;
  protected readonly tmp: DistanceSample = { d: 0, nz: 0 };

  constructor(
    readonly lesion: ResolvedLesion,
    readonly ctx: ShapeContext,
  ) {}

  /** Sets sMax for a target volume (generously: anatomy-bound lesions cannot retry). */
  setTarget(_volumeMl: number): void {}

  /** Template bounds of the shape at sMax (a conservative box for recording). */
  abstract bounds(): [number, number, number, number, number, number];
  /**
   * Position-only conservative test: can the shape at sMax reach within marginMm of this
   * template point (before displacement)? Used to skip whole blocks of voxels cheaply.
   */
  mayContain(_x: number, _y: number, _z: number, _marginMm: number): boolean {
    return true;
  }

  /** Cheaper still: can a voxel with these CSF and ventricular fractions be touched at all? */
  acceptsTissue(_csf: number, _ventricle: number): boolean {
    return true;
  }

  /** Cheap conservative test that a recorded voxel may be touched at sMax. */
  abstract mayAffect(rec: VoxelRecords, i: number): boolean;
  /** Caches per-voxel s-independent values for rec. */
  abstract prepare(rec: VoxelRecords): void;
  /** Weight (0..1) of voxel i of the prepared records at size s. */
  abstract weight(i: number, s: number): number;
  /** HU change of voxel i given its weight and the current contents HU there. */
  abstract delta(i: number, w: number, contentNow: number, densityHu: number): number;
  /** Displacement sources of this lesion (mass effect) for its volume at this timepoint; none by default. */
  pushes(_massEffectVolumeMl: number, _cranium: Cranium): Push[] {
    return [];
  }

  /** Blood replacing CSF (subarachnoid, intraventricular). */
  protected csfReplacementDelta(w: number, densityHu: number): number {
    return w * (densityHu - this.ctx.csfHu);
  }

  /**
   * Parenchyma (not CSF) taking the lesion's density: w = cavity x fraction x (1 - CSF), and the
   * parenchymal part of the voxel, (contents - CSF part) / (1 - CSF), moves to densityHu.
   */
  protected parenchymaDelta(i: number, w: number, contentNow: number, densityHu: number): number {
    const rec = this.rec;
    const c = rec.cavity[i];
    const csf = rec.csf[i];
    const f = w / Math.max(1e-6, c * (1 - csf));
    return w * densityHu - c * f * (contentNow - csf * this.ctx.csfHu);
  }
  /** Phrase for error messages. */
  get label(): string {
    return `the ${this.lesion.name} (${this.lesion.id})`;
  }
}

function withinSphere(rec: VoxelRecords, i: number, a: readonly number[], r: number): boolean {
  const dx = rec.tx[i] - a[0];
  const dy = rec.ty[i] - a[1];
  const dz = rec.tz[i] - a[2];
  return dx * dx + dy * dy + dz * dz < r * r;
}

function sphereBounds(a: readonly number[], r: number): [number, number, number, number, number, number] {
  return [a[0] - r, a[1] - r, a[2] - r, a[0] + r, a[1] + r, a[2] + r];
}

function nominalRadiusTemplate(volumeMl: number, meanScale: number): number {
  return Math.cbrt((3 * volumeMl * 1000) / (4 * Math.PI)) / meanScale;
}

/** Intra-axial blobs: parenchymal hemorrhage, mass (with necrotic core), standalone edema. */
export class BlobModel extends LesionModel {
  readonly dependsOn: 'geometry' | 'anatomy';
  private readonly noise: GradientNoise3;
  private readonly r0: number;
  private readonly maxAspect: number;
  private readonly cosYaw: number;
  private readonly sinYaw: number;
  private lx = new Float32Array(0);
  private ly = new Float32Array(0);
  private lz = new Float32Array(0);
  private bump = new Float32Array(0);
  private tex = new Float32Array(0);

  constructor(
    lesion: ResolvedLesion,
    ctx: ShapeContext,
    private readonly referenceVolumeMl: number,
  ) {
    super(lesion, ctx);
    this.dependsOn = lesion.type === 'edema' ? 'anatomy' : 'geometry';
    this.noise = new GradientNoise3(lesion.shapeSeed);
    this.r0 = nominalRadiusTemplate(referenceVolumeMl, ctx.meanScale);
    this.maxAspect = Math.max(...lesion.aspect);
    const yaw = (lesion.yawDeg * Math.PI) / 180;
    this.cosYaw = Math.cos(yaw);
    this.sinYaw = Math.sin(yaw);
  }

  override setTarget(volumeMl: number): void {
    this.sMax = 1.45 * Math.cbrt(volumeMl / this.referenceVolumeMl) + 0.05;
  }

  /** Radius (template mm) of a sphere containing the blob at size s. */
  reach(s: number): number {
    return this.r0 * s * this.maxAspect * (1 + 0.7 * this.lesion.irregularity) + 2;
  }

  bounds(): [number, number, number, number, number, number] {
    return sphereBounds(this.lesion.anchorTemplate, this.reach(this.sMax));
  }

  override mayContain(x: number, y: number, z: number, marginMm: number): boolean {
    const a = this.lesion.anchorTemplate;
    const r = this.reach(this.sMax) + marginMm;
    return (x - a[0]) ** 2 + (y - a[1]) ** 2 + (z - a[2]) ** 2 < r * r;
  }

  mayAffect(rec: VoxelRecords, i: number): boolean {
    return withinSphere(rec, i, this.lesion.anchorTemplate, this.reach(this.sMax));
  }

  prepare(rec: VoxelRecords): void {
    this.rec = rec;
    const n = rec.n;
    this.lx = new Float32Array(n);
    this.ly = new Float32Array(n);
    this.lz = new Float32Array(n);
    this.bump = new Float32Array(n);
    this.tex = new Float32Array(n);
    const a = this.lesion.anchorTemplate;
    const L = 0.6 * this.r0;
    for (let i = 0; i < n; i++) {
      const dx = rec.tx[i] - a[0];
      const dy = rec.ty[i] - a[1];
      const dz = rec.tz[i] - a[2];
      this.lx[i] = this.cosYaw * dx + this.sinYaw * dy;
      this.ly[i] = -this.sinYaw * dx + this.cosYaw * dy;
      this.lz[i] = dz;
      // Fixed in space (not scaled with s): a growing lesion keeps its lobulations.
      this.bump[i] = this.noise.fbm2(rec.tx[i] / L, rec.ty[i] / L, rec.tz[i] / L);
      this.tex[i] = this.noise.noise(rec.tx[i] / 5 + 71, rec.ty[i] / 5, rec.tz[i] / 5);
    }
  }

  /** Signed distance (template mm) of template point (x, y, z) to the blob at size s; writes nz to out. */
  distanceAt(x: number, y: number, z: number, s: number, out: DistanceSample): number {
    const a = this.lesion.anchorTemplate;
    const dx = x - a[0];
    const dy = y - a[1];
    const L = 0.6 * this.r0;
    const asp = this.lesion.aspect;
    const R = this.r0 * s;
    ellipsoidDistance(this.cosYaw * dx + this.sinYaw * dy, -this.sinYaw * dx + this.cosYaw * dy, z - a[2], R * asp[0], R * asp[1], R * asp[2], out);
    return out.d - this.lesion.irregularity * 0.45 * R * this.noise.fbm2(x / L, y / L, z / L);
  }

  /** Signed distance (template mm) of voxel i to the blob at size s. */
  distance(i: number, s: number): number {
    const asp = this.lesion.aspect;
    const R = this.r0 * s;
    ellipsoidDistance(this.lx[i], this.ly[i], this.lz[i], R * asp[0], R * asp[1], R * asp[2], this.tmp);
    return this.tmp.d - this.lesion.irregularity * 0.45 * R * this.bump[i];
  }

  weight(i: number, s: number): number {
    const d = this.distance(i, s);
    const f = slabFraction(d, Math.abs(this.tmp.nz) * this.ctx.slabHalfMm, this.ctx.edgeMm);
    const rec = this.rec;
    return this.lesion.type === 'edema' ? rec.cavity[i] * f * (1 - rec.csf[i]) : rec.cavity[i] * f;
  }

  delta(i: number, w: number, contentNow: number, densityHu: number): number {
    if (this.lesion.type === 'edema') return this.parenchymaDelta(i, w, contentNow, densityHu);
    let hu = densityHu;
    if (this.lesion.type === 'mass') {
      // Necrotic centre of a large mass: hypodense core inside a solid rim.
      const d = this.distance(i, this.s);
      const R = this.r0 * this.s;
      hu = densityHu - 20 * smoothstep(-0.35 * R, -0.55 * R, d) * smoothstep(12, 18, R) + 1.5 * this.tex[i];
    } else {
      // A clot is not perfectly homogeneous.
      hu = densityHu + 2.5 * this.tex[i];
    }
    return w * (hu - contentNow);
  }

  override pushes(massEffectVolumeMl: number): Push[] {
    if (this.lesion.massEffect <= 0) return [];
    return [{ kind: 'radial', center: this.lesion.anchorTemplate, radiusMm: nominalRadiusTemplate(massEffectVolumeMl, this.ctx.meanScale), strength: 0.55 * this.lesion.massEffect }];
  }
}

/** Perilesional edema: a halo of thickness E (the size parameter, mm) around a parent blob. */
export class HaloModel extends LesionModel {
  readonly dependsOn = 'anatomy' as const;
  override sMax = 30;
  private readonly noise: GradientNoise3;
  private dParent = new Float32Array(0);
  private fParent = new Float32Array(0);
  private nzParent = new Float32Array(0);
  private finger = new Float32Array(0);

  constructor(
    lesion: ResolvedLesion,
    ctx: ShapeContext,
    readonly parent: BlobModel,
  ) {
    super(lesion, ctx);
    this.noise = new GradientNoise3(lesion.shapeSeed ^ 0x2545f491);
  }

  override setTarget(volumeMl: number): void {
    // Shell of volume V around a sphere of the parent's size, with room for the fingers.
    const R = this.parent.reach(this.parent.s);
    const e = Math.cbrt(R * R * R + (3 * volumeMl * 1000) / (4 * Math.PI * this.ctx.meanScale ** 3)) - R;
    this.sMax = 2.2 * e + 4;
  }

  private reach(): number {
    return this.parent.reach(this.parent.s) + this.sMax * (1 + 0.45 * this.lesion.irregularity) + 2;
  }

  bounds(): [number, number, number, number, number, number] {
    return sphereBounds(this.parent.lesion.anchorTemplate, this.reach());
  }

  override acceptsTissue(csf: number): boolean {
    return csf <= 0.98;
  }

  override mayContain(x: number, y: number, z: number, marginMm: number): boolean {
    const a = this.parent.lesion.anchorTemplate;
    const r = this.reach() + marginMm;
    return (x - a[0]) ** 2 + (y - a[1]) ** 2 + (z - a[2]) ** 2 < r * r;
  }

  mayAffect(rec: VoxelRecords, i: number): boolean {
    if (rec.csf[i] > 0.98) return false;
    return withinSphere(rec, i, this.parent.lesion.anchorTemplate, this.reach());
  }

  prepare(rec: VoxelRecords): void {
    this.rec = rec;
    const n = rec.n;
    this.dParent = new Float32Array(n);
    this.fParent = new Float32Array(n);
    this.nzParent = new Float32Array(n);
    this.finger = new Float32Array(n);
    const t: DistanceSample = { d: 0, nz: 0 };
    for (let i = 0; i < n; i++) {
      const d = this.parent.distanceAt(rec.tx[i], rec.ty[i], rec.tz[i], this.parent.s, t);
      const nz = Math.abs(t.nz);
      this.dParent[i] = d;
      this.nzParent[i] = nz;
      this.fParent[i] = slabFraction(d, nz * this.ctx.slabHalfMm, this.ctx.edgeMm);
      this.finger[i] = this.noise.fbm2(rec.tx[i] / 9, rec.ty[i] / 9, rec.tz[i] / 9);
    }
  }

  weight(i: number, s: number): number {
    const reach = s * (1 + 0.45 * this.lesion.irregularity * this.finger[i]);
    const halo = slabFraction(this.dParent[i] - reach, this.nzParent[i] * this.ctx.slabHalfMm, this.ctx.edgeMm) - this.fParent[i];
    if (halo <= 0) return 0;
    const rec = this.rec;
    return rec.cavity[i] * halo * (1 - rec.csf[i]);
  }

  delta(i: number, w: number, contentNow: number, densityHu: number): number {
    return this.parenchymaDelta(i, w, contentNow, densityHu);
  }

}

/** Subdural crescent or epidural lens between the inner table and the (displaced) brain. */
export class ExtraAxialModel extends LesionModel {
  readonly dependsOn = 'geometry' as const;
  private readonly dir: [number, number, number];
  private readonly maxThickness: number;
  private readonly maxAngle: number;
  private readonly profilePower: number;
  private readonly sideSign: number;
  private readonly noise: GradientNoise3;
  private theta = new Float32Array(0);
  private bump = new Float32Array(0);

  constructor(lesion: ResolvedLesion, ctx: ShapeContext) {
    super(lesion, ctx);
    this.dir = lesion.anchorTemplate;
    const sdh = lesion.type === 'sdh';
    // s = 1 is a typical collection; volume grows about as s^2 (thickness s, extent sqrt(s)).
    this.maxThickness = sdh ? 15 : 17;
    this.maxAngle = ((sdh ? 55 : 30) * Math.PI) / 180;
    this.profilePower = sdh ? 0.55 : 0.5;
    this.sideSign = lesion.side === 'left' ? 1 : -1;
    this.noise = new GradientNoise3(lesion.shapeSeed);
  }

  thickness(theta: number, s: number): number {
    const u = theta / (this.maxAngle * Math.sqrt(s));
    if (u >= 1) return 0;
    return this.maxThickness * s * Math.pow(1 - u * u, this.profilePower);
  }

  override setTarget(volumeMl: number): void {
    // s = 1 holds roughly 45 (subdural) or 35 (epidural) mL; volume grows about as s^2.
    this.sMax = Math.min(3.2, 1.5 * Math.sqrt(volumeMl / (this.lesion.type === 'sdh' ? 45 : 35)) + 0.1);
  }

  bounds(): [number, number, number, number, number, number] {
    // The cap of directions within the largest angle, from the vault's surface inwards.
    const c = CRANIAL_CENTRE;
    const d = this.dir;
    const r = 100;
    const spread = Math.sin(Math.min(Math.PI / 2, this.maxAngle * Math.sqrt(this.sMax) * 1.05)) * r;
    const b: [number, number, number, number, number, number] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
    for (const t of [0.35, 1]) {
      for (let a = 0; a < 3; a++) {
        const v = c[a] + d[a] * r * t;
        b[a] = Math.min(b[a], v - spread);
        b[a + 3] = Math.max(b[a + 3], v + spread);
      }
    }
    return b;
  }

  override mayContain(x: number, y: number, z: number, marginMm: number): boolean {
    const dx = x - CRANIAL_CENTRE[0];
    const dy = y - CRANIAL_CENTRE[1];
    const dz = z - CRANIAL_CENTRE[2];
    const r = Math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9;
    // Deeper than the thickest collection below the vault (the vault is at least 58 mm away).
    if (r + marginMm < 58 - this.maxThickness * this.sMax - 3) return false;
    return this.angleOf(x, y, z) < this.maxAngle * Math.sqrt(this.sMax) * 1.05 + marginMm / r;
  }

  mayAffect(rec: VoxelRecords, i: number): boolean {
    if (rec.depth[i] > this.maxThickness * this.sMax + 3) return false;
    return this.angleOf(rec.tx[i], rec.ty[i], rec.tz[i]) < this.maxAngle * Math.sqrt(this.sMax) * 1.05;
  }

  private angleOf(x: number, y: number, z: number): number {
    const dx = x - CRANIAL_CENTRE[0];
    const dy = y - CRANIAL_CENTRE[1];
    const dz = z - CRANIAL_CENTRE[2];
    const r = Math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9;
    return Math.acos(clamp((dx * this.dir[0] + dy * this.dir[1] + dz * this.dir[2]) / r, -1, 1));
  }

  prepare(rec: VoxelRecords): void {
    this.rec = rec;
    this.theta = new Float32Array(rec.n);
    this.bump = new Float32Array(rec.n);
    for (let i = 0; i < rec.n; i++) {
      this.theta[i] = this.angleOf(rec.tx[i], rec.ty[i], rec.tz[i]);
      const dx = rec.tx[i] - CRANIAL_CENTRE[0];
      const dy = rec.ty[i] - CRANIAL_CENTRE[1];
      const dz = rec.tz[i] - CRANIAL_CENTRE[2];
      const r = Math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9;
      this.bump[i] = this.noise.fbm2((2.2 * dx) / r, (2.2 * dy) / r, (2.2 * dz) / r);
    }
  }

  weight(i: number, s: number): number {
    const rec = this.rec;
    let t = this.thickness(this.theta[i], s);
    if (t <= 0) return 0;
    t *= 1 + 0.22 * this.lesion.irregularity * this.bump[i];
    // The falx stops both collections at the midline.
    const side = ramp(1.5 - this.sideSign * rec.tx[i], 1.5);
    if (side <= 0) return 0;
    const f = slabFraction(rec.depth[i] - t, rec.depthSpread[i], this.ctx.edgeMm);
    return rec.cavity[i] * f * side;
  }

  delta(i: number, w: number, contentNow: number, densityHu: number): number {
    return w * (densityHu + 2 * this.noise.noise(this.rec.tx[i] / 6, this.rec.ty[i] / 6, this.rec.tz[i] / 6) - contentNow);
  }

  override pushes(_volumeMl: number, cranium: Cranium): Push[] {
    if (this.lesion.massEffect <= 0) return [];
    const s = this.s;
    const me = this.lesion.massEffect;
    return [
      {
        kind: 'extra-axial',
        direction: this.dir,
        thickness: (theta: number) => me * this.thickness(theta, s),
        maxAngleRad: this.maxAngle * Math.sqrt(s),
        maxThicknessMm: me * this.maxThickness * s,
        cranium,
      },
    ];
  }
}

/** Blood layering in the dependent (posterior) parts of the ventricles below a fluid level. */
export class VentricularModel extends LesionModel {
  readonly dependsOn = 'anatomy' as const;
  override sMax = 1;
  private yMin = 0;
  private yMax = 0;
  private height = new Float32Array(0);

  bounds(): [number, number, number, number, number, number] {
    return [-45, -50, 0, 45, 65, 75];
  }

  override acceptsTissue(_csf: number, ventricle: number): boolean {
    return ventricle > 0;
  }

  mayAffect(rec: VoxelRecords, i: number): boolean {
    return rec.ventricle[i] > 0;
  }

  prepare(rec: VoxelRecords): void {
    this.rec = rec;
    // Depth along gravity (LPS y for a supine patient), with an imperceptible tilt so that the
    // voxels of one image row do not all cross the fluid level at once (fine volume control).
    this.height = new Float32Array(rec.n);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < rec.n; i++) {
      const h = rec.lpsY[i] + 0.025 * rec.tx[i] + 0.013 * rec.tz[i];
      this.height[i] = h;
      if (rec.ventricle[i] < 0.5) continue;
      if (h < lo) lo = h;
      if (h > hi) hi = h;
    }
    this.yMin = lo;
    this.yMax = hi;
  }

  weight(i: number, s: number): number {
    const rec = this.rec;
    const level = this.yMax + 2 - s * (this.yMax - this.yMin + 4);
    return rec.cavity[i] * rec.ventricle[i] * ramp(level - this.height[i], this.ctx.edgeMm);
  }

  delta(_i: number, w: number, _contentNow: number, densityHu: number): number {
    return this.csfReplacementDelta(w, densityHu);
  }
}

/** Blood in the subarachnoid spaces (cisterns, fissures, sulci) around a centre. */
export class SubarachnoidModel extends LesionModel {
  readonly dependsOn = 'anatomy' as const;
  override sMax = 3;
  private readonly noise: GradientNoise3;
  private r = new Float32Array(0);
  private readonly r0 = 18;

  constructor(lesion: ResolvedLesion, ctx: ShapeContext) {
    super(lesion, ctx);
    this.noise = new GradientNoise3(lesion.shapeSeed);
  }

  bounds(): [number, number, number, number, number, number] {
    const a = this.lesion.anchorTemplate;
    const r = this.r0 * this.sMax * 1.5 + 6;
    return [a[0] - r, a[1] - r, a[2] - r / 1.3, a[0] + r, a[1] + r, a[2] + r / 1.3];
  }

  override setTarget(volumeMl: number): void {
    // Blood fills roughly a tenth of a sphere around the site (the CSF spaces in it).
    const r = Math.cbrt((3 * volumeMl * 1000) / (4 * Math.PI * 0.08 * this.ctx.meanScale ** 3));
    this.sMax = Math.min(4, Math.max(1.2, (1.7 * r) / this.r0));
  }

  override acceptsTissue(csf: number, ventricle: number): boolean {
    return csf - ventricle > 0.05;
  }

  override mayContain(x: number, y: number, z: number, marginMm: number): boolean {
    const a = this.lesion.anchorTemplate;
    const dx = x - a[0];
    const dy = y - a[1];
    const dz = (z - a[2]) * 1.3;
    const r = this.r0 * this.sMax * 1.5 + 6 + 1.3 * marginMm;
    return dx * dx + dy * dy + dz * dz < r * r;
  }

  mayAffect(rec: VoxelRecords, i: number): boolean {
    return rec.csf[i] - rec.ventricle[i] > 0.05 && this.radius(rec, i) < this.r0 * this.sMax * 1.5 + 6;
  }

  private radius(rec: VoxelRecords, i: number): number {
    const a = this.lesion.anchorTemplate;
    const dx = rec.qx[i] - a[0];
    const dy = rec.qy[i] - a[1];
    const dz = (rec.qz[i] - a[2]) * 1.3;
    return Math.sqrt(dx * dx + dy * dy + dz * dz);
  }

  prepare(rec: VoxelRecords): void {
    this.rec = rec;
    this.r = new Float32Array(rec.n);
    for (let i = 0; i < rec.n; i++) {
      const b = this.noise.fbm2(rec.qx[i] / 14, rec.qy[i] / 14, rec.qz[i] / 14);
      this.r[i] = this.radius(rec, i) * (1 + 0.35 * this.lesion.irregularity * b);
    }
  }

  weight(i: number, s: number): number {
    const rec = this.rec;
    const region = ramp(this.r[i] - this.r0 * s, 5);
    if (region <= 0) return 0;
    const sas = rec.csf[i] - rec.ventricle[i];
    // Blood distends the sulci it fills: partly-CSF voxels become mostly blood.
    return rec.cavity[i] * region * Math.min(1, 1.7 * Math.max(0, sas));
  }

  delta(_i: number, w: number, _contentNow: number, densityHu: number): number {
    return this.csfReplacementDelta(w, densityHu);
  }
}

/** Ischaemic infarct: a vascular territory (cortex and white matter), parenchyma only. */
export class TerritoryModel extends LesionModel {
  readonly dependsOn = 'anatomy' as const;
  override sMax = 1.35;
  private readonly noise: GradientNoise3;
  private readonly radii: [number, number, number];
  private readonly sideSign: number;
  private bump = new Float32Array(0);

  constructor(lesion: ResolvedLesion, ctx: ShapeContext) {
    super(lesion, ctx);
    this.noise = new GradientNoise3(lesion.shapeSeed);
    this.radii = (TERRITORIES[lesion.site] ?? { radii: [25, 25, 25] }).radii;
    this.sideSign = lesion.side === 'left' ? 1 : -1;
  }

  bounds(): [number, number, number, number, number, number] {
    const a = this.lesion.anchorTemplate;
    const r = this.radii.map((v) => v * this.sMax + 6);
    return [a[0] - r[0], a[1] - r[1], a[2] - r[2], a[0] + r[0], a[1] + r[1], a[2] + r[2]];
  }

  private box: number[] = [];

  override setTarget(): void {
    this.box = this.bounds();
  }

  override acceptsTissue(csf: number): boolean {
    return csf < 0.95;
  }

  override mayContain(x: number, y: number, z: number, marginMm: number): boolean {
    const b = this.box;
    return x > b[0] - marginMm && y > b[1] - marginMm && z > b[2] - marginMm && x < b[3] + marginMm && y < b[4] + marginMm && z < b[5] + marginMm;
  }

  mayAffect(rec: VoxelRecords, i: number): boolean {
    const b = this.box;
    return rec.csf[i] < 0.95 && rec.qx[i] > b[0] && rec.qy[i] > b[1] && rec.qz[i] > b[2] && rec.qx[i] < b[3] && rec.qy[i] < b[4] && rec.qz[i] < b[5];
  }

  prepare(rec: VoxelRecords): void {
    this.rec = rec;
    this.bump = new Float32Array(rec.n);
    for (let i = 0; i < rec.n; i++) this.bump[i] = this.noise.fbm2(rec.qx[i] / 12, rec.qy[i] / 12, rec.qz[i] / 12);
  }

  weight(i: number, s: number): number {
    const rec = this.rec;
    const a = this.lesion.anchorTemplate;
    const R = this.radii;
    ellipsoidDistance(rec.qx[i] - a[0], rec.qy[i] - a[1], rec.qz[i] - a[2], R[0] * s, R[1] * s, R[2] * s, this.tmp);
    const d = this.tmp.d - this.lesion.irregularity * 5 * s * this.bump[i];
    const f = slabFraction(d, Math.abs(this.tmp.nz) * this.ctx.slabHalfMm, this.ctx.edgeMm) * ramp(1 - this.sideSign * rec.qx[i], 1.5);
    return rec.cavity[i] * f * (1 - rec.csf[i]);
  }

  delta(i: number, w: number, contentNow: number, densityHu: number): number {
    return this.parenchymaDelta(i, w, contentNow, densityHu);
  }

  override pushes(massEffectVolumeMl: number): Push[] {
    if (this.lesion.massEffect <= 0) return [];
    const a = this.lesion.anchorTemplate;
    // Swelling pushes from the territory's centre of mass, inside the surface anchor.
    const inward = 0.45 * this.radii[0] * this.s;
    const c: [number, number, number] = [a[0] - Math.sign(a[0] || 1) * Math.min(inward, Math.abs(a[0])), a[1], a[2]];
    return [{ kind: 'radial', center: c, radiusMm: nominalRadiusTemplate(massEffectVolumeMl, this.ctx.meanScale), strength: 0.5 * this.lesion.massEffect }];
  }
}

/** Builds the model of a resolved lesion. */
export function lesionModel(l: ResolvedLesion, ctx: ShapeContext): LesionModel {
  switch (l.type) {
    case 'iph':
    case 'mass':
    case 'edema':
      return new BlobModel(l, ctx, l.volumeMl);
    case 'sdh':
    case 'edh':
      return new ExtraAxialModel(l, ctx);
    case 'ivh':
      return new VentricularModel(l, ctx);
    case 'sah':
      return new SubarachnoidModel(l, ctx);
    case 'infarct':
      return new TerritoryModel(l, ctx);
  }
}
