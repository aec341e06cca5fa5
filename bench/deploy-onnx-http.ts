// DeployEngine's ONNX serving over HTTP, end to end: the digits MLP of the shared fixtures deployed in a real
// `aidos serve` child process and called through KServe's v2 infer route (`POST /v2/models/{name}/infer`, one row
// of 64 floats as JSON) from this process over keep-alive connections (node:http Agent).
//  (a) concurrency 1: the latency of a v2 infer request against onnxruntime's `session.run` called in this process
//      on the same model with the same settings (1 intra-op thread, sequential): the difference is what the REST
//      route, the runtime and its replica thread add (target ≤ 0.3 ms). Measured with the request log off and
//      with it on for every request (the default sample rate, 1), since each logged request is a SQLite insert.
//  (b) concurrency N (8): N closed-loop clients for --seconds against two deployments of the same file, one with
//      dynamic batching off (maxBatchSize 0) and one with it on (--batch-size rows, --delay ms); one replica each,
//      request log off. Target: batched ≥ 2x the unbatched throughput with p95 ≤ 1.5x the unbatched p95.
// Variants run --repeat times in turn; the figures are the median run, with the range of all runs.
//   npx tsx bench/deploy-onnx-http.ts [--iterations 2000] [--seconds 3] [--concurrency 8] [--batch-size 32]
//                                     [--delay 2] [--repeat 3] [--json]
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { serveCli } from '#core/testing';
import { localTokenPath } from '#platform/config';
import { fixturePath, tempDir } from '#platform/testing';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints } from '#shared/contracts/index';
import { closedLoop as closedLoopCalls, sequential as sequentialCalls, type Call, type Latency } from './load-loops';

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    'batch-size': { type: 'string', default: '32' },
    delay: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
const SECONDS = Number(opts.seconds);
const CONCURRENCY = Number(opts.concurrency);
const BATCH_SIZE = Number(opts['batch-size']);
const DELAY = Number(opts.delay);
const REPEAT = Number(opts.repeat);
const WARMUP = 300;

const MODEL = fixturePath('models', 'digits_mlp.onnx');
const ROWS = (JSON.parse(readFileSync(fixturePath('models', 'digits_mlp.expected.json'), 'utf8')) as { X: number[][] })
  .X;

/** Sequential calls: one at a time, each timed. */
const sequential = (call: Call) => sequentialCalls(call, WARMUP, ITERATIONS);
/** N closed-loop clients for SECONDS: requests per second and each request's latency. */
const closedLoop = (call: Call, clients: number) => closedLoopCalls(call, clients, SECONDS, 500);

// ---- the server: `aidos serve` in a child process, with three deployments of the digits MLP ----
const data = tempDir('aidos-bench-onnx-http-');
const server = serveCli(data.dir);
const url = new URL(await server.ready);
const token = readFileSync(localTokenPath(data.dir), 'utf8').trim();
const api = new ApiClient(apiEndpoints, { baseUrl: url.href, token });
const common = { file: MODEL, minReplicas: 1, maxReplicas: 1, threads: 1 } as const;
await api.call('deployments.create', { ...common, name: 'unbatched', maxBatchSize: 0, requestLog: { sampleRate: 0 } });
await api.call('deployments.create', {
  ...common,
  name: 'batched',
  maxBatchSize: BATCH_SIZE,
  maxQueueDelayMs: DELAY,
  requestLog: { sampleRate: 0 },
});
await api.call('deployments.create', { ...common, name: 'logged', maxBatchSize: 0, requestLog: { sampleRate: 1 } });

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const bodies = ROWS.map((row) =>
  Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: row }] })),
);

/** One v2 infer request on a kept-alive connection; resolves with the parsed reply. */
function infer(deployment: string, i: number): Promise<unknown> {
  return request(`/v2/models/${deployment}/infer`, bodies[i % bodies.length] as Buffer);
}

