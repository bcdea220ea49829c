import type { Migration } from './types';

/**
 * Reviewer edits of a run. A review freezes the run's lesion labels at one reading
 * (runs/<id>/review-labels.i16, review-brain.u8); every edit is an event with what it changed,
 * so undo/redo survive restarts and the report can list who changed what, when.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'review',
  up: `
    CREATE TABLE reviews (
      run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
      reading_json TEXT NOT NULL,
      threshold_json TEXT NOT NULL,
      next_label INTEGER NOT NULL,
      started_by TEXT NOT NULL,
      started_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE review_lesions (
      run_id TEXT NOT NULL REFERENCES reviews(run_id) ON DELETE CASCADE,
      label INTEGER NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending',
      type TEXT NOT NULL DEFAULT '',
      note TEXT NOT NULL DEFAULT '',
      origin TEXT NOT NULL,
      updated_by TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (run_id, label)
    );
    CREATE TABLE review_events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      run_id TEXT NOT NULL REFERENCES reviews(run_id) ON DELETE CASCADE,
      kind TEXT NOT NULL,
      summary TEXT NOT NULL,
      payload_json TEXT NOT NULL,
      author TEXT NOT NULL,
      at TEXT NOT NULL,
      undone INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX review_events_run ON review_events(run_id, id);
  `,
};
