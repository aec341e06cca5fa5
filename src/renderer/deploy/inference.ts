import { readSse } from './sse';

/**
 * The deployments' inference APIs called from the renderer: OpenAI's `/v1` (a streamed chat read as server-sent
 * events, embeddings). These are other products' wire formats, not endpoints of our contract, so they are plain
 * fetches here; they authenticate as the typed client does, with `Authorization: Bearer` and the session's token
 * (the `/v1` routes take the `read` scope).
 */

export interface InferenceTarget {
  /** The core's base URL (`http://127.0.0.1:8000`). */
  baseUrl: string;
  token: string | null;
  fetch?: typeof fetch;
}

/** A refusal of an inference API, in whichever shape it came (OpenAI's, ours, KServe's plain string). */
export class InferenceError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'InferenceError';
  }
}

/** Reads an error response: `{error: {message, code, param}}` (OpenAI, ours) or `{error: "…"}` (KServe v2). */
export async function inferenceErrorOf(res: Response): Promise<InferenceError> {
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new InferenceError(text.trim() || `HTTP ${res.status}`, res.status);
  }
  return (
    inferenceErrorFromBody(body, res.status) ?? new InferenceError(text.trim() || `HTTP ${res.status}`, res.status)
  );
}

function inferenceErrorFromBody(body: unknown, status: number): InferenceError | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = body.error;
  if (typeof error === 'string') return new InferenceError(error, status);
  if (typeof error !== 'object' || error === null) return null;
  const e = error as { message?: unknown; code?: unknown; param?: unknown };
  return new InferenceError(
    typeof e.message === 'string' ? e.message : `HTTP ${status}`,
    status,
    typeof e.code === 'string' ? e.code : null,
    typeof e.param === 'string' ? e.param : null,
  );
}

/** POSTs JSON with the session's credentials; a non-2xx answer is thrown as an InferenceError. */
export async function postJson(
  target: InferenceTarget,
  path: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const doFetch = target.fetch ?? globalThis.fetch.bind(globalThis);
  const res = await doFetch(new URL(path, target.baseUrl), {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw await inferenceErrorOf(res);
  return res;
}

export function isAbort(error: unknown): boolean {
  return (error instanceof DOMException || error instanceof Error) && error.name === 'AbortError';
}

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: readonly ChatTurn[];
  temperature: number;
  /** Null: the server's default (up to the context). */
  maxTokens: number | null;
}

export interface ChatResult {
  text: string;
  /** `stop`, `length`; null when the stream ended without one (stopped, or cut off). */
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
  /** Stopped by the caller's signal: `text` is what came before. */
  stopped: boolean;
}

/** The request body of a streamed chat completion, as OpenAI's clients send it. */
export function chatBody(request: ChatRequest): Record<string, unknown> {
  return {
    model: request.model,
    messages: request.messages,
    temperature: request.temperature,
    ...(request.maxTokens === null ? {} : { max_tokens: request.maxTokens }),
    stream: true,
    stream_options: { include_usage: true },
  };
}

/**
 * Streams a chat completion (`POST /v1/chat/completions`, `stream: true`): calls `onDelta` with each piece of
 * text as it arrives and resolves when the server sends `[DONE]`. Aborting `signal` closes the connection (the
 * server stops generating and frees its slot) and resolves with what came so far, `stopped: true`.
 */
export async function streamChat(
  target: InferenceTarget,
  request: ChatRequest,
  onDelta: (text: string) => void,
  signal?: AbortSignal,
): Promise<ChatResult> {
  const result: ChatResult = { text: '', finishReason: null, usage: null, stopped: false };
  try {
    const res = await postJson(target, '/v1/chat/completions', chatBody(request), signal);
    if (!res.body) throw new InferenceError('the server sent no stream', res.status);
    for await (const event of readSse(res.body, signal)) {
      if (event.data === '[DONE]') break;
      const chunk = parseChunk(event.data);
      if (chunk.error) throw chunk.error;
      if (chunk.delta) {
        result.text += chunk.delta;
        onDelta(chunk.delta);
      }
      if (chunk.finishReason) result.finishReason = chunk.finishReason;
      if (chunk.usage) result.usage = chunk.usage;
    }
    if (signal?.aborted) result.stopped = true;
  } catch (error) {
    if (!isAbort(error) && !signal?.aborted) throw error;
    result.stopped = true;
  }
  return result;
}

interface ParsedChunk {
  delta: string | null;
  finishReason: string | null;
  usage: ChatResult['usage'];
  error: InferenceError | null;
}

/** One `data:` payload of a chat stream: its text delta, finish reason, usage, or an error sent mid-stream. */
export function parseChunk(data: string): ParsedChunk {
  const out: ParsedChunk = { delta: null, finishReason: null, usage: null, error: null };
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    out.error = new InferenceError(`the stream sent something that is not JSON: ${data.slice(0, 80)}`, 200);
    return out;
  }
  out.error = inferenceErrorFromBody(body, 200);
  if (out.error || typeof body !== 'object' || body === null) return out;
  const chunk = body as {
    choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  };
  const choice = chunk.choices?.[0];
  if (typeof choice?.delta?.content === 'string' && choice.delta.content !== '') out.delta = choice.delta.content;
  if (typeof choice?.finish_reason === 'string') out.finishReason = choice.finish_reason;
  const usage = chunk.usage;
  if (usage && typeof usage.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
    out.usage = { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
  }
  return out;
}

export interface EmbeddingResult {
  vector: number[];
  promptTokens: number | null;
}

/** Embeds one text (`POST /v1/embeddings`, floats). */
export async function embed(
  target: InferenceTarget,
  model: string,
  input: string,
  signal?: AbortSignal,
): Promise<EmbeddingResult> {
  const res = await postJson(target, '/v1/embeddings', { model, input, encoding_format: 'float' }, signal);
  const body = (await res.json()) as {
    data?: { embedding?: unknown }[];
    usage?: { prompt_tokens?: unknown };
  };
  const vector = body.data?.[0]?.embedding;
  if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number')) {
    throw new InferenceError('the answer holds no vector of floats', res.status);
  }
  return {
    vector: vector as number[],
    promptTokens: typeof body.usage?.prompt_tokens === 'number' ? body.usage.prompt_tokens : null,
  };
}

/** GETs JSON with the session's credentials (the v2 protocol's model metadata). */
export async function getJson(target: InferenceTarget, path: string, signal?: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const doFetch = target.fetch ?? globalThis.fetch.bind(globalThis);
  const res = await doFetch(new URL(path, target.baseUrl), { headers, signal });
  if (!res.ok) throw await inferenceErrorOf(res);
  return res.json();
}
