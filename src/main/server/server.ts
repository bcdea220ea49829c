/**
 * Browser mode: the same services over HTTP + WebSocket, bound to 127.0.0.1 only, with a random
 * per-launch token required on every API request. The unchanged renderer runs in a plain
 * browser against it (and the end-to-end tests drive it).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { extname, join, resolve, sep, basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { toErrorPayload, AppError, type ErrorCode } from '../../shared/errors';
import type { WireRequest, WireResponse, WireEvent } from '../../shared/contract';
import type { Services } from '../services/index';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';

export interface ServerOptions {
  services: Services;
  /** Built renderer (index.html and assets). */
  rendererDir: string;
  port?: number;
  /** Fixed token (tests); otherwise random per launch. */
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** The URL to open, with the token. */
  openUrl: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CANCELLED: 409,
  INTERNAL: 500,
};

function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  securityHeaders(res);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, e: unknown): void {
  const payload = toErrorPayload(e);
  sendJson(res, HTTP_STATUS[payload.code] ?? 400, { error: payload });
}

async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new AppError('BAD_REQUEST', 'The request is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const { services } = opts;
  const rendererRoot = resolve(opts.rendererDir);
  let port = 0;

  const tokenOk = (given: string | null | undefined): boolean => {
    if (!given) return false;
    const b = Buffer.from(given);
    return b.length === tokenBytes.length && timingSafeEqual(b, tokenBytes);
  };
  const requestToken = (req: IncomingMessage, url: URL): string | null => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice(7);
    return url.searchParams.get('token');
  };
  // DNS rebinding defence: a page on another site cannot reach us under a name it controls.
  const hostOk = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };

  const server: Server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      if (!hostOk(req)) return sendJson(res, 403, { error: { code: 'UNAUTHORIZED', message: 'Requests must come from this computer.' } });
      if (url.pathname.startsWith('/api/')) {
        if (!tokenOk(requestToken(req, url))) {
          return sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: 'Missing or wrong access token. Open the link printed by "inpaint-ct serve".' } });
        }
        return await handleApi(req, res, url);
      }
      return serveStatic(res, url.pathname);
    } catch (e) {
      sendError(res, e);
    }
  });

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const rpc = /^\/api\/rpc\/([A-Za-z.]+)$/.exec(url.pathname);
    if (rpc) {
      if (req.method !== 'POST') throw new AppError('BAD_REQUEST', 'Use POST for API calls.');
      const text = await readBody(req, 1024 * 1024);
      let params: unknown = {};
      if (text.trim()) {
        try {
          params = JSON.parse(text);
        } catch {
          throw new AppError('BAD_REQUEST', 'The request body is not valid JSON.');
        }
      }
      const result = await services.call(rpc[1], params);
      return sendJson(res, 200, { result });
    }
    if (url.pathname.startsWith('/api/blob/')) {
      const { bytes, contentType } = await services.readBinary(decodeURIComponent(url.pathname.slice('/api/blob/'.length)));
      securityHeaders(res);
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': bytes.byteLength });
      res.end(bytes);
      return;
    }
    if (url.pathname === '/api/upload') {
      // Browser mode has no file paths: dropped files are streamed here, then imported by path.
      if (req.method !== 'POST') throw new AppError('BAD_REQUEST', 'Use POST to upload.');
      const batch = url.searchParams.get('batch') ?? randomUUID();
      if (!/^[A-Za-z0-9-]{1,64}$/.test(batch)) throw new AppError('BAD_REQUEST', 'Bad upload batch id.');
      const rel = (url.searchParams.get('name') ?? '').split(/[\\/]/).filter((p) => p && p !== '.' && p !== '..');
      if (rel.length === 0) throw new AppError('BAD_REQUEST', 'The uploaded file needs a name.');
      const dir = join(services.options.dataDir, 'uploads', batch);
      const target = join(dir, ...rel);
      if (!resolve(target).startsWith(resolve(dir) + sep)) throw new AppError('BAD_REQUEST', 'Bad file name.');
      await mkdir(join(target, '..'), { recursive: true });
      await pipeline(req, createWriteStream(target));
      return sendJson(res, 200, { result: { batch, folder: dir, file: basename(target) } });
    }
    throw new AppError('NOT_FOUND', 'Unknown API path.');
  }

  function serveStatic(res: ServerResponse, pathname: string): void {
    const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    let file = resolve(rendererRoot, rel);
    if (!file.startsWith(rendererRoot + sep) || !existsSync(file) || statSync(file).isDirectory()) {
      // Single-page app: unknown paths get the shell (it reads its state from the URL).
      file = join(rendererRoot, 'index.html');
      if (!existsSync(file)) return sendJson(res, 503, { error: { code: 'INTERNAL', message: 'The user interface has not been built. Run "npm run build".' } });
    }
    securityHeaders(res);
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/ws' || !hostOk(req) || !tokenOk(url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });

  function onSocket(ws: WebSocket): void {
    const off = services.events.onAny((event, payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'event', event, payload } satisfies WireEvent));
    });
    ws.on('close', off);
    ws.on('message', async (data) => {
      let req: WireRequest;
      try {
        req = JSON.parse(String(data));
      } catch {
        return;
      }
      if (req?.type !== 'request' || typeof req.id !== 'number') return;
      let reply: WireResponse;
      try {
        reply = { type: 'response', id: req.id, result: await services.call(req.method, req.params) };
      } catch (e) {
        reply = { type: 'response', id: req.id, error: toErrorPayload(e) };
      }
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
    });
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    token,
    openUrl: `${url}/?token=${encodeURIComponent(token)}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
