import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { inspectGguf } from './gguf-inspect';
import { type Generation, GgufRuntime } from './runtime';
import { fixturePath } from '#platform/testing';

// Real fixtures (test-fixtures/README.md). threads: 1 everywhere: these machines have two shared cores.
const MODELS = fixturePath('models');
const LLAMA = join(MODELS, 'tiny-llama-memorizer-q8.gguf');
const BERT = join(MODELS, 'tiny-bert-embed.gguf');
const MEMORISED: [string, string][] = [
  ['The quick brown', ' fox jumps over the lazy dog.'],
  ['Once upon a time', ' there was a little robot who loved to count: one, two, three, four, five.'],
  ['Node.js runs', ' JavaScript on the server.'],
];
/** A prompt the model did not memorise, generated with end-of-generation banned: runs until the context is full. */
const RAMBLE = 'word word word';
const LONG = { temperature: 0, ignoreEos: true } as const;

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function deltas(generation: Generation): Promise<string[]> {
  const out: string[] = [];
  for await (const delta of generation) out.push(delta);
  return out;
}

let llm: GgufRuntime;
let bert: GgufRuntime;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aidos-llm-'));
  llm = await GgufRuntime.load({ path: LLAMA, threads: 1, parallel: 1, name: 'tiny' });
  bert = await GgufRuntime.load({ path: BERT, threads: 1 });
});

