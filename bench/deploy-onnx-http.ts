// DeployEngine's ONNX serving over HTTP, end to end: the digits MLP of the shared fixtures deployed in a real
// `aidos serve` child process and called through KServe's v2 infer route (`POST /v2/models/{name}/infer`, one row
// of 64 floats as JSON) by wrk (C, epoll, one thread: a light client, so that the two vCPUs go to the server), its
// requests made once by a Lua script. Needs wrk on the PATH (`apt-get install wrk`).
//  (a) concurrency 1 (wrk -t1 -c1): the latency of a v2 infer request against onnxruntime's `session.run` called in
//      this process on the same model with the same settings (1 intra-op thread, sequential): the difference is
//      what the REST route, the runtime and its replica thread add (target ≤ 0.3 ms). Measured with the request
//      log off and with it on for every request (the default sample rate, 1; each logged request is a SQLite
//      insert), and for `GET /v2/health/ready`, the floor of any request to this server (no model involved).
//  (b) concurrency N (wrk -t1 -cN, 8): N connections for --seconds against two deployments of the same file, one
//      with dynamic batching off (maxBatchSize 0) and one with it on (--batch-size rows, --delay ms); one replica
//      each, request log off. Target: batched ≥ 2x the unbatched throughput with p95 ≤ 1.5x the unbatched p95.
// Beside each figure, the server's CPU time per request (its process: HTTP, runtime and replica thread; from
// /proc), which the machine's load disturbs less than wall times. Variants run --repeat times in turn; the figures
// are the median run, with the range of all runs.
//   npx tsx bench/deploy-onnx-http.ts [--seconds 3] [--concurrency 8] [--batch-size 32] [--delay 2] [--repeat 3]
//                                     [--iterations 3000] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { serveCli } from '#core/testing';
import { localTokenPath } from '#platform/config';
import { fixturePath, tempDir } from '#platform/testing';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints } from '#shared/contracts/index';
import { sequential, type Latency } from './load-loops';

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '3000' },
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

if (spawnSync('wrk', ['--version']).error) {
  console.error('deploy-onnx-http needs wrk (a C HTTP load generator): apt-get install wrk');
  process.exit(2);
}

const MODEL = fixturePath('models', 'digits_mlp.onnx');
const ROWS = (JSON.parse(readFileSync(fixturePath('models', 'digits_mlp.expected.json'), 'utf8')) as { X: number[][] })
  .X;

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

// ---- wrk: every request is formatted once, in `init`; `request` hands them out in turn ----
const BODIES = path.join(data.dir, 'bodies.jsonl');
writeFileSync(
  BODIES,
  ROWS.map((row) => JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: row }] })).join(
    '\n',
  ),
);
const SCRIPT = path.join(data.dir, 'bench.lua');
writeFileSync(
  SCRIPT,
  `-- args: method, path, token, and a file of request bodies (one a line) for a POST
local reqs, n, i = {}, 0, 0
function init(args)
  local headers = { ["Authorization"] = "Bearer " .. args[3] }
  if args[4] then
    headers["Content-Type"] = "application/json"
    for line in io.lines(args[4]) do
      n = n + 1
      reqs[n] = wrk.format(args[1], args[2], headers, line)
    end
  else
    n = 1
    reqs[1] = wrk.format(args[1], args[2], headers)
  end
end
function request()
  i = i % n + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"durationUs":%d,"errors":%d,"status":%d,"meanUs":%f,"p50Us":%d,"p95Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency.mean, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
`,
);

interface Load {
  rps: number;
  latency: Latency;
  /** The server process's CPU time per request, µs (HTTP, runtime and replica thread). */
  serverCpuUs: number;
}

