import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from '#shared/contracts/openai';
import { AppError } from '#shared/errors';
import {
  SSE_HEADERS,
  buildChatCompletion,
  buildEmbeddingList,
  buildModelList,
  buildTextCompletion,
  chatCompletionSse,
  chatRequestToRuntime,
  completionRequestToRuntime,
  embeddingInputs,
  parseOpenAiBody,
  responseMeta,
  textCompletionSse,
  toOpenAiError,
} from './openai-wire';
import { GgufRuntime } from './runtime';
import { fixturePath } from '#platform/testing';

// The official `openai` client against a throwaway node:http server that does what the deploy routes will do:
// parse, call the runtime, build. It lives in this test only; the real routes belong to the deploy service.
const MODELS = fixturePath('models');

let server: ReturnType<typeof createServer>;
let client: OpenAI;
const runtimes = new Map<string, GgufRuntime>();

function runtimeFor(model: string): GgufRuntime {
  const runtime = runtimes.get(model);
  if (!runtime) throw AppError.notFound('model', model);
  return runtime;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function pipeSse(res: ServerResponse, frames: AsyncIterable<string>): Promise<void> {
  res.writeHead(200, SSE_HEADERS);
  for await (const frame of frames) {
    if (res.destroyed) break;
    res.write(frame);
  }
  res.end();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  // The client going away aborts the request: a queued one leaves the queue, a running one frees its slot.
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const signal = controller.signal;
  try {
    if (req.method === 'GET' && req.url === '/v1/models') {
      sendJson(res, 200, buildModelList([...runtimes.keys()].map((id) => ({ id, created: 1_700_000_000 }))));
    } else if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const body = parseOpenAiBody(ChatCompletionRequest, await readJson(req));
      const runtime = runtimeFor(body.model);
      const { messages, sampling } = chatRequestToRuntime(body);
      const generation = await runtime.startChat(messages, sampling, { signal });
      const meta = responseMeta('chatcmpl', body.model);
      if (body.stream)
        await pipeSse(res, chatCompletionSse(generation, meta, body.stream_options?.include_usage ?? false));
      else {
        for await (const _delta of generation);
        sendJson(res, 200, buildChatCompletion(meta, await generation.result));
      }
    } else if (req.method === 'POST' && req.url === '/v1/completions') {
      const body = parseOpenAiBody(CompletionRequest, await readJson(req));
      const runtime = runtimeFor(body.model);
      const { prompts, echo, sampling } = completionRequestToRuntime(body);
      const meta = responseMeta('cmpl', body.model);
      if (body.stream) {
        const generation = await runtime.startCompletion(prompts[0]!, sampling, { signal });
        const include = body.stream_options?.include_usage ?? false;
        await pipeSse(res, textCompletionSse(generation, meta, include, echo ? prompts[0] : undefined));
      } else {
        const results = [];
        for (const prompt of prompts) results.push(await runtime.complete(prompt, sampling, { signal }));
        sendJson(res, 200, buildTextCompletion(meta, results, echo ? prompts : undefined));
      }
    } else if (req.method === 'POST' && req.url === '/v1/embeddings') {
      const body = parseOpenAiBody(EmbeddingRequest, await readJson(req));
      const runtime = runtimeFor(body.model);
      const result = await runtime.embed(embeddingInputs(body.input), { signal });
      sendJson(
        res,
        200,
        buildEmbeddingList(body.model, result.vectors, result.promptTokens, body.encoding_format ?? 'float'),
      );
    } else {
      sendJson(res, 404, {
        error: { message: 'no such route', type: 'invalid_request_error', param: null, code: null },
      });
    }
  } catch (error) {
    const { status, body } = toOpenAiError(error);
    if (!res.headersSent) sendJson(res, status, body);
    else res.end();
  }
}

beforeAll(async () => {
  runtimes.set('tiny', await GgufRuntime.load({ path: join(MODELS, 'tiny-llama-memorizer-q8.gguf'), threads: 1 }));
  runtimes.set('embed', await GgufRuntime.load({ path: join(MODELS, 'tiny-bert-embed.gguf'), threads: 1 }));
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'aidos-test-key', maxRetries: 0 });
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  for (const runtime of runtimes.values()) await runtime.dispose();
});

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

