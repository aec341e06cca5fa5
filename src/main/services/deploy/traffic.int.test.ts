import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { AppError } from '#shared/errors';
import { MODEL_VERSION_HEADER } from './reply';

// Canary and shadow traffic on a real core: the digits MLP registered twice (versions 1 and 2 of `digits`, the
// same file, told apart by the version that answers), served by real onnxruntime replica threads over KServe v2;
// and the tiny llama GGUF as two versions of `llama` over OpenAI's chat completions (1 thread).
const MODELS = fixturePath('models');
const MLP = path.join(MODELS, 'digits_mlp.onnx');
const CNN = path.join(MODELS, 'digits_cnn.onnx');
const BERT = path.join(MODELS, 'tiny-bert-embed.gguf');
const LLAMA = path.join(MODELS, 'tiny-llama-memorizer-q8.gguf');
const EXPECTED = JSON.parse(readFileSync(path.join(MODELS, 'digits_mlp.expected.json'), 'utf8')) as {
  X: number[][];
  logits: number[][];
};
const ROW = EXPECTED.X[0] as number[];

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

/** One v2 infer of the first expected row: who answered (header and body) and the logits. */
async function infer(url = '/v2/models/digits/infer') {
  const res = await t.request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: ROW }] }),
  });
  const body = (await res.json()) as { model_version?: string; outputs?: { data: number[] }[]; error?: string };
  return { status: res.status, header: res.headers.get(MODEL_VERSION_HEADER), body };
}

/** `n` infers, counting the answers by the version named in the header (which must agree with the body's). */
async function answers(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await infer();
    expect(r.status).toBe(200);
    expect(r.body.model_version).toBe(r.header);
    counts[r.header ?? 'none'] = (counts[r.header ?? 'none'] ?? 0) + 1;
  }
  return counts;
}

