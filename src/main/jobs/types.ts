import type { Progress } from '../core/progress';

/** What a job handler receives in its worker thread. */
export interface JobContext {
  signal: AbortSignal;
  onProgress: (p: Progress) => void;
  /** The library's data directory (handlers write staged files under it, never rows). */
  dataDir: string;
}

/**
 * A job handler runs in a worker thread and may use only core code and the file system:
 * database writes happen afterwards on the main thread, in the job's completion step, so
 * a crash mid-job never leaves half-written rows.
 */
export type JobHandler<P = unknown, R = unknown> = (params: P, ctx: JobContext) => Promise<R>;

export type JobHandlerRegistry = Record<string, JobHandler<never, unknown>>;

/** Messages between the main thread and a job worker. */
export type ToWorker = { type: 'cancel' };
export type FromWorker =
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; result: unknown }
  | { type: 'error'; error: { code: string; message: string; detail?: Record<string, unknown> } };
