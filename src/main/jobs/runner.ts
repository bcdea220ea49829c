import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, type ErrorCode } from '../../shared/errors';
import { CancelledError, type Progress } from '../core/progress';
import type { FromWorker } from './types';

/**
 * Where the worker entry lives: beside the bundle after `electron-vite build` (out/main/worker.js),
 * or as TypeScript source when running through tsx / vitest, in which case the worker needs the
 * tsx loader too.
 */
function workerEntry(): { file: string; sourceEntry?: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'worker.js');
  if (existsSync(built)) return { file: built };
  const source = join(here, 'worker.ts');
  if (!existsSync(source)) throw new Error(`Job worker entry not found near ${here}`);
  return { file: join(here, 'worker-bootstrap.mjs'), sourceEntry: source };
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** Test hook: a module exporting `jobHandlers` to use instead of the built-in registry. */
  handlersModule?: string;
}

/** Run one job handler in its own worker thread. Rejects with AppError or CancelledError. */
export function runInWorker(kind: string, params: unknown, dataDir: string, opts: RunOptions = {}): Promise<unknown> {
  const { file, sourceEntry } = workerEntry();
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, {
      workerData: { kind, params, dataDir, handlersModule: opts.handlersModule, sourceEntry },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'cancel' });
      // A handler that ignores the signal is stopped the hard way after a grace period.
      setTimeout(() => settle(() => reject(new CancelledError())), 5000).unref();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'progress') opts.onProgress?.(m.progress);
      else if (m.type === 'result') settle(() => resolve(m.result));
      else if (m.type === 'error') {
        settle(() => (m.error.code === 'CANCELLED' ? reject(new CancelledError()) : reject(new AppError(m.error.code as ErrorCode, m.error.message, m.error.detail))));
      }
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new AppError('INTERNAL', `The background worker stopped unexpectedly (exit code ${code}).`))));
  });
}