async function versionStats(deployment: string) {
  const stats = await t.client.call('deployments.stats', { deployment });
  return Object.fromEntries(stats.versions.map((v) => [`${v.version}`, v]));
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

beforeAll(async () => {
  data = tempDir('aidos-deploy-traffic-');
  t = await startTestCore({ dataDir: data.dir });
  expect(await register('digits', MLP)).toBe(1);
  expect(await register('digits', MLP)).toBe(2);
});

afterAll(async () => {
  await t?.close();
  data?.remove();
});

describe('canary and shadow traffic on an ONNX deployment', () => {
  it('routes a canary share of 0, 100 and about 50 percent, each answer naming its version', async () => {
    await t.client.call('deployments.create', { model: 'digits', version: 1, name: 'digits', threads: 1 });
    const withCanary = await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 0 },
    });
    expect(withCanary.traffic).toMatchObject({ mode: 'canary', percent: 0, source: { version: 2 } });
    expect(await answers(30)).toEqual({ '1': 30 });

    await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 100 },
    });
    expect(await answers(30)).toEqual({ '2': 30 });

    await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 50 },
    });
    const split = await answers(200);
    // Binomial(200, 0.5): 100 ± 7; 60..140 is more than 5.6 standard deviations either way.
    expect((split['1'] ?? 0) + (split['2'] ?? 0)).toBe(200);
    expect(split['2']).toBeGreaterThanOrEqual(60);
    expect(split['2']).toBeLessThanOrEqual(140);

    // Both versions answer with the model's logits.
    const r = await infer();
    (r.body.outputs?.[0]?.data ?? []).forEach((v, i) => expect(v).toBeCloseTo(EXPECTED.logits[0]?.[i] as number, 4));

    // Per-version figures add up to what clients were answered; /metrics carries the version label.
    const stats = await t.client.call('deployments.stats', { deployment: 'digits' });
    const byVersion = Object.fromEntries(stats.versions.map((v) => [`${v.version}`, v]));
    expect(byVersion['1']?.role).toBe('main');
    expect(byVersion['2']?.role).toBe('canary');
    expect((byVersion['1']?.requests.total ?? 0) + (byVersion['2']?.requests.total ?? 0)).toBe(stats.requests.total);
    expect(byVersion['2']?.requests.total).toBe(30 + (split['2'] ?? 0) + (r.header === '2' ? 1 : 0));
    expect(byVersion['2']?.latencyMs.p50).toBeGreaterThan(0);
    const metrics = await (await t.request('/metrics')).text();
    expect(metrics).toMatch(
      /aidos_deploy_requests_total\{deployment="digits",version="2",role="serving",endpoint="infer",outcome="ok"\} \d+/,
    );
    // The canary's own replicas are counted, in stats and in the gauges.
    expect(byVersion['2']).toMatchObject({ replicas: 1, inFlight: 0, queued: 0 });
    expect(metrics).toMatch(/aidos_deploy_replicas\{deployment="digits",version="2"\} 1/);

    // The request log records the version that answered.
    const logs = await t.client.call('deployments.logs', { deployment: 'digits', limit: 200 });
    expect(new Set(logs.items.map((e) => e.modelVersion))).toEqual(new Set([1, 2]));
  });

  it('addresses either version explicitly through /versions/{v}/infer', async () => {
    expect((await infer('/v2/models/digits/versions/2/infer')).header).toBe('2');
    expect((await infer('/v2/models/digits/versions/1/infer')).header).toBe('1');
    const meta = (await (await t.request('/v2/models/digits')).json()) as { versions: string[] };
    expect(meta.versions).toEqual(['1', '2']);
    const absent = await infer('/v2/models/digits/versions/7/infer');
    expect(absent.status).toBe(404);
    expect(absent.body.error).toMatch(/version '7' is not served/);
  });

  it('mirrors every request to a shadow version while clients get only the main version', async () => {
    const before = await versionStats('digits');
    await t.client.call('deployments.update', { deployment: 'digits', traffic: { mode: 'shadow', version: 2 } });
    const clientsBefore = (await t.client.call('deployments.stats', { deployment: 'digits' })).requests.total;
    expect(await answers(40)).toEqual({ '1': 40 });
    const shadowBefore = before['2']?.requests.total ?? 0;
    await waitFor(async () => (await versionStats('digits'))['2']?.requests.total === shadowBefore + 40);
    const after = await t.client.call('deployments.stats', { deployment: 'digits' });
    const shadow = after.versions.find((v) => v.version === 2);
    expect(shadow).toMatchObject({ role: 'shadow', requests: { errors: 0 } });
    // Mirrored requests are not clients' requests, and are not in the request log.
    expect(after.requests.total).toBe(clientsBefore + 40);
    const logs = await t.client.call('deployments.logs', { deployment: 'digits', limit: 40 });
    expect(logs.items.every((e) => e.modelVersion === 1)).toBe(true);
    // In /metrics the mirrored copies are role="shadow": the "serving" series add up to what clients sent.
    const series = [
      ...(await (await t.request('/metrics')).text()).matchAll(
        /^aidos_deploy_requests_total\{deployment="digits",version="(\d+)",role="(\w+)",[^}]*\} (\d+)$/gm,
      ),
    ];
    const sum = (role: string) => series.filter((m) => m[2] === role).reduce((n, m) => n + Number(m[3]), 0);
    expect(sum('serving')).toBe(after.requests.total);
    expect(sum('shadow')).toBe(40);
    // A request with bad input fails for the client and for the shadow alike.
    const bad = await t.request('/v2/models/digits/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    });
    expect(bad.status).toBe(400);
    await waitFor(async () => (await versionStats('digits'))['2']?.requests.errors === 1);
  });

  it('refuses bad traffic settings with a 400 naming the field, changing nothing', async () => {
    const llamaVersion = await register('digits', LLAMA);
    // The CNN takes the digits as [n, 1, 8, 8] images, the MLP as [n, 64] rows: half the requests would fail.
    const cnnVersion = await register('digits', CNN);
    const before = await t.client.call('deployments.get', { deployment: 'digits' });
    const cases: [unknown, RegExp][] = [
      [{ mode: 'canary', version: 2, percent: 101 }, /traffic\.percent/],
      [{ mode: 'canary', version: 2, percent: -1 }, /traffic\.percent/],
      [{ mode: 'canary', version: 2 }, /traffic\.percent: a canary needs percent/],
      [{ mode: 'shadow', version: 2, percent: 10 }, /traffic\.percent: a shadow is sent every request/],
      [{ mode: 'canary', version: 99, percent: 10 }, /traffic\.version: .*99/],
      [{ mode: 'canary', version: 1, percent: 10 }, /traffic\.version: version 1 is the main version/],
      [
        { mode: 'canary', version: llamaVersion, percent: 10 },
        /traffic\.version: .*is a GGUF model and deployment 'digits' serves an ONNX one/,
      ],
      [{ mode: 'mirror', version: 2 }, /traffic\.mode/],
      [
        { mode: 'shadow', version: cnnVersion },
        new RegExp(
          `traffic\\.version: version ${cnnVersion} takes x float32 \\[.*, 1, 8, 8\\] where version 1 takes x float32 \\[.*, 64\\]: a canary or shadow must answer`,
        ),
      ],
    ];
    for (const [traffic, message] of cases) {
      const err = await appError(t.client.call('deployments.update', { deployment: 'digits', traffic } as never));
      expect(err.code, JSON.stringify(traffic)).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(message);
    }
    const after = await t.client.call('deployments.get', { deployment: 'digits' });
    expect(after.traffic).toEqual(before.traffic);
    expect(after.updatedAt).toBe(before.updatedAt);
    expect(await appError(t.client.call('deployments.promote', { deployment: 'nope' }))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('promotes the second version to main, the old main becoming the rollback target', async () => {
    await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 10 },
    });
    const promoted = await t.client.call('deployments.promote', { deployment: 'digits' });
    expect(promoted).toMatchObject({
      state: 'ready',
      traffic: null,
      source: { version: 2 },
      previousSource: { version: 1 },
    });
    expect(await answers(10)).toEqual({ '2': 10 });
    const roles = await versionStats('digits');
    expect(roles['2']?.role).toBe('main');
    expect(roles['1']?.role).toBe('retired');
    // Nothing left to promote.
    expect(await appError(t.client.call('deployments.promote', { deployment: 'digits' }))).toMatchObject({
      code: 'FAILED_PRECONDITION',
    });
    const back = await t.client.call('deployments.rollback', { deployment: 'digits' });
    expect(back.source).toMatchObject({ version: 1 });
  });

  it('clears the traffic split: the main version answers everything again', async () => {
    await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 100 },
    });
    expect(await answers(5)).toEqual({ '2': 5 });
    const cleared = await t.client.call('deployments.update', { deployment: 'digits', traffic: null });
    expect(cleared.traffic).toBeNull();
    expect(await answers(10)).toEqual({ '1': 10 });
    const events = await t.client.call('deployments.events', { deployment: 'digits', limit: 5 });
    expect(events.items[0]?.message).toMatch(/traffic: the main version answers every request/);
  });

  it('keeps the canary across an unload and a cold start', async () => {
    await t.client.call('deployments.update', {
      deployment: 'digits',
      traffic: { mode: 'canary', version: 2, percent: 100 },
    });
    await t.client.call('deployments.stop', { deployment: 'digits' });
    await t.client.call('deployments.start', { deployment: 'digits' });
    expect(await answers(5)).toEqual({ '2': 5 });
    await t.client.call('deployments.delete', { deployment: 'digits' });
  });
});

