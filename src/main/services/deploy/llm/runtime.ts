import { randomInt, randomUUID } from 'node:crypto';
import {
  type GbnfJsonSchema,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  LlamaGrammarEvaluationState,
  type LlamaModel,
  type SequenceEvaluateOptions,
  type Token,
  TokenBias,
  isLlamaText,
} from 'node-llama-cpp';
import { AppError } from '#shared/errors';
import { type GpuChoice, captureLlamaErrors, sharedLlama } from './backend';
import { type GgufInspection, type GgufModelKind, inspectGguf } from './gguf-inspect';
import { grammarSchemaOf } from './json-schema';
import { type ChatFormat, type ChatTurn, type PromptRenderer, promptRenderer, rawPromptTokens } from './prompt';
import { seed32 } from './seed';
import { SlotPool, cancelledError } from './slot-pool';
import { StopTextBuffer } from './stop-text';

export interface GgufRuntimeOptions {
  path: string;
  /** The name responses carry in `model`; default the file's `general.name`. */
  name?: string;
  /** Tokens per sequence; default the training context, at most 4096. */
  contextSize?: number;
  /** Requests served at once (sequences of one context; embedding contexts for embedding models). Default 1. */
  parallel?: number;
  /** Requests that may wait for a slot; more are refused with a 429. Default 32. */
  maxQueue?: number;
  gpu?: GpuChoice;
  gpuLayers?: number | 'max';
  /** CPU threads per evaluation; default node-llama-cpp's (all cores). */
  threads?: number;
  batchSize?: number;
  chatFormat?: ChatFormat;
  /** The inspection done for the VRAM arbiter with the same options, to skip reading the header again. */
  inspection?: GgufInspection;
  /** Called after every request with its figures (the deploy service's metrics and request log). */
  onRequestFinished?: (stats: RequestStats) => void;
}

/** `{type: 'json_object'}` or a JSON schema, enforced by a node-llama-cpp grammar. */
export type ResponseFormatOption = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: object };

export interface SamplingOptions {
  /** 0 is greedy. Default 1. */
  temperature?: number;
  topP?: number;
  /** At most this many tokens; always at most what the context leaves after the prompt. */
  maxTokens?: number;
  /** Strings that end generation; not part of the text. */
  stop?: readonly string[];
  /** Repeatable sampling at temperature > 0; without one, each generation draws its own. */
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseFormat?: ResponseFormatOption;
  /** Token id → bias added to its logit, OpenAI's `logit_bias` (-100 bans the token). */
  logitBias?: Readonly<Record<number, number>>;
  /** Never end of generation before `maxTokens` or the context is full (benchmarks; llama-server's `ignore_eos`). */
  ignoreEos?: boolean;
}

export interface RequestOptions {
  /** Abort (the client went away): a waiting request leaves the queue, a running one stops and frees its slot. */
  signal?: AbortSignal;
}

/** Why generation ended: `stop` (end of turn, stop string, grammar done), `length` (max tokens or context full). */
export type GenerationFinish = 'stop' | 'length' | 'cancelled';

export interface RequestStats {
  id: string;
  kind: 'chat' | 'completion' | 'embedding';
  promptTokens: number;
  /** Prompt tokens whose KV cache was reused from the slot's earlier requests. */
  cachedPromptTokens: number;
  completionTokens: number;
  finishReason: GenerationFinish | null;
  /** Waiting for a slot. */
  queuedMs: number;
  /** From the call to the first generated token (queue and prompt evaluation included). */
  ttftMs: number | null;
  durationMs: number;
  /** Generated tokens after the first per second of decoding; null below 2 tokens. */
  tokensPerSecond: number | null;
  error?: string;
}

export interface GenerationResult {
  text: string;
  finishReason: GenerationFinish;
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  stats: RequestStats;
}

/**
 * A started generation holding a slot: iterate it for text deltas (once), then read `result`. Iterating to the end,
 * breaking out, `cancel()` or the request's signal all free the slot; a generation nobody iterates holds it until
 * cancelled.
 */
