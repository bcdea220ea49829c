import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { migrate, openDatabase, schemaVersion } from '../../../src/main/storage/db';
import { MIGRATIONS } from '../../../src/main/storage/migrations/index';
import type { Migration } from '../../../src/main/storage/migrations/types';
import { AppError } from '../../../src/shared/errors';

const latest = Math.max(...MIGRATIONS.map((m) => m.version));
const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'ict-db-')), 'library.sqlite');

describe('database migrations', () => {
  it('creates a fresh database at the latest schema in WAL mode', () => {
    const db = openDatabase(tmpDb());
    expect(schemaVersion(db)).toBe(latest);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['patients', 'studies', 'series', 'jobs', 'imports', 'import_files', 'settings']));
    db.close();
  });

  it('upgrades an older database, keeping its rows', () => {
    const file = tmpDb();
    const v1 = openDatabase(file, MIGRATIONS.filter((m) => m.version === 1));
    v1.prepare(`INSERT INTO settings (key, value_json, updated_at) VALUES ('k', '"kept"', 'now')`).run();
    v1.close();
    const next: Migration = { version: latest + 1, name: 'test-add-column', up: `ALTER TABLE settings ADD COLUMN note TEXT NOT NULL DEFAULT 'x'` };
    const db = openDatabase(file, [...MIGRATIONS, next]);
    expect(schemaVersion(db)).toBe(latest + 1);
    expect(db.prepare(`SELECT value_json, note FROM settings WHERE key = 'k'`).get()).toEqual({ value_json: '"kept"', note: 'x' });
    db.close();
  });

  it('rolls back every pending step when one fails', () => {
    const file = tmpDb();
    openDatabase(file).close();
    const good: Migration = { version: latest + 1, name: 'good', up: `CREATE TABLE extra (id INTEGER)` };
    const bad: Migration = { version: latest + 2, name: 'bad', up: `CREATE TABLE broken (` };
    expect(() => openDatabase(file, [...MIGRATIONS, good, bad])).toThrow();
    const db = new BetterSqlite3(file);
    expect(schemaVersion(db)).toBe(latest);
    expect(db.prepare(`SELECT name FROM sqlite_master WHERE name = 'extra'`).get()).toBeUndefined();
    db.close();
  });

  it('refuses a database from a newer version without touching it', () => {
    const file = tmpDb();
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${latest + 5}`);
    raw.exec(`CREATE TABLE future (x)`);
    raw.close();
    let err: unknown;
    try {
      openDatabase(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('DATABASE_TOO_NEW');
    expect((err as AppError).message).toMatch(/newer version of Inpaint CT/);
    const after = new BetterSqlite3(file);
    expect(schemaVersion(after)).toBe(latest + 5);
    after.close();
  });

  it('keeps readings saved before lesion outlines existed at the threshold extent', () => {
    const file = tmpDb();
    const v3 = openDatabase(file, MIGRATIONS.filter((m) => m.version <= 3));
    const put = v3.prepare(`INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, 'then')`);
    put.run('reading:default', JSON.stringify({ metric: 'absolute', strategy: { kind: 'absolute', value: 0.3 } }));
    put.run('reading:series:s1', JSON.stringify({ extent: 'half-contrast' }));
    put.run('viewer:s1', JSON.stringify({ zoom: 2 }));
    v3.close();
    const db = openDatabase(file);
    const get = (key: string) => JSON.parse((db.prepare(`SELECT value_json FROM settings WHERE key = ?`).get(key) as { value_json: string }).value_json);
    // Readings this old also predate the density limit (migration 5): they searched every voxel.
    expect(get('reading:default')).toEqual({ metric: 'absolute', strategy: { kind: 'absolute', value: 0.3 }, extent: 'threshold', denseExclusionHu: null });
    expect(get('reading:series:s1')).toEqual({ extent: 'half-contrast', denseExclusionHu: null });
    expect(get('viewer:s1')).toEqual({ zoom: 2 });
    db.close();
  });

  it('keeps readings saved before the density limit searching every voxel, and new ones as saved', () => {
    const file = tmpDb();
    const v4 = openDatabase(file, MIGRATIONS.filter((m) => m.version <= 4));
    const put = v4.prepare(`INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, 'then')`);
    put.run('reading:default', JSON.stringify({ extent: 'half-contrast', minSizeMl: 0.1 }));
    put.run('reading:series:s2', JSON.stringify({ extent: 'threshold', denseExclusionHu: 130 }));
    put.run('reading:series:s3', '{not json');
    v4.close();
    const db = openDatabase(file);
    const raw = (key: string) => (db.prepare(`SELECT value_json FROM settings WHERE key = ?`).get(key) as { value_json: string }).value_json;
    expect(JSON.parse(raw('reading:default'))).toEqual({ extent: 'half-contrast', minSizeMl: 0.1, denseExclusionHu: null });
    expect(JSON.parse(raw('reading:series:s2'))).toEqual({ extent: 'threshold', denseExclusionHu: 130 });
    // A damaged value is left for the reader to report, not rewritten.
    expect(raw('reading:series:s3')).toBe('{not json');
    db.close();
  });

  it('is a no-op when already current', () => {
    const db = openDatabase(':memory:');
    expect(migrate(db)).toEqual({ from: latest, to: latest });
    db.close();
  });
});
