import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionRequest,
  EmbeddingList,
  FinishReason,
  ModelList,
  OpenAiError,
  TextCompletion,
  Usage,
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
 * a model slower than this gets every token written as it comes.
 */
export const SSE_HOLD_MS = 4;

/**
 * A frame that goes before the text (the role chunk, an echoed prompt), then an SSE frame per text delta. The
 * generation is started before the first frame is handed on, so that its prompt is evaluated while that frame and
 * the response headers are written. The first delta is handed on at once; a delta within `SSE_HOLD_MS` of the last
 * one handed on waits for the end of that time, and the frames held go on as one piece (one write). Breaking out
 * cancels the generation.
 */
async function* deltaFrames(
  generation: Generation,
  firstFrame: string | null,
  frameOf: (delta: string) => string,
): AsyncGenerator<string, void, undefined> {
  const deltas = generation[Symbol.asyncIterator]();
  // Every `next` is awaited later (after a frame is handed on); failing meanwhile must not count as unhandled.
  let next = deltas.next();
  next.catch(() => {});
  let held = '';
  let sentAt = -Infinity;
  let holdOver: Promise<null> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  try {
    if (firstFrame !== null) yield firstFrame;
    for (;;) {
      const step = holdOver ? await Promise.race([next, holdOver]) : await next;
      if (step === null) holdOver = null;
      else if (step.done) {
        done = true;
        break;
      } else {
        held += frameOf(step.value);
        next = deltas.next();
        next.catch(() => {});
        if (holdOver) continue;
        const wait = sentAt + SSE_HOLD_MS - performance.now();
        if (wait > 0) {
          holdOver = new Promise((resolve) => (timer = setTimeout(resolve, wait, null)));
          continue;
        }
      }
      sentAt = performance.now();
      const out = held;
      held = '';
      yield out;
    }
    if (held !== '') yield held;
  } finally {
    clearTimeout(timer);
    if (!done) await deltas.return?.();
  }
}

/**
 * The SSE frames of a streamed chat completion: a first chunk with the role, one chunk per text delta, a last
 * chunk with the finish reason, the usage chunk (no choices) when `include_usage`, then `[DONE]`. Stops quietly
 * when the generation is cancelled (the client is gone); breaking out of it cancels the generation.
 */
export async function* chatCompletionSse(
  generation: Generation,
  meta: ResponseMeta,
  includeUsage = false,
): AsyncGenerator<string, void, undefined> {
  yield* deltaFrames(
    generation,
    sseFrame(chatChunk(meta, { role: 'assistant', content: '' }, null, includeUsage)),
    (delta) => sseFrame(chatChunk(meta, { content: delta }, null, includeUsage)),
  );
  const result = await generation.result;
  if (result.finishReason === 'cancelled') return;
  yield sseFrame(chatChunk(meta, {}, finishOf(result), includeUsage));
  if (includeUsage) yield sseFrame(chatChunk(meta, null, null, true, usageOf([result])));
  yield SSE_DONE;
}

/** The SSE frames of a streamed text completion (one prompt), in the same order as `chatCompletionSse`. */
export async function* textCompletionSse(
  generation: Generation,
  meta: ResponseMeta,
  includeUsage = false,
  echoPrompt?: string,
): AsyncGenerator<string, void, undefined> {
  const chunk = (text: string, finish: FinishReason | null, usage?: Usage | null): TextCompletion => ({
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: null,
    choices: usage ? [] : [{ index: 0, text, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: usage ?? null } : {}),
  });
  yield* deltaFrames(generation, echoPrompt ? sseFrame(chunk(echoPrompt, null)) : null, (delta) =>
    sseFrame(chunk(delta, null)),
  );
  const result = await generation.result;
  if (result.finishReason === 'cancelled') return;
  yield sseFrame(chunk('', finishOf(result)));
  if (includeUsage) yield sseFrame(chunk('', null, usageOf([result])));
  yield SSE_DONE;
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
  const code = typeof details.code === 'string' ? details.code : (DEFAULT_CODES[error.code] ?? null);
  return {
    status: httpStatusOf(error),
    body: { error: { message: error.message, type: ERROR_TYPES[error.code] ?? 'server_error', param, code } },
  };
}
