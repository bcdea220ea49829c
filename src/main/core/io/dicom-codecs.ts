/**
 * Decompression of encapsulated DICOM pixel data. Each codec is a well-kept package
 * (@cornerstonejs WebAssembly builds of libjpeg-turbo, CharLS and OpenJPEG; jpeg-lossless-decoder-js);
 * RLE Lossless is decoded here because it is a few lines of PackBits (PS3.5 Annex G) and no
 * maintained Node package does only that.
 *
 * Output is one frame of "stored values" (before RescaleSlope/Intercept), samples interleaved.
 */
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { AppError } from '../../../shared/errors';

const require = createRequire(import.meta.url);

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
} as const;

const SYNTAX_NAMES: Record<string, string> = {
  [TS.implicitLE]: 'Implicit VR Little Endian',
  [TS.explicitLE]: 'Explicit VR Little Endian',
  [TS.deflatedLE]: 'Deflated Explicit VR Little Endian',
  [TS.explicitBE]: 'Explicit VR Big Endian',
  [TS.jpegBaseline]: 'JPEG Baseline (8-bit)',
  [TS.jpegExtended]: 'JPEG Extended (12-bit)',
  [TS.jpegLossless]: 'JPEG Lossless',
  [TS.jpegLosslessSV1]: 'JPEG Lossless (first-order prediction)',
  [TS.jpegLsLossless]: 'JPEG-LS Lossless',
  [TS.jpegLsNearLossless]: 'JPEG-LS Near-Lossless',
  [TS.jpeg2000Lossless]: 'JPEG 2000 Lossless',
  [TS.jpeg2000]: 'JPEG 2000',
  [TS.rle]: 'RLE Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile',
  '1.2.840.10008.1.2.4.101': 'MPEG2 High Profile',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 (RPCL)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2',
};

export function transferSyntaxName(uid: string): string {
  return SYNTAX_NAMES[uid] ? `${SYNTAX_NAMES[uid]} (${uid})` : `transfer syntax ${uid}`;
}

export const LOSSY_SYNTAXES = new Set<string>([TS.jpegBaseline, TS.jpegExtended, TS.jpeg2000, TS.jpegLsNearLossless]);

const COMPRESSED_DECODABLE = new Set<string>([TS.jpegBaseline, TS.jpegLossless, TS.jpegLosslessSV1, TS.jpegLsLossless, TS.jpegLsNearLossless, TS.jpeg2000Lossless, TS.jpeg2000, TS.rle]);

export function isUncompressedSyntax(uid: string): boolean {
  return uid === TS.implicitLE || uid === TS.explicitLE || uid === TS.explicitBE || uid === TS.deflatedLE;
}

export function isDecodableSyntax(uid: string): boolean {
  return isUncompressedSyntax(uid) || COMPRESSED_DECODABLE.has(uid);
}

export interface FrameLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  /** PixelRepresentation === 1 */
  signed: boolean;
}

export interface DecodedFrame {
  /** rows * columns * samples values, samples interleaved (R,G,B,R,G,B...). */
  values: ArrayLike<number>;
  /** True when the values already carry their sign (the codec knows better than the header). */
  signedByCodec: boolean;
  /** True when a colour JPEG was converted to RGB by the codec. */
  convertedToRgb: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  delete(): void;
}
type WasmModule = Record<string, new () => WasmDecoder>;

const modules = new Map<string, Promise<WasmModule>>();
function loadWasm(pkg: string): Promise<WasmModule> {
  let m = modules.get(pkg);
  if (!m) {
    const factory = require(`${pkg}/decodewasmjs`) as (opts?: object) => Promise<WasmModule>;
    // Emscripten prints aborts to stderr by default; errors are reported through exceptions instead.
    m = factory({ print: () => {}, printErr: () => {} });
    modules.set(pkg, m);
  }
  return m;
}

async function decodeWithWasm(pkg: string, cls: string, encoded: Uint8Array, layout: FrameLayout): Promise<DecodedFrame> {
  const mod = await loadWasm(pkg);
  const decoder = new mod[cls]();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const raw = decoder.getDecodedBuffer();
    const bytes = new Uint8Array(raw.length);
    bytes.set(raw); // copy out of WebAssembly memory before delete()
    checkFrameSize(info.width, info.height, info.componentCount, layout);
    const signed = info.isSigned === true;
    let values: ArrayLike<number>;
    if (info.bitsPerSample > 8) values = signed ? new Int16Array(bytes.buffer) : new Uint16Array(bytes.buffer);
    else values = signed ? new Int8Array(bytes.buffer) : bytes;
    return { values, signedByCodec: signed, convertedToRgb: info.componentCount === 3 };
  } finally {
    decoder.delete();
  }
}

