import { concatRows, splitRows, type TensorData } from '#platform/onnx-serving/tensors';
import { AppError } from '#shared/errors';
import { BatchQueue, type Queued } from './batch-queue';
import type { ReplicaPool, Replica } from './replica-pool';
import type { ServingSignature } from './signature';
import { validateInputs } from './validate';

/** The settings both tensor-model runtimes (ONNX, TF.js) take. */
export interface TensorRuntimeOptions {
  /** Replica threads at start (1..64). Default 1. */
  replicas?: number;
  /**
   * Dynamic batching: at most this many rows (dim 0) in one run, for models whose inputs have a dynamic
   * dim 0. A request with more rows is refused (INVALID_ARGUMENT). 0 (the default) turns batching off: each
   * request runs alone, whatever its size.
   */
  maxBatchSize?: number;
  /** How long a request may wait at most for others to fill its batch. Default 0: a free replica takes what is queued. */
  maxQueueDelayMs?: number;
  /**
   * How a free replica waits for a batch to fill. 'adaptive' (the default): while requests keep arriving, one
   * event-loop turn at a time, up to maxQueueDelayMs; as soon as a turn passes without a new request, the batch
   * goes as it stands (nothing more is coming now, so waiting would only add latency). 'fixed': Triton's rule, the
   * batch goes only when full or when its oldest request has waited maxQueueDelayMs.
   */
  batchWait?: 'adaptive' | 'fixed';
  /** Requests that may wait; beyond it `infer` rejects with RESOURCE_EXHAUSTED (429). Default 1024. */
  maxQueueSize?: number;
  /** Each request's timing, once it is answered (successfully or not). */
  onRequest?: (timing: RequestTiming) => void;
  /** Each batch run. */
  onBatch?: (batch: BatchTiming) => void;
  /** A request refused because the queue was full. */
  onQueueFull?: () => void;
  /** A replica thread died and is being replaced. */
  onReplicaLost?: (message: string) => void;
}

export interface RequestTiming {
  ok: boolean;
  /** Rows of this request (1 for a model that does not batch). */
  rows: number;
  /** From `infer` to the start of its batch's run. */
  queueMs: number;
  /** Its batch's run, measured in the replica (0 when it never ran). */
  inferenceMs: number;
  /** From `infer` to the answer. */
  totalMs: number;
  /** Rows and requests of the batch it ran in (0 when it never ran). */
  batchRows: number;
  batchRequests: number;
}

export interface BatchTiming {
  rows: number;
  requests: number;
  inferenceMs: number;
  ok: boolean;
}

/** A snapshot for monitoring (Prometheus gauges and counters, the UI's charts). */
export interface RuntimeStats {
  /** Replicas taking work, and how many of them run a batch now. */
  replicas: number;
  busyReplicas: number;
  /** Requests waiting, and their rows. */
  queueDepth: number;
  queuedRows: number;
  /** Requests whose batch is running. */
  inFlight: number;
  requests: { ok: number; failed: number; rejected: number };
  batches: number;
  /** How many batches ran with each row count ("1", "8", ...). */
  batchSizes: Record<string, number>;
}

export interface InferResult {
  outputs: Record<string, TensorData>;
  timing: RequestTiming;
}

export interface InferOptions {
  /** Outputs to return (default: all), in this order. */
  outputs?: string[];
  /**
   * Aborting while the request waits removes it from the queue (rejects FAILED_PRECONDITION). Read only when the
   * request has to wait for busy replicas or for a long batch wait (not when a replica takes it at once or within
   * UNWATCHED_BATCH_WAIT_MS), so a getter may make it on demand; it must give the same signal each time.
   */
  signal?: AbortSignal;
}

interface Request extends Queued {
  inputs: Record<string, TensorData>;
  outputs: string[] | null;
  resolve: (result: InferResult) => void;
  reject: (err: unknown) => void;
  /** Set while its batch is with a replica. */
  running: boolean;
  /** Starts listening to the caller's signal (once): called when the request has to wait. */
  watch: () => void;
  cleanup: () => void;
}

const MAX_REPLICAS = 64;

/**
 * A request that waits only for its batch to fill, a replica being free, is not watched for cancellation when the
 * wait is this short at most: a listener on its signal costs more than running a row nobody reads (over HTTP,
 * asking for the signal makes an AbortController and a close listener: measured 10-20% of a batched request's
 * server CPU). It is watched as soon as it waits for busy replicas instead.
 */
