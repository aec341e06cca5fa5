import { describe, expect, it } from 'vitest';
import {
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionRequest,
  EmbeddingRequest,
} from '#shared/contracts/openai';
import { AppError } from '#shared/errors';
import {
  buildChatCompletion,
  buildEmbeddingList,
  buildTextCompletion,
  chatCompletionSse,
  chatRequestToRuntime,
  completionRequestToRuntime,
  embeddingInputs,
  parseChatCompletionRequest,
  parseOpenAiBody,
  SSE_DONE,
  SSE_HOLD_MS,
  textCompletionSse,
  toOpenAiError,
} from './openai-wire';
import type { Generation, GenerationFinish, GenerationResult } from './runtime';

function result(text: string, finishReason: GenerationFinish = 'stop'): GenerationResult {
  return {
    text,
    finishReason,
    promptTokens: 4,
    cachedPromptTokens: 1,
    completionTokens: 3,
    stats: {
      id: 'x',
      kind: 'chat',
      promptTokens: 4,
      cachedPromptTokens: 1,
      completionTokens: 3,
      finishReason,
      queuedMs: 0,
      ttftMs: 1,
      durationMs: 2,
      tokensPerSecond: 100,
    },
  };
}

/** A generation that yields `deltas`, each after `gapMs` (0: all at once, as a fast model's tokens come). */
function fakeGeneration(deltas: string[], finish: GenerationFinish = 'stop', gapMs = 0): Generation {
  return {
    id: 'g',
    promptTokens: 4,
    cachedPromptTokens: 1,
    result: Promise.resolve(result(deltas.join(''), finish)),
    cancel: () => {},
    async *[Symbol.asyncIterator]() {
      for (const delta of deltas) {
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        yield delta;
      }
    },
  };
}

async function collect(frames: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const frame of frames) out.push(frame);
  return out;
}

/** The SSE events of pieces written one after the other (a piece is one socket write of whole events). */
function eventsOf(pieces: readonly string[]): string[] {
  return pieces.flatMap((piece) => {
    expect(piece.endsWith('\n\n')).toBe(true);
    return piece
      .slice(0, -2)
      .split('\n\n')
      .map((event) => `${event}\n\n`);
  });
}

const meta = { id: 'chatcmpl-1', created: 1_700_000_000, model: 'tiny' };

