/**
 * Every long core function takes these options so the Electron host, the server, the CLI
 * and the tests run exactly the same code: cancellation is an AbortSignal checked in every
 * loop, progress is reported as {stage, done, total}.
 */
export interface Progress {
  stage: string;
  done: number;
  total: number;
  /** Optional human-readable detail, e.g. the file being read. */
  message?: string;
}

export interface TaskOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export class CancelledError extends Error {
  constructor() {
    super('The operation was cancelled.');
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Lets the event loop breathe (progress messages, cancel requests) inside long synchronous loops. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
