/**
 * The "New synthetic case" dialog against the real server: two timepoints of an expanding
 * haemorrhage with a chosen growth per day, generated from the UI, and the comparison of their
 * analyses lists the generated volumes growing by that rate.
 */
import type { ComparisonResult, RunInfo, StudySummary } from '../../../src/shared/types';
import { test, expect, rpc, waitJob } from '../server-fixture';

test('generates two timepoints with a chosen lesion growth per day', async ({ freshServer: server, page }) => {
  test.setTimeout(240_000);
  await page.goto(server.url);
  await page.getByTestId('synth-open').click();
  const dialog = page.getByTestId('synth-dialog');
  await dialog.getByLabel('Seed').fill('31');
  await dialog.getByLabel('Timepoints').fill('2');
  // Typed key by key, a value passes through forms the field must not "correct" (0 on the way to 0.5).
  const days = dialog.getByLabel('Days between');
  await days.fill('');
  await days.pressSequentially('0.5');
  await expect(days).toHaveValue('0.5');
  await days.fill('2');
  // A field left empty is refused in words when generating, not silently reset.
  await dialog.getByLabel('Slices').fill('');
  await dialog.getByTestId('synth-create').click();
  await expect(dialog.getByRole('alert')).toContainText('The number of slices must be a number.');
  await dialog.getByLabel('Slices').fill('4');
  // A bad growth is refused in words, and nothing is generated.
  await dialog.getByTestId('synth-growth').fill('80');
  await dialog.getByTestId('synth-create').click();
  await expect(dialog.getByRole('alert')).toContainText('between -50 and 50');
  await dialog.getByTestId('synth-growth').fill('20');
  await dialog.getByTestId('synth-create').click();
  await expect(dialog).toBeHidden();
  const job = page.locator('[data-testid="job"][data-kind="synth"]').first();
  await expect(job).toHaveAttribute('data-status', 'succeeded', { timeout: 120_000 });

  const studies = await rpc<StudySummary[]>(server, 'studies.list', {});
  expect(studies).toHaveLength(1);
  const seriesIds = studies[0].series.map((s) => s.id);
  expect(seriesIds).toHaveLength(2);
  const runs: RunInfo[] = [];
  for (const seriesId of seriesIds) {
    const analysis = await waitJob(server, (await rpc<{ jobId: string }>(server, 'analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })).jobId);
    expect(analysis.status).toBe('succeeded');
    runs.push((await rpc<RunInfo[]>(server, 'analysis.runs', { seriesId }))[0]);
  }
  const compared = await rpc<ComparisonResult>(server, 'compare.runs', { runA: runs[0].id, runB: runs[1].id });
  const [earlier, later] = compared.dateA! < compared.dateB! ? ['A', 'B'] : ['B', 'A'];
  const haematoma = compared.truth!.lesions.find((l) => l.type === 'iph')!;
  const ratio = (haematoma[`volumeMl${later}` as 'volumeMlB'] as number) / (haematoma[`volumeMl${earlier}` as 'volumeMlA'] as number);
  // +20% a day for 2 days is exp(0.4) = 1.49 (the mask is voxelised, so not exactly).
  expect(ratio).toBeGreaterThan(1.4);
  expect(ratio).toBeLessThan(1.6);
});