describe('a canary on a GGUF deployment', () => {
  it('answers chat completions from the canary version, saying so, with tokens counted per version', async () => {
    await register('llama', LLAMA);
    await register('llama', LLAMA);
    await t.client.call('deployments.create', {
      model: 'llama',
      version: 1,
      name: 'llama',
      threads: 1,
      contextSize: 128,
    });
    await t.client.call('deployments.update', {
      deployment: 'llama',
      traffic: { mode: 'canary', version: 2, percent: 100 },
    });
    const openai = new OpenAI({ baseURL: `${t.core.url}/v1`, apiKey: t.token, maxRetries: 0 });
    const { data: completion, response } = await openai.chat.completions
      .create({ model: 'llama', messages: [{ role: 'user', content: 'The' }], max_tokens: 8, temperature: 0 })
      .withResponse();
    expect(response.headers.get(MODEL_VERSION_HEADER)).toBe('2');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    const stats = await versionStats('llama');
    expect(stats['2']?.tokens.completion).toBe(completion.usage?.completion_tokens);
    expect(stats['1']?.requests.total).toBe(0);

    // A shadow: the client's stream comes from version 1; version 2 gets the same request afterwards.
    await t.client.call('deployments.update', { deployment: 'llama', traffic: { mode: 'shadow', version: 2 } });
    const stream = await openai.chat.completions
      .create({
        model: 'llama',
        messages: [{ role: 'user', content: 'The' }],
        max_tokens: 8,
        temperature: 0,
        stream: true,
      })
      .withResponse();
    expect(stream.response.headers.get(MODEL_VERSION_HEADER)).toBe('1');
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(completion.choices[0]?.message.content);
    await waitFor(async () => (await versionStats('llama'))['2']?.requests.total === 2);
  });

  it('refuses an embedding model as the canary of a chat model', async () => {
    const bertVersion = await register('llama', BERT);
    const err = await appError(
      t.client.call('deployments.update', {
        deployment: 'llama',
        traffic: { mode: 'canary', version: bertVersion, percent: 50 },
      }),
    );
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'traffic.version' } });
    expect(err.message).toMatch(`version ${bertVersion} serves embedding where version 1 serves generation`);
  });
});

