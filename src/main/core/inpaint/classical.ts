import { throwIfAborted } from '../progress';

/**
 * Classical inpainters: the baselines the diffusion model must beat, and the fallback that lets
 * the pipeline run with no model at all. They fill the pixels (or voxels) marked unknown from the
 * known ones around them, on a 2-D image or a 3-D volume (x fastest), with anisotropic spacing.
 *
 * - nearest:    value of the nearest known voxel (exact Euclidean distance, in mm).
 * - linear:     along every axis, linear interpolation between the nearest known voxels on both
 *               sides; the axes are averaged with weights 1 / (gap length). Exact for ramps.
 * - harmonic:   Laplace equation Δu = 0 inside the hole, known voxels as Dirichlet boundary,
 *               mirror (Neumann) boundary at the image border. Exact for ramps.
 * - biharmonic: minimises Σ (Δu)² over the hole (Δ²u = 0), needing two rings of known voxels.
 *               Exact for ramps and for quadratics such as x² + y².
 *
 * The Laplacian's neighbour weights are 1 / spacing², so thick slices couple weakly.
 * Independent holes are solved in their own bounding boxes (plus the 2-voxel stencil reach);
 * small 2-D systems use an exact banded Cholesky factorisation (cached per hole shape, so the
 * many identical squares of the inpainting grid factorise once), larger ones preconditioned CG.
 */

export type ClassicalMethod = 'nearest' | 'linear' | 'harmonic' | 'biharmonic';
export const CLASSICAL_METHODS: readonly ClassicalMethod[] = ['nearest', 'linear', 'harmonic', 'biharmonic'];

export type Dims3 = [number, number, number];

export interface ClassicalOptions {
  /** Voxel spacing (x, y, z) in mm; default isotropic. */
  spacingMm?: Dims3;
  signal?: AbortSignal;
  /** Relative residual at which conjugate gradients stop (default 1e-7). */
  tolerance?: number;
  /** Conjugate-gradient iteration cap (default 50,000). */
  maxIterations?: number;
}

export interface ClassicalStats {
  unknowns: number;
  /** Independent hole groups solved. */
  groups: number;
  /** Conjugate-gradient iterations in all (0 when only direct solves were needed). */
  iterations: number;
  /** Largest relative residual ||Au - b|| / ||b|| over all solves. */
  maxRelativeResidual: number;
  converged: boolean;
}

export interface ClassicalResult {
  values: Float32Array;
  stats: ClassicalStats;
}

/** Unknown voxels with no known voxel anywhere (an all-unknown image) are left as they were. */
export function inpaintClassical(method: ClassicalMethod, values: ArrayLike<number>, unknown: ArrayLike<number>, dims: Dims3, options: ClassicalOptions = {}): ClassicalResult {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  if (values.length !== n || unknown.length !== n) throw new Error(`inpaintClassical: ${values.length} values and ${unknown.length} mask voxels for ${dims.join('x')}.`);
  const out = Float32Array.from(values);
  const stats: ClassicalStats = { unknowns: 0, groups: 0, iterations: 0, maxRelativeResidual: 0, converged: true };
  for (let p = 0; p < n; p++) if (unknown[p]) stats.unknowns++;
  if (stats.unknowns === 0 || stats.unknowns === n) return { values: out, stats };
  const spacing = options.spacingMm ?? [1, 1, 1];
  const reach = method === 'biharmonic' ? 2 : 1;
  for (const box of holeGroups(unknown, dims, reach + 1)) {
    throwIfAborted(options.signal);
    const crop = cropBox(box, dims, reach + 1);
    solveCrop(method, out, unknown, dims, crop, spacing, options, stats);
    stats.groups++;
  }
  return { values: out, stats };
}

interface Box {
  lo: Dims3;
  hi: Dims3; // inclusive
}

function cropBox(box: Box, dims: Dims3, margin: number): Box {
  const lo = box.lo.map((v) => Math.max(0, v - margin)) as Dims3;
  const hi = box.hi.map((v, a) => Math.min(dims[a] - 1, v + margin)) as Dims3;
  return { lo, hi };
}

/**
 * Bounding boxes of groups of holes that must be solved together: connected components of the
 * unknown voxels, merged while their boxes grown by `margin` overlap (so no voxel within a
 * stencil's reach of one group belongs to another).
 */
