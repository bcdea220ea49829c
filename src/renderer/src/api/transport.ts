/**
 * How the renderer reaches the services: Electron IPC through the preload bridge, or the
 * loopback WebSocket of browser mode. Everything above this file sees one `Transport`.
 */
import type { EventMap, EventName, MethodName, ParamsOf, ResultOf, WireEvent, WireRequest, WireResponse } from '../../../shared/contract';
import type { ErrorPayload } from '../../../shared/errors';
import type { IpcEnvelope } from '../../../shared/ipc';
import { BLOB_SCHEME } from '../../../shared/ipc';

export class ApiError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export interface Transport {
  mode: 'electron' | 'browser';
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  subscribe<E extends EventName>(event: E, cb: (payload: EventMap[E]) => void): () => void;
  fetchBinary(path: string): Promise<ArrayBuffer>;
  /** URL usable in <img src>. */
  blobUrl(path: string): string;
  /** Electron only: native file dialog. */
  choosePaths?(kind: 'files' | 'folder'): Promise<string[]>;
  /** Browser mode only: send dropped files to the server; resolves to server-side paths. */
  uploadFiles?(files: { file: File; relativePath: string }[], onProgress?: (done: number, total: number) => void): Promise<string[]>;
}

interface PreloadApi {
  methods: Record<string, (params: unknown) => Promise<IpcEnvelope>>;
  subscribe(event: string, cb: (payload: unknown) => void): () => void;
  choosePaths(kind: 'files' | 'folder'): Promise<string[]>;
}

function electronTransport(bridge: PreloadApi): Transport {
  return {
    mode: 'electron',
    async call(method, params) {
      const envelope = await bridge.methods[method](params);
      if (!envelope.ok) throw new ApiError(envelope.error.code, envelope.error.message);
      return envelope.result as never;
    },
    subscribe: (event, cb) => bridge.subscribe(event, cb as (p: unknown) => void),
    async fetchBinary(path) {
      const r = await fetch(`${BLOB_SCHEME}://blob/${path}`);
      if (!r.ok) throw new ApiError('NOT_FOUND', 'Image data could not be loaded.');
      return r.arrayBuffer();
    },
    blobUrl: (path) => `${BLOB_SCHEME}://blob/${path}`,
    choosePaths: (kind) => bridge.choosePaths(kind),
  };
}

function browserTransport(token: string): Transport {
  let socket: WebSocket | null = null;
  let opening: Promise<WebSocket> | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();

  function open(): Promise<WebSocket> {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    if (opening) return opening;
    opening = new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}`);
      ws.onopen = () => {
        socket = ws;
        opening = null;
        resolve(ws);
      };
      ws.onerror = () => {
        opening = null;
        reject(new ApiError('UNAUTHORIZED', 'Cannot reach the Inpaint CT server. Is "inpaint-ct serve" still running, and did you open the link it printed?'));
      };
      ws.onclose = () => {
        socket = null;
        for (const p of pending.values()) p.reject(new ApiError('INTERNAL', 'The connection to the Inpaint CT server was lost.'));
        pending.clear();
        // Reconnect so events keep flowing after a server restart.
        setTimeout(() => void open().catch(() => undefined), 1000);
      };
      ws.onmessage = (msg) => {
        const m = JSON.parse(String(msg.data)) as WireResponse | WireEvent;
        if (m.type === 'response') {
          const p = pending.get(m.id);
          if (!p) return;
          pending.delete(m.id);
          if (m.error) p.reject(new ApiError(m.error.code, m.error.message));
          else p.resolve(m.result);
        } else if (m.type === 'event') {
          for (const l of listeners.get(m.event) ?? []) l(m.payload);
        }
      };
    });
    return opening;
  }

  const authHeaders = { Authorization: `Bearer ${token}` };
  return {
    mode: 'browser',
    async call(method, params) {
      const ws = await open();
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ type: 'request', id, method, params } satisfies WireRequest));
      });
    },
    subscribe(event, cb) {
      void open().catch(() => undefined);
      const set = listeners.get(event) ?? new Set();
      set.add(cb as (p: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(cb as (p: unknown) => void);
    },
    async fetchBinary(path) {
      const r = await fetch(`/api/blob/${path}`, { headers: authHeaders });
      if (!r.ok) {
        const body = (await r.json().catch(() => null)) as { error?: ErrorPayload } | null;
        throw new ApiError(body?.error?.code ?? 'NOT_FOUND', body?.error?.message ?? 'Image data could not be loaded.');
      }
      return r.arrayBuffer();
    },
    blobUrl: (path) => `/api/blob/${path}?token=${encodeURIComponent(token)}`,
    async uploadFiles(files, onProgress) {
      const batch = crypto.randomUUID();
      let folder = '';
      for (let i = 0; i < files.length; i++) {
        const { file, relativePath } = files[i];
        const r = await fetch(`/api/upload?batch=${batch}&name=${encodeURIComponent(relativePath || file.name)}`, { method: 'POST', headers: authHeaders, body: file });
        const body = (await r.json()) as { result?: { folder: string }; error?: ErrorPayload };
        if (!r.ok || !body.result) throw new ApiError(body.error?.code ?? 'INTERNAL', body.error?.message ?? 'Upload failed.');
        folder = body.result.folder;
        onProgress?.(i + 1, files.length);
      }
      return folder ? [folder] : [];
    },
  };
}

/** The token comes in the URL printed by `inpaint-ct serve`; kept for reloads of this tab only. */
function browserToken(): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl) {
    sessionStorage.setItem('inpaint-ct-token', fromUrl);
    return fromUrl;
  }
  return sessionStorage.getItem('inpaint-ct-token') ?? '';
}

export function createTransport(): Transport {
  const bridge = (window as unknown as { inpaintCt?: PreloadApi }).inpaintCt;
  return bridge ? electronTransport(bridge) : browserTransport(browserToken());
}
