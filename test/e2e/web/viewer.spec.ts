/**
 * The reading viewer against the real server: a generated head CT is written as a DICOM series,
 * imported through the API, opened from the library, and driven by keyboard and toolbar. Every
 * wait is on an explicit signal (data-ready and friends on the viewports), never a sleep.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decode } from 'fast-png';
import { build } from 'vite';
import react from '@vitejs/plugin-react';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { test, expect, type ServerInfo } from '../server-fixture';
import type { Volume } from '../../../src/main/core/volume';

const SCREENS = 'test-results/screens';

/** Mulberry32: a small seeded PRNG, so the phantom's noise is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PHANTOM = { nx: 256, ny: 256, nz: 32, spacing: [0.9, 0.9, 5] as [number, number, number] };
/** Centre (mm from voxel 0) and radius of the hyperdense lesion, in the patient's left frontal lobe. */
const LESION = { centreMm: [115.2 + 32, 115.2 - 30, 80 + 10] as [number, number, number], radiusMm: 13, hu: 72 };

/**
 * A head-shaped CT: air, scalp, skull, grey and white matter, two lateral ventricles and one
 * hyperdense lesion, with mild noise. Identity direction: i runs to the patient's left,
 * j to posterior, k to superior.
 */
function headPhantom(): Volume {
  const { nx, ny, nz, spacing } = PHANTOM;
  const data = new Int16Array(nx * ny * nz);
  const rnd = prng(7);
  const c = [(nx - 1) * spacing[0] * 0.5, (ny - 1) * spacing[1] * 0.5, 80];
  const r = [74, 92, 78];
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x = i * spacing[0] - c[0];
        const y = j * spacing[1] - c[1];
        const z = k * spacing[2] - c[2];
        const e = Math.sqrt((x / r[0]) ** 2 + (y / r[1]) ** 2 + (z / r[2]) ** 2);
        let hu = -1000;
        if (e < 1) hu = 45;
        if (e < 0.955) hu = 1100 + 200 * Math.sin(x * 0.2) * Math.cos(y * 0.15);
        if (e < 0.885) hu = 38;
        if (e < 0.62) hu = 27;
        const vx = Math.abs(x) - 11;
        if ((vx / 6) ** 2 + ((y + 6) / 26) ** 2 + ((z - 6) / 22) ** 2 < 1) hu = 6;
        const dl = Math.hypot(i * spacing[0] - LESION.centreMm[0], j * spacing[1] - LESION.centreMm[1], k * spacing[2] - LESION.centreMm[2]);
        if (dl < LESION.radiusMm) hu = LESION.hu;
        if (hu > -1000) hu += Math.round((rnd() - 0.5) * 8);
        data[i + nx * (j + ny * k)] = hu;
      }
    }
  }
  return {
    data,
    dims: [nx, ny, nz],
    spacing,
    origin: [-c[0], -c[1], -40],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    intensityUnit: 'HU',
    meta: { modality: 'CT', patientName: 'PHANTOM^HEAD', patientId: 'VIEWER-E2E', studyDate: '20240321', studyDescription: 'Head phantom', seriesDescription: 'Axial 5 mm', seriesNumber: 2, windowCenter: 40, windowWidth: 80 },
    warnings: [],
  };
}

async function rpc<T>(server: ServerInfo, request: APIRequestContext, method: string, params: unknown): Promise<T> {
  const r = await request.post(`${server.origin}/api/rpc/${method}`, { data: params, headers: { Authorization: `Bearer ${server.token}` } });
  const body = await r.json();
  if (!r.ok()) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result as T;
}

/**
 * Writes a volume as a DICOM CT series with the product's own writer. It runs in a child Node
 * with tsx, because the writer's import of package.json needs a loader Playwright lacks.
 */
function writeDicom(vol: Volume, dir: string): void {
  const raw = join(dir, 'phantom.i16');
  writeFileSync(raw, new Uint8Array(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength));
  writeFileSync(join(dir, 'phantom.json'), JSON.stringify({ ...vol, data: undefined }));
  const writer = resolve('src/main/core/io/dicom-write.ts');
  const script = `
    import { readFileSync } from 'node:fs';
    const { writeDicomCtSeries } = await import(${JSON.stringify(writer)});
    const vol = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'phantom.json'))}, 'utf8'));
    const bytes = readFileSync(${JSON.stringify(raw)});
    vol.data = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    await writeDicomCtSeries(vol, ${JSON.stringify(join(dir, 'dicom'))});`;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'pipe' });
}

