import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { REQUEST_LOG_HEADER, type Deployment } from '#shared/contracts/deploy';
import { AppError } from '#shared/errors';
import { REQUEST_ID_HEADER } from './reply';

// The real fixtures (test-fixtures/README.md): a llama GGUF that memorised three sentences and a BERT GGUF
// whose expected vectors are known. `threads: 1` on these 2-core machines.
const MODELS = fixturePath('models');
const LLAMA = path.join(MODELS, 'tiny-llama-memorizer-q8.gguf');
const BERT = path.join(MODELS, 'tiny-bert-embed.gguf');

let data: { dir: string; remove: () => void };
let t: TestCore;
let openai: OpenAI;

async function registerGguf(name: string, file: string, aliases: string[] = []): Promise<number> {
  const bytes = readFileSync(file);
  const upload = await t.client.call('uploads.create', { filename: path.basename(file), size: bytes.length });
  await t.client.send('uploads.append', { id: upload.id, offset: 0 }, bytes);
  try {
    await t.client.call('models.create', { name });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'CONFLICT') && !(err instanceof AppError)) throw err;
  }
  const version = await t.client.call('models.createVersion', { name, uploadId: upload.id, aliases });
  return version.version;
}

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function chat(model: string, content: string) {
  return openai.chat.completions.create({ model, messages: [{ role: 'user', content }], temperature: 0 });
}

beforeAll(async () => {
  data = tempDir('aidos-deploy-');
  t = await startTestCore({ dataDir: data.dir });
  openai = new OpenAI({ baseURL: `${t.core.url}/v1`, apiKey: t.token, maxRetries: 0 });
  await registerGguf('tiny-llama', LLAMA, ['champion']);
  await registerGguf('tiny-bert', BERT);
});

afterAll(async () => {
  await t?.close();
  data?.remove();
});

