import { describe, expect, it } from 'vitest';
import { EstimateAccumulator, planGrid, rasterizeSquares } from '../../../src/main/core/inpaint/grid';

const W = 256;
const H = 256;

function brainLikeMask(): Uint8Array {
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (((x - 120) / 82) ** 2 + ((y - 131) / 101) ** 2 <= 1) m[y * W + x] = 1;
  // Stray islands, one in a corner and one on the image border.
  m[3 * W + 3] = 1;
  for (let y = 250; y < 256; y++) m[y * W + 255] = 1;
  return m;
}

describe('grid planner', () => {
  const mask = brainLikeMask();
  const plan = planGrid(mask, W, H);

  it('plans 4 sizes x 2 offsets', () => {
    expect(plan.grids.map((g) => `${g.sizePx}+${g.offsetPx}`)).toEqual(['8+0', '8+4', '16+0', '16+8', '32+0', '32+16', '64+0', '64+32']);
  });

  it('covers every brain pixel in every grid, with each pixel in exactly one square of a grid', () => {
    for (const g of plan.grids) {
      const count = new Uint8Array(W * H);
      for (const s of g.squares) for (let y = s.y0; y < s.y1; y++) for (let x = s.x0; x < s.x1; x++) count[y * W + x]++;
      let overlapped = 0;
      let uncoveredBrain = 0;
      for (let p = 0; p < W * H; p++) {
        if (count[p] > 1) overlapped++;
        if (mask[p] && count[p] !== 1) uncoveredBrain++;
      }
      expect(overlapped).toBe(0);
      expect(uncoveredBrain).toBe(0);
      // Kept + skipped = every cell of the tiling.
      const cells = g.offsetPx ? (W / g.sizePx + 1) ** 2 : (W / g.sizePx) ** 2;
      expect(g.squares.length + g.skipped).toBe(cells);
      expect(g.skipped).toBeGreaterThan(0);
      for (const s of g.squares) expect(s.brainPixels).toBeGreaterThan(0);
    }
  });

  it('never inpaints two touching squares (incl. diagonal) in the same phase', () => {
    for (const g of plan.grids) {
      let smallestGap = Infinity;
      for (let phase = 0; phase < 9; phase++) {
        const sq = g.squares.filter((s) => s.phase === phase);
        for (let i = 0; i < sq.length; i++)
          for (let j = i + 1; j < sq.length; j++) {
            const gapX = Math.max(sq[j].x0 - sq[i].x1, sq[i].x0 - sq[j].x1);
            const gapY = Math.max(sq[j].y0 - sq[i].y1, sq[i].y0 - sq[j].y1);
            smallestGap = Math.min(smallestGap, Math.max(gapX, gapY));
          }
      }
      // At least two squares' width of known context between any two along some axis.
      expect(smallestGap).toBeGreaterThanOrEqual(2 * g.sizePx);
    }
  });

  it('phase masks partition each grid and half-offset squares sit half a square off', () => {
    const m = plan.phaseMasks.filter((p) => p.sizePx === 16 && p.offsetPx === 8);
    expect(m.reduce((s, p) => s + p.squares.length, 0)).toBe(plan.grids[3].squares.length);
    expect(m.length).toBe(9);
    for (const p of m) for (const s of p.squares) expect((s.x1 - 8) % 16 === 0 || s.x1 === W).toBe(true);
  });

  it('skips everything on an empty mask', () => {
    const empty = planGrid(new Uint8Array(64 * 64), 64, 64, { sizesPx: [8, 16] });
    expect(empty.phaseMasks.length).toBe(0);
    expect(empty.grids.every((g) => g.squares.length === 0)).toBe(true);
  });
});

describe('fusion', () => {
  it('averages every reconstruction that covered a pixel and keeps the image elsewhere', () => {
    const acc = new EstimateAccumulator(4, 4);
    const a = new Float32Array(16).fill(2);
    const b = new Float32Array(16).fill(4);
    acc.addRect({ x0: 0, y0: 0, x1: 2, y1: 2 }, a, 4);
    acc.addRect({ x0: 1, y0: 1, x1: 3, y1: 3 }, b, 4);
    const image = new Float32Array(16).fill(-1);
    const out = acc.result(image);
    expect(out[0]).toBe(2);
    expect(out[1 * 4 + 1]).toBe(3);
    expect(out[2 * 4 + 2]).toBe(4);
    expect(out[3 * 4 + 3]).toBe(-1);
    expect(Array.from(acc.covered())).toEqual(Array.from(rasterizeSquares([{ x0: 0, y0: 0, x1: 2, y1: 2 }, { x0: 1, y0: 1, x1: 3, y1: 3 }], 4, 4)));
    // Crop-local sources are read at their offset.
    const acc2 = new EstimateAccumulator(8, 8);
    const crop = new Float32Array(9).map((_, i) => i);
    acc2.addRect({ x0: 5, y0: 5, x1: 6, y1: 6 }, crop, 3, 4, 4);
    expect(acc2.result(new Float32Array(64))[5 * 8 + 5]).toBe(4);
  });
});
