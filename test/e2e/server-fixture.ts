/**
 * Starts the real `inpaint-ct serve` (real services, SQLite, workers) on a random loopback port
 * with a fresh data directory, once per test file.
 */
import { test as base, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerInfo {
  url: string;
  /** Origin without token, e.g. http://127.0.0.1:1234 */
  origin: string;
  token: string;
  dataDir: string;
  process: ChildProcess;
}

/** `env`: added to the server's environment (e.g. INPAINT_CT_MODELS_DIR for a models folder of the test's own). */
export async function startServe(dataDir = mkdtempSync(join(tmpdir(), 'ict-e2e-')), extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ServerInfo> {
  const child = spawn(process.execPath, ['bin/inpaint-ct.mjs', 'serve', '--port', '0', '--json', '--data-dir', dataDir, ...(extraArgs.length ? extraArgs : ['--no-demo'])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const info = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  return { url: info.url, origin: new URL(info.url).origin, token: info.token, dataDir, process: child };
}

/**
 * `server` is shared by every test of a worker (cheap, state accumulates across files);
 * `freshServer` is a private server with an empty library, for tests that assert on the whole
 * library (an empty state, a list of every run).
 */
export const test = base.extend<{ freshServer: ServerInfo }, { server: ServerInfo }>({
  freshServer: async ({}, use) => {
    const s = await startServe();
    await use(s);
    s.process.kill('SIGTERM');
  },
  server: [
    async ({}, use) => {
      const s = await startServe();
      await use(s);
      s.process.kill('SIGTERM');
    },
    { scope: 'worker', timeout: 180_000 },
  ],
});

export { expect };

/** One call on the server's HTTP RPC endpoint, as the renderer's transport would make it. */
export async function rpc<T>(server: ServerInfo, method: string, params: unknown): Promise<T> {
  const r = await fetch(`${server.origin}/api/rpc/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(params) });
  const body = (await r.json()) as { result?: T; error?: { message: string } };
  if (!r.ok) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
  return body.result as T;
}

/** Polls a job until it leaves the queue, then returns it. */
export async function waitJob(server: ServerInfo, jobId: string, timeout = 180_000): Promise<{ status: string; result: unknown; error: unknown }> {
  await expect.poll(async () => (await rpc<{ status: string }>(server, 'jobs.get', { jobId })).status, { timeout, intervals: [250] }).not.toMatch(/queued|running/);
  return rpc(server, 'jobs.get', { jobId });
}
