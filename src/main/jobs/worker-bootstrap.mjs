// Source mode only (tsx, vitest): worker threads do not inherit the TypeScript loader, so this
// plain-JS entry registers tsx and then loads the real worker. Built apps use out/main/worker.js.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

register();
await import(pathToFileURL(workerData.sourceEntry).href);
