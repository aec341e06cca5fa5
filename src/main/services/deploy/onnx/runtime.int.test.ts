import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOT_BYTES } from '#platform/onnx-serving/shared-slot';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { V2InferRequest } from '#shared/contracts/deploy-v2';
import { AppError } from '#shared/errors';
import { ReplicaPool } from './replica-pool';
import { OnnxRuntime } from './runtime';
import type { RequestTiming } from './tensor-runtime';
import { tensorsFromV2, v2Response } from './v2';

// The real runtime: onnxruntime-node in replica worker threads, on the digits models of the shared fixtures.

interface Expected {
  X: number[][];
  logits: number[][];
}

const MLP = fixturePath('models', 'digits_mlp.onnx');
const CNN = fixturePath('models', 'digits_cnn.onnx');
const expectedOf = (name: string): Expected =>
  JSON.parse(readFileSync(fixturePath('models', `${name}.expected.json`), 'utf8')) as Expected;

const rowsTensor = (rows: number[][], inner: number[]): TensorData => ({
  dtype: 'float32',
  dims: [rows.length, ...inner],
  data: Float32Array.from(rows.flat()),
});

function maxDiff(got: Float32Array, want: number[]): number {
  expect(got.length).toBe(want.length);
  let max = 0;
  want.forEach((w, i) => (max = Math.max(max, Math.abs((got[i] as number) - w))));
  return max;
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('did not reject');
}

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir('aidos-onnx-');
});
afterAll(() => tmp.remove());

describe.each([
  { name: 'digits_mlp', file: MLP, inner: [64] },
  { name: 'digits_cnn', file: CNN, inner: [1, 8, 8] },
])('$name through the runtime', ({ name, file, inner }) => {
  const expected = expectedOf(name);
  let runtime: OnnxRuntime;
  const timings: RequestTiming[] = [];
  beforeAll(async () => {
    runtime = await OnnxRuntime.load(file, {
      maxBatchSize: 32,
      // Long enough that 32 requests made in one tick always meet in one batch, even on a loaded machine.
      maxQueueDelayMs: 50,
      onRequest: (t) => timings.push(t),
    });
  });
  afterAll(() => runtime.close());

  it('reproduces the expected logits within 1e-4 for one request of 32 rows', async () => {
    expect(runtime.signature.batchable).toBe(true);
    expect(runtime.batching).toBe(true);
    const { outputs, timing } = await runtime.infer({ x: rowsTensor(expected.X, inner) });
    expect(outputs.logits?.dims).toEqual([32, 10]);
    expect(maxDiff(outputs.logits?.data as Float32Array, expected.logits.flat())).toBeLessThan(1e-4);
    expect(timing).toMatchObject({ ok: true, rows: 32, batchRows: 32, batchRequests: 1 });
  });

  it('batches 32 concurrent one-row requests and answers each with its own row, as the single request did', async () => {
    const whole = await runtime.infer({ x: rowsTensor(expected.X, inner) });
    const before = runtime.stats();
    const answers = await Promise.all(expected.X.map((row) => runtime.infer({ x: rowsTensor([row], inner) })));
    const after = runtime.stats();
    const newBatches = Object.entries(after.batchSizes).filter(
      ([size, n]) => Number(size) > 1 && n > (before.batchSizes[size] ?? 0),
    );
    expect(newBatches.length).toBeGreaterThan(0);
    expect(answers.some((a) => a.timing.batchRequests > 1)).toBe(true);
    const wholeLogits = whole.outputs.logits?.data as Float32Array;
    answers.forEach((answer, i) => {
      const logits = answer.outputs.logits?.data as Float32Array;
      expect(answer.outputs.logits?.dims).toEqual([1, 10]);
      expect(maxDiff(logits, expected.logits[i] as number[])).toBeLessThan(1e-4);
      expect(maxDiff(logits, Array.from(wholeLogits.subarray(i * 10, i * 10 + 10)))).toBeLessThan(1e-6);
    });
    expect(after).toMatchObject({ queueDepth: 0, inFlight: 0, busyReplicas: 0, replicas: 1 });
    expect(after.requests.ok - before.requests.ok).toBe(32);
    const last = timings.at(-1) as RequestTiming;
    expect(last.queueMs).toBeGreaterThanOrEqual(0);
    expect(last.inferenceMs).toBeGreaterThan(0);
    expect(last.totalMs).toBeGreaterThanOrEqual(last.queueMs + last.inferenceMs);
  });
});

