import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Services } from '../../../src/main/services/index';
import type { StudySummary } from '../../../src/shared/types';

describe('synthetic cases in the library', () => {
  it('generates a two-timepoint case as one study with two series and their lesion truth', async () => {
    const services = await Services.open({ dataDir: mkdtempSync(join(tmpdir(), 'ict-syn-')), mode: 'cli' });
    const { jobId } = (await services.call('synth.start', { seed: 11, lesions: ['iph'], timepoints: 2, intervalDays: 5, slices: 10 })) as { jobId: string };
    const job = await services.jobs.waitFor(jobId);
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const studies = (await services.call('studies.list', {})) as StudySummary[];
    expect(studies).toHaveLength(1);
    expect(studies[0].patientName).toBe('SYNTHETIC^SEED 11');
    expect(studies[0].series).toHaveLength(2);
    const volumes: number[] = [];
    for (const s of studies[0].series) {
      expect(s.dims).toEqual([512, 512, 10]);
      const vol = await services.library.loadVolume(s.id);
      const truth = vol.meta.synthetic!;
      expect(truth.seed).toBe(11);
      expect(truth.lesions.map((l) => l.type)).toContain('iph');
      volumes.push(truth.lesions.find((l) => l.type === 'iph')!.volumeMl);
      const labels = await services.readBinary(`series/${s.id}/truth`);
      expect(labels.bytes.length).toBe(512 * 512 * 10);
      const ml = labels.bytes.reduce((a, v) => a + (v === 1 ? 1 : 0), 0) * (vol.spacing[0] * vol.spacing[1] * vol.spacing[2]) / 1000;
      expect(ml).toBeCloseTo(truth.lesions[0].volumeMl, 1);
    }
    expect(new Set(volumes).size).toBe(2);
    await services.close();
  });
});
