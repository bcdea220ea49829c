import type { Database } from 'better-sqlite3';
import { withStoredExtent } from '../../../shared/analysis';
import type { Migration } from './types';

/**
 * Readings gained a lesion extent (threshold or half-contrast outline), whose default for new
 * readings is the outline. Every reading stored before (on runs, reviews and the reader's saved
 * defaults) was read at the threshold and is marked so, so reopening an old run or review shows
 * exactly the lesions it showed before.
 */
export const migration0004: Migration = {
  version: 4,
  name: 'lesion-extent',
  up: (db: Database) => {
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
        const marked = withStoredExtent(value);
        if (marked !== value) write.run(JSON.stringify(marked), row[key]);
      }
    };
    rewrite(`SELECT id, reading_json FROM runs`, `UPDATE runs SET reading_json = ? WHERE id = ?`, 'reading_json', 'id');
    rewrite(`SELECT run_id, reading_json FROM reviews`, `UPDATE reviews SET reading_json = ? WHERE run_id = ?`, 'reading_json', 'run_id');
    rewrite(`SELECT key, value_json FROM settings WHERE key LIKE 'reading:%'`, `UPDATE settings SET value_json = ? WHERE key = ?`, 'value_json', 'key');
  },
};
