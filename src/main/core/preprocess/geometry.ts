import { AppError } from '../../../shared/errors';
import { BRAIN_WINDOW, type CtWindow } from '../../../shared/windows';
import { throwIfAborted, type TaskOptions } from '../progress';
import { voxelToLps, type Vec3, type Volume } from '../volume';
import { assertCtLike } from './brain-mask';
import { applyWindow } from './window';

/**
 * The method's slice geometry: every axial slice is padded or cropped to a 512x512 frame,
 * then area-resized to 256x256 (an exact 2x2 mean), and maps computed at 256x256 are carried
 * back to the native voxels by the exact inverse of that mapping.
 *
 * Coordinates used below, per in-plane axis:
 * - native edge coordinate x: native pixel i covers [i, i + 1).
 * - frame coordinate a in [0, 512): frame pixel a covers native [x0 + a*f, x0 + (a+1)*f), where f
 *   is native pixels per frame pixel (1 in the method's own pixel convention) and x0 the native
 *   edge coordinate of the frame's left (top) border. Frame pixels outside the native image are
 *   padding and hold 0 (background in windowed units).
 * - output pixel c in [0, 256) covers frame [2c, 2c + 2), i.e. native [x0 + 2cf, x0 + 2(c+1)f).
 */
export const FRAME_SIZE = 512;
export const OUTPUT_SIZE = 256;

/** In-plane pixel spacing of the data the method was designed on (RSNA head CT, 512 px over ~230 mm). */
export const REFERENCE_PIXEL_SPACING_MM = 0.45;

/**
 * How to treat native pixel spacing:
 * - 'pixels': pad/crop in pixels exactly as the method does, whatever the spacing. Right for
 *   RSNA-like data (512 px at ~0.45 mm); a 256 px / 0.9 mm scan then shows a half-size head.
 * - 'resample': first resample in-plane to `targetPixelSpacingMm`, so the head has the size the
 *   model was trained on; frame pixels then are 0.45 mm whatever the scanner used.
 * - 'auto' (default): 'pixels' when both spacings are within 10% of the target, else 'resample'.
 *   For RSNA-like data this is exactly the method; for other spacings it keeps anatomy at the
 *   trained scale instead of cutting a fine-pixel head at 512 px or shrinking a coarse one.
 */
export type SpacingPolicy = 'auto' | 'pixels' | 'resample';

const AUTO_SPACING_TOLERANCE = 0.1;

export interface PreprocessTransform {
  version: 1;
  nativeDims: Vec3;
  nativeSpacingMm: Vec3;
  nativeOrigin: Vec3;
  nativeDirection: number[];
  frameSize: number;
  outputSize: number;
  /** Which in-plane mapping was used ('pixels' = the method's exact pixel pad/crop). */
  mode: 'pixels' | 'resample';
  /** Native pixels per frame pixel along i and j (1 in 'pixels' mode). */
  nativePixelsPerFramePixel: [number, number];
  /** Native edge coordinate of the frame's first pixel border along i and j (integers in 'pixels' mode; negative = padding). */
  frameOriginNative: [number, number];
  /** Frame pixel spacing in mm (i, j); output pixels are twice that. */
  framePixelSpacingMm: [number, number];
  /** Native pixel-centre coordinates (i, j) the frame is centred on: the brain mask's bounding-box centre. */
  centreNative: [number, number];
  window: CtWindow;
  skullStripped: boolean;
}

export interface PreparedStack {
  size: number;
  sliceCount: number;
  /** sliceCount x size x size, x-fastest, slice k = native slice k; windowed to [0, 1]. */
  images256: Float32Array;
  /** Brain mask on the same grid (area fraction >= 0.5). */
  masks256: Uint8Array;
  transform: PreprocessTransform;
  /** Sentences for the user when the geometry loses information (brain cut by the frame). */
  warnings: string[];
}

