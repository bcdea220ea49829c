import type { ErrorCode } from '../../../shared/errors';
import type { Volume } from '../volume';

export type InputFormat = 'dicom' | 'nifti' | 'png';

/** One volume found in the inputs, ready for the library. */
export interface LoadedSeries {
  volume: Volume;
  /** Every file whose voxels went into the volume (absolute paths as given or found). */
  files: string[];
  format: InputFormat;
}

/** A file (or path) that could not be used; the rest of the import goes on. */
export interface InputError {
  file: string;
  code: ErrorCode;
  message: string;
}

/** Something skipped on purpose (non-image DICOM, DICOMDIR, unrelated files in a folder). */
export interface InputNote {
  file: string;
  message: string;
}

export interface ScanResult {
  series: LoadedSeries[];
  errors: InputError[];
  notes: InputNote[];
}

/** Collects per-file outcomes while scanning; loaders hand each finished series to `add`. */
export interface ScanSink {
  error(file: string, code: ErrorCode, message: string): void;
  note(file: string, message: string): void;
  add(series: LoadedSeries): Promise<void>;
}
