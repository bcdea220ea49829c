import { describe, expect, it } from 'vitest';
import type { RunProvenance } from '../../../src/main/core/pipeline/analyze';
import { describeDevice } from '../../../src/shared/provenance';

// Typed as core records it, so a change to DeviceReport that the shared formatter cannot read fails to compile.
const provenance = (device: RunProvenance['device']) => device;

describe('device line of the provenance (PDF report, analysis panel, CLI log)', () => {
  it('says that an accelerator was checked against the CPU, and why others were passed over', () => {
    const line = describeDevice(
      provenance({
        requested: 'auto',
        active: 'webgpu',
        intraOpThreads: 8,
        skipped: [{ device: 'cuda', reason: 'the CUDA execution provider is not installed.' }],
        checkedAgainstCpu: { maxDifference: 2.03e-5, outputScale: 1.79, deviceMs: 3, cpuMs: 4 },
      }),
    );
    expect(line).toBe('WEBGPU (requested auto) (agreed with the CPU on a test input within 2.0e-5); cuda skipped: the CUDA execution provider is not installed.');
  });

  it('gives the CPU its thread count and the reason an accelerator was refused', () => {
    const line = describeDevice(provenance({ requested: 'auto', active: 'cpu', intraOpThreads: 2, skipped: [{ device: 'webgpu', reason: "its results on a test input differ from the CPU's" }] }));
    expect(line).toBe("CPU (requested auto) 2 threads; webgpu skipped: its results on a test input differ from the CPU's");
  });

  it('keeps the note of a classical run and says so when an old run recorded no device', () => {
    expect(describeDevice(provenance({ active: 'cpu', note: 'classical inpainting runs on the CPU in JavaScript' }))).toBe('CPU — classical inpainting runs on the CPU in JavaScript');
    expect(describeDevice(undefined)).toBe('not recorded');
    expect(describeDevice({})).toBe('not recorded');
  });
});