function holeGroups(unknown: ArrayLike<number>, dims: Dims3, margin: number): Box[] {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  const seen = new Uint8Array(n);
  const boxes: Box[] = [];
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (!unknown[start] || seen[start]) continue;
    const box: Box = { lo: [Infinity, Infinity, Infinity], hi: [-1, -1, -1] };
    seen[start] = 1;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % nx;
      const y = ((p - x) / nx) % ny;
      const z = Math.floor(p / (nx * ny));
      if (x < box.lo[0]) box.lo[0] = x;
      if (y < box.lo[1]) box.lo[1] = y;
      if (z < box.lo[2]) box.lo[2] = z;
      if (x > box.hi[0]) box.hi[0] = x;
      if (y > box.hi[1]) box.hi[1] = y;
      if (z > box.hi[2]) box.hi[2] = z;
      for (let dz = -1; dz <= 1; dz++) {
        const zz = z + dz;
        if (zz < 0 || zz >= nz) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= ny) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= nx) continue;
            const q = xx + nx * (yy + ny * zz);
            if (unknown[q] && !seen[q]) {
              seen[q] = 1;
              stack.push(q);
            }
          }
        }
      }
    }
    boxes.push(box);
  }
  // Merge boxes whose grown extents overlap until none do.
  const grown = (b: Box) => ({ lo: b.lo.map((v) => v - margin), hi: b.hi.map((v) => v + margin) });
  const overlap = (a: Box, b: Box) => {
    const ga = grown(a);
    const gb = grown(b);
    for (let ax = 0; ax < 3; ax++) if (ga.hi[ax] < gb.lo[ax] || gb.hi[ax] < ga.lo[ax]) return false;
    return true;
  };
  let merged = true;
  let list = boxes;
  while (merged) {
    merged = false;
    const next: Box[] = [];
    for (const b of list) {
      const hit = next.find((o) => overlap(o, b));
      if (hit) {
        for (let ax = 0; ax < 3; ax++) {
          hit.lo[ax] = Math.min(hit.lo[ax], b.lo[ax]);
          hit.hi[ax] = Math.max(hit.hi[ax], b.hi[ax]);
        }
        merged = true;
      } else next.push({ lo: [...b.lo] as Dims3, hi: [...b.hi] as Dims3 });
    }
    list = next;
  }
  return list;
}

/** A crop copied out of the full array, with its own raster. */
interface CropProblem {
  dims: Dims3;
  values: Float64Array;
  unknown: Uint8Array;
  /** Neighbour offsets and weights (1/spacing², normalised) of the axes that have extent > 1. */
  axes: { stride: number; weight: number; axis: 0 | 1 | 2; spacing: number }[];
}

function extractCrop(values: ArrayLike<number>, unknown: ArrayLike<number>, dims: Dims3, crop: Box, spacing: Dims3): CropProblem {
  const cd: Dims3 = [crop.hi[0] - crop.lo[0] + 1, crop.hi[1] - crop.lo[1] + 1, crop.hi[2] - crop.lo[2] + 1];
  const m = cd[0] * cd[1] * cd[2];
  const v = new Float64Array(m);
  const u = new Uint8Array(m);
  let i = 0;
  for (let z = crop.lo[2]; z <= crop.hi[2]; z++)
    for (let y = crop.lo[1]; y <= crop.hi[1]; y++) {
      const base = dims[0] * (y + dims[1] * z);
      for (let x = crop.lo[0]; x <= crop.hi[0]; x++, i++) {
        v[i] = values[base + x];
        u[i] = unknown[base + x] ? 1 : 0;
      }
    }
  const strides = [1, cd[0], cd[0] * cd[1]];
  const present = ([0, 1, 2] as const).filter((a) => dims[a] > 1);
  const minSpacing = Math.min(...present.map((a) => spacing[a]));
  const axes = present.map((a) => ({ stride: strides[a], weight: (minSpacing / spacing[a]) ** 2, axis: a, spacing: spacing[a] }));
  return { dims: cd, values: v, unknown: u, axes };
}

function writeBack(out: Float32Array, dims: Dims3, crop: Box, problem: CropProblem): void {
  let i = 0;
  for (let z = crop.lo[2]; z <= crop.hi[2]; z++)
    for (let y = crop.lo[1]; y <= crop.hi[1]; y++) {
      const base = dims[0] * (y + dims[1] * z);
      for (let x = crop.lo[0]; x <= crop.hi[0]; x++, i++) if (problem.unknown[i]) out[base + x] = problem.values[i];
    }
}

