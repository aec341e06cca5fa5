import { streamReply, type ForeignApi, type ForeignRequest, type ForeignRoute } from '#gateway/routes';
import { CompletionRequest, EmbeddingRequest } from '#shared/contracts/openai';
import { AppError } from '#shared/errors';
import type { Deployments, Lease, RequestRecord } from './deployments';
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
  parseChatCompletionRequest,
  parseOpenAiBody,
  responseMeta,
  textCompletionSse,
  toOpenAiError,
} from './llm/openai-wire';
import { CLIENT_CLOSED_REQUEST, REQUEST_ID_HEADER, answerHeaders, answerJson, unlogged, type Caller } from './reply';
import { aRuntime } from './runtimes';
import type { GenerationResult, Generation, GgufRuntime } from './llm/runtime';

/**
 * What a request handler produced: a JSON body, or SSE frames over a generation, made (and started) by `frames`
 * with what to await when the stream ends or is left.
 */
type Outcome =
  | { body: unknown; result: Pick<RequestRecord, 'promptTokens' | 'completionTokens' | 'output'> }
  | { frames: (onClose?: () => Promise<void>) => AsyncIterable<string>; generation: Generation };

function ggufOf(lease: Lease, what: string): GgufRuntime {
  const runtime = lease.model.gguf;
  if (!runtime) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `model '${lease.deployment.name}' is ${aRuntime(lease.deployment.runtime)} deployment; it does not serve ${what}`,
      { param: 'model', code: 'model_not_supported' },
    );
  }
  return runtime;
}

async function drain(generation: Generation): Promise<GenerationResult> {
  for await (const _delta of generation) {
    // The result carries the whole text.
  }
  return generation.result;
}

function resultFields(result: GenerationResult) {
  return { promptTokens: result.promptTokens, completionTokens: result.completionTokens, output: result.text };
}

type Work = (lease: Lease, signal: AbortSignal) => Promise<Outcome>;

/**
 * Runs a request on the shadow version once the client's answer is settled: to its end (a stream is read through),
 * counted for that version; its answer goes to nobody.
 */
async function mirror(deployments: Deployments, shadow: Lease, endpoint: string, input: string, work: Work) {
  const started = performance.now();
  const record = (r: Omit<RequestRecord, 'endpoint' | 'input' | 'durationMs'>) =>
    deployments.record(shadow, { ...r, endpoint, input, durationMs: performance.now() - started });
  try {
    const outcome = await work(shadow, new AbortController().signal);
    let result: Pick<RequestRecord, 'promptTokens' | 'completionTokens' | 'output'>;
    if ('body' in outcome) result = outcome.result;
    else {
      for await (const _frame of outcome.frames()) {
        // Read through: the result carries the whole text.
      }
      result = resultFields(await outcome.generation.result);
    }
    record({ outcome: 'ok', httpStatus: 200, error: null, ...result });
  } catch (err) {
    record({
      outcome: 'error',
      httpStatus: toOpenAiError(err).status,
      error: err instanceof Error ? err.message : String(err),
      promptTokens: null,
      completionTokens: null,
      output: null,
    });
  } finally {
    shadow.release();
  }
}

/**
 * Serves one request on a deployment: holds it (loading it on a cold start), runs `work` on the model version the
 * traffic split picks, and records the request (metrics, request log) when it ends — for a stream, when its last
 * frame is written or the client has gone. A shadow version is then sent the same request (`mirror`).
 */
