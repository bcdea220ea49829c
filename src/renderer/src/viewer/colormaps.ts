/**
 * Colour tables of the viewer: heatmap colormaps (as stops, shared by the vtk transfer
 * functions and the colour bar so both always agree), the lesion palette and the view colours.
 */
import type { ColormapId, RGB, SliceViewId, ViewId } from './types';

/** [t in 0..1, r, g, b] with channels 0..255. */
export type ColorStop = readonly [t: number, r: number, g: number, b: number];

/** Matplotlib's perceptual maps sampled at ninths; hot and jet as their classic breakpoints. */
export const COLORMAPS: Readonly<Record<ColormapId, { label: string; stops: readonly ColorStop[] }>> = {
  hot: {
    label: 'Hot',
    stops: [
      [0, 40, 0, 0],
      [0.375, 255, 0, 0],
      [0.75, 255, 255, 0],
      [1, 255, 255, 255],
    ],
  },
  inferno: {
    label: 'Inferno',
    stops: [
      [0, 0, 0, 4],
      [0.125, 31, 12, 72],
      [0.25, 85, 15, 109],
      [0.375, 136, 34, 106],
      [0.5, 186, 54, 85],
      [0.625, 227, 89, 51],
      [0.75, 249, 140, 10],
      [0.875, 249, 201, 50],
      [1, 252, 255, 164],
    ],
  },
  magma: {
    label: 'Magma',
    stops: [
      [0, 0, 0, 4],
      [0.125, 28, 16, 68],
      [0.25, 79, 18, 123],
      [0.375, 129, 37, 129],
      [0.5, 181, 54, 122],
      [0.625, 229, 80, 100],
      [0.75, 251, 135, 97],
      [0.875, 254, 194, 135],
      [1, 252, 253, 191],
    ],
  },
  viridis: {
    label: 'Viridis',
    stops: [
      [0, 68, 1, 84],
      [0.125, 71, 44, 122],
      [0.25, 59, 82, 139],
      [0.375, 44, 114, 142],
      [0.5, 33, 145, 140],
      [0.625, 40, 174, 128],
      [0.75, 94, 201, 98],
      [0.875, 170, 220, 50],
      [1, 253, 231, 37],
    ],
  },
  jet: {
    label: 'Jet',
    stops: [
      [0, 0, 0, 131],
      [0.125, 0, 0, 255],
      [0.375, 0, 255, 255],
      [0.625, 255, 255, 0],
      [0.875, 255, 0, 0],
      [1, 128, 0, 0],
    ],
  },
};

export const COLORMAP_IDS = Object.keys(COLORMAPS) as ColormapId[];

/** Colour of a colormap at t in [0, 1], channels 0..255. */
export function colormapAt(id: ColormapId, t: number): RGB {
  const stops = COLORMAPS[id].stops;
  const x = Math.min(1, Math.max(0, t));
  for (let s = 1; s < stops.length; s++) {
    const b = stops[s];
    if (x <= b[0]) {
      const a = stops[s - 1];
      const f = b[0] === a[0] ? 0 : (x - a[0]) / (b[0] - a[0]);
      return [a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f, a[3] + (b[3] - a[3]) * f];
    }
  }
  const last = stops[stops.length - 1];
  return [last[1], last[2], last[3]];
}

/** Distinct colours that stay readable over grey CT; label n uses entry (n - 1) mod length. */
export const LABEL_PALETTE: readonly RGB[] = [
  [255, 59, 48],
  [255, 214, 10],
  [52, 199, 89],
  [10, 132, 255],
  [255, 149, 0],
  [191, 90, 242],
  [100, 230, 235],
  [255, 55, 200],
  [190, 240, 60],
  [255, 180, 200],
  [0, 160, 150],
  [200, 170, 255],
];

export function labelColor(label: number, custom?: ReadonlyArray<RGB | undefined>): RGB {
  return custom?.[label] ?? LABEL_PALETTE[(label - 1) % LABEL_PALETTE.length];
}

/** Colour of each view's border and of its plane where other views draw it (crosshair lines, 3D plane). */
export const VIEW_COLORS: Readonly<Record<ViewId, string>> = {
  axial: '#5aa9e6',
  coronal: '#66c266',
  sagittal: '#e6c05a',
  volume: '#b08cf0',
};

export const BRAIN_CONTOUR_COLOR: RGB = [80, 220, 255];

export function cssRgb(c: RGB): string {
  return `rgb(${Math.round(c[0])}, ${Math.round(c[1])}, ${Math.round(c[2])})`;
}

export function hexToRgb(hex: string): RGB {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export const SLICE_VIEWS: readonly SliceViewId[] = ['axial', 'coronal', 'sagittal'];
