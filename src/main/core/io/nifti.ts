/**
 * NIfTI-1 / NIfTI-2 (.nii, .nii.gz) reading and NIfTI-1 writing.
 *
 * NIfTI stores world coordinates in RAS+ (x to the patient's right is negative, i.e. +x = Left is
 * LPS's convention negated); volume.ts uses LPS. The conversion negates the x and y rows of the
 * affine. Reading prefers the sform when its code is set (as nibabel, FSL and ANTs do), then the
 * qform, and otherwise falls back to pixdim scaling with an ASSUMED_GEOMETRY warning.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as nifti from 'nifti-reader-js';
import { AppError } from '../../../shared/errors';
import { voxelCount, type IntensityUnit, type SeriesWarning, type Vec3, type Volume, type VoxelArray } from '../volume';
import { exactArrayBuffer, gunzipOrThrow, isGzip, readInputFile } from './files';
import { affineFromGeometry, flipAffineXY, geometryFromAffine, isOrthonormal, makeSliceOrderInferiorToSuperior } from './geometry';

export type NiftiWriteDatatype = 'int16' | 'uint8' | 'float32';

export interface NiftiWriteOptions {
  /** Stored datatype; defaults to int16 for Int16Array data and float32 otherwise. Values must fit. */
  datatype?: NiftiWriteDatatype;
  /** gzip the output; by default true when the path ends in .gz. */
  gzip?: boolean;
}

const DT = { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768, int64: 1024, uint64: 1280 } as const;
const BYTES: Record<number, number> = { 2: 1, 4: 2, 8: 4, 16: 4, 64: 8, 256: 1, 512: 2, 768: 4, 1024: 8, 1280: 8 };
const INTEGER_TYPES = new Set<number>([DT.uint8, DT.int8, DT.int16, DT.uint16, DT.int32, DT.uint32, DT.int64, DT.uint64]);
const DESCRIP_PREFIX = 'inpaint-ct';
const NIFTI1_HEADER_BYTES = 348;
const NIFTI1_VOX_OFFSET = 352;

/** Encodes a volume as NIfTI-1 bytes (uncompressed unless opts.gzip). */
export function encodeNifti(vol: Volume, opts: NiftiWriteOptions = {}): Uint8Array {
  const [nx, ny, nz] = vol.dims;
  const n = voxelCount(vol.dims);
  if (vol.data.length !== n) throw new Error(`encodeNifti: ${vol.data.length} voxels for dims ${vol.dims.join('x')}`);
  const datatype: NiftiWriteDatatype = opts.datatype ?? (vol.data instanceof Int16Array ? 'int16' : 'float32');
  const code = DT[datatype];
  const bytesPer = BYTES[code];
  const out = new Uint8Array(NIFTI1_VOX_OFFSET + n * bytesPer);
  const view = new DataView(out.buffer);
  const le = true;

  view.setInt32(0, NIFTI1_HEADER_BYTES, le);
  out[38] = 'r'.charCodeAt(0); // regular = 'r' (ANALYZE legacy field some tools still check)
  const dims = [3, nx, ny, nz, 1, 1, 1, 1];
  dims.forEach((d, i) => view.setInt16(40 + 2 * i, d, le));
  view.setInt16(70, code, le);
  view.setInt16(72, bytesPer * 8, le);

  const rasAffine = flipAffineXY(affineFromGeometry(vol.spacing, vol.origin, vol.direction));
  const quat = orthonormalQuaternion(rasAffine, vol.spacing);
  const pixdim = [quat ? quat.qfac : 1, vol.spacing[0], vol.spacing[1], vol.spacing[2], 0, 0, 0, 0];
  pixdim.forEach((p, i) => view.setFloat32(76 + 4 * i, p, le));
  view.setFloat32(108, NIFTI1_VOX_OFFSET, le);
  view.setFloat32(112, 1, le); // scl_slope
  view.setFloat32(116, 0, le); // scl_inter
  out[123] = 2; // xyzt_units: mm
  if (vol.meta.windowCenter !== undefined && vol.meta.windowWidth !== undefined) {
    view.setFloat32(124, vol.meta.windowCenter + vol.meta.windowWidth / 2, le); // cal_max
    view.setFloat32(128, vol.meta.windowCenter - vol.meta.windowWidth / 2, le); // cal_min
  }
  const descrip = [DESCRIP_PREFIX, `unit=${vol.intensityUnit}`, vol.meta.modality ? `modality=${vol.meta.modality}` : ''].filter(Boolean).join(' ');
  writeAscii(out, 148, descrip, 80);
  // qform only when the direction is a rotation (a sheared, gantry-tilted grid cannot be a quaternion).
  view.setInt16(252, quat ? 1 : 0, le); // qform_code: scanner anatomical
  view.setInt16(254, 1, le); // sform_code: scanner anatomical
  if (quat) {
    view.setFloat32(256, quat.b, le);
    view.setFloat32(260, quat.c, le);
    view.setFloat32(264, quat.d, le);
  }
  view.setFloat32(268, rasAffine[3], le);
  view.setFloat32(272, rasAffine[7], le);
  view.setFloat32(276, rasAffine[11], le);
  for (let i = 0; i < 12; i++) view.setFloat32(280 + 4 * i, rasAffine[i], le);
  writeAscii(out, 344, 'n+1', 4);

  writeVoxels(vol.data, datatype, new DataView(out.buffer, NIFTI1_VOX_OFFSET));
  return opts.gzip ? new Uint8Array(gzipSync(out, { level: 6 })) : out;
}

