import type { Database } from 'better-sqlite3';
import type { ErrorPayload } from '../../../shared/errors';
import type { JobInfo, JobStatus } from '../../../shared/types';

interface JobRow {
  id: string;
  kind: string;
  title: string;
  status: JobStatus;
  stage: string;
  done: number;
  total: number;
  message: string;
  params_json: string;
  result_json: string | null;
  error_json: string | null;
  resumable: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function toInfo(r: JobRow): JobInfo {
  return {
    id: r.id,
    kind: r.kind,
    title: r.title,
    status: r.status,
    stage: r.stage,
    done: r.done,
    total: r.total,
    message: r.message,
    result: r.result_json ? JSON.parse(r.result_json) : null,
    error: r.error_json ? (JSON.parse(r.error_json) as ErrorPayload) : null,
    resumable: r.resumable === 1,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export class JobsRepository {
  constructor(private readonly db: Database) {}

  create(job: { id: string; kind: string; title: string; params: unknown; resumable: boolean }): JobInfo {
    const now = new Date().toISOString();
    this.db
      .prepare(`INSERT INTO jobs (id, kind, title, status, params_json, resumable, created_at) VALUES (?, ?, ?, 'queued', ?, ?, ?)`)
      .run(job.id, job.kind, job.title, JSON.stringify(job.params ?? null), job.resumable ? 1 : 0, now);
    return this.get(job.id)!;
  }

  get(id: string): JobInfo | undefined {
    const r = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as JobRow | undefined;
    return r ? toInfo(r) : undefined;
  }

  params(id: string): unknown {
    const r = this.db.prepare(`SELECT params_json FROM jobs WHERE id = ?`).get(id) as { params_json: string } | undefined;
    return r ? JSON.parse(r.params_json) : undefined;
  }

  list(limit: number): JobInfo[] {
    return (this.db.prepare(`SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?`).all(limit) as JobRow[]).map(toInfo);
  }

  markRunning(id: string): void {
    this.db.prepare(`UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?`).run(new Date().toISOString(), id);
  }

  progress(id: string, p: { stage: string; done: number; total: number; message?: string }): void {
    this.db
      .prepare(`UPDATE jobs SET stage = ?, done = ?, total = ?, message = ? WHERE id = ? AND status = 'running'`)
      .run(p.stage, Math.round(p.done), Math.round(p.total), p.message ?? '', id);
  }

  /**
   * Ends a job. A succeeded job's progress reads complete (its last report may have been sent
   * before the final step), and its message becomes `message` (a summary of the outcome) or empty:
   * a progress message says nothing once the job has ended.
   */
  finish(id: string, status: Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>, outcome: { result?: unknown; error?: ErrorPayload; message?: string }): void {
    this.db
      .prepare(
        `UPDATE jobs SET status = ?, result_json = ?, error_json = ?, finished_at = ?,
           done = CASE WHEN ? = 'succeeded' AND total > done THEN total ELSE done END,
           message = ?
         WHERE id = ?`,
      )
      .run(status, outcome.result === undefined ? null : JSON.stringify(outcome.result), outcome.error ? JSON.stringify(outcome.error) : null, new Date().toISOString(), status, outcome.message ?? '', id);
  }

  /**
   * Jobs that were queued or running when the process died can never finish: mark them
   * interrupted (with a clear error) instead of leaving a spinner forever.
   */
  markInterrupted(): JobInfo[] {
    const stale = this.db.prepare(`SELECT id FROM jobs WHERE status IN ('queued', 'running')`).all() as { id: string }[];
    if (stale.length === 0) return [];
    const error: ErrorPayload = { code: 'INTERNAL', message: 'The application stopped while this job was running. Nothing partial was kept; start it again.' };
    const stmt = this.db.prepare(`UPDATE jobs SET status = 'interrupted', error_json = ?, finished_at = ? WHERE id = ?`);
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const s of stale) stmt.run(JSON.stringify(error), now, s.id);
    })();
    return stale.map((s) => this.get(s.id)!);
  }
}