export interface Generation extends AsyncIterable<string> {
  readonly id: string;
  readonly promptTokens: number;
  readonly cachedPromptTokens: number;
  /**
   * Settles when generation ends; a cancellation resolves (finishReason `cancelled`) unless it came with a reason,
   * which the result rejects with.
   */
  readonly result: Promise<GenerationResult>;
  /** Stops it; `reason` (the model being unloaded) makes it a failure rather than a short answer. */
  cancel(reason?: unknown): void;
}

export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
  dimension: number;
}

export interface RuntimeStats {
  name: string;
  kind: GgufModelKind;
  parallel: number;
  inFlight: number;
  queued: number;
  maxQueue: number;
  requests: { completed: number; cancelled: number; failed: number };
  tokens: { prompt: number; cachedPrompt: number; completion: number };
  last: RequestStats | null;
}

export interface GgufRuntimeInfo {
  name: string;
  path: string;
  kind: GgufModelKind;
  architecture: string;
  contextSize: number;
  parallel: number;
  /** `raw` or the chat wrapper's name; null for embedding models. */
  chatFormat: string | null;
  embeddingDimension: number | null;
  inspection: GgufInspection;
}

interface GenerationSlot {
  sequence: LlamaContextSequence;
}

interface EmbeddingSlot {
  context: LlamaEmbeddingContext;
}

const MAX_GRAMMARS = 32;

function contextLengthError(param: string, promptTokens: number, contextSize: number): AppError {
  return new AppError(
    'INVALID_ARGUMENT',
    `This model's maximum context length is ${contextSize} tokens. However, your ${param} resulted in ` +
      `${promptTokens} tokens${param === 'input' ? '' : ', which leaves no room to generate'}. Please reduce the length of the ${param}.`,
    { code: 'context_length_exceeded', param, promptTokens, contextSize },
  );
}

function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A loaded GGUF model behind a fixed number of slots: chat and text completions for generation models,
 * embeddings for embedding models. Each slot (a context sequence) keeps the tokens it evaluated, and a request
 * goes to the free slot that already holds the longest prefix of its prompt, so the next turn of a conversation
 * evaluates only its new tokens.
 */
export class GgufRuntime {
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly running = new Set<Generation>();
  private totals = {
    requests: { completed: 0, cancelled: 0, failed: 0 },
    tokens: { prompt: 0, cachedPrompt: 0, completion: 0 },
  };
  private last: RequestStats | null = null;
  private closed = false;

  private constructor(
    readonly info: GgufRuntimeInfo,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext | null,
    private readonly generationPool: SlotPool<GenerationSlot> | null,
    private readonly embeddingPool: SlotPool<EmbeddingSlot> | null,
    private readonly renderer: PromptRenderer | null,
    private readonly maxQueue: number,
    private readonly onRequestFinished: ((stats: RequestStats) => void) | undefined,
  ) {}

