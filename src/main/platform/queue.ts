import { z } from 'zod';
import type { EnqueueJob, Job, JobStatus } from '#shared/contracts/jobs';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { Db, MigrationSet } from './db';
import type { EventBus } from './events';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { WorkerPool } from './worker-pool';

export const queueMigrations: MigrationSet = {
  owner: 'platform.queue',
  tablePrefix: 'platform',
  migrations: [
    {
      version: 1,
      name: 'jobs',
      sql: `
CREATE TABLE platform_jobs (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  priority INTEGER NOT NULL DEFAULT 0,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_after INTEGER NOT NULL,
  lease_token TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  progress REAL,
  progress_message TEXT,
  result TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX platform_jobs_ready ON platform_jobs(status, priority DESC, run_after, id);
CREATE INDEX platform_jobs_type ON platform_jobs(type, id);`,
    },
    {
      version: 2,
      name: 'index for the next run time',
      sql: 'CREATE INDEX platform_jobs_run_after ON platform_jobs(status, run_after);',
    },
  ],
};

export interface JobContext {
  readonly job: Job;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Aborted when the job is cancelled or its lease is lost; long handlers should check it. */
  readonly signal: AbortSignal;
  /** Reports progress (0..1) with an optional message; throttled before it reaches the database and clients. */
  progress(fraction: number, message?: string): void;
  readonly logger: Logger;
}

interface HandlerBase<P> {
  type: string;
  description: string;
  payload: z.ZodType<P>;
  maxAttempts?: number;
}

/** A job type a service registers: run in the core's process or in a worker thread entry (src/workers/). */
export type JobHandler<P = unknown> =
  (HandlerBase<P> & { run: (payload: P, ctx: JobContext) => Promise<unknown> }) | (HandlerBase<P> & { worker: string });

export interface QueueOptions {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** First retry delay; doubles each attempt, with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

interface JobRow {
  id: string;
  type: string;
  status: JobStatus;
  priority: number;
  payload: string;
  attempts: number;
  max_attempts: number;
  run_after: number;
  lease_token: string | null;
  lease_expires_at: number | null;
  cancel_requested: number;
  progress: number | null;
  progress_message: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

function parseJson(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown);
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    priority: row.priority,
    payload: parseJson(row.payload),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    progress: row.progress,
    progressMessage: row.progress_message,
    result: parseJson(row.result),
    error: parseJson(row.error) as Job['error'],
    cancelRequested: row.cancel_requested === 1,
    runAfter: row.run_after,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

interface Running {
  token: string;
  controller: AbortController;
  heartbeat: NodeJS.Timeout;
  lastProgressAt: number;
}

const PROGRESS_INTERVAL_MS = 250;

/**
 * A durable job queue in SQLite.
 *
 * Leasing marks a job `running` with a fresh lease token and an expiry that a heartbeat keeps extending. Every
 * later write for that run (progress, success, failure) is conditional on the token, so a run whose lease was
 * lost — its process died, or it stalled past the expiry and another dispatcher took the job — can never
 * complete it: a job completes exactly once, even though a crash means its handler may start again.
 * On `start()` the queue takes back jobs whose lease has expired; the core also calls `recoverAbandoned()`
 * while it holds the data-dir lock, because then every `running` job belongs to a process that is gone.
 */
export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Map<string, Running>();
  private readonly owner = newId();
  private timer: NodeJS.Timeout | undefined;
  private tickScheduled = false;
  private started = false;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  private readonly stmt;

