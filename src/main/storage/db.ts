import BetterSqlite3, { type Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '../../shared/errors';
import { MIGRATIONS } from './migrations/index';
import type { Migration } from './migrations/types';

export type { Database };

/**
 * Open (creating if needed) the library database and bring its schema up to date.
 * Pending migrations run in one transaction: a failure leaves the database exactly as it was.
 * A database written by a newer version of the app is refused rather than guessed at.
 */
export function openDatabase(file: string, migrations: Migration[] = MIGRATIONS): Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  let db: Database;
  try {
    db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
  } catch (e) {
    throw new AppError('DATABASE_CORRUPT', `The study library database could not be opened (${(e as Error).message}). It may be damaged; your files were not changed.`, { file });
  }
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    migrate(db, migrations);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Database, migrations: Migration[] = MIGRATIONS): { from: number; to: number } {
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  const current = schemaVersion(db);
  if (current > latest) {
    throw new AppError(
      'DATABASE_TOO_NEW',
      `This study library was written by a newer version of Inpaint CT (schema ${current}; this version understands up to ${latest}). Update the app to open it; nothing was changed.`,
      { current, latest },
    );
  }
  const pending = migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
  if (pending.length === 0) return { from: current, to: current };
  db.transaction(() => {
    for (const m of pending) {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      // user_version is set inside the transaction, so a failed step rolls it back too.
      db.pragma(`user_version = ${m.version}`);
    }
  })();
  return { from: current, to: pending[pending.length - 1].version };
}