/** Writes a volume as .nii or .nii.gz (chosen by the path's extension). */
export async function writeNifti(vol: Volume, path: string, opts: NiftiWriteOptions = {}): Promise<void> {
  const gzip = opts.gzip ?? path.toLowerCase().endsWith('.gz');
  await writeFile(path, encodeNifti(vol, { ...opts, gzip }));
}

export interface NiftiReadOptions {
  /** File name used in messages and metadata when reading bytes. */
  name?: string;
}

/** Reads a .nii / .nii.gz file (or its bytes) into a Volume with LPS geometry and k = 0 most inferior. */
export async function readNifti(input: string | Uint8Array, opts: NiftiReadOptions = {}): Promise<Volume> {
  const name = opts.name ?? (typeof input === 'string' ? basename(input) : 'NIfTI data');
  if (typeof input === 'string' && /\.hdr(\.gz)?$/i.test(input)) return decodeNifti(await readHdrImgPair(input), name);
  const raw = typeof input === 'string' ? await readInputFile(input) : input;
  return decodeNifti(raw, name);
}

/** The image file that belongs to a NIfTI-1 pair header (x.hdr -> x.img or x.img.gz). */
export function pairedImagePath(hdrPath: string, exists: (p: string) => boolean): string | null {
  const stem = hdrPath.replace(/\.hdr(\.gz)?$/i, '');
  for (const ext of ['.img', '.img.gz', '.IMG', '.IMG.GZ']) if (exists(stem + ext)) return stem + ext;
  return null;
}

/** Joins a .hdr/.img pair into single-file (.nii) bytes: header, 4 extension bytes, voxels. */
async function readHdrImgPair(hdrPath: string): Promise<Uint8Array> {
  const name = basename(hdrPath);
  let hdr = await readInputFile(hdrPath);
  if (isGzip(hdr)) hdr = gunzipOrThrow(hdr, name);
  if (hdr.length < NIFTI1_HEADER_BYTES) throw new AppError('FILE_TRUNCATED', `The NIfTI header "${name}" is cut off.`, { file: hdrPath });
  const imgPath = pairedImagePath(hdrPath, existsSync);
  if (!imgPath) throw new AppError('FILE_NOT_FOUND', `The NIfTI header "${name}" has no image file beside it (expected ${basename(hdrPath).replace(/\.hdr(\.gz)?$/i, '.img')}).`, { file: hdrPath });
  let img = await readInputFile(imgPath);
  if (isGzip(img)) img = gunzipOrThrow(img, basename(imgPath));
  const view = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  const le = view.getInt32(0, true) === NIFTI1_HEADER_BYTES;
  const imageOffset = Math.max(0, Math.round(view.getFloat32(108, le)));
  const out = new Uint8Array(NIFTI1_VOX_OFFSET + Math.max(0, img.length - imageOffset));
  out.set(hdr.subarray(0, NIFTI1_HEADER_BYTES));
  out.set(img.subarray(imageOffset), NIFTI1_VOX_OFFSET);
  const o = new DataView(out.buffer);
  o.setFloat32(108, NIFTI1_VOX_OFFSET, le);
  out.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1": now a single-file NIfTI
  return out;
}

