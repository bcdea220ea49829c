import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The per-user data directory for CLI and server. The Electron host uses app.getPath('userData')
 * instead; all three accept an explicit --data-dir / INPAINT_CT_DATA_DIR first.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INPAINT_CT_DATA_DIR) return resolve(env.INPAINT_CT_DATA_DIR);
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'inpaint-ct');
}

/**
 * The project root (where package.json, models/ and resources/ live), found by walking up from
 * this module, so the same code works from src/ (tsx), out/ (electron-vite build) and tests.
 */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models'))) return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

export function modelsDir(): string {
  return process.env.INPAINT_CT_MODELS_DIR ? resolve(process.env.INPAINT_CT_MODELS_DIR) : join(projectRoot(), 'models');
}
