/**
 * The one in-memory image type every stage of the pipeline works on.
 *
 * Axes and units (the whole code base relies on these):
 * - `data` is x-fastest: voxel (i, j, k) is at index i + j * dims[0] + k * dims[0] * dims[1].
 *   i runs along image columns, j along image rows, k across slices.
 * - Values are Hounsfield units for CT (`intensityUnit: 'HU'`); PNG stacks and non-CT images
 *   carry their own unit (see `intensityUnit`).
 * - `spacing` is [column spacing, row spacing, slice spacing] in mm.
 * - `origin` is the patient-LPS position in mm of the centre of voxel (0, 0, 0).
 * - `direction` is a 3x3 matrix stored column-major as 9 numbers: columns 0, 1, 2 are the unit
 *   LPS direction vectors of the i, j and k axes. So the LPS position of voxel (i, j, k) is
 *   origin + direction[:,0] * i * spacing[0] + direction[:,1] * j * spacing[1] + direction[:,2] * k * spacing[2].
 * - Slice order is normalised by every reader: k = 0 is the most inferior slice (the feet side)
 *   and k grows towards the vertex, i.e. the k axis has a non-negative superior (+S, LPS z)
 *   component. Readers reorder slices (and flip the k column of `direction`) to guarantee it.
 */
export type Vec3 = [number, number, number];

export type VoxelArray = Float32Array | Int16Array;

export type IntensityUnit = 'HU' | 'raw' | 'windowed';

export interface SeriesWarning {
  code: 'GANTRY_TILT' | 'UNEVEN_SPACING' | 'MISSING_SLICES' | 'MIXED_SERIES' | 'ASSUMED_GEOMETRY' | 'ASSUMED_WINDOW' | 'LOSSY_COMPRESSION' | 'NOT_CT' | 'OTHER';
  message: string;
}

/** Metadata the UI and reports need. Every field is optional: PNG and NIfTI carry little. */
export interface VolumeMeta {
  modality?: string;
  patientName?: string;
  patientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyInstanceUid?: string;
  studyDate?: string;
  studyDescription?: string;
  seriesInstanceUid?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  frameOfReferenceUid?: string;
  accessionNumber?: string;
  manufacturer?: string;
  /** The series' own display window, if it declares one. */
  windowCenter?: number;
  windowWidth?: number;
  /** SOP Instance UIDs in k order (for DICOM SEG references). */
  sopInstanceUids?: string[];
  sopClassUid?: string;
  /** Where the voxels came from, e.g. 'dicom', 'nifti', 'png', 'synthetic'. */
  source?: string;
  /** True when names, IDs and dates were stripped at import. */
  deidentified?: boolean;
  /** Ground truth of a generated case (seed, timepoint day, lesion types and volumes). */
  synthetic?: {
    seed: number;
    day: number;
    timepoint: number;
    /** label: the value of the lesion's voxels in the series' truth labels (absent in series made before it was recorded). */
    lesions: { id: string; type: string; label?: number; volumeMl: number; densityHu: number }[];
    midlineShiftMm: number;
  };
}

export interface Volume {
  data: VoxelArray;
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: number[];
  intensityUnit: IntensityUnit;
  meta: VolumeMeta;
  warnings: SeriesWarning[];
}

export const IDENTITY_DIRECTION: readonly number[] = Object.freeze([1, 0, 0, 0, 1, 0, 0, 0, 1]);

export function voxelCount(dims: Vec3): number {
  return dims[0] * dims[1] * dims[2];
}

export function sliceSize(dims: Vec3): number {
  return dims[0] * dims[1];
}

/** LPS position (mm) of the centre of voxel (i, j, k). */
export function voxelToLps(v: Pick<Volume, 'origin' | 'spacing' | 'direction'>, i: number, j: number, k: number): Vec3 {
  const { origin: o, spacing: s, direction: d } = v;
  const a = i * s[0];
  const b = j * s[1];
  const c = k * s[2];
  return [o[0] + d[0] * a + d[3] * b + d[6] * c, o[1] + d[1] * a + d[4] * b + d[7] * c, o[2] + d[2] * a + d[5] * b + d[8] * c];
}

/** Volume of one voxel in millilitres. */
export function voxelVolumeMl(spacing: Vec3): number {
  return (spacing[0] * spacing[1] * spacing[2]) / 1000;
}

/** One axial slice (k) as a Float32Array copy, x-fastest. */
export function getSlice(v: Pick<Volume, 'data' | 'dims'>, k: number): Float32Array {
  const n = v.dims[0] * v.dims[1];
  const out = new Float32Array(n);
  const src = v.data;
  const base = k * n;
  for (let p = 0; p < n; p++) out[p] = src[base + p];
  return out;
}

/** A new volume sharing geometry and metadata with `like`, holding `data`. */
export function withData(like: Volume, data: VoxelArray, intensityUnit: IntensityUnit = like.intensityUnit): Volume {
  if (data.length !== voxelCount(like.dims)) throw new Error(`withData: ${data.length} voxels for dims ${like.dims.join('x')}`);
  return { ...like, data, intensityUnit, meta: { ...like.meta }, warnings: [...like.warnings], origin: [...like.origin] as Vec3, spacing: [...like.spacing] as Vec3, dims: [...like.dims] as Vec3, direction: [...like.direction] };
}

/** True when two volumes share the same voxel grid (dims, spacing, origin, direction) within `tolMm`. */
export function sameGrid(a: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>, b: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>, tolMm = 1e-3): boolean {
  for (let t = 0; t < 3; t++) {
    if (a.dims[t] !== b.dims[t]) return false;
    if (Math.abs(a.spacing[t] - b.spacing[t]) > tolMm) return false;
    if (Math.abs(a.origin[t] - b.origin[t]) > tolMm) return false;
  }
  for (let t = 0; t < 9; t++) if (Math.abs(a.direction[t] - b.direction[t]) > 1e-4) return false;
  return true;
}

/** Minimum, maximum and mean of the voxel values. */
export function intensityStats(data: ArrayLike<number>): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let p = 0; p < data.length; p++) {
    const x = data[p];
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  return { min, max, mean: data.length ? sum / data.length : NaN };
}
