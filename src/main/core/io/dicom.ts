/**
 * DICOM series loading: header pass over all files (grouping by Study/Series Instance UID,
 * splitting mixed series, sorting by position along the slice normal), then a pixel pass per
 * series that decodes each file once straight into the volume's voxel array. Parsed data sets
 * are never all alive at once: a 300-slice series peaks near one volume plus one file.
 *
 * Geometry: i runs along ImageOrientationPatient's row direction, j along its column direction,
 * k from the most inferior slice upwards (k's direction is the measured slice-to-slice vector,
 * which differs from the plane normal when the gantry was tilted).
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { AppError, isAppError, toErrorPayload } from '../../../shared/errors';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../progress';
import type { SeriesWarning, Vec3, Volume, VoxelArray } from '../volume';
import { LOSSY_SYNTAXES, transferSyntaxName } from './dicom-codecs';
import { checkDecodable, decodeFrameGray, imageInfo, nativePixelBytes, nonImageKind, parseDicom, type DicomImageInfo, type ParsedDicom } from './dicom-parse';
import { fileSystemError, naturalCompare } from './files';
import { cross, dot, norm, normalize } from './geometry';
import type { LoadedSeries, ScanSink } from './types';

/** One frame of one file, the unit that is sorted into slices. */
interface FrameRef {
  info: DicomImageInfo;
  frame: number;
  position?: Vec3;
  slope: number;
  intercept: number;
}

interface StackGeometry {
  frames: FrameRef[];
  spacing: Vec3;
  origin: Vec3;
  direction: number[];
  warnings: SeriesWarning[];
}

const POSITION_TOLERANCE_MM = 0.01;

/** Most headers fit in the first 64 KiB; the pixels need not be read in the grouping pass. */
const HEADER_PREFIX_BYTES = 64 * 1024;

/**
 * Reads files into one growing buffer that is reused file after file, so a 300-file series
 * does not leave 300 file-sized buffers for the garbage collector. A result is valid only
 * until the next read.
 */
class ReusableFileReader {
  private buffer = new Uint8Array(0);

