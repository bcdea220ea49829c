/**
 * The inpainting workbench from the UI against the real server: paint a mask over a
 * haemorrhage, fill it with the shipped diffusion model, compare the filled image with the
 * original, export it as NIfTI and open it as a series; import a mask file, and refuse one
 * drawn on another grid.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decode } from 'fast-png';
import { test, expect, rpc, waitJob } from '../server-fixture';

/** Mean gray level (0-255) of a screenshot. */
function meanGray(png: Buffer): number {
  const img = decode(png);
  let sum = 0;
  for (let p = 0; p < img.width * img.height; p++) sum += (img.data[p * img.channels] + img.data[p * img.channels + 1] + img.data[p * img.channels + 2]) / 3;
  return sum / (img.width * img.height);
}

interface Geometry {
  dims: [number, number, number];
  spacing: [number, number, number];
  origin: [number, number, number];
  direction: number[];
}

/**
 * Writes a box mask as NIfTI with the product's own writer, in a child Node with tsx (the
 * writer's import chain needs a loader Playwright lacks).
 */
function writeBoxMask(path: string, g: Geometry, box: { i: [number, number]; j: [number, number]; k: [number, number] }): void {
  const writer = resolve('src/main/core/io/nifti.ts');
  const script = `
    const { writeNifti } = await import(${JSON.stringify(writer)});
    const g = ${JSON.stringify(g)};
    const b = ${JSON.stringify(box)};
    const data = new Int16Array(g.dims[0] * g.dims[1] * g.dims[2]);
    for (let k = b.k[0]; k < b.k[1]; k++) for (let j = b.j[0]; j < b.j[1]; j++) for (let i = b.i[0]; i < b.i[1]; i++) data[i + g.dims[0] * (j + g.dims[1] * k)] = 1;
    await writeNifti({ ...g, data, intensityUnit: 'raw', meta: {}, warnings: [] }, ${JSON.stringify(path)}, { datatype: 'uint8' });`;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'pipe' });
}

