import path from 'node:path';
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import type { Deployment, DeploymentInput, PredictOutput } from '#shared/contracts/deploy';
import type { V2InferResponse } from '#shared/contracts/deploy-v2';
import { errorOfResponse } from '#shared/api/client';
import { AppError } from '#shared/errors';
import type { Connection } from './connection';
import { formatBytes, formatTime, printTable } from './output';
import { decimal, wholeNumber } from './option-parsers';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
  json(): boolean;
}

/** `name`, `name:3`, `name@alias` → the model and its version (a number or `@alias`). */
function modelRef(ref: string): { model: string; version: number | string | undefined } {
  const at = ref.lastIndexOf('@');
  if (at > 0) return { model: ref.slice(0, at), version: `@${ref.slice(at + 1)}` };
  const colon = ref.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(ref.slice(colon + 1))) {
    return { model: ref.slice(0, colon), version: Number(ref.slice(colon + 1)) };
  }
  return { model: ref, version: undefined };
}

function sourceText(d: Deployment): string {
  const s = d.source;
  return s.kind === 'file' ? s.path : `${s.model} v${s.version}${s.alias ? ` (@${s.alias})` : ''}`;
}

/** "canary v2 answers 10% of requests", "shadow v2 sees every request", or null. */
function trafficText(d: Deployment): string | null {
  const t = d.traffic;
  if (!t) return null;
  const version = t.source.kind === 'model-version' ? `v${t.source.version}` : t.source.path;
  return t.mode === 'canary'
    ? `canary ${version} answers ${t.percent}% of requests`
    : `shadow ${version} sees every request`;
}