function parseError(schema: Parameters<typeof parseOpenAiBody>[0], body: unknown): AppError {
  try {
    parseOpenAiBody(schema, body);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a validation error');
}

describe('OpenAI request schemas', () => {
  it('accepts what the official client sends and drops fields it does not know', () => {
    const body = parseOpenAiBody(ChatCompletionRequest, {
      model: 'tiny',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'The quick ' },
            { type: 'text', text: 'brown' },
          ],
        },
      ],
      temperature: 0,
      max_completion_tokens: 8,
      max_tokens: 99,
      stop: 'dog',
      seed: 7,
      stream: true,
      stream_options: { include_usage: true },
      store: false,
      metadata: { a: 'b' },
      reasoning_effort: 'low',
    });
    expect(body).not.toHaveProperty('store');
    const { messages, sampling } = chatRequestToRuntime(body);
    expect(messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'The quick brown' },
    ]);
    expect(sampling).toEqual({ temperature: 0, maxTokens: 8, stop: ['dog'], seed: 7 });
  });

  it('maps response formats to grammars (a json_schema without a schema is plain JSON mode)', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    const withSchema = parseOpenAiBody(ChatCompletionRequest, {
      ...base,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
    });
    expect(chatRequestToRuntime(withSchema).sampling.responseFormat).toEqual({
      type: 'json_schema',
      schema: { type: 'object' },
    });
    const noSchema = parseOpenAiBody(ChatCompletionRequest, {
      ...base,
      response_format: { type: 'json_schema', json_schema: { name: 'answer' } },
    });
    expect(chatRequestToRuntime(noSchema).sampling.responseFormat).toEqual({ type: 'json_object' });
  });

  it('names the field of a bad value in the message and in param', () => {
    const cases: [unknown, string][] = [
      [{ model: 'm', messages: [] }, 'messages'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 'temperature'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 0 }, 'max_tokens'],
      [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
      [
        { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
        'messages[0].content[0].type',
      ],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 }, 'n'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] }, 'tools'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], functions: [{ name: 'f' }] }, 'functions'],
      [{ model: 'm', messages: [{ role: 'user', content: 'x' }], function_call: { name: 'f' } }, 'function_call'],
      [
        {
          model: 'm',
          messages: [
            { role: 'user', content: 'x' },
            { role: 'assistant', content: null, function_call: { name: 'f', arguments: '{}' } },
          ],
        },
        'messages[1].function_call',
      ],
    ];
    for (const [body, param] of cases) {
      const error = parseError(ChatCompletionRequest, body);
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message.startsWith(`${param}: `)).toBe(true);
      expect(toOpenAiError(error).body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    // A value of none of a field's shapes says which shapes it takes.
    const stop = parseError(ChatCompletionRequest, {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stop: ['a', 'b', 'c', 'd', 'e'],
    });
    expect(stop.message).toBe('stop: give a string or a list of at most 4 strings');
  });

  it('checks chat requests without zod as the schema does: the same output, the same refusals', () => {
    const user = { role: 'user', content: 'x' };
    const valid: unknown[] = [
      { model: 'm', messages: [user] },
      {
        model: 'm',
        messages: [
          { role: 'system', content: 'Be brief.', name: 'rules' },
          { role: 'developer', content: 'd' },
          user,
          { role: 'assistant', content: null, tool_calls: [], extra: 1 },
          { role: 'assistant', content: 'y', function_call: null },
          { role: 'assistant' },
        ],
        temperature: 0.5,
        top_p: 1,
        max_tokens: 8,
        max_completion_tokens: null,
        stop: ['a', 'b'],
        seed: -3,
        presence_penalty: 2,
        frequency_penalty: -2,
        stream: true,
        stream_options: { include_usage: true, other: 1 },
        n: 1,
        logprobs: false,
        top_logprobs: 0,
        ignore_eos: true,
        user: 'u',
        tool_choice: 'none',
        tools: [],
        logit_bias: null,
        response_format: { type: 'json_object' },
        store: false,
      },
      { model: 'm', messages: [user], stream_options: {}, response_format: null, stop: 'x' },
      JSON.parse('{"model":"m","messages":[{"role":"user","content":"x"}],"constructor":1,"toString":"s"}'),
      // Out of the common shape (content parts, a schema, biases): the schema parses these.
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }] },
      { model: 'm', messages: [user], logit_bias: { '5': -100 } },
    ];
    for (const body of valid) {
      expect(parseChatCompletionRequest(body)).toEqual(parseOpenAiBody(ChatCompletionRequest, body));
    }
    const invalid: unknown[] = [
      null,
      { messages: [user] },
      { model: '', messages: [user] },
      { model: 'm', messages: [] },
      { model: 'm', messages: [{ role: 'user' }] },
      { model: 'm', messages: [{ role: 'user', content: 'x', name: null }] },
      { model: 'm', messages: [{ role: 'assistant', content: 'x', tool_calls: [{}] }] },
      { model: 'm', messages: [{ role: 'assistant', content: null, function_call: { name: 'f' } }] },
      { model: 'm', messages: [user], top_p: 0 },
      { model: 'm', messages: [user], max_tokens: 1.5 },
      { model: 'm', messages: [user], seed: 2 ** 60 },
      { model: 'm', messages: [user], stream: 'yes' },
      { model: 'm', messages: [user], stream_options: { include_usage: 1 } },
      { model: 'm', messages: [user], user: null },
      { model: 'm', messages: [user], response_format: { type: 'xml' } },
    ];
    for (const body of invalid) {
      let error: unknown = null;
      try {
        parseChatCompletionRequest(body);
      } catch (caught) {
        error = caught;
      }
      expect(error).toEqual(parseError(ChatCompletionRequest, body));
    }
  });

  it('parses completion and embedding bodies', () => {
    const completion = completionRequestToRuntime(
      parseOpenAiBody(CompletionRequest, { model: 'm', prompt: ['a', 'b'], max_tokens: 4, echo: true, best_of: 1 }),
    );
    expect(completion).toEqual({ prompts: ['a', 'b'], echo: true, sampling: { maxTokens: 4 } });
    expect(() =>
      completionRequestToRuntime(parseOpenAiBody(CompletionRequest, { model: 'm', prompt: ['a', 'b'], stream: true })),
    ).toThrow(/prompt: only one prompt/);
    expect(parseError(CompletionRequest, { model: 'm', prompt: 'a', suffix: 'z' }).message).toMatch(/^suffix: /);
    const embedding = parseOpenAiBody(EmbeddingRequest, { model: 'e', input: 'hi', encoding_format: 'base64' });
    expect(embeddingInputs(embedding.input)).toEqual(['hi']);
    expect(embeddingInputs([1, 2, 3])).toEqual([[1, 2, 3]]);
    expect(embeddingInputs([[1], [2]])).toEqual([[1], [2]]);
    expect(parseError(EmbeddingRequest, { model: 'e', input: '' }).message).toMatch(/^input/);
  });
});

