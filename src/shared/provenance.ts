/**
 * How a run's provenance names the device its network ran on and the healthy reference its cuts
 * read. Shared by the PDF report, the analysis and threshold panels, compare and the CLI so that
 * all say the same thing, including whether an accelerator was checked against the CPU and why
 * others were passed over.
 */
import type { HealthyReferenceStamp, RunReferenceInfo } from './types';

/**
 * The device part of a run's provenance as stored (core's DeviceReport, or a note for classical
 * runs). Read back from JSON, so every field may be missing in an old run.
 */
export interface DeviceProvenance {
  active?: string;
  requested?: string;
  intraOpThreads?: number;
  note?: string;
  skipped?: { device: string; reason: string }[];
  checkedAgainstCpu?: { maxDifference: number };
}

export function describeDevice(d: DeviceProvenance | null | undefined): string {
  if (!d?.active) return 'not recorded';
  const parts = [d.active.toUpperCase()];
  if (d.requested && d.requested !== d.active) parts.push(`(requested ${d.requested})`);
  if (d.checkedAgainstCpu) parts.push(`(agreed with the CPU on a test input within ${d.checkedAgainstCpu.maxDifference.toExponential(1)})`);
  if (d.intraOpThreads && d.active === 'cpu') parts.push(`${d.intraOpThreads} threads`);
  if (d.note) parts.push(`— ${d.note}`);
  return parts.join(' ') + (d.skipped ?? []).map((s) => `; ${s.device} skipped: ${s.reason}`).join('');
}

/**
 * A healthy reference in brief ("8 healthy scans, calibrated 2026-12-04"), said the same way by
 * the threshold panel, the run's provenance, the compare view, the CLI and the PDF report.
 * `formatDate` turns the ISO calibration time into the caller's date style (default: the day).
 */
export function describeReferenceStamp(s: HealthyReferenceStamp, formatDate: (iso: string) => string = (iso) => iso.slice(0, 10)): string {
  return `${s.scans} healthy scan${s.scans === 1 ? '' : 's'}${s.calibratedAt ? `, calibrated ${formatDate(s.calibratedAt)}` : ''}`;
}

/**
 * Where a run stands with its healthy reference: its copy cannot be read; it keeps none (analysed
 * before runs kept one, so it reads the inpainter's current one); the inpainter's reference has
 * changed since the run's copy was taken; or it reads the current one.
 */
export function referenceState(info: RunReferenceInfo): 'unreadable' | 'not-kept' | 'changed' | 'current' {
  if (info.unreadable !== null) return 'unreadable';
  if (!info.kept) return 'not-kept';
  return info.current !== null && info.current.sha256 !== info.readAgainst?.sha256 ? 'changed' : 'current';
}