function solveCrop(method: ClassicalMethod, out: Float32Array, unknown: ArrayLike<number>, dims: Dims3, crop: Box, spacing: Dims3, options: ClassicalOptions, stats: ClassicalStats): void {
  const problem = extractCrop(out, unknown, dims, crop, spacing);
  if (method === 'nearest') nearestFill(problem);
  else if (method === 'linear') linearFill(problem);
  else {
    const res = laplaceFill(problem, method === 'biharmonic', options);
    stats.iterations += res.iterations;
    stats.maxRelativeResidual = Math.max(stats.maxRelativeResidual, res.relativeResidual);
    if (!res.converged) stats.converged = false;
  }
  writeBack(out, dims, crop, problem);
}

function coords(p: number, d: Dims3): Dims3 {
  const x = p % d[0];
  const y = ((p - x) / d[0]) % d[1];
  return [x, y, Math.floor(p / (d[0] * d[1]))];
}

// ---------------------------------------------------------------------------------------------
// Nearest: exact Euclidean feature transform (Felzenszwalb & Huttenlocher, separable lower
// envelopes of parabolas), carrying the index of the nearest known voxel.

function nearestFill(pr: CropProblem): void {
  const m = pr.values.length;
  const dist = new Float64Array(m);
  const src = new Int32Array(m);
  for (let p = 0; p < m; p++) {
    dist[p] = pr.unknown[p] ? Infinity : 0;
    src[p] = pr.unknown[p] ? -1 : p;
  }
  const d = pr.dims;
  for (const ax of pr.axes) {
    const len = d[ax.axis];
    const f = new Float64Array(len);
    const fs = new Int32Array(len);
    const v = new Int32Array(len);
    const zb = new Float64Array(len + 1);
    const s2 = ax.spacing * ax.spacing;
    // Every line along this axis: iterate over all voxels whose coordinate on the axis is 0.
    for (let p0 = 0; p0 < m; p0++) {
      if (coords(p0, d)[ax.axis] !== 0) continue;
      for (let i = 0; i < len; i++) {
        f[i] = dist[p0 + i * ax.stride];
        fs[i] = src[p0 + i * ax.stride];
      }
      let k = -1;
      for (let q = 0; q < len; q++) {
        if (f[q] === Infinity) continue;
        if (k < 0) {
          k = 0;
          v[0] = q;
          zb[0] = -Infinity;
          zb[1] = Infinity;
          continue;
        }
        let s = (f[q] + s2 * q * q - (f[v[k]] + s2 * v[k] * v[k])) / (2 * s2 * (q - v[k]));
        while (s <= zb[k]) {
          k--;
          s = (f[q] + s2 * q * q - (f[v[k]] + s2 * v[k] * v[k])) / (2 * s2 * (q - v[k]));
        }
        k++;
        v[k] = q;
        zb[k] = s;
        zb[k + 1] = Infinity;
      }
      if (k < 0) continue;
      let j = 0;
      for (let q = 0; q < len; q++) {
        while (zb[j + 1] < q) j++;
        const dq = q - v[j];
        dist[p0 + q * ax.stride] = s2 * dq * dq + f[v[j]];
        src[p0 + q * ax.stride] = fs[v[j]];
      }
    }
  }
  for (let p = 0; p < m; p++) if (pr.unknown[p] && src[p] >= 0) pr.values[p] = pr.values[src[p]];
}

// ---------------------------------------------------------------------------------------------
// Linear: per-axis interpolation between the nearest known voxels on both sides.

