import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../../shared/errors';

/** What every subcommand receives. Logs go to stderr so stdout stays machine-readable with --json. */
export interface CliContext {
  json: boolean;
  /** Progress and informational lines (stderr). */
  log: (line: string) => void;
  /** Cancelled on Ctrl-C. */
  signal: AbortSignal;
  /** --data-dir, INPAINT_CT_DATA_DIR, or the per-user default. */
  dataDir: string;
}

export interface CliCommand<R = unknown> {
  name: string;
  summary: string;
  /** Full usage text shown by `inpaint-ct <name> --help`. */
  usage: string;
  run(argv: string[], ctx: CliContext): Promise<R>;
  /** Human-readable rendering of the result when --json is not given. */
  format?(result: R): string;
}

export function defineCommand<R>(c: CliCommand<R>): CliCommand<R> {
  return c;
}

/**
 * Strict option parsing: an unknown flag or a missing value becomes a BAD_REQUEST with a
 * sentence naming the flag, instead of Node's stack-traced TypeError.
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  { allowPositionals = true }: { allowPositionals?: boolean } = {},
) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new AppError('BAD_REQUEST', msg.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export function requireNumber(value: string | undefined, flag: string, { min, max, integer }: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = [min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new AppError('BAD_REQUEST', `${flag} must be ${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}; got "${value}".`);
  }
  return n;
}