afterAll(async () => {
  await llm?.dispose();
  await bert?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('loading and estimating', () => {
  it('estimates weights, context and KV cache from the header and detects the model kind', async () => {
    const one = await inspectGguf(LLAMA, { contextSize: 128, parallel: 1 });
    expect(one.summary).toMatchObject({
      architecture: 'llama',
      kind: 'generation',
      trainContextSize: 128,
      hasChatTemplate: false,
    });
    expect(one.estimate.weights.ramBytes).toBeGreaterThan(2_000_000);
    expect(one.estimate.vramBytes).toBe(0);
    // 2 layers × 128 tokens × 4 KV heads × (16 + 16) dims × 2 bytes.
    expect(one.estimate.kvCacheBytes).toBe(65_536);
    expect(one.estimate.ramBytes).toBe(one.estimate.weights.ramBytes + one.estimate.context.ramBytes);
    const two = await inspectGguf(LLAMA, { contextSize: 128, parallel: 2 });
    expect(two.estimate.context.ramBytes).toBeGreaterThan(one.estimate.context.ramBytes);
    expect(two.estimate.kvCacheBytes).toBe(131_072);
    const embedder = await inspectGguf(BERT);
    expect(embedder.summary).toMatchObject({
      architecture: 'bert',
      kind: 'embedding',
      kindReason: 'architecture bert',
    });
    expect(bert.info).toMatchObject({ kind: 'embedding', embeddingDimension: 128, chatFormat: null });
    expect(llm.info).toMatchObject({ kind: 'generation', contextSize: 128, chatFormat: 'raw' });
  });

  it('refuses a truncated, a garbage or a missing file with an error naming it, and keeps running', async () => {
    const bytes = await readFile(LLAMA);
    const cases = {
      'cut-in-weights.gguf': bytes.subarray(0, 2_000_000),
      'cut-in-header.gguf': bytes.subarray(0, 100_000),
      'garbage.gguf': Buffer.from('this is not a model, only some text'.repeat(100)),
      'bad-header.gguf': Buffer.concat([bytes.subarray(0, 8), Buffer.alloc(64, 0xff)]),
    };
    for (const [name, content] of Object.entries(cases)) {
      const path = join(tmp, name);
      await writeFile(path, content);
      // Each started only when awaited: a second one rejecting while the first is awaited would be unhandled.
      for (const attempt of [() => inspectGguf(path), () => GgufRuntime.load({ path, threads: 1 })]) {
        const error = await rejection(attempt());
        expect(error.code).toBe('INVALID_ARGUMENT');
        expect(error.message).toContain(`GGUF file '${path}' is corrupted or truncated`);
      }
    }
    const missing = await rejection(inspectGguf(join(tmp, 'missing.gguf')));
    expect(missing.code).toBe('NOT_FOUND');
    expect((await llm.complete('Node.js runs', { temperature: 0 })).text).toBe(' JavaScript on the server.');
  });

  it('refuses a context larger than the model was trained for', async () => {
    const error = await rejection(GgufRuntime.load({ path: LLAMA, contextSize: 4096, threads: 1 }));
    expect(error.message).toMatch(/^contextSize: 4096 is more than the model's training context of 128/);
  });
});

describe('generation', () => {
  it('reproduces the memorised continuations at temperature 0, as completions and as raw chats', async () => {
    for (const [prompt, continuation] of MEMORISED) {
      const completion = await llm.complete(prompt, { temperature: 0 });
      expect(completion).toMatchObject({ text: continuation, finishReason: 'stop' });
      expect(completion.completionTokens).toBeGreaterThan(3);
      expect(completion.promptTokens).toBe(llm.tokenize(prompt).length + 1);
      const chat = await llm.chat([{ role: 'user', content: prompt }], { temperature: 0 });
      expect(chat.text).toBe(continuation);
    }
  });

  it('streams deltas that concatenate to the non-streamed text', async () => {
    const whole = await llm.complete(RAMBLE, LONG);
    expect(whole.finishReason).toBe('length');
    expect(whole.promptTokens + whole.completionTokens).toBe(128);
    const pieces = await deltas(await llm.startCompletion(RAMBLE, LONG));
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.join('')).toBe(whole.text);
  });

  it('stops at max_tokens with finish reason length, and before a stop string', async () => {
    const short = await llm.complete('Once upon a time', { temperature: 0, maxTokens: 3 });
    expect(short).toMatchObject({ text: ' there was a', finishReason: 'length', completionTokens: 3 });
    const banned = await llm.complete('Once upon a time', {
      temperature: 0,
      logitBias: { [llm.tokenize('there')[0]!]: -100 },
    });
    expect(banned.text.startsWith(' was a little robot')).toBe(true);
    const stopped = await llm.complete('Once upon a time', { temperature: 0, stop: ['count', 'nothing'] });
    expect(stopped).toMatchObject({ text: ' there was a little robot who loved to ', finishReason: 'stop' });
    const streamed = await deltas(await llm.startCompletion('Once upon a time', { temperature: 0, stop: ['count'] }));
    expect(streamed.join('')).toBe(stopped.text);
  });

  it('samples the same text for the same seed', async () => {
    const sample = (seed: number) => llm.complete('Hello', { temperature: 1, seed, maxTokens: 12 });
    const first = await sample(1);
    expect((await sample(1)).text).toBe(first.text);
    const others = new Set<string>();
    for (const seed of [2, 3, 4, 5]) others.add((await sample(seed)).text);
    others.add(first.text);
    expect(others.size).toBeGreaterThan(1);
    // Negative seeds are seeds of their own (node-llama-cpp alone samples them all as 0).
    const wild = (seed: number) => llm.complete('zq xv', { temperature: 2, seed, maxTokens: 12 });
    expect((await wild(-5)).text).not.toBe((await wild(0)).text);
  });

  it('samples differently without a seed, even within the same second', async () => {
    // node-llama-cpp's own default seed is the current second: five quick requests would all sample alike.
    const texts = new Set<string>();
    for (let i = 0; i < 5; i++) texts.add((await llm.complete('Hello', { temperature: 1, maxTokens: 12 })).text);
    expect(texts.size).toBeGreaterThan(1);
  });

  it('forces valid JSON with json_object and a JSON schema, streamed or not', async () => {
    const object = await llm.complete('The quick brown', { temperature: 0, responseFormat: { type: 'json_object' } });
    expect(typeof JSON.parse(object.text)).toBe('object');
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, color: { enum: ['red', 'green'] } },
      required: ['ok', 'color'],
    };
    const sampling = { temperature: 0, responseFormat: { type: 'json_schema', schema } } as const;
    const answer = await llm.chat([{ role: 'user', content: 'Pick a color' }], sampling);
    expect(answer.finishReason).toBe('stop');
    const parsed = JSON.parse(answer.text) as { ok: unknown; color: unknown };
    expect(typeof parsed.ok).toBe('boolean');
    expect(['red', 'green']).toContain(parsed.color);
    expect(answer.text).toBe(answer.text.trim());
    const streamed = await deltas(await llm.startChat([{ role: 'user', content: 'Pick a color' }], sampling));
    expect(streamed.join('')).toBe(answer.text);
  });

  it('holds to anyOf and to a schema without a type, and refuses what a grammar cannot hold to', async () => {
    // node-llama-cpp alone takes both for `null`.
    for (const schema of [
      { anyOf: [{ type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] }] },
      { properties: { ok: { type: 'boolean' } }, required: ['ok'] },
    ]) {
      const answer = await llm.chat([{ role: 'user', content: 'Yes?' }], {
        temperature: 0,
        responseFormat: { type: 'json_schema', schema },
      });
      expect(typeof (JSON.parse(answer.text) as { ok: unknown }).ok, answer.text).toBe('boolean');
    }
    const error = await rejection(
      llm.chat([{ role: 'user', content: 'Name?' }], {
        responseFormat: { type: 'json_schema', schema: { type: 'string', pattern: '^[a-z]{3}$' } },
      }),
    );
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'response_format.json_schema.schema.pattern' },
    });
    expect(llm.stats().inFlight).toBe(0);
  });

  it('refuses a prompt longer than the context with context_length_exceeded', async () => {
    const error = await rejection(llm.chat([{ role: 'user', content: 'word '.repeat(200) }]));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ code: 'context_length_exceeded', param: 'messages', contextSize: 128 });
    expect(error.message).toMatch(/maximum context length is 128 tokens/);
    expect(llm.stats().inFlight).toBe(0);
  });
});

