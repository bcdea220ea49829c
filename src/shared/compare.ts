/**
 * How a comparison of two runs reads, shared by the compare view and `inpaint-ct compare` so that
 * both print the same volumes, changes and interval.
 */
import type { ComparisonResult } from './types';

/** "20240131" -> "2024-01-31"; anything else as given. */
export function formatStudyDate(d: string): string {
  return /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}` : d || 'no date';
}

export function formatMl(v: number): string {
  return v.toFixed(2);
}

/** A change in mL and in percent with its sign ("+0.85", "−9%"); "new" when A had none. */
export function formatChange(ml: number, pct: number | null): { ml: string; pct: string } {
  const sign = ml > 0 ? '+' : ml < 0 ? '−' : '±';
  return { ml: `${sign}${Math.abs(ml).toFixed(2)}`, pct: pct === null ? 'new' : `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${Math.abs(pct * 100).toFixed(0)}%` };
}

/** B's date minus A's in days; a negative interval says that B is the earlier scan. */
export function describeInterval(days: number | null): string {
  if (days === null) return 'unknown (study dates missing)';
  return `${days} day${Math.abs(days) === 1 ? '' : 's'}${days < 0 ? ' (B is the earlier scan)' : ''}`;
}

export function densityLabel(sign: ComparisonResult['rows'][number]['sign']): string {
  return sign === 'hyper' ? 'hyperdense' : sign === 'hypo' ? 'hypodense' : '—';
}

/** The generated (synthetic truth) total change, or null when the runs are not synthetic. */
export function truthTotalChange(result: ComparisonResult): { ml: string; pct: string } | null {
  const t = result.truth;
  if (!t) return null;
  const change = t.totalMlB - t.totalMlA;
  return formatChange(change, t.totalMlA > 0 ? change / t.totalMlA : null);
}

/** The notes a reader must see before trusting the change: who is compared, and how each side was read. */
export function comparisonWarnings(result: ComparisonResult): string[] {
  return [result.subjectNote, result.readingNote, result.referenceNote].filter((n): n is string => n !== null);
}
