import type { MethodName } from './contract';
import type { ErrorPayload } from './errors';

/** Electron IPC carries results in an envelope: a rejected invoke would lose the error code. */
export type IpcEnvelope = { ok: true; result: unknown } | { ok: false; error: ErrorPayload };

export const IPC_EVENT_CHANNEL = 'inpaint:event';
export const BLOB_SCHEME = 'inpaint-data';

export function ipcChannelOf(method: MethodName): string {
  return `rpc:${method}`;
}