test('paint a mask, fill it with the diffusion model, compare, export and open the result; import a mask file', async ({ freshServer: server, page }) => {
  test.setTimeout(300_000);
  const synth = await waitJob(server, (await rpc<{ jobId: string }>(server, 'synth.start', { seed: 31, lesions: ['iph'], slices: 5 })).jobId);
  expect(synth.status).toBe('succeeded');
  const seriesId = (synth.result as { studies: { series: { id: string }[] }[] }).studies[0].series[0].id;

  await page.goto(server.url);
  await page.locator(`[data-testid="series-item"][data-series-id="${seriesId}"]`).click();
  const axial = page.getByTestId('viewport-axial');
  await expect(axial).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });

  await page.getByTestId('mode-workbench').click();
  const panel = page.getByTestId('workbench-panel');
  await expect(panel).toBeVisible();
  await expect(page.locator('.viewer-host')).toHaveAttribute('data-brush', 'paint');
  const size = page.getByTestId('wb-mask-size');
  await expect(size).toHaveAttribute('data-voxels', '0');
  await expect(page.getByTestId('wb-fill')).toBeDisabled();

  // Where the haemorrhage is: its largest axial cross-section, from the synthetic truth.
  const g = await rpc<Geometry>(server, 'series.get', { seriesId });
  const truthResponse = await fetch(`${server.origin}/api/blob/series/${seriesId}/truth`, { headers: { Authorization: `Bearer ${server.token}` } });
  const truth = new Uint8Array(await truthResponse.arrayBuffer());
  const [nx, ny, nz] = g.dims;
  let bestK = 0;
  let bestCount = 0;
  for (let k = 0; k < nz; k++) {
    let c = 0;
    for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) if (truth[p]) c++;
    if (c > bestCount) [bestK, bestCount] = [k, c];
  }
  let si = 0;
  let sj = 0;
  let halfExtentMm = 0;
  const plane = bestK * nx * ny;
  for (let p = plane; p < plane + nx * ny; p++) if (truth[p]) [si, sj] = [si + ((p - plane) % nx), sj + Math.floor((p - plane) / nx)];
  const [ci, cj] = [si / bestCount, sj / bestCount];
  for (let p = plane; p < plane + nx * ny; p++) if (truth[p]) halfExtentMm = Math.max(halfExtentMm, Math.hypot(((p - plane) % nx) - ci, Math.floor((p - plane) / nx) - cj) * g.spacing[0]);

  // Go to that slice (arrow keys over the axial view) and find the lesion on screen: the axial
  // view fits the 512-voxel square field into the narrower side of the viewport, patient left on
  // the right of the screen, posterior down.
  await axial.hover();
  for (let n = Number(await axial.getAttribute('data-slice')); n !== bestK; n += Math.sign(bestK - n)) {
    await page.keyboard.press(bestK > n ? 'ArrowUp' : 'ArrowDown');
    await expect(axial).toHaveAttribute('data-slice', String(n + Math.sign(bestK - n)));
  }
  const box = (await axial.boundingBox())!;
  const fit = Math.min(box.width, box.height);
  const screen = (i: number, j: number) => ({ x: box.x + box.width / 2 + ((i + 0.5) / nx - 0.5) * fit, y: box.y + box.height / 2 + ((j + 0.5) / ny - 0.5) * fit });
  const lesion = screen(ci, cj);

  // A stroke paints the mask; undo takes it back, redo restores it, undo again. Then one dab, wide enough to cover the lesion.
  await page.mouse.move(lesion.x - 40, lesion.y + 60);
  await page.mouse.down();
  for (let s = 1; s <= 8; s++) await page.mouse.move(lesion.x - 40 + s * 5, lesion.y + 60);
  await page.mouse.up();
  await expect.poll(async () => Number(await size.getAttribute('data-voxels'))).toBeGreaterThan(200);
  // The mask is republished once per frame: let the last frame of the stroke land first.
  await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
  const stroked = await size.getAttribute('data-voxels');
  await page.getByTestId('wb-undo').click();
  await expect(size).toHaveAttribute('data-voxels', '0');
  await page.getByTestId('wb-redo').click();
  await expect(size).toHaveAttribute('data-voxels', stroked!);
  await page.getByTestId('wb-undo').click();
  await expect(size).toHaveAttribute('data-voxels', '0');
  await page.getByTestId('wb-brush-radius').fill(String(Math.min(30, Math.ceil(halfExtentMm + 2))));
  await page.mouse.move(lesion.x, lesion.y);
  await page.mouse.down();
  await page.mouse.up();
  await expect.poll(async () => Number(await size.getAttribute('data-voxels'))).toBeGreaterThan(bestCount);
  const painted = Number(await size.getAttribute('data-voxels'));
  // The lesion is bright in the brain window; measure it before the fill, with the mask hidden.
  await page.getByTestId('toggle-overlays').click();
  const lesionClip = { x: lesion.x - 6, y: lesion.y - 6, width: 12, height: 12 };
  const before = await page.screenshot({ clip: lesionClip });
  await page.getByTestId('toggle-overlays').click();

  // Fill with the shipped diffusion model (the default method).
  await expect(page.getByTestId('wb-method')).toHaveValue('diffusion');
  // Its controls (a model list with a long id among them) fit the side panel: nothing to scroll sideways for.
  expect(await page.locator('.side-panel').evaluate((e) => {
    const panel = e as unknown as { scrollWidth: number; clientWidth: number };
    return panel.scrollWidth - panel.clientWidth;
  })).toBeLessThanOrEqual(0);
  await page.getByTestId('wb-fill').click();
  const result = page.getByTestId('wb-result');
  await expect(result).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('wb-provenance')).toContainText('healthy-brain-ddpm');
  await expect(page.getByTestId('wb-provenance')).toContainText(painted.toLocaleString('en-US'));
  const filledId = (await result.getAttribute('data-series'))!;

  // The filled image is an alternate image of the viewer: on it, the bright haemorrhage is gone.
  await page.getByTestId('image-Filled').click();
  await expect(page.getByTestId('image-Filled')).toHaveAttribute('aria-pressed', 'true');
  await page.screenshot({ path: 'test-results/screens/workbench.png' });
  await page.getByTestId('toggle-overlays').click();
  await expect.poll(async () => meanGray(await page.screenshot({ clip: lesionClip })), { timeout: 10_000 }).toBeLessThan(meanGray(before) - 40);
  await page.getByTestId('toggle-overlays').click();

  // Export as NIfTI from the UI.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('wb-export').click()]);
  expect(download.suggestedFilename()).toMatch(/filled.*\.nii\.gz$/);
  const nifti = gunzipSync(readFileSync((await download.path())!));
  expect(nifti.readInt32LE(0)).toBe(348);
  expect([nifti.readInt16LE(42), nifti.readInt16LE(44), nifti.readInt16LE(46)]).toEqual([512, 512, 5]);

  // The result is a series of the same study, with its provenance.
  await expect(page.locator(`[data-testid="series-item"][data-series-id="${filledId}"]`)).toBeVisible();
  await page.getByTestId('wb-open').click();
  await expect(page.getByTestId('series-fill-provenance')).toContainText('healthy-brain-ddpm');

  // Import a mask file: one on another grid is refused with the reason; one on this grid loads.
  await page.locator(`[data-testid="series-item"][data-series-id="${seriesId}"]`).click();
  await expect(page.getByTestId('viewport-axial')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  await page.getByTestId('mode-workbench').click();
  const dir = mkdtempSync(join(tmpdir(), 'ict-wb-e2e-'));
  writeBoxMask(join(dir, 'other-grid.nii.gz'), { ...g, dims: [256, 256, 5] }, { i: [10, 20], j: [10, 20], k: [0, 1] });
  writeBoxMask(join(dir, 'box.nii.gz'), g, { i: [200, 240], j: [220, 250], k: [1, 3] });
  await page.getByTestId('wb-import-file').setInputFiles(join(dir, 'other-grid.nii.gz'));
  await expect(page.getByTestId('wb-error')).toContainText('must share one grid');
  await page.getByTestId('wb-import-file').setInputFiles(join(dir, 'box.nii.gz'));
  await expect(page.getByTestId('wb-mask-size')).toHaveAttribute('data-voxels', String(40 * 30 * 2));
  await expect(page.getByTestId('wb-status')).toContainText('Mask imported');

  // Painting in the coronal view lays the disc in the coronal plane: with 5 mm slices, a 4 mm
  // radius covers one row of about 17 voxels there, where an axial disc would cover about 250.
  await page.getByTestId('wb-brush-radius').fill('4');
  const coronal = page.getByTestId('viewport-coronal');
  const cbox = (await coronal.boundingBox())!;
  await page.mouse.move(cbox.x + cbox.width * 0.5, cbox.y + cbox.height * 0.5);
  await page.mouse.down();
  await page.mouse.up();
  await expect.poll(async () => Number(await size.getAttribute('data-voxels'))).toBeGreaterThan(2400);
  const added = Number(await size.getAttribute('data-voxels')) - 2400;
  expect(added).toBeGreaterThan(5);
  expect(added).toBeLessThan(40);
});