/** Writes the phantom as DICOM, imports it through the API, returns the new series id. */
async function importPhantom(server: ServerInfo, request: APIRequestContext): Promise<string> {
  const tmp = mkdtempSync(join(tmpdir(), 'ict-viewer-'));
  writeDicom(headPhantom(), tmp);
  const dir = join(tmp, 'dicom');
  const { jobId } = await rpc<{ jobId: string }>(server, request, 'imports.start', { paths: [dir] });
  let job: { status: string; result: { studies: { series: { id: string }[] }[] } | null; error: unknown } | null = null;
  await expect
    .poll(
      async () => {
        job = await rpc(server, request, 'jobs.get', { jobId });
        return job!.status;
      },
      { timeout: 60_000, intervals: [100, 250, 500] },
    )
    .toMatch(/succeeded|failed|cancelled|interrupted/);
  expect(job!.status, JSON.stringify(job!.error)).toBe('succeeded');
  return job!.result!.studies[0].series[0].id;
}

async function openSeries(page: Page, server: ServerInfo): Promise<void> {
  await page.goto(server.url);
  await page.getByTestId('series-item').first().click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  for (const v of ['axial', 'coronal', 'sagittal']) await expect(page.getByTestId(`viewport-${v}`)).toHaveAttribute('data-ready', 'true');
}

/** Pixels of a screenshot of one element, with simple statistics. */
async function pixelStats(target: Locator, path: string) {
  const png = decode(await target.screenshot({ path }));
  const channels = png.channels;
  const px = png.data as Uint8Array;
  let sum = 0;
  let sumSq = 0;
  let bright = 0;
  let dark = 0;
  const n = png.width * png.height;
  for (let p = 0; p < n; p++) {
    const l = (px[p * channels] + px[p * channels + 1] + px[p * channels + 2]) / 3;
    sum += l;
    sumSq += l * l;
    if (l > 200) bright++;
    if (l < 20) dark++;
  }
  const mean = sum / n;
  return { png, mean, std: Math.sqrt(sumSq / n - mean * mean), brightFraction: bright / n, darkFraction: dark / n };
}