/** The server's CPU time so far, µs (utime + stime of every thread of the process, from /proc). */
function serverCpuUs(): number {
  const stat = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), counted from the state (field 3) here.
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** wrk against `route` with `connections` connections for `seconds`; fails on any error or non-2xx answer. */
async function wrk(route: string, connections: number, seconds: number, post: boolean): Promise<Load> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', SCRIPT, url.origin];
  args.push('--', post ? 'POST' : 'GET', route, token, ...(post ? [BODIES] : []));
  const cpuBefore = serverCpuUs();
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const cpu = serverCpuUs() - cpuBefore;
  const line = out.split('\n').find((l) => l.startsWith('WRK '));
  if (code !== 0 || !line) throw new Error(`wrk exited with ${code}: ${out}`);
  const r = JSON.parse(line.slice(4)) as Record<'requests' | 'durationUs' | 'errors' | 'status', number> &
    Record<'meanUs' | 'p50Us' | 'p95Us' | 'p99Us', number>;
  if (r.errors > 0 || r.status > 0)
    throw new Error(`${route}: ${r.errors} socket errors and ${r.status} non-2xx answers of ${r.requests}`);
  return {
    rps: r.requests / (r.durationUs / 1e6),
    latency: { n: r.requests, mean: r.meanUs / 1000, p50: r.p50Us / 1000, p95: r.p95Us / 1000, p99: r.p99Us / 1000 },
    serverCpuUs: cpu / r.requests,
  };
}

const infer = (deployment: string) => `/v2/models/${deployment}/infer`;

const session = await ort.InferenceSession.create(MODEL, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const tensors = ROWS.map((r) => new ort.Tensor('float32', Float32Array.from(r), [1, 64]));

interface Variant {
  name: string;
  run: () => Promise<Load>;
}

async function batchStats(name: string): Promise<{ total: number; meanRows: number | null }> {
  return (await api.call('deployments.stats', { deployment: name })).batches;
}
let meanBatchRows: number[] = [];

const latencyVariants: Variant[] = [
  {
    name: 'in-process session.run',
    run: async () => ({
      rps: 0,
      serverCpuUs: 0,
      latency: await sequential((i) => session.run({ x: tensors[i % tensors.length] as ort.Tensor }), 300, ITERATIONS),
    }),
  },
  { name: 'HTTP GET /v2/health/ready', run: () => wrk('/v2/health/ready', 1, SECONDS, false) },
  { name: 'HTTP v2 infer, log off', run: () => wrk(infer('unbatched'), 1, SECONDS, true) },
  { name: 'HTTP v2 infer, batching on, log off', run: () => wrk(infer('batched'), 1, SECONDS, true) },
  { name: 'HTTP v2 infer, log every request', run: () => wrk(infer('logged'), 1, SECONDS, true) },
];
const loadVariants: Variant[] = [
  { name: `HTTP unbatched x${CONCURRENCY}`, run: () => wrk(infer('unbatched'), CONCURRENCY, SECONDS, true) },
  {
    name: `HTTP batched (max ${BATCH_SIZE}, ${DELAY} ms) x${CONCURRENCY}`,
    run: async () => {
      const before = await batchStats('batched');
      const result = await wrk(infer('batched'), CONCURRENCY, SECONDS, true);
      const after = await batchStats('batched');
      const rows = (after.meanRows ?? 0) * after.total - (before.meanRows ?? 0) * before.total;
      meanBatchRows = [...meanBatchRows, rows / Math.max(1, after.total - before.total)];
      return result;
    },
  },
];

/** Every variant once per round, `REPEAT` rounds: interleaved, so that a change in the machine's load hits all. */
async function runAll(variants: Variant[]): Promise<Map<string, Load[]>> {
  const runs = new Map<string, Load[]>();
  for (let round = 0; round < REPEAT; round++)
    for (const v of variants) runs.set(v.name, [...(runs.get(v.name) ?? []), await v.run()]);
  return runs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

const loadBefore = os.loadavg();
let latencyRuns: Map<string, Load[]>;
let loadRuns: Map<string, Load[]>;
try {
  // Warm-up, untimed: the JIT of the server's request path and of each deployment's replica.
  for (const d of ['unbatched', 'batched', 'logged']) await wrk(infer(d), CONCURRENCY, 1, true);
  latencyRuns = await runAll(latencyVariants);
  loadRuns = await runAll(loadVariants);
} finally {
  await session.release();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  data.remove();
}
const loadAfter = os.loadavg();

const lat = (name: string, key: keyof Latency) => (latencyRuns.get(name) ?? []).map((r) => r.latency[key]);
const cpu = (runs: Map<string, Load[]>, name: string) => (runs.get(name) ?? []).map((r) => r.serverCpuUs);
const base = latencyVariants[0]?.name as string;
const added = (name: string, key: keyof Latency) => lat(name, key).map((v, i) => v - (lat(base, key)[i] as number));
const load = (name: string, pick: (r: Load) => number) => (loadRuns.get(name) ?? []).map(pick);
const rps = (r: Load) => r.rps;
const p95 = (r: Load) => r.latency.p95;
const [unbatchedName, batchedName] = loadVariants.map((v) => v.name) as [string, string];
const throughputRatio = load(batchedName, rps).map((v, i) => v / (load(unbatchedName, rps)[i] as number));
const p95Ratio = load(batchedName, p95).map((v, i) => v / (load(unbatchedName, p95)[i] as number));
const inferName = latencyVariants[2]?.name as string;

const summary = {
  benchmark: 'deploy-onnx-http',
  model: 'digits_mlp.onnx',
  client: 'wrk -t1',
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
      {
        p50: median(lat(v.name, 'p50')),
        mean: median(lat(v.name, 'mean')),
        p95: median(lat(v.name, 'p95')),
        serverCpuUsPerRequest: median(cpu(latencyRuns, v.name)),
      },
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
        p50: median(load(v.name, (r) => r.latency.p50)),
        p95: median(load(v.name, p95)),
        p99: median(load(v.name, (r) => r.latency.p99)),
        serverCpuUsPerRequest: median(cpu(loadRuns, v.name)),
        ...(v.name === batchedName ? { meanBatchRows: median(meanBatchRows) } : {}),
      },
    ]),
  ),
  batchedVsUnbatched: { throughput: median(throughputRatio), p95: median(p95Ratio) },
  targets: {
    addedLatencyP50Le0_3ms: median(added(inferName, 'p50')) <= 0.3,
    throughputGe2x: median(throughputRatio) >= 2,
    p95Le1_5x: median(p95Ratio) <= 1.5,
  },
};

