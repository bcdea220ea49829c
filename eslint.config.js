// Layering is checked by a tool, not by memory: these zones fail `npm test` on a wrong import.
import tseslint from 'typescript-eslint';
import layering from './eslint-rules/layering.js';

const zones = [
  // core is pure: no Electron, no database, no services/host/server/renderer.
  { target: './src/main/core', from: './src/main/storage', message: 'core must stay database-free' },
  { target: './src/main/core', from: './src/main/services', message: 'core must not depend on services' },
  { target: './src/main/core', from: './src/main/host', message: 'core must stay Electron-free' },
  { target: './src/main/core', from: './src/main/server', message: 'core must not depend on the server' },
  { target: './src/main/core', from: './src/main/cli', message: 'core must not depend on the CLI' },
  { target: './src/main/core', from: './src/renderer', message: 'core must not depend on the renderer' },
  // storage knows SQL, not services or transports.
  { target: './src/main/storage', from: './src/main/services', message: 'storage must not depend on services' },
  { target: './src/main/storage', from: './src/main/host' },
  { target: './src/main/storage', from: './src/main/server' },
  // services are transport-agnostic.
  { target: './src/main/services', from: './src/main/host', message: 'services must not know Electron' },
  { target: './src/main/services', from: './src/main/server', message: 'services must not know HTTP' },
  // the renderer talks only through the contract in src/shared.
  { target: './src/renderer', from: './src/main', message: 'the renderer talks to the services only through src/shared and a transport' },
  { target: './src/renderer', from: './src/preload' },
  { target: './src/shared', from: './src/main', message: 'shared code is used on both sides and imports nothing from main' },
  { target: './src/shared', from: './src/renderer' },
  { target: './src/preload', from: './src/main' },
];

export default tseslint.config(
  { ignores: ['.tmp/**', 'out/**', 'node_modules/**', 'dist/**', 'test-results/**', 'playwright-report/**', 'bench/results/**', 'training/data/**', 'training/runs/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { layering },
    rules: {
      'layering/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Only the host may import electron; the preload is its sandboxed counterpart.
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/main/host/**', 'src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'Only src/main/host (and the preload) may import electron.' }] }],
    },
  },
  {
    files: ['src/main/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'core is Electron-free' },
            { name: 'better-sqlite3', message: 'core is database-free' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'path', 'child_process', 'better-sqlite3', 'onnxruntime-node', 'electron'], message: 'The renderer has no Node access.' }] },
      ],
    },
  },
);