  /**
   * Checks and loads a GGUF file. A missing file is a NOT_FOUND, a corrupted or truncated one an INVALID_ARGUMENT
   * naming the file and llama.cpp's reason; nothing here crashes the process.
   */
  static async load(options: GgufRuntimeOptions): Promise<GgufRuntime> {
    const parallel = options.parallel ?? 1;
    const maxQueue = options.maxQueue ?? 32;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw AppError.invalid('maxQueue', 'must be an integer ≥ 0');
    const gpu = options.gpu ?? false;
    const inspection =
      options.inspection ??
      (await inspectGguf(options.path, {
        contextSize: options.contextSize,
        parallel,
        gpu,
        gpuLayers: options.gpuLayers,
      }));
    const { summary, estimate } = inspection;
    const llama = await sharedLlama(gpu);
    const errors = captureLlamaErrors();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.path, gpuLayers: estimate.gpuLayers });
    } catch (error) {
      const reasons = errors();
      const reason = reasons.length > 0 ? reasons.join('; ') : errorText(error);
      throw new AppError('INVALID_ARGUMENT', `GGUF file '${options.path}' cannot be loaded: ${reason}`, {
        path: options.path,
        reason,
        code: 'invalid_model_file',
      });
    }
    const name = options.name ?? summary.name;
    const threads = options.threads;
    try {
      if (summary.kind === 'embedding') {
        const slots: EmbeddingSlot[] = [];
        for (let i = 0; i < parallel; i++) {
          slots.push({
            context: await model.createEmbeddingContext({
              contextSize: estimate.contextSize,
              ...(threads === undefined ? {} : { threads }),
              ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
            }),
          });
        }
        const info: GgufRuntimeInfo = {
          name,
          path: options.path,
          kind: 'embedding',
          architecture: summary.architecture,
          contextSize: estimate.contextSize,
          parallel,
          chatFormat: null,
          embeddingDimension: model.embeddingVectorSize,
          inspection,
        };
        const pool = new SlotPool(slots, maxQueue, `model '${name}'`);
        return new GgufRuntime(info, model, null, null, pool, null, maxQueue, options.onRequestFinished);
      }
      const context = await model.createContext({
        contextSize: estimate.contextSize,
        sequences: parallel,
        ...(threads === undefined ? {} : { threads }),
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      });
      const slots: GenerationSlot[] = [];
      for (let i = 0; i < parallel; i++) slots.push({ sequence: context.getSequence() });
      const renderer = promptRenderer(model, options.chatFormat ?? 'auto', summary.hasChatTemplate);
      const info: GgufRuntimeInfo = {
        name,
        path: options.path,
        kind: 'generation',
        architecture: summary.architecture,
        contextSize: context.contextSize,
        parallel,
        chatFormat: renderer.name,
        embeddingDimension: null,
        inspection,
      };
      const pool = new SlotPool(slots, maxQueue, `model '${name}'`);
      return new GgufRuntime(info, model, context, pool, null, renderer, maxQueue, options.onRequestFinished);
    } catch (error) {
      await model.dispose().catch(() => {});
      if (error instanceof AppError) throw error;
      throw AppError.insufficientMemory(
        `cannot create a context of ${estimate.contextSize} tokens × ${parallel} for '${options.path}': ${errorText(error)}`,
        { path: options.path, contextSize: estimate.contextSize, parallel },
      );
    }
  }

  /** Queue depth, requests in flight and running totals, for monitoring. */
  stats(): RuntimeStats {
    const pool = this.generationPool ?? this.embeddingPool;
    return {
      name: this.info.name,
      kind: this.info.kind,
      parallel: this.info.parallel,
      inFlight: pool?.inFlight ?? 0,
      queued: pool?.queued ?? 0,
      maxQueue: this.maxQueue,
      requests: { ...this.totals.requests },
      tokens: { ...this.totals.tokens },
      last: this.last,
    };
  }

  /** Tokens of a text as the model's tokenizer sees it (no BOS). */
  tokenize(text: string): Token[] {
    return this.model.tokenize(text, false);
  }

  /** Starts a chat completion: renders the messages with the chat format, then generates. */
  async startChat(
    messages: readonly ChatTurn[],
    sampling: SamplingOptions = {},
    options: RequestOptions = {},
  ): Promise<Generation> {
    this.requireKind('generation', 'chat completions');
    const renderer = this.renderer as PromptRenderer;
    const { tokens, stopTexts } = renderer.render(messages);
    return this.start('chat', tokens, 'messages', sampling, stopTexts, options);
  }

  /** Starts a raw text completion: the prompt is continued as is (BOS prepended when the model wants one). */
  async startCompletion(
    prompt: string,
    sampling: SamplingOptions = {},
    options: RequestOptions = {},
  ): Promise<Generation> {
    this.requireKind('generation', 'text completions');
    return this.start('completion', rawPromptTokens(this.model, prompt), 'prompt', sampling, [], options);
  }

  async chat(
    messages: readonly ChatTurn[],
    sampling: SamplingOptions = {},
    options: RequestOptions = {},
  ): Promise<GenerationResult> {
    return drain(await this.startChat(messages, sampling, options));
  }

  async complete(
    prompt: string,
    sampling: SamplingOptions = {},
    options: RequestOptions = {},
  ): Promise<GenerationResult> {
    return drain(await this.startCompletion(prompt, sampling, options));
  }

  /** Embeds texts (or token arrays) in order, in one slot. Refused on a generation model. */
  async embed(input: readonly (string | readonly number[])[], options: RequestOptions = {}): Promise<EmbeddingResult> {
    this.requireKind('embedding', 'embeddings');
    const pool = this.embeddingPool as SlotPool<EmbeddingSlot>;
    const started = performance.now();
    const id = randomUUID();
    const lease = await pool.acquire(() => 0, options.signal);
    let promptTokens = 0;
    try {
      const vectors: number[][] = [];
      for (const item of input) {
        if (options.signal?.aborted) throw cancelledError();
        if (typeof item !== 'string') checkTokenIds(this.model, 'input', item);
        const value = typeof item === 'string' ? item : ([...item] as Token[]);
        const length = lease.slot.context.calculateInputLength(value);
        if (length > this.info.contextSize) throw contextLengthError('input', length, this.info.contextSize);
        promptTokens += length;
        const embedding = await lease.slot.context.getEmbeddingFor(value);
        vectors.push([...embedding.vector]);
      }
      this.finish({
        id,
        kind: 'embedding',
        promptTokens,
        cachedPromptTokens: 0,
        completionTokens: 0,
        finishReason: null,
        queuedMs: lease.waitedMs,
        ttftMs: null,
        durationMs: performance.now() - started,
        tokensPerSecond: null,
      });
      return { vectors, promptTokens, dimension: this.info.embeddingDimension ?? vectors[0]?.length ?? 0 };
    } catch (error) {
      this.totals.requests.failed++;
      throw error;
    } finally {
      lease.release();
    }
  }

  /** Forgets the evaluated tokens of every free slot (the next request evaluates its whole prompt). */
  async clearCache(): Promise<void> {
    for (const slot of this.generationPool?.freeSlots() ?? []) await slot.sequence.clearHistory();
  }

  /**
   * Refuses new requests, cancels waiting and running ones (with `reason`, else: the model is being unloaded), then
   * frees the model's memory.
   */
  async dispose(reason?: AppError): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const gone =
      reason ??
      new AppError(
        'FAILED_PRECONDITION',
        `model '${this.info.name}' is being unloaded (stopped, reloaded or deleted): send the request again`,
        { reason: 'unloading', code: 'model_unloaded' },
      );
    this.generationPool?.close(gone);
    this.embeddingPool?.close(gone);
    const running = [...this.running];
    for (const generation of running) generation.cancel(gone);
    await Promise.allSettled(running.map((generation) => generation.result));
    await this.context?.dispose();
    await this.model.dispose();
  }

  private requireKind(kind: GgufModelKind, what: string): void {
    if (this.closed) throw new AppError('FAILED_PRECONDITION', `model '${this.info.name}' is unloaded`);
    if (this.info.kind !== kind) {
      const serves =
        this.info.kind === 'embedding'
          ? 'embeddings (/v1/embeddings) only'
          : 'chat and text completions, not embeddings';
      throw new AppError(
        'INVALID_ARGUMENT',
        `model '${this.info.name}' is ${this.info.kind === 'embedding' ? 'an embedding' : 'a text generation'} model: it serves ${serves}, so it cannot serve ${what}`,
        { param: 'model', code: 'model_not_supported', kind: this.info.kind },
      );
    }
  }

  private async grammarFor(format: ResponseFormatOption | undefined): Promise<LlamaGrammar | null> {
    if (!format || format.type === 'text') return null;
    // Checked (and bounded in depth) before anything else reads it.
    const schema =
      format.type === 'json_object' ? null : grammarSchemaOf(format.schema, 'response_format.json_schema.schema');
    const key = schema === null ? 'json_object' : JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      const llama = this.model.llama;
      // The schema arrives untyped from the wire; node-llama-cpp's generic wants a literal type.
      const schemaGrammar = llama.createGrammarForJsonSchema.bind(llama) as (
        schema: GbnfJsonSchema,
      ) => Promise<LlamaGrammar>;
      grammar = schema === null ? llama.getGrammarFor('json') : schemaGrammar(schema);
      if (this.grammars.size >= MAX_GRAMMARS) this.grammars.delete(this.grammars.keys().next().value as string);
      this.grammars.set(key, grammar);
      grammar.catch(() => this.grammars.delete(key));
    }
    try {
      return await grammar;
    } catch (error) {
      throw AppError.invalid(
        'response_format.json_schema.schema',
        `cannot be turned into a grammar: ${errorText(error)}`,
      );
    }
  }

  private async start(
    kind: 'chat' | 'completion',
    promptTokens: Token[],
    param: string,
    sampling: SamplingOptions,
    templateStops: readonly string[],
    options: RequestOptions,
  ): Promise<Generation> {
    const calledAt = performance.now();
    const contextSize = this.info.contextSize;
    if (promptTokens.length >= contextSize) throw contextLengthError(param, promptTokens.length, contextSize);
    if (sampling.maxTokens !== undefined && (!Number.isInteger(sampling.maxTokens) || sampling.maxTokens < 1)) {
      throw AppError.invalid('max_tokens', 'must be an integer ≥ 1');
    }
    const bias = tokenBiasOf(this.model, sampling);
    const grammar = await this.grammarFor(sampling.responseFormat);
    const pool = this.generationPool as SlotPool<GenerationSlot>;
    const lease = await pool.acquire((slot) => sharedPrefix(slot.sequence.contextTokens, promptTokens), options.signal);
    const sequence = lease.slot.sequence;
    let cached: number;
    try {
      // Keep the longest evaluated prefix, but evaluate at least the prompt's last token to get its logits.
      const keep = Math.min(sequence.compareContextTokens(promptTokens).firstDifferentIndex, promptTokens.length - 1);
      if (keep < sequence.nextTokenIndex) {
        await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
      }
      cached = sequence.nextTokenIndex;
    } catch (error) {
      lease.release();
      throw error;
    }
    const generation = new SequenceGeneration({
      id: randomUUID(),
      kind,
      model: this.model,
      sequence,
      promptTokens,
      cached,
      maxTokens: Math.min(sampling.maxTokens ?? Infinity, contextSize - promptTokens.length),
      sampling,
      grammar,
      bias,
      stops: [...(sampling.stop ?? []), ...templateStops],
      templateStops,
      signal: options.signal,
      calledAt,
      queuedMs: lease.waitedMs,
      onEnd: (stats) => {
        this.running.delete(generation);
        lease.release();
        this.finish(stats);
      },
    });
    this.running.add(generation);
    return generation;
  }

  private finish(stats: RequestStats): void {
    if (stats.error !== undefined) this.totals.requests.failed++;
    else if (stats.finishReason === 'cancelled') this.totals.requests.cancelled++;
    else this.totals.requests.completed++;
    this.totals.tokens.prompt += stats.promptTokens;
    this.totals.tokens.cachedPrompt += stats.cachedPromptTokens;
    this.totals.tokens.completion += stats.completionTokens;
    this.last = stats;
    try {
      this.onRequestFinished?.(stats);
    } catch {
      // A metrics callback must not break serving.
    }
  }
}

