/**
 * The only bridge between the sandboxed renderer and the host: one function per contract
 * method, plus event subscription. Raw ipcRenderer is never exposed.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { METHOD_NAMES, EVENT_NAMES, type EventName } from '../shared/contract';
import { IPC_EVENT_CHANNEL, ipcChannelOf, type IpcEnvelope } from '../shared/ipc';

const methods: Record<string, (params: unknown) => Promise<IpcEnvelope>> = {};
for (const name of METHOD_NAMES) {
  const channel = ipcChannelOf(name);
  methods[name] = (params: unknown) => ipcRenderer.invoke(channel, params) as Promise<IpcEnvelope>;
}

const api = {
  methods,
  subscribe(event: EventName, callback: (payload: unknown) => void): () => void {
    if (!EVENT_NAMES.includes(event)) throw new Error(`Unknown event ${String(event)}`);
    const listener = (_e: IpcRendererEvent, message: { event: EventName; payload: unknown }) => {
      if (message.event === event) callback(message.payload);
    };
    ipcRenderer.on(IPC_EVENT_CHANNEL, listener);
    return () => ipcRenderer.removeListener(IPC_EVENT_CHANNEL, listener);
  },
  /** Native open dialog; resolves to chosen paths (empty when cancelled). */
  choosePaths(kind: 'files' | 'folder'): Promise<string[]> {
    return ipcRenderer.invoke('host:choose-paths', kind) as Promise<string[]>;
  },
};

export type PreloadApi = typeof api;

contextBridge.exposeInMainWorld('inpaintCt', api);
