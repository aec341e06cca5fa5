// Job queue throughput, in-process: 10,000 no-op jobs through a JobQueue on a temp-dir SQLite database, at
// concurrency 1, 8 and 32. Target: >= 2,000 jobs/s at concurrency 8.
//   npx tsx bench/queue.ts [--jobs 10000] [--batch 500] [--concurrency 1,8,32] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { openDatabase, runMigrations } from '#platform/db';
import { EventBus } from '#platform/events';
import { silentLogger } from '#platform/logger';
import { JobQueue, queueMigrations } from '#platform/queue';

const { values: opts } = parseArgs({
  options: {
    jobs: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '1,8,32' },
    json: { type: 'boolean', default: false },
  },
});
const JOBS = Number(opts.jobs);
const BATCH = Number(opts.batch);
const TARGET_JOBS_PER_S = 2000;

interface Result {
  concurrency: number;
  jobs: number;
  enqueueMs: number;
  runMs: number;
  enqueuePerSecond: number;
  runPerSecond: number;
  totalPerSecond: number;
  /** CPU time (user + system) of this process per job, microseconds: steadier than wall time on a busy machine. */
  cpuUsPerJob: number;
}

async function measure(concurrency: number): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aidos-bench-queue-'));
  const db = openDatabase(path.join(dir, 'aidos.db'));
  try {
    runMigrations(db, [queueMigrations]);
    const logger = silentLogger();
    const queue = new JobQueue(db, new EventBus(logger), logger, { concurrency, leaseMs: 30_000, pollMs: 500 });
    queue.register({
      type: 'bench.noop',
      description: 'does nothing',
      payload: z.object({ i: z.number() }),
      run: async () => null,
    });

    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < JOBS; i += BATCH) {
      const n = Math.min(BATCH, JOBS - i);
      queue.enqueueMany(Array.from({ length: n }, (_, k) => ({ type: 'bench.noop', payload: { i: i + k } })));
    }
    const t1 = performance.now();
    queue.start();
    await queue.drain();
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    await queue.stop();

    const { succeeded } = queue.counts();
    if (succeeded !== JOBS) throw new Error(`expected ${JOBS} succeeded jobs, found ${succeeded}`);
    return {
      concurrency,
      jobs: JOBS,
      enqueueMs: t1 - t0,
      runMs: t2 - t1,
      enqueuePerSecond: JOBS / ((t1 - t0) / 1000),
      runPerSecond: JOBS / ((t2 - t1) / 1000),
      totalPerSecond: JOBS / ((t2 - t0) / 1000),
      cpuUsPerJob: (cpu.user + cpu.system) / JOBS,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const c of opts.concurrency.split(',').map(Number)) results.push(await measure(c));

if (opts.json) console.log(JSON.stringify({ benchmark: 'queue', targetJobsPerSecond: TARGET_JOBS_PER_S, results }));
else {
  console.log(`queue: ${JOBS} no-op jobs, enqueueMany in batches of ${BATCH}, SQLite (WAL) in a temp dir`);
  console.log(
    '  concurrency   enqueue jobs/s   dispatch+complete jobs/s   total jobs/s   CPU µs/job   (enqueue ms / run ms)',
  );
  for (const r of results) {
    console.log(
      `  ${String(r.concurrency).padStart(11)}   ${r.enqueuePerSecond.toFixed(0).padStart(14)}   ${r.runPerSecond.toFixed(0).padStart(24)}` +
        `   ${r.totalPerSecond.toFixed(0).padStart(12)}   ${r.cpuUsPerJob.toFixed(0).padStart(10)}   (${r.enqueueMs.toFixed(0)} / ${r.runMs.toFixed(0)})`,
    );
  }
  const at8 = results.find((r) => r.concurrency === 8) ?? results[0];
  if (at8) {
    const met = at8.totalPerSecond >= TARGET_JOBS_PER_S;
    console.log(
      `  target >= ${TARGET_JOBS_PER_S} jobs/s total at concurrency ${at8.concurrency}: ${met ? 'met' : 'MISSED'}`,
    );
  }
}
