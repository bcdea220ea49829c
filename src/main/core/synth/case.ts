/**
 * A synthetic case: one subject (seed), its lesions, and K timepoints of CT with exact ground
 * truth, all in memory. Per timepoint:
 *   1. each lesion's volume, density and edema follow its growth model;
 *   2. lesions whose shape depends only on the skull (hematomas, masses) are sized first;
 *   3. their mass effect becomes a displacement field of the cranial contents;
 *   4. the displaced healthy head is rendered once, recording what the other lesions need;
 *   5. anatomy-bound lesions (infarct, edema, SAH, IVH) are sized on the displaced anatomy;
 *   6. lesions are painted (each changes exactly the voxels of its mask) and noise is added.
 * Anatomy away from the lesions and their mass effect is identical at every timepoint; only
 * the acquisition noise differs (each timepoint is a new scan).
 */
import { AppError } from '../../../shared/errors';
import { throwIfAborted, type TaskOptions } from '../progress';
import { voxelVolumeMl, type Vec3, type Volume } from '../volume';
import { drawSubject, type SubjectParams } from './anatomy';
import { Cranium } from './cranium';
import { buildWarp, CRANIAL_CENTRE, type Push } from './deform';
import { BlobModel, HaloModel, lesionAtDay, lesionModel, LESION_TYPE_NAMES, LESION_TYPES, resolveLesion, type LesionModel, type LesionSpec, type LesionType, type ResolvedLesion, type ShapeContext } from './lesions';
import { NoiseBank, sliceNoiseSeed } from './noise';
import { phantomGeometry, phantomVolume, renderSubject, type PhantomGeometry, type PhantomOptions } from './phantom';
import { PhantomRenderer, type ContentPainter, type SliceState, type Warp } from './raster';
import { VoxelRecords } from './records';
import { slabFraction, type DistanceSample } from './shapes';
import { tentoriumZ } from './tables';

export interface CaseOptions extends TaskOptions, Omit<PhantomOptions, 'seed' | 'acquisition' | 'signal' | 'onProgress'> {
  seed: number;
  /** Lesions, as specs or bare type names (parameters drawn from the seed). Default none. */
  lesions?: ReadonlyArray<LesionSpec | LesionType>;
  /** Number of timepoints (scans of the same subject). Default 1. */
  timepoints?: number;
  /** Days between consecutive timepoints. Default 3. */
  intervalDays?: number;
  /** Explicit days of each timepoint (overrides timepoints/intervalDays); must increase. */
  days?: number[];
}

/** One lesion at one timepoint. */
export interface LesionInstance {
  /** Index into SyntheticCase.lesions; the label value in lesionLabels is index + 1. */
  index: number;
  id: string;
  type: LesionType;
  requestedVolumeMl: number;
  /** Volume of the mask (voxel count times voxel volume). */
  volumeMl: number;
  voxelCount: number;
  densityHu: number;
  /** Calibrated size parameter of the shape model. */
  sizeParameter: number;
  /** Voxel indices (x-fastest, increasing) of the mask: exactly the voxels this lesion changed. */
  voxels: Uint32Array;
}

export interface CaseTimepoint {
  index: number;
  day: number;
  /** HU, lesions and acquisition noise included. */
  volume: Volume;
  /** Tissue labels of the (displaced) anatomy. */
  labels: Uint8Array;
  /** 0 = no lesion, otherwise lesion index + 1 (a later lesion wins where masks overlap). */
  lesionLabels: Uint8Array;
  lesions: LesionInstance[];
  /** Lateral displacement of the septum pellucidum (mm, positive towards the patient's left). */
  midlineShiftMm: number;
  /** Largest displacement of the cranial contents (mm). */
  maxDisplacementMm: number;
  /** HU before noise, when the case was generated with keepNoiseFree. */
  noiseFreeHu?: Float32Array;
  /** Voxel box (inclusive) outside which the mass effect moved nothing; null without mass effect. */
  deformedRegion: { i0: number; i1: number; j0: number; j1: number; k0: number; k1: number } | null;
}

