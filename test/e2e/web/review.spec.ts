/**
 * Reviewing and exporting from the UI against the real server: freeze the mask, paint a lesion
 * with the brush, reject a detected one, undo/redo, then download the PDF report and the DICOM
 * SEG and check both files.
 */
import { readFileSync } from 'node:fs';
import { test, expect, rpc, waitJob } from '../server-fixture';

test('brush a lesion, reject another, export PDF and DICOM SEG', async ({ server, page }) => {
  test.setTimeout(300_000);
  const synth = await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 21, lesions: ['iph', 'sdh'], slices: 6 })).jobId);
  const seriesId = (synth.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
  const run = await waitJob(server, (await rpc<{ jobId: string }>(server, 'analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' }, reading: { strategy: { kind: 'absolute', value: 0.25 } } })).jobId);
  expect(run.status).toBe('succeeded');

  await page.goto(server.url);
  await page.getByTestId('series-item').first().click();
  const axial = page.getByTestId('viewport-axial');
  await expect(axial).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await expect(page.getByTestId('lesion-count')).toBeVisible();

  await page.getByTestId('review-start').click();
  const rows = page.getByTestId('review-lesion');
  await expect(rows.first()).toBeVisible();
  const detected = await rows.count();
  expect(detected).toBeGreaterThan(1);
  // Each row's controls, the note field last, lie inside the side panel: no sideways scrolling to reach them.
  const panel = (await page.locator('.side-panel').boundingBox())!;
  for (const note of await rows.getByRole('textbox').all()) {
    const b = (await note.boundingBox())!;
    expect(b.x + b.width).toBeLessThanOrEqual(panel.x + panel.width);
  }
  // Largest first, as in the lesion list and the report.
  const volumes = (await rows.locator('td:nth-child(2)').allTextContents()).map((t) => parseFloat(t));
  expect(volumes).toEqual([...volumes].sort((a, b) => b - a));

  // Paint with the brush: a new (drawn) lesion appears, and the edit is in the history.
  await page.getByTestId('brush-paint').click();
  await expect(page.locator('.viewer-host')).toHaveAttribute('data-brush', 'paint');
  const box = (await axial.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.42);
  await page.mouse.down();
  await page.mouse.up();
  await expect(rows).toHaveCount(detected + 1, { timeout: 30_000 });
  await expect(page.locator('[data-testid="review-lesion"]').filter({ hasText: '✎' })).toHaveCount(1);
  await page.getByTestId('brush-paint').click();

  // Reject the first detected lesion; undo and redo it.
  const first = rows.first();
  await first.getByTestId('reject-lesion').click();
  await expect(first).toHaveAttribute('data-status', 'rejected');
  await page.getByTestId('review-undo').click();
  await expect(first).toHaveAttribute('data-status', 'pending');
  await page.getByTestId('review-redo').click();
  await expect(first).toHaveAttribute('data-status', 'rejected');
  // The run list says how far the review has got, without opening the run (the drawn lesion is not a found one).
  await expect(page.getByTestId('run-review')).toHaveText(`review: 1 of ${detected} found lesions decided`);
  await page.screenshot({ path: 'test-results/screens/review.png' });

  // Exports download from the UI.
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pdf').click()]);
  expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
  const pdfBytes = readFileSync((await pdf.path())!);
  expect(pdfBytes.subarray(0, 5).toString()).toBe('%PDF-');
  await expect(page.getByTestId('export-status')).toContainText('with review edits');
  const [seg] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-seg').click()]);
  expect(seg.suggestedFilename()).toMatch(/\.dcm$/);
  const segBytes = readFileSync((await seg.path())!);
  expect(segBytes.subarray(128, 132).toString()).toBe('DICM');
});
