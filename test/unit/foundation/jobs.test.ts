import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { Services } from '../../../src/main/services/index';
import type { JobInfo } from '../../../src/shared/types';

const here = dirname(fileURLToPath(import.meta.url));
const handlersModule = join(here, '../../fixtures/jobs/handlers.ts');
const newDataDir = () => mkdtempSync(join(tmpdir(), 'ict-jobs-'));

describe('jobs', () => {
  it('runs in a worker, reports progress and persists the result', async () => {
    const services = await Services.open({ dataDir: newDataDir(), mode: 'cli', handlersModule });
    const progress: JobInfo[] = [];
    services.events.on('job.progress', (j) => progress.push(j));
    const job = services.jobs.start('count', { n: 5, delayMs: 120 }, { title: 'Count to 5' });
    const done = await services.jobs.waitFor(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toEqual({ counted: 5 });
    const counted = progress.filter((p) => p.stage === 'Counting');
    expect(counted.length).toBeGreaterThanOrEqual(3);
    expect(counted.map((p) => p.done)).toEqual([...counted.map((p) => p.done)].sort((a, b) => a - b));
    expect(counted.at(-1)).toMatchObject({ done: 5, total: 5 });
    // Persisted: a new query sees the same outcome.
    expect(await services.call('jobs.get', { jobId: job.id })).toMatchObject({ status: 'succeeded', result: { counted: 5 } });
    await services.close();
  });

  it('can be cancelled while running and ends as cancelled', async () => {
    const services = await Services.open({ dataDir: newDataDir(), mode: 'cli', handlersModule });
    const job = services.jobs.start('count', { n: 1000, delayMs: 20 }, { title: 'Long count' });
    await new Promise<void>((resolve) => {
      const off = services.events.on('job.progress', (j) => {
        if (j.id === job.id && j.done >= 2) {
          off();
          resolve();
        }
      });
    });
    expect(await services.call('jobs.cancel', { jobId: job.id })).toEqual({ cancelled: true });
    const done = await services.jobs.waitFor(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.done).toBeLessThan(1000);
    await services.close();
  });

  it('stores a failure with its clear error', async () => {
    const services = await Services.open({ dataDir: newDataDir(), mode: 'cli', handlersModule });
    const job = services.jobs.start('fail', {}, { title: 'Fails' });
    const done = await services.jobs.waitFor(job.id);
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'NOT_CT', message: 'This file is an MR scan; the analysis needs CT.' });
    await services.close();
  });

  it('marks a job that was running when the process died as interrupted on the next start', async () => {
    const dataDir = newDataDir();
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, '../../fixtures/jobs/crash-child.ts'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const jobId = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const m = /running (\S+)/.exec(String(d));
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const services = await Services.open({ dataDir, mode: 'cli', handlersModule });
    const job = (await services.call('jobs.get', { jobId })) as JobInfo;
    expect(job.status).toBe('interrupted');
    expect(job.resumable).toBe(true);
    expect(job.error?.message).toMatch(/stopped while this job was running/);
    await services.close();
  });
});
