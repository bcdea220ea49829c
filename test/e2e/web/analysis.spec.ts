/**
 * The reading workflow against the real server (real SQLite, real workers, real inference with
 * the checked-in test model): generate a synthetic case with a hemorrhage, run the analysis from
 * the UI, watch its progress reach the end, move the threshold slider and see the lesion list
 * change, click a lesion and see the slice move there, toggle overlays and open the 3D view.
 * Waits are on explicit signals only.
 */
import { decode } from 'fast-png';
import type { Page } from '@playwright/test';
import { test, expect, rpc, waitJob } from '../server-fixture';

const SCREENS = 'test-results/screens';

/** Fraction of pixels in a screenshot region that are reddish-orange (heatmap / lesion colours). */
async function warmFraction(page: Page, locator: ReturnType<Page['getByTestId']>): Promise<number> {
  const png = decode(await locator.screenshot());
  const ch = png.channels;
  let warm = 0;
  for (let p = 0; p < png.width * png.height; p++) {
    const r = png.data[p * ch];
    const g = png.data[p * ch + 1];
    const b = png.data[p * ch + 2];
    if (r > 150 && r > g + 60 && r > b + 80) warm++;
  }
  return warm / (png.width * png.height);
}

test.describe('analysis and reading', () => {
  test('run an analysis, tune the threshold live, navigate lesions, overlays and 3D', async ({ server, page }) => {
    test.setTimeout(300_000);
    const { jobId } = await rpc<{ jobId: string }>(server, 'synth.start', { seed: 7, lesions: ['iph'], timepoints: 1, slices: 8 });
    expect((await waitJob(server, jobId)).status).toBe('succeeded');

    await page.goto(server.url);
    await page.getByTestId('series-item').first().click();
    await expect(page.getByTestId('viewer')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    const axial = page.getByTestId('viewport-axial');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    const before = await warmFraction(page, axial);

    // Run with the diffusion test model (fast preset) from the analysis panel.
    await page.getByTestId('inpainter-select').selectOption('diffusion');
    await page.getByTestId('model-select').selectOption('test-tiny');
    // The chosen model's card description is there to read before running (which model suits which lesions).
    await expect(page.getByTestId('model-description')).toContainText('It has learned nothing');
    await page.getByTestId('run-analysis').click();
    const job = page.locator('[data-testid="job"][data-kind="analysis"]').first();
    await expect(job).toBeVisible();
    await expect(job).toHaveAttribute('data-status', 'succeeded', { timeout: 240_000 });
    await expect(job.locator('progress')).toHaveAttribute('value', '100');

    // The finished run is selected and thresholded.
    await expect(page.getByTestId('run-item')).toHaveCount(1);
    await expect(page.getByTestId('lesion-count')).toBeVisible();
    await expect(page.getByTestId('score-histogram')).toBeVisible();

    // Move the slider to the top: fewer lesions; to the bottom third: more.
    const slider = page.getByTestId('threshold-slider');
    const count = async () => Number((await page.getByTestId('lesion-count').innerText()).split(' ')[0]);
    await slider.fill(await slider.getAttribute('max') as string);
    await expect.poll(count).toBe(0);
    const max = Number(await slider.getAttribute('max'));
    await slider.fill(String(max * 0.3));
    await expect.poll(count, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect(page.getByTestId('lesion-row').first()).toBeVisible();

    // The same lesions outlined at half their contrast (the diffusion default) are at least as
    // large as at the threshold; residual smoothing rescored the scan and changes the list.
    const volume = async () => Number((await page.getByTestId('lesion-count').innerText()).split(' · ')[1].split(' ')[0]);
    // The lesion settings are folded under a line that says what they are.
    const settings = page.getByTestId('reading-settings');
    await expect(settings.locator('summary')).toHaveText(/from 0\.05 mL · border 2 mm · < 170 HU · half-contrast outline/);
    await expect(page.getByTestId('extent')).toBeHidden();
    await settings.locator('summary').click();
    await expect(page.getByTestId('extent')).toHaveValue('half-contrast');
    const outlined = await volume();
    await page.getByTestId('extent').selectOption('threshold');
    await expect.poll(volume, { timeout: 30_000 }).toBeLessThan(outlined);
    await page.getByTestId('extent').selectOption('half-contrast');
    await expect.poll(volume, { timeout: 30_000 }).toBe(outlined);
    const unsmoothed = await page.getByTestId('lesion-count').innerText();
    await page.getByTestId('smoothing').fill('3');
    await expect.poll(async () => page.getByTestId('lesion-count').innerText(), { timeout: 30_000 }).not.toBe(unsmoothed);
    await page.getByTestId('smoothing').fill('0');
    await expect.poll(async () => page.getByTestId('lesion-count').innerText(), { timeout: 30_000 }).toBe(unsmoothed);

    // Bone partial volume and calcifications are left out of the search by default; searching
    // every voxel brings them back as (more) lesion volume, and the default restores the list.
    await expect(page.getByTestId('dense-exclusion')).toHaveValue('170');
    const excludedVolume = await volume();
    await page.getByTestId('dense-exclusion').selectOption('off');
    await expect.poll(volume, { timeout: 30_000 }).toBeGreaterThan(excludedVolume);
    await page.getByTestId('dense-exclusion').selectOption('170');
    await expect.poll(async () => page.getByTestId('lesion-count').innerText(), { timeout: 30_000 }).toBe(unsmoothed);

    // Clicking a lesion moves the axial slice to it.
    const row = page.getByTestId('lesion-row').last();
    await row.click();
    await expect(row).toHaveClass(/selected/);
    const lesionSlices = (await row.locator('td').nth(2).innerText()).split(/[–-]/).map((s) => Number(s) - 1);
    const last = lesionSlices[1] ?? lesionSlices[0];
    // The viewer moves on its next frame: wait for the slice to land inside the lesion's range.
    await expect
      .poll(async () => {
        const k = Number(await axial.getAttribute('data-slice'));
        return k >= lesionSlices[0] && k <= last;
      })
      .toBe(true);
    await expect(axial).toHaveAttribute('data-ready', 'true');

    // The overlay colours appear where the lesion is, and vanish when overlays are hidden.
    await page.getByTestId('label-style').click();
    await expect(axial).toHaveAttribute('data-ready', 'true');
    const withOverlay = await warmFraction(page, axial);
    expect(withOverlay).toBeGreaterThan(before + 0.0005);
    await page.screenshot({ path: `${SCREENS}/reading-workspace.png` });
    await page.getByTestId('toggle-overlays').click();
    await expect(axial).toHaveAttribute('data-ready', 'true');
    expect(await warmFraction(page, axial)).toBeLessThan(withOverlay);
    await page.getByTestId('toggle-overlays').click();

    // On a 1366 x 768 laptop screen every viewer control, the brain contour toggle last, stays
    // inside the toolbar: the groups wrap instead of running under the side panel.
    await page.setViewportSize({ width: 1366, height: 768 });
    const toolbar = (await page.getByRole('toolbar', { name: 'Viewer tools' }).boundingBox())!;
    const controls = page.getByRole('toolbar', { name: 'Viewer tools' }).locator('button, input, select');
    expect(await controls.count()).toBeGreaterThan(10);
    for (const control of await controls.all()) {
      const b = (await control.boundingBox())!;
      expect(b.x + b.width, (await control.getAttribute('data-testid')) ?? (await control.getAttribute('aria-label')) ?? (await control.innerText())).toBeLessThanOrEqual(toolbar.x + toolbar.width);
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // Flick to the healthy reconstruction and back.
    await page.getByTestId('image-Healthy').click();
    await expect(axial).toHaveAttribute('data-image', 'Healthy');
    await page.getByTestId('image-original').click();

    // The 3D view opens and reports a rendered frame.
    await page.getByTestId('toggle-3d').click();
    await expect(page.getByTestId('viewport-3d')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
    await page.screenshot({ path: `${SCREENS}/reading-3d.png` });
  });

  test('a new analysis cuts at the default z against its method\'s healthy scans; smoothing keeps that cut as its score', async ({ freshServer: server, page }) => {
    test.setTimeout(180_000);
    const synth = await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 9, lesions: ['iph'], slices: 4 })).jobId);
    const seriesId = (synth.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;
    // No reading given: the service picks the default, z 3.25 against the linear fill's own reference.
    const run = await waitJob(server, (await rpc<{ jobId: string }>(server, 'analysis.start', { seriesId, inpainter: { kind: 'classical', method: 'linear' } })).jobId);
    expect(run.status).toBe('succeeded');

    await page.goto(server.url);
    await page.getByTestId('series-item').first().click();
    await expect(page.getByTestId('lesion-count')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('strategy-select')).toHaveValue('zscore');
    const cut = page.getByTestId('threshold-cut');
    await expect(cut).toHaveText(/^z ≥ 3.25 against healthy scans, reaching down to z 2.75 → score ≥ [\d.]+$/);
    // The slider stands at that cut, not at the nearest step it would otherwise snap to.
    await expect(page.getByTestId('threshold-slider')).toHaveValue('3.25');
    const stood = (await cut.innerText()).split('score ≥ ')[1];

    await page.getByTestId('reading-settings').locator('summary').click();
    await page.getByTestId('smoothing').fill('2');
    await expect(page.getByTestId('strategy-select')).toHaveValue('absolute');
    await expect.poll(async () => Number((await cut.innerText()).match(/^score ≥ ([\d.]+)/)?.[1])).toBe(Number(stood));
    await expect(page.getByTestId('z-replaced')).toContainText('z ≥ 3.25 cut is kept as the score it stood at');
    await expect(page.getByTestId('lesion-count')).toBeVisible();
    await expect(page.getByTestId('threshold-panel').getByRole('alert')).toHaveCount(0);
  });
});
