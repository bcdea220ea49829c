/**
 * Pure geometry of the slice views: which voxel axis each anatomical view slices along, how its
 * screen axes map to the patient, orientation letters, and the parallel camera of each view.
 *
 * Rendering happens in "grid world" coordinates: voxel (i, j, k) sits at (i*sx, j*sy, k*sz) mm.
 * Distances there are true millimetres (the direction cosines are orthonormal), and the views
 * stay aligned with the voxel grid, so no resampling is needed. The patient orientation (LPS)
 * enters through the direction cosines: they decide which grid axis the axial view cuts across
 * and which way is up, and they give the orientation letters and the positions in mm.
 */
import type { SliceViewId, VoxelIndex } from './types';

export type Vec3 = [number, number, number];
export type Axis = 0 | 1 | 2;
export type Sign = 1 | -1;

export interface Grid {
  dims: Vec3;
  /** mm */
  spacing: Vec3;
  /** LPS mm of voxel (0, 0, 0). */
  origin: Vec3;
  /** Column-major 3x3: column a is the LPS unit vector of grid axis a. */
  direction: readonly number[];
}

/** For each patient axis (0 = x towards Left, 1 = y towards Posterior, 2 = z towards Superior): the grid axis closest to it and whether it points the same way. */
export interface AnatomicalAxes {
  gridAxisOf: [Axis, Axis, Axis];
  signOf: [Sign, Sign, Sign];
}

const PERMUTATIONS: [Axis, Axis, Axis][] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/** Component `patientAxis` of grid axis `gridAxis`'s direction. */
function cosine(direction: readonly number[], gridAxis: Axis, patientAxis: number): number {
  return direction[gridAxis * 3 + patientAxis];
}

/**
 * Assigns grid axes to patient axes as a whole (the permutation with the largest total
 * alignment), so a tilted or oblique acquisition still gets three distinct views.
 */
export function anatomicalAxes(direction: readonly number[]): AnatomicalAxes {
  let best = PERMUTATIONS[0];
  let bestScore = -Infinity;
  for (const perm of PERMUTATIONS) {
    const score = Math.abs(cosine(direction, perm[0], 0)) + Math.abs(cosine(direction, perm[1], 1)) + Math.abs(cosine(direction, perm[2], 2));
    if (score > bestScore + 1e-9) {
      bestScore = score;
      best = perm;
    }
  }
  const signOf = best.map((g, p) => (cosine(direction, g, p) < 0 ? -1 : 1)) as [Sign, Sign, Sign];
  return { gridAxisOf: [...best], signOf };
}

/** A slice view's axes in the grid: the axis it slices across and the grid directions of screen right and screen up. */
export interface ViewAxes {
  normal: Axis;
  right: Axis;
  rightSign: Sign;
  up: Axis;
  upSign: Sign;
}

/**
 * Radiological conventions: axial seen from the feet (patient's left on screen right, anterior
 * up); coronal seen from the front (left on the right, superior up); sagittal seen from the
 * patient's left (anterior on screen left, superior up).
 */
export function viewAxes(view: SliceViewId, anat: AnatomicalAxes): ViewAxes {
  const { gridAxisOf: g, signOf: s } = anat;
  switch (view) {
    case 'axial':
      return { normal: g[2], right: g[0], rightSign: s[0], up: g[1], upSign: (-s[1]) as Sign };
    case 'coronal':
      return { normal: g[1], right: g[0], rightSign: s[0], up: g[2], upSign: s[2] };
    case 'sagittal':
      return { normal: g[0], right: g[1], rightSign: s[1], up: g[2], upSign: s[2] };
  }
}

/** The patient axis (0 x, 1 y, 2 z) a view's slice position is measured along. */
export const PATIENT_AXIS_OF_VIEW: Readonly<Record<SliceViewId, 0 | 1 | 2>> = { axial: 2, coronal: 1, sagittal: 0 };

export function voxelAxisValue(v: VoxelIndex, axis: Axis): number {
  return axis === 0 ? v.i : axis === 1 ? v.j : v.k;
}

export function withVoxelAxis(v: VoxelIndex, axis: Axis, value: number): VoxelIndex {
  return axis === 0 ? { ...v, i: value } : axis === 1 ? { ...v, j: value } : { ...v, k: value };
}

