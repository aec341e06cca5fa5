// DeployEngine's ONNX runtime (src/main/services/deploy/onnx) on the digits MLP of the shared fixtures, without
// HTTP: what the runtime itself adds, which the REST routes will add to.
//  (a) concurrency 1: the latency of `runtime.infer` (validation, queue, a replica thread, postMessage both ways)
//      against onnxruntime's `session.run` called in this process on the same model with the same settings
//      (1 intra-op thread, sequential); the difference is the runtime's share of the issue's ≤ 0.3 ms budget.
//  (b) concurrency N (8): N closed-loop clients, each sending one row and waiting for its answer, for --seconds;
//      throughput and latency percentiles unbatched (maxBatchSize 0) against dynamic batching (each of
//      --batch-sizes, with --delay ms, adaptive wait; and the largest with batchWait 'fixed', Triton's rule), same
//      replicas. Target: batched ≥ 2x the unbatched throughput with p95 ≤ 1.5x the unbatched p95.
// Each variant runs --repeat times in turn; the figures are the median run, with the range of all runs.
//   node --import tsx bench/deploy-onnx.ts [--iterations 3000] [--seconds 3] [--concurrency 8] [--replicas 1]
//                                          [--batch-sizes 8,16,32] [--delay 1] [--repeat 3] [--json]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { fixturePath } from '#platform/testing';
import { OnnxRuntime, type OnnxRuntimeOptions } from '#services/deploy/onnx/runtime';
import { closedLoop as closedLoopCalls, sequential as sequentialCalls, type Call, type Latency } from './load-loops';

