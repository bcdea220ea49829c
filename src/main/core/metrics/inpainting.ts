/**
 * Inpainting quality inside the inpainted region only: how close the filled pixels are to the
 * truth they replaced. Pixels outside the region are known to the inpainter and would only
 * dilute the numbers.
 *
 * - mae255: mean absolute error on the brain-windowed 0-255 scale (the inpainting challenge's
 *   metric; window centre 40, width 80 HU unless another is given).
 * - maeHu: mean absolute error in HU. From HU inputs it is the raw HU error (not windowed);
 *   from windowed inputs it is mae255 converted back to HU (window width / 255 per step), i.e.
 *   the error within the window, with values outside the window clipped.
 * - mse255 and psnrDb: on the windowed 0-255 scale; PSNR = 10 log10(255^2 / MSE), Infinity for
 *   a perfect fill.
 * - ssim: Wang et al.'s SSIM (Gaussian 11x11 window, sigma 1.5, K1 0.01, K2 0.03, L 255) on the
 *   windowed 0-255 slices. The SSIM map is computed over each whole slice (outside the region
 *   both images hold the same known pixels, so windows straddling the region's edge compare the
 *   real context around the fill), then averaged over the region's pixels only. Windows are
 *   truncated and renormalised at the image border (see scoring/ssim.ts).
 */
import { AppError } from '../../../shared/errors';
import { BRAIN_WINDOW, windowValue, type CtWindow } from '../../../shared/windows';
import { SsimScratch, ssimMap2d, WANG_SSIM_WINDOW, type SsimWindow } from '../scoring/ssim';

export interface InpaintingQualityOptions {
  /** 'hu' (default): inputs in Hounsfield units; 'windowed': inputs already windowed to [0, 1]. */
  input?: 'hu' | 'windowed';
  window?: CtWindow;
  ssimWindow?: SsimWindow;
}

export interface InpaintingQuality {
  /** Pixels in the region. */
  pixels: number;
  mae255: number;
  maeHu: number;
  mse255: number;
  psnrDb: number;
  ssim: number;
}

/**
 * @param shape slices of width x height (depth 1 for a single slice); SSIM is 2D per slice
 */
export function inpaintingQuality(
  original: ArrayLike<number>,
  inpainted: ArrayLike<number>,
  region: ArrayLike<number>,
  shape: { width: number; height: number; depth?: number },
  options: InpaintingQualityOptions = {},
): InpaintingQuality {
  const depth = shape.depth ?? 1;
  const plane = shape.width * shape.height;
  const n = plane * depth;
  if (original.length !== n || inpainted.length !== n || region.length !== n) {
    throw new AppError('GEOMETRY_MISMATCH', `Original, inpainted image and region must each hold ${depth} slice(s) of ${shape.width}x${shape.height}.`);
  }
  const window = options.window ?? BRAIN_WINDOW;
  const isHu = (options.input ?? 'hu') === 'hu';
  const to255 = (x: number) => 255 * (isHu ? windowValue(x, window) : Math.min(1, Math.max(0, x)));
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    a[p] = to255(original[p]);
    b[p] = to255(inpainted[p]);
  }
  let pixels = 0;
  let abs255 = 0;
  let sq255 = 0;
  let absHu = 0;
  for (let p = 0; p < n; p++) {
    if (!(region[p] > 0)) continue;
    pixels++;
    const d = a[p] - b[p];
    abs255 += Math.abs(d);
    sq255 += d * d;
    if (isHu) absHu += Math.abs(original[p] - inpainted[p]);
  }
  if (pixels === 0) throw new AppError('BAD_REQUEST', 'The inpainting region is empty, so there is nothing to measure.');
  const mae255 = abs255 / pixels;
  const mse255 = sq255 / pixels;

  let ssimSum = 0;
  const map = new Float32Array(plane);
  const scratch = new SsimScratch(plane);
  for (let k = 0; k < depth; k++) {
    const base = k * plane;
    let any = false;
    for (let p = base; p < base + plane; p++) if (region[p] > 0) any = true;
    if (!any) continue;
    ssimMap2d(a.subarray(base, base + plane), b.subarray(base, base + plane), shape.width, shape.height, { window: options.ssimWindow ?? WANG_SSIM_WINDOW, dataRange: 255 }, map, 0, scratch);
    for (let p = 0; p < plane; p++) if (region[base + p] > 0) ssimSum += map[p];
  }
  return {
    pixels,
    mae255,
    maeHu: isHu ? absHu / pixels : (mae255 * window.widthHu) / 255,
    mse255,
    psnrDb: mse255 === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse255),
    ssim: ssimSum / pixels,
  };
}