export interface SyntheticCase {
  seed: number;
  subject: SubjectParams;
  geometry: PhantomGeometry;
  /** Cranial cavity (brain + CSF + ventricles): what brain extraction should return; identical at every timepoint. */
  brainMask: Uint8Array;
  lesions: ResolvedLesion[];
  timepoints: CaseTimepoint[];
}

export interface GenerateCaseOptions extends CaseOptions {
  /** Keep the noise-free HU of each timepoint (tests, training targets). */
  keepNoiseFree?: boolean;
  /**
   * false: compute the lesions, their masks and their mass effect but leave the intensities
   * healthy: the counterfactual "same head, same deformation, no lesion" image. Default true.
   */
  paintLesions?: boolean;
}

/** Normalises lesion arguments: type names become specs. */
function toSpecs(lesions: CaseOptions['lesions']): LesionSpec[] {
  return (lesions ?? []).map((l) => {
    if (typeof l === 'string') {
      if (!(LESION_TYPES as readonly string[]).includes(l)) throw new AppError('BAD_REQUEST', `Unknown lesion type "${l}". Use one of: ${LESION_TYPES.join(', ')}.`);
      return { type: l };
    }
    return l;
  });
}

function timepointDays(opts: CaseOptions): number[] {
  if (opts.days) {
    if (!opts.days.length || opts.days.some((d, i) => !Number.isFinite(d) || d < 0 || (i > 0 && d <= opts.days![i - 1]))) throw new AppError('BAD_REQUEST', 'The timepoint days must be increasing numbers of days, starting at 0 or later.');
    return [...opts.days];
  }
  const k = opts.timepoints ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > 20) throw new AppError('BAD_REQUEST', `The number of timepoints must be a whole number from 1 to 20; got ${k}.`);
  const interval = opts.intervalDays ?? 3;
  if (!(Number.isFinite(interval) && interval > 0 && interval <= 365)) throw new AppError('BAD_REQUEST', `The interval between timepoints must be between 0 and 365 days; got ${interval}.`);
  return Array.from({ length: k }, (_, i) => i * interval);
}

/** Paint order: parenchymal changes first, blood last (a later lesion wins where masks overlap). */
const PAINT_ORDER: Record<LesionType, number> = { edema: 0, infarct: 1, sah: 2, ivh: 3, sdh: 4, edh: 5, mass: 6, iph: 7 };

