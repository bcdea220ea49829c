/**
 * Renders the phantom slice by slice into HU, tissue labels and the cranial-cavity fraction.
 *
 * Per slice: (1) a coarse pass (about 0.9 mm) evaluates the expensive procedural fields (sulcal
 * noise, texture, the mass-effect displacement) once per coarse pixel; (2) a full-resolution
 * pass evaluates the analytic surfaces (scalp, skull, cavity, cortex, fissures) with the slab
 * partial-volume rule and bilinearly upsampled coarse fields; (3) discrete structures are
 * painted over their own bounding boxes only. Everything inside the cranial cavity is evaluated
 * at displaced coordinates when a warp (mass effect) is given; skull and scalp never move.
 */
import type { Vec3 } from '../volume';
import { TEMPLATE, type SubjectParams } from './anatomy';
import { TISSUE } from './labels';
import { GradientNoise3 } from './random';
import { ellipsoidDistance, lerp, ramp, segmentFraction, slabFraction, smoothstep, tubeDistance, type DistanceSample } from './shapes';
import { extracranialStructures, intracranialStructures, shapeBounds, type Shape, type Structure } from './structures';
import { Cranium } from './cranium';
import { petrousRidgeY, tentoriumSlope, tentoriumZ, type Table2, type Table3 } from './tables';

/** Voxel grid of the generated volume; the direction is always the identity (axial, LPS). */
export interface PhantomGrid {
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
}

/** A smooth displacement of the cranial contents (template mm), zero outside `bounds`. */
export interface Warp {
  bounds: [number, number, number, number, number, number];
  /** Upper bound of the displacement length (template mm). */
  maxDisplacementMm: number;
  /** Writes the displacement u at template point p into out[0..2]; contents at p come from p - u. */
  displacement(x: number, y: number, z: number, out: Float64Array): void;
}

/** Per-slice state that lesion painters read and modify. */
export interface SliceState {
  k: number;
  /** HU of everything outside the cranial cavity (scalp, bone, face). */
  outer: Float32Array;
  outerLabel: Uint8Array;
  /** HU and label of the cranial contents (brain, CSF, blood). */
  content: Float32Array;
  contentLabel: Uint8Array;
  /** Fraction of each voxel inside the cranial cavity. */
  cavity: Float32Array;
  /** Fraction of each voxel that is CSF (extra-axial, sulcal, cisternal or ventricular) before lesions. */
  csfFraction: Float32Array;
  /** Fraction that is ventricular CSF. */
  ventricleFraction: Float32Array;
  /** Depth below the inner table (mm) at the displaced content position; large outside. */
  depthMm: Float32Array;
  /** Template coordinates of the content (after displacement) of each pixel inside the cavity. */
  qx: Float32Array;
  qy: Float32Array;
  qz: Float32Array;
  /** Pixel bounds of the cavity in this slice (inclusive), or i0 > i1 when the slice misses it. */
  cavityBox: { i0: number; i1: number; j0: number; j1: number };
}

export interface ContentPainter {
  /** Called after the healthy contents of slice k are complete, before the final composite. */
  paint(state: SliceState, renderer: PhantomRenderer): void;
}

const FAR = 1e3;
/** Marks coarse pixels without a sulcal field value. */
const NONE = 1e9;

export class PhantomRenderer {
  readonly subject: SubjectParams;
  readonly grid: PhantomGrid;
  private readonly warp?: Warp;
  readonly cranium: Cranium;
  private readonly floor: Table2;
  private readonly layers: Table3;
  private readonly sulcusNoise: GradientNoise3;
  private readonly depthNoise: GradientNoise3;
  private readonly textureNoise: GradientNoise3;
  private readonly foliaNoise: GradientNoise3;
  private readonly cellNoise: GradientNoise3;
  private readonly inner: Structure[];
  private readonly outerStructures: Structure[];
  /** Template coordinates: t = T0(k) + i * Ti + j * Tj; Tk per mm of scanner z. */
  readonly Ti: Vec3;
  readonly Tj: Vec3;
  readonly Tk: Vec3;
  private readonly rot: number[];
  /** In-plane edge width (template mm) and slab half thickness (template mm along z). */
  readonly edgeMm: number;
  readonly slabHalfMm: number;
  private readonly coarseStride: number;
  private readonly cnx: number;
  private readonly cny: number;
  private readonly ch: Float32Array[];
  private readonly state: SliceState;
  private readonly tmp: DistanceSample = { d: 0, nz: 0 };
  private readonly tmp2: DistanceSample = { d: 0, nz: 0 };
  private readonly u = new Float64Array(3);
  /** A point passed to shape functions without boxing its coordinates. */
  private readonly pt = new Float64Array(3);
  private readonly layerSample = new Float64Array(3);

  constructor(subject: SubjectParams, grid: PhantomGrid, warp?: Warp, cranium?: Cranium) {
    this.subject = subject;
    this.grid = grid;
    this.warp = warp;
    this.cranium = cranium ?? new Cranium(subject);
    this.floor = this.cranium.floor;
    this.layers = this.cranium.layers;
    const fs = subject.fieldSeeds;
    this.sulcusNoise = new GradientNoise3(fs.sulci);
    this.depthNoise = new GradientNoise3(fs.sulcusDepth);
    this.textureNoise = new GradientNoise3(fs.texture);
    this.foliaNoise = new GradientNoise3(fs.folia);
    this.cellNoise = new GradientNoise3(fs.cells);
    this.inner = intracranialStructures(subject);
    this.outerStructures = extracranialStructures(subject);

    const d2r = Math.PI / 180;
    const { yaw, pitch, roll } = subject.rotationDeg;
    this.rot = rotationMatrix(yaw * d2r, pitch * d2r, roll * d2r);
    const [sx, sy, sz] = grid.spacing;
    this.Ti = this.toTemplateVector([sx, 0, 0]);
    this.Tj = this.toTemplateVector([0, sy, 0]);
    this.Tk = this.toTemplateVector([0, 0, 1]);
    const meanScale = (subject.scale[0] + subject.scale[1] + subject.scale[2]) / 3;
    this.edgeMm = Math.max(0.7, Math.max(sx, sy)) / meanScale;
    this.slabHalfMm = (0.5 * sz) / subject.scale[2];

    // Sulcal field, texture and displacement vary over millimetres: sampled every ~1.8 mm.
    this.coarseStride = Math.max(1, Math.round(1.8 / Math.max(sx, sy)));
    this.cnx = Math.ceil((grid.dims[0] - 1) / this.coarseStride) + 2;
    this.cny = Math.ceil((grid.dims[1] - 1) / this.coarseStride) + 2;
    this.ch = Array.from({ length: CH_COUNT }, () => new Float32Array(this.cnx * this.cny));

    const n = grid.dims[0] * grid.dims[1];
    this.state = {
      k: 0,
      outer: new Float32Array(n),
      outerLabel: new Uint8Array(n),
      content: new Float32Array(n),
      contentLabel: new Uint8Array(n),
      cavity: new Float32Array(n),
      csfFraction: new Float32Array(n),
      ventricleFraction: new Float32Array(n),
      depthMm: new Float32Array(n),
      qx: new Float32Array(n),
      qy: new Float32Array(n),
      qz: new Float32Array(n),
      cavityBox: { i0: 0, i1: -1, j0: 0, j1: -1 },
    };
  }

