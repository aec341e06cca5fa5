import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError, isErrorCode } from '#shared/errors';
import type { FromWorkerMessage, ToWorkerMessage } from '#shared/worker-messages';

/**
 * Where a worker entry lives. Built, the entries are bundled to `out/main/workers/<name>.js`; from source
 * (tsx, vitest) a small JS bootstrap registers tsx inside the thread, since Node 20 cannot start a `.ts`
 * worker with loader flags.
 */
export function workerEntry(name: string): { url: URL; workerData: Record<string, unknown> } {
  const here = checkedEntryName(name);
  if (here.endsWith('.ts')) {
    return {
      url: new URL('../../workers/ts-bootstrap.mjs', here),
      workerData: { __entry: new URL(`../../workers/${name}.ts`, here).href },
    };
  }
  return { url: pathToFileURL(builtEntry(name)), workerData: {} };
}

/**
 * The same for an entry run as a child process (`child_process.fork`): from source, Node loads the `.ts` file with
 * tsx's loader flag, which a child process (unlike a thread) accepts.
 */
export function processEntry(name: string): { file: string; execArgv: string[] } {
  const here = checkedEntryName(name);
  if (here.endsWith('.ts')) {
    return { file: fileURLToPath(new URL(`../../workers/${name}.ts`, here)), execArgv: ['--import', 'tsx'] };
  }
  return { file: builtEntry(name), execArgv: [] };
}

/** This module's URL, once the entry name is known to be a plain file name. */
function checkedEntryName(name: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`bad worker entry name '${name}'`);
  return import.meta.url;
}

function builtEntry(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++) {
    const candidate = path.join(dir, 'workers', `${name}.js`);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`worker entry '${name}' is not built; run npm run build`);
}

interface RunOptions {
  onProgress?: (fraction: number, message?: string) => void;
  signal?: AbortSignal;
}

interface Waiter {
  resolve: (worker: Worker) => void;
}

/** A small pool of reusable worker threads per entry. A cancelled job's thread is terminated, not reused. */
export class WorkerPool {
  private readonly idle = new Map<string, Worker[]>();
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly maxPerEntry = 2,
  ) {}

  async run(entry: string, type: string, payload: unknown, options: RunOptions = {}): Promise<unknown> {
    if (options.signal?.aborted) throw new AppError('FAILED_PRECONDITION', 'cancelled before start');
    const worker = await this.acquire(entry);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (reuse: boolean) => {
        settled = true;
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        options.signal?.removeEventListener('abort', onAbort);
        this.release(entry, worker, reuse);
      };
      const onMessage = (message: FromWorkerMessage) => {
        if (message.kind === 'progress') options.onProgress?.(message.fraction, message.message);
        else if (message.kind === 'result') {
          finish(true);
          resolve(message.value);
        } else {
          finish(true);
          reject(new AppError(isErrorCode(message.code) ? message.code : 'INTERNAL', message.message));
        }
      };
      const onError = (err: Error) => {
        if (settled) return;
        finish(false);
        reject(new AppError('INTERNAL', `worker '${entry}' crashed: ${err.message}`));
      };
      const onExit = (code: number) => {
        if (settled) return;
        finish(false);
        reject(new AppError('INTERNAL', `worker '${entry}' exited with code ${code}`));
      };
      const onAbort = () => {
        if (settled) return;
        worker.postMessage({ kind: 'cancel' } satisfies ToWorkerMessage);
        // A handler that ignores the signal is stopped for it after a short grace.
        setTimeout(() => {
          if (settled) return;
          finish(false);
          reject(new AppError('FAILED_PRECONDITION', 'cancelled'));
        }, 2000).unref();
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ kind: 'run', type, payload, dataDir: this.dataDir } satisfies ToWorkerMessage);
    });
  }

  private async acquire(entry: string): Promise<Worker> {
    if (this.closed) throw new AppError('FAILED_PRECONDITION', 'the worker pool is closed');
    const idle = this.idle.get(entry);
    const reused = idle?.pop();
    if (reused) {
      this.busy.set(entry, (this.busy.get(entry) ?? 0) + 1);
      return reused;
    }
    if ((this.busy.get(entry) ?? 0) < this.maxPerEntry) {
      this.busy.set(entry, (this.busy.get(entry) ?? 0) + 1);
      const { url, workerData } = workerEntry(entry);
      return new Worker(url, { workerData });
    }
    return new Promise((resolve) => {
      const list = this.waiting.get(entry) ?? [];
      list.push({ resolve });
      this.waiting.set(entry, list);
    });
  }

  private release(entry: string, worker: Worker, reuse: boolean): void {
    const next = this.waiting.get(entry)?.shift();
    if (!reuse) {
      void worker.terminate();
      if (next) {
        const { url, workerData } = workerEntry(entry);
        next.resolve(new Worker(url, { workerData }));
      } else this.busy.set(entry, (this.busy.get(entry) ?? 1) - 1);
      return;
    }
    if (next) {
      next.resolve(worker);
      return;
    }
    this.busy.set(entry, (this.busy.get(entry) ?? 1) - 1);
    if (this.closed) {
      void worker.terminate();
      return;
    }
    const list = this.idle.get(entry) ?? [];
    list.push(worker);
    this.idle.set(entry, list);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }
}
