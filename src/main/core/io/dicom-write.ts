/**
 * Writes a volume as a DICOM CT series: one CT Image Storage file per slice (the usual form), or
 * one Enhanced CT multi-frame file. Used to export results and to build test and benchmark
 * fixtures, so it can also produce the encodings found in the wild (implicit little endian,
 * explicit big endian, no preamble/meta header, unsigned pixels with an intercept, BitsStored < 16).
 *
 * Pixel values: stored = round((HU - intercept) / slope), clamped to what BitsStored can hold.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import dcmjs from 'dcmjs';
import { APP_VERSION } from '../../../shared/version';
import { sliceSize, voxelToLps, type Vec3, type Volume } from '../volume';
import { newDicomUid } from './uid';

const { DicomDict, DicomMessage, DicomMetaDictionary, WriteBufferStream } = dcmjs.data;

export const TRANSFER_SYNTAX = {
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-le': '1.2.840.10008.1.2.1',
  'explicit-be': '1.2.840.10008.1.2.2',
} as const;
export type UncompressedSyntax = keyof typeof TRANSFER_SYNTAX;

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
/** Root under which this program's implementation UIDs live (UUID-derived, see uid.ts). */
const IMPLEMENTATION_CLASS_UID = '2.25.255616385004315330233373812460950306513';
const IMPLEMENTATION_VERSION = `INPAINTCT_${APP_VERSION}`.slice(0, 16);

export interface DicomCtWriteOptions {
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  frameOfReferenceUid?: string;
  /** Default 'explicit-le'. */
  transferSyntax?: UncompressedSyntax;
  /** false: write the bare data set (no 128-byte preamble, no "DICM", no file meta), as old ACR-NEMA-style files. */
  preamble?: boolean;
  /** One Enhanced CT multi-frame file instead of one file per slice. */
  multiFrame?: boolean;
  /** Default 'signed'. */
  pixelRepresentation?: 'signed' | 'unsigned';
  /** Default 1. */
  rescaleSlope?: number;
  /** Default 0 for signed pixels, -1024 for unsigned. */
  rescaleIntercept?: number;
  /** Default 16; 12 is common for CT. */
  bitsStored?: number;
  /** Sets the bits above BitsStored to 1 (as overlays once did), to test that readers mask them. */
  dirtyUnusedBits?: boolean;
  /** File name of slice k (or of the single multi-frame file, k = 0). Default CT0001.dcm... */
  fileName?: (k: number) => string;
  /**
   * Encapsulated pixel data: each frame's stored 16-bit words (two's complement for signed
   * pixels) are handed to `encodeFrame`, and the file declares `transferSyntaxUid`. Used by tests
   * to build JPEG-LS, JPEG 2000 and RLE files with codecs' own encoders.
   */
  compression?: { transferSyntaxUid: string; encodeFrame: (stored: Uint16Array, layout: { rows: number; columns: number; signed: boolean; bitsStored: number }) => Uint8Array };
  /** Last-moment edit of each naturalized data set (tests use it to make broken or unusual files). */
  transform?: (dataset: Record<string, unknown>, k: number) => void;
}