async function serve(
  deployments: Deployments,
  model: string,
  endpoint: string,
  input: string,
  caller: Caller,
  work: Work,
): Promise<unknown> {
  const started = performance.now();
  const { signal } = caller;
  // A failure's id in the log goes to its client too, as an answer's does.
  const tell = (logId: string | null) => {
    if (logId !== null) caller.setHeader(REQUEST_ID_HEADER, logId);
  };
  let lease: Lease;
  try {
    lease = await deployments.acquire(model, undefined, { unlogged: unlogged(caller) });
  } catch (err) {
    tell(deployments.refused(model, endpoint, toOpenAiError(err).status, err, () => input, caller));
    throw err;
  }
  const record = (r: Omit<RequestRecord, 'endpoint' | 'input' | 'durationMs'>) =>
    deployments.record(lease, { ...r, endpoint, input, durationMs: performance.now() - started });
  const { shadow } = lease;
  const done = () => {
    lease.release();
    if (shadow) void mirror(deployments, shadow, endpoint, input, work);
  };
  let streaming = false;
  try {
    const outcome = await work(lease, signal);
    if ('body' in outcome) {
      record({ outcome: signal.aborted ? 'cancelled' : 'ok', httpStatus: 200, error: null, ...outcome.result });
      return answerJson(outcome.body, lease);
    }
    streaming = true;
    const { generation } = outcome;
    let finished: Promise<void> | null = null;
    // Once, when the stream ends or the client leaves (whichever comes first).
    const finish = () =>
      (finished ??= generation.result
        .then(
          (result) => {
            const cancelled = result.finishReason === 'cancelled';
            record({
              outcome: cancelled ? 'cancelled' : 'ok',
              httpStatus: cancelled ? CLIENT_CLOSED_REQUEST : 200,
              error: null,
              ...resultFields(result),
            });
          },
          (err: unknown) => {
            record({
              outcome: 'error',
              httpStatus: 200,
              error: err instanceof Error ? err.message : String(err),
              promptTokens: null,
              completionTokens: null,
              output: null,
            });
          },
        )
        .finally(done));
    signal.addEventListener(
      'abort',
      () => {
        generation.cancel();
        void finish();
      },
      { once: true },
    );
    return streamReply({ ...SSE_HEADERS, ...answerHeaders(lease) }, outcome.frames(finish));
  } catch (err) {
    const { status } = toOpenAiError(err);
    const logged = record({
      outcome: signal.aborted ? 'cancelled' : 'error',
      httpStatus: signal.aborted ? CLIENT_CLOSED_REQUEST : status,
      error: err instanceof Error ? err.message : String(err),
      promptTokens: null,
      completionTokens: null,
      output: null,
    });
    tell(logged);
    throw err;
  } finally {
    if (!streaming) done();
  }
}

/**
 * `parse(body)`, a refusal counted and logged as the error of the deployment the body names, if it names one: what a
 * client sent wrong shows where it went.
 */
function parsedBody<T>(
  deployments: Deployments,
  endpoint: string,
  req: ForeignRequest,
  parse: (body: unknown) => T,
): T {
  try {
    return parse(req.body);
  } catch (err) {
    const model = (req.body as { model?: unknown } | null)?.model;
    const input = () => JSON.stringify(req.body);
    const logId = deployments.refused(model, endpoint, toOpenAiError(err).status, err, input, req);
    if (logId !== null) req.setHeader(REQUEST_ID_HEADER, logId);
    throw err;
  }
}

/**
 * OpenAI's REST API over the GGUF deployments (`model` is the deployment's name), so that OpenAI's clients work
 * unchanged against `http://127.0.0.1:8000/v1` with the local token or an AI-DOS API key. Errors take OpenAI's
 * shape. Inference needs the `read` scope: it changes no stored data (the request log aside), so a read-only API
 * key given to an application can use the models without being able to change anything.
 */
