import { parentPort } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from '#shared/worker-messages';

export interface WorkerJobContext {
  /** 0..1, with an optional line for the UI. */
  progress(fraction: number, message?: string): void;
  signal: AbortSignal;
  dataDir: string;
}

export type WorkerJobHandler = (payload: unknown, ctx: WorkerJobContext) => Promise<unknown>;

/**
 * The loop inside a worker entry (src/workers/*.ts): runs one job at a time with the handler registered for
 * its type and reports progress and the outcome to the core.
 */
export function serveWorkerJobs(handlers: Record<string, WorkerJobHandler>): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorkerJobs must run inside a worker thread');
  let current: AbortController | undefined;
  const send = (message: FromWorkerMessage) => port.postMessage(message);
  port.on('message', (message: ToWorkerMessage) => {
    if (message.kind === 'cancel') {
      current?.abort();
      return;
    }
    const handler = handlers[message.type];
    if (!handler) {
      send({ kind: 'error', code: 'INVALID_ARGUMENT', message: `this worker has no handler for '${message.type}'` });
      return;
    }
    current = new AbortController();
    const ctx: WorkerJobContext = {
      progress: (fraction, text) =>
        send({ kind: 'progress', fraction, ...(text === undefined ? {} : { message: text }) }),
      signal: current.signal,
      dataDir: message.dataDir,
    };
    handler(message.payload, ctx).then(
      (value) => send({ kind: 'result', value }),
      (err: unknown) => {
        const e = err as { code?: unknown; message?: unknown };
        send({
          kind: 'error',
          code: typeof e.code === 'string' ? e.code : 'INTERNAL',
          message: typeof e.message === 'string' ? e.message : String(err),
        });
      },
    );
  });
}
