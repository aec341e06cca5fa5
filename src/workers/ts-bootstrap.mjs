// Lets a worker thread run a TypeScript entry when the app runs from source (tsx, vitest).
// Built code never uses this file: workers are bundled to .js next to the main bundle.
import { workerData } from 'node:worker_threads';
const { register } = await import('tsx/esm/api');
register();
await import(workerData.__entry);