  /** Scanner (LPS) vector to template vector. */
  private toTemplateVector(v: Vec3): Vec3 {
    const R = this.rot;
    const s = this.subject.scale;
    return [(R[0] * v[0] + R[1] * v[1] + R[2] * v[2]) / s[0], (R[3] * v[0] + R[4] * v[1] + R[5] * v[2]) / s[1], (R[6] * v[0] + R[7] * v[1] + R[8] * v[2]) / s[2]];
  }

  /** LPS position (mm) to template coordinates. */
  toTemplate(p: Vec3): Vec3 {
    const o = this.subject.offsetMm;
    return this.toTemplateVector([p[0] - o[0], p[1] - o[1], p[2]]);
  }

  /** Template coordinates to LPS position (mm). */
  toScanner(t: Vec3): Vec3 {
    const R = this.rot;
    const s = this.subject.scale;
    const h = [t[0] * s[0], t[1] * s[1], t[2] * s[2]];
    const o = this.subject.offsetMm;
    return [R[0] * h[0] + R[3] * h[1] + R[6] * h[2] + o[0], R[1] * h[0] + R[4] * h[1] + R[7] * h[2] + o[1], R[2] * h[0] + R[5] * h[1] + R[8] * h[2]];
  }

  /** Template coordinates of voxel (i, j, k) into out (no allocation). */
  voxelTemplateInto(i: number, j: number, k: number, out: Float64Array): void {
    const g = this.grid;
    const o = this.subject.offsetMm;
    const x = g.origin[0] + i * g.spacing[0] - o[0];
    const y = g.origin[1] + j * g.spacing[1] - o[1];
    const z = g.origin[2] + k * g.spacing[2];
    const R = this.rot;
    const sc = this.subject.scale;
    out[0] = (R[0] * x + R[1] * y + R[2] * z) / sc[0];
    out[1] = (R[3] * x + R[4] * y + R[5] * z) / sc[1];
    out[2] = (R[6] * x + R[7] * y + R[8] * z) / sc[2];
  }

  /** Template coordinates of voxel (i, j, k). */
  voxelTemplate(i: number, j: number, k: number): Vec3 {
    const g = this.grid;
    return this.toTemplate([g.origin[0] + i * g.spacing[0], g.origin[1] + j * g.spacing[1], g.origin[2] + k * g.spacing[2]]);
  }

  /** Pixel box and slice range covering template bounds (plus a margin in mm). */
  pixelBounds(b: readonly number[], marginMm: number): { i0: number; i1: number; j0: number; j1: number; z0: number; z1: number } {
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    let z0 = Infinity;
    let z1 = -Infinity;
    for (let c = 0; c < 8; c++) {
      const p = this.toScanner([c & 1 ? b[3] : b[0], c & 2 ? b[4] : b[1], c & 4 ? b[5] : b[2]]);
      x0 = Math.min(x0, p[0]);
      x1 = Math.max(x1, p[0]);
      y0 = Math.min(y0, p[1]);
      y1 = Math.max(y1, p[1]);
      z0 = Math.min(z0, p[2]);
      z1 = Math.max(z1, p[2]);
    }
    const g = this.grid;
    const m = marginMm;
    return {
      i0: Math.max(0, Math.floor((x0 - m - g.origin[0]) / g.spacing[0])),
      i1: Math.min(g.dims[0] - 1, Math.ceil((x1 + m - g.origin[0]) / g.spacing[0])),
      j0: Math.max(0, Math.floor((y0 - m - g.origin[1]) / g.spacing[1])),
      j1: Math.min(g.dims[1] - 1, Math.ceil((y1 + m - g.origin[1]) / g.spacing[1])),
      z0: z0 - m,
      z1: z1 + m,
    };
  }

  /** Signed distance to the inner table (cranial cavity surface), template mm; writes nz too. */
  cavityDistance(x: number, y: number, z: number, out: DistanceSample): void {
    this.cranium.distance(x, y, z, out);
  }

  /** Renders slice k into the internal state, applies painters, and writes the composite. */
  renderSlice(k: number, hu: Float32Array, labels: Uint8Array, brainMask: Uint8Array, offset: number, painters: readonly ContentPainter[] = []): SliceState {
    const st = this.state;
    st.k = k;
    this.prepareSlice(k);
    this.coarsePass();
    this.fullPass(k);
    this.paintStructures(k, this.outerStructures, false);
    this.paintStructures(k, this.inner, true);
    for (const p of painters) p.paint(st, this);
    const n = st.outer.length;
    for (let p = 0; p < n; p++) {
      const c = st.cavity[p];
      if (c <= 0) {
        hu[offset + p] = st.outer[p];
        labels[offset + p] = st.outerLabel[p];
        brainMask[offset + p] = 0;
      } else {
        hu[offset + p] = st.outer[p] + c * (st.content[p] - st.outer[p]);
        const inside = c >= 0.5;
        labels[offset + p] = inside ? st.contentLabel[p] : st.outerLabel[p];
        brainMask[offset + p] = inside ? 1 : 0;
      }
    }
    return st;
  }

  private t0: Vec3 = [0, 0, 0];

  private prepareSlice(k: number): void {
    this.t0 = this.voxelTemplate(0, 0, k);
  }

  /** Coarse-pixel box (inclusive) where the head is, found by the coarse pass; the full pass skips the rest. */
  private readonly headBox = { ci0: 0, ci1: -1, cj0: 0, cj1: -1 };

