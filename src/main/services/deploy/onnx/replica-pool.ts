import { Worker } from 'node:worker_threads';
import type { FromReplica, ReplicaReady, ToReplica } from '#platform/onnx-serving/protocol';
import { SharedSlot } from '#platform/onnx-serving/shared-slot';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { workerEntry } from '#platform/worker-pool';
import { AppError, isErrorCode } from '#shared/errors';

export interface ReplicaRunResult {
  outputs: Record<string, TensorData>;
  inferenceMs: number;
}

interface Pending {
  id: number;
  resolve: (result: ReplicaRunResult) => void;
  reject: (err: AppError) => void;
}

/** One thread with its own loaded model. */
export class Replica {
  state: 'idle' | 'busy' | 'retiring' = 'idle';
  pending: Pending | undefined;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;

  constructor(
    readonly id: number,
    readonly worker: Worker,
    /** Its shared slot, for entries that serve one (`ReplicaPoolOptions.sharedSlot`). */
    readonly slot: SharedSlot | undefined,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }
}

export interface ReplicaPoolOptions {
  /** The model file, for messages. */
  file: string;
  /** The runtime's name in messages: 'ONNX', 'TF.js'. */
  label: string;
  /** The thread's entry (src/workers/<entry>.ts) and its `workerData`: what to load and how. */
  entry: string;
  workerData: Record<string, unknown>;
  /**
   * Whether the entry serves a shared slot (#platform/onnx-serving/shared-slot) given as `workerData.slot`: batches
   * that fit go through it rather than by message.
   */
  sharedSlot?: boolean;
  /** Called whenever a replica becomes free (a run ended, a replica started). Settable after construction. */
  onAvailable?: () => void;
  /** Called when a replica's thread died unexpectedly (it is replaced). */
  onReplicaLost?: (message: string) => void;
}

/**
 * The replica threads of one served tensor model, ONNX or TF.js: each entry speaks #platform/onnx-serving/protocol,
 * `Ready` being what its replicas say once loaded (the latest is `lastReady`). Each runs one batch at a time; the
 * runtime picks an idle one (`idle()`) and hands it a batch (`run`). `resize` adds threads (resolving once they have loaded the model) or
 * retires them: idle ones at once, busy ones after their batch, and resolves when they have exited. A thread that
 * dies is replaced; its batch fails with INTERNAL.
 */
export class ReplicaPool<Ready extends ReplicaReady = ReplicaReady> {
  private readonly replicas = new Set<Replica>();
  private nextReplicaId = 0;
  private nextRunId = 0;
  private target = 0;
  private closed = false;
  /** resize and close run one after another. */
  private chain: Promise<unknown> = Promise.resolve();

  private latestReady: Ready | undefined;

  constructor(private readonly options: ReplicaPoolOptions) {}

  set onAvailable(callback: () => void) {
    this.options.onAvailable = callback;
  }

  /** What the most recently started replica said when it was ready (TF.js: the model's signature). */
  get lastReady(): Ready | undefined {
    return this.latestReady;
  }

  /** Replicas that take work (not retiring). */
  get size(): number {
    let n = 0;
    for (const r of this.replicas) if (r.state !== 'retiring') n++;
    return n;
  }

  get busy(): number {
    let n = 0;
    for (const r of this.replicas) if (r.state === 'busy') n++;
    return n;
  }

  idle(): Replica | undefined {
    for (const r of this.replicas) if (r.state === 'idle') return r;
    return undefined;
  }

  /** Runs one batch on an idle replica; `spinMs` busy-waits for a quick answer in the shared slot (`SharedSlot.send`). */
  run(
    replica: Replica,
    feeds: Record<string, TensorData>,
    outputs: string[] | null,
    transfer: ArrayBuffer[] = [],
    spinMs = 0,
  ): Promise<ReplicaRunResult> {
    if (replica.state !== 'idle') throw new AppError('INTERNAL', `replica ${replica.id} is ${replica.state}`);
    replica.state = 'busy';
    const id = this.nextRunId++;
    return new Promise((resolve, reject) => {
      replica.pending = { id, resolve, reject };
      const message: ToReplica = { kind: 'run', id, feeds, outputs };
      // An answer by message (null here) comes to the message handler.
      const inSlot = replica.slot?.send(message, (result) => result && this.settle(replica, id, result), spinMs);
      if (!inSlot) replica.worker.postMessage(message, transfer);
    });
  }

  /** Changes the number of replicas to `n`; see the class comment. */
  resize(n: number): Promise<void> {
    const step = this.chain.then(() => this.applySize(n));
    this.chain = step.catch(() => undefined);
    return step;
  }

