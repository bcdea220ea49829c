/**
 * Contact sheets of generated slices (brain window by default) as PNG bytes: for the CLI's
 * --preview, the documentation screenshots and a quick look at a case without a viewer.
 */
import { encode } from 'fast-png';
import type { Volume } from '../volume';

export interface PreviewTile {
  volume: Volume;
  k: number;
  /** Optional mask drawn as a red outline. */
  mask?: Uint8Array;
  caption?: string;
}

export interface PreviewOptions {
  windowCenter?: number;
  windowWidth?: number;
  /** Tile edge in pixels (the slice is area-resampled to it). Default 256. */
  tileSize?: number;
  columns?: number;
  /** Crop the tile to the central fraction of the field of view (1 = whole slice). Default 0.9. */
  crop?: number;
}

/** Renders tiles into one RGB PNG. */
export function renderContactSheet(tiles: PreviewTile[], opts: PreviewOptions = {}): Uint8Array {
  const size = opts.tileSize ?? 256;
  const cols = Math.min(opts.columns ?? 4, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const width = cols * size;
  const height = rows * size;
  const rgb = new Uint8Array(width * height * 3);
  const c = opts.windowCenter ?? 40;
  const w = opts.windowWidth ?? 80;
  const crop = opts.crop ?? 0.9;
  tiles.forEach((tile, t) => {
    const ox = (t % cols) * size;
    const oy = Math.floor(t / cols) * size;
    const [nx, ny] = tile.volume.dims;
    const base = tile.k * nx * ny;
    const fov = Math.min(nx, ny) * crop;
    const x0 = (nx - fov) / 2;
    const y0 = (ny - fov) / 2;
    const step = fov / size;
    const gray = new Float32Array(size * size);
    const mask = tile.mask ? new Float32Array(size * size) : undefined;
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        // Box average over the source pixels that fall into this tile pixel.
        const sx0 = x0 + u * step;
        const sy0 = y0 + v * step;
        let acc = 0;
        let macc = 0;
        let cnt = 0;
        for (let sy = Math.floor(sy0); sy < Math.max(Math.floor(sy0) + 1, Math.ceil(sy0 + step)); sy++) {
          for (let sx = Math.floor(sx0); sx < Math.max(Math.floor(sx0) + 1, Math.ceil(sx0 + step)); sx++) {
            if (sx < 0 || sy < 0 || sx >= nx || sy >= ny) continue;
            const p = base + sx + sy * nx;
            acc += tile.volume.data[p];
            if (tile.mask) macc += tile.mask[p] ? 1 : 0;
            cnt++;
          }
        }
        gray[u + v * size] = cnt ? acc / cnt : -1000;
        if (mask) mask[u + v * size] = cnt ? macc / cnt : 0;
      }
    }
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const g = Math.round(Math.max(0, Math.min(1, (gray[u + v * size] - (c - w / 2)) / w)) * 255);
        let r = g;
        let gg = g;
        let b = g;
        if (mask) {
          const m = mask[u + v * size] >= 0.5;
          const edge = m && (u === 0 || v === 0 || u === size - 1 || v === size - 1 || mask[u - 1 + v * size] < 0.5 || mask[u + 1 + v * size] < 0.5 || mask[u + (v - 1) * size] < 0.5 || mask[u + (v + 1) * size] < 0.5);
          if (edge) {
            r = 255;
            gg = 40;
            b = 40;
          }
        }
        const o = ((oy + v) * width + ox + u) * 3;
        rgb[o] = r;
        rgb[o + 1] = gg;
        rgb[o + 2] = b;
      }
    }
    if (tile.caption) drawText(rgb, width, ox + 4, oy + 4, tile.caption);
  });
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
}

// A 3x5 pixel font for captions (digits, capitals and a few signs), drawn at 2x.
const FONT: Record<string, string> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001001001001', '8': '111101111101111', '9': '111101111001111',
  A: '010101111101101', B: '110101110101110', C: '011100100100011', D: '110101101101110', E: '111100110100111',
  F: '111100110100100', G: '011100101101011', H: '101101111101101', I: '111010010010111', K: '101101110101101',
  L: '100100100100111', M: '101111111101101', N: '110101101101101', O: '010101101101010', P: '110101110100100',
  R: '110101110101101', S: '011100010001110', T: '111010010010010', U: '101101101101111', V: '101101101101010',
  W: '101101111111101', X: '101101010101101', Y: '101101010010010', Z: '111001010100111', ' ': '000000000000000',
  '-': '000000111000000', '.': '000000000000010', '=': '000111000111000', '/': '001001010100100', ':': '000010000010000',
};

function drawText(rgb: Uint8Array, width: number, x: number, y: number, text: string): void {
  let cx = x;
  for (const ch of text.toUpperCase()) {
    const glyph = FONT[ch] ?? FONT[' '];
    for (let gy = 0; gy < 5; gy++) {
      for (let gx = 0; gx < 3; gx++) {
        if (glyph[gy * 3 + gx] !== '1') continue;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const o = ((y + gy * 2 + dy) * width + cx + gx * 2 + dx) * 3;
            if (o + 2 < rgb.length) {
              rgb[o] = 255;
              rgb[o + 1] = 220;
              rgb[o + 2] = 0;
            }
          }
        }
      }
    }
    cx += 8;
  }
}

/**
 * Brain-window contact sheet of one timepoint of a case: slices spread from the skull base to
 * the vertex, plus the slices where the lesions are largest (with their outlines in red).
 */
export function renderCasePreview(c: { timepoints: { volume: Volume; lesionLabels: Uint8Array; day: number }[] }, timepoint = c.timepoints.length - 1, opts: PreviewOptions = {}): Uint8Array {
  const tp = c.timepoints[timepoint];
  const [nx, ny, nz] = tp.volume.dims;
  const n = nx * ny;
  const perSlice = new Array<number>(nz).fill(0);
  for (let p = 0; p < tp.lesionLabels.length; p++) if (tp.lesionLabels[p]) perSlice[Math.floor(p / n)]++;
  const lesionSlices = perSlice
    .map((v, k) => [v, k])
    .filter(([v]) => v > 0)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 4)
    .map(([, k]) => k)
    .sort((a, b) => a - b);
  const spread = [0.25, 0.45, 0.6, 0.75].map((f) => Math.min(nz - 1, Math.round(f * (nz - 1))));
  const ks = [...new Set([...spread, ...lesionSlices])].sort((a, b) => a - b);
  const mask = lesionSlices.length ? Uint8Array.from(tp.lesionLabels, (v) => (v ? 1 : 0)) : undefined;
  const tiles: PreviewTile[] = ks.map((k) => ({ volume: tp.volume, k, mask: mask && perSlice[k] ? mask : undefined, caption: `DAY ${tp.day} K ${k}` }));
  return renderContactSheet(tiles, { tileSize: 256, columns: 4, ...opts });
}