  /** Coarse channels: sulcal distance at slab bottom/middle/top, sulcal depth limit, texture HU, displacement. */
  private coarsePass(): void {
    const s = this.coarseStride;
    const { cnx, cny } = this;
    const Ti = this.Ti;
    const Tj = this.Tj;
    const t0 = this.t0;
    const px = this.px;
    const box = this.headBox;
    box.ci0 = cnx;
    box.ci1 = -1;
    box.cj0 = cny;
    box.cj1 = -1;
    for (let cj = 0; cj < cny; cj++) {
      for (let ci = 0; ci < cnx; ci++) {
        const i = ci * s;
        const j = cj * s;
        px[PX_TX] = t0[0] + i * Ti[0] + j * Tj[0];
        px[PX_TY] = t0[1] + i * Ti[1] + j * Tj[1];
        px[PX_TZ] = t0[2] + i * Ti[2] + j * Tj[2];
        if (this.coarsePixel(ci + cj * cnx)) {
          if (ci < box.ci0) box.ci0 = ci;
          if (ci > box.ci1) box.ci1 = ci;
          if (cj < box.cj0) box.cj0 = cj;
          if (cj > box.cj1) box.cj1 = cj;
        }
      }
    }
    this.fieldDistances();
  }

  /** Fills the coarse channels at coarse pixel c (template position in the registers); false outside the head. */
  private coarsePixel(c: number): boolean {
    const ch = this.ch;
    const px = this.px;
    const sample = this.tmp;
    const tx = px[PX_TX];
    const ty = px[PX_TY];
    const tz = px[PX_TZ];
    ch[CH_UX][c] = 0;
    ch[CH_UY][c] = 0;
    ch[CH_UZ][c] = 0;
    ch[CH_NMID][c] = NONE;
    ch[CH_WOBBLE][c] = 0;
    ch[CH_SOFT][c] = 0;
    ch[CH_TEX][c] = 0;
    this.cranium.distance(tx, ty, tz, sample);
    const inHead = this.cranium.lastVaultDistance < 34;
    if (sample.d > 8) {
      // Fat planes between the muscles of the face and neck.
      if (sample.d < 80) ch[CH_SOFT][c] = this.textureNoise.noise(tx / 14 + 40, ty / 14, tz / 20) + 0.25 * this.textureNoise.noise(tx / 6 + 40, ty / 6, tz / 9);
      return inHead;
    }
    let qx = tx;
    let qy = ty;
    let qz = tz;
    const warp = this.warp;
    if (warp) {
      const wb = warp.bounds;
      if (tx >= wb[0] && tx <= wb[3] && ty >= wb[1] && ty <= wb[4] && tz >= wb[2] && tz <= wb[5]) {
        const u = this.u;
        warp.displacement(tx, ty, tz, u);
        ch[CH_UX][c] = u[0];
        ch[CH_UY][c] = u[1];
        ch[CH_UZ][c] = u[2];
        if (u[0] !== 0 || u[1] !== 0 || u[2] !== 0) {
          qx -= u[0];
          qy -= u[1];
          qz -= u[2];
          this.cranium.distance(qx, qy, qz, sample);
        }
      }
    }
    ch[CH_WOBBLE][c] = 2.8 * this.depthNoise.noise(qx / 16 + 50, qy / 16, qz / 16);
    ch[CH_TEX][c] = 1.3 * this.textureNoise.noise(qx / 22, qy / 22, qz / 22) + 0.6 * this.textureNoise.noise(qx / 7 + 31, qy / 7, qz / 7);
    const rho = -sample.d;
    const ax = Math.abs(qx);
    const inPFxy = qy > petrousRidgeY(ax) - 1;
    const zt = tentoriumZ(qx, qy);
    const pf = inPFxy && qz < zt;
    // Sulci deepen from the convexity, the skull base and the medial surface; the
    // tentorial surface gets none (they would converge on the incisura).
    let rhoEff = rho;
    if (pf) {
      const slope = tentoriumSlope(qx, qy);
      const dT = Math.abs(qz - zt) / Math.sqrt(1 + slope * slope);
      if (dT < rhoEff) rhoEff = dT;
    } else {
      const fissure = Math.abs(qx - this.midlineX(qy, qz));
      if (qz > this.fissureBottomZ(qy) && fissure < rhoEff) rhoEff = fissure;
    }
    const dLimit = pf ? 7 + 3 * this.depthNoise.noise(qx / 20 + 7, qy / 20, qz / 20) : 16 + 7 * this.depthNoise.noise(qx / 28, qy / 28, qz / 28);
    ch[CH_DEPTH][c] = dLimit;
    if (rhoEff > dLimit + 8 || rho < -3) return inHead;
    // Sulcal field: gradient noise made anisotropic so its zero sheets stand roughly
    // perpendicular to the brain surface (sulci run inwards, not parallel to the cortex).
    // Over the skull base the surface normal is vertical, not radial.
    px[PX_QX] = qx;
    px[PX_QY] = qy;
    px[PX_QZ] = qz;
    px[PX_FLOOR] = pf ? 0 : smoothstep(-4, 4, -this.cranium.lastVaultDistance - rho);
    const kind = pf ? 1 : 0;
    this.surfaceField(kind, 0);
    ch[CH_NMID][c] = px[PX_FIELD];
    this.surfaceField(kind, -1);
    ch[CH_NLO][c] = px[PX_FIELD];
    this.surfaceField(kind, 1);
    ch[CH_NHI][c] = px[PX_FIELD];
    return inHead;
  }

  /**
   * Convert field values to distances (mm) with the field's gradient: in-plane by finite
   * differences on the coarse grid, through-plane from the slab ends.
   */
  private fieldDistances(): void {
    const { cnx, cny, ch } = this;
    const s = this.coarseStride;
    const hT = this.slabHalfMm * this.subject.scale[2];
    const lo = ch[CH_DLO];
    const mid = ch[CH_DMID];
    const hi = ch[CH_DHI];
    const nmid = ch[CH_NMID];
    const nlo = ch[CH_NLO];
    const nhi = ch[CH_NHI];
    const pxMm = this.grid.spacing[0] * s;
    const pyMm = this.grid.spacing[1] * s;
    for (let cj = 0; cj < cny; cj++) {
      for (let ci = 0; ci < cnx; ci++) {
        const c = ci + cj * cnx;
        const f = nmid[c];
        if (f === NONE) {
          lo[c] = FAR;
          mid[c] = FAR;
          hi[c] = FAR;
          continue;
        }
        const fxp = ci + 1 < cnx ? nmid[c + 1] : NONE;
        const fxm = ci > 0 ? nmid[c - 1] : NONE;
        const fyp = cj + 1 < cny ? nmid[c + cnx] : NONE;
        const fym = cj > 0 ? nmid[c - cnx] : NONE;
        const gx = fxp !== NONE && fxm !== NONE ? (fxp - fxm) / (2 * pxMm) : fxp !== NONE ? (fxp - f) / pxMm : fxm !== NONE ? (f - fxm) / pxMm : 0;
        const gy = fyp !== NONE && fym !== NONE ? (fyp - fym) / (2 * pyMm) : fyp !== NONE ? (fyp - f) / pyMm : fym !== NONE ? (f - fym) / pyMm : 0;
        const gz = (nhi[c] - nlo[c]) / (2 * hT);
        const g = Math.max(Math.sqrt(gx * gx + gy * gy + gz * gz), 0.02);
        lo[c] = nlo[c] / g;
        mid[c] = f / g;
        hi[c] = nhi[c] / g;
      }
    }
  }