export interface DicomCtWriteResult {
  files: string[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  sopInstanceUids: string[];
}

export interface EncodedDicomFile {
  name: string;
  bytes: Uint8Array;
}

/** Writes the series into `dir` (created if needed). */
export async function writeDicomCtSeries(vol: Volume, dir: string, opts: DicomCtWriteOptions = {}): Promise<DicomCtWriteResult> {
  await mkdir(dir, { recursive: true });
  const { encoded, ...ids } = encodeDicomCtSeries(vol, opts);
  const files: string[] = [];
  for (const f of encoded) {
    const path = join(dir, f.name);
    await writeFile(path, f.bytes);
    files.push(path);
  }
  return { files, ...ids };
}

/** Encodes the series in memory. */
export function encodeDicomCtSeries(vol: Volume, opts: DicomCtWriteOptions = {}): Omit<DicomCtWriteResult, 'files'> & { encoded: EncodedDicomFile[] } {
  const ids = {
    studyInstanceUid: opts.studyInstanceUid ?? vol.meta.studyInstanceUid ?? newDicomUid(),
    seriesInstanceUid: opts.seriesInstanceUid ?? newDicomUid(),
    frameOfReferenceUid: opts.frameOfReferenceUid ?? vol.meta.frameOfReferenceUid ?? newDicomUid(),
  };
  const pixels = pixelEncoding(opts);
  const fileName = opts.fileName ?? ((k: number) => `CT${String(k + 1).padStart(4, '0')}.dcm`);
  const syntax = opts.compression?.transferSyntaxUid ?? TRANSFER_SYNTAX[opts.transferSyntax ?? 'explicit-le'];
  const compress = opts.compression
    ? (ds: Record<string, unknown>, frames: Uint16Array[]) => {
        const layout = { rows: vol.dims[1], columns: vol.dims[0], signed: pixels.signed, bitsStored: pixels.bitsStored };
        ds.PixelData = frames.map((f) => {
          const bytes = opts.compression!.encodeFrame(f, layout);
          return bytes.slice().buffer;
        });
        ds._vrMap = { PixelData: 'OB' };
      }
    : null;
  const now = dicomDateTime(new Date());

  if (opts.multiFrame) {
    const sop = newDicomUid();
    const ds = enhancedCtDataset(vol, ids, sop, pixels, now);
    if (compress) compress(ds, Array.from({ length: vol.dims[2] }, (_, k) => slicePixels(vol, k, pixels)));
    opts.transform?.(ds, 0);
    return { ...ids, sopInstanceUids: [sop], encoded: [{ name: fileName(0), bytes: encodeDataset(ds, syntax, opts.preamble !== false) }] };
  }

  const encoded: EncodedDicomFile[] = [];
  const sopInstanceUids: string[] = [];
  for (let k = 0; k < vol.dims[2]; k++) {
    const sop = newDicomUid();
    sopInstanceUids.push(sop);
    const ds = ctSliceDataset(vol, k, ids, sop, pixels, now);
    if (compress) compress(ds, [slicePixels(vol, k, pixels)]);
    opts.transform?.(ds, k);
    encoded.push({ name: fileName(k), bytes: encodeDataset(ds, syntax, opts.preamble !== false) });
  }
  return { ...ids, sopInstanceUids, encoded };
}

interface PixelEncoding {
  signed: boolean;
  slope: number;
  intercept: number;
  bitsStored: number;
  dirtyUnusedBits: boolean;
}

function pixelEncoding(opts: DicomCtWriteOptions): PixelEncoding {
  const signed = (opts.pixelRepresentation ?? 'signed') === 'signed';
  const bitsStored = opts.bitsStored ?? 16;
  if (!(Number.isInteger(bitsStored) && bitsStored >= 8 && bitsStored <= 16)) throw new Error(`bitsStored must be 8..16, got ${bitsStored}`);
  const slope = opts.rescaleSlope ?? 1;
  if (!(slope > 0)) throw new Error(`rescaleSlope must be > 0, got ${slope}`);
  return { signed, slope, intercept: opts.rescaleIntercept ?? (signed ? 0 : -1024), bitsStored, dirtyUnusedBits: opts.dirtyUnusedBits ?? false };
}

/** Stored 16-bit words of slice k (little-endian layout; big endian is swapped at encoding). */
function slicePixels(vol: Volume, k: number, enc: PixelEncoding): Uint16Array {
  const n = sliceSize(vol.dims);
  const out = new Uint16Array(n);
  const base = k * n;
  const maxStored = enc.signed ? 2 ** (enc.bitsStored - 1) - 1 : 2 ** enc.bitsStored - 1;
  const minStored = enc.signed ? -(2 ** (enc.bitsStored - 1)) : 0;
  const usedMask = 2 ** enc.bitsStored - 1;
  const dirty = enc.dirtyUnusedBits ? 0xffff & ~usedMask : 0;
  for (let p = 0; p < n; p++) {
    let s = Math.round((vol.data[base + p] - enc.intercept) / enc.slope);
    if (s > maxStored) s = maxStored;
    else if (s < minStored) s = minStored;
    // Two's complement within BitsStored bits, the rest of the word zero (or dirty).
    out[p] = ((s & usedMask) | dirty) & 0xffff;
  }
  return out;
}

function commonModules(vol: Volume, ids: { studyInstanceUid: string; seriesInstanceUid: string; frameOfReferenceUid: string }, sop: string, sopClass: string, now: { date: string; time: string }): Record<string, unknown> {
  const m = vol.meta;
  const windowCenter = m.windowCenter ?? 40;
  const windowWidth = m.windowWidth ?? 80;
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: sopClass,
    SOPInstanceUID: sop,
    InstanceCreationDate: now.date,
    InstanceCreationTime: now.time,
    // Patient
    PatientName: m.patientName ?? '',
    PatientID: m.patientId ?? '',
    PatientBirthDate: m.patientBirthDate ?? '',
    PatientSex: m.patientSex ?? '',
    // General Study
    StudyInstanceUID: ids.studyInstanceUid,
    StudyDate: m.studyDate ?? now.date,
    StudyTime: now.time,
    ReferringPhysicianName: '',
    StudyID: '1',
    AccessionNumber: m.accessionNumber ?? '',
    StudyDescription: m.studyDescription ?? '',
    // General Series
    Modality: m.modality ?? 'CT',
    SeriesInstanceUID: ids.seriesInstanceUid,
    SeriesNumber: String(m.seriesNumber ?? 1),
    SeriesDescription: m.seriesDescription ?? '',
    // Head is an unpaired body part, so Laterality (2C) must be absent rather than empty.
    BodyPartExamined: 'HEAD',
    PatientPosition: 'HFS',
    // Frame of Reference
    FrameOfReferenceUID: ids.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    // General Equipment
    Manufacturer: m.manufacturer ?? 'inpaint-ct',
    SoftwareVersions: APP_VERSION,
    WindowCenter: formatDS(windowCenter),
    WindowWidth: formatDS(windowWidth),
    ...(m.deidentified ? { PatientIdentityRemoved: 'YES', DeidentificationMethod: 'inpaint-ct: names, IDs and dates removed' } : {}),
  };
}