/** `2` or `@alias` as the API takes a version selector. */
function versionSelector(value: string): number | string {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** "tiny ready on cpu", "tiny failed: <reason>". */
function stateLine(d: Deployment): string {
  const where = d.state === 'ready' && d.placement ? ` on ${d.placement}` : '';
  return `${d.name} ${d.state}${where}${d.reason && d.state !== 'ready' ? `: ${d.reason}` : ''}`;
}

function printDeployment(d: Deployment): void {
  const fields: [string, string | number | null][] = [
    ['name', d.name],
    ['id', d.id],
    ['state', d.state],
    ['reason', d.reason],
    ['runtime', d.runtime],
    ['model', sourceText(d)],
    ['file', d.source.path],
    [
      'previous',
      d.previousSource
        ? d.previousSource.kind === 'file'
          ? d.previousSource.path
          : `v${d.previousSource.version}`
        : null,
    ],
    ['traffic', trafficText(d)],
    ['serves', d.modelKind],
    ['placement', d.placement],
    ['device', d.device],
    [
      'context',
      d.runtime !== 'gguf' ? null : d.estimate ? `${d.estimate.contextSize} tokens` : (d.contextSize ?? null),
    ],
    ['parallel', d.runtime === 'gguf' ? d.parallel : null],
    ['replicas', `${d.replicas ?? 0} running (${d.minReplicas}..${d.maxReplicas})`],
    [
      'batching',
      d.runtime === 'gguf'
        ? null
        : d.maxBatchSize === 0
          ? 'off'
          : `up to ${d.maxBatchSize} rows, waiting at most ${d.maxQueueDelayMs} ms`,
    ],
    [
      'autoscaling',
      d.runtime === 'gguf'
        ? null
        : `every ${d.autoscaling.intervalMs} ms: up at queue depth ${d.autoscaling.scaleUpQueueDepth}` +
          `${d.autoscaling.scaleUpP95Ms === null ? '' : ` or p95 ${d.autoscaling.scaleUpP95Ms} ms`}, down below ${Math.round(d.autoscaling.scaleDownUtilization * 100)}% busy`,
    ],
    ['idle unload', d.idleUnloadSeconds === null ? 'never' : `after ${d.idleUnloadSeconds}s`],
    [
      'memory',
      d.estimate
        ? `${formatBytes(d.estimate.ramBytes)} RAM, ${formatBytes(d.estimate.vramBytes)} VRAM${d.replicas === null ? ' when loaded' : ''}`
        : null,
    ],
    ['request log', requestLogText(d.requestLog)],
    [
      'endpoint',
      d.runtime !== 'gguf'
        ? `/v2/models/${d.name}/infer (KServe v2), /api/v1/deployments/${d.name}/predict`
        : `/v1 (model "${d.name}")`,
    ],
    ['created', formatTime(d.createdAt)],
    // Only while loaded: an unloaded model holds no memory, and when it was loaded last is in its events.
    ['loaded', d.replicas === null ? null : formatTime(d.loadedAt)],
    ['last request', formatTime(d.lastRequestAt)],
  ];
  for (const [label, value] of fields) if (value !== null) console.log(`${label.padEnd(12)} ${value}`);
}

/**
 * A POST to a foreign API (OpenAI's `/v1/...`, KServe's `/v2/...`); its errors (`{error: {message}}` or
 * `{error: "..."}`) become AppErrors.
 */
async function postForeign(c: Connection, url: string, body: unknown): Promise<Response> {
  const res = await fetch(new URL(url, c.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.ok) return res;
  throw errorOfResponse(res.status, await res.text());
}

/** The flags of `aidos deploy` by the API field each sets. */
const DEPLOY_FLAGS: Record<string, string> = {
  name: '--name',
  file: '--file',
  device: '--device',
  runtime: '--runtime',
  contextSize: '--context-size',
  parallel: '--parallel',
  threads: '--threads',
  idleUnloadSeconds: '--idle-unload',
  minReplicas: '--min-replicas',
  maxReplicas: '--max-replicas',
  maxBatchSize: '--max-batch-size',
  maxQueueDelayMs: '--max-queue-delay',
  chatFormat: '--chat-format',
  'requestLog.sampleRate': '--log-sample-rate',
  'requestLog.maxChars': '--log-max-chars',
};

/**
 * The API's refusal of a command's input, naming the flag the user gave rather than the field it set
 * (`body.idleUnloadSeconds: …` is `--idle-unload: …`).
 */
async function inFlagTerms<T>(flags: Record<string, string>, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const m = /^(?:body\.)?([\w.]+): ([\s\S]*)$/.exec(err.message);
    const flag = m ? flags[m[1] as string] : undefined;
    if (!flag) throw err;
    throw new AppError(err.code, `${flag}: ${m?.[2] ?? ''}`, err.details, err.httpStatus);
  }
}

/** What a deployment's request log keeps, in words. */
function requestLogText(log: Deployment['requestLog']): string {
  if (log.sampleRate === 0) return 'off';
  const share =
    log.sampleRate >= 1 ? 'every request' : `${+(log.sampleRate * 100).toPrecision(3)}% of successes and every failure`;
  return `keeps ${share}, cut to ${log.maxChars} characters`;
}

/** The request log's settings from flags, only those given; undefined when neither is. */
function requestLogSettings(
  sampleRate: number | undefined,
  maxChars: number | undefined,
): { sampleRate?: number; maxChars?: number } | undefined {
  if (sampleRate === undefined && maxChars === undefined) return undefined;
  return { ...(sampleRate === undefined ? {} : { sampleRate }), ...(maxChars === undefined ? {} : { maxChars }) };
}

/** `--lazy` is min replicas 0: a --min-replicas above that contradicts it. */
function lazyMin(minReplicas: number | undefined): 0 {
  if (minReplicas !== undefined && minReplicas > 0) {
    throw AppError.invalid(
      '--lazy',
      `loads on the first request (min replicas 0): leave out --min-replicas ${minReplicas}`,
    );
  }
  return 0;
}

/** A POST to the OpenAI-compatible API. */
function openAi(c: Connection, route: string, body: unknown): Promise<Response> {
  return postForeign(c, `/v1/${route}`, body);
}

/** Reads stdin as JSON. */
async function stdinJson(): Promise<unknown> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw AppError.invalid('stdin', `not JSON: ${(err as Error).message}`);
  }
}