test.describe('reading viewer', () => {
  let seriesId = '';
  test.beforeAll(async ({ server, playwright }) => {
    const request = await playwright.request.newContext();
    seriesId = await importPhantom(server, request);
    await request.dispose();
  });

  test('opens an imported series in linked axial, coronal and sagittal views', async ({ server, page }) => {
    expect(seriesId).not.toBe('');
    await openSeries(page, server);
    const axial = page.getByTestId('viewport-axial');
    // Opens at the volume centre with the series' own window (40/80 from the DICOM header).
    await expect(axial).toHaveAttribute('data-slice', String(PHANTOM.nz / 2));
    await expect(axial).toHaveAttribute('data-window', '40/80');
    await expect(page.getByTestId('viewport-coronal')).toHaveAttribute('data-slice', String(PHANTOM.ny / 2));
    await expect(page.getByTestId('viewport-sagittal')).toHaveAttribute('data-slice', String(PHANTOM.nx / 2));
    // Orientation letters from the direction cosines (radiological convention).
    await expect(axial.locator('.orient-left')).toHaveText('R');
    await expect(axial.locator('.orient-right')).toHaveText('L');
    await expect(axial.locator('.orient-top')).toHaveText('A');
    await expect(page.getByTestId('viewport-sagittal').locator('.orient-left')).toHaveText('A');
    await expect(page.getByTestId('viewport-coronal').locator('.orient-top')).toHaveText('S');

    const stats = await pixelStats(axial, `${SCREENS}/viewer-axial.png`);
    // A head on black: plenty of black background, a bright skull ring, real contrast.
    expect(stats.darkFraction).toBeGreaterThan(0.2);
    expect(stats.brightFraction).toBeGreaterThan(0.02);
    expect(stats.std).toBeGreaterThan(40);
    await page.screenshot({ path: `${SCREENS}/viewer-mpr.png` });

    // Reloading the window keeps the series open.
    await page.reload();
    await expect(page.getByTestId('viewport-axial')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
    await expect(page.locator(`[data-testid="series-item"][data-series-id="${seriesId}"]`)).toHaveAttribute('aria-pressed', 'true');
  });

  test('keyboard scrolls slices and switches window presets; the cursor reads HU', async ({ server, page }) => {
    await openSeries(page, server);
    const axial = page.getByTestId('viewport-axial');
    const box = (await axial.boundingBox())!;
    // Hovering makes the axial view the one the keys act on.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const start = Number(await axial.getAttribute('data-slice'));
    await page.keyboard.press('ArrowUp');
    await expect(axial).toHaveAttribute('data-slice', String(start + 1));
    await expect(axial).toHaveAttribute('data-ready', 'true');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect(axial).toHaveAttribute('data-slice', String(start - 1));
    await page.keyboard.press('PageDown');
    await expect(axial).toHaveAttribute('data-slice', String(start - 11));
    await page.keyboard.press('Home');
    await expect(axial).toHaveAttribute('data-slice', '0');
    await page.keyboard.press('End');
    await expect(axial).toHaveAttribute('data-slice', String(PHANTOM.nz - 1));
    // The slider and the other views' crosshair follow.
    await expect(page.getByTestId('slice-slider-axial')).toHaveValue(String(PHANTOM.nz - 1));
    await expect(page.getByTestId('viewer')).toHaveAttribute('data-position', `${PHANTOM.nx / 2},${PHANTOM.ny / 2},${PHANTOM.nz - 1}`);

    // Lesion slice: the lesion centre is at k = 18.
    const lesionK = Math.round(LESION.centreMm[2] / PHANTOM.spacing[2]);
    await page.getByTestId('slice-slider-axial').fill(String(lesionK));
    await expect(axial).toHaveAttribute('data-slice', String(lesionK));

    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.press('4');
    await expect(axial).toHaveAttribute('data-window', '600/2800');
    await expect(page.getByTestId('viewport-coronal')).toHaveAttribute('data-window', '600/2800');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    await page.keyboard.press('2');
    await expect(axial).toHaveAttribute('data-window', '75/215');
    await page.getByTestId('preset-stroke').click();
    await expect(axial).toHaveAttribute('data-window', '40/40');
    await page.getByTestId('preset-brain').click();
    await expect(axial).toHaveAttribute('data-window', '40/80');
    await expect(page.getByTestId('preset-brain')).toHaveAttribute('aria-pressed', 'true');

    // HU under the cursor: over the lesion centre it reads about 72 HU.
    const fitMm = (PHANTOM.nx * PHANTOM.spacing[0]) / 2;
    const pxPerMm = box.height / 2 / (Math.max(fitMm, (fitMm * box.height) / box.width) * 1.04);
    const centreMm = ((PHANTOM.nx - 1) * PHANTOM.spacing[0]) / 2;
    const lx = box.x + box.width / 2 + (LESION.centreMm[0] - centreMm) * pxPerMm;
    const ly = box.y + box.height / 2 + (LESION.centreMm[1] - centreMm) * pxPerMm;
    await page.mouse.move(lx, ly);
    await expect(page.getByTestId('cursor-readout-axial')).toContainText(/\b(6[4-9]|7\d|80) HU/);
    // The wheel changes the slice under a still pointer: the readout follows to the new slice.
    await page.mouse.wheel(0, 500);
    await expect(axial).toHaveAttribute('data-slice', String(lesionK - 5));
    await expect(page.getByTestId('cursor-readout-axial')).toContainText(`, ${lesionK - 5})`);
    await expect(page.getByTestId('cursor-readout-axial')).not.toContainText(/\b(6[4-9]|7\d|80) HU/);
    await page.mouse.wheel(0, -500);
    await expect(axial).toHaveAttribute('data-slice', String(lesionK));
    await expect(page.getByTestId('cursor-readout-axial')).toContainText(/\b(6[4-9]|7\d|80) HU/);

    // Window/level by dragging with the default tool.
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3 + 100, box.y + box.height * 0.3 + 40, { steps: 5 });
    await page.mouse.up();
    await expect(axial).not.toHaveAttribute('data-window', '40/80');
    await page.keyboard.press('r');
    await expect(axial).toHaveAttribute('data-window', '40/80');

    // A click moves the crosshair: the sagittal view goes to the clicked column.
    await page.mouse.click(lx, ly);
    const lesionI = Math.round(LESION.centreMm[0] / PHANTOM.spacing[0]);
    await expect.poll(async () => Math.abs(Number(await page.getByTestId('viewport-sagittal').getAttribute('data-slice')) - lesionI)).toBeLessThanOrEqual(1);
    await expect(page.getByTestId('viewport-sagittal')).toHaveAttribute('data-ready', 'true');
    await page.screenshot({ path: `${SCREENS}/viewer-lesion-slice.png` });
  });

  test('measures a distance in millimetres', async ({ server, page }) => {
    await openSeries(page, server);
    const axial = page.getByTestId('viewport-axial');
    const box = (await axial.boundingBox())!;
    await page.keyboard.press('m');
    await expect(page.getByTestId('viewer')).toHaveAttribute('data-tool', 'measure');
    const fitMm = (PHANTOM.nx * PHANTOM.spacing[0]) / 2;
    const pxPerMm = box.height / 2 / (Math.max(fitMm, (fitMm * box.height) / box.width) * 1.04);
    const x0 = box.x + box.width / 2 - 100;
    const y0 = box.y + box.height / 2;
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move(x0 + 200, y0 + 60, { steps: 6 });
    await page.mouse.up();
    const expected = Math.hypot(200, 60) / pxPerMm;
    const measured = Number((await page.getByTestId('viewer').getAttribute('data-measurements'))!.split(',')[0]);
    expect(Math.abs(measured - expected) / expected).toBeLessThan(0.02);
    await expect(page.getByTestId('clear-measurements')).toBeVisible();
    await page.screenshot({ path: `${SCREENS}/viewer-measure.png` });
    await page.keyboard.press('Delete');
    await expect(page.getByTestId('clear-measurements')).toHaveCount(0);
  });

  test('a density ROI reads the lesion and the white matter in HU', async ({ server, page }) => {
    await openSeries(page, server);
    const viewer = page.getByTestId('viewer');
    const axial = page.getByTestId('viewport-axial');
    const lesionK = Math.round(LESION.centreMm[2] / PHANTOM.spacing[2]);
    await page.getByTestId('slice-slider-axial').fill(String(lesionK));
    await expect(axial).toHaveAttribute('data-slice', String(lesionK));
    await expect(axial).toHaveAttribute('data-ready', 'true');
    const box = (await axial.boundingBox())!;
    const fitMm = (PHANTOM.nx * PHANTOM.spacing[0]) / 2;
    const pxPerMm = box.height / 2 / (Math.max(fitMm, (fitMm * box.height) / box.width) * 1.04);
    const centreMm = ((PHANTOM.nx - 1) * PHANTOM.spacing[0]) / 2;
    const screen = (xMm: number, yMm: number): [number, number] => [box.x + box.width / 2 + (xMm - centreMm) * pxPerMm, box.y + box.height / 2 + (yMm - centreMm) * pxPerMm];
    const circle = async (xMm: number, yMm: number, radiusMm: number) => {
      const [x, y] = screen(xMm, yMm);
      await page.mouse.move(x, y);
      await page.mouse.down();
      await page.mouse.move(x + radiusMm * pxPerMm, y, { steps: 5 });
      await page.mouse.up();
    };
    const rois = async () => ((await viewer.getAttribute('data-rois')) || '').split(',').filter(Boolean).map((r) => r.split('/').map(Number));

    await page.getByTestId('tool-roi').click();
    await expect(viewer).toHaveAttribute('data-tool', 'roi');
    // 6 mm about the lesion centre: all of it lesion (72 HU with +-4 HU of noise).
    await circle(LESION.centreMm[0], LESION.centreMm[1], 6);
    await expect.poll(async () => (await rois()).length).toBe(1);
    const [lesionMean, lesionSd, lesionVoxels] = (await rois())[0];
    expect(Math.abs(lesionMean - LESION.hu)).toBeLessThan(1.5);
    expect(lesionSd).toBeLessThan(4);
    const expectedVoxels = (Math.PI * 36) / (PHANTOM.spacing[0] * PHANTOM.spacing[1]);
    expect(Math.abs(lesionVoxels - expectedVoxels) / expectedVoxels).toBeLessThan(0.15);
    // 4 mm in the white matter of the other hemisphere (27 HU), 40 mm right of the midline.
    await page.keyboard.press('e');
    await circle(centreMm - 40, centreMm, 4);
    await expect.poll(async () => (await rois()).length).toBe(2);
    expect(Math.abs((await rois())[1][0] - 27)).toBeLessThan(1.5);
    // Distances are listed apart from ROIs; both are cleared together.
    await expect(viewer).toHaveAttribute('data-measurements', '');
    await expect(page.getByTestId('clear-measurements')).toHaveText('Clear 2');
    await page.screenshot({ path: `${SCREENS}/viewer-roi.png` });
    await page.keyboard.press('Delete');
    await expect(viewer).toHaveAttribute('data-rois', '');
  });

  test('the 3D view renders the volume linked to the crosshair; help lists the shortcuts', async ({ server, page }) => {
    test.setTimeout(180_000);
    await openSeries(page, server);
    await page.getByTestId('toggle-3d').click();
    const volume = page.getByTestId('viewport-3d');
    await expect(volume).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
    await expect(volume).toHaveAttribute('data-preset', 'soft');
    const soft = await pixelStats(volume, `${SCREENS}/viewer-3d-soft.png`);
    // Not just the background colour: the rendered head covers a good part of the view.
    expect(soft.std).toBeGreaterThan(8);

    await page.getByTestId('volume-preset').selectOption('bone');
    await expect(volume).toHaveAttribute('data-preset', 'bone');
    await expect(volume).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
    const bone = await pixelStats(volume, `${SCREENS}/viewer-3d-bone.png`);
    expect(bone.std).toBeGreaterThan(8);
    await page.screenshot({ path: `${SCREENS}/viewer-quad.png` });

    // Moving the crosshair redraws the 3D view (its slice planes follow).
    const axial = page.getByTestId('viewport-axial');
    const box = (await axial.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.press('ArrowUp');
    await expect(volume).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });

    await page.keyboard.press('v');
    await expect(volume).toHaveCount(0);

    await page.keyboard.press('?');
    await expect(page.getByTestId('help-overlay')).toBeVisible();
    await expect(page.getByTestId('help-overlay')).toContainText('Bone window (600 / 2800)');
    await page.screenshot({ path: `${SCREENS}/viewer-help.png` });
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('help-overlay')).toHaveCount(0);
  });
});