function ctSliceDataset(vol: Volume, k: number, ids: { studyInstanceUid: string; seriesInstanceUid: string; frameOfReferenceUid: string }, sop: string, enc: PixelEncoding, now: { date: string; time: string }): Record<string, unknown> {
  const d = vol.direction;
  const position = voxelToLps(vol, 0, 0, k);
  return {
    ...commonModules(vol, ids, sop, CT_IMAGE_STORAGE, now),
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    AcquisitionNumber: '1',
    InstanceNumber: String(k + 1),
    // Image Plane
    PixelSpacing: [formatDS(vol.spacing[1]), formatDS(vol.spacing[0])],
    ImageOrientationPatient: [d[0], d[1], d[2], d[3], d[4], d[5]].map(formatDS),
    ImagePositionPatient: position.map(formatDS),
    SliceThickness: formatDS(vol.spacing[2]),
    SliceLocation: formatDS(sliceLocation(vol, position)),
    // Image Pixel + CT Image
    ...imagePixelModule(vol, enc),
    RescaleIntercept: formatDS(enc.intercept),
    RescaleSlope: formatDS(enc.slope),
    // Only CT values are Hounsfield units; other modalities' fixtures must not claim them.
    ...((vol.meta.modality ?? 'CT') === 'CT' ? { RescaleType: 'HU' } : {}),
    KVP: '120',
    PixelData: [slicePixels(vol, k, enc).buffer],
    _vrMap: { PixelData: 'OW' },
  };
}

function imagePixelModule(vol: Volume, enc: PixelEncoding): Record<string, unknown> {
  return {
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: vol.dims[1],
    Columns: vol.dims[0],
    BitsAllocated: 16,
    BitsStored: enc.bitsStored,
    HighBit: enc.bitsStored - 1,
    PixelRepresentation: enc.signed ? 1 : 0,
  };
}