describe('without batching', () => {
  it('runs each request alone, of any size', async () => {
    const expected = expectedOf('digits_mlp');
    const runtime = await OnnxRuntime.load(MLP);
    try {
      expect(runtime.batching).toBe(false);
      const answers = await Promise.all(expected.X.map((row) => runtime.infer({ x: rowsTensor([row], [64]) })));
      answers.forEach((a, i) =>
        expect(maxDiff(a.outputs.logits?.data as Float32Array, expected.logits[i] as number[])).toBeLessThan(1e-4),
      );
      const big = await runtime.infer({
        x: rowsTensor([...expected.X, ...expected.X, ...expected.X, ...expected.X], [64]),
      });
      expect(big.outputs.logits?.dims).toEqual([128, 10]);
      expect(runtime.stats().batchSizes).toEqual({ '1': 32, '128': 1 });
    } finally {
      await runtime.close();
    }
  });

  it("answers a request too large for a replica's shared slot (sent by message) as it answers small ones", async () => {
    const expected = expectedOf('digits_mlp');
    const runtime = await OnnxRuntime.load(MLP);
    try {
      // More rows of 64 floats than the slot holds: in, and out again after a small request went through the slot.
      const copies = Math.ceil(SLOT_BYTES / (expected.X.length * 64 * 4)) + 1;
      const rows = Array.from({ length: copies }, () => expected.X).flat();
      for (const request of [rows, [expected.X[0] as number[]], rows]) {
        const answer = await runtime.infer({ x: rowsTensor(request, [64]) });
        expect(answer.outputs.logits?.dims).toEqual([request.length, 10]);
        const logits = answer.outputs.logits?.data as Float32Array;
        request.forEach((_, i) =>
          expect(
            maxDiff(logits.subarray(i * 10, i * 10 + 10), expected.logits[i % expected.X.length] as number[]),
          ).toBeLessThan(1e-4),
        );
      }
    } finally {
      await runtime.close();
    }
  });
});

describe('a request alone in the runtime', () => {
  it("is busy-waited for: its answer comes before the core's thread turns back to the event loop", async () => {
    const row = expectedOf('digits_mlp').X[0] as number[];
    const runtime = await OnnxRuntime.load(MLP);
    try {
      // The first run tells the runtime how long the model takes; a quick one is waited for from then on.
      await runtime.infer({ x: rowsTensor([row], [64]) });
      let answeredFirst = 0;
      for (let i = 0; i < 50; i++) {
        // Each request from a timer: the event loop's next turn then runs the immediate before it polls for I/O.
        await new Promise((resolve) => setTimeout(resolve, 1));
        let turned = false;
        const answer = runtime.infer({ x: rowsTensor([row], [64]) });
        setImmediate(() => (turned = true));
        expect((await answer).outputs.logits?.dims).toEqual([1, 10]);
        if (!turned) answeredFirst++;
      }
      // Not every time: a replica thread that wakes too slowly (a loaded machine) is then waited for as usual. Here
      // 42-47 of 50 were, 12-16 with four CPU hogs on the two cores; without the busy-wait 0-1.
      expect(answeredFirst).toBeGreaterThanOrEqual(5);
    } finally {
      await runtime.close();
    }
  });
});