/** Prints what an ONNX deployment predicted: a label (or value) per row, or each output tensor on a line. */
function printOnnxResult(result: PredictOutput | V2InferResponse): void {
  if ('predictions' in result && result.predictions) {
    for (const p of result.predictions) console.log('label' in p ? p.label : String(p.value));
    return;
  }
  const outputs =
    'outputs' in result && Array.isArray(result.outputs)
      ? result.outputs
      : Object.entries((result as PredictOutput).outputs ?? {}).map(([name, o]) => ({ name, ...o }));
  for (const o of outputs) console.log(`${o.name} [${o.shape.join(', ')}] ${JSON.stringify(o.data)}`);
}

/**
 * `aidos predict` on an ONNX deployment: `{"rows": […]}` (or a bare array of rows) and `{"inputs": {name: {shape,
 * data}}}` go to `deployments.predict`; a KServe v2 body (`{"inputs": [{name, shape, datatype, data}]}`) to
 * `/v2/models/<name>/infer`.
 */
async function predictOnnx(c: Connection, deployment: string, body: unknown): Promise<PredictOutput | V2InferResponse> {
  if (Array.isArray(body)) body = { rows: body };
  if (typeof body !== 'object' || body === null) {
    throw AppError.invalid('stdin', 'give a JSON object with rows (a tabular model) or inputs (tensors)');
  }
  const request = body as { rows?: unknown; inputs?: unknown };
  if (Array.isArray(request.inputs)) {
    const res = await postForeign(c, `/v2/models/${encodeURIComponent(deployment)}/infer`, body);
    return (await res.json()) as V2InferResponse;
  }
  if (request.rows === undefined && request.inputs === undefined) {
    throw AppError.invalid('stdin', 'give rows (a tabular model), inputs by name, or a KServe v2 inference request');
  }
  return c.client.call('deployments.predict', { ...(body as object), deployment });
}

/** The `data:` payloads of a server-sent event stream, until `[DONE]`. */
async function* sseData(res: Response): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const data = line.slice(6);
        if (data === '[DONE]') return;
        yield JSON.parse(data) as unknown;
      }
    }
  }
}

interface ChatOptions {
  system?: string;
  temperature?: number;
  maxTokens?: number;
  history: boolean;
}