export function decodeNifti(raw: Uint8Array, name: string): Volume {
  if (raw.length === 0) throw new AppError('FILE_EMPTY', `The file "${name}" is empty (0 bytes).`, { file: name });
  const bytes = isGzip(raw) ? gunzipOrThrow(raw, name) : raw;
  const buffer = exactArrayBuffer(bytes);
  if (bytes.length < NIFTI1_HEADER_BYTES) {
    throw new AppError('FILE_TRUNCATED', `The NIfTI file "${name}" is cut off: it is shorter than a NIfTI header.`, { file: name });
  }
  if (!nifti.isNIFTI(buffer)) {
    throw new AppError('NIFTI_INVALID', `"${name}" is not a NIfTI image (the header's magic string is missing).`, { file: name });
  }
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(buffer);
  } catch (e) {
    throw new AppError('NIFTI_INVALID', `The NIfTI header of "${name}" cannot be read: ${(e as Error).message}`, { file: name });
  }
  const isV2 = header instanceof nifti.NIFTI2;
  const warnings: SeriesWarning[] = [];

  const ndim = header.dims[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new AppError('NIFTI_INVALID', `The NIfTI header of "${name}" declares ${ndim} dimensions.`, { file: name });
  const dims: Vec3 = [1, 2, 3].map((i) => (i <= ndim ? Math.max(1, header.dims[i]) : 1)) as Vec3;
  if (dims.some((d) => !Number.isInteger(d) || d < 1 || d > 65535)) throw new AppError('NIFTI_INVALID', `The NIfTI header of "${name}" has impossible dimensions ${dims.join('x')}.`, { file: name });
  let extraVolumes = 1;
  for (let i = 4; i <= ndim; i++) extraVolumes *= Math.max(1, header.dims[i]);
  if (extraVolumes > 1) warnings.push({ code: 'OTHER', message: `The file holds ${extraVolumes} volumes (e.g. time points); only the first was loaded.` });

  const code = header.datatypeCode;
  const bytesPer = BYTES[code];
  if (!bytesPer) {
    throw new AppError('NIFTI_INVALID', `The NIfTI image "${name}" uses datatype ${header.getDatatypeCodeString(code) || code}, which is not a grayscale voxel type this program reads.`, { file: name });
  }
  const n = voxelCount(dims);
  const voxOffset = Math.max(Math.round(header.vox_offset), isV2 ? 544 : NIFTI1_HEADER_BYTES);
  const needed = voxOffset + n * bytesPer;
  if (bytes.length < needed) {
    throw new AppError(
      'NIFTI_SIZE_MISMATCH',
      `The NIfTI file "${name}" is incomplete: its header describes ${dims.join('x')} voxels (${needed} bytes) but the file has only ${bytes.length} bytes.`,
      { file: name, expectedBytes: needed, actualBytes: bytes.length },
    );
  }

  const stored = readStoredVoxels(bytes, voxOffset, n, code, header.littleEndian);
  let slope = header.scl_slope;
  let inter = header.scl_inter;
  if (!Number.isFinite(slope) || slope === 0) {
    // The standard says slope 0 means "no scaling".
    slope = 1;
    inter = 0;
  }
  if (!Number.isFinite(inter)) inter = 0;
  const data = scaleVoxels(stored, slope, inter, INTEGER_TYPES.has(code));

  // Geometry.
  let rasAffine: number[] | null = null;
  if (header.sform_code > 0) rasAffine = sformRows(header, bytes, isV2);
  else if (header.qform_code > 0) rasAffine = qformAffine(header);
  if (!rasAffine || !affineIsUsable(rasAffine)) {
    const pd = [1, 2, 3].map((i) => Math.abs(header.pixDims[i]) || 1);
    // No transform: NIfTI's fallback (METHOD 1) is plain pixdim scaling along RAS axes.
    rasAffine = [pd[0], 0, 0, 0, 0, pd[1], 0, 0, 0, 0, pd[2], 0];
    warnings.push({ code: 'ASSUMED_GEOMETRY', message: 'The NIfTI file has no orientation (qform/sform); patient orientation and position are assumed.' });
  }
  const unitScale = spatialUnitToMm(header.xyzt_units);
  const lps = flipAffineXY(rasAffine).map((v) => v * unitScale);
  const g = geometryFromAffine(lps);
  // Stored values are float32: recover the decimal the writer most likely meant (0.699999988 -> 0.7),
  // so geometry written from DICOM decimal strings reads back identical.
  for (let a = 0; a < 3; a++) {
    const pd = Math.abs(header.pixDims[a + 1]) * unitScale;
    const spacingMm = pd > 0 && Math.abs(pd - g.spacing[a]) <= 1e-5 * pd ? pd : g.spacing[a];
    g.spacing[a] = isV2 ? spacingMm : shortestFloat32Decimal(spacingMm);
    if (!isV2) g.origin[a] = shortestFloat32Decimal(g.origin[a]);
  }
  const ordered = makeSliceOrderInferiorToSuperior(data, dims, g.spacing, g.origin, g.direction);

  const descrip = header.description ?? '';
  const ours = descrip.startsWith(DESCRIP_PREFIX);
  const unitMatch = /unit=(HU|raw|windowed)/.exec(descrip);
  const modalityMatch = /modality=([A-Z]{2,4})/.exec(descrip);
  let intensityUnit: IntensityUnit;
  if (ours && unitMatch) intensityUnit = unitMatch[1] as IntensityUnit;
  else {
    intensityUnit = looksLikeHu(data) ? 'HU' : 'raw';
    if (intensityUnit === 'HU') warnings.push({ code: 'OTHER', message: 'NIfTI does not record intensity units; the values look like Hounsfield units and are treated as such.' });
  }
  const vol: Volume = {
    data,
    dims,
    spacing: g.spacing,
    origin: ordered.origin,
    direction: ordered.direction,
    intensityUnit,
    meta: { source: 'nifti', seriesDescription: name, ...(modalityMatch ? { modality: modalityMatch[1] } : {}) },
    warnings,
  };
  const calMax = header.cal_max;
  const calMin = header.cal_min;
  if (Number.isFinite(calMax) && Number.isFinite(calMin) && calMax > calMin) {
    vol.meta.windowCenter = (calMax + calMin) / 2;
    vol.meta.windowWidth = calMax - calMin;
  }
  return vol;
}