describe('the official openai client against the wire format', () => {
  it('lists the models', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['tiny', 'embed']);
  });

  it('gets a chat completion with usage', async () => {
    const completion = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'The quick brown' }],
      temperature: 0,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]).toMatchObject({
      message: { role: 'assistant', content: ' fox jumps over the lazy dog.' },
      finish_reason: 'stop',
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 9, total_tokens: 13 });
  });

  it('streams chat deltas that concatenate to the same text, then usage and [DONE]', async () => {
    const request = {
      model: 'tiny',
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
      temperature: 0,
      max_tokens: 12,
    };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(finishes.at(-1)).toBe('length');
    // The same prompt again: all but its last token come from the slot's KV cache.
    expect(usage).toEqual({ ...whole.usage, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it('gets text completions, streamed and not', async () => {
    const completion = await client.completions.create({ model: 'tiny', prompt: 'Node.js runs', temperature: 0 });
    expect(completion.choices[0]).toMatchObject({ text: ' JavaScript on the server.', finish_reason: 'stop' });
    const stream = await client.completions.create({
      model: 'tiny',
      prompt: 'Node.js runs',
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(' JavaScript on the server.');
  });

  it("generates max_tokens exactly with llama-server's ignore_eos extension, past where the model would stop", async () => {
    // An extra body field, as llama-server's users send it through the client.
    const params = { model: 'tiny', prompt: 'Node.js runs', temperature: 0, max_tokens: 24, ignore_eos: true };
    const completion = await client.completions.create(params);
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(24);
    expect(completion.choices[0]?.text.startsWith(' JavaScript on the server.')).toBe(true);
    expect(completion.choices[0]?.text.length).toBeGreaterThan(' JavaScript on the server.'.length);
  });

  it('gets JSON that validates against a schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'tiny',
      messages: [{ role: 'user', content: 'Is it sunny?' }],
      temperature: 0,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: { type: 'object', properties: { sunny: { type: 'boolean' } }, required: ['sunny'] },
        },
      },
    });
    const parsed = JSON.parse(completion.choices[0]?.message.content ?? '') as { sunny: unknown };
    expect(typeof parsed.sunny).toBe('boolean');
  });

  it('gets embeddings in base64 (the client default) and as floats, matching the expected vectors', async () => {
    const expected = JSON.parse(await readFile(join(MODELS, 'tiny-bert-embed.expected.json'), 'utf8')) as {
      vectors: { text: string; embedding: number[] }[];
    };
    const texts = expected.vectors.slice(0, 2).map((v) => v.text);
    const base64 = await client.embeddings.create({ model: 'embed', input: texts });
    const floats = await client.embeddings.create({ model: 'embed', input: texts, encoding_format: 'float' });
    expect(base64.usage.prompt_tokens).toBeGreaterThan(4);
    for (const [i, item] of base64.data.entries()) {
      const want = expected.vectors[i]!.embedding;
      const got = item.embedding;
      const cosine = got.reduce((s, x, j) => s + x * want[j]!, 0) / (Math.hypot(...got) * Math.hypot(...want));
      expect(cosine).toBeGreaterThanOrEqual(0.9999);
      floats.data[i]!.embedding.forEach((x, j) => expect(Math.abs(x - got[j]!)).toBeLessThan(1e-6));
    }
  });

  it('surfaces errors in OpenAI shape: too long, bad field, unknown model, wrong kind', async () => {
    const tooLong = await apiError(
      client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'word '.repeat(200) }] }),
    );
    expect(tooLong).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      param: 'messages',
      type: 'invalid_request_error',
    });
    const bad = await apiError(
      client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'x' }], temperature: 5 }),
    );
    expect(bad).toMatchObject({ status: 400, param: 'temperature' });
    expect(bad.message).toContain('temperature: ');
    const unknown = await apiError(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found' });
    const wrongKind = await apiError(client.embeddings.create({ model: 'tiny', input: 'x' }));
    expect(wrongKind).toMatchObject({ status: 400, param: 'model', code: 'model_not_supported' });
  });

  it('stops generating and frees the slot when the client aborts a stream', async () => {
    const runtime = runtimes.get('tiny')!;
    const stream = await client.completions.create({
      model: 'tiny',
      prompt: 'word word word',
      temperature: 0,
      stream: true,
      logit_bias: { '2': -100 },
    });
    let chunks = 0;
    for await (const _chunk of stream) {
      if (++chunks === 3) stream.controller.abort();
    }
    for (let i = 0; i < 100 && runtime.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(runtime.stats()).toMatchObject({ inFlight: 0, queued: 0 });
    expect(runtime.stats().last).toMatchObject({ finishReason: 'cancelled' });
    expect(runtime.stats().last?.completionTokens).toBeLessThan(100);
    const after = await client.completions.create({ model: 'tiny', prompt: 'The quick brown', temperature: 0 });
    expect(after.choices[0]?.text).toBe(' fox jumps over the lazy dog.');
  });
});