describe('a second version that does not fit in memory', () => {
  // Free memory cannot be set on a real machine: the core's reading of it (os.freemem) is replaced for these tests,
  // as the GPU tests put a stand-in nvidia-smi on PATH. The budget is exactly what version 1 (the digits MLP) is
  // estimated to need; version 2 is the same model with 200 KB more in its file, so it takes the same requests
  // and is estimated to need more.
  function paddedMlp(): string {
    // A second doc_string (ModelProto field 6, length-delimited): protobuf readers keep the last one.
    const extra = 200_000;
    const length: number[] = [];
    for (let n = extra; ; n = Math.floor(n / 128)) {
      if (n < 128) {
        length.push(n);
        break;
      }
      length.push((n % 128) | 128);
    }
    const file = path.join(data.dir, 'digits_mlp_padded.onnx');
    writeFileSync(
      file,
      Buffer.concat([readFileSync(MLP), Buffer.from([(6 << 3) | 2, ...length]), Buffer.alloc(extra, 32)]),
    );
    return file;
  }
  let freemem: MockInstance<typeof os.freemem> | undefined;

  afterEach(() => freemem?.mockRestore());

  /** PATCH traffic as a client sends it: the status and the error body. */
  async function patchTraffic(traffic: unknown) {
    const res = await t.request('/api/v1/deployments/sized', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ traffic }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: string; message: string; details?: unknown } },
    };
  }

  async function sizedInfer() {
    const { status, header } = await infer('/v2/models/sized/infer');
    return { status, version: header };
  }

  it('refuses a canary or shadow with a 503 naming the memory, leaving version 1 serving unchanged', async () => {
    expect(await register('sized', MLP)).toBe(1);
    expect(await register('sized', paddedMlp())).toBe(2);
    const created = await t.client.call('deployments.create', {
      model: 'sized',
      version: 1,
      name: 'sized',
      threads: 1,
    });
    const budget = created.estimate?.ramBytes as number;
    expect(budget).toBeGreaterThan(0);
    freemem = vi.spyOn(os, 'freemem').mockReturnValue(budget);
    const before = await t.client.call('deployments.get', { deployment: 'sized' });
    const eventsBefore = await t.client.call('deployments.events', { deployment: 'sized', limit: 50 });

    for (const traffic of [
      { mode: 'canary', version: 2, percent: 20 },
      { mode: 'shadow', version: 2 },
    ]) {
      const refused = await patchTraffic(traffic);
      // Not a 429: clients would take it for a rate limit.
      expect(refused.status, JSON.stringify(traffic)).toBe(503);
      expect(refused.body.error?.code).toBe('RESOURCE_EXHAUSTED');
      expect(refused.body.error?.details).toMatchObject({ code: 'insufficient_memory', field: 'traffic.version' });
      expect(refused.body.error?.message).toMatch(
        /^traffic\.version: version 2 of 'sized' needs about 32.3 MiB of RAM for 1 replica and 32 MiB is available/,
      );
      // One replica already: nothing to lower but the memory in use.
      expect(refused.body.error?.message).toMatch(
        /is available; free memory first \(stop or delete another deployment\)$/,
      );
    }

    // Nothing changed: the setting, the events, what answers.
    expect(await t.client.call('deployments.get', { deployment: 'sized' })).toEqual(before);
    expect(before).toMatchObject({ state: 'ready', traffic: null, source: { version: 1 } });
    expect(await t.client.call('deployments.events', { deployment: 'sized', limit: 50 })).toEqual(eventsBefore);
    for (let i = 0; i < 10; i++) expect(await sizedInfer()).toEqual({ status: 200, version: '1' });
    const stats = await t.client.call('deployments.stats', { deployment: 'sized' });
    expect(stats.versions.map((v) => [v.version, v.role, v.requests.total])).toEqual([[1, 'main', 10]]);
  });

  it('refuses it on a stopped deployment too, which starts serving version 1 alone', async () => {
    await t.client.call('deployments.stop', { deployment: 'sized' });
    const budget = (await t.client.call('deployments.get', { deployment: 'sized' })).estimate?.ramBytes as number;
    freemem = vi.spyOn(os, 'freemem').mockReturnValue(budget);
    const refused = await patchTraffic({ mode: 'canary', version: 2, percent: 50 });
    expect(refused.status).toBe(503);
    expect(refused.body.error?.message).toMatch(/^traffic\.version: version 2 of 'sized' needs about/);
    const started = await t.client.call('deployments.start', { deployment: 'sized' });
    expect(started).toMatchObject({ state: 'ready', traffic: null, source: { version: 1 } });
    expect(await sizedInfer()).toEqual({ status: 200, version: '1' });
  });

  it('accepts the same canary once the memory is there', async () => {
    const accepted = await patchTraffic({ mode: 'canary', version: 2, percent: 100 });
    expect(accepted.status).toBe(200);
    const r = await infer('/v2/models/sized/infer');
    expect(r).toMatchObject({ status: 200, header: '2' });
  });

  it('serves version 1 alone after a cold start with too little memory for its canary, saying so', async () => {
    await t.client.call('deployments.stop', { deployment: 'sized' });
    const budget = (await t.client.call('deployments.get', { deployment: 'sized' })).estimate?.ramBytes as number;
    freemem = vi.spyOn(os, 'freemem').mockReturnValue(budget);
    const started = await t.client.call('deployments.start', { deployment: 'sized' });
    // The setting stays (it applies again once the memory is there); version 1 answers every request meanwhile.
    expect(started).toMatchObject({
      state: 'ready',
      source: { version: 1 },
      traffic: { mode: 'canary', percent: 100 },
    });
    for (let i = 0; i < 5; i++) expect(await sizedInfer()).toEqual({ status: 200, version: '1' });
    const events = await t.client.call('deployments.events', { deployment: 'sized', limit: 5 });
    expect(events.items.map((e) => e.message).join('\n')).toMatch(
      /the canary sized version 2 did not load \(traffic\.version: version 2 of 'sized' needs about .* of RAM .*\); sized version 1 answers every request/,
    );
    await t.client.call('deployments.delete', { deployment: 'sized' });
  });
});
