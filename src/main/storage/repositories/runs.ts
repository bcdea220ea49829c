import type { Database } from 'better-sqlite3';
import type { RunInfo } from '../../../shared/types';

interface RunRow {
  id: string;
  series_id: string;
  job_id: string;
  label: string;
  inpainter_json: string;
  model_id: string | null;
  model_sha256: string | null;
  preset: string | null;
  device: string;
  provenance_json: string;
  reading_json: string;
  summary_json: string;
  dir: string;
  created_at: string;
  review_started_by: string | null;
  review_updated_at: string | null;
  review_found: number;
  review_accepted: number;
  review_rejected: number;
}

/** The run with its review's progress, counted over the lesions the analysis found. */
const SELECT_RUNS = `
  SELECT runs.*, reviews.started_by AS review_started_by, reviews.updated_at AS review_updated_at,
    (SELECT count(*) FROM review_lesions l WHERE l.run_id = runs.id AND l.origin = 'detected') AS review_found,
    (SELECT count(*) FROM review_lesions l WHERE l.run_id = runs.id AND l.origin = 'detected' AND l.status = 'accepted') AS review_accepted,
    (SELECT count(*) FROM review_lesions l WHERE l.run_id = runs.id AND l.origin = 'detected' AND l.status = 'rejected') AS review_rejected
  FROM runs LEFT JOIN reviews ON reviews.run_id = runs.id`;

function toInfo(r: RunRow): RunInfo {
  return {
    id: r.id,
    seriesId: r.series_id,
    jobId: r.job_id,
    label: r.label,
    inpainter: JSON.parse(r.inpainter_json),
    modelId: r.model_id,
    modelSha256: r.model_sha256,
    preset: r.preset,
    device: r.device,
    provenance: JSON.parse(r.provenance_json),
    reading: JSON.parse(r.reading_json),
    summary: JSON.parse(r.summary_json),
    review:
      r.review_started_by === null
        ? null
        : { found: r.review_found, accepted: r.review_accepted, rejected: r.review_rejected, startedBy: r.review_started_by, updatedAt: r.review_updated_at! },
    createdAt: r.created_at,
  };
}

export class RunsRepository {
  constructor(private readonly db: Database) {}

  insert(run: RunInfo & { dir: string }): void {
    this.db
      .prepare(
        `INSERT INTO runs (id, series_id, job_id, label, inpainter_json, model_id, model_sha256, preset, device, provenance_json, reading_json, summary_json, dir, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        run.id, run.seriesId, run.jobId, run.label, JSON.stringify(run.inpainter), run.modelId, run.modelSha256, run.preset, run.device,
        JSON.stringify(run.provenance), JSON.stringify(run.reading), JSON.stringify(run.summary), run.dir, run.createdAt,
      );
  }

  get(id: string): (RunInfo & { dir: string }) | undefined {
    const r = this.db.prepare(`${SELECT_RUNS} WHERE runs.id = ?`).get(id) as RunRow | undefined;
    return r ? { ...toInfo(r), dir: r.dir } : undefined;
  }

  listForSeries(seriesId: string): RunInfo[] {
    return (this.db.prepare(`${SELECT_RUNS} WHERE runs.series_id = ? ORDER BY runs.created_at DESC, runs.rowid DESC`).all(seriesId) as RunRow[]).map(toInfo);
  }

  updateReading(id: string, reading: unknown, summary: unknown): void {
    this.db.prepare(`UPDATE runs SET reading_json = ?, summary_json = ? WHERE id = ?`).run(JSON.stringify(reading), JSON.stringify(summary), id);
  }

  allIds(): Set<string> {
    return new Set((this.db.prepare(`SELECT id FROM runs`).all() as { id: string }[]).map((r) => r.id));
  }

  delete(id: string): boolean {
    return this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id).changes > 0;
  }
}
