import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { readTableFile } from '#platform/builtin-training/tables';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import type { V2InferResponse, V2ModelMetadata } from '#shared/contracts/deploy-v2';
import { AppError } from '#shared/errors';

// ONNX deployments end to end: the digits MLP of the shared fixtures registered in ModelHub by upload and served
// over KServe's v2 protocol, and a tabular model trained by TrainOS's built-in trainer on iris served through
// `deployments.predict`, on a real core with real onnxruntime replica threads (1 intra-op thread each).
const MODELS = fixturePath('models');
const MLP = path.join(MODELS, 'digits_mlp.onnx');
const EXPECTED = JSON.parse(readFileSync(path.join(MODELS, 'digits_mlp.expected.json'), 'utf8')) as {
  X: number[][];
  logits: number[][];
};

let data: { dir: string; remove: () => void };
let t: TestCore;

async function register(name: string, file: string): Promise<number> {
  const bytes = readFileSync(file);
  const upload = await t.client.call('uploads.create', { filename: path.basename(file), size: bytes.length });
  await t.client.send('uploads.append', { id: upload.id, offset: 0 }, bytes);
  await t.client.call('models.create', { name }).catch((err: unknown) => {
    if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
  });
  return (await t.client.call('models.createVersion', { name, uploadId: upload.id })).version;
}

/** A v2 request: the status and the JSON body. */
async function v2(url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await t.request(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const inferBody = (rows: number[][], extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'x', shape: [rows.length, 64], datatype: 'FP32', data: rows }],
  ...extra,
});

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

beforeAll(async () => {
  data = tempDir('aidos-deploy-onnx-');
  t = await startTestCore({ dataDir: data.dir });
  await register('digits', MLP);
});

afterAll(async () => {
  await t?.close();
  data?.remove();
});