/**
 * OpenAI's `logit_bias` and `ignoreEos` as a node-llama-cpp TokenBias. `TokenBias.set` skips end-of-generation
 * tokens on purpose, so biases on those go into its map directly (node-llama-cpp 3.21 reads `_biases` when
 * sampling); a version without that map refuses such a bias instead of ignoring it.
 */
function tokenBiasOf(model: LlamaModel, sampling: SamplingOptions): TokenBias | null {
  const entries = Object.entries(sampling.logitBias ?? {}).map(
    ([token, value]) => [Number(token) as Token, value] as const,
  );
  if (sampling.ignoreEos) {
    for (const token of eogTokens(model)) entries.push([token, -100]);
  }
  if (entries.length === 0) return null;
  checkTokenIds(
    model,
    'logit_bias',
    entries.map(([token]) => token),
  );
  const bias = new TokenBias(model.tokenizer);
  for (const [token, value] of entries) {
    const logit = value <= -100 ? -Infinity : value;
    if (!model.isEogToken(token)) {
      bias.set(token, { logit });
      continue;
    }
    const raw = (bias as unknown as { _biases?: unknown })._biases;
    if (!(raw instanceof Map)) {
      throw AppError.invalid('logit_bias', 'a bias on the end-of-generation token is not supported by this runtime');
    }
    raw.set(token, logit);
  }
  return bias;
}

