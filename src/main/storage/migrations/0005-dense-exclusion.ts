import type { Database } from 'better-sqlite3';
import { withStoredDenseExclusion } from '../../../shared/analysis';
import { rewriteStoredReadings } from './stored-readings';
import type { Migration } from './types';

/**
 * Readings gained a density limit for the lesion search (voxels of 170 HU or more, bone and
 * calcification, are left out by default). Every reading stored before (on runs, reviews and the
 * reader's saved defaults) searched every brain voxel and is marked so (null), so reopening an
 * old run or review shows exactly the lesions it showed before.
 */
export const migration0005: Migration = {
  version: 5,
  name: 'dense-exclusion',
  up: (db: Database) => rewriteStoredReadings(db, withStoredDenseExclusion),
};
