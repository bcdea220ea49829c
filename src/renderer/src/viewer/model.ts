/** Viewer-internal state shapes shared by its components. */
import type { CtWindow } from '../../../shared/windows';
import type { Vec3 } from './geometry';
import type { SliceViewId } from './types';
import type { RoiStats } from './roi';

export type ToolId = 'crosshair' | 'window' | 'pan' | 'zoom' | 'measure' | 'roi';

export const TOOLS: readonly { id: ToolId; label: string; key: string }[] = [
  { id: 'crosshair', label: 'Crosshair', key: 'C' },
  { id: 'window', label: 'Window', key: 'W' },
  { id: 'pan', label: 'Pan', key: 'P' },
  { id: 'zoom', label: 'Zoom', key: 'Z' },
  { id: 'measure', label: 'Measure', key: 'M' },
  { id: 'roi', label: 'ROI', key: 'E' },
];

/**
 * A measurement, drawn on the slice it was made on. Points in grid-world mm. A distance runs from
 * a to b; a density ROI is the circle about a through b, with the statistics of the scan's voxels
 * inside it, taken when it was drawn.
 */
export interface Measurement {
  id: number;
  kind: 'distance' | 'roi';
  view: SliceViewId;
  slice: number;
  a: Vec3;
  b: Vec3;
  roi?: RoiStats;
}

export const VIEW_TITLES: Readonly<Record<SliceViewId, string>> = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal' };

/** "40/80": centre/width in HU, rounded, as the viewports report it in data-window. */
export function windowKey(w: CtWindow): string {
  return `${Math.round(w.centerHu)}/${Math.round(w.widthHu)}`;
}

/**
 * Window after a drag of (dx, dy) CSS pixels from `start`: right widens, down raises the
 * centre. The step grows with the width so bone and brain windows both feel right.
 */
export function dragWindow(start: CtWindow, dx: number, dy: number): CtWindow {
  const step = Math.max(0.25, start.widthHu / 250);
  return { centerHu: start.centerHu + dy * step, widthHu: Math.max(1, start.widthHu + dx * step) };
}