export interface PrepareOptions extends TaskOptions {
  window?: CtWindow;
  spacing?: SpacingPolicy;
  targetPixelSpacingMm?: number;
  /** Zero everything outside the brain mask, as the method's brain-extracted inputs (default true). */
  skullStrip?: boolean;
}

/** One output axis: for each output pixel the native pixels it averages and their weights. */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

/**
 * Box (area) weights of output pixels over native pixels. Native pixels outside [0, n) are the
 * zero padding: they are left out of the sum but still count in the footprint, exactly like
 * padding with zeros and then averaging.
 */
function areaWeights(nativeLength: number, x0: number, f: number, outputLength: number): AxisWeights {
  const start = new Int32Array(outputLength);
  const count = new Int32Array(outputLength);
  const index: number[] = [];
  const weight: number[] = [];
  const footprint = 2 * f;
  for (let c = 0; c < outputLength; c++) {
    const lo = x0 + c * footprint;
    const hi = lo + footprint;
    start[c] = index.length;
    const first = Math.max(0, Math.floor(lo));
    const last = Math.min(nativeLength - 1, Math.ceil(hi) - 1);
    for (let i = first; i <= last; i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 1e-9) {
        index.push(i);
        weight.push(overlap / footprint);
      }
    }
    count[c] = index.length - start[c];
  }
  return { start, count, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/** In-plane bounding box [minI, maxI, minJ, maxJ] (inclusive) of all mask voxels over every slice, or null if empty. */
export function maskBoundingBox(mask: ArrayLike<number>, dims: Vec3): [number, number, number, number] | null {
  const [nx, ny, nz] = dims;
  let minI = nx;
  let maxI = -1;
  let minJ = ny;
  let maxJ = -1;
  // Most rows of a study hold no brain: test them four bytes at a time when the layout allows.
  const words = mask instanceof Uint8Array && mask.byteOffset % 4 === 0 && nx % 4 === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, (nx * ny * nz) >> 2) : null;
  const wordsPerRow = nx >> 2;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      if (words) {
        let any = 0;
        const w0 = row >> 2;
        for (let w = w0; w < w0 + wordsPerRow; w++) any |= words[w];
        if (!any) continue;
      }
      let first = 0;
      while (first < nx && !mask[row + first]) first++;
      if (first === nx) continue;
      let last = nx - 1;
      while (!mask[row + last]) last--;
      if (first < minI) minI = first;
      if (last > maxI) maxI = last;
      if (j < minJ) minJ = j;
      if (j > maxJ) maxJ = j;
    }
  }
  return maxI < 0 ? null : [minI, maxI, minJ, maxJ];
}

function chooseMode(spacingMm: Vec3, policy: SpacingPolicy, target: number): 'pixels' | 'resample' {
  if (policy !== 'auto') return policy;
  const off = (s: number) => Math.abs(s - target) / target > AUTO_SPACING_TOLERANCE;
  return off(spacingMm[0]) || off(spacingMm[1]) ? 'resample' : 'pixels';
}

/**
 * The in-plane mapping for a study. One offset per study, not per slice: the model conditions on
 * the slices above and below pixel by pixel, so all slices of a study must share one frame, and
 * the inverse is then a single 2D map. The frame is centred on the bounding-box centre of the
 * whole 3D brain mask rather than its centroid: the box centre does not move with lesions,
 * asymmetric anatomy or how many slices cover the skull base, and it keeps the brain's full
 * extent inside the frame whenever it fits.
 */