const eogCache = new WeakMap<LlamaModel, Token[]>();

/** The number of tokens in the model's vocabulary (token ids from a client are checked against it). */
function vocabularySize(model: LlamaModel): number {
  const tokenizer = model.fileInfo.metadata.tokenizer as { ggml?: { tokens?: readonly unknown[] } } | undefined;
  return tokenizer?.ggml?.tokens?.length ?? Infinity;
}

function checkTokenIds(model: LlamaModel, param: string, ids: Iterable<number>): void {
  const size = vocabularySize(model);
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= size) {
      throw AppError.invalid(param, `token id ${id} is not in the model's vocabulary of ${size} tokens`);
    }
  }
}

function eogTokens(model: LlamaModel): Token[] {
  let tokens = eogCache.get(model);
  if (!tokens) {
    tokens = [];
    for (const token of model.iterateAllTokens()) if (model.isEogToken(token)) tokens.push(token);
    eogCache.set(model, tokens);
  }
  return tokens;
}

/** The text stop triggers of a grammar (node-llama-cpp's JSON grammars stop after four newlines). */
function grammarStopTexts(grammar: LlamaGrammar | null): string[] {
  const texts: string[] = [];
  for (const trigger of grammar?.stopGenerationTriggers ?? []) {
    if (typeof trigger === 'string') texts.push(trigger);
    else if (isLlamaText(trigger)) {
      const values = trigger.values;
      if (values.every((value) => typeof value === 'string')) texts.push(values.join(''));
    } else if (trigger.every((value) => typeof value === 'string')) texts.push(trigger.join(''));
  }
  return texts.filter((text) => text.length > 0);
}

