import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { CONTENT_SECURITY_POLICY } from './src/shared/csp';

// Native and heavy Node packages stay outside the main bundle and load from node_modules.
const nodeExternals = ['better-sqlite3', 'onnxruntime-node', 'ws', 'dcmjs', 'nifti-reader-js', 'pdfkit', 'fast-png', 'zod', 'tsx', /^@cornerstonejs\//, 'jpeg-lossless-decoder-js', 'electron'];

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/host/index.ts'),
          // Job workers load this file beside the main bundle (see src/main/jobs/runner.ts).
          worker: resolve(__dirname, 'src/main/jobs/worker.ts'),
        },
        external: nodeExternals,
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
        external: ['electron'],
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [
      react(),
      {
        // file:// pages in Electron get no response headers, so the policy also travels in the page
        // (minus frame-ancestors, which only works as a header).
        name: 'inpaint-ct-csp-meta',
        apply: 'build',
        transformIndexHtml: (html: string) => html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY.replace(/; frame-ancestors [^;]+/, '')}" />`),
      },
    ],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      chunkSizeWarningLimit: 4000,
      rollupOptions: { input: resolve(__dirname, 'src/renderer/index.html') },
    },
  },
});
