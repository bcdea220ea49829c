export { Viewer } from './Viewer';
export type {
  AlternateImage,
  ColormapId,
  CursorInfo,
  LabelStyle,
  OverlayDisplay,
  RGB,
  ScoreMapLayer,
  SliceViewId,
  ViewerHandle,
  ViewerProps,
  VolumePresetId,
  VoxelIndex,
} from './types';
export { DEFAULT_OVERLAY_DISPLAY } from './types';
export { COLORMAPS, LABEL_PALETTE, labelColor } from './colormaps';