describe("a request's signal", () => {
  it('is looked at only when the request has to wait; one already aborted then drops it from the queue', async () => {
    const row = expectedOf('digits_mlp').X[0] as number[];
    const runtime = await OnnxRuntime.load(MLP);
    try {
      const reads = { first: 0, second: 0 };
      const aborted = AbortSignal.abort();
      const counted = (key: keyof typeof reads) => ({
        get signal() {
          reads[key]++;
          return aborted;
        },
      });
      // The free replica takes the first at once; the second waits for it.
      const first = runtime.infer({ x: rowsTensor([row], [64]) }, counted('first'));
      const second = rejection(runtime.infer({ x: rowsTensor([row], [64]) }, counted('second')));
      expect((await first).outputs.logits?.dims).toEqual([1, 10]);
      expect(reads.first).toBe(0);
      expect((await second).message).toBe('the request was cancelled while it waited');
      expect(reads.second).toBeGreaterThan(0);
      expect(runtime.stats()).toMatchObject({ queueDepth: 0, requests: { ok: 1, failed: 1 } });
    } finally {
      await runtime.close();
    }
  });

  it('is not looked at while the request waits a short time for its batch, and is once it waits for a busy replica', async () => {
    const rows = expectedOf('digits_mlp').X.slice(0, 9) as number[][];
    // The eighth request fills the batch, which goes at once; the ninth then waits for the busy replica.
    const runtime = await OnnxRuntime.load(MLP, { maxBatchSize: 8, maxQueueDelayMs: 10, batchWait: 'fixed' });
    try {
      const reads = rows.map(() => 0);
      const aborted = AbortSignal.abort();
      const pending = rows.map((row, i) =>
        runtime.infer(
          { x: rowsTensor([row], [64]) },
          {
            get signal() {
              reads[i] = (reads[i] as number) + 1;
              return aborted;
            },
          },
        ),
      );
      const ninth = rejection(pending[8] as Promise<unknown>);
      const batch = await Promise.all(pending.slice(0, 8));
      expect(batch.map((r) => r.timing.batchRows)).toEqual(Array(8).fill(8));
      expect(reads.slice(0, 8)).toEqual(Array(8).fill(0));
      expect((await ninth).message).toBe('the request was cancelled while it waited');
      expect(reads[8]).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
  });
});

describe('input validation and limits (digits MLP)', () => {
  let runtime: OnnxRuntime;
  beforeAll(async () => {
    runtime = await OnnxRuntime.load(MLP, { maxBatchSize: 8, maxQueueDelayMs: 500 });
  });
  afterAll(() => runtime.close());

  const x = (dims: number[], length = dims.reduce((a, b) => a * b, 1)): TensorData => ({
    dtype: 'float32',
    dims,
    data: new Float32Array(length),
  });

  it.each([
    ['a missing input', {}, 'inputs.x: missing; the model needs a float32 [n, 64] tensor'],
    ['an unknown input', { x: x([1, 64]), y: x([1]) }, "inputs.y: the model has no input 'y' (its inputs: x)"],
    [
      'a wrong dtype',
      { x: { dtype: 'float64', dims: [1, 64], data: new Float64Array(64) } },
      'inputs.x: expected dtype float32, got float64',
    ],
    ['a wrong rank', { x: x([64]) }, 'inputs.x: expected rank 2 [n, 64], got rank 1 [64]'],
    [
      'a wrong fixed dimension',
      { x: x([1, 63]) },
      'inputs.x: dimension 1 must be 64 (shape [n, 64]), got 63 (shape [1, 63])',
    ],
    ['data of the wrong length', { x: x([2, 64], 100) }, 'inputs.x: shape [2, 64] needs 128 values, got 100'],
    [
      'a request larger than maxBatchSize',
      { x: x([9, 64]) },
      "inputs.x: a request of 9 rows is larger than this model's maxBatchSize of 8; split it",
    ],
  ] as [string, Record<string, TensorData>, string][])(
    'refuses %s with a 400 naming the input',
    async (_, inputs, message) => {
      const err = await rejection(runtime.infer(inputs));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toBe(message);
    },
  );

  it('refuses an unknown output name', async () => {
    const err = await rejection(runtime.infer({ x: x([1, 64]) }, { outputs: ['probs'] }));
    expect(err.message).toBe("outputs.probs: the model has no output 'probs' (its outputs: logits)");
    expect(runtime.stats().requests.rejected).toBeGreaterThanOrEqual(8);
  });

  it('serves an Open Inference Protocol request end to end', async () => {
    const expected = expectedOf('digits_mlp');
    const body = V2InferRequest.parse({
      id: 'req-7',
      inputs: [{ name: 'x', shape: [2, 64], datatype: 'FP32', data: expected.X.slice(0, 2) }],
      outputs: [{ name: 'logits' }],
    });
    const { inputs, outputs } = tensorsFromV2(body, runtime.signature);
    const result = await runtime.infer(inputs, outputs ? { outputs } : {});
    const response = v2Response({
      modelName: 'digits',
      modelVersion: '1',
      id: body.id,
      outputs: result.outputs,
      order: outputs,
    });
    expect(response.model_name).toBe('digits');
    expect(response.id).toBe('req-7');
    expect(response.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['logits', 'FP32', [2, 10]]]);
    expect(
      maxDiff(Float32Array.from(response.outputs[0]?.data as number[]), expected.logits.slice(0, 2).flat()),
    ).toBeLessThan(1e-4);
    // A BYTES tensor for a float input fails validation, not the run.
    const wrong = tensorsFromV2(
      V2InferRequest.parse({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'BYTES', data: ['a'] }] }),
      runtime.signature,
    );
    expect((await rejection(runtime.infer(wrong.inputs))).message).toBe('inputs.x: expected dtype float32, got string');
  });

  it('does not make a lone request wait out maxQueueDelayMs when nothing else arrives (adaptive wait)', async () => {
    const { timing } = await runtime.infer({ x: x([1, 64]) });
    expect(timing.batchRows).toBe(1);
    expect(timing.queueMs).toBeLessThan(250);
  });

  it("keeps a request waiting for its batch with batchWait 'fixed', and removes it when its signal aborts", async () => {
    const slow = await OnnxRuntime.load(MLP, { maxBatchSize: 8, maxQueueDelayMs: 10_000, batchWait: 'fixed' });
    try {
      const controller = new AbortController();
      const pending = slow.infer({ x: x([1, 64]) }, { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 50));
      expect(slow.stats().queueDepth).toBe(1);
      controller.abort();
      expect((await rejection(pending)).message).toBe('the request was cancelled while it waited');
      expect(slow.stats()).toMatchObject({ queueDepth: 0, requests: { failed: 1 } });
    } finally {
      await slow.close();
    }
  });
});

