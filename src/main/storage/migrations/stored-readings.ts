import type { Database } from 'better-sqlite3';

/**
 * Rewrites every stored reading (on runs, reviews and the reader's saved defaults) through
 * `mark`, which returns its argument unchanged when the reading needs nothing. Used by the
 * migrations that give readings a new setting whose default differs from what older readings
 * meant.
 */
export function rewriteStoredReadings(db: Database, mark: (reading: unknown) => unknown): void {
  const rewrite = (select: string, update: string, column: string, key: string) => {
    const rows = db.prepare(select).all() as Record<string, string>[];
    const write = db.prepare(update);
    for (const row of rows) {
      let value: unknown;
      try {
        value = JSON.parse(row[column]);
      } catch {
        continue; // not ours to repair; the reader reports it when it is used
      }
      const marked = mark(value);
      if (marked !== value) write.run(JSON.stringify(marked), row[key]);
    }
  };
  rewrite(`SELECT id, reading_json FROM runs`, `UPDATE runs SET reading_json = ? WHERE id = ?`, 'reading_json', 'id');
  rewrite(`SELECT run_id, reading_json FROM reviews`, `UPDATE reviews SET reading_json = ? WHERE run_id = ?`, 'reading_json', 'run_id');
  rewrite(`SELECT key, value_json FROM settings WHERE key LIKE 'reading:%'`, `UPDATE settings SET value_json = ? WHERE key = ?`, 'value_json', 'key');
}