describe('OpenAI response builders', () => {
  it('builds a chat.completion with usage and cached prompt tokens', () => {
    expect(buildChatCompletion(meta, result(' fox', 'length'))).toEqual({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'tiny',
      system_fingerprint: null,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: ' fox', refusal: null },
          logprobs: null,
          finish_reason: 'length',
        },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } },
    });
  });

  it('streams a role chunk, deltas, a finish chunk, a usage chunk and [DONE]', async () => {
    const frames = eventsOf(await collect(chatCompletionSse(fakeGeneration([' fox', ' jumps']), meta, true)));
    expect(frames.at(-1)).toBe(SSE_DONE);
    const chunks = frames.slice(0, -1).map((frame) => {
      expect(frame.startsWith('data: ')).toBe(true);
      return ChatCompletionChunk.parse(JSON.parse(frame.slice(6)));
    });
    expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '' },
      { content: ' fox' },
      { content: ' jumps' },
      {},
      null,
    ]);
    expect(chunks.map((c) => c.choices[0]?.finish_reason ?? null)).toEqual([null, null, null, 'stop', null]);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
    expect(new Set(chunks.map((c) => c.id))).toEqual(new Set(['chatcmpl-1']));
  });

  it('writes the first delta at once with the role chunk and deltas that come faster than the hold time together', async () => {
    const words = Array.from({ length: 20 }, (_, i) => ` w${i}`);
    const pieces = await collect(chatCompletionSse(fakeGeneration(words), meta));
    const contentOf = (event: string) =>
      ChatCompletionChunk.parse(JSON.parse(event.slice(6))).choices[0]?.delta.content ?? null;
    const events = eventsOf(pieces);
    expect(events.slice(1, 21).map(contentOf)).toEqual(words);
    expect(events.at(-1)).toBe(SSE_DONE);
    // The role chunk waits for the first delta (one write with the headers), which goes alone.
    expect(eventsOf([pieces[0] as string]).map(contentOf)).toEqual(['', ' w0']);
    expect(pieces.length).toBeLessThan(events.length - 10);
    // A model slower than the hold time gets every delta written as it comes (the last one with the closing events).
    const slow = await collect(chatCompletionSse(fakeGeneration([' a', ' b', ' c'], 'stop', SSE_HOLD_MS + 2), meta));
    expect(slow.map((piece) => contentOf(eventsOf([piece])[0] as string))).toEqual(['', ' b', ' c']);
    expect(contentOf(eventsOf(slow)[1] as string)).toBe(' a');
  });

  it('starts the generation before the stream is read, and cancels it when the reader leaves', async () => {
    let started = false;
    let cancelled = 0;
    let closed = 0;
    const generation: Generation = {
      ...fakeGeneration([]),
      cancel: () => void cancelled++,
      async *[Symbol.asyncIterator]() {
        started = true;
        yield ' a';
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield ' b';
      },
    };
    const stream = chatCompletionSse(generation, meta, false, async () => void closed++);
    // The prompt is evaluated while the response is set up, not once the gateway starts reading.
    expect(started).toBe(true);
    const first = await stream.next();
    expect(eventsOf([first.value as string])).toHaveLength(2);
    expect(await stream.return?.()).toEqual({ done: true, value: undefined });
    expect([cancelled, closed]).toEqual([1, 1]);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(closed).toBe(1);
  });

  it('leaves usage out of chunks unless asked, and ends a cancelled stream without [DONE]', async () => {
    const plain = await collect(chatCompletionSse(fakeGeneration(['a']), meta));
    expect(plain.some((frame) => frame.includes('"usage"'))).toBe(false);
    const cancelled = eventsOf(await collect(chatCompletionSse(fakeGeneration(['a'], 'cancelled'), meta)));
    expect(cancelled).toHaveLength(2);
    expect(cancelled.join('')).not.toContain('[DONE]');
  });

  it('builds text completions, echoing prompts when asked', async () => {
    const body = buildTextCompletion(
      { ...meta, id: 'cmpl-1' },
      [result(' fox'), result(' there', 'length')],
      ['a', 'b'],
    );
    expect(body.object).toBe('text_completion');
    expect(body.choices.map((c) => [c.text, c.finish_reason])).toEqual([
      ['a fox', 'stop'],
      ['b there', 'length'],
    ]);
    expect(body.usage?.total_tokens).toBe(14);
    const frames = eventsOf(await collect(textCompletionSse(fakeGeneration([' fox']), meta, false, 'The quick brown')));
    const texts = frames
      .slice(0, -1)
      .map((f) => (JSON.parse(f.slice(6)) as { choices: { text: string }[] }).choices[0]?.text);
    expect(texts).toEqual(['The quick brown', ' fox', '']);
  });

  it('encodes embeddings as floats or as base64 float32 bytes', () => {
    const vector = [0.5, -1.25, 3];
    const floats = buildEmbeddingList('e', [vector], 5);
    expect(floats.data[0]).toEqual({ object: 'embedding', index: 0, embedding: vector });
    expect(floats.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    const base64 = buildEmbeddingList('e', [vector], 5, 'base64').data[0]?.embedding as string;
    const bytes = Buffer.from(base64, 'base64');
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)]).toEqual(vector);
  });
});