describe('a batch that onnxruntime refuses', () => {
  it('is retried one request at a time, so only the request at fault fails', async () => {
    // y = Gather(table [4, 2], idx int64 [n]): index 9 passes validation but not onnxruntime.
    const runtime = await OnnxRuntime.load(fixturePath('models', 'gather_int64.onnx'), {
      maxBatchSize: 8,
      maxQueueDelayMs: 50,
    });
    try {
      const idx = (...values: bigint[]): Record<string, TensorData> => ({
        idx: { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values) },
      });
      const results = await Promise.allSettled([
        runtime.infer(idx(1n)),
        runtime.infer(idx(9n)),
        runtime.infer(idx(3n, 0n)),
      ]);
      const [one, bad, two] = results;
      expect(one.status === 'fulfilled' && Array.from(one.value.outputs.y?.data as Float32Array)).toEqual([10, 11]);
      expect(two.status === 'fulfilled' && Array.from(two.value.outputs.y?.data as Float32Array)).toEqual([
        30, 31, 0, 1,
      ]);
      expect(bad.status).toBe('rejected');
      const err = (bad as PromiseRejectedResult).reason as AppError;
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/^onnxruntime could not run the model on these inputs: .*out of data bounds, idx=9/);
      // The failed batch of 4 rows, then each request alone.
      expect(runtime.stats().batchSizes).toEqual({ '1': 2, '2': 1, '4': 1 });
    } finally {
      await runtime.close();
    }
  });
});