const UNWATCHED_BATCH_WAIT_MS = 20;

/**
 * A batch sent while the runtime has nothing else in flight or queued is busy-waited for (`SharedSlot.send`'s
 * `spinMs`) when the model's recent runs took at most SPIN_MAX_RUN_MS: for the run plus SPIN_WAKE_MS (the replica
 * waking and the copies), at most SPIN_CAP_MS. Sleeping instead, the core's thread pays a wake-up when the answer
 * comes: measured ~0.1 ms a request on this project's 2-vCPU VM, 0.4 -> 0.3 ms for a v2 infer request alone and
 * +12-19% throughput for batches at 8 connections. A slower model's answer is worth sleeping for.
 */
const SPIN_MAX_RUN_MS = 0.2;
const SPIN_WAKE_MS = 0.15;
const SPIN_CAP_MS = 0.3;

export function checkInt(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw AppError.invalid(field, `must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** Checks the settings every tensor-model runtime takes (400 naming the field); returns the replicas to start. */
export function checkTensorRuntimeOptions(options: TensorRuntimeOptions): number {
  const replicas = checkInt('replicas', options.replicas ?? 1, 1, MAX_REPLICAS);
  checkInt('maxBatchSize', options.maxBatchSize ?? 0, 0, 1 << 20);
  checkInt('maxQueueSize', options.maxQueueSize ?? 1024, 1, 1 << 20);
  const delay = options.maxQueueDelayMs ?? 0;
  if (!(delay >= 0 && delay <= 60_000)) throw AppError.invalid('maxQueueDelayMs', `must be 0 to 60000, got ${delay}`);
  if (options.batchWait !== undefined && options.batchWait !== 'adaptive' && options.batchWait !== 'fixed')
    throw AppError.invalid('batchWait', `must be 'adaptive' or 'fixed', got '${String(options.batchWait)}'`);
  return replicas;
}

/**
 * A request's tensors as sent to a thread: a typed array that views part of a larger buffer is copied, since
 * posting a view copies its whole buffer.
 */
function compactInputs(inputs: Record<string, TensorData>): Record<string, TensorData> {
  let copy: Record<string, TensorData> | undefined;
  for (const [name, t] of Object.entries(inputs)) {
    if (!ArrayBuffer.isView(t.data) || t.data.byteLength === t.data.buffer.byteLength) continue;
    copy ??= { ...inputs };
    copy[name] = { ...t, data: t.data.slice() as TensorData['data'] };
  }
  return copy ?? inputs;
}

/**
 * What DeployEngine's ONNX and TF.js runtimes share, for one model: a pool of replica threads (`ReplicaPool`, each
 * with the model loaded), fed by a dynamic batcher (see `BatchQueue`). Requests are checked against the model's
 * signature before they are queued (`validateInputs`), so bad input fails alone with a 400. The core's thread never
 * loads the inference library: tensors travel as typed arrays. `OnnxRuntime` and `TfjsRuntime` start it with their
 * own replica entry and signature reader.
 *
 * Batching concatenates the requests' inputs along dim 0, runs them as one batch and splits every output along
 * dim 0 again; if such a batch fails, its requests are retried one by one so only the culprit fails.
 */
export class TensorModelRuntime {
  private readonly queue: BatchQueue<Request>;
  /** Rows per batch at most; 0 when requests are not batched. */
  readonly maxBatchSize: number;
  private readonly maxQueueSize: number;
  private timer: NodeJS.Timeout | undefined;
  /** The adaptive wait's check for a turn without arrivals. */
  private turnCheck: NodeJS.Immediate | undefined;
  /**
   * Requests queued since pump() last found the queue empty and not watched yet (some may have run since): watched
   * when they have to wait for busy replicas. Empty when every wait is watched (see UNWATCHED_BATCH_WAIT_MS).
   */
  private readonly unwatched: Request[] = [];
  /** Whether a request waiting for its batch to fill is left unwatched (the wait is short). */
  private readonly shortBatchWait: boolean;
  /** The replicas' recent run time, ms (a moving average; undefined before the first run): the spin budget's base. */
  private recentRunMs: number | undefined;
  /** Requests queued so far: the adaptive wait compares it across an event-loop turn. */
  private arrivals = 0;
  /** Set while pump() sends partial batches because arrivals stopped. */
  private flushing = false;
  private closed = false;
  private inFlight = 0;
  private readonly counts = { ok: 0, failed: 0, rejected: 0, batches: 0 };
  private readonly batchSizes = new Map<number, number>();

  /**
   * `pool` is started by the caller (with as many replicas as it needs to read the signature, if any); the
   * runtime takes its replicas' availability from here on. `label` names the runtime in messages ('ONNX').
   */
  protected constructor(
    readonly file: string,
    readonly signature: ServingSignature,
    protected readonly pool: ReplicaPool,
    private readonly label: string,
    private readonly options: TensorRuntimeOptions,
  ) {
    // Batching needs a batch dimension; a model without one runs each request alone.
    this.maxBatchSize = signature.batchable ? (options.maxBatchSize ?? 0) : 0;
    this.maxQueueSize = options.maxQueueSize ?? 1024;
    this.queue = new BatchQueue({ maxBatchSize: this.maxBatchSize, maxQueueDelayMs: options.maxQueueDelayMs ?? 0 });
    this.shortBatchWait = (options.maxQueueDelayMs ?? 0) <= UNWATCHED_BATCH_WAIT_MS;
    pool.onAvailable = () => this.pump();
  }

  /** Whether requests are batched (maxBatchSize > 0 and the model has a batch dimension). */
  get batching(): boolean {
    return this.maxBatchSize > 0;
  }

  get replicas(): number {
    return this.pool.size;
  }

  /**
   * Runs the model on one request's tensors (by input name). Rejects INVALID_ARGUMENT for input that does not fit
   * the signature or exceeds maxBatchSize, RESOURCE_EXHAUSTED when the queue is full, FAILED_PRECONDITION when the
   * runtime is closed (also for requests still queued at `close`).
   */
  infer(inputs: Record<string, TensorData>, options: InferOptions = {}): Promise<InferResult> {
    try {
      if (this.closed) throw this.closedError();
      const { rows, key } = validateInputs(this.signature, inputs);
      const outputs = this.checkOutputs(options.outputs);
      if (this.batching && rows > this.maxBatchSize)
        throw AppError.invalid(
          `inputs.${this.signature.inputs[0]?.name}`,
          `a request of ${rows} rows is larger than this model's maxBatchSize of ${this.maxBatchSize}; split it`,
        );
      if (this.queue.length >= this.maxQueueSize) {
        this.options.onQueueFull?.();
        const n = this.maxQueueSize;
        throw new AppError(
          'RESOURCE_EXHAUSTED',
          `the model's queue is full (${n} request${n === 1 ? '' : 's'} waiting)`,
        );
      }
      return new Promise<InferResult>((resolve, reject) => {
        // The signal is only looked at if the request waits for busy replicas, or for a batch longer than
        // UNWATCHED_BATCH_WAIT_MS: a request that a free replica takes soon is not worth an abort listener (over
        // HTTP, asking for the signal is what makes it).
        let watched: AbortSignal | undefined;
        const onAbort = () => {
          if (!this.queue.remove(request)) return;
          this.neverRan(request);
          reject(new AppError('FAILED_PRECONDITION', 'the request was cancelled while it waited'));
        };
        const request: Request = {
          rows,
          key,
          enqueuedAt: performance.now(),
          solo: !this.batching,
          inputs,
          outputs,
          resolve,
          reject,
          running: false,
          watch: () => {
            if (watched || !options.signal) return;
            watched = options.signal;
            if (watched.aborted) onAbort();
            else watched.addEventListener('abort', onAbort, { once: true });
          },
          cleanup: () => watched?.removeEventListener('abort', onAbort),
        };
        this.arrivals++;
        this.queue.push(request);
        if (this.shortBatchWait) this.unwatched.push(request);
        this.pump();
        if (!request.running && !this.shortBatchWait) request.watch();
      });
    } catch (err) {
      this.counts.rejected++;
      return Promise.reject(err);
    }
  }

  /** Scales to `n` replicas (1..64): up resolves when the new ones are ready; down when the removed ones finished. */
  async setReplicas(n: number): Promise<void> {
    checkInt('replicas', n, 1, MAX_REPLICAS);
    if (this.closed) throw this.closedError();
    await this.pool.resize(n);
  }

  stats(): RuntimeStats {
    return {
      replicas: this.pool.size,
      busyReplicas: this.pool.busy,
      queueDepth: this.queue.length,
      queuedRows: this.queue.rows,
      inFlight: this.inFlight,
      requests: { ok: this.counts.ok, failed: this.counts.failed, rejected: this.counts.rejected },
      batches: this.counts.batches,
      batchSizes: Object.fromEntries([...this.batchSizes].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v])),
    };
  }

  /**
   * Refuses new requests, rejects the queued ones (with `reason`, else FAILED_PRECONDITION: the model was
   * unloaded), lets running batches finish and stops the replicas. Idempotent.
   */
  async close(reason?: AppError): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      clearImmediate(this.turnCheck);
      this.turnCheck = undefined;
      for (const request of this.queue.drain()) {
        this.neverRan(request);
        request.reject(reason ?? this.closedError('before the request ran'));
      }
    }
    await this.pool.close();
  }

  /** What requests to a closed runtime get: said for the client, without the file (a blob path to them). */
  private closedError(when = ''): AppError {
    return new AppError(
      'FAILED_PRECONDITION',
      `the ${this.label} model was unloaded${when ? ` ${when}` : ''} (stopped, reloaded or deleted): send the request again`,
      { code: 'model_unloaded' },
    );
  }

  private checkOutputs(requested: string[] | undefined): string[] | null {
    if (requested === undefined) return null;
    const known = new Set(this.signature.outputs.map((o) => o.name));
    for (const name of requested)
      if (!known.has(name))
        throw AppError.invalid(
          `outputs.${name}`,
          `the model has no output '${name}' (its outputs: ${[...known].join(', ')})`,
        );
    return requested;
  }

  /** Hands queued work to idle replicas. */
  private pump(): void {
    if (this.closed) return;
    for (;;) {
      if (this.queue.length === 0) {
        // Every request noted as unwatched has run (or is running): the list starts again.
        this.unwatched.length = 0;
        return;
      }
      const replica = this.pool.idle();
      if (!replica) {
        this.watchWaiting();
        return;
      }
      const next = this.queue.take(performance.now(), this.flushing);
      if (!next) return;
      if ('waitMs' in next) {
        if (!this.timer)
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, next.waitMs);
        if (this.options.batchWait !== 'fixed' && !this.turnCheck) this.checkTurn(this.arrivals);
        return;
      }
      this.dispatch(replica, next.batch);
    }
  }

  /** Watches the queued requests noted as unwatched: they now wait for busy replicas, for as long as those run. */
  private watchWaiting(): void {
    for (const request of this.unwatched) if (!request.running) request.watch();
    this.unwatched.length = 0;
  }

  /** After an event-loop turn: flushes what is queued if nothing arrived in it, else checks the next turn. */
  private checkTurn(seen: number): void {
    this.turnCheck = setImmediate(() => {
      this.turnCheck = undefined;
      if (this.closed) return;
      if (this.arrivals !== seen) {
        if (this.queue.length > 0) this.checkTurn(this.arrivals);
        return;
      }
      this.flushing = true;
      try {
        this.pump();
      } finally {
        this.flushing = false;
      }
    });
  }

  private dispatch(replica: Replica, batch: Request[]): void {
    const started = performance.now();
    const rows = batch.reduce((n, r) => n + r.rows, 0);
    const single = batch.length === 1 ? batch[0] : undefined;
    let feeds: Record<string, TensorData>;
    try {
      feeds = single ? compactInputs(single.inputs) : this.concat(batch);
    } catch (err) {
      this.settleFailed(batch, started, err, 0);
      return;
    }
    // A batch's buffers are ours (concatRows made them): moved to the thread, not copied.
    const transfer = single
      ? []
      : Object.values(feeds).flatMap((t) => (ArrayBuffer.isView(t.data) ? [t.data.buffer] : []));
    const spinMs = this.inFlight === 0 && this.queue.length === 0 ? this.spinBudgetMs() : 0;
    this.inFlight += batch.length;
    for (const request of batch) request.running = true;
    this.pool.run(replica, feeds, single ? single.outputs : null, transfer as ArrayBuffer[], spinMs).then(
      ({ outputs, inferenceMs }) => {
        this.inFlight -= batch.length;
        this.recentRunMs = this.recentRunMs === undefined ? inferenceMs : 0.8 * this.recentRunMs + 0.2 * inferenceMs;
        this.counts.batches++;
        this.batchSizes.set(rows, (this.batchSizes.get(rows) ?? 0) + 1);
        this.options.onBatch?.({ rows, requests: batch.length, inferenceMs, ok: true });
        let parts: Record<string, TensorData>[];
        try {
          parts = single ? [outputs] : this.split(batch, outputs);
        } catch (err) {
          // An output whose dim 0 is not the batch's rows: such a model runs its requests one by one.
          this.retryAlone(batch, started, err, inferenceMs);
          return;
        }
        const now = performance.now();
        batch.forEach((request, i) => {
          const all = parts[i] as Record<string, TensorData>;
          const picked: Record<string, TensorData> = {};
          for (const name of request.outputs ?? this.signature.outputs.map((o) => o.name)) {
            const tensor = all[name];
            if (tensor) picked[name] = tensor;
          }
          const timing = this.timing(request, true, started, inferenceMs, now, rows, batch.length);
          request.resolve({ outputs: picked, timing });
        });
      },
      (err: unknown) => {
        this.inFlight -= batch.length;
        this.counts.batches++;
        this.batchSizes.set(rows, (this.batchSizes.get(rows) ?? 0) + 1);
        this.options.onBatch?.({ rows, requests: batch.length, inferenceMs: 0, ok: false });
        // The library refused the inputs: maybe one request's, so each runs alone. A crashed replica fails all.
        if (err instanceof AppError && err.code === 'INVALID_ARGUMENT') this.retryAlone(batch, started, err, 0);
        else this.settleFailed(batch, started, err, 0);
      },
    );
  }

  /** How long to busy-wait for a lone batch's answer: 0 for a model not known to answer quickly. */
  private spinBudgetMs(): number {
    const run = this.recentRunMs;
    if (run === undefined || run > SPIN_MAX_RUN_MS) return 0;
    return Math.min(SPIN_CAP_MS, run + SPIN_WAKE_MS);
  }

  private concat(batch: Request[]): Record<string, TensorData> {
    const feeds: Record<string, TensorData> = {};
    for (const spec of this.signature.inputs)
      feeds[spec.name] = concatRows(batch.map((r) => r.inputs[spec.name] as TensorData));
    return feeds;
  }

  private split(batch: Request[], outputs: Record<string, TensorData>): Record<string, TensorData>[] {
    const parts: Record<string, TensorData>[] = batch.map(() => ({}));
    const rows = batch.map((r) => r.rows);
    for (const [name, tensor] of Object.entries(outputs))
      splitRows(tensor, rows).forEach((part, i) => ((parts[i] as Record<string, TensorData>)[name] = part));
    return parts;
  }

  /** A batch of several requests failed: each goes back to the head of the queue to run alone. */
  private retryAlone(batch: Request[], started: number, err: unknown, inferenceMs: number): void {
    if (batch.length === 1 || this.closed) {
      this.settleFailed(batch, started, err, inferenceMs);
      return;
    }
    for (const request of batch) {
      request.solo = true;
      request.running = false;
    }
    this.queue.unshift(batch);
    this.pump();
    for (const request of batch) if (!request.running) request.watch();
  }

  private settleFailed(batch: Request[], started: number, err: unknown, inferenceMs: number): void {
    const now = performance.now();
    const rows = batch.reduce((n, r) => n + r.rows, 0);
    for (const request of batch) {
      this.timing(request, false, started, inferenceMs, now, rows, batch.length);
      request.reject(err);
    }
  }

  private timing(
    request: Request,
    ok: boolean,
    started: number,
    inferenceMs: number,
    now: number,
    batchRows: number,
    batchRequests: number,
  ): RequestTiming {
    const timing: RequestTiming = {
      ok,
      rows: request.rows,
      queueMs: started - request.enqueuedAt,
      inferenceMs,
      totalMs: now - request.enqueuedAt,
      batchRows,
      batchRequests,
    };
    request.cleanup();
    if (ok) this.counts.ok++;
    else this.counts.failed++;
    this.options.onRequest?.(timing);
    return timing;
  }

  /** Counts a request that never ran (cancelled, or queued at close). */
  private neverRan(request: Request): void {
    const now = performance.now();
    this.timing(request, false, now, 0, now, 0, 0);
  }
}