/** Generates a whole case in memory (no files). Deterministic for the same options. */
export function generateCase(opts: GenerateCaseOptions): SyntheticCase {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new AppError('BAD_REQUEST', `The seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}; got ${opts.seed}.`);
  const subject = drawSubject(opts.seed);
  const geometry = phantomGeometry(subject, opts);
  const days = timepointDays(opts);
  const specs = toSpecs(opts.lesions);
  const cranium = new Cranium(subject);
  const probe = new PhantomRenderer(subject, geometry.grid, undefined, cranium);
  const toTemplate = (p: Vec3) => probe.toTemplate(p);
  const meanScale = (subject.scale[0] + subject.scale[1] + subject.scale[2]) / 3;
  const ctx: ShapeContext = { edgeMm: probe.edgeMm, slabHalfMm: probe.slabHalfMm, csfHu: subject.hu.csf, meanScale };

  // Resolve lesions; perilesional edema becomes a lesion of its own (its own mask and volume).
  const lesions: ResolvedLesion[] = [];
  const parents: (number | undefined)[] = [];
  specs.forEach((spec, i) => {
    const l = resolveLesion(spec, i, opts.seed, subject, toTemplate, geometry.coverageTemplateZ);
    lesions.push(l);
    parents.push(undefined);
    if (l.edemaMl > 0) {
      lesions.push({ ...l, id: `${l.id}-edema`, type: 'edema', name: `${LESION_TYPE_NAMES.edema} around ${l.id}`, volumeMl: l.edemaMl, densityHu: subject.hu.whiteMatter - 8, densityRatePerDay: 0, volumeRatePerDay: l.edemaRatePerDay, edemaMl: 0, massEffect: 0, given: {} });
      parents.push(lesions.length - 2);
    }
  });

  // Site-placed parenchymal lesions are moved deeper until they fit inside their compartment.
  lesions.forEach((l, i) => {
    if (parents[i] !== undefined || l.site === 'custom' || !(l.type === 'iph' || l.type === 'mass' || l.type === 'edema')) return;
    const largest = Math.max(...days.map((d) => lesionAtDay(l, d).volumeMl));
    l.anchorTemplate = placeInside(l, largest, meanScale, cranium);
  });

  const voxelMl = voxelVolumeMl(geometry.grid.spacing);
  const paint = opts.paintLesions !== false;
  const timepoints: CaseTimepoint[] = [];
  let brainMask: Uint8Array | undefined;
  let noiseBank: NoiseBank | undefined;
  const total = days.length;
  days.forEach((day, t) => {
    throwIfAborted(opts.signal);
    const stage = total > 1 ? `Generating timepoint ${t + 1} of ${total}` : 'Generating synthetic CT';
    const models: LesionModel[] = new Array(lesions.length);
    lesions.forEach((l, i) => {
      if (parents[i] === undefined) models[i] = lesionModel(l, ctx);
    });
    lesions.forEach((l, i) => {
      const p = parents[i];
      if (p !== undefined) models[i] = new HaloModel(l, ctx, models[p] as BlobModel);
    });
    const targets = lesions.map((l, i) => {
      const p = parents[i];
      return p === undefined ? lesionAtDay(l, day) : { ...lesionAtDay(lesions[p], day), volumeMl: lesionAtDay(lesions[p], day).edemaMl, densityHu: l.densityHu };
    });

    // 2. Skull-bound lesions: sized before rendering.
    const records: (VoxelRecords | undefined)[] = models.map(() => undefined);
    models.forEach((m, i) => {
      if (m.dependsOn !== 'geometry') return;
      m.setTarget(targets[i].volumeMl);
      // Skull-bound shapes can be re-recorded cheaply when the first guess of their size was short.
      for (let attempt = 0; ; attempt++) {
        const rec = geometryRecords(m, probe, cranium);
        m.prepare(rec);
        records[i] = rec;
        try {
          m.s = calibrate(m, rec, targets[i].volumeMl, voxelMl);
          break;
        } catch (e) {
          if (attempt >= 3) throw e;
          m.sMax *= 1.6;
        }
      }
    });

    // 3. Mass effect.
    const pushes: Push[] = [];
    let shift = 0;
    let shiftWeight = 0;
    let shiftY = 0;
    let shiftZ = 0;
    models.forEach((m, i) => {
      if (parents[i] !== undefined || m.lesion.massEffect <= 0) return;
      const edema = lesions.some((_, j) => parents[j] === i) ? targets[i].edemaMl : 0;
      const vol = targets[i].volumeMl + edema;
      pushes.push(...m.pushes(vol, cranium));
      const centre = lesionCentre(m.lesion);
      if (centre[2] < 10 && centre[1] > 25) return; // posterior fossa: no subfalcine shift
      const mls = m.lesion.massEffect * 0.6 * Math.pow(vol, 0.6);
      const side = Math.sign(centre[0]) || 0;
      shift -= side * mls;
      shiftWeight += mls;
      shiftY += mls * centre[1];
      shiftZ += mls * centre[2];
    });
    if (shiftWeight > 0) {
      const cap = 15 / subject.scale[0];
      pushes.push({ kind: 'midline', shiftMm: Math.max(-cap, Math.min(cap, shift / subject.scale[0])), centerYZ: [shiftY / shiftWeight, Math.max(30, shiftZ / shiftWeight)] });
    }
    const warp = buildWarp(pushes);

    // 4. Render the displaced healthy head, recording what the lesions need.
    const anatomyModels = models.map((m, i) => (m.dependsOn === 'anatomy' ? i : -1)).filter((i) => i >= 0);
    for (const i of anatomyModels) {
      records[i] = new VoxelRecords();
      models[i].setTarget(targets[i].volumeMl);
    }
    const recorder = new LesionRecorder(models, records, probe, warp?.maxDisplacementMm ?? 0);
    const rendered = renderSubject(subject, geometry, { noise: false, warp, painters: [recorder], signal: opts.signal, onProgress: opts.onProgress, stage, cranium });
    const hu = rendered.hu;
    brainMask ??= rendered.brainMask;

    // 5. Anatomy-bound lesions.
    for (const i of anatomyModels) {
      const rec = records[i]!;
      models[i].prepare(rec);
      models[i].s = calibrate(models[i], rec, targets[i].volumeMl, voxelMl);
    }

    // 6. Paint, in order; remember the contents HU of voxels already changed.
    const lesionLabels = new Uint8Array(hu.length);
    const contentNow = new Map<number, number>();
    const instances: LesionInstance[] = [];
    const order = models.map((_, i) => i).sort((a, b) => PAINT_ORDER[lesions[a].type] - PAINT_ORDER[lesions[b].type] || a - b);
    for (const i of order) {
      const m = models[i];
      const rec = records[i]!;
      const voxels: number[] = [];
      const density = targets[i].densityHu;
      const cand = m.candidates;
      for (let t = 0; t < cand.length; t++) {
        const r = cand[t];
        const w = m.weight(r, m.s);
        if (w < 0.5) continue;
        const idx = rec.index[r];
        const before = contentNow.get(idx) ?? rec.content[r];
        const delta = paint ? m.delta(r, w, before, density) : 0;
        hu[idx] += delta;
        contentNow.set(idx, before + delta / Math.max(1e-6, rec.cavity[r]));
        lesionLabels[idx] = i + 1;
        voxels.push(idx);
      }
      instances[i] = {
        index: i,
        id: lesions[i].id,
        type: lesions[i].type,
        requestedVolumeMl: targets[i].volumeMl,
        volumeMl: voxels.length * voxelMl,
        voxelCount: voxels.length,
        densityHu: density,
        sizeParameter: m.s,
        voxels: Uint32Array.from(voxels).sort(),
      };
    }

    const noiseFreeHu = opts.keepNoiseFree ? hu.slice() : undefined;
    if (opts.noise !== false) {
      noiseBank ??= new NoiseBank(geometry.grid.dims[0], geometry.grid.dims[1], geometry.grid.spacing[0], subject.noiseGrainMm, subject.seed);
      addNoise(hu, geometry, subject, t, noiseBank);
    }
    const displacement = warpSummary(warp, subject);
    timepoints.push({
      index: t,
      day,
      volume: phantomVolume(hu, geometry, {
        seriesDescription: total > 1 ? `Synthetic head CT, day ${day}` : 'Synthetic head CT',
        seriesNumber: t + 1,
      }),
      labels: rendered.labels,
      lesionLabels,
      lesions: instances,
      midlineShiftMm: displacement.midlineShiftMm,
      maxDisplacementMm: displacement.maxMm,
      noiseFreeHu,
      deformedRegion: warp ? deformedRegion(warp, probe) : null,
    });
  });
  return { seed: opts.seed, subject, geometry, brainMask: brainMask ?? new Uint8Array(0), lesions, timepoints };
}