const { values: opts } = parseArgs({
  options: {
    iterations: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '1' },
    'batch-sizes': { type: 'string', default: '8,16,32' },
    delay: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const ITERATIONS = Number(opts.iterations);
const SECONDS = Number(opts.seconds);
const CONCURRENCY = Number(opts.concurrency);
const REPLICAS = Number(opts.replicas);
const BATCH_SIZES = opts['batch-sizes'].split(',').filter(Boolean).map(Number);
const DELAY = Number(opts.delay);
const REPEAT = Number(opts.repeat);
const WARMUP = 300;

const MODEL = fixturePath('models', 'digits_mlp.onnx');
const ROWS = (
  JSON.parse(readFileSync(fixturePath('models', 'digits_mlp.expected.json'), 'utf8')) as { X: number[][] }
).X.map((r) => Float32Array.from(r));
const rowAt = (i: number) => ROWS[i % ROWS.length] as Float32Array;

/** Sequential calls: one at a time, each timed. */
const sequential = (call: Call) => sequentialCalls(call, WARMUP, ITERATIONS);
/** N closed-loop clients for SECONDS: requests per second and each request's latency. */
const closedLoop = (call: Call, clients: number) => closedLoopCalls(call, clients, SECONDS, 300);

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

async function withRuntime<T>(
  options: OnnxRuntimeOptions,
  body: (call: Call, rt: OnnxRuntime) => Promise<T>,
): Promise<T> {
  const runtime = await OnnxRuntime.load(MODEL, { replicas: REPLICAS, ...options });
  try {
    const call: Call = (i) =>
      runtime.infer({ x: { dtype: 'float32', dims: [1, 64], data: rowAt(i) } satisfies TensorData });
    return await body(call, runtime);
  } finally {
    await runtime.close();
  }
}

interface Variant {
  name: string;
  run: () => Promise<Record<string, unknown>>;
}

const session = await ort.InferenceSession.create(MODEL, SESSION_OPTIONS);
const inProcess: Call = (i) => session.run({ x: new ort.Tensor('float32', rowAt(i), [1, 64]) });

const latencyVariants: Variant[] = [
  { name: 'in-process session.run', run: async () => ({ latency: await sequential(inProcess) }) },
  {
    name: 'runtime, unbatched',
    run: () => withRuntime({ maxBatchSize: 0 }, async (call) => ({ latency: await sequential(call) })),
  },
  {
    name: `runtime, batching on (max ${BATCH_SIZES[0]}, ${DELAY} ms)`,
    run: () =>
      withRuntime({ maxBatchSize: BATCH_SIZES[0] as number, maxQueueDelayMs: DELAY }, async (call) => ({
        latency: await sequential(call),
      })),
  },
];

const loadVariants: Variant[] = [
  {
    name: `in-process session.run x${CONCURRENCY}`,
    run: async () => closedLoop(inProcess, CONCURRENCY),
  },
  {
    name: 'runtime, unbatched',
    run: () => withRuntime({ maxBatchSize: 0 }, async (call) => closedLoop(call, CONCURRENCY)),
  },
  ...[
    ...BATCH_SIZES.map((size) => ({ size, wait: 'adaptive' as const })),
    { size: BATCH_SIZES.at(-1) as number, wait: 'fixed' as const },
  ].map(({ size, wait }) => ({
    name: `runtime, batching max ${size}, ${DELAY} ms${wait === 'fixed' ? ', fixed' : ''}`,
    run: () =>
      withRuntime({ maxBatchSize: size, maxQueueDelayMs: DELAY, batchWait: wait }, async (call, rt) => {
        const result = await closedLoop(call, CONCURRENCY);
        const sizes = rt.stats().batchSizes;
        const batches = Object.values(sizes).reduce((a, b) => a + b, 0);
        const rows = Object.entries(sizes).reduce((a, [k, v]) => a + Number(k) * v, 0);
        return { ...result, meanBatchRows: rows / batches };
      }),
  })),
];

/** Runs every variant REPEAT times in turn (so drifting load hits all alike); all runs of each. */
async function runAll(variants: Variant[]): Promise<Map<string, Record<string, unknown>[]>> {
  const runs = new Map<string, Record<string, unknown>[]>();
  for (let round = 0; round < REPEAT; round++)
    for (const v of variants) runs.set(v.name, [...(runs.get(v.name) ?? []), await v.run()]);
  return runs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const range = (xs: number[], digits: number) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

const loadBefore = os.loadavg();
const latencyRuns = await runAll(latencyVariants);
const loadRuns = await runAll(loadVariants);
const loadAfter = os.loadavg();
await session.release();

const lat = (name: string, key: keyof Latency) => (latencyRuns.get(name) ?? []).map((r) => (r.latency as Latency)[key]);
const base = latencyVariants[0]?.name as string;
const unbatchedName = latencyVariants[1]?.name as string;
const addedP50 = lat(unbatchedName, 'p50').map((v, i) => v - (lat(base, 'p50')[i] as number));
const addedMean = lat(unbatchedName, 'mean').map((v, i) => v - (lat(base, 'mean')[i] as number));

const load = (name: string, pick: (r: Record<string, unknown>) => number) => (loadRuns.get(name) ?? []).map(pick);
const rps = (r: Record<string, unknown>) => r.rps as number;
const p95 = (r: Record<string, unknown>) => (r.latency as Latency).p95;
const unbatchedLoad = loadVariants[1]?.name as string;

if (opts.json) {
  console.log(
    JSON.stringify({
      benchmark: 'deploy-onnx',
      model: 'digits_mlp.onnx',
      iterations: ITERATIONS,
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      replicas: REPLICAS,
      delayMs: DELAY,
      repeat: REPEAT,
      loadBefore,
      loadAfter,
      concurrency1: Object.fromEntries(latencyRuns),
      addedLatencyMs: { p50: addedP50, mean: addedMean },
      concurrencyN: Object.fromEntries(loadRuns),
    }),
  );
} else {
  const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(
    `deploy-onnx: digits MLP (64-64-32-10), 1 intra-op thread, ${REPLICAS} replica(s), median of ${REPEAT} runs ` +
      `[range]; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}); load average ${la(loadBefore)} ` +
      `before, ${la(loadAfter)} after`,
  );
  console.log(`(a) concurrency 1, ${ITERATIONS} sequential requests of 1 row (ms)`);
  console.log(
    '  variant                                      p50                 mean                p95                p99',
  );
  for (const v of latencyVariants) {
    const cell = (k: keyof Latency) => `${median(lat(v.name, k)).toFixed(3)} [${range(lat(v.name, k), 3)}]`.padEnd(19);
    console.log(`  ${v.name.padEnd(40)} ${cell('p50')} ${cell('mean')} ${cell('p95')} ${cell('p99')}`);
  }
  console.log(
    `  added by the runtime (unbatched - in-process): p50 ${median(addedP50).toFixed(3)} ms [${range(addedP50, 3)}], ` +
      `mean ${median(addedMean).toFixed(3)} ms [${range(addedMean, 3)}]`,
  );
  console.log(`(b) concurrency ${CONCURRENCY}, closed loop for ${SECONDS} s, 1 row per request`);
  console.log(
    '  variant                                      req/s                 p50 ms         p95 ms               p99 ms     vs unbatched (req/s, p95)   rows/batch',
  );
  const baseRps = median(load(unbatchedLoad, rps));
  const baseP95 = median(load(unbatchedLoad, p95));
  for (const v of loadVariants) {
    const runs = loadRuns.get(v.name) ?? [];
    const r = median(load(v.name, rps));
    const q95 = median(load(v.name, p95));
    const p50 = median(runs.map((x) => (x.latency as Latency).p50));
    const p99 = median(runs.map((x) => (x.latency as Latency).p99));
    const meanRows =
      runs[0]?.meanBatchRows === undefined ? '' : median(runs.map((x) => x.meanBatchRows as number)).toFixed(1);
    console.log(
      `  ${v.name.padEnd(40)} ${`${r.toFixed(0)} [${range(load(v.name, rps), 0)}]`.padEnd(21)} ${p50.toFixed(3).padEnd(14)} ` +
        `${`${q95.toFixed(3)} [${range(load(v.name, p95), 2)}]`.padEnd(20)} ${p99.toFixed(3).padEnd(10)} ` +
        `${`${(r / baseRps).toFixed(2)}x, ${(q95 / baseP95).toFixed(2)}x`.padEnd(27)} ${meanRows}`,
    );
  }
}