export function planTransform(
  volume: Pick<Volume, 'dims' | 'spacing' | 'origin' | 'direction'>,
  brainMask: ArrayLike<number> | null,
  options: Pick<PrepareOptions, 'spacing' | 'targetPixelSpacingMm' | 'window' | 'skullStrip'> = {},
  box: [number, number, number, number] | null = brainMask ? maskBoundingBox(brainMask, volume.dims) : null,
): PreprocessTransform {
  const { dims, spacing } = volume;
  const target = options.targetPixelSpacingMm ?? REFERENCE_PIXEL_SPACING_MM;
  if (!(target > 0)) throw new AppError('BAD_REQUEST', `The target pixel spacing must be positive; got ${target} mm.`);
  if (!(spacing[0] > 0 && spacing[1] > 0)) throw new AppError('BAD_REQUEST', 'The image has no valid pixel spacing; it cannot be resampled.');
  const mode = chooseMode(spacing, options.spacing ?? 'auto', target);
  const f: [number, number] = mode === 'pixels' ? [1, 1] : [target / spacing[0], target / spacing[1]];
  const centre: [number, number] = box ? [(box[0] + box[1]) / 2, (box[2] + box[3]) / 2] : [(dims[0] - 1) / 2, (dims[1] - 1) / 2];
  const origin: [number, number] = [0, 0];
  for (const t of [0, 1] as const) {
    // Frame centre (edge coordinate 256) lands on the centre of the brain's middle pixel.
    const x0 = centre[t] + 0.5 - (FRAME_SIZE / 2) * f[t];
    origin[t] = mode === 'pixels' ? Math.round(x0) : x0;
  }
  return {
    version: 1,
    nativeDims: [...dims] as Vec3,
    nativeSpacingMm: [...spacing] as Vec3,
    nativeOrigin: [...volume.origin] as Vec3,
    nativeDirection: [...volume.direction],
    frameSize: FRAME_SIZE,
    outputSize: OUTPUT_SIZE,
    mode,
    nativePixelsPerFramePixel: f,
    frameOriginNative: origin,
    framePixelSpacingMm: [f[0] * spacing[0], f[1] * spacing[1]],
    centreNative: [centre[0], centre[1]],
    window: { centerHu: (options.window ?? BRAIN_WINDOW).centerHu, widthHu: (options.window ?? BRAIN_WINDOW).widthHu },
    skullStripped: options.skullStrip ?? true,
  };
}

/**
 * Separable area resize of one native slice onto the output grid. `scratch` holds ny x size.
 */
function resizeSlice(src: Float32Array, nx: number, ny: number, wx: AxisWeights, wy: AxisWeights, size: number, scratch: Float32Array, dst: Float32Array): void {
  for (let j = 0; j < ny; j++) {
    const row = j * nx;
    const out = j * size;
    for (let c = 0; c < size; c++) {
      let s = 0;
      const e = wx.start[c] + wx.count[c];
      for (let q = wx.start[c]; q < e; q++) s += wx.weight[q] * src[row + wx.index[q]];
      scratch[out + c] = s;
    }
  }
  for (let d = 0; d < size; d++) {
    const out = d * size;
    for (let c = 0; c < size; c++) dst[out + c] = 0;
    const e = wy.start[d] + wy.count[d];
    for (let q = wy.start[d]; q < e; q++) {
      const w = wy.weight[q];
      const srcRow = wy.index[q] * size;
      for (let c = 0; c < size; c++) dst[out + c] += w * scratch[srcRow + c];
    }
  }
}

/**
 * Prepares a whole study as the model sees it: brain-windowed, skull-stripped (optional),
 * framed on the brain and area-resized to 256x256, with the brain mask on the same grid.
 * Slice k of the output is native slice k, so the slices above and below slice k are k+1 and
 * k-1 of the same stack (see `conditioningSlices`).
 */
export function prepareStack(volume: Volume, brainMask: Uint8Array, options: PrepareOptions = {}): PreparedStack {
  const [nx, ny, nz] = volume.dims;
  const n = nx * ny;
  if (brainMask.length !== n * nz) throw new AppError('GEOMETRY_MISMATCH', `The brain mask has ${brainMask.length} voxels but the image has ${n * nz}; they must share one grid.`);
  if (volume.intensityUnit !== 'HU') assertCtLike(volume);
  const box = maskBoundingBox(brainMask, volume.dims);
  const transform = planTransform(volume, brainMask, options, box);
  const size = transform.outputSize;
  const images256 = new Float32Array(size * size * nz);
  const masks256 = new Uint8Array(size * size * nz);
  const fill = transform.mode === 'pixels' ? fillSlicePixelMode : resampledSliceFiller(volume.dims, transform);
  for (let k = 0; k < nz; k++) {
    throwIfAborted(options.signal);
    fill(volume.data, brainMask, k, volume.dims, transform, images256.subarray(k * size * size, (k + 1) * size * size), masks256.subarray(k * size * size, (k + 1) * size * size));
    options.onProgress?.({ stage: 'preprocess', done: k + 1, total: nz });
  }
  return { size, sliceCount: nz, images256, masks256, transform, warnings: frameWarnings(brainMask, volume.dims, transform, box) };
}

