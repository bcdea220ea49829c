/**
 * PNG slice stacks (as in the brain-CT inpainting challenges): same-size grayscale PNGs, one per
 * axial slice, ordered by natural sort of their file names (slice2 before slice10), k = 0 first.
 *
 * The gray values are display values of a CT window, so they are mapped back to HU with that
 * window: for a PNG of maximum value M (255 for 8-bit, 65535 for 16-bit),
 *
 *     HU = center - width / 2 + v / M * width
 *
 * i.e. gray 0 is the bottom of the window and M its top. Without a given window the brain window
 * (center 40, width 80) is assumed and the series gets an ASSUMED_WINDOW warning. Values outside
 * the window were clipped when the PNGs were made and cannot be recovered.
 *
 * 16-bit PNGs that store HU with an offset (e.g. HU + 32768) can be read exactly with `huOffset`.
 *
 * PNGs carry no geometry: spacing 1 mm (or as given), identity direction, origin 0, with an
 * ASSUMED_GEOMETRY warning; slice order is assumed foot-to-head in file-name order.
 */
import { basename, dirname } from 'node:path';
import { decode as decodePng, hasPngSignature } from 'fast-png';
import { AppError } from '../../../shared/errors';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../progress';
import type { SeriesWarning, Vec3, Volume } from '../volume';
import { naturalCompare, readInputFile } from './files';
import type { LoadedSeries, ScanSink } from './types';

export const DEFAULT_PNG_WINDOW = { center: 40, width: 80 } as const;

export interface PngStackOptions {
  /** Window the PNGs were made with; default brain window 40/80 HU (assumed, with a warning). */
  windowCenter?: number;
  windowWidth?: number;
  /** 16-bit PNGs only: stored value minus this offset is HU (overrides the window mapping). */
  huOffset?: number;
  /** mm; default 1 (assumed). */
  pixelSpacingMm?: number;
  /** mm; default 1 (assumed). */
  sliceSpacingMm?: number;
}

interface GraySlice {
  file: string;
  width: number;
  height: number;
  values: Uint8Array | Uint16Array;
  maxValue: number;
}

/** Decodes one PNG to gray values; colour PNGs are accepted only when R = G = B. */
export function decodeGrayPng(bytes: Uint8Array, file: string): GraySlice {
  if (!hasPngSignature(bytes)) throw new AppError('PNG_INVALID', `"${basename(file)}" is not a PNG image.`, { file });
  let png;
  try {
    png = decodePng(bytes);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new AppError(/end|length|short|truncat|unexpected/i.test(reason) ? 'FILE_TRUNCATED' : 'PNG_INVALID', `The PNG image "${basename(file)}" is damaged or cut off (${reason}).`, { file });
  }
  const { width, height } = png;
  const n = width * height;
  let data = png.data as Uint8Array | Uint16Array;
  let channels = png.channels;
  if (png.palette) {
    // Indexed colour: expand the palette, then treat as RGB(A).
    const pal = png.palette;
    const rgb = new Uint8Array(n * 3);
    for (let p = 0; p < n; p++) {
      const c = pal[data[p]] ?? [0, 0, 0];
      rgb[p * 3] = c[0];
      rgb[p * 3 + 1] = c[1];
      rgb[p * 3 + 2] = c[2];
    }
    data = rgb;
    channels = 3;
  }
  const maxValue = png.palette ? 255 : 2 ** png.depth - 1;
  if (channels <= 2) {
    if (channels === 1) return { file, width, height, values: data, maxValue };
    const gray = data instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
    for (let p = 0; p < n; p++) gray[p] = data[p * 2];
    return { file, width, height, values: gray, maxValue };
  }
  const gray = data instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const r = data[p * channels];
    if (data[p * channels + 1] !== r || data[p * channels + 2] !== r) {
      throw new AppError('PNG_INVALID', `"${basename(file)}" is a colour image; only grayscale slices (or colour PNGs with equal red, green and blue) can be read.`, { file });
    }
    gray[p] = r;
  }
  return { file, width, height, values: gray, maxValue };
}

/**
 * Loads PNG files as slice stacks, one stack per folder. Files that cannot be decoded or whose size
 * differs from the folder's majority size are reported as errors; the rest form the volume.
 */
export async function loadPngStacks(files: string[], sink: ScanSink, options: PngStackOptions = {}, opts: TaskOptions = {}): Promise<void> {
  const byFolder = new Map<string, string[]>();
  for (const f of files) {
    const d = dirname(f);
    let list = byFolder.get(d);
    if (!list) byFolder.set(d, (list = []));
    list.push(f);
  }
  for (const [folder, list] of byFolder) {
    const series = await loadPngStack(list, folder, sink, options, opts);
    if (series) await sink.add(series);
  }
}