describe('KV cache reuse', () => {
  it('evaluates only the new tokens of a next turn and answers as a fresh sequence does', async () => {
    const first = [{ role: 'user', content: 'The quick brown' }] as const;
    const turn1 = await llm.chat(first, { temperature: 0 });
    const next = [
      ...first,
      { role: 'assistant', content: turn1.text },
      { role: 'user', content: ' Once upon a time' },
    ] as const;
    const turn2 = await llm.chat(next, { temperature: 0 });
    // BOS + 3 prompt tokens + 9 generated tokens stay in the slot; only " Once upon a time" is evaluated.
    expect(turn2.promptTokens).toBe(17);
    expect(turn2.cachedPromptTokens).toBe(13);
    await llm.clearCache();
    const fresh = await llm.chat(next, { temperature: 0 });
    expect(fresh.cachedPromptTokens).toBe(0);
    expect(fresh.text).toBe(turn2.text);
  });

  it('reuses the prefix through a chat template too', async () => {
    const chatml = await GgufRuntime.load({ path: LLAMA, threads: 1, chatFormat: 'chatML' });
    try {
      expect(chatml.info.chatFormat).toBe('ChatML');
      const first = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ] as const;
      const turn1 = await chatml.chat(first, { temperature: 0, maxTokens: 8 });
      const next = [...first, { role: 'assistant', content: turn1.text }, { role: 'user', content: 'More' }] as const;
      const turn2 = await chatml.chat(next, { temperature: 0, maxTokens: 8 });
      expect(turn2.cachedPromptTokens).toBeGreaterThanOrEqual(turn1.promptTokens);
      expect(turn2.promptTokens).toBeGreaterThan(turn2.cachedPromptTokens);
    } finally {
      await chatml.dispose();
    }
  });
});