/**
 * A page that mounts the real Viewer with overlays, as the analysis will feed it. The overlays
 * are derived in the page from the phantom's own voxels (lesion = 58..100 HU, ventricles as a
 * second label, brain = flood fill inside the skull, healthy = lesion painted over with brain,
 * score = |HU - healthy brain| / 40), so the test knows where every colour must appear.
 */
const HARNESS_TSX = `
import { StrictMode, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { TransportProvider, useApi } from '${resolve('src/renderer/src/api/context')}';
import { Viewer, type AlternateImage, type CursorInfo, type ScoreMapLayer, type ViewerHandle, type VoxelIndex } from '${resolve('src/renderer/src/viewer')}';
import '${resolve('src/renderer/src/styles.css')}';

interface Layers { score: ScoreMapLayer; labels: Uint8Array; brain: Uint8Array; alternates: AlternateImage[] }

function derive(hu: Int16Array, dims: number[]): Layers {
  const [nx, ny, nz] = dims;
  const n = hu.length;
  const brain = new Uint8Array(n);
  // Per slice, flood from the centre through everything that is not bone or air.
  const stack: number[] = [];
  for (let k = 0; k < nz; k++) {
    const base = k * nx * ny;
    const seed = base + (ny >> 1) * nx + (nx >> 1);
    if (hu[seed] < -100 || hu[seed] > 200) continue;
    stack.push(seed);
    brain[seed] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const i = (p - base) % nx;
      const j = Math.floor((p - base) / nx);
      for (const q of [i > 0 ? p - 1 : -1, i < nx - 1 ? p + 1 : -1, j > 0 ? p - nx : -1, j < ny - 1 ? p + nx : -1]) {
        if (q < 0 || brain[q] || hu[q] < -100 || hu[q] > 200) continue;
        brain[q] = 1;
        stack.push(q);
      }
    }
  }
  const labels = new Uint8Array(n);
  const healthy = new Int16Array(n);
  const difference = new Float32Array(n);
  const score = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const v = hu[p];
    labels[p] = brain[p] && v > 58 && v < 100 ? 1 : brain[p] && v < 15 ? 2 : 0;
    healthy[p] = labels[p] === 1 ? 38 : v;
    difference[p] = v - healthy[p];
    score[p] = labels[p] === 1 ? Math.min(1, Math.abs(v - 38) / 40) : brain[p] ? Math.min(1, Math.abs(v - 38) / 200) : 0;
  }
  return {
    score: { data: score, range: [0, 1], label: 'Anomaly score' },
    labels,
    brain,
    alternates: [
      { name: 'Healthy', data: healthy },
      { name: 'Difference', data: difference, window: { centerHu: 0, widthHu: 100 } },
    ],
  };
}

function Harness() {
  const api = useApi();
  const params = new URLSearchParams(location.search);
  const seriesId = params.get('series')!;
  const lesion = params.get('lesion')!.split(',').map(Number);
  const [layers, setLayers] = useState<Layers | null>(null);
  const [focus, setFocus] = useState<(VoxelIndex & { zoom?: number }) | undefined>(undefined);
  const [cursor, setCursor] = useState<CursorInfo | null>(null);
  const [external, setExternal] = useState(false);
  const handle = useRef<ViewerHandle>(null);
  (window as unknown as { viewerHandle: typeof handle }).viewerHandle = handle;
  useEffect(() => {
    void (async () => {
      const d = await api.call('series.get', { seriesId });
      const hu = new Int16Array(await api.fetchBinary(d.voxelsPath));
      setLayers(derive(hu, d.dims));
    })();
  }, [api, seriesId]);
  if (!layers) return <p>deriving overlays…</p>;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100vh' }}>
      <div style={{ display: 'flex', gap: 8, padding: 4 }}>
        <button data-testid="go-lesion" onClick={() => setFocus({ i: lesion[0], j: lesion[1], k: lesion[2], zoom: 2 })}>Go to lesion</button>
        <label><input type="checkbox" data-testid="external-tool" checked={external} onChange={(e) => setExternal(e.target.checked)} /> brush owns the left button</label>
        <span data-testid="harness-cursor">{cursor ? JSON.stringify({ label: cursor.label, score: cursor.score, value: cursor.value, alt: cursor.alternateValue }) : ''}</span>
      </div>
      <div style={{ flex: 1, minHeight: 0 }}>
        <Viewer ref={handle} seriesId={seriesId} scoreMap={layers.score} labelMask={layers.labels} brainMask={layers.brain} alternateImages={layers.alternates} focus={focus} onCursor={setCursor} externalTool={external} />
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><TransportProvider><Harness /></TransportProvider></StrictMode>);
`;