  /**
   * The sulcal (kind 0) or folial (kind 1) field at the registered content position, shifted
   * by `end` slab half-thicknesses along the slice normal; result in the PX_FIELD register.
   */
  private surfaceField(kind: number, end: number): void {
    const px = this.px;
    const Tk = this.Tk;
    const h = end * this.slabHalfMm * this.subject.scale[2];
    const x = px[PX_QX] + Tk[0] * h;
    const y = px[PX_QY] + Tk[1] * h;
    const z = px[PX_QZ] + Tk[2] * h;
    if (kind === 1) {
      // Cerebellar folia are thin transverse lamellae: vary mostly with height.
      px[PX_FIELD] = this.foliaNoise.noise(x / 30, y / 24, z / 4.5) + 0.3 * this.foliaNoise.noise(x / 9 + 5, y / 9, z / 9);
      return;
    }
    // Compress the field along the surface normal so its zero sheets (the sulci) run inwards
    // rather than parallel to the cortex: radially from the cranial centre under the vault,
    // vertically over the skull base (blended by value between the two). Most convexity sulci
    // run up and down: the field is also stretched vertically so sheets stand upright.
    const floorNearer = px[PX_FLOOR];
    const hemi = x < 0 ? 311.7 : 0;
    const L = 19;
    const noise = this.sulcusNoise;
    let f = 0;
    if (floorNearer < 1) {
      const dx = x;
      const dy = y - 4;
      const dz = z - 34;
      const r = Math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-6;
      const k = (62 + 0.3 * (r - 62)) / r;
      const sx = dx * k + hemi;
      const sy = 4 + dy * k;
      const sz = 0.65 * (34 + dz * k);
      f = noise.noise(sx / L, sy / L, sz / L) + 0.3 * noise.noise(sx / 8 + 19.3, sy / 8, sz / 8);
    }
    if (floorNearer > 0) {
      const sx = x + hemi + 53;
      const sz = 0.3 * z;
      const g = noise.noise(sx / L, y / L, sz / L) + 0.3 * noise.noise(sx / 8 + 19.3, y / 8, sz / 8);
      f = lerp(f, g, floorNearer);
    }
    px[PX_FIELD] = f;
  }

  /** Bilinear sample of coarse channel `c` at full-resolution pixel (i, j). */
  private coarseAt(c: number, i: number, j: number): number {
    const inv = 1 / this.coarseStride;
    const ci = Math.min(Math.floor(i * inv), this.cnx - 2);
    const cj = Math.min(Math.floor(j * inv), this.cny - 2);
    const fx = i * inv - ci;
    const fy = j * inv - cj;
    const a = this.ch[c];
    const p = ci + cj * this.cnx;
    return (1 - fy) * ((1 - fx) * a[p] + fx * a[p + 1]) + fy * ((1 - fx) * a[p + this.cnx] + fx * a[p + this.cnx + 1]);
  }

  /** x of the midline (falx) in template mm: a slight subject-specific bow. */
  midlineX(y: number, z: number): number {
    return this.subject.midlineBowMm * Math.sin((Math.PI * (y + 85)) / 170) * smoothstep(0, 110, z);
  }

  /** Lowest z of the interhemispheric fissure: the corpus callosum between genu and splenium, the floor elsewhere. */
  fissureBottomZ(y: number): number {
    const w = smoothstep(-42, -33, y) * smoothstep(36, 27, y);
    const cc = 60 + 4 * (1 - ((y + 3) / 32) ** 2);
    return lerp(-200, cc, w);
  }

  // The per-pixel work is split into methods of moderate size that exchange values through a
  // Float64Array of registers: V8 then inlines the small helpers (smoothstep, slabFraction)
  // into each of them, and no double is boxed on the heap per pixel.
  private readonly px = new Float64Array(PX_COUNT);