describe('ONNX deployments over the Open Inference Protocol (KServe v2)', () => {
  it('deploys a registered ONNX version and reproduces the expected logits through v2 infer', async () => {
    const d = await t.client.call('deployments.create', { model: 'digits', version: 1, name: 'digits' });
    expect(d).toMatchObject({
      name: 'digits',
      runtime: 'onnx',
      state: 'ready',
      placement: 'cpu',
      replicas: 1,
      modelKind: 'tensor',
      maxBatchSize: 32,
      source: { kind: 'model-version', model: 'digits', version: 1, format: 'onnx' },
    });
    expect(d.estimate?.ramBytes).toBeGreaterThan(0);
    const { status, body } = await v2('/v2/models/digits/infer', inferBody(EXPECTED.X, { id: 'r1' }));
    expect(status, JSON.stringify(body)).toBe(200);
    const response = body as unknown as V2InferResponse;
    expect(response).toMatchObject({ model_name: 'digits', model_version: '1', id: 'r1' });
    const logits = response.outputs[0];
    expect(logits).toMatchObject({ name: 'logits', shape: [32, 10], datatype: 'FP32' });
    const want = EXPECTED.logits.flat();
    const diff = Math.max(...(logits?.data as number[]).map((v, i) => Math.abs(v - (want[i] as number))));
    expect(diff).toBeLessThan(1e-4);
    // The versioned path, one row, nested data.
    const one = await v2('/v2/models/digits/versions/1/infer', inferBody([EXPECTED.X[3] as number[]]));
    expect(one.status).toBe(200);
    const row = (one.body as unknown as V2InferResponse).outputs[0]?.data as number[];
    expect(Math.max(...row.map((v, i) => Math.abs(v - (EXPECTED.logits[3]?.[i] as number))))).toBeLessThan(1e-4);
  });

  it('answers health, server and model metadata and model readiness', async () => {
    expect(await v2('/v2/health/live')).toEqual({ status: 200, body: { live: true } });
    expect(await v2('/v2/health/ready')).toEqual({ status: 200, body: { ready: true } });
    expect((await v2('/v2')).body).toMatchObject({ name: 'aidos', extensions: [] });
    for (const url of ['/v2/models/digits', '/v2/models/digits/versions/1']) {
      const { status, body } = await v2(url);
      expect(status).toBe(200);
      expect(body as V2ModelMetadata).toEqual({
        name: 'digits',
        versions: ['1'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 64] }],
        outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 10] }],
      });
    }
    expect(await v2('/v2/models/digits/ready')).toEqual({ status: 200, body: { name: 'digits', ready: true } });
  });

  it('refuses bad tensors with a 400 naming the input, unknown models and versions with a 404, in the protocol’s shape', async () => {
    const bad = async (body: unknown, field: RegExp) => {
      const r = await v2('/v2/models/digits/infer', body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(Object.keys(r.body)).toEqual(['error']);
      expect(r.body.error).toMatch(field);
    };
    await bad(
      { inputs: [{ name: 'x', shape: [1, 63], datatype: 'FP32', data: Array(63).fill(0) }] },
      /^inputs\.x: .*64/,
    );
    await bad(
      { inputs: [{ name: 'x', shape: [1, 64], datatype: 'INT32', data: Array(64).fill(0) }] },
      /^inputs\.x: .*float32/,
    );
    await bad(
      { inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: [1, 2] }] },
      /^inputs\.x\.data: .*64 elements, got 2/,
    );
    await bad(
      { inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: [...Array(63).fill(0), 'a'] }] },
      /^inputs\.x\.data\[63\]/,
    );
    await bad(
      { inputs: [{ name: 'pixels', shape: [1, 64], datatype: 'FP32', data: Array(64).fill(0) }] },
      /^inputs\.pixels: .*no input 'pixels'/,
    );
    await bad(
      { inputs: [{ name: 'x', shape: [40, 64], datatype: 'FP32', data: Array(40 * 64).fill(0) }] },
      /^inputs\.x: .*maxBatchSize of 32/,
    );
    await bad({ inputs: [] }, /^inputs: /);
    await bad({ ...inferBody([EXPECTED.X[0] as number[]]), outputs: [{ name: 'probs' }] }, /^outputs\.probs: /);

    const unknown = await v2('/v2/models/nope/infer', inferBody([EXPECTED.X[0] as number[]]));
    expect(unknown).toEqual({ status: 404, body: { error: expect.stringMatching(/model 'nope' is not served/) } });
    expect((await v2('/v2/models/nope')).status).toBe(404);
    const version = await v2('/v2/models/digits/versions/2/infer', inferBody([EXPECTED.X[0] as number[]]));
    expect(version).toEqual({
      status: 404,
      body: { error: "model 'digits' version '2' is not served (it serves version 1)" },
    });
    expect((await v2('/v2/models/digits/versions/2/ready')).status).toBe(404);
    expect(await v2('/v2/repository/index')).toMatchObject({ status: 404, body: { error: expect.any(String) } });
    const stranger = await v2('/v2/models/digits', undefined, { authorization: 'Bearer not-a-key' });
    expect(stranger).toMatchObject({ status: 401, body: { error: expect.any(String) } });
  });

  it('reads a JSON body sent without a content type, as tritonclient.http sends it; refuses the binary extension', async () => {
    const body = new TextEncoder().encode(JSON.stringify(inferBody([EXPECTED.X[0] as number[]])));
    const plain = await t.request('/v2/models/digits/infer', { method: 'POST', body });
    expect(plain.status).toBe(200);
    const binary = await t.request('/v2/models/digits/infer', {
      method: 'POST',
      headers: { 'inference-header-content-length': String(body.length), 'content-type': 'application/octet-stream' },
      body,
    });
    expect(binary.status).toBe(400);
    expect(((await binary.json()) as { error: string }).error).toMatch(/binary tensor extension is not supported/);
  });

  it('counts and logs an infer body that is not JSON as the error of the model its URL names', async () => {
    const before = (await t.client.call('deployments.stats', { deployment: 'digits' })).requests;
    const res = await t.request('/v2/models/digits/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs": [',
    });
    expect(res.status).toBe(400);
    const after = (await t.client.call('deployments.stats', { deployment: 'digits' })).requests;
    expect([after.total - before.total, after.errors - before.errors]).toEqual([1, 1]);
    const [entry] = (await t.client.call('deployments.logs', { deployment: 'digits', limit: 1 })).items;
    expect(entry).toMatchObject({ id: res.headers.get('x-aidos-request-id'), endpoint: 'infer', httpStatus: 400 });
    // A model no deployment has gets no series of its own.
    const stranger = await t.request('/v2/models/nobody/infer', { method: 'POST', body: 'x' });
    expect(stranger.status).toBe(400);
    expect(await (await t.request('/metrics')).text()).not.toContain('deployment="nobody"');
  });

  it('predicts tensors through deployments.predict, and counts and logs ONNX requests', async () => {
    const out = await t.client.call('deployments.predict', {
      deployment: 'digits',
      inputs: { x: { shape: [1, 64], data: EXPECTED.X[5] as number[] } },
    });
    expect(out).toMatchObject({ deployment: 'digits', modelVersion: 1, outputs: { logits: { shape: [1, 10] } } });
    // Its id in the request log comes back, and is what a ground-truth label refers to.
    expect(out.requestId).toMatch(/^[0-9A-Z]{26}$/);
    const labelled = await t.client.call('monitors.labels', {
      deployment: 'digits',
      labels: [{ requestId: out.requestId as string, value: 5 }],
    });
    expect(labelled).toEqual({ recorded: 1 });
    // v2 says it as the response's id when the client sent none (else it echoes the client's), and in a header.
    const answered = await t.request('/v2/models/digits/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inferBody([EXPECTED.X[0] as number[]])),
    });
    const { id } = (await answered.json()) as { id: string };
    expect(answered.headers.get('x-aidos-request-id')).toBe(id);
    expect((await t.client.call('deployments.logs', { deployment: 'digits', limit: 1 })).items[0]?.id).toBe(id);
    expect(
      (await v2('/v2/models/digits/infer', inferBody([EXPECTED.X[0] as number[]], { id: 'mine-1' }))).body.id,
    ).toBe('mine-1');
    const got = out.outputs?.logits?.data as number[];
    expect(Math.max(...got.map((v, i) => Math.abs(v - (EXPECTED.logits[5]?.[i] as number))))).toBeLessThan(1e-4);
    const rows = await appError(t.client.call('deployments.predict', { deployment: 'digits', rows: [{ a: 1 }] }));
    expect(rows).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(rows.message).toMatch(/^rows: 'digits' is not a tabular model/);

    const { items } = await t.client.call('deployments.logs', { deployment: 'digits', limit: 50 });
    expect(items.slice(0, 4)).toMatchObject([
      { endpoint: 'predict', status: 'error', httpStatus: 400 },
      { endpoint: 'infer', status: 'ok' },
      { endpoint: 'infer', status: 'ok' },
      { endpoint: 'predict', status: 'ok', modelVersion: 1 },
    ]);
    expect(items.find((e) => e.endpoint === 'infer' && e.status === 'ok')?.output).toMatch(/^\[\{"name":"logits"/);
    const refused = items.filter((e) => e.endpoint === 'infer' && e.httpStatus === 400).map((e) => e.error);
    expect(refused).toContain("inputs.pixels: the model has no input 'pixels' (its inputs: x)");
    const stats = await t.client.call('deployments.stats', { deployment: 'digits' });
    expect(stats).toMatchObject({ replicas: 1, inFlight: 0, queued: 0 });
    expect(stats.batches.total).toBeGreaterThanOrEqual(3);
    expect(stats.requests.errors).toBeGreaterThan(0);
    const metrics = await (await t.request('/metrics')).text();
    expect(metrics).toMatch(
      /aidos_deploy_requests_total\{deployment="digits",version="1",role="serving",endpoint="infer",outcome="ok"\} \d+/,
    );
    // Errors by the status the client got; latency is that of the answers only (one of the two predicts).
    expect(metrics).toMatch(
      /aidos_deploy_request_errors_total\{deployment="digits",version="1",role="serving",endpoint="predict",status="400"\} 1/,
    );
    expect(metrics).toMatch(
      /aidos_deploy_request_duration_seconds_count\{deployment="digits",version="1",role="serving",endpoint="predict"\} 1/,
    );
    // Buckets fine enough for a model that answers in well under a millisecond.
    expect(metrics).toMatch(
      /aidos_deploy_request_duration_seconds_bucket\{le="0.00025",deployment="digits",version="1",role="serving",endpoint="infer"\} \d+/,
    );
    expect(metrics).toMatch(/aidos_deploy_batch_size_rows_bucket\{le="32",deployment="digits"\} \d+/);
    expect(metrics).toMatch(/aidos_deploy_replicas\{deployment="digits",version="1"\} 1/);
  });

  it('autoscales up under concurrent load and back down when idle', async () => {
    const d = await t.client.call('deployments.create', {
      file: MLP,
      name: 'digits-auto',
      // Unbatched, so that 8 concurrent clients queue behind one replica.
      maxBatchSize: 0,
      minReplicas: 1,
      maxReplicas: 3,
      autoscaling: { intervalMs: 150, scaleUpQueueDepth: 0.05, scaleDownUtilization: 0.5 },
    });
    expect(d).toMatchObject({ state: 'ready', replicas: 1 });
    let stop = false;
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = c; !stop; i += 8) {
        const r = await v2('/v2/models/digits-auto/infer', inferBody([EXPECTED.X[i % 32] as number[]]));
        expect(r.status).toBe(200);
      }
    });
    try {
      await waitFor(
        async () =>
          (await t.client.call('deployments.stats', { deployment: 'digits-auto' })).replicas >= 2 ? true : undefined,
        20_000,
        'a scale-up',
      );
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const events = await waitFor(
      async () => {
        const { items } = await t.client.call('deployments.events', { deployment: 'digits-auto', limit: 50 });
        return items[0]?.message.startsWith('scaled down to 1 replica: ') ? items : undefined;
      },
      10_000,
      'the scale-down',
    );
    expect(events[0]?.message).toMatch(/^scaled down to 1 replica: (no requests|replicas busy)/);
    const messages = events.map((e) => e.message).reverse();
    expect(messages.find((m) => m.startsWith('scaled up to 2 replicas: mean queue depth'))).toBeDefined();
    expect((await t.client.call('deployments.get', { deployment: 'digits-auto' })).replicas).toBe(1);
    expect(events.every((e) => e.state === 'ready' || ['pending', 'loading'].includes(e.state))).toBe(true);
  });

  it('scales up when requests are refused with a full queue, though the queue never gets deep', async () => {
    await t.client.call('deployments.create', {
      file: MLP,
      name: 'digits-narrow',
      maxBatchSize: 0,
      maxQueue: 1,
      minReplicas: 1,
      maxReplicas: 2,
      // A queue of one request never reaches a mean depth of 50.
      autoscaling: { intervalMs: 200, scaleUpQueueDepth: 50 },
    });
    const statuses = new Set<number>();
    let stop = false;
    const clients = Array.from({ length: 16 }, async (_, c) => {
      for (let i = c; !stop; i += 16) {
        statuses.add((await v2('/v2/models/digits-narrow/infer', inferBody([EXPECTED.X[i % 32] as number[]]))).status);
      }
    });
    try {
      const up = await waitFor(
        async () => {
          const { items } = await t.client.call('deployments.events', { deployment: 'digits-narrow', limit: 10 });
          return items.find((e) => e.message.startsWith('scaled up to 2 replicas: '));
        },
        20_000,
        'a scale-up',
      );
      expect(up.message).toMatch(/^scaled up to 2 replicas: \d+ requests? refused with a full queue over \d+ ms$/);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect([...statuses].sort()).toEqual([200, 429]);
    await t.client.call('deployments.delete', { deployment: 'digits-narrow' });
  });

  it('changes the replica bounds of a loaded deployment at once (what aidos deployments scale does)', async () => {
    const up = await t.client.call('deployments.update', { deployment: 'digits-auto', minReplicas: 2, maxReplicas: 4 });
    expect(up).toMatchObject({ state: 'ready', minReplicas: 2, maxReplicas: 4, replicas: 2 });
    const down = await t.client.call('deployments.update', {
      deployment: 'digits-auto',
      minReplicas: 1,
      maxReplicas: 1,
    });
    expect(down).toMatchObject({ replicas: 1 });
    // The memory estimate covers the most replicas it may run: it follows the bounds.
    expect(up.estimate?.ramBytes).toBe(4 * (down.estimate?.ramBytes ?? 0));
    const events = (await t.client.call('deployments.events', { deployment: 'digits-auto', limit: 3 })).items;
    expect(events[0]?.message).toBe('scaled down to 1 replica: the replica bounds changed');
    // What cannot be changed (or is misspelt) is refused, not dropped while answering 200.
    for (const [body, key] of [
      [{ name: 'renamed' }, 'name'],
      [{ max_replicas: 3 }, 'max_replicas'],
    ] as const) {
      const res = await t.request('/api/v1/deployments/digits-auto', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`"${key}"`);
    }
    expect(await t.client.call('deployments.get', { deployment: 'digits-auto' })).toMatchObject({ maxReplicas: 1 });
    // A nested setting changes only the fields sent; a misspelt one inside is refused too.
    await t.client.call('deployments.update', {
      deployment: 'digits-auto',
      autoscaling: { intervalMs: 2000, scaleUpQueueDepth: 7 },
    });
    const nested = await t.client.call('deployments.update', {
      deployment: 'digits-auto',
      autoscaling: { scaleDownUtilization: 0.5 },
    });
    expect(nested.autoscaling).toEqual({
      intervalMs: 2000,
      scaleUpQueueDepth: 7,
      scaleUpP95Ms: null,
      scaleDownUtilization: 0.5,
    });
    const misspelt = await t.request('/api/v1/deployments/digits-auto', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestLog: { sampleRte: 0 } }),
    });
    expect(misspelt.status).toBe(400);
    expect(((await misspelt.json()) as { error: { message: string } }).error.message).toContain('"sampleRte"');
    // PATCHes sent at once each keep the others' changes (a new file is read before it is stored: the others
    // come meanwhile).
    await Promise.all([
      t.client.call('deployments.update', { deployment: 'digits-auto', file: MLP }),
      t.client.call('deployments.update', { deployment: 'digits-auto', maxQueue: 10 }),
      t.client.call('deployments.update', { deployment: 'digits-auto', requestLog: { sampleRate: 0.1 } }),
      t.client.call('deployments.update', { deployment: 'digits-auto', idleUnloadSeconds: 100 }),
    ]);
    expect(await t.client.call('deployments.get', { deployment: 'digits-auto' })).toMatchObject({
      maxQueue: 10,
      requestLog: { sampleRate: 0.1, maxChars: 4096 },
      idleUnloadSeconds: 100,
    });
    await t.client.call('deployments.delete', { deployment: 'digits-auto' });
  });

  it('keeps RAM for the replicas a loaded deployment may add: a second load or a raise that needs it is refused', async () => {
    const roomy = await t.client.call('deployments.create', {
      file: MLP,
      name: 'roomy',
      minReplicas: 1,
      maxReplicas: 4,
      threads: 1,
    });
    const perReplica = (roomy.estimate?.ramBytes as number) / 4;
    // Free: the 3 replicas roomy may add, and 1.5 more.
    const freemem = vi.spyOn(os, 'freemem').mockReturnValue(Math.round(4.5 * perReplica));
    try {
      const second = await appError(
        t.client.call('deployments.create', { file: MLP, name: 'second', maxReplicas: 2, threads: 1 }),
      );
      expect(second).toMatchObject({ code: 'RESOURCE_EXHAUSTED', httpStatus: 503 });
      expect(second.message).toMatch(
        /is available \(.* of the .* free is kept for loaded deployments scaling up to their maxReplicas\); lower maxReplicas, or free memory$/,
      );
      expect((await t.client.call('deployments.list')).items.map((d) => d.name)).not.toContain('second');
      await t.client.call('deployments.create', { file: MLP, name: 'second', maxReplicas: 1, threads: 1 });

      // Raising the bounds of the loaded one: 4 more replicas do not fit in what is left, one does.
      const raise = await t.request('/api/v1/deployments/roomy', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ maxReplicas: 8 }),
      });
      expect(raise.status).toBe(503);
      const body = (await raise.json()) as { error: { message: string; details: unknown } };
      expect(body.error.message).toMatch(/^maxReplicas: 8 replicas of 'roomy' need about .* more than 4 did/);
      expect(body.error.details).toMatchObject({ code: 'insufficient_memory', field: 'maxReplicas' });
      expect(await t.client.call('deployments.get', { deployment: 'roomy' })).toMatchObject({
        maxReplicas: 4,
        replicas: 1,
        estimate: { ramBytes: roomy.estimate?.ramBytes },
      });
      const five = await t.client.call('deployments.update', { deployment: 'roomy', maxReplicas: 5 });
      expect(five).toMatchObject({ maxReplicas: 5, estimate: { ramBytes: 5 * perReplica } });
    } finally {
      freemem.mockRestore();
      await t.client.call('deployments.delete', { deployment: 'roomy' });
      await t.client.call('deployments.delete', { deployment: 'second' }).catch(() => undefined);
    }
  });

  it('scales to zero after the idle timeout and cold-starts on the next request', async () => {
    const idle = await t.client.call('deployments.create', {
      file: MLP,
      name: 'digits-idle',
      minReplicas: 0,
      idleUnloadSeconds: 1,
    });
    expect(idle).toMatchObject({ state: 'pending', replicas: null });
    // Scaled to zero still counts as ready: the next request loads it.
    expect((await v2('/v2/models/digits-idle/ready')).status).toBe(200);
    expect((await v2('/v2/models/digits-idle')).body).toMatchObject({ inputs: [{ name: 'x' }] });
    expect((await v2('/v2/models/digits-idle/infer', inferBody([EXPECTED.X[0] as number[]]))).status).toBe(200);
    expect(await t.client.call('deployments.get', { deployment: 'digits-idle' })).toMatchObject({
      state: 'ready',
      replicas: 1,
    });
    await waitFor(
      async () => (await t.client.call('deployments.get', { deployment: 'digits-idle' })).state === 'idle-unloaded',
      5000,
      'the idle unload',
    );
    expect((await t.client.call('deployments.stats', { deployment: 'digits-idle' })).replicas).toBe(0);
    // Scaled to zero, it is still in /metrics: no replicas, and its state.
    const metrics = async () => (await t.request('/metrics')).text();
    const zero = await metrics();
    expect(zero).toMatch(/^aidos_deploy_replicas\{deployment="digits-idle",version="file"\} 0$/m);
    expect(zero).toMatch(/^aidos_deploy_state\{deployment="digits-idle",state="idle-unloaded"\} 1$/m);
    expect(zero).toMatch(/^aidos_deploy_state\{deployment="digits-idle",state="ready"\} 0$/m);
    const cold = await v2('/v2/models/digits-idle/infer', inferBody([EXPECTED.X[1] as number[]]));
    expect(cold.status).toBe(200);
    // Both loads, the cold start's included, are counted and timed.
    const loaded = await metrics();
    expect(loaded).toMatch(/^aidos_deploy_loads_total\{deployment="digits-idle",outcome="ok"\} 2$/m);
    expect(loaded).toMatch(/^aidos_deploy_load_duration_seconds_count\{deployment="digits-idle"\} 2$/m);
    expect(loaded).toMatch(/^aidos_deploy_replicas\{deployment="digits-idle",version="file"\} 1$/m);
    const events = await t.client.call('deployments.events', { deployment: 'digits-idle', limit: 50 });
    expect(events.items.map((e) => e.state).reverse()).toEqual([
      'pending',
      'loading',
      'ready',
      'idle-unloaded',
      'loading',
      'ready',
    ]);
  });

  it('keeps a truncated ONNX file as a failed deployment that says why', async () => {
    const cut = path.join(data.dir, 'cut.onnx');
    writeFileSync(cut, readFileSync(MLP).subarray(0, 2000));
    const failed = await t.client.call('deployments.create', { file: cut });
    expect(failed).toMatchObject({ name: 'cut', state: 'failed', runtime: 'onnx' });
    expect(failed.reason).toMatch(/cut\.onnx' is not a readable ONNX model/);
    const r = await v2('/v2/models/cut/infer', inferBody([EXPECTED.X[0] as number[]]));
    expect(r).toMatchObject({ status: 409, body: { error: expect.stringMatching(/deployment 'cut' failed/) } });
    // What an alert on failed deployments reads.
    expect(await (await t.request('/metrics')).text()).toMatch(
      /^aidos_deploy_state\{deployment="cut",state="failed"\} 1$/m,
    );
    // A serving file deployment given the broken file refuses it and goes on serving the one it has.
    await t.client.call('deployments.create', { file: MLP, name: 'served-file' });
    const refused = await t.client
      .call('deployments.update', { deployment: 'served-file', file: cut })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'file' } });
    expect((refused as Error).message).toMatch(/cut\.onnx cannot be served: .*'served-file' goes on with file .*mlp/);
    expect(await t.client.call('deployments.get', { deployment: 'served-file' })).toMatchObject({
      state: 'ready',
      source: { path: MLP },
    });
    expect((await v2('/v2/models/served-file/infer', inferBody([EXPECTED.X[0] as number[]]))).status).toBe(200);
    // Its metadata cannot be read either: the deployment's state, not a bad request.
    expect(await v2('/v2/models/cut')).toMatchObject({
      status: 409,
      body: { error: expect.stringMatching(/model 'cut' failed: .*not a readable ONNX model/) },
    });
  });
});