describe('concurrency', () => {
  it('serves parallel sequences of one context, each with its own answer', async () => {
    const two = await GgufRuntime.load({ path: LLAMA, threads: 1, parallel: 2 });
    try {
      const results = await Promise.all(MEMORISED.map(([prompt]) => two.complete(prompt, { temperature: 0 })));
      expect(results.map((r) => r.text)).toEqual(MEMORISED.map(([, continuation]) => continuation));
      expect(two.stats()).toMatchObject({ parallel: 2, inFlight: 0, queued: 0 });
    } finally {
      await two.dispose();
    }
  });

  it('frees the slot at once when a stream is aborted, so the queued request runs', async () => {
    const controller = new AbortController();
    const streaming = await llm.startCompletion(RAMBLE, LONG, { signal: controller.signal });
    const iterator = streaming[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    expect((await iterator.next()).done).toBe(false);
    const queued = llm.complete('The quick brown', { temperature: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(llm.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    controller.abort();
    const aborted = await streaming.result;
    expect(aborted.finishReason).toBe('cancelled');
    expect(aborted.completionTokens).toBeLessThan(5);
    expect((await queued).text).toBe(' fox jumps over the lazy dog.');
    expect((await iterator.next()).done).toBe(true);
    expect(llm.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('stops a generation whose consumer breaks out, and one cancelled before it was iterated', async () => {
    for await (const _delta of await llm.startCompletion(RAMBLE, LONG)) break;
    const idle = await llm.startCompletion(RAMBLE, LONG);
    idle.cancel();
    expect((await idle.result).finishReason).toBe('cancelled');
    expect(llm.stats().inFlight).toBe(0);
  });

  it('refuses requests beyond the queue bound with a 429 and counts the queue', async () => {
    const small = await GgufRuntime.load({ path: LLAMA, threads: 1, maxQueue: 1 });
    try {
      const holding = await small.startCompletion(RAMBLE, LONG);
      const waiting = small.complete('Node.js runs', { temperature: 0 });
      const refused = await rejection(small.complete('The quick brown'));
      expect(refused.code).toBe('RESOURCE_EXHAUSTED');
      expect(refused.httpStatus).toBe(429);
      expect(small.stats()).toMatchObject({ inFlight: 1, queued: 1, maxQueue: 1 });
      holding.cancel();
      expect((await waiting).text).toBe(' JavaScript on the server.');
      const stats = small.stats();
      expect(stats.requests).toEqual({ completed: 1, cancelled: 1, failed: 0 });
      expect(stats.last).toMatchObject({ kind: 'completion', promptTokens: 5, finishReason: 'stop' });
      expect(stats.last?.ttftMs).toBeGreaterThan(0);
      expect(stats.last?.tokensPerSecond).toBeGreaterThan(0);
    } finally {
      await small.dispose();
    }
  });

  it('rejects requests after unloading', async () => {
    const gone = await GgufRuntime.load({ path: LLAMA, threads: 1 });
    const running = await gone.startCompletion(RAMBLE, LONG);
    await gone.dispose();
    // Cut off by the unload, not finished: the caller is told so.
    expect(await rejection(running.result)).toMatchObject({ details: { code: 'model_unloaded' } });
    expect((await rejection(gone.complete('x'))).code).toBe('FAILED_PRECONDITION');
  });
});

describe('embeddings', () => {
  it('reproduces the expected vectors (cosine ≥ 0.9999)', async () => {
    const expected = JSON.parse(await readFile(join(MODELS, 'tiny-bert-embed.expected.json'), 'utf8')) as {
      vectors: { text: string; embedding: number[] }[];
    };
    const result = await bert.embed(expected.vectors.map((v) => v.text));
    expect(result.dimension).toBe(128);
    expect(result.promptTokens).toBeGreaterThan(expected.vectors.length * 2);
    result.vectors.forEach((vector, i) => {
      const want = expected.vectors[i]!.embedding;
      const dot = vector.reduce((sum, x, j) => sum + x * want[j]!, 0);
      const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
      expect(dot / (norm(vector) * norm(want))).toBeGreaterThanOrEqual(0.9999);
    });
  });

  it('refuses embeddings on a generation model, chat on an embedding model, and over-long input', async () => {
    expect((await rejection(llm.embed(['hello']))).details).toMatchObject({
      param: 'model',
      code: 'model_not_supported',
    });
    expect((await rejection(bert.chat([{ role: 'user', content: 'hi' }]))).message).toMatch(/embedding model/);
    expect((await rejection(bert.complete('hi'))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(bert.embed([[101, 999_999, 102]]))).message).toMatch(/^input: token id 999999 is not in/);
    expect((await rejection(llm.complete('x', { logitBias: { 32_000: 1 } }))).message).toMatch(/^logit_bias: token id/);
    expect(llm.stats().inFlight).toBe(0);
    const long = await rejection(bert.embed(['word '.repeat(200)]));
    expect(long.details).toMatchObject({ code: 'context_length_exceeded', param: 'input' });
  });
});