describe('a stream of good and bad requests', () => {
  it('answers every request with its own rows or its own error, batched or alone, without stalling', async () => {
    // Batches that onnxruntime refuses are retried request by request; errors come back by message and results
    // through the shared slot, alternating in every order: each request must still get its own answer.
    const runtime = await OnnxRuntime.load(fixturePath('models', 'gather_int64.onnx'), {
      maxBatchSize: 8,
      maxQueueDelayMs: 1,
    });
    try {
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) as number;
      for (let wave = 0; wave < 60; wave++) {
        const requests = Array.from({ length: 1 + Math.floor(random() * 12) }, () =>
          Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
            BigInt(random() < 0.15 ? 9 : Math.floor(random() * 4)),
          ),
        );
        const answers = await Promise.allSettled(
          requests.map((values) =>
            runtime.infer({ idx: { dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values) } }),
          ),
        );
        answers.forEach((answer, i) => {
          const values = requests[i] as bigint[];
          if (values.includes(9n)) {
            expect(answer.status, `wave ${wave}, request ${i}`).toBe('rejected');
            expect(((answer as PromiseRejectedResult).reason as AppError).code).toBe('INVALID_ARGUMENT');
          } else {
            expect(answer.status, `wave ${wave}, request ${i}`).toBe('fulfilled');
            const got = (answer as PromiseFulfilledResult<{ outputs: Record<string, TensorData> }>).value.outputs.y;
            // The fixture's table row k is [10k, 10k + 1].
            expect(Array.from(got?.data as Float32Array)).toEqual(
              values.flatMap((k) => [10 * Number(k), 10 * Number(k) + 1]),
            );
          }
        });
      }
      expect(runtime.stats()).toMatchObject({ queueDepth: 0, inFlight: 0, busyReplicas: 0 });
    } finally {
      await runtime.close();
    }
  });
});

