/**
 * The importer's single entry point: give it files and folders in any mix, get back volumes,
 * per-file errors and notes. Formats are recognised by content (DICOM magic or a plausible bare
 * data set, NIfTI header, PNG signature), not by extension, so one unreadable or unrelated file
 * never stops the others.
 */
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { AppError, toErrorPayload, type ErrorCode } from '../../../shared/errors';
import { throwIfAborted, yieldToEventLoop, type TaskOptions } from '../progress';
import { intensityStats, type SeriesWarning, type Vec3 } from '../volume';
import { loadDicomSeries } from './dicom';
import { parseDicom, sniffDicom, str } from './dicom-parse';
import { fileSystemError, readInputFile } from './files';
import { readNifti } from './nifti';
import { loadPngStacks, type PngStackOptions } from './png';
import type { InputError, InputFormat, InputNote, LoadedSeries, ScanResult, ScanSink } from './types';

export type { InputError, InputFormat, InputNote, LoadedSeries, ScanResult } from './types';
export { readNifti, writeNifti, encodeNifti, decodeNifti } from './nifti';
export { writeDicomCtSeries, encodeDicomCtSeries } from './dicom-write';
export { newDicomUid } from './uid';
export { DEFAULT_PNG_WINDOW, type PngStackOptions } from './png';

export interface ScanOptions extends TaskOptions {
  png?: PngStackOptions;
  /** Stop walking folders after this many files (a mistaken drop of a whole disk). Default 200,000. */
  maxFiles?: number;
  /**
   * Receives each series as soon as it is loaded. When given, series are not kept in the result
   * (`series` stays empty), so memory holds one volume at a time however many series there are.
   */
  onSeries?: (series: LoadedSeries) => void | Promise<void>;
}

type Kind = 'dicom' | 'dicomdir' | 'nifti' | 'png' | 'other';

const SKIPPED_NAMES = new Set(['__MACOSX', 'Thumbs.db', 'desktop.ini', '$RECYCLE.BIN', 'System Volume Information', 'lost+found', 'node_modules']);
/** Unrelated files in a folder are listed one by one up to this many, then summarised. */
const MAX_NOTES_PER_FOLDER = 20;
const SNIFF_BYTES = 512;
const SNIFF_CONCURRENCY = 16;

function isSkippedName(name: string): boolean {
  return name.startsWith('.') || SKIPPED_NAMES.has(name);
}

/** Recursively lists the files under `root`, skipping hidden and system entries and symlink loops. */
async function walk(root: string, maxFiles: number, opts: TaskOptions): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const queue: string[] = [root];
  while (queue.length) {
    throwIfAborted(opts.signal);
    const dir = queue.shift()!;
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable sub-folder: nothing to import there
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (isSkippedName(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) queue.push(p);
      else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink()) {
        const st = await stat(p).catch(() => null);
        if (st?.isDirectory()) queue.push(p);
        else if (st?.isFile()) out.push(p);
      }
      if (out.length > maxFiles) {
        throw new AppError('BAD_REQUEST', `The folder "${root}" holds more than ${maxFiles.toLocaleString('en')} files; choose the folder of one study or series instead.`, { file: root });
      }
    }
    if (out.length % 2000 === 0) opts.onProgress?.({ stage: 'Listing folders', done: out.length, total: 0 });
  }
  return out;
}

function hasNiftiName(path: string): boolean {
  return /\.(nii|hdr)(\.gz)?$/i.test(path);
}

/** Recognises a file from its first bytes (and, for gzip, its name). */
function classify(path: string, head: Uint8Array, size: number): Kind {
  const name = basename(path);
  if (name.toUpperCase() === 'DICOMDIR') return 'dicomdir';
  if (head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return 'png';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return hasNiftiName(path) ? 'nifti' : 'other';
  if (head.length >= 348) {
    const le = head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] << 24);
    const be = (head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
    const magic1 = String.fromCharCode(head[344], head[345], head[346]);
    const magic2 = String.fromCharCode(head[4], head[5], head[6]);
    if ((le === 348 || be === 348) && (magic1 === 'n+1' || magic1 === 'ni1')) return 'nifti';
    if ((le === 540 || be === 540) && (magic2 === 'n+2' || magic2 === 'ni2')) return 'nifti';
  }
  if (hasNiftiName(path) && size > 0) return 'nifti'; // let the reader say what is wrong with it
  return sniffDicom(head) ? 'dicom' : 'other';
}

async function readHead(path: string): Promise<{ head: Uint8Array; size: number }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const head = new Uint8Array(Math.min(SNIFF_BYTES, st.size));
    if (head.length) await fh.read(head, 0, head.length, 0);
    return { head, size: st.size };
  } finally {
    await fh.close();
  }
}

async function mapPool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Files referenced by a DICOMDIR, resolved against its folder. */
async function dicomdirFiles(path: string): Promise<string[]> {
  const parsed = parseDicom(await readInputFile(path), path);
  const records = parsed.ds.DirectoryRecordSequence;
  const list = Array.isArray(records) ? records : records ? [records] : [];
  const out: string[] = [];
  for (const r of list as Record<string, unknown>[]) {
    const id = r.ReferencedFileID;
    const parts = (Array.isArray(id) ? id : id ? [id] : []).map((x) => String(x).trim()).filter(Boolean);
    if (parts.length && str(r.DirectoryRecordType) === 'IMAGE') out.push(join(dirname(path), ...parts));
  }
  return out;
}

