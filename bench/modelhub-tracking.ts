// ModelHub tracking over the MLflow REST API of a real core (in a child process, fresh data dir), one keep-alive
// connection, requests one after another (each answered = durable: in SQLite's WAL or the metric journal, neither
// flushed to the disk on every write; synchronous = NORMAL):
//   1. POST /api/2.0/mlflow/runs/log-metric, one point per request (4 series of one run): >= 2,000 requests/s;
//   2. POST runs/log-batch with 1,000 metrics per request (20 runs x 5 keys x 10,000 steps = 1,000,000 points,
//      each request 200 steps x 5 keys of one run): >= 250,000 points/s;
//   3. storage of both: SQLite growth per point (after a WAL checkpoint) <= 16 bytes.
// Also, no target: the same 1,000,000 points (into other runs) as the Python SDK sends them, float64 columns
// (POST /api/v1/runs/{run}/metrics, the AIMB format), 10,000 points a request.
// MLflow 2.12 with SQLite on this machine: 42-83 log-metric requests/s, 3,000-6,000 points/s with log-batch.
//   npx tsx bench/modelhub-tracking.ts [--single 10000] [--runs 20] [--keys 5] [--steps 10000] [--json]
import { parseArgs } from 'node:util';
import { encodeMetricBatch, METRIC_BATCH_MAX_POINTS, type MetricBatchPoint } from '#shared/metric-batch-binary';
import {
  benchRoot,
  Client,
  dbSize,
  machineLine,
  startServer,
  summarize,
  verdict,
  type DbSize,
} from './modelhub-common';

const { values: opts } = parseArgs({
  options: {
    single: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '500' },
    runs: { type: 'string', default: '20' },
    keys: { type: 'string', default: '5' },
    steps: { type: 'string', default: '10000' },
    json: { type: 'boolean', default: false },
  },
});
const SINGLE = Number(opts.single);
const WARMUP = Number(opts.warmup);
const RUNS = Number(opts.runs);
const KEYS = Number(opts.keys);
const STEPS = Number(opts.steps);
const BATCH = 1000;
const SINGLE_SERIES = 4;
const TARGET = { requestsPerSecond: 2000, pointsPerSecond: 250_000, bytesPerPoint: 16 };

const API = '/api/2.0/mlflow';

/** A training loop's timestamps: ~40 ms a step with jitter, in ms. */
const stepTime = (t0: number, step: number) => t0 + step * 40 + Math.floor(Math.random() * 7);

function perPoint(before: DbSize, after: DbSize, points: number) {
  return {
    file: (after.fileBytes - before.fileBytes) / points,
    used: (after.usedBytes - before.usedBytes) / points,
    chunkTable: (after.chunkBytes - before.chunkBytes) / points,
    payload: (after.payloadBytes - before.payloadBytes) / points,
  };
}

async function createRun(client: Client, experimentId: string, name: string): Promise<string> {
  const r = await client.post<{ run: { info: { run_id: string } } }>(`${API}/runs/create`, {
    experiment_id: experimentId,
    run_name: name,
    start_time: Date.now(),
  });
  return r.run.info.run_id;
}