function writeAscii(out: Uint8Array, offset: number, text: string, maxLen: number): void {
  for (let i = 0; i < Math.min(text.length, maxLen - 1); i++) out[offset + i] = text.charCodeAt(i) & 0x7f;
}

function writeVoxels(data: VoxelArray, datatype: NiftiWriteDatatype, view: DataView): void {
  const n = data.length;
  if (datatype === 'float32') {
    for (let p = 0; p < n; p++) view.setFloat32(p * 4, data[p], true);
    return;
  }
  const [lo, hi] = datatype === 'uint8' ? [0, 255] : [-32768, 32767];
  for (let p = 0; p < n; p++) {
    const v = data[p];
    if (!(v >= lo && v <= hi) || Math.round(v) !== v) {
      throw new Error(`encodeNifti: voxel ${p} = ${v} does not fit datatype ${datatype}; write float32 instead.`);
    }
    if (datatype === 'uint8') view.setUint8(p, v);
    else view.setInt16(p * 2, v, true);
  }
}

/** The stored voxels as a plain number-indexable array (typed), honouring the file's byte order. */
function readStoredVoxels(bytes: Uint8Array, offset: number, n: number, code: number, littleEndian: boolean): ArrayLike<number> {
  const bytesPer = BYTES[code];
  const region = bytes.slice(offset, offset + n * bytesPer); // fresh, aligned copy
  if (!littleEndian && bytesPer > 1) {
    for (let p = 0; p < region.length; p += bytesPer) region.subarray(p, p + bytesPer).reverse();
  }
  const buf = region.buffer;
  switch (code) {
    case DT.uint8:
      return region;
    case DT.int8:
      return new Int8Array(buf);
    case DT.int16:
      return new Int16Array(buf);
    case DT.uint16:
      return new Uint16Array(buf);
    case DT.int32:
      return new Int32Array(buf);
    case DT.uint32:
      return new Uint32Array(buf);
    case DT.float32:
      return new Float32Array(buf);
    case DT.float64:
      return new Float64Array(buf);
    case DT.int64: {
      const b = new BigInt64Array(buf);
      return Float64Array.from(b, (x) => Number(x));
    }
    case DT.uint64: {
      const b = new BigUint64Array(buf);
      return Float64Array.from(b, (x) => Number(x));
    }
    default:
      throw new Error(`unhandled NIfTI datatype ${code}`);
  }
}

/** Applies scl_slope/scl_inter. Integer data with integer scaling that fits int16 stays Int16Array. */
function scaleVoxels(stored: ArrayLike<number>, slope: number, inter: number, integerType: boolean): VoxelArray {
  const n = stored.length;
  if (integerType && Number.isInteger(slope) && Number.isInteger(inter)) {
    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < n; p++) {
      const v = stored[p] * slope + inter;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0 || (min >= -32768 && max <= 32767)) {
      if (stored instanceof Int16Array && slope === 1 && inter === 0) return stored;
      const out = new Int16Array(n);
      for (let p = 0; p < n; p++) out[p] = stored[p] * slope + inter;
      return out;
    }
  }
  if (stored instanceof Float32Array && slope === 1 && inter === 0) return stored;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = stored[p] * slope + inter;
  return out;
}

