/**
 * A run's own copy of the healthy reference its z cuts are read against (healthy-reference.json
 * in the run folder).
 *
 * Why a copy: a z cut means "where one healthy voxel in N would score", and that score comes from
 * the inpainter's reference, which `npm run calibrate` or an app update can replace (the shipped
 * references moved by up to 13% at z 3.5 when they were recalibrated on eight subjects). Read
 * against the model's reference of the day, a finished analysis would silently change its cut,
 * its lesions and its volumes. So a run keeps the reference it was analysed with, and moves to a
 * newer one only when the reader asks (`adoptCurrentReference`).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../shared/errors';
import type { ReadingSettings } from '../../../shared/analysis';
import type { HealthyReferenceStamp, RunReferenceInfo } from '../../../shared/types';
import { parseHealthyReferenceSet, type HealthyReferenceSet } from '../scoring/threshold';
import { replaceFile } from '../io/files';
import { healthyReferencePath, loadHealthyReferences } from './reading';
import type { InpainterChoice } from './analyze';

export const PINNED_REFERENCE_FILE = 'healthy-reference.json';

/** JSON with object keys in sorted order, so equal references hash equally however they were written. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The reference in brief; null for an inpainter without one (an uncalibrated model). */
export function stampHealthyReferences(set: HealthyReferenceSet): HealthyReferenceStamp | null {
  const entries = Object.values(set.metrics);
  if (entries.length === 0) return null;
  const dates = entries.map((e) => e.createdAt).filter((d): d is string => typeof d === 'string' && d.length > 0);
  return {
    sha256: createHash('sha256').update(canonicalJson(set)).digest('hex'),
    entries: entries.length,
    scans: Math.min(...entries.map((e) => e.scans)),
    calibratedAt: dates.length ? dates.sort().at(-1)! : null,
    source: entries.find((e) => e.source)?.source ?? null,
  };
}

/** Whether two stamps describe the same reference (both absent counts as the same). */
export function sameReference(a: HealthyReferenceStamp | null, b: HealthyReferenceStamp | null): boolean {
  return (a?.sha256 ?? null) === (b?.sha256 ?? null);
}

export interface PinnedReference {
  references: HealthyReferenceSet;
  stamp: HealthyReferenceStamp | null;
  /** When this copy was taken. */
  pinnedAt: string;
  /** True when the reader replaced the analysis' reference with a newer one. */
  adopted: boolean;
}

interface PinnedReferenceFile {
  format: 'inpaint-ct-healthy-reference';
  pinnedAt: string;
  adopted: boolean;
  /** Same shape as a model manifest's `healthyReference`: empty for an uncalibrated inpainter. */
  metrics: HealthyReferenceSet['metrics'];
}

/**
 * Writes the run's copy. Through a temporary file and a rename, so a crash never leaves a run
 * with half a reference (which would refuse every z cut it has).
 */
export async function writePinnedReference(runDir: string, references: HealthyReferenceSet, options: { adopted: boolean; at?: Date }): Promise<PinnedReference> {
  const file: PinnedReferenceFile = { format: 'inpaint-ct-healthy-reference', pinnedAt: (options.at ?? new Date()).toISOString(), adopted: options.adopted, metrics: references.metrics };
  await replaceFile(join(runDir, PINNED_REFERENCE_FILE), JSON.stringify(file, null, 2));
  return { references, stamp: stampHealthyReferences(references), pinnedAt: file.pinnedAt, adopted: file.adopted };
}

/** The run's copy, or null for a run written before runs kept one. */
export async function readPinnedReference(runDir: string): Promise<PinnedReference | null> {
  const path = join(runDir, PINNED_REFERENCE_FILE);
  if (!existsSync(path)) return null;
  let json: Partial<PinnedReferenceFile>;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Partial<PinnedReferenceFile>;
  } catch {
    throw new AppError('UNSUPPORTED_FORMAT', `The healthy reference kept with the run in "${runDir}" is damaged (${PINNED_REFERENCE_FILE} is not valid JSON).`);
  }
  if (json.format !== 'inpaint-ct-healthy-reference') throw new AppError('UNSUPPORTED_FORMAT', `The ${PINNED_REFERENCE_FILE} in "${runDir}" was not written by Inpaint CT.`);
  const references = parseHealthyReferenceSet({ metrics: json.metrics ?? {} });
  return { references, stamp: stampHealthyReferences(references), pinnedAt: String(json.pinnedAt ?? ''), adopted: json.adopted === true };
}

/** What a run reads its z cuts against, and how that stands against the inpainter's reference now. */
export interface RunReferences {
  references: HealthyReferenceSet;
  info: RunReferenceInfo;
}

/**
 * The references to read a run with: its own copy, else (an older run) the inpainter's current
 * one. The current one is looked up as well, to tell the reader when it differs; a model that is
 * no longer installed does not stop a run with its own copy from being read. A copy that cannot
 * be read (damaged), or an older run whose inpainter's reference cannot be loaded, leaves the
 * run readable at absolute and percentile cuts; its z cuts are refused with the reason
 * (`assertZReadable`), never read against some other reference in silence.
 */
export async function runReferences(runDir: string, inpainter: InpainterChoice, modelsDir: string): Promise<RunReferences> {
  let pinned: PinnedReference | null = null;
  let unreadable: string | null = null;
  try {
    pinned = await readPinnedReference(runDir);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    unreadable = e.message;
  }
  const kept = existsSync(join(runDir, PINNED_REFERENCE_FILE));
  let current: HealthyReferenceSet | null = null;
  let currentUnavailable: string | null = null;
  try {
    current = await loadHealthyReferences(modelsDir, inpainter);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    currentUnavailable = e.message;
    if (!kept) unreadable = `This run was analysed before runs kept their healthy reference, and its inpainter's cannot be loaded (${e.message})`;
  }
  const references = pinned?.references ?? (unreadable !== null ? { metrics: {} } : current!);
  return {
    references,
    info: {
      kept,
      readAgainst: unreadable === null ? stampHealthyReferences(references) : null,
      current: current ? stampHealthyReferences(current) : null,
      currentUnavailable,
      adoptedAt: pinned?.adopted ? pinned.pinnedAt : null,
      unreadable,
    },
  };
}

/** Whether the run already reads these references from its own, readable copy: adopting them would change nothing. */
export function readsReferences(info: RunReferenceInfo, references: HealthyReferenceSet): boolean {
  return info.kept && info.unreadable === null && sameReference(info.readAgainst, stampHealthyReferences(references));
}

/** Refuses a z cut on a run whose reference cannot be read, saying why and what helps. */
export function assertZReadable(reading: Pick<ReadingSettings, 'strategy'>, info: RunReferenceInfo): void {
  if (reading.strategy.kind !== 'zscore' || info.unreadable === null) return;
  const remedy = info.current ? ' Read the run against the current reference to replace it, or use' : ' Use';
  throw new AppError('UNSUPPORTED_FORMAT', `This run's z cuts cannot be read: ${info.unreadable.replace(/\.$/, '')}.${remedy} an absolute or percentile cut.`);
}

/**
 * A token that changes when the run's copy or the inpainter's reference file does (recalibrated,
 * adopted by the CLI, replaced, damaged, removed), so an open run notices without reading and
 * parsing both on every slider move: two `stat`s.
 */
export async function referenceVersion(runDir: string, modelsDir: string, inpainter: InpainterChoice): Promise<string> {
  const version = async (path: string) => {
    try {
      const s = await stat(path);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'missing';
    }
  };
  return `${await version(join(runDir, PINNED_REFERENCE_FILE))}|${await version(healthyReferencePath(modelsDir, inpainter))}`;
}