  private fullPass(_k: number): void {
    const st = this.state;
    const H = this.subject.hu;
    const nx = this.grid.dims[0];
    const ny = this.grid.dims[1];
    const Ti = this.Ti;
    const Tj = this.Tj;
    const t0 = this.t0;
    const w = this.edgeMm;
    const hT = this.slabHalfMm;
    const sample = this.tmp;
    const px = this.px;
    const box = st.cavityBox;
    box.i0 = nx;
    box.i1 = -1;
    box.j0 = ny;
    box.j1 = -1;
    const C = TEMPLATE.cranium;
    // Outside the head box found by the coarse pass there is only air.
    st.outer.fill(H.air);
    st.outerLabel.fill(TISSUE.background);
    st.cavity.fill(0);
    st.csfFraction.fill(0);
    st.ventricleFraction.fill(0);
    st.depthMm.fill(FAR);
    const hb = this.headBox;
    const sc = this.coarseStride;
    const i0 = Math.max(0, (hb.ci0 - 1) * sc);
    const i1 = Math.min(nx - 1, (hb.ci1 + 1) * sc);
    const j0 = Math.max(0, (hb.cj0 - 1) * sc);
    const j1 = Math.min(ny - 1, (hb.cj1 + 1) * sc);
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        const p = i + j * nx;
        const tx = t0[0] + i * Ti[0] + j * Tj[0];
        const ty = t0[1] + i * Ti[1] + j * Tj[1];
        const tz = t0[2] + i * Ti[2] + j * Tj[2];
        // Cranium ellipsoid (shared by the cavity, skull and scalp surfaces).
        const edy = ty - C.cy;
        const edz = tz - C.cz;
        const edx = (tx - C.cx) / (1 + (C.egginess * edy) / C.ry);
        ellipsoidDistance(edx, edy, edz, C.rx, C.ry, edz > 0 ? C.rzUp : C.rzDown, sample);
        const dE = sample.d;
        if (dE > 30) continue;
        const hE = Math.abs(sample.nz) * hT;
        const fz = this.floor.sample(tx, ty);
        const fg = this.floor.lastSlope;
        const cosF = 1 / Math.sqrt(1 + fg * fg);
        const dF = (fz - tz) * cosF;
        const dIC = dE > dF ? dE : dF;
        const hIC = dE > dF ? hE : cosF * hT;
        const cavity = slabFraction(dIC, hIC, w);
        st.cavity[p] = cavity;
        px[PX_TX] = tx;
        px[PX_TY] = ty;
        px[PX_TZ] = tz;
        px[PX_DE] = dE;
        px[PX_HE] = hE;
        px[PX_FZ] = fz;
        px[PX_COSF] = cosF;
        px[PX_DIC] = dIC;
        px[PX_HIC] = hIC;
        if (cavity < 1) this.outerPixel(p, i, j);
        else {
          st.outer[p] = H.corticalBone;
          st.outerLabel[p] = TISSUE.corticalBone;
        }
        if (cavity <= 0) continue;
        if (i < box.i0) box.i0 = i;
        if (i > box.i1) box.i1 = i;
        if (j < box.j0) box.j0 = j;
        if (j > box.j1) box.j1 = j;
        this.contentPixel(p, i, j);
      }
    }
  }

  /** Scalp, fat, muscle and skull at pixel p (registers hold its geometry). */
  private outerPixel(p: number, i: number, j: number): void {
    const st = this.state;
    const H = this.subject.hu;
    const px = this.px;
    const w = this.edgeMm;
    const hT = this.slabHalfMm;
    const sample = this.tmp;
    const layer = this.layerSample;
    const tx = px[PX_TX];
    const ty = px[PX_TY];
    const tz = px[PX_TZ];
    const dE = px[PX_DE];
    const hE = px[PX_HE];
    const fz = px[PX_FZ];
    const cosF = px[PX_COSF];
    this.layers.sampleInto(tx, ty, tz, layer);
    const tS = layer[0];
    const tSc = layer[1];
    const tTm = layer[2];
    let dHead = dE - tS - tSc - tTm;
    let hHead = hE;
    // Nose and auricles join the head outline smoothly.
    if (tz < 12 && tz > -70) {
      if (ty < -60 && tx > -30 && tx < 30) {
        ellipsoidDistance(tx, ty + 90, tz + 30, 12, 16, 24, sample);
        const k2 = 6;
        const hh = Math.max(0, Math.min(1, 0.5 + (0.5 * (sample.d - dHead)) / k2));
        dHead = lerp(sample.d, dHead, hh) - k2 * hh * (1 - hh);
      }
      const axT = tx < 0 ? -tx : tx;
      if (axT > 55 && tz > -45 && tz < 20 && ty > -20 && ty < 45) {
        ellipsoidDistance(axT - 77, ty - 14, tz + 12, 5.5, 17, 28, sample);
        const k2 = 5;
        const hh = Math.max(0, Math.min(1, 0.5 + (0.5 * (sample.d - dHead)) / k2));
        dHead = lerp(sample.d, dHead, hh) - k2 * hh * (1 - hh);
        hHead = hh < 0.5 ? Math.abs(sample.nz) * hT : hE;
      }
    }
    const headOcc = slabFraction(dHead, hHead, w);
    if (headOcc <= 0) {
      st.outer[p] = H.air;
      st.outerLabel[p] = TISSUE.background;
      return;
    }
    // Below the skull base the head is muscle and fat (face, neck); above it scalp.
    const belowBase = slabFraction((tz - fz + 4) * cosF, cosF * hT, 4);
    let v = H.air + headOcc * (lerp(H.scalp, H.muscle, belowBase) - H.air);
    let label: number = headOcc >= 0.5 ? TISSUE.softTissue : TISSUE.background;
    if (belowBase > 0) {
      // Fatty spaces between the deep muscles of the face and neck (partly fat: fat and septa).
      const planes = 0.4 * belowBase * smoothstep(0.15, 0.6, this.coarseAt(CH_SOFT, i, j)) * slabFraction(dE + 4, hE, w);
      if (planes > 0) {
        v += planes * (H.fat - v);
        if (planes >= 0.5) label = TISSUE.fat;
      }
    }
    // Subcutaneous fat under the skin, thicker over the face and neck; scalp fat is laced with
    // fibrous septa: darker than skin, not as dark as pure fat.
    const fatT = 1.5 + 0.2 * tSc + 3.5 * belowBase;
    const fat = (0.7 + 0.3 * belowBase) * (slabFraction(dHead + 2.3, hHead, w) - slabFraction(dHead + 2.3 + fatT, hHead, w));
    if (fat > 0) {
      v += fat * (H.fat - v);
      if (fat >= 0.5) label = TISSUE.fat;
    }
    // Temporalis muscle between scalp and bone.
    if (tTm > 0.5) {
      const m = slabFraction(dE - tS - tTm + 0.3, hE, w) * smoothstep(0.5, 3, tTm);
      if (m > 0) {
        v += m * (H.muscle - v);
        if (m >= 0.5) label = TISSUE.muscle;
      }
    }
    // Skull: cortical tables around diploe; the vault ends at the skull base.
    const boneOcc = slabFraction(dE - tS, hE, w) * slabFraction((fz - 1.6 - tz) * cosF, cosF * hT, w);
    if (boneOcc > 0) {
      const depthIn = px[PX_DIC];
      const depthOut = tS - dE;
      const cortical = Math.max(ramp(depthIn - 1.7, 1.2), ramp(depthOut - 1.7, 1.2), belowBase);
      const boneHu = H.diploe + cortical * (H.corticalBone - H.diploe);
      v += boneOcc * (boneHu - v);
      if (boneOcc >= 0.5) label = cortical >= 0.5 ? TISSUE.corticalBone : TISSUE.cancellousBone;
    }
    st.outer[p] = v;
    st.outerLabel[p] = label;
  }

  /** Cranial contents at pixel p, at displaced coordinates. */
  private contentPixel(p: number, i: number, j: number): void {
    const st = this.state;
    const H = this.subject.hu;
    const px = this.px;
    const w = this.edgeMm;
    const hT = this.slabHalfMm;
    const inv = 1 / this.coarseStride;
    const cnx = this.cnx;
    const ch = this.ch;
    const ci = Math.min(Math.floor(i * inv), cnx - 2);
    const cj = Math.min(Math.floor(j * inv), this.cny - 2);
    const fx = i * inv - ci;
    const fy = j * inv - cj;
    const c00 = ci + cj * cnx;
    const w00 = (1 - fx) * (1 - fy);
    const w10 = fx * (1 - fy);
    const w01 = (1 - fx) * fy;
    const w11 = fx * fy;
    let qx = px[PX_TX];
    let qy = px[PX_TY];
    let qz = px[PX_TZ];
    let rho: number;
    let hRho: number;
    if (this.warp) {
      const ux = ch[CH_UX];
      const uy = ch[CH_UY];
      const uz = ch[CH_UZ];
      qx -= w00 * ux[c00] + w10 * ux[c00 + 1] + w01 * ux[c00 + cnx] + w11 * ux[c00 + cnx + 1];
      qy -= w00 * uy[c00] + w10 * uy[c00 + 1] + w01 * uy[c00 + cnx] + w11 * uy[c00 + cnx + 1];
      qz -= w00 * uz[c00] + w10 * uz[c00 + 1] + w01 * uz[c00 + cnx] + w11 * uz[c00 + cnx + 1];
      this.cranium.distance(qx, qy, qz, this.tmp);
      rho = -this.tmp.d;
      hRho = Math.abs(this.tmp.nz) * hT;
    } else {
      rho = -px[PX_DIC];
      hRho = px[PX_HIC];
    }
    st.qx[p] = qx;
    st.qy[p] = qy;
    st.qz[p] = qz;
    st.depthMm[p] = rho;
    px[PX_QX] = qx;
    px[PX_QY] = qy;
    px[PX_QZ] = qz;
    px[PX_RHO] = rho;
    px[PX_HRHO] = hRho;
    const a = ch[CH_TEX];
    px[PX_TEX] = w00 * a[c00] + w10 * a[c00 + 1] + w01 * a[c00 + cnx] + w11 * a[c00 + cnx + 1];
    const lo = ch[CH_DLO];
    px[PX_SLO] = w00 * lo[c00] + w10 * lo[c00 + 1] + w01 * lo[c00 + cnx] + w11 * lo[c00 + cnx + 1];
    const mid = ch[CH_DMID];
    px[PX_SMID] = w00 * mid[c00] + w10 * mid[c00 + 1] + w01 * mid[c00 + cnx] + w11 * mid[c00 + cnx + 1];
    const hi = ch[CH_DHI];
    px[PX_SHI] = w00 * hi[c00] + w10 * hi[c00 + 1] + w01 * hi[c00 + cnx] + w11 * hi[c00 + cnx + 1];
    const dl = ch[CH_DEPTH];
    px[PX_DLIM] = w00 * dl[c00] + w10 * dl[c00 + 1] + w01 * dl[c00 + cnx] + w11 * dl[c00 + cnx + 1];
    const wb = ch[CH_WOBBLE];
    px[PX_WOB] = w00 * wb[c00] + w10 * wb[c00 + 1] + w01 * wb[c00 + cnx] + w11 * wb[c00 + cnx + 1];

    const ax = qx < 0 ? -qx : qx;
    const inPFxy = qy > petrousRidgeY(ax) - 1;
    const zt = tentoriumZ(qx, qy);
    const slope = tentoriumSlope(qx, qy);
    const cosT = 1 / Math.sqrt(1 + slope * slope);
    const dT = (qz - zt) * cosT;
    const hTent = cosT * hT;
    px[PX_DT] = inPFxy ? dT : FAR;
    px[PX_HT] = hTent;
    if (inPFxy && dT < 0) this.cerebellumPixel(p);
    else this.cerebrumPixel(p);
    let v = px[PX_V];
    const csf = px[PX_CSF];
    if (csf > 0) {
      v += csf * (H.csf - v);
      if (csf >= 0.5) st.contentLabel[p] = TISSUE.csf;
    }
    // Tentorium: a thin dural sheet over the posterior fossa (absent in the incisura).
    if (inPFxy && dT > -3 && dT < 3) {
      const notch = qy < 26 && ax < 14 * Math.sqrt(Math.min(1, Math.max(0, (26 - qy) / 36)));
      if (!notch) {
        const tent = slabFraction(dT - 0.45, hTent, w) - slabFraction(dT + 0.45, hTent, w);
        if (tent > 0) {
          v += 0.85 * tent * (H.dura - v);
          if (tent >= 0.5) st.contentLabel[p] = TISSUE.dura;
        }
      }
    }
    st.content[p] = v;
    st.csfFraction[p] = csf;
  }

  /** Posterior fossa: cerebellum with its folia, CSF under the bone and the tentorium. */
  private cerebellumPixel(p: number): void {
    const px = this.px;
    const subj = this.subject;
    const w = this.edgeMm;
    let rhoPF = px[PX_RHO];
    let hPF = px[PX_HRHO];
    if (-px[PX_DT] < rhoPF) {
      rhoPF = -px[PX_DT];
      hPF = px[PX_HT];
    }
    let csf = slabFraction(rhoPF - (subj.extraAxialCsfMm * 0.8 + 0.4), hPF, w);
    const dLimit = px[PX_DLIM];
    const hwF = (0.25 + 0.5 * subj.atrophy) * (1 - smoothstep(0.5 * dLimit, dLimit, rhoPF));
    const sMid = px[PX_SMID];
    if (hwF > 0.02 && sMid < 50) {
      px[PX_HW] = hwF;
      this.sheetFraction();
      const folia = px[PX_SHEET];
      if (folia > csf) csf = folia;
    }
    const qy = px[PX_QY];
    const ax = Math.abs(px[PX_QX]);
    if (qy > 50) {
      const vallecula = ramp(ax - (0.8 + subj.atrophy) * smoothstep(50, 60, qy), w);
      if (vallecula > csf) csf = vallecula;
    }
    const core = 4 * smoothstep(9, 17, rhoPF) * smoothstep(5, 13, ax);
    px[PX_V] = subj.hu.cerebellum - core + 0.7 * px[PX_TEX];
    px[PX_CSF] = csf;
    this.state.contentLabel[p] = TISSUE.cerebellum;
  }

  /** Cerebrum: cortex under the CSF of the convexity, tentorium, fissures and sulci. */
  private cerebrumPixel(p: number): void {
    const px = this.px;
    const subj = this.subject;
    const H = subj.hu;
    const w = this.edgeMm;
    const gmT = subj.cortexThicknessMm;
    const csfT = subj.extraAxialCsfMm;
    const rho = px[PX_RHO];
    let rhoC = rho;
    let hC = px[PX_HRHO];
    const dT = px[PX_DT];
    if (dT < rhoC) {
      rhoC = dT;
      hC = px[PX_HT];
    }
    let csf = slabFraction(rhoC - csfT, hC, w);
    let gm = slabFraction(rhoC - csfT - gmT, hC, w);
    const qx = px[PX_QX];
    const qy = px[PX_QY];
    const qz = px[PX_QZ];
    const wobble = px[PX_WOB];
    const xm = this.midlineX(qy, qz) + 0.25 * wobble;
    const dMid = Math.abs(qx - xm);
    const zb = this.fissureBottomZ(qy);
    let rhoEff = rho;
    if (qz > zb - 4) {
      const fade = smoothstep(zb - 4, zb + 3, qz);
      const hw = subj.fissureHalfWidthMm * fade;
      const fc = ramp(dMid - hw, w) * fade;
      const fg = ramp(dMid - hw - gmT, w) * fade;
      if (fc > csf) csf = fc;
      if (fg > gm) gm = fg;
      if (dMid < rhoEff && fade > 0.5) rhoEff = dMid;
    }
    if (qz > 8 && qz < 52 && qy > -45 && qy < 30) {
      px[PX_CSF] = csf;
      px[PX_GM] = gm;
      this.sylvianPixel();
      csf = px[PX_CSF];
      gm = px[PX_GM];
    }
    // Sulci.
    const sMid = px[PX_SMID];
    if (sMid < 50) {
      const dLimit = px[PX_DLIM];
      const hwSul = subj.sulcusHalfWidthMm;
      const taper = 1 - smoothstep(0.55 * dLimit, dLimit, rhoEff);
      const hw = hwSul * taper * (1 + 0.6 * smoothstep(4, -1, rhoEff));
      const sheath = (hwSul + gmT) * (1 - smoothstep(dLimit, dLimit + 1.6 * gmT, rhoEff));
      if (hw > 0.02) {
        px[PX_HW] = hw;
        this.sheetFraction();
        const sc = px[PX_SHEET];
        if (sc > csf) csf = sc;
      }
      if (sheath > 0.05) {
        px[PX_HW] = sheath;
        this.sheetFraction();
        const sg = px[PX_SHEET];
        if (sg > gm) gm = sg;
      }
    }
    const tex = px[PX_TEX];
    const wm = H.whiteMatter + tex - 2.5 * subj.atrophy * smoothstep(45, 20, Math.abs(qx) + 0.5 * Math.abs(qy - 5)) * smoothstep(38, 48, qz);
    let v = wm + gm * (H.grayMatter + 0.8 * tex - wm);
    // Falx cerebri in the fissure, down to its free edge above the callosum.
    if (qz > zb + 5 && dMid < 2) {
      const falx = ramp(dMid - 0.3, w) * smoothstep(zb + 5, zb + 9, qz);
      if (falx > 0) {
        csf = Math.max(0, csf - falx);
        v += falx * (H.dura - v);
      }
    }
    px[PX_V] = v;
    px[PX_CSF] = csf;
    this.state.contentLabel[p] = gm >= 0.5 ? TISSUE.grayMatter : TISSUE.whiteMatter;
  }

  /**
   * Fraction of the voxel inside the sulcal (or folial) sheet of half width PX_HW: the field's
   * distance runs PX_SLO -> PX_SMID -> PX_SHI across the slab, two linear pieces averaged.
   */
  private sheetFraction(): void {
    const px = this.px;
    const w = this.edgeMm;
    const hw = px[PX_HW];
    const a = px[PX_SLO];
    const m = px[PX_SMID];
    const b = px[PX_SHI];
    const first = segmentFraction(a - hw, m - hw, w) - segmentFraction(a + hw, m + hw, w);
    const second = segmentFraction(m - hw, b - hw, w) - segmentFraction(m + hw, b + hw, w);
    px[PX_SHEET] = 0.5 * ((first > 0 ? first : 0) + (second > 0 ? second : 0));
  }

  /** Sylvian fissure: the lateral stem and the insular cistern (updates the CSF and GM registers). */
  private sylvianPixel(): void {
    const px = this.px;
    const subj = this.subject;
    const w = this.edgeMm;
    const gmT = subj.cortexThicknessMm;
    const hwSyl = 0.6 + 1.5 * subj.atrophy;
    const xIns = 35 + 2 * subj.atrophy;
    const qy = px[PX_QY];
    const qz = px[PX_QZ];
    const ax = Math.abs(px[PX_QX]);
    const wobble = px[PX_WOB];
    let csf = px[PX_CSF];
    let gm = px[PX_GM];
    const zFade = smoothstep(10, 17, qz) * smoothstep(50, 42, qz);
    const insFade = zFade * smoothstep(-27, -19, qy) * smoothstep(11, 4, qy) * smoothstep(16, 22, qz);
    if (insFade > 0) {
      const yc = (qy + 8) / 16;
      const dIns = Math.abs(ax - xIns - 2.5 * (1 - yc * yc) - 1.2 * wobble);
      const sc = ramp(dIns - hwSyl * insFade, w) * insFade;
      const sg = ramp(dIns - (hwSyl + gmT) * insFade, w) * insFade;
      if (sc > csf) csf = sc;
      if (sg > gm) gm = sg;
    }
    const xMed = lerp(13, xIns, smoothstep(19, 27, qz));
    const stemFade = zFade * smoothstep(xMed - 1, xMed + 2, ax) * smoothstep(46, 36, qz);
    if (stemFade > 0) {
      const yStem = -17 + 0.75 * (qz - 18) + wobble;
      const dStem = Math.abs(qy - yStem) * 0.8;
      const hStem = 0.6 * this.slabHalfMm;
      // A cleft that opens towards the convexity.
      const hwStem = hwSyl * stemFade * (0.5 + 0.9 * smoothstep(xIns, xIns + 25, ax));
      const sc = slabFraction(dStem - hwStem, hStem, w) * stemFade;
      const sg = slabFraction(dStem - hwStem - gmT * stemFade, hStem, w) * stemFade;
      if (sc > csf) csf = sc;
      if (sg > gm) gm = sg;
    }
    px[PX_CSF] = csf;
    px[PX_GM] = gm;
  }

  private paintStructures(k: number, list: Structure[], inside: boolean): void {
    const st = this.state;
    const nx = this.grid.dims[0];
    const w = this.edgeMm;
    const hT = this.slabHalfMm;
    const zSlice = this.grid.origin[2] + k * this.grid.spacing[2];
    const [Ti, Tj] = [this.Ti, this.Tj];
    const t0 = this.t0;
    const a = this.tmp;
    const b = this.tmp2;
    const pt = this.pt;
    const margin = inside && this.warp ? this.warp.maxDisplacementMm + 2 : 2;
    for (const s of list) {
      const bounds = this.structureBounds(s, margin);
      if (zSlice < bounds.z0 - hT * 2 || zSlice > bounds.z1 + hT * 2) continue;
      const target = inside ? st.content : st.outer;
      const targetLabel = inside ? st.contentLabel : st.outerLabel;
      const isCsf = inside && (s.label === TISSUE.csf || s.label === TISSUE.ventricle);
      const isVentricle = s.label === TISSUE.ventricle;
      const ws = s.softMm !== undefined && s.softMm > w ? s.softMm : w;
      const keep = s.keepFromCavityMm ?? 0;
      // Template-frame box of the shape, grown by the partial-volume reach: exact quick reject.
      const tb = this.templateBounds(s, ws + hT);
      for (let j = bounds.j0; j <= bounds.j1; j++) {
        for (let i = bounds.i0; i <= bounds.i1; i++) {
          const p = i + j * nx;
          let x: number;
          let y: number;
          let z: number;
          if (inside) {
            if (st.cavity[p] <= 0) continue;
            x = st.qx[p];
            y = st.qy[p];
            z = st.qz[p];
          } else {
            if (st.cavity[p] >= 1) continue;
            x = t0[0] + i * Ti[0] + j * Tj[0];
            y = t0[1] + i * Ti[1] + j * Tj[1];
            z = t0[2] + i * Ti[2] + j * Tj[2];
          }
          if (x < tb[0] || y < tb[1] || z < tb[2] || x > tb[3] || y > tb[4] || z > tb[5]) continue;
          pt[0] = x;
          pt[1] = y;
          pt[2] = z;
          shapeDistance(s.shape, pt, a);
          let occ = slabFraction(a.d, Math.abs(a.nz) * hT, ws);
          if (occ <= 0) continue;
          if (s.subtract) {
            for (const sub of s.subtract) {
              shapeDistance(sub, pt, b);
              occ *= 1 - slabFraction(b.d, Math.abs(b.nz) * hT, w);
            }
            if (occ <= 0) continue;
          }
          if (keep > 0) {
            this.cavityDistance(x, y, z, b);
            occ *= slabFraction(keep - b.d, Math.abs(b.nz) * hT, w);
            if (occ <= 0) continue;
          }
          let hu = s.hu;
          if (s.cells) {
            // Honeycomb: thin bony septa where a cell-noise field crosses zero.
            const cs = s.cells.sizeMm;
            const n = this.cellNoise.noise(x / cs, y / cs, z / cs) + 0.5 * this.cellNoise.noise(x / (0.5 * cs) + 3.1, y / (0.5 * cs), z / (0.5 * cs));
            const septum = ramp(Math.abs(n) - 0.12, 0.12);
            hu = lerp(s.hu, s.cells.septumHu, septum);
          }
          target[p] += occ * (hu - target[p]);
          if (occ >= 0.5) targetLabel[p] = s.label;
          if (inside) {
            if (isCsf) {
              st.csfFraction[p] += occ * (1 - st.csfFraction[p]);
              if (isVentricle) st.ventricleFraction[p] += occ * (1 - st.ventricleFraction[p]);
            } else {
              st.csfFraction[p] *= 1 - occ;
              st.ventricleFraction[p] *= 1 - occ;
            }
          }
        }
      }
    }
  }

  private templateBoundsCache = new Map<Structure, number[]>();

  private templateBounds(s: Structure, grow: number): number[] {
    let b = this.templateBoundsCache.get(s);
    if (!b) {
      const sb = shapeBounds(s.shape);
      b = [sb[0] - grow, sb[1] - grow, sb[2] - grow, sb[3] + grow, sb[4] + grow, sb[5] + grow];
      this.templateBoundsCache.set(s, b);
    }
    return b;
  }

  private boundsCache = new Map<Structure, ReturnType<PhantomRenderer['pixelBounds']>>();

  private structureBounds(s: Structure, margin: number): ReturnType<PhantomRenderer['pixelBounds']> {
    let b = this.boundsCache.get(s);
    if (!b) {
      b = this.pixelBounds(shapeBounds(s.shape), margin + 2);
      this.boundsCache.set(s, b);
    }
    return b;
  }
}