  async read(file: string, maxBytes = Infinity): Promise<{ bytes: Uint8Array; size: number }> {
    let fh;
    try {
      fh = await open(file, 'r');
      const size = (await fh.stat()).size;
      const want = Math.min(maxBytes, size);
      if (this.buffer.length < want) this.buffer = new Uint8Array(Math.max(want, Math.floor(this.buffer.length * 1.25)));
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(this.buffer, got, want - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return { bytes: this.buffer.subarray(0, got), size };
    } catch (e) {
      throw fileSystemError(e, file);
    } finally {
      await fh?.close();
    }
  }
}

async function readDicomHeader(file: string, reader: ReusableFileReader): Promise<{ info?: DicomImageInfo; note?: string }> {
  const { bytes: prefix, size } = await reader.read(file, HEADER_PREFIX_BYTES);
  if (size === 0) throw new AppError('FILE_EMPTY', `The file "${basename(file)}" is empty (0 bytes).`, { file });
  let parsed: ParsedDicom;
  const whole = prefix.length >= size;
  try {
    parsed = parseDicom(prefix, file, { complete: whole });
    if (!whole && !parsed.pixel) throw new Error('header continues past the prefix');
  } catch (e) {
    if (whole) throw e;
    parsed = parseDicom((await reader.read(file)).bytes, file); // long header (big private tags, icons) or no pixel data
  }
  const kind = nonImageKind(parsed.ds, parsed.pixel !== undefined);
  if (kind) return { note: `Skipped: not an image (DICOM ${kind}).` };
  if (!parsed.pixel) {
    throw new AppError('DICOM_NO_PIXELS', `"${basename(file)}" is DICOM but contains no image (no pixel data)${parsed.ds.Modality ? ` (modality ${String(parsed.ds.Modality)})` : ''}.`, { file });
  }
  const info = imageInfo(parsed, file);
  checkDecodable(info);
  // A cut-off file is caught here, before it can leave a hole in the series.
  const px = parsed.pixel;
  if (px.length !== 0xffffffff) {
    const bytesAfterTag = px.bytes === prefix ? size - px.valueOffset : px.bytes.length - px.valueOffset;
    const available = Math.min(px.length, bytesAfterTag);
    if (available < nativePixelBytes(info)) {
      throw new AppError('FILE_TRUNCATED', `The DICOM file "${basename(file)}" is cut off: its image needs ${nativePixelBytes(info)} bytes but only ${Math.max(0, available)} are present.`, { file });
    }
  }
  return { info };
}

/** Loads every image series found in `files` (files that are not DICOM become errors). */
export async function loadDicomSeries(files: string[], sink: ScanSink, opts: TaskOptions = {}): Promise<void> {
  const { signal, onProgress } = opts;
  const infos: DicomImageInfo[] = [];
  const reader = new ReusableFileReader();
  for (let i = 0; i < files.length; i++) {
    throwIfAborted(signal);
    if (i % 16 === 0) {
      onProgress?.({ stage: 'Reading DICOM headers', done: i, total: files.length });
      await yieldToEventLoop();
    }
    try {
      const r = await readDicomHeader(files[i], reader);
      if (r.note) sink.note(files[i], r.note);
      if (r.info) infos.push(r.info);
    } catch (e) {
      const p = toErrorPayload(e);
      sink.error(files[i], p.code, p.message);
    }
  }
  onProgress?.({ stage: 'Reading DICOM headers', done: files.length, total: files.length });

  const groups = new Map<string, DicomImageInfo[]>();
  for (const info of infos) {
    const key = `${info.studyInstanceUid ?? '?'}|${info.seriesInstanceUid ?? `file:${info.file}`}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(info);
  }

  let done = 0;
  for (const group of groups.values()) {
    throwIfAborted(signal);
    for (const stack of splitMixedSeries(group)) {
      const series = await assembleStack(stack.infos, stack.warnings, sink, reader, opts, (d) => onProgress?.({ stage: 'Loading DICOM images', done: done + d, total: infos.length }));
      if (series) await sink.add(series);
    }
    done += group.length;
  }
}

/** Splits one SeriesInstanceUID into stacks of equal size, orientation and pixel layout. */
function splitMixedSeries(infos: DicomImageInfo[]): { infos: DicomImageInfo[]; warnings: SeriesWarning[] }[] {
  const stacks = new Map<string, DicomImageInfo[]>();
  for (const info of infos) {
    const o = info.frames[0]?.orientation;
    const key = [info.rows, info.columns, info.samplesPerPixel, o ? o.map((v) => v.toFixed(3)).join(',') : 'no-orientation', info.numberOfFrames > 1 ? `mf:${info.file}` : 'sf'].join('|');
    let s = stacks.get(key);
    if (!s) stacks.set(key, (s = []));
    s.push(info);
  }
  if (stacks.size === 1) return [{ infos, warnings: [] }];
  const parts = [...stacks.values()].sort((a, b) => b.length - a.length);
  const summary = parts.map((p) => `${p.length} image${p.length > 1 ? 's' : ''} of ${p[0].columns}x${p[0].rows}${p[0].numberOfFrames > 1 ? ` (${p[0].numberOfFrames} frames)` : ''}`).join(', ');
  const message = `Series ${infos[0].seriesNumber ?? ''} mixes images of different size, orientation or kind (${summary}); they were loaded as ${parts.length} separate volumes.`.replace('Series  ', 'The series ');
  return parts.map((p) => ({ infos: p, warnings: [{ code: 'MIXED_SERIES', message }] }));
}

function frameRefs(infos: DicomImageInfo[]): FrameRef[] {
  const refs: FrameRef[] = [];
  for (const info of infos) {
    for (let f = 0; f < info.numberOfFrames; f++) {
      const g = info.frames[f];
      refs.push({ info, frame: f, position: g.position, slope: g.rescaleSlope, intercept: g.rescaleIntercept });
    }
  }
  return refs;
}

function byInstanceThenName(a: FrameRef, b: FrameRef): number {
  const ia = a.info.instanceNumber ?? Infinity;
  const ib = b.info.instanceNumber ?? Infinity;
  if (ia !== ib) return ia - ib;
  const byName = naturalCompare(a.info.file, b.info.file);
  return byName !== 0 ? byName : a.frame - b.frame;
}

/** Orders frames into slices and derives spacing, origin, direction and the geometry warnings. */
function stackGeometry(refs: FrameRef[]): StackGeometry {
  const warnings: SeriesWarning[] = [];
  const info0 = refs[0].info;
  const ps = info0.pixelSpacing;
  const inPlane: [number, number] = ps ? [ps[1], ps[0]] : [1, 1];
  const o = info0.frames[refs[0].frame].orientation;
  const rowDir: Vec3 | null = o ? normalize([o[0], o[1], o[2]]) : null;
  const colDir: Vec3 | null = o ? normalize([o[3], o[4], o[5]]) : null;
  const haveOrientation = rowDir && colDir && norm(cross(rowDir, colDir)) > 0.5;
  const havePositions = refs.every((r) => r.position);

  if (!haveOrientation || !havePositions) {
    const frames = [...refs].sort(byInstanceThenName);
    const sz = info0.spacingBetweenSlices ?? info0.sliceThickness ?? 1;
    const direction = haveOrientation ? [...rowDir!, ...colDir!, ...normalize(cross(rowDir!, colDir!))] : [1, 0, 0, 0, 1, 0, 0, 0, 1];
    if (direction[8] < 0) for (let t = 6; t < 9; t++) direction[t] = -direction[t] + 0;
    const origin: Vec3 = frames[0].position ?? [0, 0, 0];
    warnings.push({
      code: 'ASSUMED_GEOMETRY',
      message: `The images lack ${!haveOrientation ? 'orientation' : 'positions'} (ImageOrientationPatient/ImagePositionPatient); slices were ordered by instance number with ${fmt(sz)} mm spacing, and head/foot direction is assumed.`,
    });
    if (!ps) warnings.push({ code: 'ASSUMED_GEOMETRY', message: 'Pixel spacing is missing; 1 mm is assumed.' });
    return { frames, spacing: [inPlane[0], inPlane[1], sz], origin, direction, warnings };
  }
  if (!ps) warnings.push({ code: 'ASSUMED_GEOMETRY', message: 'Pixel spacing is missing; 1 mm is assumed.' });

  const normal = normalize(cross(rowDir!, colDir!));
  const along = (r: FrameRef) => dot(r.position!, normal);
  let frames = [...refs].sort((a, b) => along(a) - along(b) || byInstanceThenName(a, b));

  // Several images at one position (repeated scans, echoes, phases): keep the first of each.
  const unique: FrameRef[] = [];
  let duplicates = 0;
  for (const f of frames) {
    const prev = unique[unique.length - 1];
    if (prev && Math.hypot(f.position![0] - prev.position![0], f.position![1] - prev.position![1], f.position![2] - prev.position![2]) < POSITION_TOLERANCE_MM) duplicates++;
    else unique.push(f);
  }
  frames = unique;
  if (duplicates > 0) warnings.push({ code: 'MIXED_SERIES', message: `${duplicates} image${duplicates > 1 ? 's' : ''} repeat a slice position already present (several acquisitions in one series?); only the first image at each position was used.` });

  let kDir: Vec3 = normal;
  if (frames.length >= 2) {
    const a = frames[0].position!;
    const b = frames[frames.length - 1].position!;
    kDir = normalize([b[0] - a[0], b[1] - a[1], b[2] - a[2]]);
  }
  if (kDir[2] < 0) {
    frames.reverse();
    kDir = [-kDir[0] + 0, -kDir[1] + 0, -kDir[2] + 0];
  }

  let sz = info0.spacingBetweenSlices ?? info0.sliceThickness ?? 1;
  if (frames.length >= 2) {
    const gaps: number[] = [];
    for (let k = 1; k < frames.length; k++) {
      const a = frames[k - 1].position!;
      const b = frames[k].position!;
      gaps.push(Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]));
    }
    const sorted = [...gaps].sort((x, y) => x - y);
    // Lower median: with few slices and a hole, the smaller gap is the real spacing.
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    sz = median;
    const tiltDeg = (Math.acos(Math.min(1, Math.abs(dot(kDir, normal)))) * 180) / Math.PI;
    if (tiltDeg > 0.5) {
      warnings.push({ code: 'GANTRY_TILT', message: `The slices were acquired with a gantry tilt of ${tiltDeg.toFixed(1)}°; the volume keeps the tilted (sheared) geometry.` });
    }
    let missing = 0;
    const holes: string[] = [];
    let uneven = false;
    for (let k = 0; k < gaps.length; k++) {
      const ratio = gaps[k] / median;
      if (ratio > 1.5) {
        missing += Math.round(ratio) - 1;
        if (holes.length < 3) holes.push(`between slices ${k + 1} and ${k + 2} (${fmt(gaps[k])} mm)`);
      } else if (Math.abs(gaps[k] - median) > Math.max(0.02 * median, POSITION_TOLERANCE_MM)) uneven = true;
    }
    if (missing > 0) {
      warnings.push({ code: 'MISSING_SLICES', message: `About ${missing} slice${missing > 1 ? 's appear' : ' appears'} to be missing: gaps ${holes.join(', ')}${holes.length < gaps.filter((g) => g / median > 1.5).length ? ' and more' : ''} where ${fmt(median)} mm is usual.` });
    }
    if (uneven) {
      warnings.push({ code: 'UNEVEN_SPACING', message: `Slice spacing varies between ${fmt(sorted[0])} and ${fmt(sorted[sorted.length - 1])} mm; the volume assumes an even ${fmt(median)} mm.` });
    }
  }
  return { frames, spacing: [inPlane[0], inPlane[1], sz], origin: [...frames[0].position!] as Vec3, direction: [...rowDir!, ...colDir!, ...kDir], warnings };
}

function fmt(mm: number): string {
  return String(Number(mm.toFixed(3)));
}

/**
 * Voxel array filled slice by slice. Starts as Int16Array when the rescale is integral (the usual
 * CT case) and switches to Float32Array the first time a value does not fit, so memory stays at
 * 2 bytes per voxel whenever the data allows.
 */
class VoxelSink {
  data: VoxelArray;
  constructor(readonly length: number, integral: boolean) {
    this.data = integral ? new Int16Array(length) : new Float32Array(length);
  }
  write(offset: number, stored: ArrayLike<number>, slope: number, intercept: number): void {
    const n = stored.length;
    let d = this.data;
    if (d instanceof Int16Array) {
      if (stored instanceof Int16Array && slope === 1 && intercept === 0) {
        d.set(stored, offset);
        return;
      }
      // Integral slope and intercept on integer stored values give integers: only the range can fail.
      for (let p = 0; p < n; p++) {
        const v = stored[p] * slope + intercept;
        if (v < -32768 || v > 32767) {
          this.data = Float32Array.from(d);
          d = this.data;
          break;
        }
        d[offset + p] = v;
      }
      if (d instanceof Int16Array) return;
    }
    for (let p = 0; p < n; p++) d[offset + p] = stored[p] * slope + intercept;
  }
}

/** Decodes the stack's pixels into one volume; files that fail are reported and their slices dropped. */
async function assembleStack(infos: DicomImageInfo[], extraWarnings: SeriesWarning[], sink: ScanSink, reader: ReusableFileReader, opts: TaskOptions, progress: (done: number) => void): Promise<LoadedSeries | null> {
  const { signal } = opts;
  let geometry = stackGeometry(frameRefs(infos));
  const [nx, ny] = [geometry.frames[0].info.columns, geometry.frames[0].info.rows];
  const sliceLen = nx * ny;
  const integral = geometry.frames.every((f) => Number.isInteger(f.slope) && Number.isInteger(f.intercept));
  const voxels = new VoxelSink(sliceLen * geometry.frames.length, integral);

  // k of each (file, frame); decode file by file so each is parsed once.
  const slot = new Map<FrameRef, number>();
  geometry.frames.forEach((f, k) => slot.set(f, k));
  const byFile = new Map<DicomImageInfo, FrameRef[]>();
  for (const f of geometry.frames) {
    let list = byFile.get(f.info);
    if (!list) byFile.set(f.info, (list = []));
    list.push(f);
  }
  const failed = new Set<number>();
  let filesDone = 0;
  for (const [info, refs] of byFile) {
    throwIfAborted(signal);
    if (filesDone % 8 === 0) {
      progress(filesDone);
      await yieldToEventLoop();
    }
    try {
      const parsed = parseDicom((await reader.read(info.file)).bytes, info.file);
      for (const ref of refs) {
        const stored = await decodeFrameGray(parsed, info, ref.frame);
        voxels.write(slot.get(ref)! * sliceLen, stored, ref.slope, ref.intercept);
      }
    } catch (e) {
      if (!isAppError(e) && (e as Error)?.name === 'AbortError') throw e;
      const p = toErrorPayload(e);
      sink.error(info.file, p.code, p.message);
      for (const ref of refs) failed.add(slot.get(ref)!);
    }
    filesDone++;
  }
  progress(filesDone);

  let data = voxels.data;
  if (failed.size > 0) {
    const keep = geometry.frames.filter((_, k) => !failed.has(k));
    if (keep.length === 0) return null;
    const compact = data instanceof Int16Array ? new Int16Array(keep.length * sliceLen) : new Float32Array(keep.length * sliceLen);
    let kk = 0;
    for (let k = 0; k < geometry.frames.length; k++) {
      if (failed.has(k)) continue;
      compact.set(data.subarray(k * sliceLen, (k + 1) * sliceLen), kk * sliceLen);
      kk++;
    }
    data = compact;
    geometry = stackGeometry(keep);
  }

  const first = geometry.frames[0].info;
  const modality = first.modality;
  const warnings: SeriesWarning[] = [...extraWarnings, ...geometry.warnings];
  if (infos.some((i) => LOSSY_SYNTAXES.has(i.syntax) || i.lossyCompressed)) {
    const lossy = infos.find((i) => LOSSY_SYNTAXES.has(i.syntax));
    warnings.push({ code: 'LOSSY_COMPRESSION', message: `The images were lossy-compressed${lossy ? ` (${transferSyntaxName(lossy.syntax)})` : ''}; fine detail and exact HU values may be altered.` });
  }
  if (first.samplesPerPixel === 3) warnings.push({ code: 'OTHER', message: 'Colour images were converted to grayscale.' });
  const isHu = first.samplesPerPixel === 1 && (modality === 'CT' || first.rescaleType === 'HU');
  const volume: Volume = {
    data,
    dims: [nx, ny, geometry.frames.length],
    spacing: geometry.spacing,
    origin: geometry.origin,
    direction: geometry.direction,
    intensityUnit: isHu ? 'HU' : 'raw',
    meta: {
      modality,
      patientName: first.patientName,
      patientId: first.patientId,
      patientBirthDate: first.patientBirthDate,
      patientSex: first.patientSex,
      studyInstanceUid: first.studyInstanceUid,
      studyDate: first.studyDate,
      studyDescription: first.studyDescription,
      seriesInstanceUid: first.seriesInstanceUid,
      seriesNumber: first.seriesNumber,
      seriesDescription: first.seriesDescription,
      frameOfReferenceUid: first.frameOfReferenceUid,
      accessionNumber: first.accessionNumber,
      manufacturer: first.manufacturer,
      windowCenter: first.windowCenter,
      windowWidth: first.windowWidth !== undefined && first.windowWidth > 0 ? first.windowWidth : undefined,
      sopInstanceUids: geometry.frames.map((f) => f.info.sopInstanceUid ?? ''),
      sopClassUid: first.sopClassUid,
      source: 'dicom',
    },
    warnings,
  };
  for (const key of Object.keys(volume.meta) as (keyof typeof volume.meta)[]) if (volume.meta[key] === undefined) delete volume.meta[key];
  const files = [...new Set(geometry.frames.map((f) => f.info.file))];
  return { volume, files, format: 'dicom' };
}
