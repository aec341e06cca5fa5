import { z } from 'zod';

/**
 * The OpenAI wire format that DeployEngine serves for GGUF models (`/v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings`, `/v1/models`), so the official `openai` client works against a local deployment.
 *
 * Request bodies accept and drop fields they do not know (the official client sends new ones over time); a field
 * we know but cannot honour (tools, n > 1, logprobs, images) is refused with a 400 naming it rather than silently
 * ignored. Responses are plain objects built in `services/deploy/llm/openai-wire.ts`; their types are here.
 */

const Nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

/** A part of a message's content array: only text parts (the GGUF runtime reads text; images are refused). */
export const ChatContentPart = z
  .object({ type: z.string(), text: z.string().optional() })
  .superRefine((part, ctx) => {
    if (part.type !== 'text') {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `'${part.type}' parts are not supported (text only)` });
    } else if (part.text === undefined) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'is required in a text part' });
    }
  })
  .transform((part) => ({ type: 'text' as const, text: part.text ?? '' }));

/** Message content: a string or an array of text parts (joined without a separator). */
export const ChatContent = z.union([z.string(), z.array(ChatContentPart)]);

const noToolCalls = z
  .array(z.unknown())
  .nullish()
  .refine((v) => v == null || v.length === 0, 'tool calls are not supported');
/** The deprecated form of an assistant's tool call: refused as tool calls are, not dropped. */
const noFunctionCall = z.unknown().refine((v) => v == null, 'function calls are not supported');

export const ChatMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: ChatContent, name: z.string().optional() }),
  /** Newer models' name for `system`; served as a system message. */
  z.object({ role: z.literal('developer'), content: ChatContent, name: z.string().optional() }),
  z.object({ role: z.literal('user'), content: ChatContent, name: z.string().optional() }),
  z.object({
    role: z.literal('assistant'),
    content: ChatContent.nullish(),
    name: z.string().optional(),
    tool_calls: noToolCalls,
    function_call: noFunctionCall.optional(),
  }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;

/** `stop`: up to 4 strings after which generation ends (not included in the output). */
export const StopSequences = z
  .union([z.string(), z.array(z.string()).max(4)], { error: 'give a string or a list of at most 4 strings' })
  .nullish();

/** `response_format`: free text, any JSON object, or JSON that matches a schema (enforced by a grammar). */
export const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);
export type ResponseFormat = z.infer<typeof ResponseFormat>;

/** Sampling fields shared by chat and text completions. */
const samplingFields = {
  /** The deployment (or model) to use; the route resolves it, the runtime does not read it. */
  model: z.string().min(1),
  /** 0 is greedy; default 1 as in OpenAI. */
  temperature: Nullish(z.number().min(0).max(2)),
  top_p: Nullish(z.number().gt(0).max(1)),
  /** Tokens to generate at most; default: until the context is full. Clamped to what the context leaves. */
  max_tokens: Nullish(z.number().int().min(1)),
  stop: StopSequences,
  /** Makes sampling at temperature > 0 repeatable. */
  seed: Nullish(z.number().int()),
  presence_penalty: Nullish(z.number().min(-2).max(2)),
  frequency_penalty: Nullish(z.number().min(-2).max(2)),
  stream: Nullish(z.boolean()),
  stream_options: Nullish(z.object({ include_usage: z.boolean().optional() })),
  /** Only 1 choice per request is served. */
  n: Nullish(z.literal(1, { error: 'only n = 1 is supported' })),
  logprobs: Nullish(z.literal(false, { error: 'logprobs are not supported' })),
  /** Token id → bias added to its logit; -100 bans the token. */
  logit_bias: Nullish(z.record(z.string().regex(/^\d+$/, 'keys must be token ids'), z.number().min(-100).max(100))),
  /**
   * Not OpenAI's: llama-server's extension (also vLLM's). Never end before `max_tokens` or a full context, for load
   * tests and benchmarks that need a fixed number of tokens.
   */
  ignore_eos: Nullish(z.boolean()),
  user: z.string().optional(),
};

