import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AppError } from '../../../shared/errors';

/**
 * Reads a whole input file, turning the usual file-system failures into coded errors a
 * clinician can act on (missing file, empty file, a folder where a file was expected).
 */
export async function readInputFile(path: string): Promise<Uint8Array> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new AppError('UNSUPPORTED_FORMAT', `"${basename(path)}" is a folder, not a file.`, { file: path });
    size = st.size;
  } catch (e) {
    throw fileSystemError(e, path);
  }
  if (size === 0) throw new AppError('FILE_EMPTY', `The file "${basename(path)}" is empty (0 bytes).`, { file: path });
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw fileSystemError(e, path);
  }
}

export function fileSystemError(e: unknown, path: string): AppError {
  if (e instanceof AppError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new AppError('FILE_NOT_FOUND', `The path "${path}" does not exist.`, { file: path });
  if (code === 'EACCES' || code === 'EPERM') return new AppError('FILE_NOT_FOUND', `The file "${path}" cannot be read (permission denied).`, { file: path });
  if (code === 'EISDIR') return new AppError('UNSUPPORTED_FORMAT', `"${basename(path)}" is a folder, not a file.`, { file: path });
  const text = e instanceof Error ? e.message : String(e);
  return new AppError('FILE_NOT_FOUND', `The file "${path}" could not be read: ${text}`, { file: path });
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip data; damaged or cut-off archives become GZIP_CORRUPT. */
export function gunzipOrThrow(bytes: Uint8Array, name: string): Uint8Array {
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    const incomplete = /unexpected end/i.test(detail);
    throw new AppError(
      'GZIP_CORRUPT',
      incomplete
        ? `The compressed file "${name}" is incomplete (it was cut off while copying or downloading).`
        : `The compressed file "${name}" is damaged and cannot be decompressed.`,
      { file: name, reason: detail },
    );
  }
}

/** An ArrayBuffer holding exactly these bytes (copying only when the view does not span its buffer). */
export function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Natural sort key comparison: "slice2" before "slice10". */
export const naturalCompare = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;

/**
 * Writes a file through a temporary file beside it and a rename, so a crash mid-write never
 * leaves it half-written and a reader (a running app, another process) sees the old file or the
 * new one, never part of either.
 */
export async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  const scratch = `${path}.${process.pid}.tmp`;
  await writeFile(scratch, data);
  await rename(scratch, path);
}