function addNoise(hu: Float32Array, geometry: PhantomGeometry, subject: SubjectParams, acquisition: number, bank: NoiseBank): void {
  const [nx, ny, nz] = geometry.grid.dims;
  const n = nx * ny;
  for (let k = 0; k < nz; k++) {
    const slice = hu.subarray(k * n, (k + 1) * n);
    bank.add(slice, subject.noiseSdHu, sliceNoiseSeed(subject.seed, acquisition, k));
    for (let p = 0; p < n; p++) {
      const v = slice[p];
      slice[p] = v < -1024 ? -1024 : v > 3071 ? 3071 : v;
    }
  }
}

/** Template point that stands for a lesion's position (for the midline shift). */
function lesionCentre(l: ResolvedLesion): [number, number, number] {
  if (l.type === 'sdh' || l.type === 'edh') {
    const d = l.anchorTemplate;
    return [CRANIAL_CENTRE[0] + 60 * d[0], CRANIAL_CENTRE[1] + 70 * d[1], CRANIAL_CENTRE[2] + 60 * d[2]];
  }
  return l.anchorTemplate;
}

function deformedRegion(warp: Warp, r: PhantomRenderer): CaseTimepoint['deformedRegion'] {
  const g = r.grid;
  // The displacement is sampled on the coarse grid and interpolated: one coarse cell of margin.
  const b = r.pixelBounds(warp.bounds, 3 + 3 * Math.max(0.9, g.spacing[0], g.spacing[1]));
  const k0 = Math.max(0, Math.floor((b.z0 - r.slabHalfMm - g.origin[2]) / g.spacing[2]));
  const k1 = Math.min(g.dims[2] - 1, Math.ceil((b.z1 + r.slabHalfMm - g.origin[2]) / g.spacing[2]));
  return { i0: b.i0, i1: b.i1, j0: b.j0, j1: b.j1, k0, k1 };
}