async function drain(generation: Generation): Promise<GenerationResult> {
  for await (const _delta of generation) {
    // The result carries the whole text.
  }
  return generation.result;
}

interface SequenceGenerationInit {
  id: string;
  kind: 'chat' | 'completion';
  model: LlamaModel;
  sequence: LlamaContextSequence;
  promptTokens: Token[];
  cached: number;
  maxTokens: number;
  sampling: SamplingOptions;
  grammar: LlamaGrammar | null;
  bias: TokenBias | null;
  stops: string[];
  templateStops: readonly string[];
  signal: AbortSignal | undefined;
  calledAt: number;
  queuedMs: number;
  onEnd: (stats: RequestStats) => void;
}

/** Turns tokens into text a piece at a time, holding tokens that end inside a multi-byte character. */
class Detokenizer {
  private pending: Token[] = [];
  private readonly recent: Token[];

  constructor(
    private readonly model: LlamaModel,
    context: readonly Token[],
  ) {
    this.recent = context.slice(-8);
  }

  push(token: Token): string {
    this.pending.push(token);
    const text = this.model.detokenize(this.pending, false, this.recent);
    if (text.endsWith('\uFFFD') && this.pending.length < 4) return '';
    return this.commit(text);
  }

  flush(): string {
    return this.pending.length === 0 ? '' : this.commit(this.model.detokenize(this.pending, false, this.recent));
  }

