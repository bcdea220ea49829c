import { BRAIN_WINDOW, type CtWindow } from '../../../shared/windows';
import { AppError } from '../../../shared/errors';

export { BRAIN_WINDOW, WINDOW_PRESETS, windowValue, windowRangeHu, type CtWindow, type WindowPresetId } from '../../../shared/windows';

/**
 * Maps HU voxels through a window onto [0, 1] (clipped), as the method feeds every model input.
 * NaN (missing data) maps to 0 so it reads as background, never as bright tissue.
 * `out` may alias nothing in `hu`; pass it to avoid an allocation.
 */
export function applyWindow(hu: ArrayLike<number>, window: CtWindow = BRAIN_WINDOW, out?: Float32Array): Float32Array {
  if (!(window.widthHu > 0)) throw new AppError('BAD_REQUEST', `The window width must be positive; got ${window.widthHu} HU.`);
  const n = hu.length;
  const dst = out ?? new Float32Array(n);
  if (dst.length !== n) throw new Error(`applyWindow: output holds ${dst.length} values for ${n} inputs`);
  const low = window.centerHu - window.widthHu / 2;
  const scale = 1 / window.widthHu;
  for (let p = 0; p < n; p++) {
    const t = (hu[p] - low) * scale;
    // `t > 0` is false for NaN, so missing data lands on 0.
    dst[p] = t > 0 ? (t < 1 ? t : 1) : 0;
  }
  return dst;
}