/** Moves a blob's centre towards the depth of its compartment until a sphere of its size fits (1 mm steps). */
function placeInside(l: ResolvedLesion, volumeMl: number, meanScale: number, cranium: Cranium): [number, number, number] {
  const r = (Math.cbrt((3 * volumeMl * 1000) / (4 * Math.PI)) / meanScale) * Math.max(...l.aspect) * (1 + 0.2 * l.irregularity) + 3;
  const a: [number, number, number] = [...l.anchorTemplate];
  const infratentorial = l.site === 'cerebellum';
  const deep: [number, number, number] = infratentorial ? [Math.sign(a[0]) * 14, 42, -18] : [Math.sign(a[0]) * 16, 0.6 * a[1], 44];
  const s = { d: 0, nz: 0 };
  for (let step = 0; step < 60; step++) {
    cranium.distance(a[0], a[1], a[2], s);
    let room = -s.d;
    if (infratentorial) room = Math.min(room, tentoriumZ(a[0], a[1]) - a[2]);
    else room = Math.min(room, Math.abs(a[0]) + 2);
    if (room >= r) break;
    const dx = deep[0] - a[0];
    const dy = deep[1] - a[1];
    const dz = deep[2] - a[2];
    const n = Math.hypot(dx, dy, dz);
    if (n < 1) break;
    a[0] += dx / n;
    a[1] += dy / n;
    a[2] += dz / n;
  }
  return a;
}

/** Records the skull-bound facts (cavity fraction, depth below the inner table) over a model's region. */
function geometryRecords(m: LesionModel, r: PhantomRenderer, cranium: Cranium): VoxelRecords {
  const rec = new VoxelRecords();
  const g = r.grid;
  const nz = g.dims[2];
  const b = r.pixelBounds(m.bounds(), 3);
  const s = { d: 0, nz: 0 };
  const hT = r.slabHalfMm;
  const t = new Float64Array(3);
  // Blocks of B x B pixels are skipped whole when the shape cannot reach their centre.
  const B = 8;
  const blockMargin = 0.75 * B * Math.max(g.spacing[0], g.spacing[1]);
  for (let k = 0; k < nz; k++) {
    const z = g.origin[2] + k * g.spacing[2];
    if (z < b.z0 - 2 * hT || z > b.z1 + 2 * hT) continue;
    for (let bj = b.j0; bj <= b.j1; bj += B) {
      for (let bi = b.i0; bi <= b.i1; bi += B) {
        r.voxelTemplateInto(bi + B / 2, bj + B / 2, k, t);
        if (!m.mayContain(t[0], t[1], t[2], blockMargin + hT)) continue;
        for (let j = bj; j < Math.min(bj + B, b.j1 + 1); j++) {
          for (let i = bi; i < Math.min(bi + B, b.i1 + 1); i++) {
            addGeometryRecord(m, r, cranium, rec, i, j, k, t, s);
          }
        }
      }
    }
  }
  return rec;
}