class Collector implements ScanSink {
  readonly errors: InputError[] = [];
  readonly notes: InputNote[] = [];
  readonly series: LoadedSeries[] = [];
  count = 0;
  constructor(private readonly onSeries?: (series: LoadedSeries) => void | Promise<void>) {}
  async add(series: LoadedSeries): Promise<void> {
    this.count++;
    if (this.onSeries) await this.onSeries(series);
    else this.series.push(series);
  }
  error(file: string, code: ErrorCode, message: string): void {
    this.errors.push({ file, code, message });
  }
  note(file: string, message: string): void {
    this.notes.push({ file, message });
  }
}

/**
 * Finds and loads every volume in `paths` (files and folders, any mix). Never throws for bad input:
 * each problem becomes an entry in `errors` with a code and a sentence; cancellation throws.
 */
export async function scanInputs(paths: string[], opts: ScanOptions = {}): Promise<ScanResult> {
  const { signal, onProgress } = opts;
  const sink = new Collector(opts.onSeries);
  const maxFiles = opts.maxFiles ?? 200_000;

  // 1. Expand folders; remember which files were named explicitly.
  const candidates: { path: string; explicit: boolean; root: string }[] = [];
  const seen = new Set<string>();
  for (const raw of paths) {
    throwIfAborted(signal);
    const path = resolve(raw);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      const err = fileSystemError(e, raw);
      sink.error(raw, err.code, err.message);
      continue;
    }
    if (st.isDirectory()) {
      try {
        const files = await walk(path, maxFiles, opts);
        if (files.length === 0) sink.error(raw, 'NO_IMAGES_FOUND', `The folder "${raw}" is empty.`);
        for (const f of files) {
          if (seen.has(f)) continue;
          seen.add(f);
          candidates.push({ path: f, explicit: false, root: raw });
        }
      } catch (e) {
        if ((e as Error)?.name === 'AbortError') throw e;
        const p = toErrorPayload(e);
        sink.error(raw, p.code, p.message);
      }
    } else if (!seen.has(path)) {
      seen.add(path);
      candidates.push({ path, explicit: true, root: raw });
    }
  }

  // 2. Recognise each file by its first bytes.
  const total = candidates.length;
  let checked = 0;
  const kinds = await mapPool(candidates, SNIFF_CONCURRENCY, async (c) => {
    throwIfAborted(signal);
    if (++checked % 500 === 0) onProgress?.({ stage: 'Checking files', done: checked, total });
    try {
      const { head, size } = await readHead(c.path);
      if (size === 0) return { kind: 'empty' as const, size };
      return { kind: classify(c.path, head, size), size };
    } catch (e) {
      return { kind: 'unreadable' as const, size: 0, error: fileSystemError(e, c.path) };
    }
  });
  onProgress?.({ stage: 'Checking files', done: total, total });

  const dicom: string[] = [];
  const nifti: string[] = [];
  const png: string[] = [];
  const unrelatedByRoot = new Map<string, { files: string[] }>();
  const imagesByRoot = new Map<string, number>();
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const k = kinds[i];
    const countImage = () => imagesByRoot.set(c.root, (imagesByRoot.get(c.root) ?? 0) + 1);
    switch (k.kind) {
      case 'unreadable':
        sink.error(c.path, k.error!.code, k.error!.message);
        break;
      case 'empty':
        sink.error(c.path, 'FILE_EMPTY', `The file "${basename(c.path)}" is empty (0 bytes).`);
        break;
      case 'dicom':
        dicom.push(c.path);
        countImage();
        break;
      case 'nifti':
        nifti.push(c.path);
        countImage();
        break;
      case 'png':
        png.push(c.path);
        countImage();
        break;
      case 'dicomdir':
        if (c.explicit) {
          try {
            const refs = await dicomdirFiles(c.path);
            if (refs.length === 0) sink.error(c.path, 'NO_IMAGES_FOUND', `The DICOMDIR "${c.path}" lists no images.`);
            for (const r of refs) {
              if (seen.has(r)) continue;
              seen.add(r);
              dicom.push(r);
            }
            sink.note(c.path, `DICOMDIR read: it lists ${refs.length} image file${refs.length === 1 ? '' : 's'}.`);
            countImage();
          } catch (e) {
            const p = toErrorPayload(e);
            sink.error(c.path, p.code, p.message);
          }
        } else {
          sink.note(c.path, 'DICOMDIR index skipped: the images in its folder are read directly.');
        }
        break;
      default: {
        const ext = extname(c.path).toLowerCase();
        // The voxel half of a NIfTI .hdr/.img pair is read through its header.
        if (/\.img(\.gz)?$/i.test(c.path) && (seen.has(c.path.replace(/\.img(\.gz)?$/i, '.hdr')) || seen.has(c.path.replace(/\.img(\.gz)?$/i, '.hdr.gz')))) break;
        if (c.explicit || ext === '.dcm' || ext === '.dicom' || ext === '.ima') {
          const tooShort = k.size < 132 && (ext === '.dcm' || ext === '.dicom' || ext === '.ima');
          if (tooShort) sink.error(c.path, 'FILE_TRUNCATED', `The file "${basename(c.path)}" is too short (${k.size} bytes) to be a DICOM image; it was probably cut off.`);
          else if (ext === '.png') sink.error(c.path, 'PNG_INVALID', `"${basename(c.path)}" is named .png but is not a PNG image.`);
          else if (ext === '.gz') sink.error(c.path, 'UNSUPPORTED_FORMAT', `"${basename(c.path)}" is a gzip archive; only NIfTI (.nii.gz) files may be gzip-compressed. Decompress it first.`);
          else sink.error(c.path, ext === '.dcm' || ext === '.dicom' || ext === '.ima' ? 'NOT_DICOM' : 'UNSUPPORTED_FORMAT', `"${basename(c.path)}" is not a DICOM, NIfTI or PNG image.`);
        } else {
          let u = unrelatedByRoot.get(c.root);
          if (!u) unrelatedByRoot.set(c.root, (u = { files: [] }));
          u.files.push(c.path);
        }
      }
    }
  }
  for (const [root, u] of unrelatedByRoot) {
    if (!imagesByRoot.get(root)) {
      sink.error(root, 'NO_IMAGES_FOUND', `No DICOM, NIfTI or PNG images were found in "${root}" (${u.files.length.toLocaleString('en')} other file${u.files.length === 1 ? '' : 's'} checked).`);
    } else if (u.files.length <= MAX_NOTES_PER_FOLDER) {
      for (const f of u.files) sink.note(f, 'Skipped: not a DICOM, NIfTI or PNG image.');
    } else {
      sink.note(root, `Skipped ${u.files.length.toLocaleString('en')} files in "${root}" that are not DICOM, NIfTI or PNG images (e.g. "${basename(u.files[0])}").`);
    }
  }

  // 3. Load.
  if (dicom.length) await loadDicomSeries(dicom, sink, opts);
  for (let i = 0; i < nifti.length; i++) {
    throwIfAborted(signal);
    onProgress?.({ stage: 'Reading NIfTI', done: i, total: nifti.length });
    await yieldToEventLoop();
    try {
      const volume = await readNifti(nifti[i]);
      await sink.add({ volume, files: [nifti[i]], format: 'nifti' });
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') throw e;
      const p = toErrorPayload(e);
      sink.error(nifti[i], p.code, p.message);
    }
  }
  if (png.length) await loadPngStacks(png, sink, opts.png, opts);
  if (sink.count === 0 && sink.errors.length === 0) {
    const skipped = sink.notes.length ? ` (${sink.notes.length} item${sink.notes.length === 1 ? ' was' : 's were'} skipped; see the notes)` : '';
    sink.error(paths.join(', '), 'NO_IMAGES_FOUND', `No images to import were found${skipped}.`);
  }
  return { series: sink.series, errors: sink.errors, notes: sink.notes };
}

