import type { Database } from 'better-sqlite3';

export interface ReviewRow {
  runId: string;
  reading: unknown;
  threshold: { value: number; description: string };
  nextLabel: number;
  startedBy: string;
  startedAt: string;
  updatedAt: string;
}

export interface ReviewLesionRow {
  label: number;
  status: 'pending' | 'accepted' | 'rejected';
  type: string;
  note: string;
  origin: 'detected' | 'drawn';
  updatedBy: string;
  updatedAt: string;
}

export interface ReviewEventRow {
  id: number;
  kind: string;
  summary: string;
  payload: unknown;
  author: string;
  at: string;
  undone: boolean;
}

export class ReviewRepository {
  constructor(private readonly db: Database) {}

  get(runId: string): ReviewRow | undefined {
    const r = this.db.prepare(`SELECT * FROM reviews WHERE run_id = ?`).get(runId) as
      | { run_id: string; reading_json: string; threshold_json: string; next_label: number; started_by: string; started_at: string; updated_at: string }
      | undefined;
    return r
      ? { runId: r.run_id, reading: JSON.parse(r.reading_json), threshold: JSON.parse(r.threshold_json), nextLabel: r.next_label, startedBy: r.started_by, startedAt: r.started_at, updatedAt: r.updated_at }
      : undefined;
  }

  create(review: ReviewRow, lesions: ReviewLesionRow[]): void {
    const ins = this.db.prepare(`INSERT INTO review_lesions (run_id, label, status, type, note, origin, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      this.db
        .prepare(`INSERT INTO reviews (run_id, reading_json, threshold_json, next_label, started_by, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(review.runId, JSON.stringify(review.reading), JSON.stringify(review.threshold), review.nextLabel, review.startedBy, review.startedAt, review.updatedAt);
      for (const l of lesions) ins.run(review.runId, l.label, l.status, l.type, l.note, l.origin, l.updatedBy, l.updatedAt);
    })();
  }

  delete(runId: string): void {
    this.db.prepare(`DELETE FROM reviews WHERE run_id = ?`).run(runId);
  }

  lesions(runId: string): ReviewLesionRow[] {
    return (
      this.db.prepare(`SELECT * FROM review_lesions WHERE run_id = ? ORDER BY label`).all(runId) as {
        label: number;
        status: ReviewLesionRow['status'];
        type: string;
        note: string;
        origin: ReviewLesionRow['origin'];
        updated_by: string;
        updated_at: string;
      }[]
    ).map((r) => ({ label: r.label, status: r.status, type: r.type, note: r.note, origin: r.origin, updatedBy: r.updated_by, updatedAt: r.updated_at }));
  }

  /** Insert or replace one lesion's review state; `null` removes it (undo of a drawn lesion). */
  putLesion(runId: string, lesion: ReviewLesionRow | null, label: number): void {
    if (!lesion) {
      this.db.prepare(`DELETE FROM review_lesions WHERE run_id = ? AND label = ?`).run(runId, label);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO review_lesions (run_id, label, status, type, note, origin, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(run_id, label) DO UPDATE SET status = excluded.status, type = excluded.type, note = excluded.note, origin = excluded.origin, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      )
      .run(runId, lesion.label, lesion.status, lesion.type, lesion.note, lesion.origin, lesion.updatedBy, lesion.updatedAt);
  }

  setNextLabel(runId: string, next: number): void {
    this.db.prepare(`UPDATE reviews SET next_label = ?, updated_at = ? WHERE run_id = ?`).run(next, new Date().toISOString(), runId);
  }

  touch(runId: string): void {
    this.db.prepare(`UPDATE reviews SET updated_at = ? WHERE run_id = ?`).run(new Date().toISOString(), runId);
  }

  /** A new edit: the redo history after it is gone. */
  addEvent(runId: string, e: { kind: string; summary: string; payload: unknown; author: string }): number {
    return this.db.transaction(() => {
      this.db.prepare(`DELETE FROM review_events WHERE run_id = ? AND undone = 1`).run(runId);
      const r = this.db
        .prepare(`INSERT INTO review_events (run_id, kind, summary, payload_json, author, at) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(runId, e.kind, e.summary, JSON.stringify(e.payload), e.author, new Date().toISOString());
      return Number(r.lastInsertRowid);
    })();
  }

  events(runId: string): ReviewEventRow[] {
    return (this.db.prepare(`SELECT * FROM review_events WHERE run_id = ? ORDER BY id`).all(runId) as { id: number; kind: string; summary: string; payload_json: string; author: string; at: string; undone: number }[]).map((r) => ({
      id: r.id,
      kind: r.kind,
      summary: r.summary,
      payload: JSON.parse(r.payload_json),
      author: r.author,
      at: r.at,
      undone: r.undone === 1,
    }));
  }

  lastDone(runId: string): ReviewEventRow | undefined {
    return this.events(runId).filter((e) => !e.undone).at(-1);
  }

  firstUndone(runId: string): ReviewEventRow | undefined {
    return this.events(runId).find((e) => e.undone);
  }

  setUndone(id: number, undone: boolean): void {
    this.db.prepare(`UPDATE review_events SET undone = ? WHERE id = ?`).run(undone ? 1 : 0, id);
  }

  /** Run several repository calls atomically. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
