/**
 * A finished analysis keeps the healthy reference it was read against: when the model's reference
 * is recalibrated (an app update, `npm run calibrate`), the run's z cut and lesions stay as they
 * were, the threshold panel says the model's reference has changed, and the reader moves the run
 * to the new one only by asking. The server runs on a models folder of the test's own, so the
 * test can recalibrate it. A copy damaged on disk leaves the run open, with its z cut refused
 * and a repair offered.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, rpc, waitJob, startServe } from '../server-fixture';

const SHIPPED_LINEAR = join('models', 'classical', 'linear.reference.json');

test('a recalibrated reference does not move a finished run until the reader adopts it; a damaged copy is refused with the reason and repaired', async ({ page }) => {
  test.setTimeout(240_000);
  const modelsDir = mkdtempSync(join(tmpdir(), 'ict-e2e-models-'));
  mkdirSync(join(modelsDir, 'classical'));
  copyFileSync(SHIPPED_LINEAR, join(modelsDir, 'classical', 'linear.reference.json'));
  const server = await startServe(undefined, [], { INPAINT_CT_MODELS_DIR: modelsDir });
  try {
    const { jobId } = await rpc<{ jobId: string }>(server, 'synth.start', { seed: 11, lesions: ['iph'], timepoints: 1, slices: 8 });
    expect((await waitJob(server, jobId)).status).toBe('succeeded');

    await page.goto(server.url);
    await page.getByTestId('series-item').first().click();
    await page.getByTestId('inpainter-select').selectOption('linear');
    await page.getByTestId('run-analysis').click();
    await expect(page.locator('[data-testid="job"][data-kind="analysis"]').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 180_000 });
    const note = page.getByTestId('reference-note');
    await expect(note).toHaveAttribute('data-state', 'current');
    await expect(note).toContainText('Healthy reference: 8 healthy scans');
    await expect(note).toContainText('kept with this run');
    const cut = page.getByTestId('threshold-cut');
    await expect(cut).toContainText('→ score ≥');
    const cutText = (await cut.textContent())!;
    const lesions = (await page.getByTestId('lesion-count').textContent())!;

    // The model's reference is recalibrated: every healthy quantile a fifth higher.
    const json = JSON.parse(readFileSync(SHIPPED_LINEAR, 'utf8')) as { metrics: Record<string, { mean: number; std: number; quantiles: { value: number[] }; createdAt?: string }> };
    for (const ref of Object.values(json.metrics)) {
      ref.mean *= 1.2;
      ref.std *= 1.2;
      ref.quantiles.value = ref.quantiles.value.map((v) => v * 1.2);
      ref.createdAt = '2027-01-15T10:00:00.000Z';
    }
    writeFileSync(join(modelsDir, 'classical', 'linear.reference.json'), JSON.stringify(json));

    await page.reload();
    await page.getByTestId('series-item').first().click();
    await page.getByTestId('run-item').first().click();
    await expect(note).toHaveAttribute('data-state', 'changed');
    await expect(note).toContainText("The model's reference has changed since");
    await expect(cut).toHaveText(cutText);
    await expect(page.getByTestId('lesion-count')).toHaveText(lesions);

    await page.getByTestId('adopt-reference').click();
    await expect(note).toHaveAttribute('data-state', 'current');
    await expect(note).toContainText('adopted');
    const score = (text: string) => Number(/score ≥ ([\d.e-]+)/.exec(text)![1]);
    await expect.poll(async () => score((await cut.textContent())!)).toBeCloseTo(score(cutText) * 1.2, 2);
  } finally {
    server.process.kill('SIGTERM');
  }

  // The run's copy damaged on disk while the app was closed: the run still opens, its z cut is
  // refused with the reason, and reading it against the current reference repairs it.
  if (server.process.exitCode === null && server.process.signalCode === null) await new Promise((resolve) => server.process.once('exit', resolve));
  const [runDir] = readdirSync(join(server.dataDir, 'runs'));
  writeFileSync(join(server.dataDir, 'runs', runDir, 'healthy-reference.json'), '{"format": "inpaint-ct-heal');
  const restarted = await startServe(server.dataDir, [], { INPAINT_CT_MODELS_DIR: modelsDir });
  try {
    await page.goto(restarted.url);
    await page.getByTestId('series-item').first().click();
    await page.getByTestId('run-item').first().click();
    const note = page.getByTestId('reference-note');
    await expect(note).toHaveAttribute('data-state', 'unreadable');
    await expect(page.getByTestId('threshold-panel').getByRole('alert')).toContainText("This run's z cuts cannot be read");
    await page.getByTestId('adopt-reference').click();
    await expect(note).toHaveAttribute('data-state', 'current');
    await expect(page.getByTestId('threshold-panel').getByRole('alert')).toHaveCount(0);
    await expect(page.getByTestId('threshold-cut')).toContainText('→ score ≥');
  } finally {
    restarted.process.kill('SIGTERM');
  }
});