/** What `info` prints per series: enough to decide what to import, no voxels. */
export interface SeriesDescription {
  format: InputFormat;
  modality: string | null;
  description: string | null;
  seriesInstanceUid: string | null;
  studyInstanceUid: string | null;
  patientName: string | null;
  studyDate: string | null;
  dims: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: number[];
  intensityUnit: string;
  warnings: SeriesWarning[];
  huMin: number;
  huMax: number;
  huMean: number;
  fileCount: number;
  firstFile: string;
}

export interface DescribeResult {
  series: SeriesDescription[];
  errors: InputError[];
  notes: InputNote[];
}

/** Describes what `paths` contain without importing anything; holds one volume in memory at a time. */
export async function describeInputs(paths: string[], opts: ScanOptions = {}): Promise<DescribeResult> {
  const series: SeriesDescription[] = [];
  const round = (x: number) => Math.round(x * 100) / 100;
  const scan = await scanInputs(paths, {
    ...opts,
    onSeries: async (s) => {
      const v = s.volume;
      const stats = intensityStats(v.data);
      series.push({
        format: s.format,
        modality: v.meta.modality ?? null,
        description: v.meta.seriesDescription ?? null,
        seriesInstanceUid: v.meta.seriesInstanceUid ?? null,
        studyInstanceUid: v.meta.studyInstanceUid ?? null,
        patientName: v.meta.patientName ?? null,
        studyDate: v.meta.studyDate ?? null,
        dims: [...v.dims] as Vec3,
        spacing: [...v.spacing] as Vec3,
        origin: v.origin.map(round) as Vec3,
        direction: v.direction.map((x) => Math.round(x * 1e6) / 1e6),
        intensityUnit: v.intensityUnit,
        warnings: v.warnings,
        huMin: round(stats.min),
        huMax: round(stats.max),
        huMean: round(stats.mean),
        fileCount: s.files.length,
        firstFile: s.files[0] ?? '',
      });
      await opts.onSeries?.(s);
    },
  });
  return { series, errors: scan.errors, notes: scan.notes };
}
