#!/usr/bin/env node
// Runs the CLI straight from the TypeScript sources (tsx compiles on the fly), so
// `npx inpaint-ct` works right after `npm ci` without a build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

register();
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { runCli } = await import(join(root, 'src/main/cli/main.ts'));
const code = await runCli(process.argv.slice(2));
// Let pending stdout flush before exiting; servers keep the process alive themselves.
if (code !== 0) process.exitCode = code;