export function clampVoxel(v: VoxelIndex, dims: Vec3): VoxelIndex {
  const c = (x: number, n: number) => Math.min(n - 1, Math.max(0, Math.round(x)));
  return { i: c(v.i, dims[0]), j: c(v.j, dims[1]), k: c(v.k, dims[2]) };
}

export function centreVoxel(dims: Vec3): VoxelIndex {
  return { i: Math.floor(dims[0] / 2), j: Math.floor(dims[1] / 2), k: Math.floor(dims[2] / 2) };
}

export function sameVoxel(a: VoxelIndex, b: VoxelIndex): boolean {
  return a.i === b.i && a.j === b.j && a.k === b.k;
}

export function voxelOffset(v: VoxelIndex, dims: Vec3): number {
  return v.i + dims[0] * (v.j + dims[1] * v.k);
}

/** LPS position (mm) of a voxel centre; fractional indices allowed. */
export function voxelToLps(grid: Grid, i: number, j: number, k: number): Vec3 {
  const { origin: o, spacing: s, direction: d } = grid;
  const a = i * s[0];
  const b = j * s[1];
  const c = k * s[2];
  return [o[0] + d[0] * a + d[3] * b + d[6] * c, o[1] + d[1] * a + d[4] * b + d[7] * c, o[2] + d[2] * a + d[5] * b + d[8] * c];
}

export function voxelToWorld(grid: Pick<Grid, 'spacing'>, v: VoxelIndex): Vec3 {
  return [v.i * grid.spacing[0], v.j * grid.spacing[1], v.k * grid.spacing[2]];
}

/** Nearest voxel to a grid-world point, or null outside the volume. */
export function worldToVoxel(grid: Pick<Grid, 'spacing' | 'dims'>, p: Vec3): VoxelIndex | null {
  const i = Math.round(p[0] / grid.spacing[0]);
  const j = Math.round(p[1] / grid.spacing[1]);
  const k = Math.round(p[2] / grid.spacing[2]);
  const [nx, ny, nz] = grid.dims;
  if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) return null;
  return { i, j, k };
}

const LETTERS: [negative: string, positive: string][] = [
  ['R', 'L'],
  ['A', 'P'],
  ['I', 'S'],
];

/** Orientation letters of an LPS direction, strongest first ("L", or "LA" for an oblique one). */
export function orientationLetters(lps: readonly number[]): string {
  const parts = [0, 1, 2]
    .map((a) => ({ a, c: lps[a] }))
    .filter((x) => Math.abs(x.c) > 0.25)
    .sort((x, y) => Math.abs(y.c) - Math.abs(x.c));
  return parts.map(({ a, c }) => LETTERS[a][c > 0 ? 1 : 0]).join('');
}

function gridAxisLps(direction: readonly number[], axis: Axis, sign: Sign): Vec3 {
  return [sign * direction[axis * 3], sign * direction[axis * 3 + 1], sign * direction[axis * 3 + 2]];
}

