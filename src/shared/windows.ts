/**
 * Display and analysis windows for CT, as a plain table so the renderer and the core agree on
 * the numbers. A window maps Hounsfield units linearly onto [0, 1]: centre - width/2 -> 0,
 * centre + width/2 -> 1, clipped outside.
 */
export type WindowPresetId = 'brain' | 'subdural' | 'stroke' | 'bone';

export interface CtWindow {
  centerHu: number;
  widthHu: number;
}

export interface WindowPreset extends CtWindow {
  id: WindowPresetId;
  label: string;
}

export const WINDOW_PRESETS: Readonly<Record<WindowPresetId, Readonly<WindowPreset>>> = Object.freeze({
  // The method's analysis window: every model input is brain-windowed.
  brain: Object.freeze({ id: 'brain', label: 'Brain', centerHu: 40, widthHu: 80 }),
  subdural: Object.freeze({ id: 'subdural', label: 'Subdural', centerHu: 75, widthHu: 215 }),
  stroke: Object.freeze({ id: 'stroke', label: 'Stroke', centerHu: 40, widthHu: 40 }),
  bone: Object.freeze({ id: 'bone', label: 'Bone', centerHu: 600, widthHu: 2800 }),
});

export const WINDOW_PRESET_IDS: readonly WindowPresetId[] = Object.freeze(['brain', 'subdural', 'stroke', 'bone']);

/** The window the detection method is defined on (centre 40 HU, width 80 HU). */
export const BRAIN_WINDOW: Readonly<CtWindow> = WINDOW_PRESETS.brain;

/** Lowest and highest HU the window shows, i.e. the values mapped to 0 and 1. */
export function windowRangeHu(w: CtWindow): [lowHu: number, highHu: number] {
  return [w.centerHu - w.widthHu / 2, w.centerHu + w.widthHu / 2];
}

/** One HU value mapped through the window onto [0, 1]. */
export function windowValue(hu: number, w: CtWindow): number {
  const t = (hu - (w.centerHu - w.widthHu / 2)) / w.widthHu;
  return t <= 0 ? 0 : t >= 1 ? 1 : t;
}