describe('toOpenAiError', () => {
  it('maps AppErrors to status, type, param and code', () => {
    const tooLong = new AppError('INVALID_ARGUMENT', 'too long', {
      code: 'context_length_exceeded',
      param: 'messages',
    });
    expect(toOpenAiError(tooLong)).toEqual({
      status: 400,
      body: {
        error: {
          message: 'too long',
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      },
    });
    const busy = new AppError('RESOURCE_EXHAUSTED', 'busy', { reason: 'queue_full' }, 429);
    expect(toOpenAiError(busy)).toMatchObject({
      status: 429,
      body: { error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' } },
    });
    // Neither is a body over the limit: the request's own fault.
    const tooLarge = new AppError('RESOURCE_EXHAUSTED', 'the request body is larger than the limit', undefined, 413);
    expect(toOpenAiError(tooLarge)).toMatchObject({
      status: 413,
      body: { error: { type: 'invalid_request_error', code: 'request_too_large' } },
    });
    // A model that does not fit is no rate limit: a 503, a server error, saying what it is.
    const tooBig = AppError.insufficientMemory('needs 8 GiB of RAM and 2 GiB is available', { field: 'model' });
    expect(toOpenAiError(tooBig)).toEqual({
      status: 503,
      body: {
        error: {
          message: 'needs 8 GiB of RAM and 2 GiB is available',
          type: 'server_error',
          param: 'model',
          code: 'insufficient_memory',
        },
      },
    });
    expect(toOpenAiError(AppError.notFound('model', 'nope'))).toMatchObject({
      status: 404,
      body: { error: { code: 'model_not_found' } },
    });
    expect(toOpenAiError(new Error('secret path /x'))).toEqual({
      status: 500,
      body: { error: { message: 'internal error', type: 'server_error', param: null, code: null } },
    });
  });
});
