import { z } from 'zod';
import { statement, type Db } from '#platform/db';
import type { JobContext, JobHandler } from '#platform/queue';
import { REQUEST_LOG_HEADER } from '#shared/contracts/deploy';
import type { Benchmark, BenchmarkInput } from '#shared/contracts/evalkit-evaluations';
import { AppError, SHUTTING_DOWN_MESSAGE } from '#shared/errors';
import { newId } from '#shared/ids';
import type { EvalkitDeps } from '../deps';

export const BENCHMARK_JOB = 'evalkit.benchmark';

interface BenchmarkRow {
  id: string;
  state: Benchmark['state'];
  reason: string | null;
  job_id: string;
  deployment: string;
  runtime: Benchmark['runtime'];
  endpoint: string;
  model: string | null;
  model_version: number | null;
  concurrency: number;
  duration_seconds: number;
  prompt: string;
  max_tokens: number;
  requests: number | null;
  errors: number | null;
  first_error: string | null;
  throughput: number | null;
  latency: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

function toBenchmark(r: BenchmarkRow): Benchmark {
  return {
    id: r.id,
    state: r.state,
    reason: r.reason,
    jobId: r.job_id,
    deployment: r.deployment,
    runtime: r.runtime,
    endpoint: r.endpoint,
    model: r.model,
    modelVersion: r.model_version,
    concurrency: r.concurrency,
    durationSeconds: r.duration_seconds,
    requests: r.requests,
    errors: r.errors,
    firstError: r.first_error,
    throughput: r.throughput,
    latencyMs: r.latency === null ? null : (JSON.parse(r.latency) as Benchmark['latencyMs']),
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** One HTTP request to the deployment's inference API, as a user's client makes it. */
interface Request {
  url: string;
  body: string;
}

/**
 * Load benchmarks of deployments: closed-loop clients (each sends its next request when the previous one is
 * answered) over HTTP for a duration, after one untimed warm-up request (which loads a scaled-to-zero deployment).
 * Stored with the model version served, so versions can be compared.
 */
export class Benchmarks {
  constructor(private readonly deps: EvalkitDeps) {}

  private get db(): Db {
    return this.deps.db;
  }

  jobHandler(): JobHandler {
    const handler: JobHandler<{ benchmarkId: string }> = {
      type: BENCHMARK_JOB,
      description: 'Loads a deployment over HTTP at a concurrency for a duration: throughput and latency percentiles',
      payload: z.object({ benchmarkId: z.string() }),
      maxAttempts: 1,
      run: ({ benchmarkId }, ctx) => this.run(benchmarkId, ctx),
    };
    return handler as JobHandler;
  }

  create(input: z.output<typeof BenchmarkInput>): Benchmark {
    let d;
    try {
      d = this.deps.deploy.get(input.deployment);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw AppError.invalid('deployment', err.message);
      throw err;
    }
    const version = d.source.kind === 'model-version' ? d.source.version : null;
    // A benchmark names the version it measured: an ONNX one asks the main version alone (no canary share, no
    // shadow copy); OpenAI's API cannot, so a GGUF deployment with a second version is refused.
    if (d.runtime === 'gguf' && d.traffic) {
      const second =
        d.traffic.mode === 'canary'
          ? `sends ${d.traffic.percent}% of requests to a canary version: a benchmark of it could not say which version it measured`
          : 'copies every request to a shadow version: a benchmark of it would measure the main version under the shadow’s load too';
      throw new AppError(
        'FAILED_PRECONDITION',
        `'${d.name}' ${second}; clear the split first (aidos deployments traffic ${d.name} --clear)`,
        { field: 'deployment' },
      );
    }
    const id = newId();
    const model = `/v2/models/${encodeURIComponent(d.name)}${version === null ? '' : `/versions/${version}`}`;
    const endpoint = d.runtime === 'gguf' ? '/v1/chat/completions' : `${model}/infer`;
    this.db.transaction(() => {
      const job = this.deps.queue.enqueue({ type: BENCHMARK_JOB, payload: { benchmarkId: id } });
      statement(
        this.db,
        `INSERT INTO evalkit_benchmarks (id, state, job_id, deployment, runtime, endpoint, model, model_version,
           concurrency, duration_seconds, prompt, max_tokens, created_at)
         VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        job.id,
        d.name,
        d.runtime,
        endpoint,
        d.source.kind === 'model-version' ? d.source.model : null,
        d.source.kind === 'model-version' ? d.source.version : null,
        input.concurrency,
        input.durationSeconds,
        input.prompt,
        input.maxTokens,
        Date.now(),
      );
    })();
    return this.emit(id);
  }

  list(query: { deployment?: string | undefined; limit: number }): Benchmark[] {
    const rows = statement(
      this.db,
      `SELECT * FROM evalkit_benchmarks WHERE (@deployment IS NULL OR deployment = @deployment)
       ORDER BY id DESC LIMIT @limit`,
    ).all({ deployment: query.deployment ?? null, limit: query.limit }) as BenchmarkRow[];
    return rows.map((r) => toBenchmark(this.reconciled(r)));
  }

  get(id: string): Benchmark {
    return toBenchmark(this.reconciled(this.row(id)));
  }

  private row(id: string): BenchmarkRow {
    const row = statement(this.db, 'SELECT * FROM evalkit_benchmarks WHERE id = ?').get(id) as BenchmarkRow | undefined;
    if (!row) throw AppError.notFound('benchmark', id);
    return row;
  }

  /** A benchmark whose job ended without it (the app stopped mid-way) is failed with the job. */
  private reconciled(r: BenchmarkRow): BenchmarkRow {
    if (r.state !== 'queued' && r.state !== 'running') return r;
    const job = this.deps.queue.get(r.job_id);
    if (job.status !== 'failed' && job.status !== 'cancelled') return r;
    this.fail(r.id, job.error?.message ?? `its job was ${job.status}`);
    return this.row(r.id);
  }

  private fail(id: string, reason: string): void {
    statement(this.db, "UPDATE evalkit_benchmarks SET state = 'failed', reason = ?, finished_at = ? WHERE id = ?").run(
      reason,
      Date.now(),
      id,
    );
  }

  private emit(id: string): Benchmark {
    const benchmark = toBenchmark(this.row(id));
    this.deps.bus.emit('evalkit.benchmark.updated', { benchmark });
    return benchmark;
  }

  /** The request every client sends: a chat for GGUF; zeros of each input's shape (dynamic dims 1) through KServe v2 else. */
  private async requestOf(r: BenchmarkRow, base: string, headers: Record<string, string>): Promise<Request> {
    if (r.runtime === 'gguf') {
      return {
        url: `${base}/v1/chat/completions`,
        body: JSON.stringify({
          model: r.deployment,
          messages: [{ role: 'user', content: r.prompt }],
          max_tokens: r.max_tokens,
        }),
      };
    }
    // The model's metadata is at the infer endpoint's parent.
    const res = await fetch(`${base}${r.endpoint.replace(/\/infer$/, '')}`, { headers });
    if (!res.ok)
      throw new AppError('FAILED_PRECONDITION', `the model's metadata: HTTP ${res.status} ${await res.text()}`);
    const metadata = (await res.json()) as { inputs?: { name: string; datatype: string; shape: number[] }[] };
    const inputs = (metadata.inputs ?? []).map((input) => {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const size = shape.reduce((a, b) => a * b, 1);
      const zero = input.datatype === 'BYTES' ? '' : input.datatype === 'BOOL' ? false : 0;
      return { name: input.name, shape, datatype: input.datatype, data: new Array<unknown>(size).fill(zero) };
    });
    return { url: `${base}${r.endpoint}`, body: JSON.stringify({ inputs }) };
  }

  private async run(id: string, ctx: JobContext): Promise<{ benchmarkId: string }> {
    const r = this.row(id);
    statement(this.db, "UPDATE evalkit_benchmarks SET state = 'running', started_at = ? WHERE id = ?").run(
      Date.now(),
      id,
    );
    this.emit(id);
    try {
      const { url, token } = this.deps.access();
      // Kept out of the request log: synthetic zero tensors would pass for clients' requests in drift checks.
      const headers = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        [REQUEST_LOG_HEADER]: 'off',
      };
      const request = await this.requestOf(r, url.replace(/\/$/, ''), headers);
      /** Set when the server goes away (shutting down, or gone): the run stops and fails saying so. */
      let serverGone: string | null = null;
      const send = async (): Promise<{ ok: true } | { ok: false; error: string }> => {
        // A signal per request: fetch leaves a listener on the signal it is given, thousands on the job's.
        const cancel = new AbortController();
        const abort = () => cancel.abort();
        ctx.signal.addEventListener('abort', abort, { once: true });
        try {
          const res = await fetch(request.url, { method: 'POST', headers, body: request.body, signal: cancel.signal });
          const text = await res.text();
          if (res.ok) return { ok: true };
          const error = `HTTP ${res.status}: ${text.slice(0, 500)}`;
          // Said in the message, which every error shape carries (KServe's has no code).
          if (res.status === 503 && text.includes(SHUTTING_DOWN_MESSAGE)) serverGone = error;
          return { ok: false, error };
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          // Not an answer at all: the server cannot be reached.
          serverGone = err instanceof Error ? err.message : String(err);
          throw err;
        } finally {
          ctx.signal.removeEventListener('abort', abort);
        }
      };
      const stopIfGone = () => {
        if (serverGone === null) return;
        throw new AppError(
          'UNAVAILABLE',
          `the server went away during the benchmark (${serverGone}): its figures would not be the model's; run it again once the server is back`,
        );
      };
      const warm = await send();
      stopIfGone();
      if (!warm.ok) throw new AppError('FAILED_PRECONDITION', `the warm-up request failed: ${warm.error}`);

      const latencies: number[] = [];
      let errors = 0;
      let firstError: string | null = null;
      const started = performance.now();
      const deadline = started + r.duration_seconds * 1000;
      const ticker = setInterval(() => {
        const sent = latencies.length + errors;
        ctx.progress(Math.min(1, (performance.now() - started) / (deadline - started)), `${sent} requests`);
      }, 500);
      try {
        await Promise.all(
          Array.from({ length: r.concurrency }, async () => {
            while (performance.now() < deadline && !ctx.signal.aborted && serverGone === null) {
              const t = performance.now();
              const result = await send().catch((err: unknown) => ({
                ok: false as const,
                error: err instanceof Error ? err.message : String(err),
              }));
              if (result.ok) latencies.push(performance.now() - t);
              else {
                errors++;
                firstError ??= result.error;
              }
            }
          }),
        );
      } finally {
        clearInterval(ticker);
      }
      ctx.signal.throwIfAborted();
      stopIfGone();
      const elapsed = (performance.now() - started) / 1000;
      const sorted = [...latencies].sort((a, b) => a - b);
      const latency =
        sorted.length === 0
          ? null
          : {
              mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
              p50: percentile(sorted, 0.5),
              p95: percentile(sorted, 0.95),
              p99: percentile(sorted, 0.99),
              max: sorted.at(-1)!,
            };
      statement(
        this.db,
        `UPDATE evalkit_benchmarks SET state = 'succeeded', requests = ?, errors = ?, first_error = ?, throughput = ?,
           latency = ?, finished_at = ? WHERE id = ?`,
      ).run(
        latencies.length + errors,
        errors,
        firstError,
        latencies.length / elapsed,
        latency === null ? null : JSON.stringify(latency),
        Date.now(),
        id,
      );
      this.emit(id);
      return { benchmarkId: id };
    } catch (err) {
      this.fail(id, err instanceof Error ? err.message : String(err));
      this.emit(id);
      throw err;
    }
  }
}
