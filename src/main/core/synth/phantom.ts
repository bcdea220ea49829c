/**
 * Healthy synthetic head CT: the subject drawn from the seed, rendered on an axial grid with
 * partial volume and correlated noise, with its ground truth (tissue labels, and the brain
 * mask = the cranial cavity: brain, CSF and ventricles, what brain extraction should return).
 */
import { AppError } from '../../../shared/errors';
import { throwIfAborted, type TaskOptions } from '../progress';
import { IDENTITY_DIRECTION, type Vec3, type Volume } from '../volume';
import { drawSubject, TEMPLATE, type SubjectParams } from './anatomy';
import { NoiseBank, sliceNoiseSeed } from './noise';
import type { Cranium } from './cranium';
import { PhantomRenderer, type ContentPainter, type PhantomGrid, type Warp } from './raster';

export const DEFAULT_MATRIX = 512;
export const DEFAULT_FOV_MM = 230.4;
export const DEFAULT_SLICE_MM = 5;
export const DEFAULT_SLICES = 36;

export interface PhantomOptions extends TaskOptions {
  seed: number;
  /** In-plane matrix [columns, rows] (a third entry is read as the slice count). Default 512 x 512. */
  dims?: readonly number[];
  /** Slice count (default 36); overrides dims[2]. */
  slices?: number;
  /** [column, row] pixel spacing in mm, optionally [.., .., slice spacing]. Default: 230.4 mm field of view. */
  spacing?: readonly number[];
  /** Slice thickness = spacing (mm); overrides spacing[2]. Default 5. */
  sliceThicknessMm?: number;
  /** false: no acquisition noise (ground-truth intensities). */
  noise?: boolean;
  /** Acquisition index: independent noise per timepoint of the same subject. Default 0. */
  acquisition?: number;
}

export interface PhantomGeometry {
  grid: PhantomGrid;
  /** z (template mm) of the lowest and highest slice centres. */
  coverageTemplateZ: [number, number];
}

export interface Phantom {
  volume: Volume;
  /** 1 inside the cranial cavity (brain + CSF + ventricles), x-fastest like volume.data. */
  brainMask: Uint8Array;
  /** Tissue label per voxel, see TISSUE in labels.ts. */
  labels: Uint8Array;
  params: SubjectParams & { geometry: PhantomGeometry; noise: boolean; acquisition: number };
}

/** Checks the options and places the slice stack: the whole head when it fits, else centred on the brain. */
export function phantomGeometry(subject: SubjectParams, opts: Omit<PhantomOptions, 'seed'>): PhantomGeometry {
  const nx = opts.dims?.[0] ?? DEFAULT_MATRIX;
  const ny = opts.dims?.[1] ?? nx;
  const nz = opts.slices ?? opts.dims?.[2] ?? DEFAULT_SLICES;
  for (const [name, v, lo, hi] of [
    ['columns', nx, 16, 2048],
    ['rows', ny, 16, 2048],
    ['slices', nz, 1, 1000],
  ] as const) {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new AppError('BAD_REQUEST', `The number of ${name} must be a whole number from ${lo} to ${hi}; got ${v}.`);
  }
  const px = opts.spacing?.[0] ?? DEFAULT_FOV_MM / nx;
  const py = opts.spacing?.[1] ?? (opts.spacing?.[0] !== undefined ? px : DEFAULT_FOV_MM / ny);
  const pz = opts.sliceThicknessMm ?? opts.spacing?.[2] ?? DEFAULT_SLICE_MM;
  for (const [name, v, lo, hi] of [
    ['pixel spacing', px, 0.1, 5],
    ['pixel spacing', py, 0.1, 5],
    ['slice thickness', pz, 0.5, 20],
  ] as const) {
    if (!(Number.isFinite(v) && v >= lo && v <= hi)) throw new AppError('BAD_REQUEST', `The ${name} must be between ${lo} and ${hi} mm; got ${v}.`);
  }
  if (nx * px < 160 || ny * py < 160) throw new AppError('BAD_REQUEST', `The field of view (${(nx * px).toFixed(0)} x ${(ny * py).toFixed(0)} mm) is too small for a head; it must be at least 160 mm.`);
  const sz = subject.scale[2];
  // Highest slice: through the top of the skull (cavity vertex + a few mm).
  const C = TEMPLATE.cranium;
  const vertexTop = (C.cz + C.rzUp + 3) * sz;
  const span = (nz - 1) * pz;
  let top: number;
  if (span >= 150) top = vertexTop;
  else top = Math.min(vertexTop, 52 * sz + 0.5 * span);
  const bottom = top - span;
  const grid: PhantomGrid = {
    dims: [nx, ny, nz],
    spacing: [px, py, pz],
    origin: [-0.5 * (nx - 1) * px, -0.5 * (ny - 1) * py + 6, bottom],
  };
  return { grid, coverageTemplateZ: [bottom / sz, top / sz] };
}