/**
 * Builds the harness with Vite (sources in test-results, inside the repo so node_modules
 * resolve) into the built renderer folder, so the real server serves it from its own origin.
 * (A page Playwright fulfils itself counts as a public site; Chromium then blocks its
 * WebSocket to the loopback server.)
 */
const HARNESS_OUT = resolve('out/renderer/viewer-harness');
async function buildHarness(): Promise<void> {
  const root = resolve('test-results/viewer-harness');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><html><head><meta charset="UTF-8"><title>Viewer harness</title></head><body><div id="root"></div><script type="module" src="./main.tsx"></script></body></html>');
  writeFileSync(join(root, 'main.tsx'), HARNESS_TSX);
  await build({ root, base: './', logLevel: 'warn', configFile: false, plugins: [react()], build: { outDir: HARNESS_OUT, emptyOutDir: true, chunkSizeWarningLimit: 8000 } });
}

/** RGB of the pixel at (x, y) of a decoded screenshot. */
function rgbAt(png: ReturnType<typeof decode>, x: number, y: number): [number, number, number] {
  const o = (Math.round(y) * png.width + Math.round(x)) * png.channels;
  const d = png.data as Uint8Array;
  return [d[o], d[o + 1], d[o + 2]];
}

/** Pixels whose colour matches `test`. */
function countPixels(png: ReturnType<typeof decode>, test: (r: number, g: number, b: number) => boolean): number {
  const d = png.data as Uint8Array;
  let n = 0;
  for (let o = 0; o < d.length; o += png.channels) if (test(d[o], d[o + 1], d[o + 2])) n++;
  return n;
}