/** sform rows at full stored precision (float32 in NIfTI-1, float64 in NIfTI-2). */
function sformRows(header: nifti.NIFTI1 | nifti.NIFTI2, bytes: Uint8Array, isV2: boolean): number[] {
  if (isV2) return [...header.affine[0], ...header.affine[1], ...header.affine[2]];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m: number[] = [];
  for (let i = 0; i < 12; i++) m.push(view.getFloat32(280 + 4 * i, header.littleEndian));
  return m;
}

/** qform per nifti1.h METHOD 2, computed here because nifti-reader-js skips it for NIfTI-2. */
function qformAffine(header: nifti.NIFTI1 | nifti.NIFTI2): number[] {
  const b = header.quatern_b;
  const c = header.quatern_c;
  const d = header.quatern_d;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const R = [
    [a * a + b * b - c * c - d * d, 2 * b * c - 2 * a * d, 2 * b * d + 2 * a * c],
    [2 * b * c + 2 * a * d, a * a + c * c - b * b - d * d, 2 * c * d - 2 * a * b],
    [2 * b * d - 2 * a * c, 2 * c * d + 2 * a * b, a * a + d * d - c * c - b * b],
  ];
  const qfac = header.pixDims[0] < 0 ? -1 : 1;
  const pd = [Math.abs(header.pixDims[1]) || 1, Math.abs(header.pixDims[2]) || 1, (Math.abs(header.pixDims[3]) || 1) * qfac];
  const off = [header.qoffset_x, header.qoffset_y, header.qoffset_z];
  const m: number[] = [];
  for (let r = 0; r < 3; r++) m.push(R[r][0] * pd[0], R[r][1] * pd[1], R[r][2] * pd[2], off[r]);
  return m;
}

/**
 * Quaternion (nifti1_io.c nifti_mat44_to_quatern) of an affine whose direction is a rotation,
 * possibly improper (then qfac = -1 flips k). Null for non-orthogonal (sheared) grids.
 */
function orthonormalQuaternion(rasAffine: number[], spacing: Vec3): { b: number; c: number; d: number; qfac: number } | null {
  const dir: number[] = [];
  for (let col = 0; col < 3; col++) for (let r = 0; r < 3; r++) dir.push(rasAffine[r * 4 + col] / spacing[col]);
  if (!isOrthonormal(dir, 1e-3)) return null;
  const R = (r: number, c: number) => dir[c * 3 + r];
  const det = R(0, 0) * (R(1, 1) * R(2, 2) - R(1, 2) * R(2, 1)) - R(0, 1) * (R(1, 0) * R(2, 2) - R(1, 2) * R(2, 0)) + R(0, 2) * (R(1, 0) * R(2, 1) - R(1, 1) * R(2, 0));
  const qfac = det < 0 ? -1 : 1;
  const r11 = R(0, 0), r12 = R(0, 1), r13 = R(0, 2) * qfac;
  const r21 = R(1, 0), r22 = R(1, 1), r23 = R(1, 2) * qfac;
  const r31 = R(2, 0), r32 = R(2, 1), r33 = R(2, 2) * qfac;
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac };
}

/** The shortest decimal that rounds to the same float32 (what a float32 field was most likely set from). */
function shortestFloat32Decimal(v: number): number {
  const f = Math.fround(v);
  if (f !== v) return v; // not a float32 value: already exact
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return v;
}

function affineIsUsable(m: number[]): boolean {
  if (m.some((v) => !Number.isFinite(v))) return false;
  for (let c = 0; c < 3; c++) if (Math.hypot(m[c], m[4 + c], m[8 + c]) === 0) return false;
  return true;
}

function spatialUnitToMm(xyztUnits: number): number {
  const unit = xyztUnits & 7;
  if (unit === 1) return 1000; // metres
  if (unit === 3) return 0.001; // microns
  return 1; // mm or unknown (unknown is mm in practice)
}

/** CT in HU has air near -1000; other data (MR, probability maps, masks) does not go that low. */
function looksLikeHu(data: VoxelArray): boolean {
  let min = Infinity;
  let max = -Infinity;
  const step = Math.max(1, Math.floor(data.length / 200_000));
  for (let p = 0; p < data.length; p += step) {
    const v = data[p];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= -500 && min >= -3100 && max <= 40_000;
}