/** Enhanced CT: geometry per frame in functional groups, pixel encoding shared. */
function enhancedCtDataset(vol: Volume, ids: { studyInstanceUid: string; seriesInstanceUid: string; frameOfReferenceUid: string }, sop: string, enc: PixelEncoding, now: { date: string; time: string }): Record<string, unknown> {
  const nz = vol.dims[2];
  const d = vol.direction;
  const n = sliceSize(vol.dims);
  const all = new Uint16Array(n * nz);
  for (let k = 0; k < nz; k++) all.set(slicePixels(vol, k, enc), k * n);
  const common = commonModules(vol, ids, sop, ENHANCED_CT_IMAGE_STORAGE, now);
  const { WindowCenter, WindowWidth, ...rest } = common;
  const perFrame = [];
  for (let k = 0; k < nz; k++) {
    perFrame.push({
      PlanePositionSequence: [{ ImagePositionPatient: voxelToLps(vol, 0, 0, k).map(formatDS) }],
      FrameContentSequence: [{ StackID: '1', InStackPositionNumber: k + 1 }],
    });
  }
  return {
    ...rest,
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL', 'NONE'],
    InstanceNumber: '1',
    ContentDate: now.date,
    ContentTime: now.time,
    NumberOfFrames: String(nz),
    ...imagePixelModule(vol, enc),
    SharedFunctionalGroupsSequence: [
      {
        PixelMeasuresSequence: [{ PixelSpacing: [formatDS(vol.spacing[1]), formatDS(vol.spacing[0])], SliceThickness: formatDS(vol.spacing[2]), SpacingBetweenSlices: formatDS(vol.spacing[2]) }],
        PlaneOrientationSequence: [{ ImageOrientationPatient: [d[0], d[1], d[2], d[3], d[4], d[5]].map(formatDS) }],
        PixelValueTransformationSequence: [{ RescaleIntercept: formatDS(enc.intercept), RescaleSlope: formatDS(enc.slope), RescaleType: (vol.meta.modality ?? 'CT') === 'CT' ? 'HU' : 'US' }],
        FrameVOILUTSequence: [{ WindowCenter, WindowWidth }],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
    PixelData: [all.buffer],
    _vrMap: { PixelData: 'OW' },
  };
}

/** Serialises a naturalized data set; big-endian pixel words are swapped here. */
function encodeDataset(ds: Record<string, unknown>, syntax: string, withPreamble: boolean): Uint8Array {
  const bigEndian = syntax === TRANSFER_SYNTAX['explicit-be'];
  if (bigEndian && Array.isArray(ds.PixelData)) {
    ds.PixelData = (ds.PixelData as ArrayBuffer[]).map((buf) => swapBytes16(buf));
  }
  const dict = DicomMetaDictionary.denaturalizeDataset(ds);
  if (!withPreamble) {
    const stream = new WriteBufferStream(1024 * 1024, !bigEndian);
    DicomMessage.write(dict, stream, syntax);
    return new Uint8Array(stream.getBuffer());
  }
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID,
    MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: syntax,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
  });
  const file = new DicomDict(meta);
  file.dict = dict;
  return new Uint8Array(file.write());
}

function swapBytes16(buf: ArrayBuffer): ArrayBuffer {
  const src = new Uint8Array(buf);
  const out = new Uint8Array(src.length);
  for (let p = 0; p + 1 < src.length; p += 2) {
    out[p] = src[p + 1];
    out[p + 1] = src[p];
  }
  return out.buffer;
}

/** DICOM DS: at most 16 characters; keeps as many significant digits as fit. */
export function formatDS(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`formatDS: ${v} is not finite`);
  const clean = Math.abs(v) < 1e-12 ? 0 : v;
  for (let digits = 15; digits >= 1; digits--) {
    const s = String(Number(clean.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return clean.toExponential(6);
}

/** Signed distance along the slice normal, the usual meaning of SliceLocation. */
function sliceLocation(vol: Volume, position: Vec3): number {
  const d = vol.direction;
  const normal: Vec3 = [d[1] * d[5] - d[2] * d[4], d[2] * d[3] - d[0] * d[5], d[0] * d[4] - d[1] * d[3]];
  return position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2];
}

function dicomDateTime(t: Date): { date: string; time: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { date: `${t.getFullYear()}${p(t.getMonth() + 1)}${p(t.getDate())}`, time: `${p(t.getHours())}${p(t.getMinutes())}${p(t.getSeconds())}` };
}
