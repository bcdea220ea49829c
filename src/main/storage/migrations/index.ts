import type { Migration } from './types';
import { migration0001 } from './0001-initial';
import { migration0002 } from './0002-runs';
import { migration0003 } from './0003-review';
import { migration0004 } from './0004-lesion-extent';
import { migration0005 } from './0005-dense-exclusion';

/** Every schema version in order. Append only: a released migration is never edited. */
export const MIGRATIONS: Migration[] = [migration0001, migration0002, migration0003, migration0004, migration0005];