/** Signed distance of point p (template mm) to a shape. */
export function shapeDistance(s: Shape, p: Float64Array, out: DistanceSample): void {
  if (s.kind === 'tube') {
    tubeDistance(s.tube, p, out);
    return;
  }
  let dx = p[0] - s.c[0];
  let dy = p[1] - s.c[1];
  if (s.yawRad !== 0) {
    const c = Math.cos(s.yawRad);
    const sn = Math.sin(s.yawRad);
    const rx = c * dx + sn * dy;
    dy = -sn * dx + c * dy;
    dx = rx;
  }
  ellipsoidDistance(dx, dy, p[2] - s.c[2], s.r[0], s.r[1], s.r[2], out);
}

/** Rotation (row-major 3x3) taking scanner directions to head directions. */
function rotationMatrix(yaw: number, pitch: number, roll: number): number[] {
  const cy = Math.cos(yaw);
  const sy = Math.sin(yaw);
  const cp = Math.cos(pitch);
  const sp = Math.sin(pitch);
  const cr = Math.cos(roll);
  const sr = Math.sin(roll);
  const Rz = [cy, -sy, 0, sy, cy, 0, 0, 0, 1];
  const Rx = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  const Ry = [cr, 0, sr, 0, 1, 0, -sr, 0, cr];
  return mul3(mul3(Rz, Rx), Ry);
}