/** A POST with a body, or a GET without. */
function request(path: string, body?: Buffer): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: body ? 'POST' : 'GET',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`${res.statusCode}: ${text}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

const session = await ort.InferenceSession.create(MODEL, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const tensors = ROWS.map((r) => new ort.Tensor('float32', Float32Array.from(r), [1, 64]));
const inProcess: Call = (i) => session.run({ x: tensors[i % tensors.length] as ort.Tensor });

interface Variant {
  name: string;
  run: () => Promise<Record<string, unknown>>;
}

const latencyVariants: Variant[] = [
  { name: 'in-process session.run', run: async () => ({ latency: await sequential(inProcess) }) },
  // The floor of any request to this server (auth hook, routing, a JSON reply): no model involved.
  {
    name: 'HTTP GET /v2/health/ready',
    run: async () => ({ latency: await sequential(() => request('/v2/health/ready')) }),
  },
  { name: 'HTTP v2 infer, log off', run: async () => ({ latency: await sequential((i) => infer('unbatched', i)) }) },
  {
    name: 'HTTP v2 infer, batching on, log off',
    run: async () => ({ latency: await sequential((i) => infer('batched', i)) }),
  },
  {
    name: 'HTTP v2 infer, log every request',
    run: async () => ({ latency: await sequential((i) => infer('logged', i)) }),
  },
];

async function batchStats(name: string): Promise<{ total: number; meanRows: number | null }> {
  return (await api.call('deployments.stats', { deployment: name })).batches;
}

const loadVariants: Variant[] = [
  { name: `HTTP unbatched x${CONCURRENCY}`, run: () => closedLoop((i) => infer('unbatched', i), CONCURRENCY) },
  {
    name: `HTTP batched (max ${BATCH_SIZE}, ${DELAY} ms) x${CONCURRENCY}`,
    run: async () => {
      const before = await batchStats('batched');
      const result = await closedLoop((i) => infer('batched', i), CONCURRENCY);
      const after = await batchStats('batched');
      const rows = (after.meanRows ?? 0) * after.total - (before.meanRows ?? 0) * before.total;
      return { ...result, meanBatchRows: rows / Math.max(1, after.total - before.total) };
    },
  },
];

async function runAll(variants: Variant[]): Promise<Map<string, Record<string, unknown>[]>> {
  const runs = new Map<string, Record<string, unknown>[]>();
  for (let round = 0; round < REPEAT; round++)
    for (const v of variants) runs.set(v.name, [...(runs.get(v.name) ?? []), await v.run()]);
  return runs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

const loadBefore = os.loadavg();
let latencyRuns: Map<string, Record<string, unknown>[]>;
let loadRuns: Map<string, Record<string, unknown>[]>;
try {
  latencyRuns = await runAll(latencyVariants);
  loadRuns = await runAll(loadVariants);
} finally {
  agent.destroy();
  await session.release();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  data.remove();
}
const loadAfter = os.loadavg();

const lat = (name: string, key: keyof Latency) => (latencyRuns.get(name) ?? []).map((r) => (r.latency as Latency)[key]);
const base = latencyVariants[0]?.name as string;
const added = (name: string, key: keyof Latency) => lat(name, key).map((v, i) => v - (lat(base, key)[i] as number));
const load = (name: string, pick: (r: Record<string, unknown>) => number) => (loadRuns.get(name) ?? []).map(pick);
const rps = (r: Record<string, unknown>) => r.rps as number;
const p95 = (r: Record<string, unknown>) => (r.latency as Latency).p95;
const [unbatchedName, batchedName] = loadVariants.map((v) => v.name) as [string, string];
const throughputRatio = load(batchedName, rps).map((v, i) => v / (load(unbatchedName, rps)[i] as number));
const p95Ratio = load(batchedName, p95).map((v, i) => v / (load(unbatchedName, p95)[i] as number));

const summary = {
  benchmark: 'deploy-onnx-http',
  model: 'digits_mlp.onnx',
  machine: { cpus: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadAfter },
  settings: {
    iterations: ITERATIONS,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
    batchSize: BATCH_SIZE,
    delayMs: DELAY,
  },
  latency: Object.fromEntries(
    latencyVariants.map((v) => [
      v.name,
      { p50: median(lat(v.name, 'p50')), mean: median(lat(v.name, 'mean')), p95: median(lat(v.name, 'p95')) },
    ]),
  ),
  addedLatencyMs: Object.fromEntries(
    latencyVariants
      .slice(1)
      .map((v) => [v.name, { p50: median(added(v.name, 'p50')), mean: median(added(v.name, 'mean')) }]),
  ),
  load: Object.fromEntries(
    loadVariants.map((v) => [
      v.name,
      {
        rps: median(load(v.name, rps)),
        p50: median(load(v.name, (r) => (r.latency as Latency).p50)),
        p95: median(load(v.name, p95)),
        p99: median(load(v.name, (r) => (r.latency as Latency).p99)),
        ...(v.name === batchedName ? { meanBatchRows: median(load(v.name, (r) => r.meanBatchRows as number)) } : {}),
      },
    ]),
  ),
  batchedVsUnbatched: { throughput: median(throughputRatio), p95: median(p95Ratio) },
  targets: {
    addedLatencyP50Le0_3ms: median(added(latencyVariants[2]?.name as string, 'p50')) <= 0.3,
    throughputGe2x: median(throughputRatio) >= 2,
    p95Le1_5x: median(p95Ratio) <= 1.5,
  },
};

if (opts.json) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  console.log(
    `deploy-onnx-http: digits MLP over KServe v2 REST, ${os.cpus().length} CPUs, load ${loadBefore[0]?.toFixed(2)}`,
  );
  console.log(`(a) concurrency 1, ${ITERATIONS} requests x${REPEAT} (median run; range)`);
  for (const v of latencyVariants) {
    const extra =
      v.name === base
        ? ''
        : `  added p50 ${median(added(v.name, 'p50')).toFixed(3)} ms (${range(added(v.name, 'p50'), 3)})`;
    console.log(
      `  ${v.name.padEnd(38)} p50 ${median(lat(v.name, 'p50')).toFixed(3)} ms  mean ${median(lat(v.name, 'mean')).toFixed(3)} ms  p95 ${median(lat(v.name, 'p95')).toFixed(3)} ms${extra}`,
    );
  }
  console.log(`(b) concurrency ${CONCURRENCY}, ${SECONDS} s x${REPEAT}`);
  for (const v of loadVariants) {
    const s = summary.load[v.name] as { rps: number; p50: number; p95: number; p99: number; meanBatchRows?: number };
    console.log(
      `  ${v.name.padEnd(38)} ${s.rps.toFixed(0)} req/s (${range(load(v.name, rps), 0)})  p50 ${s.p50.toFixed(2)} ms  p95 ${s.p95.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms${s.meanBatchRows === undefined ? '' : `  mean batch ${s.meanBatchRows.toFixed(1)} rows`}`,
    );
  }
  console.log(
    `  batched/unbatched: throughput ${median(throughputRatio).toFixed(2)}x (${range(throughputRatio, 2)}), p95 ${median(p95Ratio).toFixed(2)}x (${range(p95Ratio, 2)})`,
  );
  console.log(`targets: ${JSON.stringify(summary.targets)}`);
}
