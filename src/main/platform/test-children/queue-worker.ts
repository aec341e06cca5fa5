// Child process for the crash test: runs the queue on a data dir. The handler records each start and each
// completion in a log; on its first attempt it never finishes (the parent kills this process with SIGKILL).
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { openDatabase, runMigrations } from '../db';
import { EventBus } from '../events';
import { silentLogger } from '../logger';
import { JobQueue, queueMigrations } from '../queue';

const [dataDir, mode] = process.argv.slice(2) as [string, 'enqueue' | 'run'];
const db = openDatabase(`${dataDir}/aidos.db`);
runMigrations(db, [queueMigrations]);
const bus = new EventBus(silentLogger());
const queue = new JobQueue(db, bus, silentLogger(), { concurrency: 2, leaseMs: 60_000, pollMs: 20 });
const log = (line: string) => appendFileSync(`${dataDir}/effects.log`, `${line}\n`);
queue.register({
  type: 'test.work',
  description: 'crash test',
  payload: z.object({ n: z.number() }),
  run: async ({ n }, ctx) => {
    log(`start ${n} attempt ${ctx.attempt}`);
    if (ctx.attempt === 1) await new Promise(() => undefined); // hangs until killed
    log(`done ${n}`);
    return { doubled: n * 2 };
  },
});
bus.on('job.*', (e) => process.stdout.write(`${e.name}\n`));
if (mode === 'enqueue') queue.enqueue({ type: 'test.work', payload: { n: 21 }, maxAttempts: 3 });
const recovered = queue.recoverAbandoned();
process.stdout.write(`recovered ${recovered}\n`);
queue.start();