  constructor(
    private readonly db: Db,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly options: QueueOptions,
    private readonly workers?: WorkerPool,
    private readonly metrics?: Metrics,
  ) {
    this.stmt = {
      get: db.prepare('SELECT * FROM platform_jobs WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO platform_jobs (id, type, status, priority, payload, max_attempts, run_after, created_at, updated_at)
         VALUES (@id, @type, 'queued', @priority, @payload, @maxAttempts, @runAfter, @now, @now)`,
      ),
      ready: db.prepare(
        `SELECT id FROM platform_jobs WHERE status = 'queued' AND run_after <= ? ORDER BY priority DESC, run_after, id LIMIT ?`,
      ),
      expired: db.prepare(`SELECT id FROM platform_jobs WHERE status = 'running' AND lease_expires_at < ?`),
      lease: db.prepare(
        `UPDATE platform_jobs SET status = 'running', lease_token = @token, lease_expires_at = @expires,
           attempts = attempts + 1, started_at = COALESCE(started_at, @now), progress = NULL, progress_message = NULL,
           updated_at = @now
         WHERE id = @id AND status = 'queued'`,
      ),
      heartbeat: db.prepare(
        `UPDATE platform_jobs SET lease_expires_at = ? WHERE id = ? AND lease_token = ? AND status = 'running'
         RETURNING cancel_requested`,
      ),
      progress: db.prepare(
        `UPDATE platform_jobs SET progress = ?, progress_message = ?, updated_at = ?
         WHERE id = ? AND lease_token = ? AND status = 'running'`,
      ),
      finish: db.prepare(
        `UPDATE platform_jobs SET status = @status, result = @result, error = @error, finished_at = @now,
           progress = CASE WHEN @status = 'succeeded' THEN 1 ELSE progress END,
           lease_token = NULL, lease_expires_at = NULL, updated_at = @now
         WHERE id = @id AND lease_token = @token AND status = 'running'`,
      ),
      retry: db.prepare(
        `UPDATE platform_jobs SET status = 'queued', error = @error, run_after = @runAfter,
           lease_token = NULL, lease_expires_at = NULL, updated_at = @now
         WHERE id = @id AND lease_token = @token AND status = 'running'`,
      ),
      counts: db.prepare(`SELECT status, COUNT(*) AS n FROM platform_jobs GROUP BY status`),
      unfinished: db.prepare(
        `SELECT EXISTS (SELECT 1 FROM platform_jobs WHERE status IN ('queued', 'running')) AS any`,
      ),
      nextRunAfter: db.prepare(`SELECT MIN(run_after) AS at FROM platform_jobs WHERE status = 'queued'`),
    };
    metrics?.registerQueueDepth(() => this.counts());
  }

  /** Registers the handler of a job type; a type can only be registered once. */
  register<P>(handler: JobHandler<P>): void {
    if (this.handlers.has(handler.type)) throw new Error(`job type '${handler.type}' is already registered`);
    if ('worker' in handler && !this.workers) throw new Error(`job type '${handler.type}' needs a worker pool`);
    this.handlers.set(handler.type, handler as JobHandler);
  }

  types(): {
    type: string;
    description: string;
    runsIn: 'process' | 'worker';
    maxAttempts: number;
    payloadSchema: unknown;
  }[] {
    return [...this.handlers.values()].map((h) => ({
      type: h.type,
      description: h.description,
      runsIn: 'worker' in h ? ('worker' as const) : ('process' as const),
      maxAttempts: h.maxAttempts ?? 3,
      payloadSchema: z.toJSONSchema(h.payload, { unrepresentable: 'any', io: 'input' }),
    }));
  }

  private validate(input: EnqueueJob): { handler: JobHandler; payload: unknown } {
    const handler = this.handlers.get(input.type);
    if (!handler) {
      throw new AppError('INVALID_ARGUMENT', `type: no job type '${input.type}' is registered`, {
        field: 'type',
        known: [...this.handlers.keys()],
      });
    }
    const parsed = handler.payload.safeParse(input.payload ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = ['payload', ...(issue?.path ?? [])].join('.');
      throw new AppError('INVALID_ARGUMENT', `${field}: ${issue?.message ?? 'invalid'}`, {
        field,
        issues: parsed.error.issues,
      });
    }
    return { handler, payload: parsed.data };
  }

  enqueue(input: EnqueueJob): Job {
    return this.enqueueMany([input])[0] as Job;
  }

  /** Enqueues several jobs in one transaction: all of them or none. */
  enqueueMany(inputs: readonly EnqueueJob[]): Job[] {
    const now = Date.now();
    const rows = inputs.map((input) => {
      const { handler, payload } = this.validate(input);
      return {
        id: newId(now),
        type: input.type,
        priority: input.priority ?? 0,
        payload: JSON.stringify(payload ?? null),
        maxAttempts: input.maxAttempts ?? handler.maxAttempts ?? 3,
        runAfter: input.runAfter ?? now,
        now,
      };
    });
    this.db.transaction(() => {
      for (const row of rows) this.stmt.insert.run(row);
    })();
    const jobs = rows.map((r) => this.get(r.id));
    for (const job of jobs) this.bus.emit('job.queued', { job });
    this.wake();
    return jobs;
  }

  get(id: string): Job {
    const row = this.stmt.get.get(id) as JobRow | undefined;
    if (!row) throw AppError.notFound('job', id);
    return toJob(row);
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  list(query: {
    status?: JobStatus | undefined;
    type?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): {
    items: Job[];
    nextCursor: string | null;
  } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.status) {
      where.push('status = ?');
      args.push(query.status);
    }
    if (query.type) {
      where.push('type = ?');
      args.push(query.type);
    }
    if (query.cursor) {
      where.push('id < ?');
      args.push(query.cursor);
    }
    const sql = `SELECT * FROM platform_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit + 1) as JobRow[];
    const items = rows.slice(0, query.limit).map(toJob);
    return { items, nextCursor: rows.length > query.limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  counts(): Record<JobStatus, number> {
    const out: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    for (const r of this.stmt.counts.all() as { status: JobStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  /**
   * Cancels a job: a queued one at once; a running one is signalled and ends `cancelled` when its handler
   * stops (whatever it returns is discarded). Finished jobs cannot be cancelled.
   */
  cancel(id: string): Job {
    const now = Date.now();
    const before = this.get(id);
    if (before.status === 'queued') {
      const changed = this.db
        .prepare(
          `UPDATE platform_jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ?, updated_at = ?
           WHERE id = ? AND status = 'queued'`,
        )
        .run(now, now, id).changes;
      if (changed === 1) {
        const job = this.get(id);
        this.bus.emit('job.cancelled', { job });
        return job;
      }
      return this.cancel(id); // it was leased in between: cancel it as a running job
    }
    if (before.status === 'running') {
      this.db.prepare('UPDATE platform_jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?').run(now, id);
      this.running.get(id)?.controller.abort();
      return this.get(id);
    }
    throw new AppError('FAILED_PRECONDITION', `job ${id} is already ${before.status} and cannot be cancelled`, {
      status: before.status,
    });
  }

  /** Requeues every `running` job. Only safe while no other process runs jobs from this database. */
  recoverAbandoned(): number {
    const ids = this.db.prepare(`SELECT id FROM platform_jobs WHERE status = 'running'`).all() as { id: string }[];
    for (const { id } of ids) this.releaseLost(id, 'the process running it stopped');
    return ids.length;
  }

  private releaseLost(id: string, why: string): void {
    const now = Date.now();
    const row = this.stmt.get.get(id) as JobRow | undefined;
    if (!row || row.status !== 'running') return;
    const error = JSON.stringify({ code: 'INTERNAL', message: why });
    if (row.cancel_requested === 1 || row.attempts >= row.max_attempts) {
      const status = row.cancel_requested === 1 ? 'cancelled' : 'failed';
      this.stmt.finish.run({ status, result: null, error, now, id, token: row.lease_token });
      this.bus.emit(status === 'cancelled' ? 'job.cancelled' : 'job.failed', { job: this.get(id) });
    } else {
      this.stmt.retry.run({ error, runAfter: now, now, id, token: row.lease_token });
      this.bus.emit('job.retrying', { job: this.get(id) });
    }
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops leasing; waits (up to `graceMs`) for running handlers, then aborts the rest. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.running.size === 0) return;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([idle, timeout]);
    for (const r of this.running.values()) r.controller.abort();
  }

  /** Resolves when nothing is queued (ready to run now) and nothing runs: for tests and benchmarks. */
  async drain(): Promise<void> {
    for (;;) {
      const { any } = this.stmt.unfinished.get() as { any: number };
      if (any === 0 && this.running.size === 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private wake(): void {
    if (!this.started || this.tickScheduled) return;
    this.tickScheduled = true;
    setImmediate(() => {
      this.tickScheduled = false;
      this.tick();
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delayMs);
  }

  private tick(): void {
    if (!this.started || this.stopping) return;
    try {
      this.leaseAndRun();
    } catch (err) {
      this.logger.error({ err }, 'job dispatch failed');
    }
    // Every slot busy: a finishing job wakes the dispatcher, so only poll for other processes' changes.
    if (this.running.size >= this.options.concurrency) {
      this.schedule(this.options.pollMs);
      return;
    }
    const next = (this.stmt.nextRunAfter.get() as { at: number | null }).at;
    const delay = next === null ? this.options.pollMs : Math.max(0, Math.min(this.options.pollMs, next - Date.now()));
    this.schedule(delay);
  }

  private leaseAndRun(): void {
    const now = Date.now();
    for (const { id } of this.stmt.expired.all(now) as { id: string }[]) {
      if (!this.running.has(id)) this.releaseLost(id, 'its lease expired (the process running it stalled or died)');
    }
    const free = this.options.concurrency - this.running.size;
    if (free <= 0) return;
    const leased: { job: Job; token: string }[] = [];
    this.db
      .transaction(() => {
        const candidates = this.stmt.ready.all(now, free) as { id: string }[];
        for (const { id } of candidates) {
          const row = this.stmt.get.get(id) as JobRow;
          if (!this.handlers.has(row.type)) continue; // another process's type: leave it to that process
          const token = newId();
          const changed = this.stmt.lease.run({ token, expires: now + this.options.leaseMs, now, id }).changes;
          if (changed === 1) leased.push({ job: this.get(id), token });
        }
      })
      .immediate();
    for (const { job, token } of leased) void this.execute(job, token);
  }

  private async execute(job: Job, token: string): Promise<void> {
    const handler = this.handlers.get(job.type) as JobHandler;
    const controller = new AbortController();
    const heartbeat = setInterval(() => this.heartbeat(job.id), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    const state: Running = { token, controller, heartbeat, lastProgressAt: 0 };
    this.running.set(job.id, state);
    this.bus.emit('job.started', { job });
    const startedAt = performance.now();
    const progress = (fraction: number, message?: string) => this.reportProgress(job.id, state, fraction, message);
    let outcome: 'succeeded' | 'failed' | 'cancelled' | 'retrying' | 'lost';
    try {
      const result =
        'worker' in handler
          ? await (this.workers as WorkerPool).run(handler.worker, handler.type, job.payload, {
              onProgress: progress,
              signal: controller.signal,
            })
          : await handler.run(job.payload, {
              job,
              attempt: job.attempts,
              signal: controller.signal,
              progress,
              logger: this.logger.child({ job: job.id, type: job.type }),
            });
      outcome = this.complete(job.id, token, result);
    } catch (err) {
      outcome = this.fail(job, token, err);
    } finally {
      clearInterval(heartbeat);
      this.running.delete(job.id);
    }
    this.metrics?.observeJob(job.type, outcome, (performance.now() - startedAt) / 1000);
    if (this.running.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.wake();
  }

  private heartbeat(id: string): void {
    const state = this.running.get(id);
    if (!state) return;
    try {
      const row = this.stmt.heartbeat.get(Date.now() + this.options.leaseMs, id, state.token) as
        { cancel_requested: number } | undefined;
      if (!row) {
        this.logger.warn({ job: id }, 'job lease lost; stopping its handler');
        state.controller.abort();
      } else if (row.cancel_requested === 1) state.controller.abort();
    } catch (err) {
      this.logger.error({ err, job: id }, 'job heartbeat failed');
    }
  }

  private reportProgress(id: string, state: Running, fraction: number, message?: string): void {
    const now = Date.now();
    const final = fraction >= 1;
    if (!final && now - state.lastProgressAt < PROGRESS_INTERVAL_MS) return;
    state.lastProgressAt = now;
    const clamped = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
    if (this.stmt.progress.run(clamped, message ?? null, now, id, state.token).changes === 1) {
      this.bus.emit('job.progress', { job: this.get(id) });
    }
  }

  private complete(id: string, token: string, result: unknown): 'succeeded' | 'cancelled' | 'lost' {
    const now = Date.now();
    const row = this.stmt.get.get(id) as JobRow;
    const cancelled = row.cancel_requested === 1;
    const changed = this.stmt.finish.run({
      status: cancelled ? 'cancelled' : 'succeeded',
      result: cancelled ? null : JSON.stringify(result ?? null),
      error: null,
      now,
      id,
      token,
    }).changes;
    if (changed !== 1) {
      this.logger.warn({ job: id }, 'job finished after losing its lease; its result is discarded');
      return 'lost';
    }
    const job = this.get(id);
    this.bus.emit(cancelled ? 'job.cancelled' : 'job.succeeded', { job });
    return cancelled ? 'cancelled' : 'succeeded';
  }

  private fail(job: Job, token: string, err: unknown): 'failed' | 'cancelled' | 'retrying' | 'lost' {
    const now = Date.now();
    const row = this.stmt.get.get(job.id) as JobRow;
    const code = err instanceof AppError ? err.code : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    const error = JSON.stringify({ code, message });
    // A client's mistake (a bad payload) will not get better by retrying.
    const retryable = code === 'INTERNAL' || code === 'RESOURCE_EXHAUSTED' || code === 'UNAVAILABLE';
    let outcome: 'failed' | 'cancelled' | 'retrying';
    let changed: number;
    if (row.cancel_requested === 1) {
      outcome = 'cancelled';
      changed = this.stmt.finish.run({
        status: 'cancelled',
        result: null,
        error: null,
        now,
        id: job.id,
        token,
      }).changes;
    } else if (retryable && row.attempts < row.max_attempts) {
      outcome = 'retrying';
      const base = this.options.backoffMs ?? 1000;
      const delay = Math.min(this.options.maxBackoffMs ?? 5 * 60_000, base * 2 ** (row.attempts - 1));
      const runAfter = now + Math.round(delay * (0.75 + Math.random() * 0.5));
      changed = this.stmt.retry.run({ error, runAfter, now, id: job.id, token }).changes;
    } else {
      outcome = 'failed';
      changed = this.stmt.finish.run({ status: 'failed', result: null, error, now, id: job.id, token }).changes;
    }
    if (changed !== 1) return 'lost';
    if (outcome !== 'cancelled') this.logger.warn({ job: job.id, type: job.type, err }, `job ${outcome}`);
    const eventName =
      outcome === 'retrying' ? 'job.retrying' : outcome === 'cancelled' ? 'job.cancelled' : 'job.failed';
    this.bus.emit(eventName, { job: this.get(job.id) });
    return outcome;
  }
}