describe('deployments of registered GGUF model versions', () => {
  let tiny: Deployment;

  it('deploys a version by alias, loads it, and serves the memorised sentence through the openai client', async () => {
    tiny = await t.client.call('deployments.create', {
      model: 'tiny-llama',
      version: '@champion',
      name: 'tiny',
      threads: 1,
    });
    expect(tiny).toMatchObject({
      name: 'tiny',
      runtime: 'gguf',
      state: 'ready',
      placement: 'cpu',
      modelKind: 'generation',
      source: { kind: 'model-version', model: 'tiny-llama', version: 1, alias: 'champion', format: 'gguf' },
    });
    expect(tiny.estimate?.ramBytes).toBeGreaterThan(0);
    const completion = await chat('tiny', 'The quick brown');
    expect(completion.choices[0]?.message.content).toBe(' fox jumps over the lazy dog.');
    expect(completion.model).toBe('tiny');
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain('tiny');
  });

  it('streams chat deltas ending in data: [DONE], and text completions', async () => {
    const stream = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(' there was a little robot who loved to count: one, two, three, four, five.');
    const raw = await t.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Node.js runs' }], stream: true }),
    });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await raw.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
    const completion = await openai.completions.create({ model: 'tiny', prompt: 'Node.js runs', temperature: 0 });
    expect(completion.choices[0]?.text).toBe(' JavaScript on the server.');
  });

  it('serves embeddings matching the fixture vectors (cosine ≥ 0.9999)', async () => {
    const bert = await t.client.call('deployments.create', { model: 'tiny-bert', version: 1, threads: 1 });
    expect(bert).toMatchObject({ name: 'tiny-bert', state: 'ready', modelKind: 'embedding' });
    const expected = JSON.parse(readFileSync(path.join(MODELS, 'tiny-bert-embed.expected.json'), 'utf8')) as {
      vectors: { text: string; embedding: number[] }[];
    };
    const wanted = expected.vectors.slice(0, 3);
    const result = await openai.embeddings.create({ model: 'tiny-bert', input: wanted.map((v) => v.text) });
    for (const [i, item] of result.data.entries()) {
      const want = wanted[i]!.embedding;
      const got = item.embedding;
      const cosine = got.reduce((s, x, j) => s + x * want[j]!, 0) / (Math.hypot(...got) * Math.hypot(...want));
      expect(cosine).toBeGreaterThanOrEqual(0.9999);
    }
    // Another size than the model's is not silently ignored; nor is text with nothing in it to embed.
    expect(
      await apiError(openai.embeddings.create({ model: 'tiny-bert', input: 'hello', dimensions: 64 })),
    ).toMatchObject({ status: 400, param: 'dimensions' });
    const blank = await apiError(openai.embeddings.create({ model: 'tiny-bert', input: ['world', '  \t', 'hello'] }));
    expect(blank).toMatchObject({ status: 400, param: 'input[1]' });
    expect(blank.message).toMatch(/has nothing to embed/);
  });

  it('answers errors in OpenAI shape: unknown model, bad field, prompt too long, wrong kind, no credentials', async () => {
    expect(await apiError(chat('nope', 'x'))).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    const bad = await apiError(
      openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], temperature: 5 }),
    );
    expect(bad).toMatchObject({ status: 400, param: 'temperature', type: 'invalid_request_error' });
    expect(bad.message).toContain('temperature: ');
    const missing = await apiError(openai.chat.completions.create({ model: 'tiny' } as never));
    expect(missing).toMatchObject({ status: 400, param: 'messages' });
    const long = await apiError(chat('tiny', 'word '.repeat(200)));
    expect(long).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });
    const kind = await apiError(openai.embeddings.create({ model: 'tiny', input: 'x' }));
    expect(kind).toMatchObject({ status: 400, code: 'model_not_supported' });
    const stranger = new OpenAI({ baseURL: `${t.core.url}/v1`, apiKey: 'not-a-key', maxRetries: 0 });
    expect(await apiError(stranger.models.list())).toMatchObject({ status: 401, type: 'authentication_error' });
    const route = await t.request('/v1/responses', { method: 'POST', body: '{}' });
    expect(route.status).toBe(404);
    expect(await route.json()).toMatchObject({ error: { code: 'unknown_url' } });
  });

  it('stops generating and frees the slot when the client leaves mid-stream', async () => {
    const stream = await openai.completions.create({
      model: 'tiny',
      prompt: 'word word word',
      temperature: 0,
      stream: true,
      // Bans the end-of-sequence token: it would otherwise run to its context's end.
      logit_bias: { '2': -100 },
    });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 3) stream.controller.abort();
    }
    const stats = await waitFor(async () => {
      const s = await t.client.call('deployments.stats', { deployment: 'tiny' });
      return s.inFlight === 0 && s.requests.cancelled === 1 ? s : undefined;
    });
    expect(stats.queued).toBe(0);
    const { items } = await t.client.call('deployments.logs', { deployment: 'tiny', limit: 1 });
    // Logged with the status nginx gives a request whose client went away.
    expect(items[0]).toMatchObject({
      endpoint: 'completion',
      status: 'cancelled',
      httpStatus: 499,
      input: 'word word word',
    });
    expect(items[0]?.completionTokens).toBeLessThan(100);
    expect((await chat('tiny', 'The quick brown')).choices[0]?.message.content).toBe(' fox jumps over the lazy dog.');
  });

  it('logs requests (sampled, cut to the size limit) and pages through them, newest first', async () => {
    const logged = await t.client.call('deployments.update', {
      deployment: 'tiny',
      requestLog: { maxChars: 64 },
    });
    expect(logged.requestLog).toEqual({ sampleRate: 1, maxChars: 64 });
    expect(logged.state).toBe('ready'); // the log's settings do not reload the model
    await chat('tiny', `The quick brown${' '.repeat(80)}`).catch(() => undefined);
    await chat('tiny', 'Node.js runs');
    const first = await t.client.call('deployments.logs', { deployment: 'tiny', limit: 2 });
    expect(first.items.map((e) => e.endpoint)).toEqual(['chat', 'chat']);
    expect(first.items[0]).toMatchObject({ status: 'ok', httpStatus: 200, output: ' JavaScript on the server.' });
    expect(first.items[1]?.truncated).toBe(true);
    expect(first.items[1]?.input.length).toBe(64);
    expect(first.nextCursor).not.toBeNull();
    const next = await t.client.call('deployments.logs', {
      deployment: 'tiny',
      limit: 500,
      cursor: first.nextCursor as string,
    });
    expect(next.items.length).toBeGreaterThan(3);
    expect(next.items.every((e) => e.id < first.items[1]!.id)).toBe(true);
    await t.client.call('deployments.update', { deployment: 'tiny', requestLog: { sampleRate: 0 } });
    await chat('tiny', 'Node.js runs');
    const after = await t.client.call('deployments.logs', { deployment: 'tiny', limit: 1 });
    expect(after.items[0]?.id).toBe(first.items[0]?.id);
  });

  it('tells clients their request ids in the log, logs every failure whatever the sample rate, and counts refusals', async () => {
    await t.client.call('deployments.update', { deployment: 'tiny', requestLog: { sampleRate: 1 } });
    const send = (body: Record<string, unknown>) =>
      t.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // The settings first: the log keeps the first 64 characters (the test before set maxChars).
        body: JSON.stringify({ ...body, model: 'tiny', messages: [{ role: 'user', content: 'Node.js runs' }] }),
      });
    const latest = async () => (await t.client.call('deployments.logs', { deployment: 'tiny', limit: 1 })).items[0];
    const answered = await send({ temperature: 0 });
    const id = answered.headers.get(REQUEST_ID_HEADER);
    expect(id).toMatch(/^[0-9A-Z]{26}$/);
    expect(await latest()).toMatchObject({ id, status: 'ok', output: ' JavaScript on the server.' });
    // A stream's id comes with its headers, before the text.
    const streamed = await send({ temperature: 0, stream: true });
    const streamId = streamed.headers.get(REQUEST_ID_HEADER);
    await streamed.text();
    expect(await latest()).toMatchObject({ id: streamId, status: 'ok' });

    // Sampled at one in a million, successes go unlogged (no id to tell), failures are logged all the same; a
    // body that does not parse and a stopped deployment count as the deployment's errors.
    await t.client.call('deployments.update', { deployment: 'tiny', requestLog: { sampleRate: 0.000001 } });
    const before = await t.client.call('deployments.stats', { deployment: 'tiny' });
    const unlogged = await send({ temperature: 0 });
    expect(unlogged.status).toBe(200);
    expect(unlogged.headers.get(REQUEST_ID_HEADER)).toBeNull();
    const hot = await send({ temperature: 'hot' });
    expect(hot.status).toBe(400);
    // A failure's log id comes back too.
    expect(await latest()).toMatchObject({
      id: hot.headers.get(REQUEST_ID_HEADER),
      status: 'error',
      httpStatus: 400,
      input: expect.stringContaining('"hot"'),
    });
    await t.client.call('deployments.stop', { deployment: 'tiny' });
    expect((await send({})).status).toBe(409);
    expect(await latest()).toMatchObject({ status: 'error', httpStatus: 409 });
    // The log lists one status (or one model version) when asked.
    const failures = await t.client.call('deployments.logs', { deployment: 'tiny', status: 'error', limit: 500 });
    expect(failures.items.map((e) => e.httpStatus).slice(0, 2)).toEqual([409, 400]);
    expect(failures.items.every((e) => e.status === 'error')).toBe(true);
    expect((await t.client.call('deployments.logs', { deployment: 'tiny', version: 2, limit: 5 })).items).toEqual([]);
    const after = await t.client.call('deployments.stats', { deployment: 'tiny' });
    expect(after.requests.total - before.requests.total).toBe(3);
    expect(after.requests.errors - before.requests.errors).toBe(2);
    await t.client.call('deployments.start', { deployment: 'tiny' });
    await t.client.call('deployments.update', { deployment: 'tiny', requestLog: { sampleRate: 1 } });

    // A client may keep its request out of the log, a failure too; it is counted all the same.
    const lastLogged = (await latest())?.id;
    const quiet = await t.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [REQUEST_LOG_HEADER]: 'off' },
      body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Node.js runs' }], temperature: 0 }),
    });
    expect(quiet.status).toBe(200);
    expect(quiet.headers.get(REQUEST_ID_HEADER)).toBeNull();
    const quietFailure = await t.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', [REQUEST_LOG_HEADER]: 'off' },
      body: JSON.stringify({ model: 'tiny', messages: [], temperature: 0 }),
    });
    expect(quietFailure.status).toBe(400);
    expect((await latest())?.id).toBe(lastLogged);
    const counted = await t.client.call('deployments.stats', { deployment: 'tiny' });
    expect(counted.requests.total - after.requests.total).toBe(2);
  });

  it('counts requests, errors, tokens, latency and queue depth per deployment in /metrics and stats', async () => {
    const stats = await t.client.call('deployments.stats', { deployment: 'tiny' });
    expect(stats.requests.total).toBeGreaterThan(5);
    expect(stats.requests.errors).toBeGreaterThan(0);
    expect(stats.tokens.completion).toBeGreaterThan(20);
    expect(stats.latencyMs.p50).toBeGreaterThan(0);
    expect(stats.timeToFirstTokenMs.p95).toBeGreaterThan(0);
    const metrics = await (await t.request('/metrics')).text();
    const labels = 'deployment="tiny",version="1",role="serving"';
    expect(metrics).toMatch(new RegExp(`aidos_deploy_requests_total\\{${labels},endpoint="chat",outcome="ok"\\} \\d+`));
    expect(metrics).toMatch(
      new RegExp(`aidos_deploy_request_errors_total\\{${labels},endpoint="chat",status="4\\d\\d"\\} \\d+`),
    );
    expect(metrics).toMatch(new RegExp(`aidos_deploy_tokens_total\\{${labels},kind="completion"\\} \\d+`));
    expect(metrics).toMatch(new RegExp(`aidos_deploy_time_to_first_token_seconds_bucket\\{le="[^"]+",${labels}\\}`));
    // Decoding speed: the time per generated token of each generation of more than one token.
    const tpot = new RegExp(`^aidos_deploy_time_per_output_token_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(
      metrics,
    );
    expect(Number(tpot?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(new RegExp(`aidos_deploy_request_duration_seconds_count\\{${labels},endpoint="chat"\\}`));
    expect(metrics).toMatch(/aidos_deploy_queue_depth\{deployment="tiny",version="1"\} 0/);
  });

  it('refuses a request beyond the queue with a 429 that says when to come back', async () => {
    await t.client.call('deployments.create', { file: LLAMA, name: 'narrow', threads: 1, maxQueue: 0 });
    const long = () =>
      t.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'narrow',
          messages: [{ role: 'user', content: 'The' }],
          max_tokens: 120,
          ignore_eos: true,
        }),
      });
    // One slot, no queue: of two at once, one is answered and the other refused.
    const answers = await Promise.all([long(), long()]);
    const refused = answers.find((r) => r.status === 429);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 429]);
    expect(refused?.headers.get('retry-after')).toBe('1');
    await t.client.call('deployments.delete', { deployment: 'narrow' });
  });

  it('ends a stream cut off by an unload with an error event (model_unloaded), not as a short answer', async () => {
    const stream = await openai.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'The' }],
      max_tokens: 120,
      temperature: 0,
      stream: true,
      ignore_eos: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let stopping: Promise<unknown> | null = null;
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        // Stopped while it generates: the first text has come, ~119 tokens are still to come.
        stopping ??= t.client.call('deployments.stop', { deployment: 'tiny' });
      }
    })().then(
      () => null,
      (e: unknown) => e,
    );
    await stopping;
    expect(error, `the stream ended normally after ${JSON.stringify(text)}`).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ code: 'model_unloaded' });
    expect((await t.client.call('deployments.start', { deployment: 'tiny' })).state).toBe('ready');
  });

  it('changes version, rolls back, stops (refusing requests) and starts again', async () => {
    const v2 = await registerGguf('tiny-llama', LLAMA);
    const updated = await t.client.call('deployments.update', { deployment: 'tiny', version: v2 });
    expect(updated).toMatchObject({ state: 'ready', source: { version: v2 }, previousSource: { version: 1 } });
    const rolled = await t.client.call('deployments.rollback', { deployment: 'tiny' });
    expect(rolled).toMatchObject({ state: 'ready', source: { version: 1 }, previousSource: { version: v2 } });
    const stopped = await t.client.call('deployments.stop', { deployment: 'tiny' });
    expect(stopped).toMatchObject({ state: 'stopped', placement: null });
    expect(await apiError(chat('tiny', 'x'))).toMatchObject({ status: 409, code: 'model_stopped' });
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).not.toContain('tiny');
    // Asked for by name, it says it is stopped rather than that it does not exist.
    expect(await apiError(openai.models.retrieve('tiny'))).toMatchObject({ status: 409, code: 'model_stopped' });
    expect((await t.client.call('deployments.start', { deployment: 'tiny' })).state).toBe('ready');
    expect(await openai.models.retrieve('tiny')).toMatchObject({ id: 'tiny', object: 'model', owned_by: 'aidos' });
    expect(await apiError(openai.models.retrieve('nope'))).toMatchObject({ status: 404, code: 'model_not_found' });
    expect((await chat('tiny', 'The quick brown')).choices[0]?.message.content).toBe(' fox jumps over the lazy dog.');
    const events = await t.client.call('deployments.events', { deployment: 'tiny', limit: 500 });
    expect(events.items.map((e) => e.state).reverse()).toEqual(
      expect.arrayContaining(['pending', 'loading', 'ready', 'stopped']),
    );
    expect(events.items.some((e) => e.message.includes('rolled back to tiny-llama version 1'))).toBe(true);
  });
});

describe('deployments of model files', () => {
  it('scales to zero after the idle timeout and cold-starts on the next request', async () => {
    const idle = await t.client.call('deployments.create', {
      file: LLAMA,
      name: 'tiny-idle',
      minReplicas: 0,
      idleUnloadSeconds: 1,
      threads: 1,
    });
    expect(idle).toMatchObject({ state: 'pending', source: { kind: 'file', path: LLAMA } });
    expect((await chat('tiny-idle', 'The quick brown')).choices[0]?.message.content).toBe(
      ' fox jumps over the lazy dog.',
    );
    expect((await t.client.call('deployments.get', { deployment: 'tiny-idle' })).state).toBe('ready');
    await waitFor(
      async () => (await t.client.call('deployments.get', { deployment: 'tiny-idle' })).state === 'idle-unloaded',
      5000,
      'the idle unload',
    );
    expect((await chat('tiny-idle', 'Node.js runs')).choices[0]?.message.content).toBe(' JavaScript on the server.');
    const events = await t.client.call('deployments.events', { deployment: 'tiny-idle', limit: 50 });
    expect(events.items.map((e) => e.state).reverse()).toEqual([
      'pending',
      'loading',
      'ready',
      'idle-unloaded',
      'loading',
      'ready',
    ]);
  });

  it('keeps a truncated model file as a failed deployment that says why', async () => {
    const cut = path.join(data.dir, 'truncated.gguf');
    writeFileSync(cut, readFileSync(LLAMA).subarray(0, 1_000_000));
    const failed = await t.client.call('deployments.create', { file: cut, threads: 1 });
    expect(failed).toMatchObject({ name: 'truncated', state: 'failed' });
    expect(failed.reason).toMatch(/corrupted or truncated: the tensor data needs \d+ bytes but the file has 1000000/);
    expect(await apiError(chat('truncated', 'x'))).toMatchObject({ status: 409, code: 'model_failed' });
    // A file that breaks before its cold start: the request that found out is told the deployment failed (409),
    // not that it asked wrongly.
    const lazy = path.join(data.dir, 'lazy.gguf');
    writeFileSync(lazy, readFileSync(LLAMA));
    await t.client.call('deployments.create', { file: lazy, threads: 1, minReplicas: 0 });
    writeFileSync(lazy, readFileSync(LLAMA).subarray(0, 100_000));
    expect(await apiError(chat('lazy', 'x'))).toMatchObject({ status: 409, code: 'model_failed' });
    await t.client.call('deployments.delete', { deployment: 'lazy' });
    // A registered version is named as such, not by its file in the blob store.
    await registerGguf('cut-llama', cut);
    const version = await t.client.call('deployments.create', { model: 'cut-llama', threads: 1 });
    expect(version).toMatchObject({ state: 'failed' });
    expect(version.reason).toMatch(/cut-llama version 1 is corrupted or truncated/);
    expect(version.reason).not.toContain('blobs');
    await t.client.call('deployments.delete', { deployment: 'cut-llama' });
  });

  it('refuses files of other formats, unknown files, taken names and impossible settings, storing nothing', async () => {
    const csv = await appError(t.client.call('deployments.create', { file: fixturePath('data', 'iris.csv') }));
    expect(csv).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'file' } });
    expect(csv.message).toMatch(/the model's format is 'other'; DeployEngine serves GGUF, ONNX/);
    expect(await appError(t.client.call('deployments.create', { file: '/nope/x.gguf' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'file' },
    });
    // A folder, and a named pipe (opening one waits for a writer: the server must not).
    const folder = path.join(data.dir, 'models.gguf');
    mkdirSync(folder);
    const pipe = path.join(data.dir, 'pipe.gguf');
    execFileSync('mkfifo', [pipe]);
    for (const [file, what] of [
      [folder, 'a folder'],
      [pipe, 'not a regular file'],
    ] as const) {
      const error = await appError(t.client.call('deployments.create', { file }));
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'file' } });
      expect(error.message).toContain(`is ${what}: give a model file`);
    }
    expect(await appError(t.client.call('deployments.create', { file: LLAMA, name: 'tiny' }))).toMatchObject({
      code: 'CONFLICT',
    });
    // The name of a deploy that failed is taken too, and the refusal says so.
    const failedName = await appError(t.client.call('deployments.create', { file: LLAMA, name: 'truncated' }));
    expect(failedName.code).toBe('CONFLICT');
    expect(failedName.message).toMatch(/'truncated' already exists \(it failed: .*truncated.*\); delete it first/);
    expect(
      await appError(t.client.call('deployments.create', { file: LLAMA, name: 'x2', maxReplicas: 2 })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'maxReplicas' } });
    // A misspelt setting is refused, not dropped (the deployment would run without it).
    const misspelt = await appError(
      t.client.call('deployments.create', { file: LLAMA, name: 'x4', context_size: 64 } as never),
    );
    expect(misspelt).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(misspelt.message).toBe('body: Unrecognized key: "context_size"');
    // A setting the runtime has no use for is refused, not stored and ignored.
    const batching = await appError(
      t.client.call('deployments.create', { file: LLAMA, name: 'x5', maxBatchSize: 8, threads: 1 }),
    );
    expect(batching).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'maxBatchSize' } });
    expect(batching.message).toMatch(
      /^maxBatchSize: a GGUF deployment has no use for it: .*serves requests at once with parallel/,
    );
    const context = await appError(
      t.client.call('deployments.create', {
        file: fixturePath('models', 'digits_mlp.onnx'),
        name: 'x6',
        contextSize: 256,
      }),
    );
    expect(context).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'contextSize' } });
    const patched = await appError(
      t.client.call('deployments.update', { deployment: 'tiny', autoscaling: { intervalMs: 1000 } }),
    );
    expect(patched.message).toMatch(/^autoscaling: a GGUF deployment has no use for it/);
    expect(
      await appError(t.client.call('deployments.create', { model: 'tiny-llama', version: '@nope', name: 'x3' })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'version' } });
    const names = (await t.client.call('deployments.list')).items.map((d) => d.name);
    expect(names).not.toContain('x2');
    expect(names).not.toContain('iris');
    expect(names).not.toContain('pipe');
    expect(names).not.toContain('x4');
    expect(names).not.toContain('x5');
    expect(names).not.toContain('x6');
  });

  it('deletes a deployment with its log, events and series', async () => {
    await t.client.call('deployments.delete', { deployment: 'truncated' });
    expect(await appError(t.client.call('deployments.get', { deployment: 'truncated' }))).toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('an app restart', () => {
  it('keeps the deployments and loads those with minReplicas ≥ 1 again', async () => {
    const before = (await t.client.call('deployments.list')).items.map((d) => [d.name, d.state]);
    await t.close();
    t = await startTestCore({ dataDir: data.dir });
    openai = new OpenAI({ baseURL: `${t.core.url}/v1`, apiKey: t.token, maxRetries: 0 });
    const after = await waitFor(async () => {
      const items = (await t.client.call('deployments.list')).items;
      const ready = ['tiny', 'tiny-bert'].every((n) => items.find((d) => d.name === n)?.state === 'ready');
      return ready ? items : undefined;
    });
    expect(after.map((d) => d.name)).toEqual(before.map(([name]) => name));
    // minReplicas 0: loaded when its first request comes, not at start (idle-unloaded if its timeout passed first).
    expect(['pending', 'idle-unloaded']).toContain(after.find((d) => d.name === 'tiny-idle')?.state);
    expect(after.find((d) => d.name === 'tiny-bert')?.state).toBe('ready');
    expect((await chat('tiny', 'The quick brown')).choices[0]?.message.content).toBe(' fox jumps over the lazy dog.');
  });
});