describe('a deployment deleted while requests keep coming', () => {
  it('answers them 200, 404 or 409 (never 500), and leaves no model loaded', async () => {
    const threads = () => readdirSync('/proc/self/task').length;
    // Once without traffic first: the threads the process keeps after its first load (libuv's pool) count too.
    await t.client.call('deployments.create', { file: MLP, name: 'doomed', threads: 1 });
    await t.client.call('deployments.delete', { deployment: 'doomed' });
    const before = threads();
    const statuses = new Set<number>();
    for (let cycle = 0; cycle < 10; cycle++) {
      await t.client.call('deployments.create', { file: MLP, name: 'doomed', threads: 1 });
      let stop = false;
      const clients = Array.from({ length: 8 }, async () => {
        while (!stop)
          statuses.add((await v2('/v2/models/doomed/infer', inferBody([EXPECTED.X[0] as number[]]))).status);
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await t.client.call('deployments.delete', { deployment: 'doomed' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      stop = true;
      await Promise.all(clients);
    }
    expect(
      [...statuses].every((s) => s === 200 || s === 404 || s === 409),
      [...statuses].join(', '),
    ).toBe(true);
    // A model loaded for the deleted deployment would keep its replica thread.
    await waitFor(
      async () => (threads() <= before ? true : undefined),
      5_000,
      `the replica threads to end (${before})`,
    );
  });
});

describe('an ONNX file not named .onnx', () => {
  it('is served when runtime onnx says what it is, and refused with that hint otherwise', async () => {
    const renamed = path.join(data.dir, 'digits.bin');
    writeFileSync(renamed, readFileSync(MLP));
    const refused = await t.client.call('deployments.create', { file: renamed }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'file' } });
    expect((refused as Error).message).toMatch(/known by its \.onnx name, or by runtime 'onnx'/);
    const d = await t.client.call('deployments.create', { file: renamed, runtime: 'onnx', name: 'renamed' });
    expect(d).toMatchObject({ state: 'ready', runtime: 'onnx', source: { format: 'onnx' } });
    expect((await v2('/v2/models/renamed/infer', inferBody([EXPECTED.X[0] as number[]]))).status).toBe(200);
    await t.client.call('deployments.delete', { deployment: 'renamed' });
  });
});

describe('a tabular model trained by TrainOS, predicted from JSON rows', { timeout: 180_000 }, () => {
  const iris = readTableFile(fixturePath('data', 'iris.csv'));
  const rows = iris.rows.map((row) =>
    Object.fromEntries(iris.columns.map((c, i) => [c, c === 'species' ? row[i] : Number(row[i])])),
  );

  beforeAll(async () => {
    const imported = await t.client.call('datasets.import', {
      dataset: 'iris',
      path: fixturePath('data', 'iris.csv'),
      create: true,
    });
    await waitFor(
      async () =>
        ['succeeded', 'failed'].includes((await t.client.call('jobs.get', { id: imported.id })).status) || undefined,
      60_000,
      'the import',
    );
    const job = await t.client.call('trainingJobs.submit', {
      kind: 'builtin',
      datasets: [{ dataset: 'iris' }],
      trainer: { kind: 'tabular-classifier', target: 'species', epochs: 30, learningRate: 0.02 },
    });
    const done = await waitFor(
      async () => {
        const j = await t.client.call('trainingJobs.get', { job: job.id });
        return j.state !== 'queued' && j.state !== 'running' ? j : undefined;
      },
      150_000,
      'the training job',
    );
    expect(done.state, done.reason ?? '').toBe('succeeded');
  }, 180_000);

  it('deploys the registered version with its preprocessing and predicts the labels of iris (accuracy > 0.8)', async () => {
    const d = await t.client.call('deployments.create', { model: 'iris-tabular-classifier', version: 1, name: 'iris' });
    expect(d).toMatchObject({ state: 'ready', runtime: 'onnx', modelKind: 'tabular-classifier' });
    expect(d.source.preprocessing?.path).toBeTruthy();
    // The columns a row needs (the page's example request shows them).
    expect([...(d.inputColumns ?? [])].sort()).toEqual(['petal_length', 'petal_width', 'sepal_length', 'sepal_width']);
    const { predictions, modelVersion } = await t.client.call('deployments.predict', { deployment: 'iris', rows });
    expect(modelVersion).toBe(1);
    expect(predictions).toHaveLength(150);
    let right = 0;
    predictions?.forEach((p, i) => {
      if (!('label' in p)) throw new Error('a classifier answered without a label');
      expect(Object.values(p.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      if (p.label === rows[i]?.species) right++;
    });
    expect(right / 150).toBeGreaterThan(0.8);
    // The tensor route serves the same model.
    const meta = await v2('/v2/models/iris/versions/1');
    expect(meta.body).toMatchObject({ inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }] });
  });

  it('refuses a row without a feature column with a 400 naming it', async () => {
    const { petal_width: _dropped, ...partial } = rows[0] as Record<string, unknown>;
    const err = await appError(
      t.client.call('deployments.predict', { deployment: 'iris', rows: [rows[1] as Record<string, unknown>, partial] }),
    );
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(err.message).toBe('rows[1].petal_width: missing; give null for a value that is not known');
    const typo = await appError(
      t.client.call('deployments.predict', { deployment: 'iris', rows: [{ ...partial, petal_widht: 1 }] }),
    );
    expect(typo.message).toMatch(/^rows\[0\]\.petal_widht: not a column of this model/);
  });
});
