import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { EventEnvelope } from '#shared/contracts/system';
import { AppError } from '#shared/errors';
import { openDatabase, runMigrations, type Db } from './db';
import { EventBus } from './events';
import { silentLogger } from './logger';
import { JobQueue, queueMigrations, type QueueOptions } from './queue';
import { tempDir, waitFor } from './testing';
import { WorkerPool } from './worker-pool';

let tmp: ReturnType<typeof tempDir>;
let db: Db;
let bus: EventBus;
let events: EventEnvelope[];
const queues: JobQueue[] = [];

const fast: QueueOptions = { concurrency: 1, leaseMs: 5000, pollMs: 10, backoffMs: 20 };

function makeQueue(options: Partial<QueueOptions> = {}, workers?: WorkerPool): JobQueue {
  const q = new JobQueue(db, bus, silentLogger(), { ...fast, ...options }, workers);
  queues.push(q);
  return q;
}

beforeEach(() => {
  tmp = tempDir();
  db = openDatabase(path.join(tmp.dir, 'aidos.db'));
  runMigrations(db, [queueMigrations]);
  bus = new EventBus(silentLogger());
  events = [];
  bus.on('job.*', (e) => events.push(e));
});
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop(100);
  db.close();
  tmp.remove();
});

const echo = z.object({ n: z.number() });