export interface EdgeLabels {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

export function edgeLabels(axes: ViewAxes, direction: readonly number[]): EdgeLabels {
  const r = gridAxisLps(direction, axes.right, axes.rightSign);
  const u = gridAxisLps(direction, axes.up, axes.upSign);
  const neg = (v: Vec3): Vec3 => [-v[0], -v[1], -v[2]];
  return { right: orientationLetters(r), left: orientationLetters(neg(r)), top: orientationLetters(u), bottom: orientationLetters(neg(u)) };
}

/** "S 45.0 mm": the crosshair's patient coordinate along the view's axis, with its direction letter. */
export function slicePositionText(view: SliceViewId, lps: Vec3): string {
  const a = PATIENT_AXIS_OF_VIEW[view];
  const v = lps[a];
  return `${LETTERS[a][v >= 0 ? 1 : 0]} ${Math.abs(v).toFixed(1)} mm`;
}

/** Zoom and pan of one slice view: zoom 1 fits the slice; pan in mm along screen right and up. */
export interface ViewCamera {
  zoom: number;
  panMm: [number, number];
}

export const FIT_CAMERA: Readonly<ViewCamera> = Object.freeze({ zoom: 1, panMm: [0, 0] as [number, number] });

function unit(axis: Axis, sign: Sign): Vec3 {
  const v: Vec3 = [0, 0, 0];
  v[axis] = sign;
  return v;
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/** Everything needed to place the vtk camera and to map screen pixels (CSS, y down) to grid-world mm and back. */
export interface ViewTransform {
  axes: ViewAxes;
  focal: Vec3;
  right: Vec3;
  up: Vec3;
  /** Unit vector from the focal point towards the camera. */
  towardViewer: Vec3;
  /** Half the viewport height in mm (vtk's parallel scale). */
  parallelScale: number;
  pxPerMm: number;
  width: number;
  height: number;
}

/** Centre of the volume in grid-world mm. */
function volumeCentre(grid: Pick<Grid, 'dims' | 'spacing'>): Vec3 {
  return [((grid.dims[0] - 1) * grid.spacing[0]) / 2, ((grid.dims[1] - 1) * grid.spacing[1]) / 2, ((grid.dims[2] - 1) * grid.spacing[2]) / 2];
}

export function viewTransform(grid: Pick<Grid, 'dims' | 'spacing'>, axes: ViewAxes, slice: number, camera: ViewCamera, width: number, height: number): ViewTransform {
  const w = Math.max(1, width);
  const h = Math.max(1, height);
  const right = unit(axes.right, axes.rightSign);
  const up = unit(axes.up, axes.upSign);
  const towardViewer = cross(right, up);
  const extentRight = grid.dims[axes.right] * grid.spacing[axes.right];
  const extentUp = grid.dims[axes.up] * grid.spacing[axes.up];
  const fitScale = Math.max(extentUp / 2, (extentRight / 2) * (h / w)) * 1.04;
  const parallelScale = fitScale / camera.zoom;
  const focal = volumeCentre(grid);
  for (let a = 0; a < 3; a++) focal[a] += camera.panMm[0] * right[a] + camera.panMm[1] * up[a];
  focal[axes.normal] = slice * grid.spacing[axes.normal];
  return { axes, focal, right, up, towardViewer, parallelScale, pxPerMm: h / 2 / parallelScale, width: w, height: h };
}

export function worldToScreen(t: ViewTransform, p: Vec3): [x: number, y: number] {
  const d: Vec3 = [p[0] - t.focal[0], p[1] - t.focal[1], p[2] - t.focal[2]];
  return [t.width / 2 + dot(d, t.right) * t.pxPerMm, t.height / 2 - dot(d, t.up) * t.pxPerMm];
}

/** The grid-world point on the view's slice plane under a screen pixel. */
export function screenToWorld(t: ViewTransform, x: number, y: number): Vec3 {
  const a = (x - t.width / 2) / t.pxPerMm;
  const b = (t.height / 2 - y) / t.pxPerMm;
  return [t.focal[0] + a * t.right[0] + b * t.up[0], t.focal[1] + a * t.right[1] + b * t.up[1], t.focal[2] + a * t.right[2] + b * t.up[2]];
}

/** Zoom by `factor` keeping the point under the screen pixel (x, y) where it is. */
export function zoomAt(grid: Pick<Grid, 'dims' | 'spacing'>, t: ViewTransform, camera: ViewCamera, factor: number, x: number, y: number): ViewCamera {
  const zoom = Math.min(40, Math.max(0.25, camera.zoom * factor));
  const real = zoom / camera.zoom;
  const anchor = screenToWorld(t, x, y);
  const pxPerMm = t.pxPerMm * real;
  const centre = volumeCentre(grid);
  const focalRight = dot(anchor, t.right) - (x - t.width / 2) / pxPerMm;
  const focalUp = dot(anchor, t.up) - (t.height / 2 - y) / pxPerMm;
  return { zoom, panMm: [focalRight - dot(centre, t.right), focalUp - dot(centre, t.up)] };
}

/** Pan so that a grid-world point is in the middle of the view. */
export function centreOn(grid: Pick<Grid, 'dims' | 'spacing'>, axes: ViewAxes, p: Vec3, zoom: number): ViewCamera {
  const right = unit(axes.right, axes.rightSign);
  const up = unit(axes.up, axes.upSign);
  const centre = volumeCentre(grid);
  const d: Vec3 = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
  return { zoom, panMm: [dot(d, right), dot(d, up)] };
}

export function distanceMm(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
