import type { Migration } from './types';

/** Analysis runs: one row per finished analysis, its files in runs/<id>/. */
export const migration0002: Migration = {
  version: 2,
  name: 'runs',
  up: `
    CREATE TABLE runs (
      id TEXT PRIMARY KEY,
      series_id TEXT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
      job_id TEXT NOT NULL,
      label TEXT NOT NULL,
      inpainter_json TEXT NOT NULL,
      model_id TEXT,
      model_sha256 TEXT,
      preset TEXT,
      device TEXT NOT NULL,
      provenance_json TEXT NOT NULL,
      reading_json TEXT NOT NULL,
      summary_json TEXT NOT NULL,
      dir TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX runs_series ON runs(series_id);
  `,
};