function linearFill(pr: CropProblem): void {
  const m = pr.values.length;
  const d = pr.dims;
  const acc = new Float64Array(m);
  const wsum = new Float64Array(m);
  for (const ax of pr.axes) {
    const len = d[ax.axis];
    for (let p0 = 0; p0 < m; p0++) {
      if (coords(p0, d)[ax.axis] !== 0) continue;
      let prevKnown = -1;
      let i = 0;
      while (i < len) {
        if (!pr.unknown[p0 + i * ax.stride]) {
          prevKnown = i;
          i++;
          continue;
        }
        let j = i;
        while (j < len && pr.unknown[p0 + j * ax.stride]) j++;
        const nextKnown = j < len ? j : -1;
        const a = prevKnown >= 0 ? pr.values[p0 + prevKnown * ax.stride] : 0;
        const b = nextKnown >= 0 ? pr.values[p0 + nextKnown * ax.stride] : 0;
        for (let q = i; q < j; q++) {
          const p = p0 + q * ax.stride;
          let value: number;
          let gap: number;
          if (prevKnown >= 0 && nextKnown >= 0) {
            const t = (q - prevKnown) / (nextKnown - prevKnown);
            value = a + t * (b - a);
            gap = (nextKnown - prevKnown) * ax.spacing;
          } else if (prevKnown >= 0 || nextKnown >= 0) {
            // One-sided (hole touches the image border): constant extrapolation, trusted less.
            value = prevKnown >= 0 ? a : b;
            gap = 2 * (prevKnown >= 0 ? q - prevKnown : nextKnown - q) * ax.spacing;
          } else continue;
          acc[p] += value / gap;
          wsum[p] += 1 / gap;
        }
        i = j;
      }
    }
  }
  for (let p = 0; p < m; p++) if (pr.unknown[p] && wsum[p] > 0) pr.values[p] = acc[p] / wsum[p];
}

// ---------------------------------------------------------------------------------------------
// Harmonic and biharmonic: sparse linear systems over the unknown voxels.

/** Sparse rows over unknown columns, plus each row's constant part from the known voxels. */
interface SparseRows {
  rowPtr: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
  constant: Float64Array;
}

interface LaplaceSystem {
  n: number;
  /** harmonic: A itself (SPD). biharmonic: R, with A = RᵀR and b = -Rᵀc. */
  rows: SparseRows;
  normalEquations: boolean;
}

/** Graph-Laplacian row at crop voxel r: (Lf)_r = Σ w (f_q - f_r); missing neighbours dropped (mirror boundary). */
function laplacianRow(pr: CropProblem, r: number, emit: (voxel: number, weight: number) => void): void {
  const c = coords(r, pr.dims);
  let centre = 0;
  for (const ax of pr.axes) {
    const coord = c[ax.axis];
    if (coord > 0) {
      emit(r - ax.stride, ax.weight);
      centre += ax.weight;
    }
    if (coord < pr.dims[ax.axis] - 1) {
      emit(r + ax.stride, ax.weight);
      centre += ax.weight;
    }
  }
  emit(r, -centre);
}

function buildSystem(pr: CropProblem, biharmonic: boolean, index: Int32Array): LaplaceSystem {
  const m = pr.values.length;
  const rowPtr: number[] = [0];
  const cols: number[] = [];
  const vals: number[] = [];
  const constant: number[] = [];
  let n = 0;
  for (let p = 0; p < m; p++) if (pr.unknown[p]) n++;
  const pushRow = (r: number, sign: number) => {
    let c = 0;
    laplacianRow(pr, r, (q, w) => {
      if (pr.unknown[q]) {
        cols.push(index[q]);
        vals.push(sign * w);
      } else c += sign * w * pr.values[q];
    });
    constant.push(c);
    rowPtr.push(cols.length);
  };
  if (!biharmonic) {
    // -L restricted to the unknowns is symmetric positive definite; b = the known neighbours' pull.
    for (let p = 0; p < m; p++) if (pr.unknown[p]) pushRow(p, -1);
  } else {
    // Laplacian rows at every voxel whose stencil touches an unknown.
    const touched = new Uint8Array(m);
    for (let p = 0; p < m; p++) if (pr.unknown[p]) laplacianRow(pr, p, (q) => (touched[q] = 1));
    for (let r = 0; r < m; r++) if (touched[r]) pushRow(r, 1);
  }
  return { n, rows: { rowPtr: Int32Array.from(rowPtr), cols: Int32Array.from(cols), vals: Float64Array.from(vals), constant: Float64Array.from(constant) }, normalEquations: biharmonic };
}

function rhs(sys: LaplaceSystem): Float64Array {
  const { rowPtr, cols, vals, constant } = sys.rows;
  const b = new Float64Array(sys.n);
  if (!sys.normalEquations) {
    // -L u = (known part of L f): the constant was built with sign -1, so b = -constant.
    for (let i = 0; i < sys.n; i++) b[i] = -constant[i];
    return b;
  }
  for (let r = 0; r + 1 < rowPtr.length; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) b[cols[k]] -= vals[k] * constant[r];
  return b;
}

