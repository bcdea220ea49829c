import type { Database } from 'better-sqlite3';
import { withStoredExtent } from '../../../shared/analysis';
import { rewriteStoredReadings } from './stored-readings';
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
  up: (db: Database) => rewriteStoredReadings(db, withStoredExtent),
};