  /** Waits for running batches, then stops every thread. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    const step = this.chain.then(async () => {
      this.target = 0;
      const all = [...this.replicas];
      for (const r of all) this.retire(r);
      await Promise.all(all.map((r) => r.exited));
    });
    this.chain = step.catch(() => undefined);
    return step;
  }

  private async applySize(n: number): Promise<void> {
    if (this.closed) throw new AppError('FAILED_PRECONDITION', `the ${this.options.label} runtime is closed`);
    this.target = n;
    const live = [...this.replicas].filter((r) => r.state !== 'retiring');
    if (n > live.length) {
      const started = await Promise.allSettled(Array.from({ length: n - live.length }, () => this.spawn()));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        // All or nothing: a partial scale-up would leave the count neither here nor there.
        const ok = started.filter((s) => s.status === 'fulfilled').map((s) => s.value);
        for (const r of ok) this.retire(r);
        await Promise.all(ok.map((r) => r.exited));
        this.target = live.length;
        throw failed.reason;
      }
      for (const r of started) if (r.status === 'fulfilled') this.add(r.value);
      return;
    }
    // Idle replicas go first; busy ones finish their batch before they exit.
    const leaving = [...live.filter((r) => r.state === 'idle'), ...live.filter((r) => r.state === 'busy')].slice(
      0,
      live.length - n,
    );
    for (const r of leaving) this.retire(r);
    await Promise.all(leaving.map((r) => r.exited));
  }

  /** A new thread, resolved once its session is loaded (not yet taking work). */
  private spawn(): Promise<Replica> {
    const { file, label } = this.options;
    const entry = workerEntry(this.options.entry);
    const slot = this.options.sharedSlot ? new SharedSlot() : undefined;
    const worker = new Worker(entry.url, {
      workerData: { ...entry.workerData, ...this.options.workerData, ...(slot ? { slot: slot.buffer } : {}) },
    });
    const replica = new Replica(this.nextReplicaId++, worker, slot);
    return new Promise((resolve, reject) => {
      const fail = (err: AppError) => {
        worker.off('message', onMessage);
        void worker.terminate();
        reject(err);
      };
      const onMessage = (message: FromReplica<Ready>) => {
        if (message.kind === 'ready') {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          this.latestReady = message as Ready;
          resolve(replica);
        } else if (message.kind === 'load-failed')
          fail(new AppError(isErrorCode(message.code) ? message.code : 'INTERNAL', message.message, { file }));
      };
      const onError = (err: Error) =>
        fail(new AppError('INTERNAL', `a ${label} replica of '${file}' crashed while loading: ${err.message}`));
      const onExit = (code: number) =>
        fail(new AppError('INTERNAL', `a ${label} replica of '${file}' exited with code ${code} while loading`));
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
  }

  private add(replica: Replica): void {
    const { worker } = replica;
    this.replicas.add(replica);
    worker.on('message', (message: FromReplica<Ready>) => {
      if (message.kind === 'result') this.settle(replica, message.id, message);
      else if (message.kind === 'error')
        this.settle(
          replica,
          message.id,
          new AppError(isErrorCode(message.code) ? message.code : 'INTERNAL', message.message),
        );
    });
    worker.on('error', (err) => this.lost(replica, `crashed: ${err.message}`));
    worker.on('exit', (code) => this.lost(replica, `exited with code ${code}`));
    this.options.onAvailable?.();
  }

  /** Answers run `id` of `replica` (unless it was given up: the thread died), which then takes work again. */
  private settle(replica: Replica, id: number, outcome: ReplicaRunResult | AppError): void {
    const pending = replica.pending;
    if (!pending || pending.id !== id) return;
    replica.pending = undefined;
    if (outcome instanceof AppError) pending.reject(outcome);
    else pending.resolve({ outputs: outcome.outputs, inferenceMs: outcome.inferenceMs });
    this.finished(replica);
  }

  /** A run ended: the replica takes work again, or leaves if it was retiring. */
  private finished(replica: Replica): void {
    if (replica.state === 'retiring') {
      void replica.worker.terminate();
      return;
    }
    replica.state = 'idle';
    this.options.onAvailable?.();
  }

  private retire(replica: Replica): void {
    const wasBusy = replica.state === 'busy';
    replica.state = 'retiring';
    if (!wasBusy) void replica.worker.terminate();
  }

  private lost(replica: Replica, what: string): void {
    if (!this.replicas.delete(replica)) return;
    const pending = replica.pending;
    replica.pending = undefined;
    const expected = replica.state === 'retiring' && !pending;
    const { label } = this.options;
    pending?.reject(new AppError('INTERNAL', `the ${label} replica running this request ${what}`));
    if (expected || this.closed) return;
    this.options.onReplicaLost?.(`${label} replica ${replica.id} of '${this.options.file}' ${what}`);
    void replica.worker.terminate();
    // Replace it unless a resize already lowered the target.
    if (this.size < this.target && replica.state !== 'retiring')
      this.spawn().then(
        (r) => {
          if (this.closed || this.size >= this.target) void r.worker.terminate();
          else this.add(r);
        },
        (err: unknown) =>
          this.options.onReplicaLost?.(`replacing ${label} replica ${replica.id} failed: ${(err as Error).message}`),
      );
  }
}