/** `aidos deploy`, `aidos deployments …`, `aidos chat`, `aidos predict`: DeployEngine from the terminal. */
export function addDeployCommands(program: Command, ctx: CliContext): void {
  program
    .command('deploy [model]')
    .description(
      'deploy a registered model version (model, model:3 or model@alias; default its newest version) or a model ' +
        'file (a path, or --file); prints its state once loaded (exit 1 if it failed)',
    )
    .option('--name <name>', 'the deployment name, which clients use as the OpenAI model id (default: the model name)')
    .option('--file <path>', 'a GGUF, ONNX or TF.js model file on this machine instead of a registered model')
    .addOption(new Option('--device <device>', 'where it runs (default auto)').choices(['auto', 'cpu', 'gpu']))
    .addOption(
      new Option(
        '--runtime <runtime>',
        'what serves it (default: by the model’s format); tfjs also serves a built-in trainer’s ONNX version from its TF.js export',
      ).choices(['onnx', 'tfjs', 'gguf']),
    )
    .option(
      '--context-size <tokens>',
      'tokens per sequence (default: the model’s, at most 4096)',
      wholeNumber('--context-size'),
    )
    .option('--parallel <n>', 'requests served at once (default 1)', wholeNumber('--parallel'))
    .option('--threads <n>', 'CPU threads per evaluation (default: all cores)', wholeNumber('--threads'))
    .option(
      '--idle-unload <seconds>',
      'unload after this long without requests; reload on the next',
      wholeNumber('--idle-unload'),
    )
    .option('--lazy', 'load on the first request rather than now (min replicas 0)')
    .option('--min-replicas <n>', 'ONNX: replicas at least (0: scale to zero when idle)', wholeNumber('--min-replicas'))
    .option('--max-replicas <n>', 'ONNX: replicas the autoscaler may run at most', wholeNumber('--max-replicas'))
    .option(
      '--max-batch-size <rows>',
      'ONNX dynamic batching: rows per run at most (0: off; default 32)',
      wholeNumber('--max-batch-size'),
    )
    .option(
      '--max-queue-delay <ms>',
      'ONNX dynamic batching: how long a request may wait for its batch (default 2)',
      decimal('--max-queue-delay'),
    )
    .option(
      '--log-sample-rate <r>',
      'request log: the share of successful requests kept, 0 to 1 (failures are kept at any rate but 0, which turns the log off; default 1)',
      decimal('--log-sample-rate'),
    )
    .option(
      '--log-max-chars <n>',
      'request log: input and output cut to this many characters (default 4096)',
      wholeNumber('--log-max-chars'),
    )
    .addOption(
      new Option('--chat-format <format>', 'chat prompts: the file’s template, or raw text').choices(['auto', 'raw']),
    )
    .action(
      async (
        ref: string | undefined,
        o: {
          name?: string;
          file?: string;
          device?: 'auto' | 'cpu' | 'gpu';
          runtime?: 'onnx' | 'tfjs' | 'gguf';
          contextSize?: number;
          parallel?: number;
          threads?: number;
          idleUnload?: number;
          lazy?: boolean;
          chatFormat?: 'auto' | 'raw';
          minReplicas?: number;
          maxReplicas?: number;
          maxBatchSize?: number;
          maxQueueDelay?: number;
          logSampleRate?: number;
          logMaxChars?: number;
        },
      ) => {
        if ((ref === undefined) === (o.file === undefined)) {
          throw AppError.invalid('model', 'give a registered model (model[:version|@alias]) or --file <path>');
        }
        // A path (registered model names have no slash) is a file: `aidos deploy ./model.gguf`.
        const file = o.file ?? (ref?.includes('/') ? ref : undefined);
        const input: DeploymentInput = {
          ...(file !== undefined ? { file: path.resolve(file) } : modelRef(ref as string)),
          name: o.name,
          device: o.device,
          runtime: o.runtime,
          contextSize: o.contextSize,
          parallel: o.parallel,
          threads: o.threads,
          idleUnloadSeconds: o.idleUnload,
          minReplicas: o.lazy ? lazyMin(o.minReplicas) : o.minReplicas,
          maxReplicas: o.maxReplicas,
          maxBatchSize: o.maxBatchSize,
          maxQueueDelayMs: o.maxQueueDelay,
          chatFormat: o.chatFormat,
          requestLog: requestLogSettings(o.logSampleRate, o.logMaxChars),
        };
        const d = await inFlagTerms(DEPLOY_FLAGS, ctx.conn().client.call('deployments.create', input));
        ctx.out(d, () => {
          console.log(stateLine(d));
          if (d.state === 'failed') return;
          if (d.runtime !== 'gguf') {
            console.log(`try it: aidos predict ${d.name} < input.json   (KServe v2: POST /v2/models/${d.name}/infer)`);
          } else if (d.modelKind === 'embedding') {
            console.log(
              `try it: echo '{"input": "hello"}' | aidos predict ${d.name}   (OpenAI clients: embeddings, model "${d.name}")`,
            );
          } else console.log(`try it: aidos chat ${d.name}   (OpenAI clients: model "${d.name}")`);
        });
        if (d.state === 'failed') process.exitCode = 1;
        else if (d.minReplicas === 0 && d.idleUnloadSeconds === null) {
          console.error(
            `note: ${d.name} loads on its first request and, without an idle timeout, stays loaded; give one with --idle-unload SECONDS to scale it back to zero`,
          );
        }
      },
    );

  const deployments = program
    .command('deployments')
    .description('deployments: list, show, start, stop, scale, traffic, events, logs, log-settings');
  deployments
    .command('list')
    .description('list deployments with their state and model')
    .action(async () => {
      const { items } = await ctx.conn().client.call('deployments.list');
      ctx.out({ items }, () =>
        printTable(
          items.map((d) => ({
            name: d.name,
            state: d.state,
            runtime: d.runtime,
            model: sourceText(d),
            placement: d.placement,
            replicas: `${d.replicas ?? 0} (${d.minReplicas}..${d.maxReplicas})`,
            reason: d.state === 'ready' ? null : d.reason,
          })),
          'no deployments (deploy a model with: aidos deploy <model>)',
        ),
      );
    });
  deployments
    .command('show <name>')
    .description('show a deployment: its model, settings, memory and state')
    .action(async (name: string) => {
      const d = await ctx.conn().client.call('deployments.get', { deployment: name });
      ctx.out(d, () => printDeployment(d));
    });
  for (const [verb, help] of [
    ['start', 'load a stopped, failed or unloaded deployment'],
    ['stop', 'unload a deployment and refuse its requests until started'],
    ['rollback', 'serve the previous model version again'],
    ['promote', 'make the canary (or shadow) version the main one; the old main one becomes the rollback target'],
  ] as const) {
    deployments
      .command(`${verb} <name>`)
      .description(help)
      .action(async (name: string) => {
        const d = await ctx.conn().client.call(`deployments.${verb}`, { deployment: name });
        ctx.out(d, () => console.log(stateLine(d)));
        if (d.state === 'failed') process.exitCode = 1;
      });
  }
  deployments
    .command('scale <name>')
    .description('set the replicas an ONNX deployment runs between (the autoscaler moves within them)')
    .option('--min <n>', 'replicas at least (0: scale to zero after the idle timeout)', wholeNumber('--min'))
    .option('--max <n>', 'replicas at most', wholeNumber('--max'))
    .option(
      '--idle-unload <seconds>',
      'with --min 0: scale to zero after this many seconds idle',
      wholeNumber('--idle-unload'),
    )
    .action(async (name: string, o: { min?: number; max?: number; idleUnload?: number }) => {
      if (o.min === undefined && o.max === undefined && o.idleUnload === undefined) {
        throw AppError.invalid('--min', 'give --min, --max, --idle-unload or some of them');
      }
      const d = await inFlagTerms(
        { minReplicas: '--min', maxReplicas: '--max', idleUnloadSeconds: '--idle-unload' },
        ctx.conn().client.call('deployments.update', {
          deployment: name,
          minReplicas: o.min,
          maxReplicas: o.max,
          idleUnloadSeconds: o.idleUnload,
        }),
      );
      ctx.out(d, () => {
        const running = d.replicas ?? 0;
        console.log(
          `${stateLine(d)}, ${running} ${running === 1 ? 'replica' : 'replicas'} running (${d.minReplicas}..${d.maxReplicas})`,
        );
      });
      if (d.minReplicas === 0 && d.idleUnloadSeconds === null) {
        console.error(
          `note: ${d.name} has no idle timeout, so it never scales to zero; give one with --idle-unload SECONDS`,
        );
      }
    });
  deployments
    .command('traffic <name>')
    .description('serve a second model version beside the main one: a canary share of requests, or a shadow copy')
    .option('--canary <version>', 'the version (number or @alias) answering --percent of the requests')
    .option('--percent <n>', 'with --canary: the share of requests it answers, 0 to 100', decimal('--percent'))
    .option('--shadow <version>', 'the version sent every request too, its answers discarded')
    .option('--clear', 'the main version answers every request again')
    .action(async (name: string, o: { canary?: string; percent?: number; shadow?: string; clear?: boolean }) => {
      const given = [o.canary, o.shadow, o.clear].filter((v) => v !== undefined).length;
      if (given !== 1)
        throw AppError.invalid(
          '--canary',
          'give one of --canary <version> --percent <n>, --shadow <version> or --clear',
        );
      if (o.percent !== undefined && o.canary === undefined) {
        throw AppError.invalid('--percent', 'goes with --canary');
      }
      const traffic = o.clear
        ? null
        : o.canary !== undefined
          ? {
              mode: 'canary' as const,
              version: versionSelector(o.canary),
              ...(o.percent === undefined ? {} : { percent: o.percent }),
            }
          : { mode: 'shadow' as const, version: versionSelector(o.shadow as string) };
      const d = await ctx.conn().client.call('deployments.update', { deployment: name, traffic });
      ctx.out(d, () => console.log(`${stateLine(d)}; ${trafficText(d) ?? 'the main version answers every request'}`));
    });
  deployments
    .command('delete <name>')
    .description('unload and delete a deployment with its request log')
    .action(async (name: string) => {
      const ok = await ctx.conn().client.call('deployments.delete', { deployment: name });
      ctx.out(ok, () => console.log(`deleted ${name}`));
    });
  deployments
    .command('events <name>')
    .description("print a deployment's events, newest first: state changes, scaling steps and why")
    .option('-n, --limit <n>', 'how many (at most 500)', wholeNumber('--limit'), 20)
    .action(async (name: string, o: { limit: number }) => {
      const page = await ctx.conn().client.call('deployments.events', { deployment: name, limit: o.limit });
      ctx.out(page, () =>
        printTable(
          page.items.map((e) => ({ at: formatTime(e.at), state: e.state, message: e.message })),
          'no events',
        ),
      );
    });
  deployments
    .command('log-settings <name>')
    .description(
      'show or set what the request log keeps: the share of successful requests (failures too, unless the rate is 0: off) and their size',
    )
    .option(
      '--sample-rate <r>',
      'the share of successful requests kept, 0 to 1 (0: the log is off)',
      decimal('--sample-rate'),
    )
    .option('--max-chars <n>', 'input and output cut to this many characters', wholeNumber('--max-chars'))
    .action(async (name: string, o: { sampleRate?: number; maxChars?: number }) => {
      const requestLog = requestLogSettings(o.sampleRate, o.maxChars);
      // Without flags it shows the settings.
      const d = requestLog
        ? await inFlagTerms(
            { 'requestLog.sampleRate': '--sample-rate', 'requestLog.maxChars': '--max-chars' },
            ctx.conn().client.call('deployments.update', { deployment: name, requestLog }),
          )
        : await ctx.conn().client.call('deployments.get', { deployment: name });
      ctx.out(d.requestLog, () => console.log(`${d.name}: request log ${requestLogText(d.requestLog)}`));
    });
  deployments
    .command('logs <name>')
    .description("print a deployment's request log, newest first")
    .option('-n, --limit <n>', 'how many (at most 500)', wholeNumber('--limit'), 20)
    .addOption(new Option('--status <status>', 'only requests that ended so').choices(['ok', 'error', 'cancelled']))
    .option('--model-version <n>', 'only requests answered by this model version', wholeNumber('--model-version'))
    .action(
      async (name: string, o: { limit: number; status?: 'ok' | 'error' | 'cancelled'; modelVersion?: number }) => {
        const page = await inFlagTerms(
          { 'query.limit': '--limit', 'query.version': '--model-version' },
          ctx.conn().client.call('deployments.logs', {
            deployment: name,
            limit: o.limit,
            status: o.status,
            version: o.modelVersion,
          }),
        );
        const short = (s: string | null) => (s === null ? null : s.replace(/\s+/g, ' ').slice(0, 40));
        ctx.out(page, () =>
          printTable(
            page.items.map((e) => ({
              at: formatTime(e.at),
              endpoint: e.endpoint,
              version: e.modelVersion,
              status: e.status === 'ok' ? 'ok' : `${e.status} ${e.httpStatus}`,
              ms: Math.round(e.durationMs),
              // Prompt + completion; embeddings have prompt tokens only.
              tokens:
                e.completionTokens === null
                  ? e.promptTokens === null
                    ? null
                    : String(e.promptTokens)
                  : `${e.promptTokens ?? 0}+${e.completionTokens}`,
              input: short(e.input),
              output: short(e.output ?? e.error),
            })),
            'no requests logged',
          ),
        );
      },
    );

  program
    .command('chat <deployment>')
    .description('chat with a deployed LLM: each line read from stdin is a user message; the answer streams to stdout')
    .option('--system <text>', 'a system message first')
    .option('--temperature <t>', 'sampling temperature (0: greedy)', decimal('--temperature'))
    .option('--max-tokens <n>', 'at most this many tokens per answer', wholeNumber('--max-tokens'))
    .option('--no-history', 'send each line on its own rather than the conversation so far')
    .action(async (deployment: string, o: ChatOptions) => {
      const c = ctx.conn();
      const start = o.system ? [{ role: 'system', content: o.system }] : [];
      let messages: { role: string; content: string }[] = [...start];
      const lines = createInterface({ input: process.stdin, terminal: false });
      const interactive = process.stdin.isTTY;
      if (interactive) process.stderr.write('> ');
      for await (const line of lines) {
        if (line.trim() === '') continue;
        if (!o.history) messages = [...start];
        messages.push({ role: 'user', content: line });
        let res: Response | null = null;
        while (!res) {
          try {
            res = await openAi(c, 'chat/completions', {
              model: deployment,
              messages,
              stream: true,
              ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
              ...(o.maxTokens === undefined ? {} : { max_tokens: o.maxTokens }),
            });
          } catch (err) {
            // The conversation outgrew the model's context: its oldest exchange goes (as chat UIs do), unless
            // this message alone is too long.
            const tooLong = (err as AppError).details as { code?: unknown } | undefined;
            if (tooLong?.code !== 'context_length_exceeded' || messages.length <= start.length + 1) throw err;
            messages.splice(start.length, messages[start.length + 1]?.role === 'assistant' ? 2 : 1);
            process.stderr.write("(the conversation outgrew the model's context: its oldest exchange was dropped)\n");
          }
        }
        let answer = '';
        for await (const chunk of sseData(res)) {
          const delta = (chunk as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
          if (delta) {
            answer += delta;
            process.stdout.write(delta);
          }
        }
        process.stdout.write('\n');
        messages.push({ role: 'assistant', content: answer });
        if (interactive) process.stderr.write('> ');
      }
    });

  program
    .command('predict <deployment>')
    .description(
      'predict from JSON on stdin. ONNX: {"rows": [{column: value, …}]} for a tabular model (prints a label or ' +
        'value per row), {"inputs": {name: {"shape": […], "data": […]}}}, or a KServe v2 inference request. ' +
        'GGUF: {"prompt": …} (a completion), {"messages": […]} (a chat) or {"input": …} (embeddings), with ' +
        'OpenAI sampling fields; a JSON string is a prompt',
    )
    .action(async (deployment: string) => {
      const c = ctx.conn();
      let body = await stdinJson();
      const d = await c.client.call('deployments.get', { deployment });
      if (d.runtime !== 'gguf') {
        const result = await predictOnnx(c, d.name, body);
        ctx.out(result, () => printOnnxResult(result));
        return;
      }
      if (typeof body === 'string') body = { prompt: body };
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw AppError.invalid('stdin', 'give a JSON object with prompt, messages or input');
      }
      if (!['prompt', 'messages', 'input'].some((key) => key in (body as object))) {
        throw AppError.invalid('stdin', 'give prompt (a completion), messages (a chat) or input (embeddings)');
      }
      const request = { ...(body as Record<string, unknown>), model: deployment, stream: false };
      const route = 'messages' in request ? 'chat/completions' : 'input' in request ? 'embeddings' : 'completions';
      if (route === 'embeddings') delete (request as { stream?: boolean }).stream;
      const res = (await (await openAi(c, route, request)).json()) as {
        choices?: { text?: string; message?: { content?: string } }[];
        data?: { embedding: number[] }[];
      };
      ctx.out(res, () => {
        if (res.data) for (const item of res.data) console.log(JSON.stringify(item.embedding));
        else for (const choice of res.choices ?? []) console.log(choice.text ?? choice.message?.content ?? '');
      });
    });
}