if (opts.json) {
  console.log(JSON.stringify(summary, null, 2));
} else {
  console.log(
    `deploy-onnx-http: digits MLP over KServe v2 REST, wrk -t1, ${os.cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} -> ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
  );
  console.log(`(a) concurrency 1, ${SECONDS} s (in process: ${ITERATIONS} calls) x${REPEAT} (median run; range)`);
  for (const v of latencyVariants) {
    const extra =
      v.name === base
        ? ''
        : `  added p50 ${median(added(v.name, 'p50')).toFixed(3)} ms (${range(added(v.name, 'p50'), 3)})  server CPU ${median(cpu(latencyRuns, v.name)).toFixed(0)} µs/req`;
    console.log(
      `  ${v.name.padEnd(38)} p50 ${median(lat(v.name, 'p50')).toFixed(3)} ms  mean ${median(lat(v.name, 'mean')).toFixed(3)} ms  p95 ${median(lat(v.name, 'p95')).toFixed(3)} ms${extra}`,
    );
  }
  console.log(`(b) concurrency ${CONCURRENCY}, ${SECONDS} s x${REPEAT}`);
  for (const v of loadVariants) {
    const s = summary.load[v.name] as {
      rps: number;
      p50: number;
      p95: number;
      p99: number;
      serverCpuUsPerRequest: number;
      meanBatchRows?: number;
    };
    console.log(
      `  ${v.name.padEnd(38)} ${s.rps.toFixed(0)} req/s (${range(load(v.name, rps), 0)})  p50 ${s.p50.toFixed(2)} ms  p95 ${s.p95.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms  server CPU ${s.serverCpuUsPerRequest.toFixed(0)} µs/req${s.meanBatchRows === undefined ? '' : `  mean batch ${s.meanBatchRows.toFixed(1)} rows`}`,
    );
  }
  console.log(
    `  batched/unbatched: throughput ${median(throughputRatio).toFixed(2)}x (${range(throughputRatio, 2)}), p95 ${median(p95Ratio).toFixed(2)}x (${range(p95Ratio, 2)})`,
  );
  console.log(`targets: ${JSON.stringify(summary.targets)}`);
}
