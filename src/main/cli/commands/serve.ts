import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AppError } from '../../../shared/errors';
import { RESEARCH_USE_NOTICE } from '../../../shared/version';
import { projectRoot } from '../../paths';
import { startServer } from '../../server/server';
import { Services } from '../../services/index';
import { defineCommand, parseCommandArgs, requireNumber } from '../command';

/** Build the renderer once if this checkout has never been built (fresh clone + npm ci). */
function ensureRendererBuilt(log: (s: string) => void): string {
  const root = projectRoot();
  const dir = join(root, 'out', 'renderer');
  if (existsSync(join(dir, 'index.html'))) return dir;
  log('Building the user interface (first start only, about a minute)…');
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !existsSync(join(dir, 'index.html'))) throw new AppError('INTERNAL', 'Building the user interface failed; run "npm run build" to see why.');
  return dir;
}

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Run the workstation in browser mode on http://127.0.0.1 (prints the link with its access token)',
  usage: `Usage: inpaint-ct serve [--port N] [--data-dir DIR] [--no-demo]

Serves the workstation's user interface and API on 127.0.0.1 only. Every API request needs the
random access token printed in the link; open that link in Chromium or Chrome on this computer.
Stop with Ctrl-C.`,
  async run(argv, ctx) {
    const { values } = parseCommandArgs(argv, { port: { type: 'string' }, 'no-demo': { type: 'boolean' }, token: { type: 'string' } }, { allowPositionals: false });
    const port = requireNumber(values.port, '--port', { min: 0, max: 65535, integer: true }) ?? 0;
    const rendererDir = ensureRendererBuilt(ctx.log);
    const services = await Services.open({ dataDir: ctx.dataDir, mode: 'browser', maxConcurrentJobs: 1 });
    if (!values['no-demo']) {
      const demo = await services.ensureDemo();
      if (demo) ctx.log('Empty library: generating the demo study (synthetic head CT with a hemorrhage) and analysing it…');
    }
    const server = await startServer({ services, rendererDir, port, token: values.token ?? process.env.INPAINT_CT_TOKEN });
    ctx.log(`Inpaint CT — ${RESEARCH_USE_NOTICE}`);
    ctx.log(`Library: ${ctx.dataDir}`);
    ctx.log(`Open this link in Chromium/Chrome on this computer:\n\n  ${server.openUrl}\n`);
    const stop = async () => {
      await server.close();
      await services.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    // Stay alive until a signal; the result is printed first so scripts can read the URL.
    const result = { url: server.openUrl, port: server.port, token: server.token, dataDir: ctx.dataDir };
    if (ctx.json) process.stdout.write(JSON.stringify(result) + '\n');
    await new Promise(() => undefined);
    return result;
  },
});
