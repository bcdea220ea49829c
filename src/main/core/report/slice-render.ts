/**
 * Key-slice images for reports, in pure TypeScript: an axial CT slice at a window, resampled to a
 * region and size, with lesion outlines and an anomaly-score heat overlay, encoded as RGB PNG.
 *
 * Slices are shown in the radiological convention whatever the stored voxel order: the patient's
 * right on the viewer's left, anterior at the top (`axialView` finds which voxel axis points where).
 */
import { encode as encodePng } from 'fast-png';
import type { Volume } from '../volume';

export type Rgb = readonly [number, number, number];

export interface AxialView {
  /** Display size in voxels (columns, rows). */
  width: number;
  height: number;
  /** mm per display column / row. */
  spacingX: number;
  spacingY: number;
  /** Continuous voxel (i, j) of display position (x, y); integers are voxel centres. */
  toVoxel(x: number, y: number): [number, number];
  /** Display position of voxel (i, j). */
  toDisplay(i: number, j: number): [number, number];
  /** Patient directions at the image edges, e.g. R / L / A / P. */
  letters: { left: string; right: string; top: string; bottom: string };
}

function directionLetter(v: readonly number[]): string {
  const axis = [0, 1, 2].reduce((best, a) => (Math.abs(v[a]) > Math.abs(v[best]) ? a : best), 0);
  return ['LR', 'PA', 'SI'][axis][v[axis] >= 0 ? 0 : 1];
}

export function axialView(grid: Pick<Volume, 'dims' | 'spacing' | 'direction'>): AxialView {
  const d = grid.direction;
  const axisVec = (a: 0 | 1) => [d[3 * a], d[3 * a + 1], d[3 * a + 2]];
  // Display columns run along whichever in-plane axis is closer to patient left.
  const colAxis: 0 | 1 = Math.abs(d[0]) >= Math.abs(d[3]) ? 0 : 1;
  const rowAxis: 0 | 1 = colAxis === 0 ? 1 : 0;
  const colFlip = axisVec(colAxis)[0] < 0;
  const rowFlip = axisVec(rowAxis)[1] < 0;
  const n = grid.dims;
  const right = axisVec(colAxis).map((c) => (colFlip ? -c : c));
  const down = axisVec(rowAxis).map((c) => (rowFlip ? -c : c));
  return {
    width: n[colAxis],
    height: n[rowAxis],
    spacingX: grid.spacing[colAxis],
    spacingY: grid.spacing[rowAxis],
    toVoxel(x, y) {
      const c = colFlip ? n[colAxis] - 1 - x : x;
      const r = rowFlip ? n[rowAxis] - 1 - y : y;
      return colAxis === 0 ? [c, r] : [r, c];
    },
    toDisplay(i, j) {
      const c = colAxis === 0 ? i : j;
      const r = colAxis === 0 ? j : i;
      return [colFlip ? n[colAxis] - 1 - c : c, rowFlip ? n[rowAxis] - 1 - r : r];
    },
    letters: { right: directionLetter(right), left: directionLetter(right.map((c) => -c)), bottom: directionLetter(down), top: directionLetter(down.map((c) => -c)) },
  };
}

export interface Region {
  /** Display coordinates (voxels) of the region's top-left edge, and its size. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SliceRenderRequest {
  hu: ArrayLike<number>;
  dims: Volume['dims'];
  view: AxialView;
  k: number;
  window: { centerHu: number; widthHu: number };
  region: Region;
  outWidth: number;
  outHeight: number;
  labels?: ArrayLike<number> | null;
  /** Outline of `label` in `rgb` (thickness in output pixels); other labels in `othersRgb` if given. */
  outline?: { label: number; rgb: Rgb; thicknessPx: number; othersRgb?: Rgb | null } | null;
  /** Score overlay: transparent at `lo`, `maxAlpha` at and above `hi`. */
  heat?: { score: ArrayLike<number>; lo: number; hi: number; maxAlpha: number } | null;
}

