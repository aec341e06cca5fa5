import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { saveHandler, WEIGHTS_SHARD } from '#platform/tfjs-serving/io';
import { tempDir } from '#platform/testing';
import type { V2InferResponse, V2ModelMetadata } from '#shared/contracts/deploy-v2';
import { AppError } from '#shared/errors';

// TF.js deployments end to end: a small TF.js layers model (4 features → 8 relu → 3 softmax, fixed weights) saved
// as model.json + weight shard, registered in ModelHub from a run's artifacts and served by TF.js replica threads
// (wasm backend) on a real core. Its answers must equal TF.js's own `model.predict` (cpu backend, in this process).
let data: { dir: string; remove: () => void };
let t: TestCore;
const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
let modelDir: string;
const X = [
  [5.1, 3.5, 1.4, 0.2],
  [6.2, 2.9, 4.3, 1.3],
  [7.7, 3.0, 6.1, 2.3],
  [0, 0, 0, 0],
  [-1.5, 2.25, -0.5, 4],
  [4.4, 3.2, 1.3, 0.2],
];
let expected: number[][];

/** Deterministic weights, so the model is the same on every run. */
const fixed = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: n }, (_, i) => Math.sin((i + 1) * seed) * 0.6),
    shape,
  );
};

function buildModel(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }),
    ],
  });
  model.setWeights([fixed([4, 8], 0.37), fixed([8], 1.3), fixed([8, 3], 0.71), fixed([3], 2.1)]);
  return model;
}

/**
 * A graph model as tensorflowjs_converter writes one for a frozen graph (no signature, so the outputs' dtypes and
 * shapes are not stated): softmax(x·W + b), 4 features to 3 classes, W and b in one shard.
 */
function writeGraphModel(dir: string, W: number[], B: number[]): string {
  mkdirSync(dir, { recursive: true });
  const float = { type: 'DT_FLOAT' };
  const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const constant = (shape: number[]) => ({
    dtype: float,
    value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(...shape) } },
  });
  const json = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'written by this test',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(-1, 4) } } },
        { name: 'w', op: 'Const', attr: constant([4, 3]) },
        { name: 'b', op: 'Const', attr: constant([3]) },
        {
          name: 'logits',
          op: 'MatMul',
          input: ['x', 'w'],
          attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
        },
        { name: 'biased', op: 'BiasAdd', input: ['logits', 'b'], attr: { T: float } },
        { name: 'probs', op: 'Softmax', input: ['biased'], attr: { T: float } },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'w', shape: [4, 3], dtype: 'float32' },
          { name: 'b', shape: [3], dtype: 'float32' },
        ],
      },
    ],
  };
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(new Float32Array([...W, ...B]).buffer));
  return path.join(dir, 'model.json');
}