function matVec(sys: LaplaceSystem, u: Float64Array, out: Float64Array, scratch: Float64Array): void {
  const { rowPtr, cols, vals } = sys.rows;
  const rowsCount = rowPtr.length - 1;
  if (!sys.normalEquations) {
    for (let i = 0; i < rowsCount; i++) {
      let s = 0;
      for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) s += vals[k] * u[cols[k]];
      out[i] = s;
    }
    return;
  }
  for (let r = 0; r < rowsCount; r++) {
    let s = 0;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) s += vals[k] * u[cols[k]];
    scratch[r] = s;
  }
  out.fill(0);
  for (let r = 0; r < rowsCount; r++) {
    const s = scratch[r];
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) out[cols[k]] += vals[k] * s;
  }
}

interface SolveInfo {
  iterations: number;
  relativeResidual: number;
  converged: boolean;
}

/** Banded Cholesky factor of A (lower band, row-major, half-bandwidth p). */
interface BandFactor {
  n: number;
  p: number;
  band: Float64Array;
}

const DIRECT_WORK_LIMIT = 3e8;
const FACTOR_CACHE_LIMIT = 48;
const factorCache = new Map<string, BandFactor>();

function bandwidth(sys: LaplaceSystem): number {
  const { rowPtr, cols } = sys.rows;
  let p = 0;
  for (let r = 0; r + 1 < rowPtr.length; r++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      if (cols[k] < lo) lo = cols[k];
      if (cols[k] > hi) hi = cols[k];
    }
    if (!sys.normalEquations && rowPtr[r + 1] > rowPtr[r]) {
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
    if (hi - lo > p) p = hi - lo;
  }
  return p;
}

function factorBand(sys: LaplaceSystem, p: number): BandFactor | null {
  const n = sys.n;
  const w = p + 1;
  const band = new Float64Array(n * w); // band[i*w + (i-j)] = A[i][j], j <= i
  const { rowPtr, cols, vals } = sys.rows;
  if (!sys.normalEquations) {
    for (let i = 0; i < n; i++) for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) if (cols[k] <= i) band[i * w + (i - cols[k])] += vals[k];
  } else {
    for (let r = 0; r + 1 < rowPtr.length; r++)
      for (let a = rowPtr[r]; a < rowPtr[r + 1]; a++)
        for (let b = rowPtr[r]; b < rowPtr[r + 1]; b++) if (cols[b] <= cols[a]) band[cols[a] * w + (cols[a] - cols[b])] += vals[a] * vals[b];
  }
  for (let i = 0; i < n; i++) {
    const j0 = Math.max(0, i - p);
    for (let j = j0; j <= i; j++) {
      let s = band[i * w + (i - j)];
      const k0 = Math.max(j0, j - p);
      for (let k = k0; k < j; k++) s -= band[i * w + (i - k)] * band[j * w + (j - k)];
      if (i === j) {
        if (!(s > 1e-300)) return null;
        band[i * w] = Math.sqrt(s);
      } else band[i * w + (i - j)] = s / band[j * w];
    }
  }
  return { n, p, band };
}

function solveBand(f: BandFactor, b: Float64Array): Float64Array {
  const { n, p, band } = f;
  const w = p + 1;
  const y = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let s = y[i];
    for (let k = Math.max(0, i - p); k < i; k++) s -= band[i * w + (i - k)] * y[k];
    y[i] = s / band[i * w];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k <= Math.min(n - 1, i + p); k++) s -= band[k * w + (k - i)] * y[k];
    y[i] = s / band[i * w];
  }
  return y;
}

function cacheKey(pr: CropProblem, biharmonic: boolean): string {
  return `${biharmonic ? 'b' : 'h'}:${pr.dims.join('x')}:${pr.axes.map((a) => a.weight).join(',')}:${Buffer.from(pr.unknown.buffer, pr.unknown.byteOffset, pr.unknown.byteLength).toString('base64')}`;
}

