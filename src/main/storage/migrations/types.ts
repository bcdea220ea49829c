import type { Database } from 'better-sqlite3';

/** One schema step. `up` is SQL, or a function for steps that need data rewrites. */
export interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database) => void);
}
