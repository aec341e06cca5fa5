import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import {
  ChatCompletionRequest,
  type ChatCompletion,
  type ChatCompletionChunk,
  type CompletionRequest,
  type EmbeddingList,
  type FinishReason,
  type ModelList,
  type OpenAiError,
  type TextCompletion,
  type Usage,
} from '#shared/contracts/openai';
import { AppError, httpStatusOf, isErrorCode } from '#shared/errors';
import type { ChatTurn } from './prompt';
import type { Generation, GenerationResult, ResponseFormatOption, SamplingOptions } from './runtime';

/**
 * The OpenAI wire format around the GGUF runtime: request bodies → runtime calls, results → response bodies and
 * SSE frames, errors → OpenAI's error shape. The routes stay a few lines: parse, call, build.
 */

/** Identifies the response and its chunks, as OpenAI's ids do (`chatcmpl-…`, `cmpl-…`). */
export interface ResponseMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

export function responseMeta(prefix: 'chatcmpl' | 'cmpl', model: string): ResponseMeta {
  return { id: `${prefix}-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model };
}

/** `messages[0].content` from a zod path. */
function paramOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

/** Validates a request body; a bad one is a 400 naming the field (`messages[1].role: …`), as OpenAI's `param`. */
export function parseOpenAiBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue ? paramOf(issue.path) : '';
  const message = issue?.message ?? 'invalid request body';
  throw new AppError('INVALID_ARGUMENT', param ? `${param}: ${message}` : message, {
    param: param || null,
    code: 'invalid_value',
    issues: parsed.error.issues.map((i) => ({ param: paramOf(i.path), message: i.message })),
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumberIn = (value: unknown, min: number, max: number): boolean =>
  typeof value === 'number' && value >= min && value <= max;
const isIntFrom = (value: unknown, min: number): boolean => Number.isSafeInteger(value) && (value as number) >= min;

/**
 * The checks of `ChatCompletionRequest`'s plain fields (null allowed where the schema says nullish). A map: a body's
 * `constructor` or `toString` is an unknown field, not the object's own.
 */
const QUICK_CHAT_FIELDS: ReadonlyMap<string, (value: unknown) => boolean> = new Map(
  Object.entries({
    model: (v) => typeof v === 'string' && v.length > 0,
    temperature: (v) => v === null || isNumberIn(v, 0, 2),
    top_p: (v) => v === null || (isNumberIn(v, 0, 1) && v !== 0),
    max_tokens: (v) => v === null || isIntFrom(v, 1),
    max_completion_tokens: (v) => v === null || isIntFrom(v, 1),
    stop: (v) =>
      v === null ||
      typeof v === 'string' ||
      (Array.isArray(v) && v.length <= 4 && v.every((item) => typeof item === 'string')),
    seed: (v) => v === null || Number.isSafeInteger(v),
    presence_penalty: (v) => v === null || isNumberIn(v, -2, 2),
    frequency_penalty: (v) => v === null || isNumberIn(v, -2, 2),
    stream: (v) => v === null || typeof v === 'boolean',
    ignore_eos: (v) => v === null || typeof v === 'boolean',
    n: (v) => v === null || v === 1,
    logprobs: (v) => v === null || v === false,
    top_logprobs: (v) => v === null || v === 0,
    user: (v) => typeof v === 'string',
    tool_choice: (v) => v === null || v === 'none' || v === 'auto',
    tools: (v) => v === null || (Array.isArray(v) && v.length === 0),
    functions: (v) => v === null || (Array.isArray(v) && v.length === 0),
    function_call: (v) => v === null || v === 'none' || v === 'auto',
    logit_bias: (v) => v === null,
  } satisfies Record<string, (value: unknown) => boolean>),
);

/** A message of the common shape (text content, no parts), as the schema outputs it; null for anything else. */
function quickChatMessage(message: unknown): Record<string, unknown> | null {
  if (!isRecord(message)) return null;
  const { role, content, name } = message;
  if (name !== undefined && typeof name !== 'string') return null;
  const out: Record<string, unknown> = { role };
  if (role === 'assistant') {
    if (content !== undefined) {
      if (content !== null && typeof content !== 'string') return null;
      out.content = content;
    }
    // The deprecated function call: the schema refuses one.
    const call = message.function_call;
    if (call !== undefined) {
      if (call !== null) return null;
      out.function_call = call;
    }
    const calls = message.tool_calls;
    if (calls !== undefined) {
      if (calls !== null && !(Array.isArray(calls) && calls.length === 0)) return null;
      out.tool_calls = calls;
    }
  } else if (role === 'user' || role === 'system' || role === 'developer') {
    if (typeof content !== 'string') return null;
    out.content = content;
  } else return null;
  if (name !== undefined) out.name = name;
  return out;
}

/**
 * A chat request of the common shape checked without zod (zod took ~0.2 ms of the first token's time): text
 * messages and plain fields. The output equals the schema's (unknown fields dropped); null when anything is out of
 * the ordinary or invalid, for the schema to parse (and word the refusal).
 */
function quickChatRequest(body: unknown): ChatCompletionRequest | null {
  if (!isRecord(body) || !Array.isArray(body.messages) || body.messages.length === 0) return null;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (key === 'messages') continue;
    if (key === 'stream_options') {
      if (value === null) out[key] = null;
      else if (!isRecord(value)) return null;
      else {
        const usage = value.include_usage;
        if (usage !== undefined && typeof usage !== 'boolean') return null;
        out[key] = usage === undefined ? {} : { include_usage: usage };
      }
    } else if (key === 'response_format') {
      if (value === null) out[key] = null;
      else if (isRecord(value) && (value.type === 'text' || value.type === 'json_object'))
        out[key] = { type: value.type };
      else return null;
    } else {
      const check = QUICK_CHAT_FIELDS.get(key);
      if (check) {
        if (!check(value)) return null;
        out[key] = value;
      }
    }
  }
  if (out.model === undefined) return null;
  const messages: Record<string, unknown>[] = [];
  for (const message of body.messages) {
    const checked = quickChatMessage(message);
    if (!checked) return null;
    messages.push(checked);
  }
  out.messages = messages;
  return out as ChatCompletionRequest;
}

/** A `POST /v1/chat/completions` body, checked; a bad one is a 400 naming the field, as `parseOpenAiBody`. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  return quickChatRequest(body) ?? parseOpenAiBody(ChatCompletionRequest, body);
}

function stopList(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop == null) return undefined;
  return typeof stop === 'string' ? [stop] : stop;
}

function samplingOf(
  body: ChatCompletionRequest | CompletionRequest,
  maxTokens: number | null | undefined,
): SamplingOptions {
  const sampling: SamplingOptions = {};
  if (body.temperature != null) sampling.temperature = body.temperature;
  if (body.top_p != null) sampling.topP = body.top_p;
  if (maxTokens != null) sampling.maxTokens = maxTokens;
  const stop = stopList(body.stop);
  if (stop) sampling.stop = stop;
  if (body.seed != null) sampling.seed = body.seed;
  if (body.presence_penalty != null) sampling.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) sampling.frequencyPenalty = body.frequency_penalty;
  if (body.logit_bias != null && Object.keys(body.logit_bias).length > 0) {
    sampling.logitBias = Object.fromEntries(Object.entries(body.logit_bias).map(([k, v]) => [Number(k), v]));
  }
  if (body.ignore_eos) sampling.ignoreEos = true;
  return sampling;
}

function responseFormatOf(format: ChatCompletionRequest['response_format']): ResponseFormatOption | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object' || !format.json_schema.schema) return { type: 'json_object' };
  return { type: 'json_schema', schema: format.json_schema.schema };
}

/** A chat request's messages and sampling as the runtime takes them (`developer` becomes `system`). */
export function chatRequestToRuntime(body: ChatCompletionRequest): { messages: ChatTurn[]; sampling: SamplingOptions } {
  const messages = body.messages.map((message): ChatTurn => {
    const content = message.content ?? '';
    const text = typeof content === 'string' ? content : content.map((part) => part.text).join('');
    return { role: message.role === 'developer' ? 'system' : message.role, content: text };
  });
  const sampling = samplingOf(body, body.max_completion_tokens ?? body.max_tokens);
  const format = responseFormatOf(body.response_format);
  if (format) sampling.responseFormat = format;
  return { messages, sampling };
}

/** A completion request's prompts and sampling; several prompts cannot stream (one choice each). */
export function completionRequestToRuntime(body: CompletionRequest): {
  prompts: string[];
  echo: boolean;
  sampling: SamplingOptions;
} {
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
  if (body.stream && prompts.length > 1) {
    throw AppError.invalid('prompt', 'only one prompt can be streamed at a time');
  }
  return { prompts, echo: body.echo ?? false, sampling: samplingOf(body, body.max_tokens) };
}

/** OpenAI's finish reason; a cancelled generation is never sent (the client is gone), so it maps to `stop`. */
function finishOf(result: Pick<GenerationResult, 'finishReason'>): FinishReason {
  return result.finishReason === 'length' ? 'length' : 'stop';
}

export function usageOf(results: readonly GenerationResult[]): Usage {
  const prompt = results.reduce((sum, r) => sum + r.promptTokens, 0);
  const completion = results.reduce((sum, r) => sum + r.completionTokens, 0);
  const cached = results.reduce((sum, r) => sum + r.cachedPromptTokens, 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

/** The body of a non-streamed chat completion. */
export function buildChatCompletion(meta: ResponseMeta, result: GenerationResult): ChatCompletion {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.text, refusal: null },
        logprobs: null,
        finish_reason: finishOf(result),
      },
    ],
    usage: usageOf([result]),
  };
}

/** The body of a non-streamed text completion, one choice per prompt. */
export function buildTextCompletion(
  meta: ResponseMeta,
  results: readonly GenerationResult[],
  echoPrompts?: readonly string[],
): TextCompletion {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: results.map((result, index) => ({
      index,
      text: (echoPrompts?.[index] ?? '') + result.text,
      logprobs: null,
      finish_reason: finishOf(result),
    })),
    usage: usageOf(results),
  };
}

/** One server-sent event carrying a JSON object. */
export function sseFrame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** The last frame of every OpenAI stream. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** Headers for an SSE response. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

export function chatChunk(
  meta: ResponseMeta,
  delta: ChatCompletionChunk['choices'][number]['delta'] | null,
  finishReason: FinishReason | null,
  includeUsage: boolean,
  usage?: Usage,
): ChatCompletionChunk {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: delta === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: usage ?? null } : {}),
  };
}

/**
 * How long text frames that follow a written one are held, to go out together. Each write to the socket costs a
 * system call and wakes the client (about 0.1 ms of CPU on loopback, as much as a small model takes for a token);
 * a model slower than this gets every token written as it comes. Under a 60 Hz display frame (16.7 ms): a reader
 * sees no difference. Against 4 ms, 12 ms took a streamed tiny model from 86% to 89% of in-process tokens/s.
 */
export const SSE_HOLD_MS = 12;

/**
 * `frameOf(text)` equal to `sseFrame(build(text))` with the JSON around the text built once: the text must be the
 * last string in the chunk (after id and model; only numbers, nulls and literals follow it).
 */
function textFramer(build: (text: string) => unknown): (text: string) => string {
  const mark = JSON.stringify('\u0000');
  const sample = sseFrame(build('\u0000'));
  const at = sample.lastIndexOf(mark);
  const head = sample.slice(0, at);
  const tail = sample.slice(at + mark.length);
  return (text) => head + JSON.stringify(text) + tail;
}

interface SseStreamInit {
  generation: Generation;
  /** A frame before the text (the role chunk, an echoed prompt). */
  firstFrame: string | null;
  frameOf: (delta: string) => string;
  /** The frames after the text (finish, usage, `[DONE]`), once the generation has ended other than cancelled. */
  lastFrames: (result: GenerationResult) => string;
  /** Awaited once when the stream ends, is broken out of or fails, before the reader is told. */
  onClose: (() => Promise<void>) | undefined;
}

/**
 * SSE frames over a generation, each piece handed to the reader one socket write. The generation is read from as
 * soon as this is made, independently of the reader: its prompt is evaluated while the response is set up, and a
 * delta is framed (the JSON around it built once) when it comes. The first delta is handed on at once, with the
 * first frame; deltas within `SSE_HOLD_MS` of the last hand-off are held and go on together, at the end of the hold
 * time or, when a delta comes after it, once the next token has been asked for (the write then runs while the
 * model evaluates instead of delaying it). The last deltas and the closing frames go as one piece. Breaking out
 * (`return`) cancels the generation.
 */
class SseStream implements AsyncIterableIterator<string> {
  private held: string;
  /** Whether `held` may be handed on now (no hold pending). */
  private ready: boolean;
  /** Whether `held` includes text deltas (a hand-off of deltas starts a hold). */
  private heldDeltas = false;
  private deltasSent = false;
  private sentAt = -Infinity;
  private generationDone = false;
  private closed = false;
  private failure: { error: unknown } | null = null;
  private reader: { resolve: (step: IteratorResult<string>) => void; reject: (error: unknown) => void } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly deltas: AsyncIterator<string>;

  constructor(private readonly init: SseStreamInit) {
    // The first frame waits for the first delta (or the end): the response headers, that frame and the first
    // delta then go in one write, and the client is not woken while the prompt is evaluated.
    this.held = init.firstFrame ?? '';
    this.ready = false;
    this.deltas = init.generation[Symbol.asyncIterator]();
    this.read();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<string>> {
    if (this.failure) return this.fail();
    if (this.ready && this.held !== '') return Promise.resolve(this.handOff());
    if (this.generationDone || this.closed) return this.close();
    return new Promise((resolve, reject) => (this.reader = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<string>> {
    if (!this.generationDone) this.init.generation.cancel();
    return this.close();
  }

  private read(): void {
    this.deltas.next().then(this.onDelta, this.onError);
  }

  private readonly readNext = (): void => {
    if (!this.closed) this.read();
  };

  private readonly onDelta = (step: IteratorResult<string>): void => {
    if (this.closed) return;
    if (step.done) {
      void this.init.generation.result.then(this.onResult, this.onError);
      return;
    }
    this.held += this.init.frameOf(step.value);
    this.heldDeltas = true;
    if (!this.deltasSent) {
      // The first delta is written before the generation goes on (the runtime asks for the next token when
      // resumed): nothing comes between it and the client.
      this.release();
      setImmediate(this.readNext);
      return;
    }
    // The runtime has asked for the next token already; asking it for the next delta keeps it going meanwhile.
    this.read();
    if (this.ready) return;
    const wait = this.sentAt + SSE_HOLD_MS - performance.now();
    if (wait > 0) {
      this.timer ??= setTimeout(this.releaseLater, wait);
      return;
    }
    // After the node-llama-cpp code asking for the next token has run (microtasks), so that the write overlaps
    // its evaluation instead of delaying it.
    this.immediate ??= setImmediate(this.releaseLater);
  };

  private readonly onResult = (result: GenerationResult): void => {
    this.generationDone = true;
    if (result.finishReason !== 'cancelled') this.held += this.init.lastFrames(result);
    this.release();
  };

  private readonly onError = (error: unknown): void => {
    this.generationDone = true;
    if (this.deltasSent) {
      // The response is under way (200 and headers sent): the error is its last event, in OpenAI's shape (its
      // clients throw it), and no `[DONE]` follows.
      this.held += sseFrame(toOpenAiError(error).body);
      this.release();
      return;
    }
    this.failure = { error };
    if (this.reader) {
      const { reject } = this.reader;
      this.reader = null;
      void this.fail().catch(reject);
    }
  };

  private readonly releaseLater = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.release();
  };

  /** Hands what is held to a waiting reader, or lets the next `next()` take it at once. */
  private release(): void {
    this.ready = true;
    const reader = this.reader;
    if (!reader) return;
    this.reader = null;
    if (this.held !== '') reader.resolve(this.handOff());
    else if (this.generationDone) void this.close().then(reader.resolve, reader.reject);
    else this.reader = reader;
  }

  private handOff(): IteratorResult<string> {
    const value = this.held;
    this.held = '';
    if (this.heldDeltas) {
      this.heldDeltas = false;
      this.deltasSent = true;
      this.sentAt = performance.now();
      this.ready = this.generationDone;
    }
    return { done: false, value };
  }

  private async fail(): Promise<IteratorResult<string>> {
    await this.close();
    throw (this.failure as { error: unknown }).error;
  }

  private async close(): Promise<IteratorResult<string>> {
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.timer);
      clearImmediate(this.immediate);
      await this.init.onClose?.();
    }
    return { done: true, value: undefined };
  }
}

/**
 * The SSE frames of a streamed chat completion: a first chunk with the role, one chunk per text delta, a last
 * chunk with the finish reason, the usage chunk (no choices) when `include_usage`, then `[DONE]`. Stops quietly
 * when the generation is cancelled (the client is gone); breaking out of it cancels the generation. `onClose` is
 * awaited once when the stream ends or is left.
 */
export function chatCompletionSse(
  generation: Generation,
  meta: ResponseMeta,
  includeUsage = false,
  onClose?: () => Promise<void>,
): AsyncIterableIterator<string> {
  return new SseStream({
    generation,
    firstFrame: sseFrame(chatChunk(meta, { role: 'assistant', content: '' }, null, includeUsage)),
    frameOf: textFramer((content) => chatChunk(meta, { content }, null, includeUsage)),
    lastFrames: (result) =>
      sseFrame(chatChunk(meta, {}, finishOf(result), includeUsage)) +
      (includeUsage ? sseFrame(chatChunk(meta, null, null, true, usageOf([result]))) : '') +
      SSE_DONE,
    onClose,
  });
}

/** The SSE frames of a streamed text completion (one prompt), in the same order as `chatCompletionSse`. */
export function textCompletionSse(
  generation: Generation,
  meta: ResponseMeta,
  includeUsage = false,
  echoPrompt?: string,
  onClose?: () => Promise<void>,
): AsyncIterableIterator<string> {
  const chunk = (text: string, finish: FinishReason | null, usage?: Usage | null): TextCompletion => ({
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: usage ? [] : [{ index: 0, text, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: usage ?? null } : {}),
  });
  return new SseStream({
    generation,
    firstFrame: echoPrompt ? sseFrame(chunk(echoPrompt, null)) : null,
    frameOf: textFramer((text) => chunk(text, null)),
    lastFrames: (result) =>
      sseFrame(chunk('', finishOf(result))) +
      (includeUsage ? sseFrame(chunk('', null, usageOf([result]))) : '') +
      SSE_DONE,
    onClose,
  });
}

/** Float32 little-endian bytes in base64, as OpenAI sends `encoding_format: 'base64'`. */
export function embeddingToBase64(vector: readonly number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function buildEmbeddingList(
  model: string,
  vectors: readonly (readonly number[])[],
  promptTokens: number,
  encoding: 'float' | 'base64' = 'float',
): EmbeddingList {
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encoding === 'base64' ? embeddingToBase64(vector) : [...vector],
    })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** An embeddings request's inputs as a list (a single string or token array becomes one item). */
export function embeddingInputs(input: string | string[] | number[] | number[][]): (string | number[])[] {
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [input as number[]];
  return input as (string | number[])[];
}

export function buildModelList(models: readonly { id: string; created: number; ownedBy?: string }[]): ModelList {
  return {
    object: 'list',
    data: models.map((m) => ({ id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy ?? 'aidos' })),
  };
}

const ERROR_TYPES: Record<string, string> = {
  INVALID_ARGUMENT: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error',
  PERMISSION_DENIED: 'permission_error',
  NOT_FOUND: 'invalid_request_error',
  CONFLICT: 'invalid_request_error',
  FAILED_PRECONDITION: 'invalid_request_error',
  RESOURCE_EXHAUSTED: 'rate_limit_error',
  INTERNAL: 'server_error',
};

const DEFAULT_CODES: Record<string, string | null> = {
  UNAUTHENTICATED: 'invalid_api_key',
  NOT_FOUND: 'model_not_found',
  RESOURCE_EXHAUSTED: 'rate_limit_exceeded',
};

/**
 * Any error as OpenAI's `{error: {message, type, param, code}}` with its HTTP status. `param` and `code` come from
 * the AppError's details (`param` or `field`, `code`); anything that is not an AppError is a 500 whose message
 * does not leak internals.
 */
export function toOpenAiError(error: unknown): { status: number; body: OpenAiError } {
  if (!(error instanceof AppError) || !isErrorCode(error.code)) {
    return {
      status: 500,
      body: { error: { message: 'internal error', type: 'server_error', param: null, code: null } },
    };
  }
  const details = (typeof error.details === 'object' && error.details !== null ? error.details : {}) as Record<
    string,
    unknown
  >;
  const param =
    typeof details.param === 'string' ? details.param : typeof details.field === 'string' ? details.field : null;
  const status = httpStatusOf(error);
  // A body over the limit (413) is the request's fault, not a rate limit.
  const tooLarge = status === 413;
  const code =
    typeof details.code === 'string'
      ? details.code
      : tooLarge
        ? 'request_too_large'
        : (DEFAULT_CODES[error.code] ?? null);
  // A 5xx is the server's trouble in OpenAI's terms (a RESOURCE_EXHAUSTED about memory is no rate limit).
  const type =
    status >= 500 ? 'server_error' : tooLarge ? 'invalid_request_error' : (ERROR_TYPES[error.code] ?? 'server_error');
  return { status, body: { error: { message: error.message, type, param, code } } };
}