function residualNorm(sys: LaplaceSystem, u: Float64Array, b: Float64Array): number {
  const au = new Float64Array(sys.n);
  matVec(sys, u, au, new Float64Array(sys.rows.rowPtr.length - 1));
  let r2 = 0;
  let b2 = 0;
  for (let i = 0; i < sys.n; i++) {
    r2 += (au[i] - b[i]) ** 2;
    b2 += b[i] * b[i];
  }
  return b2 > 0 ? Math.sqrt(r2 / b2) : Math.sqrt(r2);
}

function laplaceFill(pr: CropProblem, biharmonic: boolean, options: ClassicalOptions): SolveInfo {
  const m = pr.values.length;
  const index = new Int32Array(m).fill(-1);
  let n = 0;
  for (let p = 0; p < m; p++) if (pr.unknown[p]) index[p] = n++;
  const sys = buildSystem(pr, biharmonic, index);
  const b = rhs(sys);
  const p = bandwidth(sys);
  let u: Float64Array | null = null;
  let info: SolveInfo = { iterations: 0, relativeResidual: 0, converged: true };
  if (pr.axes.length <= 2 && n * (p + 1) * (p + 1) <= DIRECT_WORK_LIMIT) {
    const key = cacheKey(pr, biharmonic);
    let factor = factorCache.get(key) ?? null;
    if (!factor) {
      factor = factorBand(sys, p);
      if (factor) {
        if (factorCache.size >= FACTOR_CACHE_LIMIT) factorCache.delete(factorCache.keys().next().value!);
        factorCache.set(key, factor);
      }
    }
    if (factor) {
      u = solveBand(factor, b);
      info.relativeResidual = residualNorm(sys, u, b);
    }
  }
  if (!u) {
    // Start from linear interpolation: already exact for ramps, close elsewhere.
    linearFill(pr);
    const u0 = new Float64Array(n);
    for (let q = 0; q < m; q++) if (index[q] >= 0) u0[index[q]] = pr.values[q];
    ({ u, info } = conjugateGradient(sys, b, u0, options));
  }
  for (let q = 0; q < m; q++) if (index[q] >= 0) pr.values[q] = u[index[q]];
  return info;
}

/** Jacobi-preconditioned conjugate gradients. */
function conjugateGradient(sys: LaplaceSystem, b: Float64Array, u: Float64Array, options: ClassicalOptions): { u: Float64Array; info: SolveInfo } {
  const n = sys.n;
  const tol = options.tolerance ?? 1e-7;
  const maxIt = options.maxIterations ?? 50_000;
  const { rowPtr, cols, vals } = sys.rows;
  const diag = new Float64Array(n);
  if (!sys.normalEquations) {
    for (let i = 0; i < n; i++) for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) if (cols[k] === i) diag[i] += vals[k];
  } else for (let k = 0; k < cols.length; k++) diag[cols[k]] += vals[k] * vals[k];
  const scratch = new Float64Array(rowPtr.length - 1);
  const r = new Float64Array(n);
  const z = new Float64Array(n);
  const d = new Float64Array(n);
  const q = new Float64Array(n);
  matVec(sys, u, q, scratch);
  let bNorm = 0;
  for (let i = 0; i < n; i++) {
    r[i] = b[i] - q[i];
    bNorm += b[i] * b[i];
  }
  bNorm = Math.sqrt(bNorm) || 1;
  let rz = 0;
  for (let i = 0; i < n; i++) {
    z[i] = r[i] / diag[i];
    d[i] = z[i];
    rz += r[i] * z[i];
  }
  let it = 0;
  let rNorm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
  while (rNorm / bNorm > tol && it < maxIt) {
    if (it % 256 === 0) throwIfAborted(options.signal);
    matVec(sys, d, q, scratch);
    let dq = 0;
    for (let i = 0; i < n; i++) dq += d[i] * q[i];
    const alpha = rz / dq;
    let rr = 0;
    for (let i = 0; i < n; i++) {
      u[i] += alpha * d[i];
      r[i] -= alpha * q[i];
      rr += r[i] * r[i];
    }
    rNorm = Math.sqrt(rr);
    let rzNew = 0;
    for (let i = 0; i < n; i++) {
      z[i] = r[i] / diag[i];
      rzNew += r[i] * z[i];
    }
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) d[i] = z[i] + beta * d[i];
    it++;
  }
  const relativeResidual = rNorm / bNorm;
  return { u, info: { iterations: it, relativeResidual, converged: relativeResidual <= tol } };
}