export function openAiApi(deployments: Deployments): ForeignApi {
  const models = () =>
    buildModelList(deployments.servable().map((d) => ({ id: d.name, created: Math.floor(d.createdAt / 1000) })));
  const routes: ForeignRoute[] = [
    { method: 'GET', url: '/v1/models', scope: 'read', handler: () => models() },
    {
      method: 'GET',
      url: '/v1/models/:model',
      scope: 'read',
      handler: (req) => {
        // Refused as a request to it would be: a stopped model says so rather than "does not exist".
        const d = deployments.servableNamed(req.params.model as string);
        return buildModelList([{ id: d.name, created: Math.floor(d.createdAt / 1000) }]).data[0];
      },
    },
    {
      method: 'POST',
      url: '/v1/chat/completions',
      scope: 'read',
      handler: (req: ForeignRequest) => {
        const body = parsedBody(deployments, 'chat', req, parseChatCompletionRequest);
        return serve(deployments, body.model, 'chat', JSON.stringify(body.messages), req, async (lease, signal) => {
          const { messages, sampling } = chatRequestToRuntime(body);
          const generation = await ggufOf(lease, 'chat completions').startChat(messages, sampling, { signal });
          const meta = responseMeta('chatcmpl', body.model);
          if (body.stream) {
            const usage = body.stream_options?.include_usage ?? false;
            return { frames: (onClose) => chatCompletionSse(generation, meta, usage, onClose), generation };
          }
          const result = await drain(generation);
          return { body: buildChatCompletion(meta, result), result: resultFields(result) };
        });
      },
    },
    {
      method: 'POST',
      url: '/v1/completions',
      scope: 'read',
      handler: (req: ForeignRequest) => {
        const body = parsedBody(deployments, 'completion', req, (b) => parseOpenAiBody(CompletionRequest, b));
        const input = typeof body.prompt === 'string' ? body.prompt : JSON.stringify(body.prompt);
        return serve(deployments, body.model, 'completion', input, req, async (lease, signal) => {
          const runtime = ggufOf(lease, 'text completions');
          const { prompts, echo, sampling } = completionRequestToRuntime(body);
          const meta = responseMeta('cmpl', body.model);
          if (body.stream) {
            const generation = await runtime.startCompletion(prompts[0] as string, sampling, { signal });
            const usage = body.stream_options?.include_usage ?? false;
            const echoed = echo ? prompts[0] : undefined;
            return { frames: (onClose) => textCompletionSse(generation, meta, usage, echoed, onClose), generation };
          }
          const results: GenerationResult[] = [];
          for (const prompt of prompts) results.push(await runtime.complete(prompt, sampling, { signal }));
          return {
            body: buildTextCompletion(meta, results, echo ? prompts : undefined),
            result: {
              promptTokens: results.reduce((n, r) => n + r.promptTokens, 0),
              completionTokens: results.reduce((n, r) => n + r.completionTokens, 0),
              output:
                results.length === 1
                  ? (results[0] as GenerationResult).text
                  : JSON.stringify(results.map((r) => r.text)),
            },
          };
        });
      },
    },
    {
      method: 'POST',
      url: '/v1/embeddings',
      scope: 'read',
      handler: (req: ForeignRequest) => {
        const body = parsedBody(deployments, 'embedding', req, (b) => parseOpenAiBody(EmbeddingRequest, b));
        const input = typeof body.input === 'string' ? body.input : JSON.stringify(body.input);
        return serve(deployments, body.model, 'embedding', input, req, async (lease, signal) => {
          const runtime = ggufOf(lease, 'embeddings');
          const dimension = runtime.info.embeddingDimension;
          if (body.dimensions != null && dimension !== null && body.dimensions !== dimension) {
            throw AppError.invalid(
              'dimensions',
              `model '${body.model}' makes vectors of ${dimension} dimensions; leave dimensions out or give ${dimension}`,
            );
          }
          const result = await runtime.embed(embeddingInputs(body.input), { signal });
          // Text of nothing but whitespace or control characters has no tokens to embed: no vector, not an empty one.
          const empty = result.vectors.findIndex((v) => v.length === 0);
          if (empty >= 0) {
            throw AppError.invalid(
              typeof body.input === 'string' ? 'input' : `input[${empty}]`,
              'has nothing to embed (no tokens besides the special ones): give some text',
            );
          }
          return {
            body: buildEmbeddingList(body.model, result.vectors, result.promptTokens, body.encoding_format ?? 'float'),
            result: {
              promptTokens: result.promptTokens,
              completionTokens: null,
              output: `${result.vectors.length} vector(s) of ${result.dimension}`,
            },
          };
        });
      },
    },
  ];
  return {
    name: 'openai',
    prefixes: ['/v1/'],
    routes,
    errorReply: ({ code, message, details, status }) => {
      // The gateway's own refusals (no route, bad JSON, credentials) arrive here as plain codes.
      const unknownUrl = code === 'NOT_FOUND' && details === undefined && message.startsWith('no route');
      const { body } = toOpenAiError(
        new AppError(code, message, unknownUrl ? { code: 'unknown_url' } : details, status),
      );
      return { status, body };
    },
  };
}