async function loadPngStack(files: string[], folder: string, sink: ScanSink, options: PngStackOptions, opts: TaskOptions): Promise<LoadedSeries | null> {
  const { signal, onProgress } = opts;
  const sorted = [...files].sort((a, b) => naturalCompare(basename(a), basename(b)));
  const slices: GraySlice[] = [];
  for (let i = 0; i < sorted.length; i++) {
    throwIfAborted(signal);
    if (i % 16 === 0) {
      onProgress?.({ stage: 'Reading PNG slices', done: i, total: sorted.length });
      await yieldToEventLoop();
    }
    try {
      slices.push(decodeGrayPng(await readInputFile(sorted[i]), sorted[i]));
    } catch (e) {
      const err = e instanceof AppError ? e : new AppError('PNG_INVALID', `"${basename(sorted[i])}" could not be read: ${(e as Error).message}`);
      sink.error(sorted[i], err.code, err.message);
    }
  }
  if (slices.length === 0) return null;

  // The size most slices share wins; the others are errors, not silently resized.
  const sizeCount = new Map<string, number>();
  for (const s of slices) sizeCount.set(`${s.width}x${s.height}`, (sizeCount.get(`${s.width}x${s.height}`) ?? 0) + 1);
  const [majority] = [...sizeCount.entries()].sort((a, b) => b[1] - a[1])[0];
  const kept = slices.filter((s) => {
    if (`${s.width}x${s.height}` === majority) return true;
    sink.error(s.file, 'PNG_SIZE_MISMATCH', `"${basename(s.file)}" is ${s.width}x${s.height} pixels but the other slices in its folder are ${majority}; it was left out.`);
    return false;
  });
  const { width, height } = kept[0];
  const warnings: SeriesWarning[] = [];
  const sixteenBit = kept.some((s) => s.maxValue > 255);
  const useOffset = options.huOffset !== undefined && sixteenBit;
  const center = options.windowCenter ?? DEFAULT_PNG_WINDOW.center;
  const width_ = options.windowWidth ?? DEFAULT_PNG_WINDOW.width;
  if (!(width_ > 0)) throw new AppError('BAD_REQUEST', `The PNG window width must be positive; got ${width_}.`);
  if (!useOffset && (options.windowCenter === undefined || options.windowWidth === undefined)) {
    warnings.push({ code: 'ASSUMED_WINDOW', message: `PNG gray values were mapped to HU assuming a window of center ${center} / width ${width_} HU (gray 0 = ${center - width_ / 2} HU, white = ${center + width_ / 2} HU). Values outside that window were lost when the PNGs were made.` });
  }
  const pixel = options.pixelSpacingMm ?? 1;
  const sliceMm = options.sliceSpacingMm ?? 1;
  if (options.pixelSpacingMm === undefined || options.sliceSpacingMm === undefined) {
    warnings.push({ code: 'ASSUMED_GEOMETRY', message: `PNG files carry no geometry: ${fmtMm(pixel)} mm pixels and ${fmtMm(sliceMm)} mm slices are assumed, slices ordered foot to head by file name.` });
  }

  const n = width * height;
  const data = new Float32Array(n * kept.length);
  const low = center - width_ / 2;
  for (let k = 0; k < kept.length; k++) {
    const s = kept[k];
    const base = k * n;
    if (useOffset) for (let p = 0; p < n; p++) data[base + p] = s.values[p] - options.huOffset!;
    else {
      const scale = width_ / s.maxValue;
      for (let p = 0; p < n; p++) data[base + p] = low + s.values[p] * scale;
    }
  }
  const spacing: Vec3 = [pixel, pixel, sliceMm];
  const volume: Volume = {
    data,
    dims: [width, height, kept.length],
    spacing,
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    intensityUnit: 'HU',
    meta: {
      // Challenge PNG stacks are brain-window CT; the window warning says this was assumed.
      modality: 'CT',
      seriesDescription: basename(folder),
      windowCenter: useOffset ? DEFAULT_PNG_WINDOW.center : center,
      windowWidth: useOffset ? DEFAULT_PNG_WINDOW.width : width_,
      source: 'png',
    },
    warnings,
  };
  return { volume, files: kept.map((s) => s.file), format: 'png' };
}

function fmtMm(v: number): string {
  return String(Number(v.toFixed(3)));
}
