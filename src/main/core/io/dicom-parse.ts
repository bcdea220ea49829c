/**
 * Byte-level DICOM reading: recognising a DICOM file cheaply, finding its transfer syntax even
 * when the file has no preamble or no (or a wrong) file meta header, parsing the data set with
 * dcmjs, extracting what import needs, and turning the pixel data of one frame into stored values.
 */
import { basename } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import dcmjs from 'dcmjs';
import { AppError } from '../../../shared/errors';
import type { Vec3 } from '../volume';
import { decodeCompressedFrame, isDecodableSyntax, isUncompressedSyntax, TS, unsupportedSyntax, type FrameLayout } from './dicom-codecs';

const { DicomMessage, DicomMetaDictionary, ReadBufferStream } = dcmjs.data;
// dcmjs logs recoverable oddities (e.g. implicit-VR pixel data) to the console; outcomes are reported here instead.
dcmjs.log.setLevel('error');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

/* ------------------------------------------------------------------ sniffing */

export type DicomSniff = { kind: 'part10'; metaOffset: number } | { kind: 'raw'; syntax: string };

const EXPLICIT_VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV']);
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

function vrAt(b: Uint8Array, at: number): string | null {
  if (at + 2 > b.length) return null;
  const vr = String.fromCharCode(b[at], b[at + 1]);
  return EXPLICIT_VRS.has(vr) ? vr : null;
}

/**
 * Cheap test on the first bytes of a file (>= 132 bytes when available): a Part 10 file has
 * "DICM" at 128 (or at 0 when the preamble was stripped); a bare data set starts with a small
 * even group number such as (0008,xxxx), in one of the three uncompressed encodings.
 */
export function sniffDicom(head: Uint8Array): DicomSniff | null {
  if (head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d) return { kind: 'part10', metaOffset: 132 };
  if (head.length >= 4 && head[0] === 0x44 && head[1] === 0x49 && head[2] === 0x43 && head[3] === 0x4d) return { kind: 'part10', metaOffset: 4 };
  if (head.length < 8) return null;
  const groupLE = head[0] | (head[1] << 8);
  const groupBE = (head[0] << 8) | head[1];
  const plausible = (g: number) => g === 0x0002 || g === 0x0004 || g === 0x0008 || g === 0x0010 || g === 0x0018 || g === 0x0020 || g === 0x0028;
  if (groupLE === 0x0002) return { kind: 'part10', metaOffset: 0 }; // meta header without preamble and magic
  if (plausible(groupLE)) {
    if (vrAt(head, 4)) return { kind: 'raw', syntax: TS.explicitLE };
    const length = head[4] | (head[5] << 8) | (head[6] << 16) | (head[7] << 24);
    if (length >= 0 && length < 1 << 24) return { kind: 'raw', syntax: TS.implicitLE };
  }
  if (plausible(groupBE) && vrAt(head, 4)) return { kind: 'raw', syntax: TS.explicitBE };
  return null;
}

/* ------------------------------------------------------------------ parsing */

export interface ParsedDicom {
  syntax: string;
  /** Naturalized data set (keywords as keys), without Pixel Data. */
  ds: Record<string, unknown>;
  /** Where the Pixel Data element's value starts, if the data set has one (read by readPixelData, never by dcmjs). */
  pixel?: PixelElement;
}

/** The Pixel Data value inside the (possibly partial) file bytes: no copy is made. */
export interface PixelElement {
  /** Bytes holding the element: the file (or the inflated data set of a deflated file). */
  bytes: Uint8Array;
  /** Offset in `bytes` of the value (after tag, VR and length). */
  valueOffset: number;
  /** Declared value length; 0xFFFFFFFF for encapsulated (compressed) data. */
  length: number;
  bigEndian: boolean;
  /** True when `bytes` is the whole file (false for a prefix read for the header pass). */
  complete: boolean;
}

const UNDEFINED_LENGTH = 0xffffffff;