function addGeometryRecord(m: LesionModel, r: PhantomRenderer, cranium: Cranium, rec: VoxelRecords, i: number, j: number, k: number, t: Float64Array, s: DistanceSample): void {
  const g = r.grid;
  const hT = r.slabHalfMm;
  r.voxelTemplateInto(i, j, k, t);
  if (!m.mayContain(t[0], t[1], t[2], hT)) return;
  cranium.distance(t[0], t[1], t[2], s);
  const c = slabFraction(s.d, Math.abs(s.nz) * hT, r.edgeMm);
  if (c <= 0) return;
  const p = rec.push(i + g.dims[0] * (j + g.dims[1] * k));
  rec.tx[p] = rec.qx[p] = t[0];
  rec.ty[p] = rec.qy[p] = t[1];
  rec.tz[p] = rec.qz[p] = t[2];
  rec.cavity[p] = c;
  rec.csf[p] = 0;
  rec.ventricle[p] = 0;
  rec.content[p] = NaN;
  rec.depth[p] = -s.d;
  rec.depthSpread[p] = Math.abs(s.nz) * hT;
  rec.lpsY[p] = g.origin[1] + j * g.spacing[1];
  if (!m.mayAffect(rec, p)) rec.n--;
}

/** Number of the candidate voxels in the mask at size s. */
function maskCount(m: LesionModel, cand: Int32Array, s: number): number {
  let c = 0;
  for (let t = 0; t < cand.length; t++) if (m.weight(cand[t], s) >= 0.5) c++;
  return c;
}

/** Finds the size parameter whose mask (weight >= 0.5) has the requested volume. */
function calibrate(m: LesionModel, rec: VoxelRecords, targetMl: number, voxelMl: number): number {
  const target = targetMl / voxelMl;
  // Weights grow with s, so only voxels in the mask at sMax can ever be in it: search over those.
  const candidates: number[] = [];
  for (let i = 0; i < rec.n; i++) if (m.weight(i, m.sMax) >= 0.5) candidates.push(i);
  m.candidates = Int32Array.from(candidates);
  const cand = m.candidates;
  const count = (s: number) => maskCount(m, cand, s);
  let hi = m.sMax;
  const cMax = cand.length;
  if (cMax < target) {
    const most = (cMax * voxelMl).toFixed(1);
    throw new AppError('BAD_REQUEST', `A ${m.lesion.name} of ${targetMl.toFixed(1)} mL does not fit in this subject at that site within the scanned slices (at most about ${most} mL); ask for a smaller volume, another site or more slices.`);
  }
  let lo = 0;
  let best = hi;
  let bestErr = Math.abs(cMax - target);
  for (let it = 0; it < 40; it++) {
    const mid = 0.5 * (lo + hi);
    const c = count(mid);
    const err = Math.abs(c - target);
    if (err < bestErr) {
      bestErr = err;
      best = mid;
    }
    if (err <= Math.max(1, 0.002 * target)) break;
    if (c < target) lo = mid;
    else hi = mid;
  }
  if (bestErr > 0.05 * target + 2) throw new AppError('INTERNAL', `Could not size ${m.label} to ${targetMl.toFixed(1)} mL.`);
  return best;
}

/** Collects, during rendering, the per-voxel facts each lesion needs from the displaced anatomy. */
class LesionRecorder implements ContentPainter {
  private readonly bounds: ReturnType<PhantomRenderer['pixelBounds']>[];
  private readonly cursor: number[];
  private readonly t = new Float64Array(3);

  constructor(
    private readonly models: LesionModel[],
    private readonly records: (VoxelRecords | undefined)[],
    renderer: PhantomRenderer,
    private readonly maxDisplacementMm: number,
  ) {
    // Margin: anatomy-bound shapes live in displaced coordinates.
    this.bounds = models.map((m) => renderer.pixelBounds(m.bounds(), 14));
    this.cursor = models.map(() => 0);
  }

  paint(st: SliceState, r: PhantomRenderer): void {
    for (let mi = 0; mi < this.models.length; mi++) this.recordSlice(mi, st, r);
  }