async function main() {
  const root = benchRoot('modelhub-tracking');
  const load0 = machineLine();
  const server = await startServer(root);
  const client = new Client(server);
  try {
    const { experiment_id: exp } = await client.post<{ experiment_id: string }>(`${API}/experiments/create`, {
      name: 'bench',
    });

    // 1. log-metric, one point a request, round-robin over 4 series of one run (so each series grows 1 point at a
    // time and its small chunks are merged as they accumulate).
    const warmRun = await createRun(client, exp, 'warm-up');
    for (let i = 0; i < WARMUP; i++) {
      await client.post(`${API}/runs/log-metric`, {
        run_id: warmRun,
        key: 'w',
        value: i,
        timestamp: Date.now(),
        step: i,
      });
    }
    // The ceiling on this machine now: the same client and server answering GET /api/v1/status (no database).
    for (let i = 0; i < WARMUP; i++) await client.get('/api/v1/status');
    const startStatus = performance.now();
    for (let i = 0; i < SINGLE; i++) await client.get('/api/v1/status');
    const statusRps = SINGLE / ((performance.now() - startStatus) / 1000);

    const single = await createRun(client, exp, 'single');
    const sizeBeforeSingle = dbSize(server.dbFile);
    const t0 = Date.now();
    const times: number[] = new Array(SINGLE);
    const cpu0 = server.cpuMs();
    const start = performance.now();
    for (let i = 0; i < SINGLE; i++) {
      const step = Math.floor(i / SINGLE_SERIES);
      const body = JSON.stringify({
        run_id: single,
        key: `metric_${i % SINGLE_SERIES}`,
        value: Math.random(),
        timestamp: stepTime(t0, step),
        step,
      });
      const s = performance.now();
      await client.post(`${API}/runs/log-metric`, body);
      times[i] = performance.now() - s;
    }
    // Points wait up to 50 ms in the journal before they reach their chunks; a read moves them at once, so the
    // time and CPU below include that work, and the sizes count every point.
    await client.get(`${API}/runs/get?run_id=${single}`);
    const singleS = (performance.now() - start) / 1000;
    const singleCpuMs = server.cpuMs() - cpu0;
    const sizeAfterSingle = dbSize(server.dbFile);
    const singleStats = summarize(times);
    const singleRps = SINGLE / singleS;
    const singleBytes = perPoint(sizeBeforeSingle, sizeAfterSingle, SINGLE);

    // 2. log-batch, 1,000 metrics a request. Bodies are built before timing (client work, not the server's).
    const runIds: string[] = [];
    for (let r = 0; r < RUNS; r++) runIds.push(await createRun(client, exp, `batch-${r}`));
    const stepsPerRequest = BATCH / KEYS;
    const bodies: string[] = [];
    const tb = Date.now();
    for (let s0 = 0; s0 < STEPS; s0 += stepsPerRequest) {
      for (const runId of runIds) {
        const metrics = [];
        for (let step = s0; step < Math.min(STEPS, s0 + stepsPerRequest); step++) {
          const timestamp = stepTime(tb, step);
          for (let k = 0; k < KEYS; k++) metrics.push({ key: `metric_${k}`, value: Math.random(), timestamp, step });
        }
        bodies.push(JSON.stringify({ run_id: runId, metrics }));
      }
    }
    const points = RUNS * KEYS * STEPS;
    const sizeBeforeBatch = dbSize(server.dbFile);
    const batchTimes: number[] = [];
    const cpu1 = server.cpuMs();
    const startB = performance.now();
    for (const body of bodies) {
      const s = performance.now();
      await client.post(`${API}/runs/log-batch`, body);
      batchTimes.push(performance.now() - s);
    }
    for (const runId of runIds) await client.get(`${API}/runs/get?run_id=${runId}`);
    const batchS = (performance.now() - startB) / 1000;
    const batchCpuMs = server.cpuMs() - cpu1;
    const sizeAfterBatch = dbSize(server.dbFile);
    const batchStats = summarize(batchTimes);
    const pps = points / batchS;
    const batchBytes = perPoint(sizeBeforeBatch, sizeAfterBatch, points);

    // The same points as AIMB columns (the Python SDK's way), 10,000 a request; bodies built before timing too.
    const binaryRuns: string[] = [];
    for (let r = 0; r < RUNS; r++) binaryRuns.push(await createRun(client, exp, `binary-${r}`));
    const stepsPerBinary = METRIC_BATCH_MAX_POINTS / KEYS;
    const binaryBodies: { runId: string; body: Uint8Array }[] = [];
    for (let s0 = 0; s0 < STEPS; s0 += stepsPerBinary) {
      for (const runId of binaryRuns) {
        const batch: MetricBatchPoint[] = [];
        for (let step = s0; step < Math.min(STEPS, s0 + stepsPerBinary); step++) {
          const timestamp = stepTime(tb, step);
          for (let k = 0; k < KEYS; k++) batch.push({ key: `metric_${k}`, value: Math.random(), timestamp, step });
        }
        binaryBodies.push({ runId, body: encodeMetricBatch(batch) });
      }
    }
    const cpu2 = server.cpuMs();
    const startBin = performance.now();
    for (const { runId, body } of binaryBodies) await client.postBytes(`/api/v1/runs/${runId}/metrics`, body);
    for (const runId of binaryRuns) await client.get(`${API}/runs/get?run_id=${runId}`);
    const binaryS = (performance.now() - startBin) / 1000;
    const binaryCpuMs = server.cpuMs() - cpu2;

    const result = {
      benchmark: 'modelhub-tracking',
      machine: load0,
      loadAfter: machineLine(),
      logMetric: {
        requests: SINGLE,
        series: SINGLE_SERIES,
        requestsPerSecond: singleRps,
        statusRequestsPerSecond: statusRps,
        latencyMs: singleStats,
        serverCpuUsPerRequest: (singleCpuMs * 1000) / SINGLE,
        bytesPerPoint: singleBytes,
        chunks: sizeAfterSingle.chunks - sizeBeforeSingle.chunks,
        target: TARGET.requestsPerSecond,
        met: singleRps >= TARGET.requestsPerSecond,
      },
      logBatch: {
        requests: bodies.length,
        points,
        pointsPerSecond: pps,
        latencyMs: batchStats,
        serverCpuUsPerPoint: (batchCpuMs * 1000) / points,
        bytesPerPoint: batchBytes,
        chunks: sizeAfterBatch.chunks - sizeBeforeBatch.chunks,
        target: TARGET.pointsPerSecond,
        met: pps >= TARGET.pointsPerSecond,
      },
      binary: {
        requests: binaryBodies.length,
        points,
        pointsPerSecond: points / binaryS,
        serverCpuUsPerPoint: (binaryCpuMs * 1000) / points,
      },
      storage: {
        target: TARGET.bytesPerPoint,
        met: batchBytes.used <= TARGET.bytesPerPoint && singleBytes.used <= TARGET.bytesPerPoint,
      },
    };
    if (opts.json) console.log(JSON.stringify(result));
    else {
      const ms = (x: number) => `${x.toFixed(2)} ms`;
      const b = (x: { file: number; used: number; chunkTable: number; payload: number }) =>
        `${x.used.toFixed(2)} B/point used pages (file ${x.file.toFixed(2)}, chunk table ${x.chunkTable.toFixed(2)}, encoded ${x.payload.toFixed(2)})`;
      console.log(`modelhub-tracking  ${load0}`);
      console.log(
        `1. log-metric: ${SINGLE} sequential requests, ${SINGLE_SERIES} series, one keep-alive connection: ${singleRps.toFixed(0)} requests/s (target >= ${TARGET.requestsPerSecond}) ${verdict(result.logMetric.met)}`,
      );
      console.log(
        `   p50 ${ms(singleStats.p50)}  p95 ${ms(singleStats.p95)}  p99 ${ms(singleStats.p99)}  max ${ms(singleStats.max)}; server CPU ${result.logMetric.serverCpuUsPerRequest.toFixed(0)} µs/request; GET /api/v1/status on the same connection: ${statusRps.toFixed(0)} requests/s`,
      );
      console.log(
        `2. log-batch: ${bodies.length} requests x ${BATCH} metrics (${RUNS} runs x ${KEYS} keys x ${STEPS} steps): ${pps.toFixed(0)} points/s (target >= ${TARGET.pointsPerSecond}) ${verdict(result.logBatch.met)}`,
      );
      console.log(
        `   per request p50 ${ms(batchStats.p50)}  p95 ${ms(batchStats.p95)}  max ${ms(batchStats.max)}; server CPU ${result.logBatch.serverCpuUsPerPoint.toFixed(2)} µs/point`,
      );
      console.log(
        `   the same points as float64 columns (AIMB, what the Python SDK sends), ${binaryBodies.length} requests x ${METRIC_BATCH_MAX_POINTS}: ${result.binary.pointsPerSecond.toFixed(0)} points/s; server CPU ${result.binary.serverCpuUsPerPoint.toFixed(2)} µs/point`,
      );
      console.log(`5. storage (target <= ${TARGET.bytesPerPoint} B/point) ${verdict(result.storage.met)}`);
      console.log(`   log-batch:  ${b(batchBytes)}, ${result.logBatch.chunks} chunks`);
      console.log(`   log-metric: ${b(singleBytes)}, ${result.logMetric.chunks} chunks`);
      console.log(`   load after: ${result.loadAfter}`);
    }
  } finally {
    client.close();
    await server.stop();
  }
}

await main();