  private commit(text: string): string {
    this.recent.push(...this.pending);
    this.recent.splice(0, Math.max(0, this.recent.length - 8));
    this.pending = [];
    return text;
  }
}

class SequenceGeneration implements Generation {
  readonly id: string;
  readonly promptTokens: number;
  readonly cachedPromptTokens: number;
  readonly result: Promise<GenerationResult>;

  private resolve!: (result: GenerationResult) => void;
  private reject!: (error: unknown) => void;
  private iterator: AsyncGenerator<string, void, undefined> | null = null;
  private started = false;
  private ended = false;
  private cancelled = false;
  /** Why it was cancelled when not by its client. */
  private cancelReason: { reason: unknown } | null = null;
  private readonly onAbort = (): void => this.cancel();

  constructor(private readonly init: SequenceGenerationInit) {
    this.id = init.id;
    this.promptTokens = init.promptTokens.length;
    this.cachedPromptTokens = init.cached;
    this.result = new Promise<GenerationResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Whoever does not await the result must not turn a failure into an unhandled rejection.
    this.result.catch(() => {});
    // Aborted between taking the slot and now: free it even if nobody iterates (after construction completes).
    if (init.signal?.aborted) queueMicrotask(() => this.cancel());
    else init.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.iterator) throw new Error('a generation can be iterated once');
    this.iterator = this.run();
    return this.iterator;
  }

  cancel(reason?: unknown): void {
    if (this.ended) return;
    this.cancelled = true;
    if (reason !== undefined) this.cancelReason ??= { reason };
    if (!this.started) {
      // Never iterated: there is no loop to notice, so end it here.
      this.end('', 'cancelled', 0, null, null);
      void this.iterator?.return();
      return;
    }
    // Suspended at a yield (the consumer is not pulling): return() runs the loop's `finally` now. While a token
    // is being evaluated it is queued, and the loop sees `cancelled` after that token.
    void this.iterator?.return();
  }

  private async *run(): AsyncGenerator<string, void, undefined> {
    if (this.ended) return;
    this.started = true;
    const { model, sequence, promptTokens, sampling, grammar } = this.init;
    const decoder = new Detokenizer(model, promptTokens);
    // JSON grammars end in a run of newlines: a stop string, with the trailing whitespace dropped.
    const stopBuffer = new StopTextBuffer(
      [...this.init.stops, ...grammarStopTexts(grammar)],
      grammar?.trimWhitespaceSuffix ?? false,
    );
    const penalties =
      (sampling.presencePenalty ?? 0) !== 0 || (sampling.frequencyPenalty ?? 0) !== 0
        ? {
            punishTokens: () => generated,
            penalty: 1,
            presencePenalty: sampling.presencePenalty ?? 0,
            frequencyPenalty: sampling.frequencyPenalty ?? 0,
          }
        : undefined;
    const bias = this.init.bias;
    const evaluateOptions: SequenceEvaluateOptions = {
      temperature: sampling.temperature ?? 1,
      ...(sampling.topP === undefined ? {} : { topP: sampling.topP }),
      // node-llama-cpp's default seed is the current second: requests in the same second would sample alike.
      seed: sampling.seed === undefined ? randomInt(2 ** 32) : seed32(sampling.seed),
      ...(grammar ? { grammarEvaluationState: new LlamaGrammarEvaluationState({ model, grammar }) } : {}),
      ...(penalties ? { repeatPenalty: penalties } : {}),
      ...(bias ? { tokenBias: bias } : {}),
    };
    const generated: Token[] = [];
    let text = '';
    let firstTokenAt: number | null = null;
    let finish: GenerationFinish = 'stop';
    let failure: unknown = null;
    let completed = false;
    let tokens: AsyncGenerator<Token, void, undefined> | null = null;
    try {
      if (this.cancelled) return;
      tokens = sequence.evaluate(promptTokens.slice(sequence.nextTokenIndex), evaluateOptions);
      // node-llama-cpp evaluates the next token only when asked for it. It is asked as soon as this token is known
      // not to end the generation, before the delta is yielded: the consumer (framing and writing an SSE event)
      // then runs while the next token is evaluated instead of between tokens. Never more than one token ahead.
      let next: Promise<IteratorResult<Token>> | null = tokens.next();
      while (next) {
        const step: IteratorResult<Token> = await next;
        next = null;
        if (step.done) break;
        const token = step.value;
        firstTokenAt ??= performance.now();
        if (this.cancelled) {
          finish = 'cancelled';
          break;
        }
        generated.push(token);
        const { templateStops } = this.init;
        if (
          templateStops.length > 0 &&
          model.isSpecialToken(token) &&
          templateStops.includes(model.detokenize([token], true))
        ) {
          break;
        }
        const delta = stopBuffer.push(decoder.push(token));
        // The first text is handed on before the next token is asked for: nothing then delays its way to the
        // client (time to first token); the token after it starts a write's time later.
        let askAfterYield = false;
        if (!stopBuffer.stopped) {
          if (generated.length >= this.init.maxTokens) finish = 'length';
          else if (delta && text === '') askAfterYield = true;
          else {
            next = tokens.next();
            // Awaited on the next turn; failing while the consumer is away must not count as unhandled meanwhile.
            next.catch(() => {});
          }
        }
        if (delta) {
          text += delta;
          yield delta;
          if (this.cancelled) {
            finish = 'cancelled';
            break;
          }
          if (askAfterYield) next = tokens.next();
        }
      }
      if (finish !== 'cancelled' && !stopBuffer.stopped) {
        const tail = stopBuffer.push(decoder.flush()) + stopBuffer.flush();
        if (tail) {
          text += tail;
          yield tail;
        }
      }
      completed = finish !== 'cancelled';
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // Leaving early (cancel(), the signal, or the consumer breaking out) is a cancellation. A token asked for
      // ahead is still being evaluated: return() waits for it, so the slot is free when the generation ends.
      try {
        await tokens?.return();
      } catch (error) {
        failure ??= error;
      }
      if (!completed) finish = 'cancelled';
      this.end(text, finish, generated.length, firstTokenAt, failure);
    }
  }

  private end(
    text: string,
    finish: GenerationFinish,
    completionTokens: number,
    firstTokenAt: number | null,
    failure: unknown,
  ): void {
    if (this.ended) return;
    this.ended = true;
    this.init.signal?.removeEventListener('abort', this.onAbort);
    // Cut off by an unload, not by its client: the caller is told so rather than handed a short answer.
    if (failure === null && finish === 'cancelled' && this.cancelReason) failure = this.cancelReason.reason;
    const endedAt = performance.now();
    const stats: RequestStats = {
      id: this.id,
      kind: this.init.kind,
      promptTokens: this.promptTokens,
      cachedPromptTokens: this.cachedPromptTokens,
      completionTokens,
      finishReason: failure === null ? finish : null,
      queuedMs: this.init.queuedMs,
      ttftMs: firstTokenAt === null ? null : firstTokenAt - this.init.calledAt,
      durationMs: endedAt - this.init.calledAt,
      tokensPerSecond:
        firstTokenAt !== null && completionTokens > 1 && endedAt > firstTokenAt
          ? (completionTokens - 1) / ((endedAt - firstTokenAt) / 1000)
          : null,
      ...(failure === null ? {} : { error: errorText(failure) }),
    };
    this.init.onEnd(stats);
    if (failure !== null) {
      this.reject(failure);
      return;
    }
    this.resolve({
      text,
      finishReason: finish,
      promptTokens: this.promptTokens,
      cachedPromptTokens: this.cachedPromptTokens,
      completionTokens,
      stats,
    });
  }
}