const isRed = (r: number, g: number, b: number) => r > 170 && g < 110 && b < 110;
const isGrey = (r: number, g: number, b: number) => Math.abs(r - g) < 12 && Math.abs(g - b) < 12;

test.describe('viewer overlays', () => {
  let seriesId = '';
  test.beforeAll(async ({ server, playwright }) => {
    const request = await playwright.request.newContext();
    seriesId = await importPhantom(server, request);
    await request.dispose();
    await buildHarness();
  });
  test.afterAll(() => rmSync(HARNESS_OUT, { recursive: true, force: true }));

  test('heatmap, lesion labels (outline and filled), brain contour, alternate images, navigation and 3D surfaces', async ({ server, page }) => {
    test.setTimeout(240_000);
    const lesionVoxel = LESION.centreMm.map((mm, a) => Math.round(mm / PHANTOM.spacing[a]));
    await page.goto(`${server.origin}/viewer-harness/index.html?token=${encodeURIComponent(server.token)}&series=${seriesId}&lesion=${lesionVoxel.join(',')}`);
    const axial = page.getByTestId('viewport-axial');
    await expect(axial).toHaveAttribute('data-ready', 'true', { timeout: 30_000 });
    await expect(axial).toHaveAttribute('data-overlays', 'score,labels');
    await expect(page.getByTestId('colorbar')).toBeVisible();

    // Navigation request (what a lesion-list click sends): slice, centring and zoom follow.
    await page.getByTestId('go-lesion').click();
    await expect(axial).toHaveAttribute('data-slice', String(lesionVoxel[2]));
    await expect(axial).toHaveAttribute('data-zoom', '2.00');
    await expect(page.getByTestId('viewport-sagittal')).toHaveAttribute('data-slice', String(lesionVoxel[0]));
    await expect(axial).toHaveAttribute('data-ready', 'true');
    const box = (await axial.boundingBox())!;
    // After centring, the lesion centre is the middle of the viewport; the lesion radius in pixels:
    const fitMm = (PHANTOM.nx * PHANTOM.spacing[0]) / 2;
    const pxPerMm = (2 * box.height) / 2 / (Math.max(fitMm, (fitMm * box.height) / box.width) * 1.04);
    const rPx = LESION.radiusMm * pxPerMm;
    const cx = box.width / 2;
    const cy = box.height / 2;

    // The cursor reports the label and score under it.
    await page.mouse.move(box.x + cx, box.y + cy);
    await expect(page.getByTestId('harness-cursor')).toContainText('"label":1');
    await expect(page.getByTestId('cursor-readout-axial')).toContainText('Lesion 1');

    // Outline only: the lesion's inside shows the anatomy (grey), its edge is red.
    await page.keyboard.press('h');
    await expect(axial).toHaveAttribute('data-overlays', 'labels');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    let shot = decode(await axial.screenshot({ path: `${SCREENS}/viewer-lesion-outline.png` }));
    expect(isGrey(...rgbAt(shot, cx, cy))).toBe(true);
    const ring = countPixels(shot, isRed);
    expect(ring).toBeGreaterThan(2 * Math.PI * rPx * 0.5);
    expect(ring).toBeLessThan(Math.PI * rPx * rPx * 0.6);

    // Filled: the lesion's inside is red.
    await page.keyboard.press('f');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    shot = decode(await axial.screenshot({ path: `${SCREENS}/viewer-lesion-filled.png` }));
    expect(isRed(...rgbAt(shot, cx, cy))).toBe(true);
    expect(isRed(...rgbAt(shot, cx + rPx * 0.5, cy))).toBe(true);
    // Outside the lesion, normal brain stays grey.
    expect(isGrey(...rgbAt(shot, cx + rPx * 1.3, cy - rPx * 1.5))).toBe(true);
    expect(countPixels(shot, isRed)).toBeGreaterThan(Math.PI * rPx * rPx * 0.7);

    // Heatmap only: hot colours on the lesion, the normal brain around it uncoloured.
    await page.keyboard.press('l');
    await page.keyboard.press('h');
    await expect(axial).toHaveAttribute('data-overlays', 'score');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    shot = decode(await axial.screenshot({ path: `${SCREENS}/viewer-heatmap.png` }));
    const [hr, hg, hb] = rgbAt(shot, cx, cy);
    expect(hr).toBeGreaterThan(200);
    expect(hr - hb).toBeGreaterThan(40);
    expect(hg).toBeGreaterThan(100);
    expect(isGrey(...rgbAt(shot, cx + rPx * 1.3, cy - rPx * 1.5))).toBe(true);

    // Brain contour: cyan pixels appear.
    await page.keyboard.press('b');
    await expect(axial).toHaveAttribute('data-overlays', 'score,brain');
    await page.getByTestId('layout-toggle').click();
    await page.keyboard.press('r');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    shot = decode(await axial.screenshot({ path: `${SCREENS}/viewer-brain-contour.png` }));
    expect(countPixels(shot, (r, g, b) => r < 140 && g > 170 && b > 200)).toBeGreaterThan(200);
    await page.getByTestId('layout-toggle').click();

    // Flicking to the healthy reconstruction: the lesion becomes brain.
    await page.getByTestId('go-lesion').click();
    await page.keyboard.press('o');
    await expect(axial).toHaveAttribute('data-overlays', '');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    const original = rgbAt(decode(await axial.screenshot()), cx, cy)[0];
    // (Space on the focused harness button would press that button.)
    await page.getByTestId('viewer').focus();
    await page.keyboard.press(' ');
    await expect(axial).toHaveAttribute('data-image', 'Healthy');
    await expect(axial).toHaveAttribute('data-ready', 'true');
    const healthy = rgbAt(decode(await axial.screenshot({ path: `${SCREENS}/viewer-healthy.png` })), cx, cy)[0];
    expect(original - healthy).toBeGreaterThan(60);
    await page.getByTestId('image-Difference').click();
    await expect(axial).toHaveAttribute('data-image', 'Difference');
    await expect(axial).toHaveAttribute('data-window', '0/100');
    await page.keyboard.press(' ');
    await expect(axial).toHaveAttribute('data-image', 'original');
    await expect(axial).toHaveAttribute('data-window', '40/80');
    await page.keyboard.press('o');

    // With the left button given to the parent (a brush), dragging and clicking leave the view
    // alone while the cursor keeps being reported.
    await page.getByTestId('external-tool').check();
    await expect(page.getByTestId('viewer')).toHaveAttribute('data-tool', 'external');
    const positionBefore = await page.getByTestId('viewer').getAttribute('data-position');
    await page.mouse.move(box.x + cx - 60, box.y + cy - 60);
    await page.mouse.down();
    await page.mouse.move(box.x + cx + 40, box.y + cy + 30, { steps: 4 });
    await page.mouse.up();
    await expect(page.getByTestId('harness-cursor')).toContainText('"label":1');
    await expect(axial).toHaveAttribute('data-window', '40/80');
    await expect(page.getByTestId('viewer')).toHaveAttribute('data-position', positionBefore!);
    await page.getByTestId('external-tool').uncheck();

    // The imperative handle moves the crosshair too.
    await page.evaluate(() => (globalThis as unknown as { viewerHandle: { current: { goTo(v: object): void } } }).viewerHandle.current.goTo({ i: 100, j: 120, k: 10 }));
    await expect(page.getByTestId('viewer')).toHaveAttribute('data-position', '100,120,10');

    // 3D: lesion surfaces (both labels) in colour.
    await page.getByTestId('go-lesion').click();
    await page.keyboard.press('l');
    await page.keyboard.press('v');
    const volume = page.getByTestId('viewport-3d');
    await expect(volume).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
    expect(Number(await volume.getAttribute('data-lesion-triangles'))).toBeGreaterThan(100);
    await volume.screenshot({ path: `${SCREENS}/viewer-3d-soft-lesions.png` });
    await page.getByTestId('volume-preset').selectOption('none');
    await expect(volume).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
    const v3 = decode(await volume.screenshot({ path: `${SCREENS}/viewer-3d-lesions.png` }));
    expect(countPixels(v3, (r, g, b) => r > 120 && r > g * 1.6 && r > b * 1.6)).toBeGreaterThan(50);
    await page.screenshot({ path: `${SCREENS}/viewer-overlays-quad.png` });
  });
});