  private recordSlice(mi: number, st: SliceState, r: PhantomRenderer): void {
    const g = r.grid;
    const [nx, ny] = [g.dims[0], g.dims[1]];
    const k = st.k;
    const sliceBase = k * nx * ny;
    const z = g.origin[2] + k * g.spacing[2];
    const m = this.models[mi];
    const rec = this.records[mi]!;
    if (m.dependsOn === 'geometry') {
      // Fill in the contents HU of this slice's voxels, already listed (grouped by slice).
      let c = this.cursor[mi];
      while (c < rec.n && rec.index[c] < sliceBase) c++;
      while (c < rec.n && rec.index[c] < sliceBase + nx * ny) {
        const p = rec.index[c] - sliceBase;
        rec.content[c] = st.content[p];
        rec.csf[c] = st.csfFraction[p];
        rec.ventricle[c] = st.ventricleFraction[p];
        c++;
      }
      this.cursor[mi] = c;
      return;
    }
    const b = this.bounds[mi];
    const hT = r.slabHalfMm;
    if (z < b.z0 - 2 * hT || z > b.z1 + 2 * hT) return;
    const t = this.t;
    // Blocks of B x B pixels the shape cannot reach (even displaced) are skipped whole.
    const B = 8;
    const margin = 0.75 * B * Math.max(g.spacing[0], g.spacing[1]) + hT + this.maxDisplacementMm;
    for (let bj = b.j0; bj <= b.j1; bj += B) {
      for (let bi = b.i0; bi <= b.i1; bi += B) {
        r.voxelTemplateInto(bi + B / 2, bj + B / 2, k, t);
        if (!m.mayContain(t[0], t[1], t[2], margin)) continue;
        for (let j = bj; j < Math.min(bj + B, b.j1 + 1); j++) {
          for (let i = bi; i < Math.min(bi + B, b.i1 + 1); i++) this.record(m, rec, st, r, i, j, k);
        }
      }
    }
  }

  private record(m: LesionModel, rec: VoxelRecords, st: SliceState, r: PhantomRenderer, i: number, j: number, k: number): void {
    const g = r.grid;
    const nx = g.dims[0];
    const p = i + j * nx;
    const cav = st.cavity[p];
    if (cav <= 0 || !m.acceptsTissue(st.csfFraction[p], st.ventricleFraction[p])) return;
    const t = this.t;
    const slot = rec.push(k * nx * g.dims[1] + p);
    r.voxelTemplateInto(i, j, k, t);
    rec.tx[slot] = t[0];
    rec.ty[slot] = t[1];
    rec.tz[slot] = t[2];
    rec.qx[slot] = st.qx[p];
    rec.qy[slot] = st.qy[p];
    rec.qz[slot] = st.qz[p];
    rec.cavity[slot] = cav;
    rec.csf[slot] = st.csfFraction[p];
    rec.ventricle[slot] = st.ventricleFraction[p];
    rec.content[slot] = st.content[p];
    rec.depth[slot] = st.depthMm[p];
    rec.depthSpread[slot] = 0;
    rec.lpsY[slot] = g.origin[1] + j * g.spacing[1];
    if (!m.mayAffect(rec, slot)) rec.n--;
  }
}

function warpSummary(warp: Warp | undefined, subject: SubjectParams): { midlineShiftMm: number; maxMm: number } {
  if (!warp) return { midlineShiftMm: 0, maxMm: 0 };
  const u = new Float64Array(3);
  // Septum pellucidum, between the frontal horns.
  warp.displacement(0, -8, 50, u);
  const midlineShiftMm = u[0] * subject.scale[0];
  let maxMm = 0;
  const b = warp.bounds;
  const step = 6;
  for (let x = Math.max(b[0], -80); x <= Math.min(b[3], 80); x += step)
    for (let y = Math.max(b[1], -100); y <= Math.min(b[4], 100); y += step)
      for (let z = Math.max(b[2], -40); z <= Math.min(b[5], 120); z += step) {
        warp.displacement(x, y, z, u);
        const m = Math.hypot(u[0] * subject.scale[0], u[1] * subject.scale[1], u[2] * subject.scale[2]);
        if (m > maxMm) maxMm = m;
      }
  return { midlineShiftMm, maxMm };
}
