/**
 * The viewer's keyboard shortcuts: one table drives both the key handler and the help overlay,
 * so the two can never disagree.
 */
export type ShortcutAction =
  | 'sliceNext'
  | 'slicePrevious'
  | 'pageNext'
  | 'pagePrevious'
  | 'sliceFirst'
  | 'sliceLast'
  | 'windowSeries'
  | 'windowBrain'
  | 'windowSubdural'
  | 'windowStroke'
  | 'windowBone'
  | 'reset'
  | 'toggleOverlays'
  | 'toggleScore'
  | 'toggleLabels'
  | 'toggleLabelStyle'
  | 'toggleBrainMask'
  | 'flickImage'
  | 'cycleImage'
  | 'toolCrosshair'
  | 'toolWindow'
  | 'toolPan'
  | 'toolZoom'
  | 'toolMeasure'
  | 'toolRoi'
  | 'clearMeasurements'
  | 'toggleCrosshair'
  | 'toggle3d'
  | 'maximise'
  | 'help'
  | 'escape';

export interface Shortcut {
  action: ShortcutAction;
  /** KeyboardEvent.key values (letters match either case). */
  keys: readonly string[];
  /** How the key is written in the help overlay. */
  display: string;
  label: string;
  group: 'Navigate' | 'Window' | 'Overlays' | 'Tools' | 'Layout';
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'sliceNext', keys: ['ArrowUp'], display: '↑ / wheel up', label: 'Next slice (towards head, front or left)', group: 'Navigate' },
  { action: 'slicePrevious', keys: ['ArrowDown'], display: '↓ / wheel down', label: 'Previous slice', group: 'Navigate' },
  { action: 'pageNext', keys: ['PageUp'], display: 'Page Up', label: '10 slices forward', group: 'Navigate' },
  { action: 'pagePrevious', keys: ['PageDown'], display: 'Page Down', label: '10 slices back', group: 'Navigate' },
  { action: 'sliceFirst', keys: ['Home'], display: 'Home', label: 'First slice', group: 'Navigate' },
  { action: 'sliceLast', keys: ['End'], display: 'End', label: 'Last slice', group: 'Navigate' },
  { action: 'windowBrain', keys: ['1'], display: '1', label: 'Brain window (40 / 80)', group: 'Window' },
  { action: 'windowSubdural', keys: ['2'], display: '2', label: 'Subdural window (75 / 215)', group: 'Window' },
  { action: 'windowStroke', keys: ['3'], display: '3', label: 'Stroke window (40 / 40)', group: 'Window' },
  { action: 'windowBone', keys: ['4'], display: '4', label: 'Bone window (600 / 2800)', group: 'Window' },
  { action: 'windowSeries', keys: ['0'], display: '0', label: "The series' own window", group: 'Window' },
  { action: 'toggleOverlays', keys: ['o'], display: 'O', label: 'Show / hide all overlays', group: 'Overlays' },
  { action: 'toggleScore', keys: ['h'], display: 'H', label: 'Anomaly heatmap', group: 'Overlays' },
  { action: 'toggleLabels', keys: ['l'], display: 'L', label: 'Lesions', group: 'Overlays' },
  { action: 'toggleLabelStyle', keys: ['f'], display: 'F', label: 'Lesions filled / outline', group: 'Overlays' },
  { action: 'toggleBrainMask', keys: ['b'], display: 'B', label: 'Brain mask contour', group: 'Overlays' },
  { action: 'flickImage', keys: [' '], display: 'Space', label: 'Flick between original and the last alternate image', group: 'Overlays' },
  { action: 'cycleImage', keys: ['i'], display: 'I', label: 'Next image (original, reconstruction, difference…)', group: 'Overlays' },
  { action: 'toolCrosshair', keys: ['c'], display: 'C', label: 'Crosshair tool (drag to move all views)', group: 'Tools' },
  { action: 'toolWindow', keys: ['w'], display: 'W', label: 'Window/level tool (drag)', group: 'Tools' },
  { action: 'toolPan', keys: ['p'], display: 'P', label: 'Pan tool (or middle-drag, Shift-drag)', group: 'Tools' },
  { action: 'toolZoom', keys: ['z'], display: 'Z', label: 'Zoom tool (or right-drag, Ctrl-wheel)', group: 'Tools' },
  { action: 'toolMeasure', keys: ['m'], display: 'M', label: 'Measure distance (drag)', group: 'Tools' },
  { action: 'toolRoi', keys: ['e'], display: 'E', label: 'Density ROI: mean ± SD in a circle (drag from its centre)', group: 'Tools' },
  { action: 'clearMeasurements', keys: ['Delete', 'Backspace'], display: 'Delete', label: 'Remove the measurements and ROIs', group: 'Tools' },
  { action: 'toggleCrosshair', keys: ['x'], display: 'X', label: 'Show / hide crosshair lines', group: 'Layout' },
  { action: 'reset', keys: ['r'], display: 'R', label: 'Reset zoom, pan and window', group: 'Layout' },
  { action: 'toggle3d', keys: ['v'], display: 'V', label: '3D view on / off', group: 'Layout' },
  { action: 'maximise', keys: ['Enter'], display: 'Enter / double-click', label: 'Enlarge the active view / back to all views', group: 'Layout' },
  { action: 'help', keys: ['?'], display: '?', label: 'This help', group: 'Layout' },
  { action: 'escape', keys: ['Escape'], display: 'Esc', label: 'Close help, cancel a measurement', group: 'Layout' },
];

const BY_KEY = new Map<string, ShortcutAction>();
for (const s of SHORTCUTS) for (const k of s.keys) BY_KEY.set(k.length === 1 ? k.toLowerCase() : k, s.action);

/** The action of a key press, ignoring presses with Ctrl, Alt or Meta (those belong to the browser). */
export function shortcutFor(e: { key: string; ctrlKey: boolean; altKey: boolean; metaKey: boolean }): ShortcutAction | null {
  if (e.ctrlKey || e.altKey || e.metaKey) return null;
  return BY_KEY.get(e.key.length === 1 ? e.key.toLowerCase() : e.key) ?? null;
}
