/**
 * Preprocessing as in the method: brain extraction, brain window, pad/crop to 512 and area resize
 * to 256, and the exact inverse back to the native voxels. See README.md in this folder.
 */
export { assertBrainFound, assertCtLike, BONE_HU, classicalBrainMask, TISSUE_FLOOR_HU, type BrainMaskResult, type BrainMaskStats, type ClassicalBrainMaskOptions } from './brain-mask';
export { CLASSICAL_METHOD, extractBrain, modelBrainMask, type BrainExtractionOptions } from './model-brain-mask';
export {
  conditioningSlices,
  FRAME_SIZE,
  inverseMaskToNative,
  inverseToNative,
  maskBoundingBox,
  outputGrid,
  OUTPUT_SIZE,
  planTransform,
  prepareStack,
  REFERENCE_PIXEL_SPACING_MM,
  type ConditioningSlices,
  type InverseOptions,
  type PreparedStack,
  type PrepareOptions,
  type PreprocessTransform,
  type SpacingPolicy,
} from './geometry';
export { applyWindow, BRAIN_WINDOW, WINDOW_PRESETS, windowRangeHu, windowValue, type CtWindow, type WindowPresetId } from './window';
