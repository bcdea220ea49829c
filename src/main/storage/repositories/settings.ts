import type { Database } from 'better-sqlite3';

/** Small JSON values: user defaults and per-study viewer settings. */
export class SettingsRepository {
  constructor(private readonly db: Database) {}

  get<T>(key: string): T | undefined {
    const r = this.db.prepare(`SELECT value_json FROM settings WHERE key = ?`).get(key) as { value_json: string } | undefined;
    return r ? (JSON.parse(r.value_json) as T) : undefined;
  }

  set(key: string, value: unknown): void {
    this.db
      .prepare(`INSERT INTO settings (key, value_json, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at`)
      .run(key, JSON.stringify(value), new Date().toISOString());
  }
}
