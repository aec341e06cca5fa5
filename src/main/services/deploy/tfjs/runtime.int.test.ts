import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { saveHandler } from '#platform/tfjs-serving/io';
import { tempDir } from '#platform/testing';
import { AppError } from '#shared/errors';
import { TfjsRuntime } from './runtime';

// TfjsRuntime on its own: real replica threads loading a TF.js model saved by TF.js itself. A model of two inputs
// and two outputs, so that names, order and the split of batched outputs are checked.
let data: { dir: string; remove: () => void };
let file: string;
let model: tf.LayersModel;

const row = (a: number[], b: number[]): Record<string, TensorData> => ({
  a: { dtype: 'float32', dims: [1, 2], data: new Float32Array(a) },
  b: { dtype: 'float32', dims: [1, 3], data: new Float32Array(b) },
});

async function expected(a: number[], b: number[]): Promise<{ sum: number[]; joined: number[] }> {
  const [sum, joined] = model.predict([tf.tensor2d([a]), tf.tensor2d([b])]) as tf.Tensor[];
  return { sum: [...(await sum!.data())], joined: [...(await joined!.data())] };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  data = tempDir('aidos-tfjs-runtime-');
  const a = tf.input({ shape: [2], name: 'a' });
  const b = tf.input({ shape: [3], name: 'b' });
  const joined = tf.layers.concatenate({ name: 'joined' }).apply([a, b]) as tf.SymbolicTensor;
  const sum = tf.layers.dense({ units: 1, name: 'sum', kernelInitializer: 'ones' }).apply(joined) as tf.SymbolicTensor;
  model = tf.model({ inputs: [a, b], outputs: [sum, joined] });
  await model.save(saveHandler(tf, path.join(data.dir, 'two')));
  file = path.join(data.dir, 'two', 'model.json');
});

afterAll(() => data?.remove());

describe('TfjsRuntime', () => {
  it('serves a model of several inputs and outputs, batching concurrent requests and splitting their outputs', async () => {
    const runtime = await TfjsRuntime.load(file, { replicas: 1, maxBatchSize: 8, maxQueueDelayMs: 50 });
    try {
      expect(runtime.signature).toMatchObject({
        inputs: [
          { name: 'a', dtype: 'float32', shape: [null, 2] },
          { name: 'b', dtype: 'float32', shape: [null, 3] },
        ],
        outputs: [
          { name: 'sum', dtype: 'float32', shape: [null, 1] },
          { name: 'joined', dtype: 'float32', shape: [null, 5] },
        ],
        batchable: true,
      });
      const rows = Array.from({ length: 6 }, (_, i) => [
        [i, i + 0.5],
        [1, -i, 2],
      ]);
      const results = await Promise.all(rows.map(([a, b]) => runtime.infer(row(a!, b!))));
      for (const [i, result] of results.entries()) {
        const want = await expected(rows[i]![0]!, rows[i]![1]!);
        expect(result.outputs.sum?.dims).toEqual([1, 1]);
        expect([...(result.outputs.sum?.data as Float32Array)][0]).toBeCloseTo(want.sum[0]!, 5);
        expect([...(result.outputs.joined?.data as Float32Array)]).toEqual(want.joined);
      }
      // One run of six rows: they all waited for each other within maxQueueDelayMs.
      expect(runtime.stats()).toMatchObject({ batches: 1, batchSizes: { '6': 1 }, requests: { ok: 6 } });
      const only = await runtime.infer(row([1, 2], [3, 4, 5]), { outputs: ['joined'] });
      expect(Object.keys(only.outputs)).toEqual(['joined']);
      await expect(runtime.infer(row([1, 2], [3, 4, 5]), { outputs: ['nope'] })).rejects.toThrow(
        /^outputs\.nope: the model has no output 'nope' \(its outputs: sum, joined\)/,
      );
      await expect(runtime.infer({ a: row([1, 2], [3, 4, 5]).a! })).rejects.toThrow(/^inputs\.b: missing/);
    } finally {
      await runtime.close();
    }
  });

  it("sends a partial batch as soon as arrivals stop (the adaptive wait), or after maxQueueDelayMs with 'fixed'", async () => {
    const adaptive = await TfjsRuntime.load(file, { maxBatchSize: 8, maxQueueDelayMs: 10_000 });
    const fixed = await TfjsRuntime.load(file, { maxBatchSize: 8, maxQueueDelayMs: 400, batchWait: 'fixed' });
    try {
      const alone = await adaptive.infer(row([1, 2], [3, 4, 5]));
      expect(alone.timing).toMatchObject({ ok: true, batchRows: 1 });
      expect(alone.timing.queueMs).toBeLessThan(1000);
      const waited = await fixed.infer(row([1, 2], [3, 4, 5]));
      expect(waited.timing).toMatchObject({ ok: true, batchRows: 1 });
      expect(waited.timing.queueMs).toBeGreaterThanOrEqual(390);
    } finally {
      await Promise.all([adaptive.close(), fixed.close()]);
    }
  });

  it('scales its replicas, and refuses work once closed', async () => {
    const runtime = await TfjsRuntime.load(file);
    expect(runtime.replicas).toBe(1);
    await runtime.setReplicas(2);
    expect(runtime.replicas).toBe(2);
    expect(runtime.stats()).toMatchObject({ replicas: 2, busyReplicas: 0 });
    await runtime.setReplicas(1);
    expect(runtime.replicas).toBe(1);
    const answered = await runtime.infer(row([1, 1], [1, 1, 1]));
    expect([...(answered.outputs.sum?.data as Float32Array)][0]).toBeCloseTo(5, 5);
    await runtime.close();
    const refused = await runtime.infer(row([1, 1], [1, 1, 1])).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/was unloaded/) });
  });

  it('fails to load a missing model.json with NOT_FOUND naming it', async () => {
    const missing = path.join(data.dir, 'none', 'model.json');
    await expect(TfjsRuntime.load(missing)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: `TF.js model '${missing}' does not exist`,
    });
  });
});
