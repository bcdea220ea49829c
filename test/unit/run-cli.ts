/** The CLI run in-process, its output captured: what the CLI tests assert on. */
import { runCli } from '../../src/main/cli/main';

export async function runCliCaptured(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

/** `args --json`, its result parsed ({} when nothing came), and the log on stderr. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the CLI's JSON, checked field by field
export async function runCliJson(args: string[]): Promise<{ code: number; json: Record<string, any>; err: string }> {
  const { code, stdout, stderr } = await runCliCaptured([...args, '--json']);
  return { code, json: JSON.parse(stdout || '{}'), err: stderr };
}
