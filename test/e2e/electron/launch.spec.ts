import { test, expect, _electron as electron } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The Electron binary is downloaded on first use (requiring the package starts that download),
 * and machines without internet cannot have it: look for it without triggering the download.
 */
function electronBinary(): string | null {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
    return existsSync(p) ? p : null;
  }
  const pkg = join(dirname(createRequire(import.meta.url).resolve('electron/package.json')));
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

test.describe('Electron desktop app', () => {
  test.skip(!binary, 'Electron binary is not installed on this machine (no download possible offline); browser-mode tests cover the same renderer and services.');
  test.skip(!existsSync('out/main/index.js'), 'Run "npm run build" first: out/main/index.js is missing.');

  test('launches a hardened window showing the shell', async () => {
    const app = await electron.launch({ executablePath: binary!, args: ['.', '--data-dir', mkdtempSync(join(tmpdir(), 'ict-electron-'))] });
    const win = await app.firstWindow();
    await expect(win.getByTestId('app-shell')).toBeVisible();
    await expect(win.getByTestId('app-version')).toContainText('desktop');
    // Hardening seen from the page: no Node, no require, only the contract bridge.
    const page = await win.evaluate(() => {
      const g = globalThis as unknown as { require?: unknown; process?: unknown; inpaintCt?: { methods: Record<string, unknown> } };
      return { require: typeof g.require, process: typeof g.process, bridge: Object.keys(g.inpaintCt ?? {}).sort(), hasStudiesList: typeof g.inpaintCt?.methods['studies.list'] };
    });
    expect(page).toEqual({ require: 'undefined', process: 'undefined', bridge: ['choosePaths', 'methods', 'subscribe'], hasStudiesList: 'function' });
    // No navigation away from the app and no new windows.
    await win.evaluate(() => {
      (globalThis as unknown as { open: (u: string) => void }).open('https://example.org');
    });
    expect(app.windows()).toHaveLength(1);
    await app.close();
  });
});
