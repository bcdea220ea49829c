/**
 * Entry of every job worker thread. It loads the handler registry (the default one, or a
 * module named by the caller, which tests use), runs one job, and reports progress, the
 * result or a {code, message} error. Cancellation arrives as a message and aborts the signal
 * every core loop checks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { toErrorPayload } from '../../shared/errors';
import type { FromWorker, JobHandlerRegistry, ToWorker } from './types';

interface WorkerInput {
  kind: string;
  params: unknown;
  dataDir: string;
  handlersModule?: string;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const input = workerData as WorkerInput;
  const controller = new AbortController();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'cancel') controller.abort();
  });
  const post = (m: FromWorker) => port.postMessage(m);
  try {
    const registry: JobHandlerRegistry = input.handlersModule
      ? (await import(pathToFileURL(input.handlersModule).href)).jobHandlers
      : (await import('./handlers')).jobHandlers;
    const handler = registry[input.kind];
    if (!handler) throw new Error(`No handler for job kind "${input.kind}".`);
    let lastSent = 0;
    const result = await handler(input.params as never, {
      signal: controller.signal,
      dataDir: input.dataDir,
      onProgress: (progress) => {
        // Progress can be reported thousands of times a second; the UI needs ~10 Hz.
        const now = Date.now();
        if (now - lastSent < 100 && progress.done < progress.total) return;
        lastSent = now;
        post({ type: 'progress', progress });
      },
    });
    post({ type: 'result', result });
  } catch (e) {
    post({ type: 'error', error: toErrorPayload(e) });
  }
}

void main();