describe('job queue', () => {
  it('runs jobs by priority, then in the order they were enqueued', async () => {
    const q = makeQueue();
    const order: number[] = [];
    q.register({ type: 't', description: '', payload: echo, run: async ({ n }) => order.push(n) });
    q.enqueueMany([
      { type: 't', payload: { n: 1 } },
      { type: 't', payload: { n: 2 }, priority: 5 },
      { type: 't', payload: { n: 3 } },
      { type: 't', payload: { n: 4 }, priority: 5 },
    ]);
    q.start();
    await q.drain();
    expect(order).toEqual([2, 4, 1, 3]);
  });

  it('stores the result and emits queued, started and succeeded events', async () => {
    const q = makeQueue();
    q.register({ type: 't', description: '', payload: echo, run: async ({ n }) => ({ doubled: n * 2 }) });
    const job = q.enqueue({ type: 't', payload: { n: 21 } });
    q.start();
    await q.drain();
    const done = q.get(job.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { doubled: 42 }, attempts: 1, progress: 1 });
    expect(done.finishedAt).toBeGreaterThanOrEqual(done.startedAt ?? Infinity);
    expect(events.map((e) => e.name)).toEqual(['job.queued', 'job.started', 'job.succeeded']);
  });

  it('rejects an unknown type or a payload that does not match, naming the field, and stores nothing', () => {
    const q = makeQueue();
    q.register({ type: 't', description: '', payload: echo, run: async () => null });
    expect(() => q.enqueue({ type: 'nope' })).toThrow(/no job type 'nope'/);
    const err = (() => {
      try {
        q.enqueueMany([
          { type: 't', payload: { n: 1 } },
          { type: 't', payload: { n: 'x' } },
        ]);
      } catch (e) {
        return e as AppError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toMatch(/^payload\.n:/);
    expect(q.counts().queued).toBe(0); // all or nothing
  });

  it('retries a failing job with growing backoff, then succeeds', async () => {
    const q = makeQueue();
    const tries: number[] = [];
    q.register({
      type: 'flaky',
      description: '',
      payload: z.object({}),
      run: async (_p, ctx) => {
        tries.push(Date.now());
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        return 'ok';
      },
    });
    const job = q.enqueue({ type: 'flaky', maxAttempts: 3 });
    q.start();
    await waitFor(() => q.get(job.id).status === 'succeeded' || undefined, 5000, 'success');
    expect(q.get(job.id)).toMatchObject({ attempts: 3, result: 'ok' });
    expect(events.filter((e) => e.name === 'job.retrying')).toHaveLength(2);
    expect((tries[2] as number) - (tries[1] as number)).toBeGreaterThanOrEqual(25); // 2nd backoff ≈ 40 ms ± 25%
  });

  it('fails a job for good after its last attempt, keeping the error', async () => {
    const q = makeQueue();
    q.register({
      type: 'bad',
      description: '',
      payload: z.object({}),
      maxAttempts: 2,
      run: async () => {
        throw new Error('disk on fire');
      },
    });
    const job = q.enqueue({ type: 'bad' });
    q.start();
    await waitFor(() => q.get(job.id).status === 'failed' || undefined, 5000, 'failure');
    expect(q.get(job.id)).toMatchObject({ attempts: 2, error: { code: 'INTERNAL', message: 'disk on fire' } });
  });

  it('does not retry a job that failed because of its input', async () => {
    const q = makeQueue();
    q.register({
      type: 'strict',
      description: '',
      payload: z.object({}),
      run: async () => {
        throw AppError.invalid('path', 'does not exist');
      },
    });
    const job = q.enqueue({ type: 'strict', maxAttempts: 5 });
    q.start();
    await waitFor(() => q.get(job.id).status === 'failed' || undefined, 5000, 'failure');
    expect(q.get(job.id).attempts).toBe(1);
  });

  it('cancels a queued job at once and a running one through its signal', async () => {
    const q = makeQueue();
    q.register({
      type: 'long',
      description: '',
      payload: z.object({}),
      run: (_p, ctx) =>
        new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    const running = q.enqueue({ type: 'long' });
    const waiting = q.enqueue({ type: 'long' });
    q.start();
    await waitFor(() => q.get(running.id).status === 'running' || undefined);
    expect(q.cancel(waiting.id).status).toBe('cancelled');
    expect(q.cancel(running.id).cancelRequested).toBe(true);
    await waitFor(() => q.get(running.id).status === 'cancelled' || undefined);
    expect(() => q.cancel(running.id)).toThrow(/already cancelled/);
    expect(q.get(running.id).attempts).toBe(1);
  });

  it('reports progress, throttled, to the database and as events', async () => {
    const q = makeQueue();
    q.register({
      type: 'steps',
      description: '',
      payload: z.object({}),
      run: async (_p, ctx) => {
        for (let i = 1; i <= 100; i++) ctx.progress(i / 200, `step ${i}`);
        await new Promise((r) => setTimeout(r, 300));
        ctx.progress(0.75, 'almost');
        await new Promise((r) => setTimeout(r, 50));
        return null;
      },
    });
    const job = q.enqueue({ type: 'steps' });
    q.start();
    await waitFor(() => q.get(job.id).progressMessage === 'almost' || undefined);
    expect(q.get(job.id).progress).toBe(0.75);
    await q.drain();
    const progress = events.filter((e) => e.name === 'job.progress');
    expect(progress.length).toBeLessThanOrEqual(3); // 100 quick reports collapse into a few
  });

  it('discards the result of a run whose lease was taken over by another dispatcher', async () => {
    let release!: () => void;
    const first = makeQueue({ leaseMs: 500 });
    first.register({
      type: 'slow',
      description: '',
      payload: z.object({}),
      run: () => new Promise((r) => (release = () => r('from first'))),
    });
    const job = first.enqueue({ type: 'slow' });
    first.start();
    await waitFor(() => first.get(job.id).status === 'running' || undefined);
    // Simulate a stalled process: its lease expires without a heartbeat.
    db.prepare('UPDATE platform_jobs SET lease_expires_at = 0 WHERE id = ?').run(job.id);
    const second = makeQueue({ leaseMs: 5000 });
    second.register({ type: 'slow', description: '', payload: z.object({}), run: async () => 'from second' });
    second.start();
    await waitFor(() => second.get(job.id).status === 'succeeded' || undefined, 5000, 'second run');
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(second.get(job.id)).toMatchObject({ status: 'succeeded', result: 'from second', attempts: 2 });
    expect(events.filter((e) => e.name === 'job.succeeded')).toHaveLength(1);
  });

  it('runs a job type in a worker thread with progress', async () => {
    const workers = new WorkerPool(tmp.dir);
    const { BlobStore, blobMigrations } = await import('./blobstore');
    runMigrations(db, [blobMigrations]);
    const blobs = new BlobStore(db, tmp.dir);
    await blobs.put('one');
    const bad = await blobs.put('two');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(blobs.pathOf(bad.sha256), 'tw0');
    const q = makeQueue({}, workers);
    q.register({ type: 'blobs.verify', description: '', payload: z.object({}), worker: 'blob-verify' });
    const job = q.enqueue({ type: 'blobs.verify' });
    q.start();
    await waitFor(() => ['succeeded', 'failed'].includes(q.get(job.id).status) || undefined, 20_000, 'worker job');
    expect(q.get(job.id)).toMatchObject({ status: 'succeeded', result: { checked: 2, corrupted: [bad.sha256] } });
    expect(events.some((e) => e.name === 'job.progress')).toBe(true);
    await workers.close();
  });
});

describe('job queue after kill -9', () => {
  const child = fileURLToPath(new URL('./test-children/queue-worker.ts', import.meta.url));

  function run(mode: 'enqueue' | 'run', until: string) {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, tmp.dir, mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const reached = new Promise<void>((resolve) =>
      proc.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes(until)) resolve();
      }),
    );
    return { proc, reached, output: () => output };
  }

  it('picks a leased job up again on restart and completes it exactly once', async () => {
    db.close();
    const first = run('enqueue', 'job.started');
    await first.reached;
    const effectsLog = path.join(tmp.dir, 'effects.log');
    await waitFor(() => (existsSync(effectsLog) && readFileSync(effectsLog, 'utf8').includes('start 21')) || undefined);
    first.proc.kill('SIGKILL');
    await new Promise((r) => first.proc.on('exit', r));

    const second = run('run', 'job.succeeded');
    await second.reached;
    await new Promise((r) => setTimeout(r, 200)); // room for any duplicate completion to show up
    second.proc.kill('SIGTERM');
    await new Promise((r) => second.proc.on('exit', r));

    expect(second.output()).toContain('recovered 1');
    expect(second.output().match(/job\.succeeded/g)).toHaveLength(1);
    const effects = readFileSync(path.join(tmp.dir, 'effects.log'), 'utf8').trim().split('\n');
    expect(effects).toEqual(['start 21 attempt 1', 'start 21 attempt 2', 'done 21']);
    db = openDatabase(path.join(tmp.dir, 'aidos.db'));
    const row = db.prepare('SELECT status, attempts, result FROM platform_jobs').all();
    expect(row).toEqual([{ status: 'succeeded', attempts: 2, result: '{"doubled":42}' }]);
  });
});
