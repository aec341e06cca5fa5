import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, waitFor } from '#platform/testing';
import type { Benchmark } from '#shared/contracts/evalkit-evaluations';
import type { EvalkitService } from '../contract';

// Real deployments (onnxruntime on digits_mlp.onnx, node-llama-cpp on the tiny llama) loaded over the core's HTTP API.

let t: TestCore;

async function register(model: string, file: string): Promise<void> {
  const bytes = readFileSync(fixturePath('models', file));
  const upload = await t.client.call('uploads.create', { filename: file, size: bytes.length });
  await t.client.send('uploads.append', { id: upload.id, offset: 0 }, bytes);
  await t.client.call('models.create', { name: model }).catch(() => undefined);
  await t.client.call('models.createVersion', { name: model, uploadId: upload.id, aliases: [] });
}

const finished = (id: string) =>
  waitFor(
    async () => {
      const b = await t.client.call('benchmarks.get', { id });
      return b.state === 'succeeded' || b.state === 'failed' ? b : undefined;
    },
    60_000,
    `benchmark ${id}`,
  );

beforeAll(async () => {
  t = await startTestCore();
  await register('digits', 'digits_mlp.onnx');
  await t.client.call('deployments.create', { model: 'digits', version: 1, name: 'digits' });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('deployment load benchmarks', { timeout: 120_000 }, () => {
  it('loads an ONNX deployment through KServe v2 infer and reports throughput and latency percentiles', async () => {
    const res = await t.request('/api/v1/benchmarks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: 'digits', concurrency: 2, durationSeconds: 1 }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Benchmark;
    expect(created).toMatchObject({
      state: 'queued',
      runtime: 'onnx',
      endpoint: '/v2/models/digits/versions/1/infer',
      model: 'digits',
      modelVersion: 1,
    });
    const before = (await t.client.call('deployments.stats', { deployment: 'digits' })).requests.total;
    const done = await finished(created.id);
    expect(done, done.reason ?? '').toMatchObject({ state: 'succeeded', errors: 0, firstError: null });
    const requests = done.requests as number;
    expect(requests).toBeGreaterThan(10);
    // Every request reached the deployment over HTTP: the timed ones and the warm-up.
    const after = (await t.client.call('deployments.stats', { deployment: 'digits' })).requests.total;
    expect(after - before).toBe(requests + 1);
    expect(done.throughput).toBeGreaterThan(requests / 1.5);
    expect(done.throughput).toBeLessThanOrEqual(requests);
    const l = done.latencyMs!;
    expect(l.p50).toBeGreaterThan(0);
    expect(l.p50).toBeLessThanOrEqual(l.p95);
    expect(l.p95).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l.max);
    expect((await t.client.call('benchmarks.list', { deployment: 'digits' })).items.map((b) => b.id)).toEqual([
      created.id,
    ]);
    expect((await t.client.call('benchmarks.list', { deployment: 'other' })).items).toEqual([]);
  });

  it('loads a GGUF deployment through the OpenAI chat API', async () => {
    await t.client.call('deployments.create', {
      file: fixturePath('models', 'tiny-llama-memorizer-q8.gguf'),
      name: 'tiny',
      threads: 1,
    });
    const created = await t.client.call('benchmarks.create', {
      deployment: 'tiny',
      concurrency: 1,
      durationSeconds: 1,
      maxTokens: 4,
    });
    const done = await finished(created.id);
    expect(done, done.reason ?? '').toMatchObject({
      state: 'succeeded',
      runtime: 'gguf',
      endpoint: '/v1/chat/completions',
      model: null,
      errors: 0,
    });
    expect(done.requests).toBeGreaterThan(0);
    // Counted, but kept out of the request log: drift checks would take them for clients' requests.
    const stats = await t.client.call('deployments.stats', { deployment: 'tiny' });
    expect(stats.requests.total).toBe((done.requests as number) + 1);
    expect((await t.client.call('deployments.logs', { deployment: 'tiny', limit: 5 })).items).toEqual([]);
  });

  it('measures the version it names: the main one alone beside an ONNX canary; a GGUF canary is refused', async () => {
    await register('digits', 'digits_mlp.onnx');
    await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 50 },
    });
    const canaryBefore = async () =>
      (await t.client.call('deployments.stats', { deployment: 'digits' })).versions.find((v) => v.version === 2)
        ?.requests.total ?? 0;
    const before = await canaryBefore();
    const created = await t.client.call('benchmarks.create', {
      deployment: 'digits',
      concurrency: 2,
      durationSeconds: 1,
    });
    const done = await finished(created.id);
    expect(done, done.reason ?? '').toMatchObject({ state: 'succeeded', modelVersion: 1, errors: 0 });
    expect(await canaryBefore()).toBe(before);
    await t.client.call('deployments.update', { deployment: 'digits', traffic: null });

    await register('tiny-llama', 'tiny-llama-memorizer-q8.gguf');
    await register('tiny-llama', 'tiny-llama-memorizer-q8.gguf');
    await t.client.call('deployments.create', {
      model: 'tiny-llama',
      version: 1,
      name: 'tiny-canary',
      threads: 1,
    });
    await t.client.call('deployments.update', {
      deployment: 'tiny-canary',
      traffic: { mode: 'canary', version: 2, percent: 20 },
    });
    const refused = await t.request('/api/v1/benchmarks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: 'tiny-canary' }),
    });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { message: string; details: { field: string } } };
    expect(body.error.message).toMatch(/sends 20% of requests to a canary version: .*--clear/);
    expect(body.error.details.field).toBe('deployment');
    await t.client.call('deployments.delete', { deployment: 'tiny-canary' });
  });

  it('refuses an unknown deployment, naming the field', async () => {
    const res = await t.request('/api/v1/benchmarks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: 'nope' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { details: { field: string } } }).error.details.field).toBe('deployment');
    expect((await t.client.call('benchmarks.list', {})).items).toHaveLength(3);
  });

  it('fails, saying why, when the server shuts down under it (its figures would be the refusals’)', async () => {
    const created = await t.client.call('benchmarks.create', { deployment: 'digits', durationSeconds: 30 });
    await waitFor(async () =>
      (await t.client.call('benchmarks.get', { id: created.id })).state === 'running' ? true : undefined,
    );
    // From here on the core refuses every request, as it does on SIGTERM (this is the file's last test).
    const { evaluations } = t.core.service<EvalkitService>('evalkit');
    await t.core.drain(0);
    const done = await waitFor(() => {
      const b = evaluations.getBenchmark(created.id);
      return b.state === 'failed' ? b : undefined;
    }, 10_000);
    expect(done.reason).toMatch(/^the server went away during the benchmark \(HTTP 503: .*the server is shutting down/);
  });
});