/** Walks the group-0002 elements by hand (they are always explicit little endian, or implicit in broken files). */
function readMeta(b: Uint8Array, offset: number): { transferSyntax?: string; datasetOffset: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = offset;
  let transferSyntax: string | undefined;
  while (pos + 8 <= b.length && view.getUint16(pos, true) === 0x0002) {
    const element = view.getUint16(pos + 2, true);
    const vr = vrAt(b, pos + 4);
    let header: number;
    let length: number;
    if (vr && LONG_VRS.has(vr)) {
      if (pos + 12 > b.length) break;
      header = 12;
      length = view.getUint32(pos + 8, true);
    } else if (vr) {
      header = 8;
      length = view.getUint16(pos + 6, true);
    } else {
      header = 8;
      length = view.getUint32(pos + 4, true);
    }
    if (length === 0xffffffff || pos + header + length > b.length) {
      throw new AppError('FILE_TRUNCATED', 'The DICOM file meta header is damaged or cut off.');
    }
    if (element === 0x0010) transferSyntax = latin1(b.subarray(pos + header, pos + header + length)).replace(/[\0 ]+$/g, '');
    pos += header + length;
  }
  return { transferSyntax, datasetOffset: pos };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** The data set encoding actually used at `offset`, correcting files whose meta header lies about explicit/implicit VR. */
function actualSyntax(declared: string | undefined, b: Uint8Array, offset: number): string {
  const head = b.subarray(offset, offset + 16);
  if (declared === TS.explicitBE) return declared;
  const explicitHere = head.length >= 6 && vrAt(head, 4) !== null;
  if (declared === TS.implicitLE && explicitHere) return TS.explicitLE;
  if (declared === TS.explicitLE && head.length >= 6 && !explicitHere) return TS.implicitLE;
  if (declared) return declared;
  const sniff = sniffDicom(head);
  return sniff && sniff.kind === 'raw' ? sniff.syntax : TS.explicitLE;
}

/**
 * Parses the data set up to (not into) Pixel Data, so even a 300-slice import never copies
 * pixels through dcmjs; `pixel` locates the Pixel Data value for readPixelFrames.
 * `bytes` may be just the start of a file (`complete: false`): if the header does not fit,
 * this throws and the caller retries with the whole file.
 */
export function parseDicom(bytes: Uint8Array, file: string, { complete = true }: { complete?: boolean } = {}): ParsedDicom {
  const sniff = sniffDicom(bytes.subarray(0, 132));
  if (!sniff) throw new AppError('NOT_DICOM', `"${basename(file)}" is not a DICOM file.`, { file });
  let datasetOffset = 0;
  let declared: string | undefined;
  if (sniff.kind === 'part10') {
    const meta = readMeta(bytes, sniff.metaOffset);
    declared = meta.transferSyntax;
    datasetOffset = meta.datasetOffset;
  } else {
    declared = sniff.syntax;
  }
  if (datasetOffset >= bytes.length) throw new AppError('FILE_TRUNCATED', `The DICOM file "${basename(file)}" contains only a file header and no data set (it was cut off).`, { file });
  const syntax = actualSyntax(declared, bytes, datasetOffset);

  let body = bytes;
  let start = datasetOffset;
  let readSyntax = syntax;
  if (syntax === TS.deflatedLE) {
    if (!complete) throw new AppError('FILE_TRUNCATED', 'deflated data set needs the whole file');
    try {
      body = new Uint8Array(inflateRawSync(bytes.subarray(datasetOffset)));
    } catch {
      throw new AppError('FILE_TRUNCATED', `The deflated DICOM file "${basename(file)}" is damaged or cut off.`, { file });
    }
    start = 0;
    readSyntax = TS.explicitLE;
  } else if (!isUncompressedSyntax(syntax)) {
    readSyntax = TS.explicitLE; // encapsulated syntaxes encode the data set as explicit VR little endian
  }
  const bigEndian = readSyntax === TS.explicitBE;

  // dcmjs reads an ArrayBuffer from `start` to `stop`; a view at offset 0 of a larger (reused) buffer needs no copy.
  if (body.byteOffset !== 0) body = body.slice();
  const ab = body.buffer as ArrayBuffer;
  let pixelTagEnd = -1;
  const read = (ignoreErrors: boolean) => {
    const stream = new ReadBufferStream(ab, !bigEndian, { noCopy: true, start, stop: body.byteLength });
    const dict = DicomMessage._read(stream, readSyntax, { untilTag: '7FE00010', includeUntilTagValue: false, ignoreErrors });
    // dcmjs advances past an element's declared length even when the file ends first.
    if (stream.offset > stream.endOffset) throw new RangeError('element extends beyond the end of the file');
    pixelTagEnd = '7FE00010' in dict ? stream.offset : -1;
    return dict;
  };
  let dict;
  try {
    try {
      dict = read(false);
    } catch (e) {
      // Multiple character sets (ISO 2022) only affect text; read on rather than reject the image.
      if (e instanceof Error && /character set/i.test(e.message)) dict = read(true);
      else throw e;
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const cutOff = e instanceof RangeError || /out of bounds|outside the bounds|beyond|Invalid typed array length|more than currently allocated|out of range/i.test(reason);
    throw new AppError(
      cutOff ? 'FILE_TRUNCATED' : 'NOT_DICOM',
      cutOff ? `The DICOM file "${basename(file)}" is cut off or damaged (an element runs past the end of the file).` : `"${basename(file)}" could not be read as DICOM (damaged or non-standard encoding: ${reason.slice(0, 160)}).`,
      { file },
    );
  }
  delete dict['7FE00010'];
  const ds = DicomMetaDictionary.naturalizeDataset(dict) as Record<string, unknown>;
  let pixel: PixelElement | undefined;
  if (pixelTagEnd >= 0) {
    // After the tag: explicit VR has "OB"/"OW" + 2 reserved bytes + 32-bit length; implicit only the length.
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const explicit = readSyntax !== TS.implicitLE;
    const lengthAt = pixelTagEnd + (explicit ? 4 : 0);
    if (lengthAt + 4 > body.length) throw new AppError('FILE_TRUNCATED', `The DICOM file "${basename(file)}" is cut off at its pixel data.`, { file });
    pixel = { bytes: body, valueOffset: lengthAt + 4, length: view.getUint32(lengthAt, !bigEndian), bigEndian, complete: complete || body !== bytes };
  }
  return { syntax, ds, pixel };
}

/* ------------------------------------------------------------------ field access */

/** dcmjs gives single values as scalars and multiple values as arrays; these accept both. */
export function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

export function num(v: unknown): number | undefined {
  const x = first(v);
  if (x === null || x === undefined || x === '') return undefined;
  const n = typeof x === 'number' ? x : Number(String(x).trim());
  return Number.isFinite(n) ? n : undefined;
}

export function nums(v: unknown): number[] | undefined {
  if (v === null || v === undefined) return undefined;
  const arr = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : [v];
  const out = arr.map((x) => (typeof x === 'number' ? x : Number(String(x).trim())));
  return out.length && out.every(Number.isFinite) ? out : undefined;
}

export function str(v: unknown): string | undefined {
  const x = first(v);
  if (x === null || x === undefined) return undefined;
  if (typeof x === 'object') {
    const pn = x as { Alphabetic?: string };
    return typeof pn.Alphabetic === 'string' ? pn.Alphabetic.trim() || undefined : undefined;
  }
  const s = String(x).replace(/\0/g, '').trim();
  return s || undefined;
}

export function strs(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => String(x ?? '').trim()).filter(Boolean);
}

function item(seq: unknown): Record<string, unknown> | undefined {
  const x = first(seq);
  return x && typeof x === 'object' ? (x as Record<string, unknown>) : undefined;
}

/* ------------------------------------------------------------------ what import needs */

export interface FrameGeometry {
  /** LPS mm of the first transmitted pixel's centre, if known. */
  position?: Vec3;
  /** Row and column direction cosines, if known. */
  orientation?: number[];
  rescaleSlope: number;
  rescaleIntercept: number;
}

export interface DicomImageInfo {
  file: string;
  syntax: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  modality?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  frameOfReferenceUid?: string;
  instanceNumber?: number;
  acquisitionNumber?: number;
  imageType: string[];
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometric: string;
  planarConfiguration: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  numberOfFrames: number;
  /** [row spacing, column spacing] mm */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  spacingBetweenSlices?: number;
  gantryTiltDeg?: number;
  rescaleType?: string;
  windowCenter?: number;
  windowWidth?: number;
  frames: FrameGeometry[];
  patientName?: string;
  patientId?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyDescription?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  accessionNumber?: string;
  manufacturer?: string;
  lossyCompressed: boolean;
}

/** SOP classes that carry no image to analyse; they are skipped with a note, not an error. */
const NON_IMAGE_SOP_CLASSES: [prefix: string, label: string][] = [
  ['1.2.840.10008.1.3.10', 'DICOMDIR (media directory)'],
  ['1.2.840.10008.5.1.4.1.1.88.', 'structured report'],
  ['1.2.840.10008.5.1.4.1.1.481.3', 'RT structure set'],
  ['1.2.840.10008.5.1.4.1.1.481.2', 'RT dose'],
  ['1.2.840.10008.5.1.4.1.1.481.', 'radiotherapy object'],
  ['1.2.840.10008.5.1.4.1.1.66.4', 'segmentation'],
  ['1.2.840.10008.5.1.4.1.1.66.5', 'surface segmentation'],
  ['1.2.840.10008.5.1.4.1.1.66', 'raw data / registration / fiducials'],
  ['1.2.840.10008.5.1.4.1.1.11.', 'presentation state'],
  ['1.2.840.10008.5.1.4.1.1.9.', 'waveform'],
  ['1.2.840.10008.5.1.4.1.1.104.', 'encapsulated document'],
  ['1.2.840.10008.5.1.4.1.1.67', 'real world value mapping'],
  ['1.2.840.10008.5.1.4.1.1.68.', 'surface'],
  ['1.2.840.10008.5.1.4.1.1.90.1', 'content assessment'],
  ['1.2.840.10008.5.1.4.1.1.91.1', 'microscopy bulk annotations'],
  ['1.2.840.10008.5.1.4.1.1.200.', 'protocol'],
  ['1.2.840.10008.5.1.4.1.1.30', 'parametric map'],
  ['1.2.840.10008.5.1.4.34.', 'RT plan or course'],
  ['1.2.840.10008.5.1.4.38.', 'hanging protocol'],
  ['1.2.840.10008.5.1.4.39.', 'colour palette'],
  ['1.2.840.10008.5.1.4.43.', 'generic implant template'],
  ['1.2.840.10008.5.1.4.1.1.78.', 'ophthalmic measurement'],
  ['1.2.840.10008.5.1.4.1.1.79.', 'ophthalmic measurement'],
];
const NON_IMAGE_MODALITIES: Record<string, string> = { SR: 'structured report', RTSTRUCT: 'RT structure set', RTPLAN: 'RT plan', RTDOSE: 'RT dose', RTRECORD: 'RT treatment record', SEG: 'segmentation', PR: 'presentation state', KO: 'key object selection', REG: 'registration', FID: 'fiducials', ECG: 'waveform', DOC: 'document', PLAN: 'plan' };

/** A human label when the object is a known non-image kind, else null. */
export function nonImageKind(ds: Record<string, unknown>, hasPixelData: boolean): string | null {
  const sop = str(ds.SOPClassUID) ?? str(ds.MediaStorageSOPClassUID);
  if (sop) for (const [prefix, label] of NON_IMAGE_SOP_CLASSES) if (sop === prefix || sop.startsWith(prefix.endsWith('.') ? prefix : `${prefix}.`)) return label;
  if (ds.DirectoryRecordSequence !== undefined) return 'DICOMDIR (media directory)';
  const modality = str(ds.Modality);
  if (modality && NON_IMAGE_MODALITIES[modality] && !hasPixelData) return NON_IMAGE_MODALITIES[modality];
  return null;
}

/** Pulls what grouping, sorting and decoding need out of a parsed data set. */
export function imageInfo(parsed: ParsedDicom, file: string): DicomImageInfo {
  const ds = parsed.ds;
  const rows = num(ds.Rows) ?? 0;
  const columns = num(ds.Columns) ?? 0;
  const bitsAllocated = num(ds.BitsAllocated) ?? 16;
  const bitsStored = num(ds.BitsStored) ?? bitsAllocated;
  const numberOfFrames = Math.max(1, Math.round(num(ds.NumberOfFrames) ?? 1));
  const shared = item(ds.SharedFunctionalGroupsSequence);
  const perFrame = Array.isArray(ds.PerFrameFunctionalGroupsSequence) ? (ds.PerFrameFunctionalGroupsSequence as Record<string, unknown>[]) : [];

  const fg = (k: number, seq: string): Record<string, unknown> | undefined => item(perFrame[k]?.[seq]) ?? item(shared?.[seq]);
  const pixelMeasures = fg(0, 'PixelMeasuresSequence');
  const pixelSpacing = nums(pixelMeasures?.PixelSpacing) ?? nums(ds.PixelSpacing) ?? nums(ds.ImagerPixelSpacing);
  const baseSlope = num(ds.RescaleSlope) ?? 1;
  const baseIntercept = num(ds.RescaleIntercept) ?? 0;
  const basePosition = nums(ds.ImagePositionPatient);
  const baseOrientation = nums(ds.ImageOrientationPatient);

  const frames: FrameGeometry[] = [];
  for (let k = 0; k < numberOfFrames; k++) {
    const pos = nums(fg(k, 'PlanePositionSequence')?.ImagePositionPatient) ?? (k === 0 || perFrame.length === 0 ? basePosition : undefined);
    const ori = nums(fg(k, 'PlaneOrientationSequence')?.ImageOrientationPatient) ?? baseOrientation;
    const pvt = fg(k, 'PixelValueTransformationSequence');
    frames.push({
      position: pos && pos.length >= 3 ? [pos[0], pos[1], pos[2]] : undefined,
      orientation: ori && ori.length >= 6 ? ori.slice(0, 6) : undefined,
      rescaleSlope: num(pvt?.RescaleSlope) ?? baseSlope,
      rescaleIntercept: num(pvt?.RescaleIntercept) ?? baseIntercept,
    });
  }
  // Old-style multi-frame (one position, evenly spaced along the normal) gets per-frame positions here.
  const spacingBetween = num(pixelMeasures?.SpacingBetweenSlices) ?? num(ds.SpacingBetweenSlices);
  if (numberOfFrames > 1 && perFrame.length === 0 && frames[0].position && frames[0].orientation) {
    const gridOffsets = nums(ds.GridFrameOffsetVector);
    const step = spacingBetween ?? num(ds.SliceThickness);
    const o = frames[0].orientation;
    const normal: Vec3 = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
    const p0 = frames[0].position;
    for (let k = 1; k < numberOfFrames; k++) {
      const offset = gridOffsets && gridOffsets.length === numberOfFrames ? gridOffsets[k] - gridOffsets[0] : step !== undefined ? k * step : undefined;
      frames[k].position = offset === undefined ? undefined : [p0[0] + normal[0] * offset, p0[1] + normal[1] * offset, p0[2] + normal[2] * offset];
    }
  }
  const voi = fg(0, 'FrameVOILUTSequence');
  const sopClassUid = str(ds.SOPClassUID);
  return {
    file,
    syntax: parsed.syntax,
    sopClassUid,
    sopInstanceUid: str(ds.SOPInstanceUID),
    modality: str(ds.Modality)?.toUpperCase(),
    studyInstanceUid: str(ds.StudyInstanceUID),
    seriesInstanceUid: str(ds.SeriesInstanceUID),
    frameOfReferenceUid: str(ds.FrameOfReferenceUID),
    instanceNumber: num(ds.InstanceNumber),
    acquisitionNumber: num(ds.AcquisitionNumber),
    imageType: strs(ds.ImageType).map((s) => s.toUpperCase()),
    rows,
    columns,
    samplesPerPixel: num(ds.SamplesPerPixel) ?? 1,
    photometric: (str(ds.PhotometricInterpretation) ?? 'MONOCHROME2').toUpperCase(),
    planarConfiguration: num(ds.PlanarConfiguration) ?? 0,
    bitsAllocated,
    bitsStored,
    highBit: num(ds.HighBit) ?? bitsStored - 1,
    signed: num(ds.PixelRepresentation) === 1,
    numberOfFrames,
    pixelSpacing: pixelSpacing && pixelSpacing.length >= 2 && pixelSpacing[0] > 0 && pixelSpacing[1] > 0 ? [pixelSpacing[0], pixelSpacing[1]] : undefined,
    sliceThickness: num(pixelMeasures?.SliceThickness) ?? num(ds.SliceThickness),
    spacingBetweenSlices: spacingBetween,
    gantryTiltDeg: num(ds.GantryDetectorTilt),
    rescaleType: str(item(shared?.PixelValueTransformationSequence)?.RescaleType) ?? str(ds.RescaleType),
    windowCenter: num(voi?.WindowCenter) ?? num(ds.WindowCenter),
    windowWidth: num(voi?.WindowWidth) ?? num(ds.WindowWidth),
    frames,
    patientName: str(ds.PatientName),
    patientId: str(ds.PatientID),
    patientBirthDate: str(ds.PatientBirthDate),
    patientSex: str(ds.PatientSex),
    studyDate: str(ds.StudyDate),
    studyDescription: str(ds.StudyDescription),
    seriesNumber: num(ds.SeriesNumber),
    seriesDescription: str(ds.SeriesDescription),
    accessionNumber: str(ds.AccessionNumber),
    manufacturer: str(ds.Manufacturer),
    lossyCompressed: str(ds.LossyImageCompression) === '01',
  };
}

/** Checks that the pixel description is something this reader can turn into a gray image. */
export function checkDecodable(info: DicomImageInfo): void {
  const file = info.file;
  if (!isDecodableSyntax(info.syntax)) throw unsupportedSyntax(info.syntax, file);
  if (!(info.rows > 0 && info.columns > 0)) throw new AppError('DICOM_NO_PIXELS', `"${basename(file)}" has pixel data but no valid image size (Rows/Columns).`, { file });
  if (![1, 8, 16, 32].includes(info.bitsAllocated)) throw new AppError('DICOM_NOT_IMAGE', `"${basename(file)}" stores ${info.bitsAllocated} bits per pixel, which is not an image format this program reads.`, { file });
  if (info.bitsAllocated === 1) throw new AppError('DICOM_NOT_IMAGE', `"${basename(file)}" holds a 1-bit (binary) image such as an overlay or mask, not a scan.`, { file });
  if (info.samplesPerPixel !== 1 && info.samplesPerPixel !== 3) throw new AppError('DICOM_NOT_IMAGE', `"${basename(file)}" has ${info.samplesPerPixel} samples per pixel, which is not a grayscale or colour image.`, { file });
  if (info.photometric === 'PALETTE COLOR') throw new AppError('DICOM_NOT_IMAGE', `"${basename(file)}" is a palette-colour image, not a grayscale scan.`, { file });
}

/* ------------------------------------------------------------------ pixel data */

/** Number of bytes the whole native (uncompressed) pixel data needs. */
export function nativePixelBytes(info: DicomImageInfo): number {
  return uncompressedFrameBytes(info) * info.numberOfFrames;
}

/** The bytes of frame `k` as stored in the file (concatenated fragments for encapsulated data); a view, not a copy, where possible. */
export function frameBytes(parsed: ParsedDicom, info: DicomImageInfo, k: number): Uint8Array {
  const file = info.file;
  const px = parsed.pixel;
  if (!px) throw new AppError('DICOM_NO_PIXELS', `"${basename(file)}" contains no pixel data.`, { file });
  const { bytes, valueOffset } = px;
  if (px.length !== UNDEFINED_LENGTH) {
    const frameLen = uncompressedFrameBytes(info);
    const start = valueOffset + k * frameLen;
    if (!isUncompressedSyntax(info.syntax)) throw new AppError('DICOM_CORRUPT', `"${basename(file)}" declares compressed pixel data but stores it uncompressed.`, { file });
    if (start + frameLen > Math.min(bytes.length, valueOffset + px.length)) {
      throw new AppError('FILE_TRUNCATED', `The DICOM file "${basename(file)}" is cut off: its image needs ${nativePixelBytes(info)} bytes but only ${Math.min(px.length, bytes.length - valueOffset)} are present.`, { file });
    }
    return bytes.subarray(start, start + frameLen);
  }
  // Encapsulated: items (FFFE,E000) of fragments, the first being the Basic Offset Table; ends with (FFFE,E0DD).
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fragments: { start: number; end: number }[] = [];
  let pos = valueOffset;
  const offsetTable: number[] = [];
  let first = true;
  for (;;) {
    if (pos + 8 > bytes.length) throw new AppError('FILE_TRUNCATED', `The compressed pixel data of "${basename(file)}" is cut off.`, { file });
    const group = view.getUint16(pos, true);
    const element = view.getUint16(pos + 2, true);
    const len = view.getUint32(pos + 4, true);
    pos += 8;
    if (group === 0xfffe && element === 0xe0dd) break;
    if (group !== 0xfffe || element !== 0xe000) throw new AppError('DICOM_CORRUPT', `The compressed pixel data of "${basename(file)}" is malformed (unexpected element in the fragment sequence).`, { file });
    if (pos + len > bytes.length) throw new AppError('FILE_TRUNCATED', `The compressed pixel data of "${basename(file)}" is cut off.`, { file });
    if (first) {
      for (let o = 0; o + 4 <= len; o += 4) offsetTable.push(view.getUint32(pos + o, true));
      first = false;
    } else fragments.push({ start: pos, end: pos + len });
    pos += len;
  }
  if (fragments.length === 0) throw new AppError('DICOM_NO_PIXELS', `"${basename(file)}" has an empty compressed pixel data element.`, { file });
  const itemsStart = fragments[0].start - 8;
  let groups: { start: number; end: number }[][];
  if (info.numberOfFrames === 1) groups = [fragments];
  else if (offsetTable.length === info.numberOfFrames) {
    // Offsets count from the first fragment item's tag.
    groups = offsetTable.map((o, f) => {
      const from = itemsStart + o;
      const to = f + 1 < offsetTable.length ? itemsStart + offsetTable[f + 1] : Infinity;
      return fragments.filter((fr) => fr.start - 8 >= from && fr.start - 8 < to);
    });
  } else if (fragments.length === info.numberOfFrames) groups = fragments.map((f) => [f]);
  else {
    const split = splitFragmentsIntoFrames(fragments.map((f) => bytes.subarray(f.start, f.end)), info.numberOfFrames, info.syntax);
    if (!split) throw new AppError('DICOM_CORRUPT', `The compressed pixel data of "${basename(file)}" has ${fragments.length} fragments for ${info.numberOfFrames} frames and cannot be split into frames.`, { file });
    return split[k];
  }
  const parts = groups[k] ?? [];
  if (parts.length === 0) throw new AppError('DICOM_CORRUPT', `Frame ${k + 1} of "${basename(file)}" is missing from its compressed pixel data.`, { file });
  return parts.length === 1 ? bytes.subarray(parts[0].start, parts[0].end) : concat(parts.map((p) => bytes.subarray(p.start, p.end)));
}

/** Without an offset table, JPEG-family frames start with an SOI marker (FF D8 / FF 4F for J2K codestreams). */
function splitFragmentsIntoFrames(parts: Uint8Array[], n: number, syntax: string): Uint8Array[] | null {
  if (syntax === TS.rle) return null;
  const starts: number[] = [];
  parts.forEach((p, i) => {
    if (p.length >= 2 && p[0] === 0xff && (p[1] === 0xd8 || p[1] === 0x4f)) starts.push(i);
    else if (p.length >= 12 && p[4] === 0x6a && p[5] === 0x50) starts.push(i); // JP2 box
  });
  if (starts.length !== n) return null;
  return starts.map((s, i) => concat(parts.slice(s, i + 1 < n ? starts[i + 1] : parts.length)));
}

/** YBR_FULL_422 shares one Cb/Cr pair between two pixels, so it stores 2 samples per pixel, not 3. */
function uncompressedFrameBytes(info: DicomImageInfo): number {
  const samples = info.samplesPerPixel === 3 && info.photometric === 'YBR_FULL_422' ? 2 : info.samplesPerPixel;
  return (info.rows * info.columns * samples * info.bitsAllocated) / 8;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * One frame as gray stored values (before rescale), honouring byte order, BitsStored/HighBit,
 * sign and colour (colour is converted to luma; the Y of YBR is already luma).
 */
export async function decodeFrameGray(parsed: ParsedDicom, info: DicomImageInfo, k: number): Promise<Float64Array | Int32Array | Int16Array | Uint16Array> {
  const raw = frameBytes(parsed, info, k);
  const n = info.rows * info.columns;
  const spp = info.samplesPerPixel;
  const layout: FrameLayout = { rows: info.rows, columns: info.columns, samplesPerPixel: spp, bitsAllocated: info.bitsAllocated, signed: info.signed };
  let values: ArrayLike<number>;
  let signedByCodec = false;
  let interleaved = true;
  let ybr = info.photometric.startsWith('YBR');
  let masked = true;
  if (isUncompressedSyntax(info.syntax)) {
    const fast = nativeWordsView(raw, info);
    if (fast) return fast;
    values = wordsOf(raw, info.bitsAllocated, info.syntax === TS.explicitBE);
    interleaved = info.planarConfiguration === 0;
    if (spp === 3 && info.photometric === 'YBR_FULL_422') {
      // Y0 Y1 Cb Cr per pixel pair: the luma is all a gray image needs.
      const luma = new Float64Array(n);
      for (let p = 0; p < n; p++) luma[p] = values[(p >> 1) * 4 + (p & 1)];
      const out = new Int32Array(n);
      for (let p = 0; p < n; p++) out[p] = luma[p];
      return out;
    }
  } else {
    const decoded = await decodeCompressedFrame(info.syntax, raw, layout, info.file);
    values = decoded.values;
    signedByCodec = decoded.signedByCodec;
    if (decoded.convertedToRgb) ybr = false;
    // JPEG codecs return whole sample values; masking by a mis-declared BitsStored would corrupt them.
    masked = info.syntax === TS.rle;
    if (info.syntax === TS.rle) interleaved = true;
  }
  if (values.length < n * spp) throw new AppError('FILE_TRUNCATED', `The image in "${basename(info.file)}" decoded to fewer pixels than its header declares.`, { file: info.file });

  const out = info.bitsAllocated === 32 ? new Float64Array(n) : new Int32Array(n);
  const bitsStored = Math.min(info.bitsStored, info.bitsAllocated);
  const shift = Math.max(0, info.highBit + 1 - bitsStored);
  const mask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  const toStored = (v: number): number => {
    if (signedByCodec) return v;
    let s = v;
    if (masked) s = Math.floor(s / 2 ** shift) % (mask + 1);
    if (info.signed && s >= signBit) s -= 2 * signBit;
    return s;
  };
  if (spp === 1) {
    for (let p = 0; p < n; p++) out[p] = toStored(values[p]);
  } else {
    for (let p = 0; p < n; p++) {
      const a = interleaved ? values[p * 3] : values[p];
      const b = interleaved ? values[p * 3 + 1] : values[n + p];
      const c = interleaved ? values[p * 3 + 2] : values[2 * n + p];
      out[p] = ybr ? toStored(a) : Math.round(0.299 * toStored(a) + 0.587 * toStored(b) + 0.114 * toStored(c));
    }
  }
  return out;
}

/**
 * The common CT case needs no per-pixel work: little-endian 16-bit gray with all 16 bits stored
 * is already the stored values; return a view on the file bytes (copied only if misaligned).
 */
function nativeWordsView(raw: Uint8Array, info: DicomImageInfo): Int16Array | Uint16Array | null {
  if (info.samplesPerPixel !== 1 || info.bitsAllocated !== 16 || info.bitsStored !== 16 || info.highBit !== 15 || info.syntax === TS.explicitBE) return null;
  const src = raw.byteOffset % 2 === 0 ? raw : raw.slice();
  const n = src.length >> 1;
  return info.signed ? new Int16Array(src.buffer, src.byteOffset, n) : new Uint16Array(src.buffer, src.byteOffset, n);
}

function wordsOf(raw: Uint8Array, bitsAllocated: number, bigEndian: boolean): ArrayLike<number> {
  if (bitsAllocated === 8) return raw;
  const bytesPer = bitsAllocated / 8;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = Math.floor(raw.length / bytesPer);
  if (bytesPer === 2) {
    const out = new Uint16Array(n);
    for (let p = 0; p < n; p++) out[p] = view.getUint16(p * 2, !bigEndian);
    return out;
  }
  const out = new Uint32Array(n);
  for (let p = 0; p < n; p++) out[p] = view.getUint32(p * 4, !bigEndian);
  return out;
}