/** Heat colours from dark red through orange to pale yellow. */
const HEAT_STOPS: readonly Rgb[] = [
  [180, 20, 30],
  [240, 90, 30],
  [253, 174, 60],
  [255, 245, 150],
];

export function heatColour(t: number): Rgb {
  const x = Math.max(0, Math.min(1, t)) * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = HEAT_STOPS[i];
  const b = HEAT_STOPS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** One slice as Float32 (keeps the sampler monomorphic whatever the volume's array type). */
function planeOf(values: ArrayLike<number>, base: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = values[base + p];
  return out;
}

/** Bilinear sample of a slice at continuous voxel (fi, fj); edge voxels extend half a voxel, `outside` beyond. */
function bilinear(values: Float32Array, nx: number, ny: number, fi: number, fj: number, outside: number): number {
  if (fi < -0.5 || fj < -0.5 || fi > nx - 0.5 || fj > ny - 0.5) return outside;
  const ci = fi < 0 ? 0 : fi > nx - 1 ? nx - 1 : fi;
  const cj = fj < 0 ? 0 : fj > ny - 1 ? ny - 1 : fj;
  const i0 = Math.min(nx - 2, Math.floor(ci));
  const j0 = Math.min(ny - 2, Math.floor(cj));
  if (i0 < 0 || j0 < 0) return values[Math.round(ci) + Math.round(cj) * nx];
  const ti = ci - i0;
  const tj = cj - j0;
  const p = i0 + j0 * nx;
  const top = values[p] * (1 - ti) + values[p + 1] * ti;
  const bottom = values[p + nx] * (1 - ti) + values[p + nx + 1] * ti;
  return top * (1 - tj) + bottom * tj;
}

/** Renders the request to RGB bytes (row-major, 3 per pixel). */
export function renderSliceRgb(req: SliceRenderRequest): Uint8Array {
  const { dims, view, k, region, outWidth: W, outHeight: H } = req;
  const [nx, ny] = dims;
  const hu = planeOf(req.hu, k * nx * ny, nx * ny);
  const score = req.heat ? planeOf(req.heat.score, k * nx * ny, nx * ny) : null;
  const lowHu = req.window.centerHu - req.window.widthHu / 2;
  const grey = 255 / req.window.widthHu;
  const rgb = new Uint8Array(W * H * 3);
  const labels = req.labels ?? null;
  const lab = labels ? new Int32Array(W * H) : null;
  const sx = region.width / W;
  const sy = region.height / H;
  // Display -> voxel is affine: voxel = origin + x * dx + y * dy.
  const [oi, oj] = view.toVoxel(0, 0);
  const [xi, xj] = view.toVoxel(1, 0);
  const [yi, yj] = view.toVoxel(0, 1);
  const dxi = xi - oi;
  const dxj = xj - oj;
  const dyi = yi - oi;
  const dyj = yj - oj;
  const heat = req.heat ?? null;
  const heatSpan = heat ? Math.max(1e-9, heat.hi - heat.lo) : 1;
  for (let v = 0; v < H; v++) {
    const dy = region.y + (v + 0.5) * sy - 0.5;
    for (let u = 0; u < W; u++) {
      const dx = region.x + (u + 0.5) * sx - 0.5;
      const fi = oi + dx * dxi + dy * dyi;
      const fj = oj + dx * dxj + dy * dyj;
      let g = (bilinear(hu, nx, ny, fi, fj, -1000) - lowHu) * grey;
      g = g < 0 ? 0 : g > 255 ? 255 : g;
      let r = g;
      let gg = g;
      let b = g;
      if (heat) {
        const t = (bilinear(score!, nx, ny, fi, fj, 0) - heat.lo) / heatSpan;
        if (t > 0) {
          // Opacity rises faster than colour so that lesions just above the threshold still show.
          const a = heat.maxAlpha * Math.min(1, 1.6 * t) ** 0.6;
          const c = heatColour(t);
          r = r * (1 - a) + c[0] * a;
          gg = gg * (1 - a) + c[1] * a;
          b = b * (1 - a) + c[2] * a;
        }
      }
      const o = 3 * (u + v * W);
      rgb[o] = Math.round(r);
      rgb[o + 1] = Math.round(gg);
      rgb[o + 2] = Math.round(b);
      if (lab && labels) {
        const ni = Math.round(fi);
        const nj = Math.round(fj);
        lab[u + v * W] = ni < 0 || nj < 0 || ni >= nx || nj >= ny ? 0 : labels[k * nx * ny + ni + nj * nx];
      }
    }
  }
  if (lab && req.outline) drawOutlines(rgb, lab, W, H, req.outline);
  return rgb;
}

/** Paints the inner border of each labelled region: pixels with a differently labelled pixel within `thicknessPx`. */
function drawOutlines(rgb: Uint8Array, lab: Int32Array, W: number, H: number, o: NonNullable<SliceRenderRequest['outline']>): void {
  const paint = (target: (l: number) => boolean, colour: Rgb, t: number) => {
    for (let v = 0; v < H; v++) {
      for (let u = 0; u < W; u++) {
        const l = lab[u + v * W];
        if (!l || !target(l)) continue;
        let edge = false;
        for (let dv = -t; dv <= t && !edge; dv++) {
          for (let du = -t; du <= t; du++) {
            const uu = u + du;
            const vv = v + dv;
            if (uu < 0 || vv < 0 || uu >= W || vv >= H || lab[uu + vv * W] !== l) {
              edge = true;
              break;
            }
          }
        }
        if (edge) {
          const p = 3 * (u + v * W);
          rgb[p] = colour[0];
          rgb[p + 1] = colour[1];
          rgb[p + 2] = colour[2];
        }
      }
    }
  };
  if (o.othersRgb) paint((l) => l !== o.label, o.othersRgb, Math.max(1, Math.round(o.thicknessPx / 2)));
  paint((l) => l === o.label, o.rgb, o.thicknessPx);
}

export function renderSlicePng(req: SliceRenderRequest): Uint8Array {
  return encodePng({ width: req.outWidth, height: req.outHeight, data: renderSliceRgb(req), channels: 3, depth: 8 });
}

/** Display-space bounding box of the voxels of slice k above `minHu` (the head), or null. */
export function headRegion(hu: ArrayLike<number>, dims: Volume['dims'], view: AxialView, k: number, minHu = -300): Region | null {
  const [nx, ny] = dims;
  const base = k * nx * ny;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (!(hu[base + i + j * nx] > minHu)) continue;
      const [x, y] = view.toDisplay(i, j);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x0 === Infinity ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/**
 * A region with the physical aspect `aspect` (width / height in mm) that contains `inner` plus a
 * margin, kept inside the image when it fits (shifted rather than shrunk).
 */
export function squareAround(inner: Region, view: AxialView, opts: { marginMm: number; minSideMm: number; aspect?: number }): Region {
  const aspect = opts.aspect ?? 1;
  const cx = inner.x + inner.width / 2;
  const cy = inner.y + inner.height / 2;
  let wMm = Math.max(inner.width * view.spacingX + 2 * opts.marginMm, opts.minSideMm);
  let hMm = Math.max(inner.height * view.spacingY + 2 * opts.marginMm, opts.minSideMm);
  if (wMm / hMm > aspect) hMm = wMm / aspect;
  else wMm = hMm * aspect;
  const w = wMm / view.spacingX;
  const h = hMm / view.spacingY;
  const place = (c: number, size: number, limit: number) => (size >= limit ? c - size / 2 : Math.max(0, Math.min(limit - size, c - size / 2)));
  return { x: place(cx, w, view.width), y: place(cy, h, view.height), width: w, height: h };
}