function checkFrameSize(width: number, height: number, components: number, layout: FrameLayout): void {
  if (width !== layout.columns || height !== layout.rows || components !== layout.samplesPerPixel) {
    throw new Error(`compressed frame is ${width}x${height}x${components}, header says ${layout.columns}x${layout.rows}x${layout.samplesPerPixel}`);
  }
}

function decodeJpegLossless(encoded: Uint8Array, layout: FrameLayout): DecodedFrame {
  const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => { decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): ArrayLike<number> } };
  const copy = encoded.slice();
  const bytesPerSample = layout.bitsAllocated > 8 ? 2 : 1;
  const out = new Decoder().decode(copy.buffer, 0, copy.length, bytesPerSample);
  const expected = layout.rows * layout.columns * layout.samplesPerPixel;
  if (out.length < expected) throw new Error(`JPEG lossless frame decoded to ${out.length} values, expected ${expected}`);
  return { values: out, signedByCodec: false, convertedToRgb: false };
}

/** RLE Lossless, PS3.5 Annex G: one PackBits segment per byte plane, most significant byte first. */
export function decodeRle(encoded: Uint8Array, layout: FrameLayout): DecodedFrame {
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (encoded.length < 64) throw new Error('RLE frame shorter than its 64-byte header');
  const segments = view.getUint32(0, true);
  const bytesPerSample = layout.bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample) || segments !== bytesPerSample * layout.samplesPerPixel || segments > 15) {
    throw new Error(`RLE frame has ${segments} segments; ${bytesPerSample * layout.samplesPerPixel} expected`);
  }
  const pixels = layout.rows * layout.columns;
  const planes: Uint8Array[] = [];
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : encoded.length;
    planes.push(unpackBits(encoded.subarray(start, Math.min(end, encoded.length)), pixels));
  }
  const n = pixels * layout.samplesPerPixel;
  const values = bytesPerSample === 1 ? new Uint8Array(n) : bytesPerSample === 2 ? new Uint16Array(n) : new Uint32Array(n);
  for (let sample = 0; sample < layout.samplesPerPixel; sample++) {
    for (let p = 0; p < pixels; p++) {
      let v = 0;
      for (let b = 0; b < bytesPerSample; b++) v = v * 256 + planes[sample * bytesPerSample + b][p];
      values[p * layout.samplesPerPixel + sample] = v;
    }
  }
  return { values, signedByCodec: false, convertedToRgb: false };
}

function unpackBits(src: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let i = 0;
  let o = 0;
  while (i < src.length && o < length) {
    const header = (src[i++] << 24) >> 24; // signed byte
    if (header >= 0) {
      const count = Math.min(header + 1, length - o, src.length - i);
      out.set(src.subarray(i, i + count), o);
      i += header + 1;
      o += count;
    } else if (header !== -128) {
      const count = Math.min(1 - header, length - o);
      out.fill(src[i++], o, o + count);
      o += count;
    }
  }
  if (o < length) throw new Error('RLE segment ended early');
  return out;
}

/** Decodes one compressed frame. Unsupported syntaxes throw DICOM_UNSUPPORTED_TRANSFER_SYNTAX. */
export async function decodeCompressedFrame(syntax: string, encoded: Uint8Array, layout: FrameLayout, file: string): Promise<DecodedFrame> {
  if (!COMPRESSED_DECODABLE.has(syntax)) throw unsupportedSyntax(syntax, file);
  if (syntax === TS.jpegBaseline && layout.bitsAllocated > 8) throw unsupportedSyntax(syntax, file, 'it declares more than 8 bits per sample');
  try {
    switch (syntax) {
      case TS.rle:
        return decodeRle(encoded, layout);
      case TS.jpegBaseline:
        return await decodeWithWasm('@cornerstonejs/codec-libjpeg-turbo-8bit', 'JPEGDecoder', encoded, layout);
      case TS.jpegLossless:
      case TS.jpegLosslessSV1:
        return decodeJpegLossless(encoded, layout);
      case TS.jpegLsLossless:
      case TS.jpegLsNearLossless:
        return await decodeWithWasm('@cornerstonejs/codec-charls', 'JpegLSDecoder', encoded, layout);
      default:
        return await decodeWithWasm('@cornerstonejs/codec-openjpeg', 'J2KDecoder', encoded, layout);
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : typeof e === 'number' ? `decoder abort ${e}` : String(e);
    throw new AppError('DICOM_CORRUPT', `The compressed image in "${basename(file)}" (${transferSyntaxName(syntax)}) is damaged and cannot be decoded: ${reason}.`, { file, transferSyntax: syntax });
  }
}

export function unsupportedSyntax(syntax: string, file: string, why?: string): AppError {
  return new AppError(
    'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
    `"${basename(file)}" is compressed with ${transferSyntaxName(syntax)}${why ? `, and ${why}` : ''}, which this program cannot decode. Export the series uncompressed (or as JPEG 2000 / JPEG-LS / RLE) and import again.`,
    { file, transferSyntax: syntax },
  );
}