type SliceFiller = (hu: ArrayLike<number>, mask: Uint8Array, k: number, dims: Vec3, t: PreprocessTransform, image: Float32Array, mask256: Uint8Array) => void;

/**
 * The method's own mapping, fused: each output pixel is the mean of a 2x2 block of windowed
 * (and skull-stripped) native pixels, padding counting as 0; the mask pixel is set when at least
 * half the block is brain.
 */
const fillSlicePixelMode: SliceFiller = (hu, mask, k, dims, t, image, mask256) => {
  const [nx, ny] = dims;
  const size = t.outputSize;
  const [ox, oy] = t.frameOriginNative;
  const low = t.window.centerHu - t.window.widthHu / 2;
  const scale = 1 / t.window.widthHu;
  const strip = t.skullStripped;
  const base = k * nx * ny;
  for (let d = 0; d < size; d++) {
    for (let c = 0; c < size; c++) {
      let sum = 0;
      let brain = 0;
      for (let dj = 0; dj < 2; dj++) {
        const j = oy + 2 * d + dj;
        if (j < 0 || j >= ny) continue;
        for (let di = 0; di < 2; di++) {
          const i = ox + 2 * c + di;
          if (i < 0 || i >= nx) continue;
          const p = base + j * nx + i;
          const m = mask[p] ? 1 : 0;
          brain += m;
          if (strip && !m) continue;
          const w = (hu[p] - low) * scale;
          sum += w > 0 ? (w < 1 ? w : 1) : 0;
        }
      }
      image[d * size + c] = sum * 0.25;
      mask256[d * size + c] = brain >= 2 ? 1 : 0;
    }
  }
};

/** The general path (resampled grids): separable box weights over native pixels. */
function resampledSliceFiller(dims: Vec3, t: PreprocessTransform): SliceFiller {
  const [nx, ny] = dims;
  const n = nx * ny;
  const size = t.outputSize;
  const wx = areaWeights(nx, t.frameOriginNative[0], t.nativePixelsPerFramePixel[0], size);
  const wy = areaWeights(ny, t.frameOriginNative[1], t.nativePixelsPerFramePixel[1], size);
  const slice = new Float32Array(n);
  const maskSlice = new Float32Array(n);
  const scratch = new Float32Array(ny * size);
  const maskOut = new Float32Array(size * size);
  return (hu, mask, k, _dims, tr, image, mask256) => {
    const base = k * n;
    applyWindow(hu instanceof Float32Array || hu instanceof Int16Array ? hu.subarray(base, base + n) : Array.prototype.slice.call(hu, base, base + n), tr.window, slice);
    let any = 0;
    for (let p = 0; p < n; p++) {
      const m = mask[base + p] ? 1 : 0;
      maskSlice[p] = m;
      any |= m;
      if (tr.skullStripped && !m) slice[p] = 0;
    }
    resizeSlice(slice, nx, ny, wx, wy, size, scratch, image);
    if (!any) return;
    resizeSlice(maskSlice, nx, ny, wx, wy, size, scratch, maskOut);
    // The small epsilon keeps exact half-covered pixels in the mask despite float rounding.
    for (let p = 0; p < size * size; p++) mask256[p] = maskOut[p] >= 0.5 - 1e-6 ? 1 : 0;
  };
}

