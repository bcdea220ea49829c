/**
 * How a run's provenance names the device its network ran on. Shared by the PDF report, the
 * analysis panel and the CLI's log so that all say the same thing, including whether an
 * accelerator was checked against the CPU and why others were passed over.
 */

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
