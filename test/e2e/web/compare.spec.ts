/**
 * Comparing two timepoints from the UI against the real server: a two-timepoint synthetic
 * haemorrhage analysed twice, both runs chosen in the compare view, both viewers ready, the
 * volume table with its interval and the generated volume of each lesion, and slice scrolling in one viewer followed by the other.
 */
import { test, expect, rpc, waitJob } from '../server-fixture';

test('two timepoints side by side: synchronised slices, volume table with interval', async ({ freshServer: server, page }) => {
  test.setTimeout(300_000);
  const synth = await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 5, lesions: ['iph'], timepoints: 2, intervalDays: 5, slices: 6 })).jobId);
  expect(synth.status).toBe('succeeded');
  const seriesIds = (synth.result as { studies: { series: { id: string }[] }[] }).studies.flatMap((s) => s.series.map((x) => x.id));
  expect(seriesIds).toHaveLength(2);
  const runIds: string[] = [];
  for (const seriesId of seriesIds) {
    const job = await waitJob(server, (await rpc<{ jobId: string }>(server, 'analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' }, reading: { strategy: { kind: 'absolute', value: 0.25 } } })).jobId);
    expect(job.status).toBe('succeeded');
    runIds.push((await rpc<{ id: string }[]>(server, 'analysis.runs', { seriesId }))[0].id);
  }

  await page.goto(server.url);
  await page.getByTestId('compare-open').click();
  const pickA = page.getByTestId('compare-run-a');
  const pickB = page.getByTestId('compare-run-b');
  await expect(pickA.locator('option')).toHaveCount(3);
  // The options are in date order: the first run is the earlier timepoint.
  const values = await pickA.locator('option').evaluateAll((os) => os.map((o) => String((o as unknown as { value: string }).value)).filter(Boolean));
  expect([...values].sort()).toEqual([...runIds].sort());
  // Each option carries its own timepoint's date, 5 days apart, not the study's first date twice.
  const labels = (await pickA.locator('option').allTextContents()).filter((t) => /\d{4}-\d\d-\d\d/.test(t));
  const dates = labels.map((t) => /(\d{4}-\d\d-\d\d)$/.exec(t)![1]);
  expect(dates).toHaveLength(2);
  expect((Date.parse(dates[1]) - Date.parse(dates[0])) / 86_400_000).toBe(5);
  await pickA.selectOption(values[0]);
  await pickB.selectOption(values[1]);
  await page.getByTestId('compare-go').click();

  const sideA = page.getByTestId('compare-side-a');
  const sideB = page.getByTestId('compare-side-b');
  const axialA = sideA.getByTestId('viewport-axial');
  const axialB = sideB.getByTestId('viewport-axial');
  await expect(axialA).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await expect(axialB).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });

  // The table: two totals, the interval, the generated truth, and the grid sentence.
  await expect(page.getByTestId('compare-interval')).toHaveText('Interval: 5 days', { timeout: 60_000 });
  await expect(page.getByTestId('compare-total-a')).toHaveText(/^\d+\.\d\d$/);
  await expect(page.getByTestId('compare-total-b')).toHaveText(/^\d+\.\d\d$/);
  await expect(page.getByTestId('compare-truth')).toBeVisible();
  // Per generated lesion (the haematoma and its oedema), and the row found on the haematoma says so.
  await expect(page.getByTestId('compare-truth-lesion')).toHaveCount(2);
  await expect(page.getByTestId('compare-truth-lesion').first()).toContainText(/Generated iph-1 \(iph\)|Generated iph-1-edema \(edema\)/);
  await expect(page.getByTestId('compare-row-truth').filter({ hasText: /on generated iph-1$/ }).first()).toBeVisible();
  await expect(page.getByTestId('compare-matching')).toHaveAttribute('data-same-grid', 'true');
  // Both runs were read alike against one reference: no warning about settings or references.
  await expect(page.getByTestId('compare-reading-note')).toHaveCount(0);
  await expect(page.getByTestId('compare-reference-note')).toHaveCount(0);

  // Scroll A with its slider: B's axial slice follows; then scroll B with the keyboard: A follows.
  const start = Number(await axialA.getAttribute('data-slice'));
  const target = start === 1 ? 2 : 1;
  await sideA.getByTestId('slice-slider-axial').fill(String(target));
  await expect(axialA).toHaveAttribute('data-slice', String(target));
  await expect(axialB).toHaveAttribute('data-slice', String(target));
  await axialB.hover();
  await page.mouse.wheel(0, 120);
  await expect.poll(async () => Number(await axialB.getAttribute('data-slice'))).not.toBe(target);
  const afterWheel = await axialB.getAttribute('data-slice');
  await expect(axialA).toHaveAttribute('data-slice', afterWheel!);

  // A window preset on B is applied to A.
  await sideB.getByTestId('preset-bone').click();
  await expect(sideA.getByTestId('window-readout-axial')).toHaveText(await sideB.getByTestId('window-readout-axial').innerText(), { timeout: 5_000 });

  await page.screenshot({ path: 'test-results/screens/compare.png' });

  // Another subject against A: the view says it compares two patients, not a course.
  const other = await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 6, lesions: ['iph'], slices: 6 })).jobId);
  const otherSeries = (other.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
  expect((await waitJob(server, (await rpc<{ jobId: string }>(server, 'analysis.start', { seriesId: otherSeries, inpainter: { kind: 'classical', method: 'linear' }, reading: { strategy: { kind: 'absolute', value: 0.25 } } })).jobId)).status).toBe('succeeded');
  const otherRun = (await rpc<{ id: string }[]>(server, 'analysis.runs', { seriesId: otherSeries }))[0].id;
  await expect(page.getByTestId('compare-subject-note')).toHaveCount(0);
  await page.reload();
  await page.getByTestId('compare-open').click();
  await expect(pickB.locator('option')).toHaveCount(4);
  await pickA.selectOption(values[0]);
  await pickB.selectOption(otherRun);
  await page.getByTestId('compare-go').click();
  await expect(page.getByTestId('compare-subject-note')).toContainText(/A and B belong to different patients \(A: SYN-5; B: SYN-6\)/, { timeout: 60_000 });
});
