import { describe, expect, it } from 'vitest';
import { chatBody, embed, InferenceError, parseChunk, streamChat, type InferenceTarget } from './inference';

function chunk(content: string | null, finish: string | null = null): string {
  const choices =
    content === null && finish === null
      ? []
      : [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }];
  return `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices })}\n\n`;
}

/** A fetch answering with the given SSE text, split into the given pieces; it records what it was asked. */
function sseFetch(pieces: readonly string[], calls: { url: string; init: RequestInit }[] = []): typeof fetch {
  return (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const encoder = new TextEncoder();
    const signal = init?.signal;
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const p of pieces) {
          if (signal?.aborted) return;
          controller.enqueue(encoder.encode(p));
          await new Promise((r) => setTimeout(r, 1));
        }
        controller.close();
      },
    });
    signal?.addEventListener('abort', () => stream.cancel().catch(() => undefined));
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }) as typeof fetch;
}

const request = {
  model: 'tiny',
  messages: [{ role: 'user' as const, content: 'The quick brown' }],
  temperature: 0,
  maxTokens: 64,
};

describe('streamChat', () => {
  it('posts a streamed chat with the bearer token and gathers the deltas until [DONE]', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const target: InferenceTarget = {
      baseUrl: 'http://127.0.0.1:8000',
      token: 'tok',
      fetch: sseFetch(
        [
          chunk(''),
          chunk(' fox'),
          chunk(' jumps over the lazy dog.'),
          chunk(null, 'stop'),
          `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 } })}\n\n`,
          'data: [DONE]\n\n',
        ],
        calls,
      ),
    };
    const deltas: string[] = [];
    const result = await streamChat(target, request, (d) => deltas.push(d));
    expect(deltas).toEqual([' fox', ' jumps over the lazy dog.']);
    expect(result).toEqual({
      text: ' fox jumps over the lazy dog.',
      finishReason: 'stop',
      usage: { promptTokens: 4, completionTokens: 8 },
      stopped: false,
    });
    expect(calls[0]?.url).toBe('http://127.0.0.1:8000/v1/chat/completions');
    expect((calls[0]?.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
    expect(JSON.parse(String(calls[0]?.init.body))).toEqual(chatBody(request));
  });

  it('resolves with what came so far, stopped, when the caller aborts', async () => {
    const abort = new AbortController();
    const pieces = Array.from({ length: 50 }, (_, i) => chunk(` w${i}`));
    const target: InferenceTarget = { baseUrl: 'http://x', token: null, fetch: sseFetch(pieces) };
    const deltas: string[] = [];
    const result = await streamChat(
      target,
      request,
      (d) => {
        deltas.push(d);
        if (deltas.length === 3) abort.abort();
      },
      abort.signal,
    );
    expect(result.stopped).toBe(true);
    expect(result.finishReason).toBeNull();
    expect(result.text.startsWith(' w0 w1 w2')).toBe(true);
    expect(deltas.length).toBeLessThan(50);
  });

  it("throws the server's OpenAI-shaped refusal with its status, code and param", async () => {
    const target: InferenceTarget = {
      baseUrl: 'http://x',
      token: 't',
      fetch: (async () =>
        new Response(
          JSON.stringify({
            error: {
              message: 'temperature: too big',
              type: 'invalid_request_error',
              param: 'temperature',
              code: 'invalid_value',
            },
          }),
          { status: 400 },
        )) as typeof fetch,
    };
    const error = await streamChat(target, request, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceError);
    expect(error).toMatchObject({
      status: 400,
      message: 'temperature: too big',
      param: 'temperature',
      code: 'invalid_value',
    });
  });

  it('throws an error the server sends in the middle of the stream', async () => {
    const target: InferenceTarget = {
      baseUrl: 'http://x',
      token: null,
      fetch: sseFetch([
        chunk(' a'),
        `data: ${JSON.stringify({ error: { message: 'slot lost', type: 'server_error' } })}\n\n`,
      ]),
    };
    await expect(streamChat(target, request, () => undefined)).rejects.toThrow('slot lost');
  });
});

describe('parseChunk', () => {
  it('reads the text delta, ignoring the empty role chunk', () => {
    expect(parseChunk(JSON.stringify({ choices: [{ delta: { role: 'assistant', content: '' } }] })).delta).toBeNull();
    expect(parseChunk(JSON.stringify({ choices: [{ delta: { content: 'x' }, finish_reason: null }] }))).toMatchObject({
      delta: 'x',
      finishReason: null,
    });
  });

  it('says what is not JSON', () => {
    expect(parseChunk('nope').error?.message).toContain('not JSON');
  });
});

describe('embed', () => {
  it('returns the first vector of the answer and its prompt tokens', async () => {
    const target: InferenceTarget = {
      baseUrl: 'http://x',
      token: 't',
      fetch: (async () =>
        Response.json({
          data: [{ object: 'embedding', index: 0, embedding: [0.5, -0.25] }],
          usage: { prompt_tokens: 3 },
        })) as typeof fetch,
    };
    expect(await embed(target, 'bert', 'hello')).toEqual({ vector: [0.5, -0.25], promptTokens: 3 });
  });
});