/** The body of `POST /v1/chat/completions`. */
export const ChatCompletionRequest = z.object({
  ...samplingFields,
  messages: z.array(ChatMessage).min(1, 'must hold at least one message'),
  /** Newer name of `max_tokens`; wins when both are given. */
  max_completion_tokens: Nullish(z.number().int().min(1)),
  response_format: ResponseFormat.nullish(),
  tools: z
    .array(z.unknown())
    .nullish()
    .refine((v) => v == null || v.length === 0, 'tools are not supported by this runtime'),
  tool_choice: z.union([z.literal('none'), z.literal('auto')]).nullish(),
  /** The deprecated form of tools: refused as they are, not ignored. */
  functions: z
    .array(z.unknown())
    .nullish()
    .refine((v) => v == null || v.length === 0, 'function calling is not supported by this runtime'),
  function_call: z
    .union([z.literal('none'), z.literal('auto')], { error: 'function calling is not supported by this runtime' })
    .nullish(),
  top_logprobs: Nullish(z.literal(0, { error: 'logprobs are not supported' })),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** The body of `POST /v1/completions` (legacy text completions): a raw prompt continued as is. */
export const CompletionRequest = z.object({
  ...samplingFields,
  /** One prompt, or several (one choice each; not when streaming). Token arrays are not accepted. */
  prompt: z.union([z.string(), z.array(z.string()).min(1)], { error: 'give a string or a non-empty list of strings' }),
  /** Return the prompt in front of the completion. */
  echo: Nullish(z.boolean()),
  suffix: Nullish(z.string()).refine((v) => v == null || v === '', 'suffix (insertion) is not supported'),
  best_of: Nullish(z.literal(1, { error: 'only best_of = 1 is supported' })),
  logprobs: Nullish(z.literal(0, { error: 'logprobs are not supported' })),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** The body of `POST /v1/embeddings`. */
export const EmbeddingRequest = z.object({
  model: z.string().min(1),
  /** Text(s) to embed; token-id arrays are accepted too. Empty strings are refused. */
  input: z.union(
    [
      z.string().min(1, 'must not be empty'),
      z.array(z.string().min(1, 'must not be empty')).min(1).max(2048),
      z.array(z.number().int().nonnegative()).min(1),
      z.array(z.array(z.number().int().nonnegative()).min(1)).min(1).max(2048),
    ],
    {
      error: 'give a non-empty string, a list of 1 to 2048 non-empty strings, or token ids (a list, or lists)',
    },
  ),
  /** The official client asks for base64 unless told otherwise. */
  encoding_format: z.enum(['float', 'base64']).nullish(),
  /** Must equal the model's dimension when given (no truncation). */
  dimensions: Nullish(z.number().int().min(1)),
  user: z.string().optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

// ---- responses --------------------------------------------------------------------------------------------

export const FinishReason = z.enum(['stop', 'length']);
export type FinishReason = z.infer<typeof FinishReason>;

export const Usage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  /** Prompt tokens served from the KV cache of an earlier turn. */
  prompt_tokens_details: z.object({ cached_tokens: z.number().int() }).optional(),
});
export type Usage = z.infer<typeof Usage>;

export const ChatCompletion = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: FinishReason,
    }),
  ),
  usage: Usage,
});
export type ChatCompletion = z.infer<typeof ChatCompletion>;

export const ChatCompletionChunk = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      logprobs: z.null(),
      finish_reason: FinishReason.nullable(),
    }),
  ),
  /** Present (null, then the totals in a last chunk without choices) only with `stream_options.include_usage`. */
  usage: Usage.nullable().optional(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

export const TextCompletion = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      text: z.string(),
      logprobs: z.null(),
      finish_reason: FinishReason.nullable(),
    }),
  ),
  usage: Usage.nullable().optional(),
});
export type TextCompletion = z.infer<typeof TextCompletion>;

export const EmbeddingList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      index: z.number().int(),
      /** Floats, or little-endian float32 bytes in base64 when `encoding_format: 'base64'`. */
      embedding: z.union([z.array(z.number()), z.string()]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type EmbeddingList = z.infer<typeof EmbeddingList>;

export const ModelObject = z.object({
  id: z.string(),
  object: z.literal('model'),
  /** Unix seconds. */
  created: z.number().int(),
  owned_by: z.string(),
});
export type ModelObject = z.infer<typeof ModelObject>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelObject) });
export type ModelList = z.infer<typeof ModelList>;

/** OpenAI's error body: `type` is the class (`invalid_request_error`), `code` the reason (`context_length_exceeded`). */
export const OpenAiError = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAiError = z.infer<typeof OpenAiError>;