/** Warns when brain voxels fall outside the frame (they are lost to the model). */
function frameWarnings(mask: ArrayLike<number>, dims: Vec3, t: PreprocessTransform, box: [number, number, number, number] | null): string[] {
  const [nx, ny, nz] = dims;
  const inside = (x: number, axis: 0 | 1) => {
    const a = (x + 0.5 - t.frameOriginNative[axis]) / t.nativePixelsPerFramePixel[axis];
    return a >= 0 && a < t.frameSize;
  };
  if (!box || (inside(box[0], 0) && inside(box[1], 0) && inside(box[2], 1) && inside(box[3], 1))) return [];
  const colIn = Uint8Array.from({ length: nx }, (_, i) => (inside(i, 0) ? 1 : 0));
  const rowIn = Uint8Array.from({ length: ny }, (_, j) => (inside(j, 1) ? 1 : 0));
  let lost = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) if (mask[row + i] && !(colIn[i] && rowIn[j])) lost++;
    }
  const widthMm = t.frameSize * t.framePixelSpacingMm[0];
  return [`Part of the brain (${lost} voxels) lies outside the ${t.frameSize}-pixel analysis frame (${widthMm.toFixed(0)} mm wide) and is not analysed; resampling to ${REFERENCE_PIXEL_SPACING_MM} mm pixels avoids this.`];
}

export interface InverseOptions {
  /** 'nearest' for masks and labels, 'bilinear' for continuous scores (default 'nearest'). */
  interpolation?: 'nearest' | 'bilinear';
  /** Value for native voxels outside the frame (default 0). */
  fill?: number;
}

/** Per native pixel along one axis: the output pixels and weight for its centre. */
function inverseAxis(nativeLength: number, x0: number, f: number, size: number, interpolation: 'nearest' | 'bilinear') {
  const i0 = new Int32Array(nativeLength);
  const i1 = new Int32Array(nativeLength);
  const w1 = new Float32Array(nativeLength);
  const footprint = 2 * f;
  for (let i = 0; i < nativeLength; i++) {
    const u = (i + 0.5 - x0) / footprint; // output edge coordinate of the native pixel centre
    if (u < 0 || u >= size) {
      i0[i] = -1;
      continue;
    }
    if (interpolation === 'nearest') {
      i0[i] = i1[i] = Math.min(size - 1, Math.floor(u));
      continue;
    }
    const t = u - 0.5;
    const lo = Math.floor(t);
    // Inside the frame but beyond the outermost output centres: hold the edge value.
    i0[i] = Math.max(0, Math.min(size - 1, lo));
    i1[i] = Math.max(0, Math.min(size - 1, lo + 1));
    w1[i] = lo < 0 || lo >= size - 1 ? 0 : t - lo;
  }
  return { i0, i1, w1 };
}

/**
 * Maps a stack of output-grid maps (sliceCount x 256 x 256) back onto the native voxels.
 * Native voxels outside the frame get `fill`. The result is x-fastest on the native grid.
 */