/** Renders a subject (optionally deformed, with lesion painters) into a volume. Shared by phantom and lesion generation. */
export function renderSubject(
  subject: SubjectParams,
  geometry: PhantomGeometry,
  opts: TaskOptions & { noise?: boolean; acquisition?: number; warp?: Warp; painters?: readonly ContentPainter[]; stage?: string; cranium?: Cranium },
): { hu: Float32Array; labels: Uint8Array; brainMask: Uint8Array; renderer: PhantomRenderer } {
  const { grid } = geometry;
  const [nx, ny, nz] = grid.dims;
  const n = nx * ny;
  const hu = new Float32Array(n * nz);
  const labels = new Uint8Array(n * nz);
  const brainMask = new Uint8Array(n * nz);
  const renderer = new PhantomRenderer(subject, grid, opts.warp, opts.cranium);
  const noise = opts.noise !== false;
  const bank = noise ? new NoiseBank(nx, ny, grid.spacing[0], subject.noiseGrainMm, subject.seed) : undefined;
  const stage = opts.stage ?? 'Generating phantom';
  for (let k = 0; k < nz; k++) {
    throwIfAborted(opts.signal);
    renderer.renderSlice(k, hu, labels, brainMask, k * n, opts.painters ?? []);
    const slice = hu.subarray(k * n, (k + 1) * n);
    bank?.add(slice, subject.noiseSdHu, sliceNoiseSeed(subject.seed, opts.acquisition ?? 0, k));
    for (let p = 0; p < n; p++) {
      const v = slice[p];
      slice[p] = v < -1024 ? -1024 : v > 3071 ? 3071 : v;
    }
    opts.onProgress?.({ stage, done: k + 1, total: nz });
  }
  return { hu, labels, brainMask, renderer };
}

export function phantomVolume(hu: Float32Array, geometry: PhantomGeometry, meta: Volume['meta'] = {}): Volume {
  const g = geometry.grid;
  return {
    data: hu,
    dims: [...g.dims] as Vec3,
    spacing: [...g.spacing] as Vec3,
    origin: [...g.origin] as Vec3,
    direction: [...IDENTITY_DIRECTION],
    intensityUnit: 'HU',
    meta: { modality: 'CT', source: 'synthetic', windowCenter: 40, windowWidth: 80, ...meta },
    warnings: [],
  };
}

/** A healthy synthetic head CT for a seed (deterministic: same seed and options, same voxels). */
export function generatePhantom(opts: PhantomOptions): Phantom {
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) throw new AppError('BAD_REQUEST', `The seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}; got ${opts.seed}.`);
  const subject = drawSubject(opts.seed);
  const geometry = phantomGeometry(subject, opts);
  const noise = opts.noise !== false;
  const acquisition = opts.acquisition ?? 0;
  const { hu, labels, brainMask } = renderSubject(subject, geometry, { ...opts, noise, acquisition });
  return {
    volume: phantomVolume(hu, geometry, { seriesDescription: `Synthetic head CT, seed ${opts.seed}` }),
    brainMask,
    labels,
    params: { ...subject, geometry, noise, acquisition },
  };
}