function mul3(a: number[], b: number[]): number[] {
  const o = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let t = 0; t < 3; t++) o[r * 3 + c] += a[r * 3 + t] * b[t * 3 + c];
  return o;
}

const CH_DLO = 0;
const CH_DMID = 1;
const CH_DHI = 2;
const CH_DEPTH = 3;
const CH_TEX = 4;
const CH_UX = 5;
const CH_UY = 6;
const CH_UZ = 7;
const CH_NMID = 8;
const CH_NLO = 9;
const CH_NHI = 10;
const CH_WOBBLE = 12;
const CH_SOFT = 13;
const CH_COUNT = 14;

// Registers of the per-pixel methods.
const PX_TX = 0;
const PX_TY = 1;
const PX_TZ = 2;
const PX_DE = 3;
const PX_HE = 4;
const PX_FZ = 5;
const PX_COSF = 6;
const PX_DIC = 7;
const PX_HIC = 8;
const PX_QX = 9;
const PX_QY = 10;
const PX_QZ = 11;
const PX_RHO = 12;
const PX_HRHO = 13;
const PX_TEX = 14;
const PX_SLO = 15;
const PX_SMID = 16;
const PX_SHI = 17;
const PX_DLIM = 18;
const PX_WOB = 19;
const PX_DT = 20;
const PX_HT = 21;
const PX_V = 22;
const PX_CSF = 23;
const PX_GM = 24;
const PX_FLOOR = 25;
const PX_FIELD = 26;
const PX_HW = 27;
const PX_SHEET = 28;
const PX_COUNT = 29;