export function inverseToNative(map256Stack: ArrayLike<number>, transform: PreprocessTransform, options: InverseOptions = {}): Float32Array {
  const [nx, ny, nz] = transform.nativeDims;
  const size = transform.outputSize;
  if (map256Stack.length !== size * size * nz) {
    throw new AppError('GEOMETRY_MISMATCH', `The map holds ${map256Stack.length} values; ${nz} slices of ${size}x${size} were expected.`);
  }
  const interpolation = options.interpolation ?? 'nearest';
  const fill = options.fill ?? 0;
  const ax = inverseAxis(nx, transform.frameOriginNative[0], transform.nativePixelsPerFramePixel[0], size, interpolation);
  const ay = inverseAxis(ny, transform.frameOriginNative[1], transform.nativePixelsPerFramePixel[1], size, interpolation);
  const out = new Float32Array(nx * ny * nz);
  // Bilinear is separable: interpolate each output row across the native columns once, then
  // blend two such rows per native row.
  const rows = interpolation === 'bilinear' ? new Float32Array(size * nx) : null;
  for (let k = 0; k < nz; k++) {
    const src = k * size * size;
    if (rows) {
      for (let d = 0; d < size; d++) {
        const srcRow = src + d * size;
        for (let i = 0; i < nx; i++) {
          const c0 = ax.i0[i];
          if (c0 < 0) continue;
          const wc = ax.w1[i];
          rows[d * nx + i] = map256Stack[srcRow + c0] * (1 - wc) + map256Stack[srcRow + ax.i1[i]] * wc;
        }
      }
    }
    for (let j = 0; j < ny; j++) {
      const dst = (k * ny + j) * nx;
      const r0 = ay.i0[j];
      if (r0 < 0) {
        out.fill(fill, dst, dst + nx);
        continue;
      }
      if (rows) {
        const a = r0 * nx;
        const b = ay.i1[j] * nx;
        const wr = ay.w1[j];
        for (let i = 0; i < nx; i++) out[dst + i] = ax.i0[i] < 0 ? fill : rows[a + i] * (1 - wr) + rows[b + i] * wr;
        continue;
      }
      const srcRow = src + r0 * size;
      for (let i = 0; i < nx; i++) {
        const c0 = ax.i0[i];
        out[dst + i] = c0 < 0 ? fill : map256Stack[srcRow + c0];
      }
    }
  }
  return out;
}

/** A binary map (e.g. a lesion mask) back on the native grid, by nearest neighbour. */
export function inverseMaskToNative(mask256Stack: ArrayLike<number>, transform: PreprocessTransform): Uint8Array {
  const values = inverseToNative(mask256Stack, transform, { interpolation: 'nearest', fill: 0 });
  const out = new Uint8Array(values.length);
  for (let p = 0; p < values.length; p++) out[p] = values[p] ? 1 : 0;
  return out;
}

/**
 * Patient geometry of the output grid, so the 256x256 stack can be written as a NIfTI that
 * overlays the native image in any viewer. Output pixel c's centre is native coordinate
 * x0 + (2c + 1) f - 0.5 (pixel-centre convention).
 */
export function outputGrid(t: PreprocessTransform): { dims: Vec3; spacing: Vec3; origin: Vec3; direction: number[] } {
  const [fx, fy] = t.nativePixelsPerFramePixel;
  const origin = voxelToLps({ origin: t.nativeOrigin, spacing: t.nativeSpacingMm, direction: t.nativeDirection }, t.frameOriginNative[0] + fx - 0.5, t.frameOriginNative[1] + fy - 0.5, 0);
  return {
    dims: [t.outputSize, t.outputSize, t.nativeDims[2]],
    spacing: [2 * fx * t.nativeSpacingMm[0], 2 * fy * t.nativeSpacingMm[1], t.nativeSpacingMm[2]],
    origin,
    direction: [...t.nativeDirection],
  };
}

export interface ConditioningSlices {
  current: Float32Array;
  /** Slice k + 1 (towards the vertex), zeros at the top of the stack. */
  above: Float32Array;
  /** Slice k - 1 (towards the feet), zeros at the bottom of the stack. */
  below: Float32Array;
  mask: Uint8Array;
}

const zeroSlices = new Map<number, Float32Array>();

/** The 256x256 views the model conditions on for slice k (views share memory with the stack; do not write). */
export function conditioningSlices(stack: PreparedStack, k: number): ConditioningSlices {
  if (!Number.isInteger(k) || k < 0 || k >= stack.sliceCount) throw new RangeError(`slice ${k} is outside 0..${stack.sliceCount - 1}`);
  const n = stack.size * stack.size;
  let zeros = zeroSlices.get(n);
  if (!zeros) zeroSlices.set(n, (zeros = new Float32Array(n)));
  const view = (kk: number) => (kk >= 0 && kk < stack.sliceCount ? stack.images256.subarray(kk * n, (kk + 1) * n) : zeros!);
  return { current: view(k), above: view(k + 1), below: view(k - 1), mask: stack.masks256.subarray(k * n, (k + 1) * n) };
}