describe('model files that cannot be served', () => {
  it('refuses a truncated file with a clear INVALID_ARGUMENT naming it', async () => {
    const file = path.join(tmp.dir, 'truncated.onnx');
    writeFileSync(file, readFileSync(MLP).subarray(0, 10_000));
    const err = await rejection(OnnxRuntime.load(file));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(new RegExp(`^model file '${file}' is not a readable ONNX model \\(.*truncated`));
  });

  it('refuses a file of garbage, an empty file and a missing one', async () => {
    const garbage = path.join(tmp.dir, 'garbage.onnx');
    writeFileSync(garbage, Buffer.from('this is not a model at all, just some text that is long enough'.repeat(20)));
    const err = await rejection(OnnxRuntime.load(garbage));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(`model file '${garbage}' is not a readable ONNX model`);
    const empty = path.join(tmp.dir, 'empty.onnx');
    writeFileSync(empty, '');
    expect((await rejection(OnnxRuntime.load(empty))).message).toBe(`model file '${empty}' is empty`);
    expect((await rejection(OnnxRuntime.load(path.join(tmp.dir, 'nope.onnx')))).code).toBe('NOT_FOUND');
  });

  it('reports a well-formed file that onnxruntime cannot load (an unknown operator) as FAILED_PRECONDITION', async () => {
    const bytes = readFileSync(MLP);
    // NodeProto.op_type (field 4, 4 bytes long): same length, so the protobuf stays well-formed.
    const at = bytes.indexOf(Buffer.from('\x22\x04Gemm', 'latin1'));
    expect(at).toBeGreaterThan(0);
    bytes.write('Gemx', at + 2);
    const file = path.join(tmp.dir, 'unknown-op.onnx');
    writeFileSync(file, bytes);
    const err = await rejection(OnnxRuntime.load(file));
    expect(err.code).toBe('FAILED_PRECONDITION');
    expect(err.message).toMatch(new RegExp(`^onnxruntime cannot load '${file}': .*Gemx`));
  });

  it("says clearly that device 'gpu' needs onnxruntime's CUDA provider", async () => {
    const err = await rejection(OnnxRuntime.load(MLP, { device: 'gpu' }));
    expect(err.code).toBe('FAILED_PRECONDITION');
    expect(err.message).toMatch(/^device 'gpu': onnxruntime's CUDA execution provider could not be loaded/);
  });

  it('refuses bad options before loading anything', async () => {
    expect((await rejection(OnnxRuntime.load(MLP, { replicas: 0 }))).message).toBe(
      'replicas: must be an integer from 1 to 64, got 0',
    );
    expect((await rejection(OnnxRuntime.load(MLP, { maxQueueDelayMs: -1 }))).message).toMatch(/^maxQueueDelayMs:/);
  });
});

describe('replicas', () => {
  it('scales up and down while requests are in flight without losing any', async () => {
    const expected = expectedOf('digits_mlp');
    const runtime = await OnnxRuntime.load(MLP, { maxBatchSize: 4, maxQueueDelayMs: 1 });
    try {
      const results: Promise<{ i: number; logits: Float32Array }>[] = [];
      const send = (count: number) => {
        for (let k = 0; k < count; k++) {
          const i = results.length % 32;
          results.push(
            runtime
              .infer({ x: rowsTensor([expected.X[i] as number[]], [64]) })
              .then((r) => ({ i, logits: r.outputs.logits?.data as Float32Array })),
          );
        }
      };
      send(60);
      const up = runtime.setReplicas(3);
      send(60);
      await up;
      expect(runtime.replicas).toBe(3);
      send(60);
      // Retiring replicas take no new work; what they run finishes before they exit.
      const down = runtime.setReplicas(1);
      send(60);
      await down;
      expect(runtime.replicas).toBe(1);
      send(20);
      const answers = await Promise.all(results);
      expect(answers).toHaveLength(260);
      for (const { i, logits } of answers) expect(maxDiff(logits, expected.logits[i] as number[])).toBeLessThan(1e-4);
      expect(runtime.stats()).toMatchObject({
        replicas: 1,
        requests: { ok: 260, failed: 0 },
        inFlight: 0,
        queueDepth: 0,
      });
    } finally {
      await runtime.close();
    }
  });

  it('replaces a replica whose thread dies', async () => {
    const lost: string[] = [];
    const pool = new ReplicaPool({
      file: MLP,
      label: 'ONNX',
      entry: 'onnx-replica',
      workerData: { file: MLP, device: 'cpu', intraOpNumThreads: 1, interOpNumThreads: 1 },
      onReplicaLost: (message) => lost.push(message),
    });
    try {
      await pool.resize(2);
      const victim = pool.idle();
      await victim?.worker.terminate();
      expect(lost[0]).toMatch(/^ONNX replica \d+ of '.*digits_mlp.onnx' exited with code 1$/);
      await waitFor(() => pool.size === 2 && pool.idle() !== victim, 20_000, 'a replacement replica');
      const replica = pool.idle();
      if (!replica) throw new Error('no idle replica');
      const x: TensorData = { dtype: 'float32', dims: [1, 64], data: new Float32Array(64) };
      expect((await pool.run(replica, { x }, null)).outputs.logits?.dims).toEqual([1, 10]);
    } finally {
      await pool.close();
    }
  });

  it('rejects queued requests clearly on close, lets the running batch finish, and refuses new ones', async () => {
    const runtime = await OnnxRuntime.load(MLP, { maxBatchSize: 2, maxQueueDelayMs: 10_000, batchWait: 'fixed' });
    const x: TensorData = { dtype: 'float32', dims: [1, 64], data: new Float32Array(64) };
    // The first two fill a batch and run; the other three wait for a second batch that never fills.
    const running = [runtime.infer({ x }), runtime.infer({ x })];
    const queued = [runtime.infer({ x }), runtime.infer({ x }), runtime.infer({ x })];
    // Handled now: they reject during close(), before this test awaits them.
    for (const q of queued) q.catch(() => undefined);
    expect(runtime.stats()).toMatchObject({ inFlight: 2, queueDepth: 3 });
    await runtime.close();
    for (const r of running) expect((await r).timing.ok).toBe(true);
    for (const q of queued) {
      const err = await rejection(q);
      expect(err.code).toBe('FAILED_PRECONDITION');
      expect(err.message).toBe(
        'the ONNX model was unloaded before the request ran (stopped, reloaded or deleted): send the request again',
      );
      expect(err.details).toMatchObject({ code: 'model_unloaded' });
    }
    expect((await rejection(runtime.infer({ x }))).message).toMatch(/^the ONNX model was unloaded \(stopped/);
    await expect(runtime.setReplicas(2)).rejects.toThrow(/was unloaded/);
    await runtime.close();
  });
});
