/**
 * Public types of the reading viewer. Every array is on the series' native voxel grid:
 * x-fastest, dims [x, y, z], k = 0 the most inferior slice (the same layout as the voxels the
 * services send), so an overlay computed by the analysis can be passed in without resampling.
 */
import type { Ref } from 'react';
import type { CtWindow, WindowPresetId } from '../../../shared/windows';

/** Voxel indices (i along columns, j along rows, k across slices). */
export interface VoxelIndex {
  i: number;
  j: number;
  k: number;
}

export type SliceViewId = 'axial' | 'coronal' | 'sagittal';
export type ViewId = SliceViewId | 'volume';

export type RGB = readonly [r: number, g: number, b: number];

export type ColormapId = 'hot' | 'inferno' | 'viridis' | 'jet' | 'magma';

export interface ScoreMapLayer {
  /** One anomaly score per voxel. */
  data: Float32Array;
  /** The score range the colour bar spans (colour of `range[0]` is fully transparent). */
  range: readonly [min: number, max: number];
  /** Scores at or below this are not drawn at all (default: `range[0]`). */
  transparentBelow?: number;
  /** Colour-bar caption, default "Anomaly score". */
  label?: string;
}

/** An image the reader can flick to instead of the original (e.g. healthy reconstruction, difference). */
export interface AlternateImage {
  /** Unique, shown on the image switcher ("Healthy", "Difference"). */
  name: string;
  data: Float32Array | Int16Array;
  /** Its own starting window (a difference image wants centre 0); default: the original's. */
  window?: CtWindow;
  /** Unit shown beside the value under the cursor, default "HU". */
  unit?: string;
}

export type LabelStyle = 'outline' | 'filled';
/** 3D rendering of the CT; 'none' shows only the lesion surfaces and slice planes. */
export type VolumePresetId = 'soft' | 'bone' | 'mip' | 'none';

/** What is drawn over the anatomy; controlled (`display` + `onDisplayChange`) or not (`defaultDisplay`). */
export interface OverlayDisplay {
  /** Master switch (key O): hides every overlay without losing the individual toggles. */
  overlaysVisible: boolean;
  showScore: boolean;
  /** 0..1 */
  scoreOpacity: number;
  colormap: ColormapId;
  showLabels: boolean;
  labelOpacity: number;
  labelStyle: LabelStyle;
  showBrainMask: boolean;
  brainMaskOpacity: number;
  /** 'original' or the `name` of an alternate image. */
  image: string;
}

export const DEFAULT_OVERLAY_DISPLAY: Readonly<OverlayDisplay> = Object.freeze({
  overlaysVisible: true,
  showScore: true,
  scoreOpacity: 0.6,
  colormap: 'hot',
  showLabels: true,
  labelOpacity: 0.9,
  labelStyle: 'outline',
  showBrainMask: false,
  brainMaskOpacity: 0.7,
  image: 'original',
});

/** What is under the mouse pointer in a slice view. */
export interface CursorInfo {
  view: SliceViewId;
  /** The grid axis (0 = i, 1 = j, 2 = k) that the view slices across: a brush disc lies across it. */
  sliceAxis: 0 | 1 | 2;
  voxel: VoxelIndex;
  /** Patient LPS position, mm. */
  lpsMm: [number, number, number];
  /** Value of the original image (HU for CT). */
  value: number;
  /** Value of the displayed alternate image, when one is shown. */
  alternateValue?: number;
  score?: number;
  label?: number;
}

export interface ViewerHandle {
  /** Move the crosshair (all three views follow) and optionally zoom in around it. */
  goTo(position: VoxelIndex, opts?: { zoom?: number }): void;
  getPosition(): VoxelIndex;
  /** Fit every view, reset the window to the series' own. */
  reset(): void;
  setWindow(window: CtWindow | WindowPresetId): void;
  getWindow(): CtWindow;
}

export interface ViewerProps {
  seriesId: string;
  scoreMap?: ScoreMapLayer;
  /** 0 = background; 1..N = lesion labels (a binary mask is label 1). */
  labelMask?: Uint8Array | Uint16Array | Int32Array;
  /** Colour of label n at index n (index 0 unused); missing entries use a built-in palette. */
  labelColors?: ReadonlyArray<RGB | undefined>;
  /** Non-zero inside the brain; drawn as a contour. */
  brainMask?: Uint8Array;
  alternateImages?: AlternateImage[];

  display?: OverlayDisplay;
  defaultDisplay?: Partial<OverlayDisplay>;
  onDisplayChange?: (display: OverlayDisplay) => void;

  /** Controlled crosshair position; pair with `onPositionChange`. */
  position?: VoxelIndex;
  /** Starting crosshair position when uncontrolled (default: volume centre). */
  defaultPosition?: VoxelIndex;
  onPositionChange?: (position: VoxelIndex) => void;
  /**
   * Navigation request (lesion list click): each new object moves the crosshair there, zooms to
   * `zoom` (default: keep the zoom) and, when zoomed in, centres the views on it. Works
   * controlled or not.
   */
  focus?: VoxelIndex & { zoom?: number };

  onCursor?: (info: CursorInfo | null) => void;
  /**
   * The left mouse button belongs to the parent (e.g. a brush painting at `onCursor`'s voxel):
   * the viewer then neither drags nor moves the crosshair with it. Wheel, middle-drag (pan),
   * right-drag (zoom) and the keyboard keep working.
   */
  externalTool?: boolean;
  /** Keyboard shortcuts on the whole window (default true); off when several viewers share a page. */
  globalShortcuts?: boolean;
  ref?: Ref<ViewerHandle>;
}
