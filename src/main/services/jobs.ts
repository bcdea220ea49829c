import { randomUUID } from 'node:crypto';
import { AppError, toErrorPayload } from '../../shared/errors';
import type { JobInfo } from '../../shared/types';
import { CancelledError } from '../core/progress';
import { runInWorker } from '../jobs/runner';
import type { JobsRepository } from '../storage/repositories/jobs';
import type { EventBus } from './events';

export interface StartJobOptions<R> {
  title: string;
  /** Whether an interrupted run can simply be started again with the same parameters. */
  resumable?: boolean;
  /**
   * Main-thread completion step (database commit). Its return value becomes the job's stored
   * result. It runs only after the worker succeeded and is not cancellable.
   */
  complete?: (workerResult: R, jobId: string) => unknown | Promise<unknown>;
  /** One line on how a succeeded job went, shown with it (e.g. files an import could not read). */
  summarize?: (result: unknown) => string;
  /** Runs after a failure or cancellation (remove staged files). */
  cleanup?: (jobId: string) => void | Promise<void>;
}

interface Running {
  controller: AbortController;
}

/**
 * Long work as jobs: start returns at once with the job; progress and the outcome arrive as
 * events and are persisted, so a job is never silently lost (one that was running when the
 * process died is marked interrupted at the next start).
 */
export class JobManager {
  private readonly running = new Map<string, Running>();
  private readonly queue: (() => void)[] = [];
  private readonly waiters = new Map<string, ((j: JobInfo) => void)[]>();
  private active = 0;

  constructor(
    private readonly deps: {
      repo: JobsRepository;
      events: EventBus;
      dataDir: string;
      /** Two cores here: one heavy job at a time keeps the UI responsive. */
      maxConcurrent?: number;
      handlersModule?: string;
    },
  ) {
    for (const job of deps.repo.markInterrupted()) deps.events.emit('job.finished', job);
  }

  start<R>(kind: string, params: unknown, opts: StartJobOptions<R>): JobInfo {
    const id = randomUUID();
    const job = this.deps.repo.create({ id, kind, title: opts.title, params, resumable: opts.resumable ?? true });
    const controller = new AbortController();
    this.running.set(id, { controller });
    const run = () => void this.execute<R>(id, kind, params, controller, opts);
    if (this.active < (this.deps.maxConcurrent ?? 1)) {
      this.active++;
      run();
    } else {
      this.queue.push(() => {
        this.active++;
        run();
      });
    }
    return job;
  }

  private async execute<R>(id: string, kind: string, params: unknown, controller: AbortController, opts: StartJobOptions<R>): Promise<void> {
    const { repo, events, dataDir } = this.deps;
    try {
      if (controller.signal.aborted) throw new CancelledError();
      repo.markRunning(id);
      events.emit('job.progress', repo.get(id)!);
      const workerResult = (await runInWorker(kind, params, dataDir, {
        signal: controller.signal,
        handlersModule: this.deps.handlersModule,
        onProgress: (p) => {
          repo.progress(id, p);
          events.emit('job.progress', repo.get(id)!);
        },
      })) as R;
      const result = opts.complete ? await opts.complete(workerResult, id) : workerResult;
      repo.finish(id, 'succeeded', { result, message: opts.summarize?.(result) });
    } catch (e) {
      const cancelled = e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError') || (e instanceof AppError && e.code === 'CANCELLED');
      try {
        await opts.cleanup?.(id);
      } catch {
        // Cleanup is best effort; the startup sweep removes anything left behind.
      }
      if (cancelled) repo.finish(id, 'cancelled', { error: { code: 'CANCELLED', message: 'Cancelled by the user. Nothing from this job was kept.' } });
      else repo.finish(id, 'failed', { error: toErrorPayload(e) });
    } finally {
      this.running.delete(id);
      this.active--;
      const job = repo.get(id)!;
      events.emit('job.finished', job);
      for (const w of this.waiters.get(id) ?? []) w(job);
      this.waiters.delete(id);
      this.queue.shift()?.();
    }
  }

  cancel(id: string): boolean {
    const r = this.running.get(id);
    if (!r) return false;
    r.controller.abort();
    return true;
  }

  get(id: string): JobInfo {
    const job = this.deps.repo.get(id);
    if (!job) throw new AppError('NOT_FOUND', 'That job does not exist.');
    return job;
  }

  list(limit: number): JobInfo[] {
    return this.deps.repo.list(limit);
  }

  /** Resolves when the job has finished (any outcome). */
  waitFor(id: string): Promise<JobInfo> {
    const job = this.get(id);
    if (!this.running.has(id)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /** Cancel everything (application shutdown). */
  async shutdown(): Promise<void> {
    const ids = [...this.running.keys()];
    for (const id of ids) this.cancel(id);
    await Promise.all(ids.map((id) => this.waitFor(id)));
  }
}
