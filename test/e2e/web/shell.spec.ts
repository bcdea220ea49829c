import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, rpc, waitJob } from '../server-fixture';
import type { StudySummary } from '../../../src/shared/types';
import { writeNifti } from '../../../src/main/core/io/nifti';

test.describe('browser mode foundation', () => {
  test('API refuses requests without the token and answers with it', async ({ server, request }) => {
    const without = await request.post(`${server.origin}/api/rpc/app.info`, { data: {} });
    expect(without.status()).toBe(401);
    expect((await without.json()).error.code).toBe('UNAUTHORIZED');

    const wrong = await request.post(`${server.origin}/api/rpc/app.info`, { data: {}, headers: { Authorization: 'Bearer not-the-token' } });
    expect(wrong.status()).toBe(401);

    const ok = await request.post(`${server.origin}/api/rpc/app.info`, { data: {}, headers: { Authorization: `Bearer ${server.token}` } });
    expect(ok.status()).toBe(200);
    const body = await ok.json();
    expect(body.result.researchNotice).toMatch(/Research use only/);
    expect(body.result.mode).toBe('browser');
  });

  test('malformed requests get a clear 400 error, never a stack trace', async ({ server, request }) => {
    const r = await request.post(`${server.origin}/api/rpc/series.get`, { data: { seriesId: 42 }, headers: { Authorization: `Bearer ${server.token}` } });
    expect(r.status()).toBe(400);
    const body = await r.json();
    expect(body.error.code).toBe('BAD_REQUEST');
    expect(body.error.message).toMatch(/seriesId/);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  test('the WebSocket refuses a connection without the token', async ({ server, page }) => {
    await page.goto(`${server.origin}/`);
    const outcome = await page.evaluate(
      (wsUrl) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(wsUrl);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        }),
      `ws://${new URL(server.origin).host}/ws`,
    );
    expect(outcome).toBe('refused');
  });

  test('the shell renders with the research-use label and an empty library', async ({ freshServer: server, page }) => {
    await page.goto(server.url);
    await expect(page.getByTestId('app-shell')).toBeVisible();
    await expect(page.getByText('RESEARCH USE ONLY')).toBeVisible();
    await expect(page.getByTestId('app-version')).toContainText('browser mode');
    await expect(page.getByTestId('library-empty')).toBeVisible();
    await expect(page.getByTestId('import-panel')).toBeVisible();
    await page.screenshot({ path: 'test-results/screens/shell.png' });
  });

  test('an import that finds no image shows as failed with the reason, and the library is unchanged', async ({ freshServer: server, page }) => {
    const empty = mkdtempSync(join(tmpdir(), 'ict-e2e-empty-'));
    await page.goto(server.url);
    await expect(page.getByTestId('library-empty')).toBeVisible();
    await page.getByTestId('import-path').fill(empty);
    await page.getByTestId('import-path-submit').click();
    const job = page.locator('[data-testid="job"][data-kind="import"]');
    await expect(job).toHaveAttribute('data-status', 'failed');
    await expect(job).toContainText(/Nothing was imported\. The folder .* is empty/);
    await expect(page.getByTestId('library-empty')).toBeVisible();
  });

  test('a library of one series opens it; with two, the reader chooses', async ({ freshServer: server, page }) => {
    test.setTimeout(120_000);
    expect((await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 5, slices: 3 })).jobId)).status).toBe('succeeded');
    await page.goto(server.url);
    await expect(page.getByTestId('reading-workspace')).toBeVisible();
    await expect(page.getByTestId('series-item')).toHaveAttribute('aria-pressed', 'true');

    expect((await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 6, slices: 3 })).jobId)).status).toBe('succeeded');
    // A new window (its own session) has two series to choose from: none is opened for the reader.
    const other = await page.context().browser()!.newPage();
    await other.goto(server.url);
    await expect(other.getByTestId('series-item')).toHaveCount(2);
    await expect(other.getByText('Choose a series in the library on the left.')).toBeVisible();
    await expect(other.getByTestId('reading-workspace')).toHaveCount(0);
    await other.close();
  });

  test('removing a study asks first, then takes its series and analyses off the disk', async ({ freshServer: server, page }) => {
    test.setTimeout(120_000);
    const synth = await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 5, slices: 3 })).jobId);
    expect(synth.status).toBe('succeeded');
    const [study] = await rpc<StudySummary[]>(server, 'studies.list', {});
    const seriesId = study.series[0].id;
    const analysis = await waitJob(server, (await rpc<{ jobId: string }>(server, 'analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })).jobId);
    expect(analysis.status).toBe('succeeded');
    expect(readdirSync(join(server.dataDir, 'runs'))).toHaveLength(1);

    await page.goto(server.url);
    await page.getByTestId('series-item').click();
    await page.getByTestId('study-delete').click();
    const confirm = page.getByTestId('study-delete-confirm');
    await expect(confirm).toContainText('1 series and their analyses');
    // "Keep" changes nothing.
    await confirm.getByRole('button', { name: 'Keep' }).click();
    await expect(page.getByTestId('series-item')).toHaveCount(1);
    await page.getByTestId('study-delete').click();
    await page.getByTestId('study-delete-yes').click();
    await expect(page.getByTestId('library-empty')).toBeVisible();
    expect(await rpc<StudySummary[]>(server, 'studies.list', {})).toEqual([]);
    expect(readdirSync(join(server.dataDir, 'runs'))).toEqual([]);
    // The rows go first (a failed file removal leaves orphans the next start sweeps), so the list
    // can empty while the series folder is still being removed: wait for the disk, briefly.
    await expect.poll(() => readdirSync(join(server.dataDir, 'series')), { timeout: 10_000 }).toEqual([]);
  });

  test('an analysis that cannot run says why in the analysis panel, not only in the job bar', async ({ freshServer: server, page }) => {
    test.setTimeout(120_000);
    // A CT-valued block with no skull around it: there is no brain to extract.
    const dir = mkdtempSync(join(tmpdir(), 'ict-e2e-block-'));
    const [nx, ny, nz] = [64, 64, 4];
    const data = new Int16Array(nx * ny * nz).fill(-1000);
    for (let k = 0; k < nz; k++) for (let j = 16; j < 48; j++) for (let i = 16; i < 48; i++) data[i + nx * (j + ny * k)] = 30;
    await writeNifti({ data, dims: [nx, ny, nz], spacing: [1, 1, 5], origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], intensityUnit: 'HU', meta: {}, warnings: [] }, join(dir, 'block.nii.gz'));
    const imported = await waitJob(server, (await rpc<{ jobId: string }>(server, 'imports.start', { paths: [join(dir, 'block.nii.gz')] })).jobId);
    expect(imported.status).toBe('succeeded');

    await page.goto(server.url);
    await page.getByTestId('series-item').click();
    await page.getByTestId('inpainter-select').selectOption('linear');
    await page.getByTestId('run-analysis').click();
    const failed = page.getByTestId('analysis-failed');
    await expect(failed).toBeVisible({ timeout: 60_000 });
    await expect(failed).toContainText(/^The analysis did not finish: .*brain/i);
  });
});
