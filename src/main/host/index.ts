/**
 * The Electron host: the only code that imports `electron`. App lifecycle, one hardened window,
 * IPC handlers derived from the contract, and the binary protocol for voxels and maps.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, type IpcMainInvokeEvent } from 'electron';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { METHOD_NAMES } from '../../shared/contract';
import { toErrorPayload } from '../../shared/errors';
import { BLOB_SCHEME, IPC_EVENT_CHANNEL, ipcChannelOf, type IpcEnvelope } from '../../shared/ipc';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { Services } from '../services/index';

protocol.registerSchemesAsPrivileged([{ scheme: BLOB_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`${flag}=`));
  return eq?.slice(flag.length + 1);
}

const here = dirname(fileURLToPath(import.meta.url));
const rendererIndex = join(here, '../renderer/index.html');
const rendererUrlPrefix = pathToFileURL(resolve(here, '../renderer')).href;

/** IPC is answered only for our own renderer's frames, never for anything else that got loaded. */
function trustedSender(e: IpcMainInvokeEvent): boolean {
  const url = e.senderFrame?.url ?? '';
  return url.startsWith(rendererUrlPrefix) || (!!process.env.ELECTRON_RENDERER_URL && url.startsWith(process.env.ELECTRON_RENDERER_URL));
}

async function main(): Promise<void> {
  await app.whenReady();
  const dataDir = resolve(argValue('--data-dir') ?? process.env.INPAINT_CT_DATA_DIR ?? app.getPath('userData'));
  const services = await Services.open({ dataDir, mode: 'electron', maxConcurrentJobs: 1 });
  if (!process.argv.includes('--no-demo')) await services.ensureDemo();

  // The app never needs the network: refuse every request that is not our own files or protocol.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const ok = details.url.startsWith('file:') || details.url.startsWith(`${BLOB_SCHEME}:`) || details.url.startsWith('devtools:') || (!!process.env.ELECTRON_RENDERER_URL && details.url.startsWith(process.env.ELECTRON_RENDERER_URL));
    callback({ cancel: !ok });
  });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

  protocol.handle(BLOB_SCHEME, async (request) => {
    try {
      const url = new URL(request.url);
      const { bytes, contentType } = await services.readBinary(decodeURIComponent(url.pathname.replace(/^\/+/, '')));
      return new Response(bytes as unknown as ConstructorParameters<typeof Response>[0], { headers: { 'Content-Type': contentType } });
    } catch (e) {
      return new Response(JSON.stringify({ error: toErrorPayload(e) }), { status: 404, headers: { 'Content-Type': 'application/json' } });
    }
  });

  for (const name of METHOD_NAMES) {
    ipcMain.handle(ipcChannelOf(name), async (e, params): Promise<IpcEnvelope> => {
      if (!trustedSender(e)) return { ok: false, error: { code: 'UNAUTHORIZED', message: 'Request from an untrusted page.' } };
      try {
        return { ok: true, result: await services.call(name, params) };
      } catch (err) {
        return { ok: false, error: toErrorPayload(err) };
      }
    });
  }
  ipcMain.handle('host:choose-paths', async (e, kind: 'files' | 'folder') => {
    if (!trustedSender(e)) return [];
    const win = BrowserWindow.fromWebContents(e.sender);
    const r = await dialog.showOpenDialog(win!, {
      title: kind === 'folder' ? 'Import a DICOM folder' : 'Import NIfTI, DICOM or PNG files',
      properties: kind === 'folder' ? ['openDirectory', 'multiSelections'] : ['openFile', 'multiSelections'],
    });
    return r.canceled ? [] : r.filePaths;
  });

  const win = new BrowserWindow({
    width: 1500,
    height: 950,
    show: false,
    title: 'Inpaint CT — research use only',
    backgroundColor: '#101418',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  services.events.onAny((event, payload) => {
    if (!win.isDestroyed()) win.webContents.send(IPC_EVENT_CHANNEL, { event, payload });
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.on('will-attach-webview', (e) => e.preventDefault());
  win.once('ready-to-show', () => win.show());
  if (process.env.ELECTRON_RENDERER_URL) await win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await win.loadFile(rendererIndex);

  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void services.close());
}

main().catch((e) => {
  console.error(e);
  dialog.showErrorBox('Inpaint CT could not start', toErrorPayload(e).message);
  app.exit(1);
});
