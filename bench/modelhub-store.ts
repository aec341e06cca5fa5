// ModelHub's tracking service without HTTP: the cost of logBatch itself (validation, one transaction, chunk
// encoding, tail merges, commit) on a temp-dir SQLite database (WAL, synchronous = NORMAL), to tell the
// database's share of an API request from the HTTP server's (bench/modelhub-tracking.ts measures the whole).
//   npx tsx bench/modelhub-store.ts [--single 10000] [--batches 1000] [--autocheckpoint 1000] [--json]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, runMigrations } from '#platform/db';
import { EventBus } from '#platform/events';
import { silentLogger } from '#platform/logger';
import { modelhubMigrations } from '#services/modelhub/schema';
import { TrackingService } from '#services/modelhub/service';
import { ModelhubStore } from '#services/modelhub/store';
import { benchRoot, machineLine } from './modelhub-common';

const { values: opts } = parseArgs({
  options: {
    single: { type: 'string', default: '10000' },
    batches: { type: 'string', default: '1000' },
    // SQLite's wal_autocheckpoint (pages; its default is 1000), to see what the checkpoints inside commits cost.
    autocheckpoint: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const SINGLE = Number(opts.single);
const BATCHES = Number(opts.batches);
const KEYS = 5;
const BATCH = 1000;

const root = benchRoot('modelhub-store');
const db = openDatabase(path.join(root, 'aidos.db'));
runMigrations(db, [modelhubMigrations]);
if (opts.autocheckpoint) db.pragma(`wal_autocheckpoint = ${Number(opts.autocheckpoint)}`);
const tracking = new TrackingService(new ModelhubStore(db), new EventBus(silentLogger()), silentLogger());
const exp = tracking.createExperiment({ name: 'bench' });
const newRun = (name: string) => tracking.createRun({ experimentId: exp, runName: name }).info.id;

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// One point a call, 4 series.
const single = newRun('single');
const t0 = Date.now();
let c0 = cpu();
let w0 = performance.now();
for (let i = 0; i < SINGLE; i++) {
  const step = Math.floor(i / 4);
  tracking.logBatch(single, {
    metrics: [{ key: `metric_${i % 4}`, value: Math.random(), timestamp: t0 + step * 40, step }],
    params: [],
    tags: [],
  });
}
const singleUs = ((performance.now() - w0) * 1000) / SINGLE;
const singleCpuUs = ((cpu() - c0) * 1000) / SINGLE;

// 1,000 metrics a call: 200 steps x 5 keys of one of 20 runs.
const runs = Array.from({ length: 20 }, (_, r) => newRun(`batch-${r}`));
const steps = BATCH / KEYS;
c0 = cpu();
w0 = performance.now();
for (let b = 0; b < BATCHES; b++) {
  const run = runs[b % runs.length] as string;
  const s0 = Math.floor(b / runs.length) * steps;
  const metrics = [];
  for (let step = s0; step < s0 + steps; step++) {
    for (let k = 0; k < KEYS; k++)
      metrics.push({ key: `metric_${k}`, value: Math.random(), timestamp: t0 + step * 40, step });
  }
  tracking.logBatch(run, { metrics, params: [], tags: [] });
}
const batchUs = ((performance.now() - w0) * 1000) / (BATCHES * BATCH);
const batchCpuUs = ((cpu() - c0) * 1000) / (BATCHES * BATCH);
db.close();

const result = {
  benchmark: 'modelhub-store',
  machine: machineLine(),
  singleUs,
  singleCpuUs,
  batchUsPerPoint: batchUs,
  batchCpuUsPerPoint: batchCpuUs,
};
if (opts.json) console.log(JSON.stringify(result));
else {
  console.log(`modelhub-store  ${result.machine}`);
  console.log(
    `  logBatch, 1 point:      ${singleUs.toFixed(1)} µs a call (CPU ${singleCpuUs.toFixed(1)} µs) -> at most ${(1e6 / singleUs).toFixed(0)} calls/s`,
  );
  console.log(
    `  logBatch, 1,000 points: ${batchUs.toFixed(2)} µs a point (CPU ${batchCpuUs.toFixed(2)} µs) -> at most ${(1e6 / batchUs).toFixed(0)} points/s`,
  );
}
