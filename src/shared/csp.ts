/**
 * One Content-Security-Policy for Electron and browser mode: nothing is loaded from outside the
 * app, no inline scripts, no eval. vtk.js and onnx need wasm and blob workers; WebGL needs none.
 * connect-src allows the loopback WebSocket of browser mode and the app's own protocol.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: inpaint-data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:* inpaint-data:",
  "worker-src 'self' blob:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