/** `aidos --json <args>` against the test core's data dir, with `input` on stdin. */
function aidosJson(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--data-dir', t.core.dataDir, '--json', ...args], {
      env: { ...process.env, AIDOS_URL: '', AIDOS_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function v2(url: string, body?: unknown) {
  const res = await t.request(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const inferBody = (rows: number[][]) => ({
  inputs: [{ name: 'hidden_input', shape: [rows.length, 4], datatype: 'FP32', data: rows }],
});

function maxDiff(got: number[], want: number[]): number {
  expect(got).toHaveLength(want.length);
  return Math.max(...got.map((v, i) => Math.abs(v - (want[i] as number))));
}

/** A copy of the saved model in a folder of its own, to be damaged by the test. */
function copyModel(name: string): string {
  const dir = path.join(data.dir, name);
  mkdirSync(dir);
  for (const f of ['model.json', WEIGHTS_SHARD]) copyFileSync(path.join(modelDir, f), path.join(dir, f));
  return dir;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  data = tempDir('aidos-deploy-tfjs-');
  modelDir = path.join(data.dir, 'saved');
  const model = buildModel();
  await model.save(saveHandler(tf, modelDir));
  const predicted = model.predict(tf.tensor2d(X)) as tf.Tensor;
  expected = (await predicted.array()) as number[][];
  t = await startTestCore({ dataDir: path.join(data.dir, 'core') });

  // Registered from a run's artifacts: the folder `model/` holds model.json and its shard.
  const res = await t.request('/api/2.0/mlflow/runs/create', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id: '0', run_name: 'tfjs' }),
  });
  const runId = ((await res.json()) as { run: { info: { run_id: string } } }).run.info.run_id;
  for (const f of ['model.json', WEIGHTS_SHARD]) {
    const put = await t.request(`/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/model/${f}`, {
      method: 'PUT',
      body: readFileSync(path.join(modelDir, f)),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(200);
  }
  await t.client.call('models.create', { name: 'flowers' });
  const version = await t.client.call('models.createVersion', { name: 'flowers', runId, artifactPath: 'model' });
  expect(version).toMatchObject({ version: 1, format: 'tfjs' });
});

afterAll(async () => {
  await t?.close();
  data?.remove();
});

describe('TF.js deployments', () => {
  it('deploys a registered TF.js version and answers v2 infer as TF.js predicts', async () => {
    const d = await t.client.call('deployments.create', {
      model: 'flowers',
      version: 1,
      name: 'flowers',
      maxQueueDelayMs: 20,
    });
    expect(d).toMatchObject({
      name: 'flowers',
      runtime: 'tfjs',
      state: 'ready',
      replicas: 1,
      modelKind: 'tensor',
      source: { kind: 'model-version', model: 'flowers', version: 1, format: 'tfjs' },
    });
    expect(d.estimate?.ramBytes).toBeGreaterThan(64 * 1024 * 1024);
    const { status, body } = await v2('/v2/models/flowers/infer', inferBody(X));
    expect(status, JSON.stringify(body)).toBe(200);
    const response = body as unknown as V2InferResponse;
    expect(response).toMatchObject({ model_name: 'flowers', model_version: '1' });
    expect(response.outputs[0]).toMatchObject({ name: 'probs', shape: [X.length, 3], datatype: 'FP32' });
    expect(maxDiff(response.outputs[0]?.data as number[], expected.flat())).toBeLessThan(1e-5);
  });

  it('gives the model’s own signature as v2 metadata', async () => {
    for (const url of ['/v2/models/flowers', '/v2/models/flowers/versions/1']) {
      const { status, body } = await v2(url);
      expect(status).toBe(200);
      expect(body as V2ModelMetadata).toMatchObject({
        name: 'flowers',
        versions: ['1'],
        inputs: [{ name: 'hidden_input', datatype: 'FP32', shape: [-1, 4] }],
        outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 3] }],
      });
    }
    expect(await v2('/v2/models/flowers/ready')).toEqual({ status: 200, body: { name: 'flowers', ready: true } });
  });

  it('predicts tensors through deployments.predict', async () => {
    const out = await t.client.call('deployments.predict', {
      deployment: 'flowers',
      inputs: { hidden_input: { shape: [1, 4], data: X[2] as number[] } },
    });
    expect(out).toMatchObject({ deployment: 'flowers', modelVersion: 1, outputs: { probs: { shape: [1, 3] } } });
    expect(maxDiff(out.outputs?.probs?.data as number[], expected[2] as number[])).toBeLessThan(1e-5);
    const rows = await t.client
      .call('deployments.predict', { deployment: 'flowers', rows: [{ a: 1 }] })
      .catch((e) => e);
    expect(rows).toBeInstanceOf(AppError);
    expect((rows as AppError).message).toMatch(/^rows: 'flowers' is not a tabular model/);
  });

  it('predicts from the CLI: aidos predict with tensors by name', async () => {
    const r = await aidosJson(
      ['predict', 'flowers'],
      JSON.stringify({ inputs: { hidden_input: { shape: [1, 4], data: X[4] } } }),
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { outputs: { probs: { data: number[] } } };
    expect(maxDiff(out.outputs.probs.data, expected[4] as number[])).toBeLessThan(1e-5);
  });

  it('batches concurrent requests, each answered with its own row', async () => {
    const before = await t.client.call('deployments.stats', { deployment: 'flowers' });
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) => v2('/v2/models/flowers/infer', inferBody([X[i % X.length] as number[]]))),
    );
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      const got = (a.body as unknown as V2InferResponse).outputs[0]?.data as number[];
      expect(maxDiff(got, expected[i % X.length] as number[])).toBeLessThan(1e-5);
    });
    const after = await t.client.call('deployments.stats', { deployment: 'flowers' });
    const batches = after.batches.total - before.batches.total;
    // 24 requests in fewer runs of the model: several rode in one batch.
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(24);
  });

  it('refuses a wrong shape, dtype or input name with a 400 naming the input', async () => {
    const bad = async (body: unknown, message: RegExp) => {
      const r = await v2('/v2/models/flowers/infer', body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error).toMatch(message);
    };
    await bad(
      { inputs: [{ name: 'hidden_input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
      /^inputs\.hidden_input: dimension 1 must be 4/,
    );
    await bad(
      { inputs: [{ name: 'hidden_input', shape: [1, 4], datatype: 'INT32', data: [1, 2, 3, 4] }] },
      /^inputs\.hidden_input: .*float32/,
    );
    await bad(
      { inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
      /^inputs\.features: the model has no input 'features'/,
    );
    // The model still answers afterwards.
    expect((await v2('/v2/models/flowers/infer', inferBody([X[0] as number[]]))).status).toBe(200);
  });

  it('stops and starts again', async () => {
    expect((await t.client.call('deployments.stop', { deployment: 'flowers' })).state).toBe('stopped');
    const stopped = await v2('/v2/models/flowers/infer', inferBody([X[1] as number[]]));
    expect(stopped.status).toBe(409);
    expect((await t.client.call('deployments.start', { deployment: 'flowers' })).state).toBe('ready');
    const again = await v2('/v2/models/flowers/infer', inferBody([X[1] as number[]]));
    expect(again.status).toBe(200);
    expect(
      maxDiff((again.body as unknown as V2InferResponse).outputs[0]?.data as number[], expected[1] as number[]),
    ).toBeLessThan(1e-5);
  });

  it('serves a model.json given as a file, and keeps damaged ones as failed deployments that say why', async () => {
    const file = path.join(copyModel('good'), 'model.json');
    const good = await t.client.call('deployments.create', { file, name: 'flowers-file' });
    expect(good).toMatchObject({ runtime: 'tfjs', state: 'ready', source: { kind: 'file', format: 'tfjs' } });
    const answer = await v2('/v2/models/flowers-file/infer', inferBody(X));
    expect(
      maxDiff((answer.body as unknown as V2InferResponse).outputs[0]?.data as number[], expected.flat()),
    ).toBeLessThan(1e-5);

    const corrupt = path.join(copyModel('corrupt'), 'model.json');
    writeFileSync(corrupt, readFileSync(corrupt, 'utf8').slice(0, 200));
    const noShard = copyModel('no-shard');
    rmSync(path.join(noShard, WEIGHTS_SHARD));
    const short = copyModel('short-shard');
    truncateSync(path.join(short, WEIGHTS_SHARD), 40);
    const cases: [string, string, RegExp][] = [
      ['corrupt', corrupt, /model\.json' is not valid JSON/],
      ['no-shard', path.join(noShard, 'model.json'), /is missing its weight shard 'group1-shard1of1\.bin'/],
      ['short-shard', path.join(short, 'model.json'), /has 40 bytes of weight shards where its manifest needs 268/],
    ];
    for (const [name, modelJson, reason] of cases) {
      const failed = await t.client.call('deployments.create', { file: modelJson, name });
      expect(failed).toMatchObject({ name, state: 'failed', runtime: 'tfjs' });
      expect(failed.reason).toMatch(reason);
      const r = await v2(`/v2/models/${name}/infer`, inferBody([X[0] as number[]]));
      expect(r.status).toBe(409);
    }
    // The core still serves the good ones.
    expect((await v2('/v2/models/flowers/infer', inferBody([X[0] as number[]]))).status).toBe(200);
  });

  it('serves a TF.js graph model, finding the shapes its model.json does not state', async () => {
    const W = Array.from({ length: 12 }, (_, i) => Math.cos(i + 1) * 0.5);
    const B = [0.1, -0.2, 0.05];
    const file = writeGraphModel(path.join(data.dir, 'graph'), W, B);
    const want = (await tf
      .softmax(tf.matMul(tf.tensor2d(X), tf.tensor2d(W, [4, 3])).add(tf.tensor1d(B)))
      .array()) as number[][];
    const d = await t.client.call('deployments.create', { file, name: 'graph' });
    expect(d, d.reason ?? '').toMatchObject({ runtime: 'tfjs', state: 'ready' });
    const meta = await v2('/v2/models/graph');
    expect(meta.body).toMatchObject({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 3] }],
    });
    const answer = await v2('/v2/models/graph/infer', {
      inputs: [{ name: 'x', shape: [X.length, 4], datatype: 'FP32', data: X }],
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(maxDiff((answer.body as unknown as V2InferResponse).outputs[0]?.data as number[], want.flat())).toBeLessThan(
      1e-5,
    );
  });
});
