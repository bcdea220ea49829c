/**
 * Errors a user can cause carry a stable code and a sentence a clinician understands.
 * Everything that crosses a process or network boundary is reduced to {code, message};
 * stack traces never reach the renderer.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'CANCELLED',
  'INTERNAL',
  // input files
  'FILE_NOT_FOUND',
  'FILE_EMPTY',
  'FILE_TRUNCATED',
  'NOT_DICOM',
  'DICOM_NO_PIXELS',
  'DICOM_UNSUPPORTED_TRANSFER_SYNTAX',
  'DICOM_NOT_IMAGE',
  'NIFTI_INVALID',
  'NIFTI_SIZE_MISMATCH',
  'GZIP_CORRUPT',
  'PNG_INVALID',
  'PNG_SIZE_MISMATCH',
  'UNSUPPORTED_FORMAT',
  'NO_IMAGES_FOUND',
  // analysis
  'NOT_CT',
  'NO_BRAIN',
  'MODEL_NOT_FOUND',
  'MODEL_MANIFEST_INVALID',
  'MODEL_CHECKSUM_MISMATCH',
  'MODEL_SHAPE_MISMATCH',
  'DEVICE_UNAVAILABLE',
  'GEOMETRY_MISMATCH',
  // storage
  'DATABASE_TOO_NEW',
  'DATABASE_CORRUPT',
  // models
  'MODEL_LOAD_FAILED',
  // input files (appended)
  'DICOM_CORRUPT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
  /** Optional machine-readable detail (file path, field name); never a stack trace. */
  detail?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
  }

  toPayload(): ErrorPayload {
    return this.detail ? { code: this.code, message: this.message, detail: this.detail } : { code: this.code, message: this.message };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError || (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'AppError' && typeof (e as { code?: unknown }).code === 'string');
}

/** Reduce anything thrown to what may cross a boundary. Unknown failures become INTERNAL with a generic sentence. */
export function toErrorPayload(e: unknown): ErrorPayload {
  if (isAppError(e)) return e.detail ? { code: e.code, message: e.message, detail: e.detail } : { code: e.code, message: e.message };
  if (e instanceof Error && e.name === 'AbortError') return { code: 'CANCELLED', message: 'The operation was cancelled.' };
  const text = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message: `An internal error occurred: ${text.split('\n')[0].slice(0, 300)}` };
}
