/**
 * The method's inpainting grid: squares of several sizes tile the slice, each grid also shifted
 * by half a square; within one grid the squares are split into 9 phases (every third square in
 * each direction) so that squares inpainted together never touch, not even diagonally, and every
 * square keeps all its neighbours as context. Squares without a brain pixel are skipped.
 *
 * Pixel coordinates: x is the column (fastest), y the row; rectangles are half-open
 * [x0, x1) x [y0, y1) and clipped to the image.
 */

export const DEFAULT_SQUARE_SIZES_PX = [8, 16, 32, 64] as const;

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface GridSquare extends Rect {
  /** Cell column and row in this grid (the half-offset grid has a clipped cell 0). */
  col: number;
  row: number;
  /** 0..8: (col mod 3) + 3 (row mod 3). */
  phase: number;
  /** Brain pixels inside the square. */
  brainPixels: number;
}

export interface Grid {
  sizePx: number;
  /** 0, or sizePx / 2 for the shifted grid. */
  offsetPx: number;
  /** Squares containing at least one brain pixel. */
  squares: GridSquare[];
  /** Squares skipped because no brain pixel lies in them. */
  skipped: number;
}

/** All squares of one phase of one grid: the unit the seed method inpaints in one chain. */
export interface PhaseMask {
  sizePx: number;
  offsetPx: number;
  phase: number;
  squares: GridSquare[];
}

export interface GridPlan {
  width: number;
  height: number;
  grids: Grid[];
  /** Non-empty phase masks, in grid order then phase order. */
  phaseMasks: PhaseMask[];
}

export interface GridOptions {
  sizesPx?: readonly number[];
  /** Also plan the half-square shifted grid of every size (default true). */
  halfOffsets?: boolean;
}

export function gridKey(sizePx: number, offsetPx: number): string {
  return `${sizePx}+${offsetPx}`;
}

/** Start coordinates of the cells along one axis: cell c covers [start(c), start(c) + size) clipped. */
function cellStarts(extent: number, size: number, offset: number): number[] {
  const first = offset > 0 ? offset - size : 0;
  const out: number[] = [];
  for (let s = first; s < extent; s += size) out.push(s);
  return out;
}

export function planGrid(brainMask: ArrayLike<number>, width: number, height: number, options: GridOptions = {}): GridPlan {
  if (brainMask.length !== width * height) throw new Error(`planGrid: mask holds ${brainMask.length} pixels for ${width}x${height}.`);
  const sizes = options.sizesPx ?? DEFAULT_SQUARE_SIZES_PX;
  const halfOffsets = options.halfOffsets ?? true;
  // Summed-area table makes every square's brain count O(1).
  const sat = new Int32Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let rowSum = 0;
    for (let x = 0; x < width; x++) {
      rowSum += brainMask[y * width + x] > 0 ? 1 : 0;
      sat[(y + 1) * (width + 1) + x + 1] = sat[y * (width + 1) + x + 1] + rowSum;
    }
  }
  const count = (r: Rect) => sat[r.y1 * (width + 1) + r.x1] - sat[r.y0 * (width + 1) + r.x1] - sat[r.y1 * (width + 1) + r.x0] + sat[r.y0 * (width + 1) + r.x0];

  const grids: Grid[] = [];
  const phaseMasks: PhaseMask[] = [];
  for (const size of sizes) {
    if (!Number.isInteger(size) || size < 2) throw new Error(`Square size ${size} px is not an integer >= 2.`);
    const offsets = halfOffsets ? [0, Math.floor(size / 2)] : [0];
    for (const offset of offsets) {
      const xs = cellStarts(width, size, offset);
      const ys = cellStarts(height, size, offset);
      const squares: GridSquare[] = [];
      let skipped = 0;
      for (let row = 0; row < ys.length; row++) {
        for (let col = 0; col < xs.length; col++) {
          const rect = { x0: Math.max(0, xs[col]), y0: Math.max(0, ys[row]), x1: Math.min(width, xs[col] + size), y1: Math.min(height, ys[row] + size) };
          const brainPixels = count(rect);
          if (brainPixels === 0) {
            skipped++;
            continue;
          }
          squares.push({ ...rect, col, row, phase: (col % 3) + 3 * (row % 3), brainPixels });
        }
      }
      grids.push({ sizePx: size, offsetPx: offset, squares, skipped });
      for (let phase = 0; phase < 9; phase++) {
        const inPhase = squares.filter((s) => s.phase === phase);
        if (inPhase.length) phaseMasks.push({ sizePx: size, offsetPx: offset, phase, squares: inPhase });
      }
    }
  }
  return { width, height, grids, phaseMasks };
}

/** 1 inside the squares, 0 elsewhere (full-image raster). */
export function rasterizeSquares(squares: readonly Rect[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (const s of squares) for (let y = s.y0; y < s.y1; y++) out.fill(1, y * width + s.x0, y * width + s.x1);
  return out;
}

/**
 * Averages per-square reconstructions into one healthy estimate: every pixel gets the mean of all
 * reconstructions that covered it; uncovered pixels keep the original image (no evidence of change).
 */
export class EstimateAccumulator {
  readonly sum: Float64Array;
  readonly count: Uint16Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.sum = new Float64Array(width * height);
    this.count = new Uint16Array(width * height);
  }

  /** Adds the values of `rect` read from `source`, a raster of `sourceWidth` whose pixel (0,0) lies at (originX, originY). */
  addRect(rect: Rect, source: ArrayLike<number>, sourceWidth: number, originX = 0, originY = 0): void {
    for (let y = rect.y0; y < rect.y1; y++) {
      const srcRow = (y - originY) * sourceWidth - originX;
      for (let x = rect.x0; x < rect.x1; x++) {
        const p = y * this.width + x;
        this.sum[p] += source[srcRow + x];
        this.count[p]++;
      }
    }
  }

  merge(other: EstimateAccumulator): void {
    for (let p = 0; p < this.sum.length; p++) {
      this.sum[p] += other.sum[p];
      this.count[p] += other.count[p];
    }
  }

  /** Mean estimate; `fallback` supplies the pixels no square covered. */
  result(fallback: ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.sum.length);
    for (let p = 0; p < out.length; p++) out[p] = this.count[p] > 0 ? this.sum[p] / this.count[p] : fallback[p];
    return out;
  }

  covered(): Uint8Array {
    const out = new Uint8Array(this.count.length);
    for (let p = 0; p < out.length; p++) out[p] = this.count[p] > 0 ? 1 : 0;
    return out;
  }
}
