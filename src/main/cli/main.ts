import { resolve } from 'node:path';
import { AppError, toErrorPayload } from '../../shared/errors';
import { APP_VERSION } from '../../shared/version';
import { defaultDataDir } from '../paths';
import type { CliCommand, CliContext } from './command';
import { commands } from './commands/index';

const HEADER = `inpaint-ct ${APP_VERSION} — anomaly detection in brain CT by diffusion-model inpainting.
RESEARCH USE ONLY. Not a medical device; not for diagnosis or treatment decisions.`;

function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `${HEADER}

Usage: inpaint-ct <command> [options]

Commands:
${lines.join('\n')}

Global options:
  --json            machine-readable result on stdout (logs go to stderr)
  --data-dir DIR    study library location (default: $INPAINT_CT_DATA_DIR or ~/.local/share/inpaint-ct)
  --help            show help for a command
  --version         print the version
`;
}

/** Pull the global flags out so subcommands only see their own. */
function splitGlobals(argv: string[]): { json: boolean; help: boolean; dataDir?: string; rest: string[] } {
  const rest: string[] = [];
  let json = false;
  let help = false;
  let dataDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--data-dir') {
      const v = argv[++i];
      if (!v || v.startsWith('--')) throw new AppError('BAD_REQUEST', '--data-dir needs a folder path.');
      dataDir = v;
    } else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
    else rest.push(a);
  }
  return { json, help, dataDir, rest };
}

export async function runCli(argv: string[], io: { stdout: (s: string) => void; stderr: (s: string) => void } = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
}): Promise<number> {
  let json = argv.includes('--json');
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    if (argv[0] === '--version' || argv[0] === '-v') {
      io.stdout(json ? JSON.stringify({ version: APP_VERSION }) + '\n' : `${APP_VERSION}\n`);
      return 0;
    }
    const g = splitGlobals(argv);
    json = g.json;
    const [name, ...rest] = g.rest;
    if (!name) {
      io.stdout(globalHelp());
      return g.help ? 0 : 1;
    }
    const command = commands.find((c) => c.name === name) as CliCommand | undefined;
    if (!command) throw new AppError('BAD_REQUEST', `Unknown command "${name}". Run "inpaint-ct --help" for the list.`);
    if (g.help) {
      io.stdout(`${HEADER}\n\n${command.usage.trim()}\n`);
      return 0;
    }
    const ctx: CliContext = {
      json,
      log: (line) => io.stderr(line + '\n'),
      signal: controller.signal,
      dataDir: g.dataDir ? resolve(g.dataDir) : defaultDataDir(),
    };
    const result = await command.run(rest, ctx);
    if (json) io.stdout(JSON.stringify(result, null, 2) + '\n');
    else if (command.format) io.stdout(command.format(result) + '\n');
    return 0;
  } catch (e) {
    const payload = toErrorPayload(e);
    if (payload.code === 'INTERNAL' && process.env.INPAINT_CT_DEBUG) io.stderr(String((e as Error)?.stack) + '\n');
    io.stderr(`Error: ${payload.message}\n`);
    if (json) io.stdout(JSON.stringify({ error: payload }) + '\n');
    return payload.code === 'INTERNAL' ? 1 : 2;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
