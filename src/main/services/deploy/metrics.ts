import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeploymentStats } from '#shared/contracts/deploy';
import type { RuntimeRequestStats } from './runtimes';

/** The last this-many requests give the latency percentiles of `deployments.stats`. */
const WINDOW = 1000;

/** What a served request ended as, from the API layer. */
export interface ServedRequest {
  endpoint: string;
  outcome: 'ok' | 'error' | 'cancelled';
  durationMs: number;
}

/** A fixed window of the latest values, for percentiles. */
class Window {
  private readonly values: number[] = [];
  private next = 0;

  push(value: number): void {
    if (this.values.length < WINDOW) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % WINDOW;
  }

  percentiles(): { p50: number | null; p95: number | null; p99: number | null } {
    if (this.values.length === 0) return { p50: null, p95: null, p99: null };
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

class Tally {
  total = 0;
  errors = 0;
  cancelled = 0;
  promptTokens = 0;
  completionTokens = 0;
  lastTokensPerSecond: number | null = null;
  batches = 0;
  batchRows = 0;
  readonly latency = new Window();
  readonly ttft = new Window();
}

/**
 * Per-deployment figures: Prometheus series in the platform's registry (`/metrics`), labelled by deployment
 * name, and in-memory tallies with latency percentiles for `deployments.stats` and the UI. Both start at zero
 * when the app starts.
 */
export class DeployMetrics {
  private readonly tallies = new Map<string, Tally>();
  private readonly requests: Counter<'deployment' | 'endpoint' | 'outcome'>;
  private readonly errors: Counter<'deployment' | 'endpoint'>;
  private readonly duration: Histogram<'deployment' | 'endpoint'>;
  private readonly tokens: Counter<'deployment' | 'kind'>;
  private readonly ttft: Histogram<'deployment'>;
  private readonly batchSize: Histogram<'deployment'>;

  constructor(
    registry: Registry,
    queues: () => { deployment: string; inFlight: number; queued: number; replicas: number }[],
  ) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'aidos_deploy_requests_total',
      help: 'Inference requests by deployment, endpoint and outcome (ok, error, cancelled)',
      labelNames: ['deployment', 'endpoint', 'outcome'],
      registers,
    });
    this.errors = new Counter({
      name: 'aidos_deploy_request_errors_total',
      help: 'Inference requests that failed, by deployment and endpoint',
      labelNames: ['deployment', 'endpoint'],
      registers,
    });
    this.duration = new Histogram({
      name: 'aidos_deploy_request_duration_seconds',
      help: 'Inference request latency (to the last byte of a stream) by deployment and endpoint',
      labelNames: ['deployment', 'endpoint'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.tokens = new Counter({
      name: 'aidos_deploy_tokens_total',
      help: 'Tokens by deployment: prompt tokens evaluated and completion tokens generated',
      labelNames: ['deployment', 'kind'],
      registers,
    });
    this.ttft = new Histogram({
      name: 'aidos_deploy_time_to_first_token_seconds',
      help: 'Time from a generation request to its first token (queue and prompt evaluation included)',
      labelNames: ['deployment'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'aidos_deploy_batch_size',
      help: 'Rows per session.run of ONNX deployments (dynamic batching concatenates concurrent requests)',
      labelNames: ['deployment'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    const read = queues;
    new Gauge({
      name: 'aidos_deploy_replicas',
      help: 'Replicas of a loaded deployment (ONNX: replica threads, as the autoscaler set them)',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const q of read()) this.set({ deployment: q.deployment }, q.replicas);
      },
    });
    new Gauge({
      name: 'aidos_deploy_queue_depth',
      help: 'Requests waiting for a slot of a loaded deployment',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const q of read()) this.set({ deployment: q.deployment }, q.queued);
      },
    });
    new Gauge({
      name: 'aidos_deploy_in_flight',
      help: 'Requests holding a slot of a loaded deployment',
      labelNames: ['deployment'],
      registers,
      collect() {
        this.reset();
        for (const q of read()) this.set({ deployment: q.deployment }, q.inFlight);
      },
    });
  }

  private tally(deployment: string): Tally {
    let tally = this.tallies.get(deployment);
    if (!tally) {
      tally = new Tally();
      this.tallies.set(deployment, tally);
    }
    return tally;
  }

  /** A request the API layer finished (or failed), with its latency to the last byte. */
  served(deployment: string, request: ServedRequest): void {
    const tally = this.tally(deployment);
    tally.total++;
    if (request.outcome === 'error') tally.errors++;
    if (request.outcome === 'cancelled') tally.cancelled++;
    tally.latency.push(request.durationMs);
    this.requests.inc({ deployment, endpoint: request.endpoint, outcome: request.outcome });
    if (request.outcome === 'error') this.errors.inc({ deployment, endpoint: request.endpoint });
    this.duration.observe({ deployment, endpoint: request.endpoint }, request.durationMs / 1000);
  }

  /** What the runtime reports for each request: tokens and time to the first token. */
  runtime(deployment: string, stats: RuntimeRequestStats): void {
    const tally = this.tally(deployment);
    tally.promptTokens += stats.promptTokens;
    tally.completionTokens += stats.completionTokens;
    if (stats.promptTokens > 0) this.tokens.inc({ deployment, kind: 'prompt' }, stats.promptTokens);
    if (stats.completionTokens > 0) this.tokens.inc({ deployment, kind: 'completion' }, stats.completionTokens);
    if (stats.ttftMs !== null) {
      tally.ttft.push(stats.ttftMs);
      this.ttft.observe({ deployment }, stats.ttftMs / 1000);
    }
    if (stats.tokensPerSecond !== null) tally.lastTokensPerSecond = Math.round(stats.tokensPerSecond * 10) / 10;
  }

  /** An ONNX `session.run` of `rows` rows. */
  batch(deployment: string, rows: number): void {
    const tally = this.tally(deployment);
    tally.batches++;
    tally.batchRows += rows;
    this.batchSize.observe({ deployment }, rows);
  }

  summary(deployment: string): Omit<DeploymentStats, 'id' | 'name' | 'state' | 'inFlight' | 'queued' | 'replicas'> {
    const tally = this.tally(deployment);
    return {
      batches: {
        total: tally.batches,
        meanRows: tally.batches === 0 ? null : Math.round((tally.batchRows / tally.batches) * 100) / 100,
      },
      requests: { total: tally.total, errors: tally.errors, cancelled: tally.cancelled },
      latencyMs: tally.latency.percentiles(),
      timeToFirstTokenMs: tally.ttft.percentiles(),
      tokens: { prompt: tally.promptTokens, completion: tally.completionTokens },
      lastTokensPerSecond: tally.lastTokensPerSecond,
    };
  }

  /** Drops a deleted deployment's series. */
  async forget(deployment: string): Promise<void> {
    this.tallies.delete(deployment);
    for (const metric of [this.requests, this.errors, this.duration, this.tokens, this.ttft, this.batchSize]) {
      const { values } = await metric.get();
      const done = new Set<string>();
      for (const value of values) {
        if (value.labels.deployment !== deployment) continue;
        // Histogram buckets carry `le` besides the metric's own labels.
        const labels = Object.fromEntries(Object.entries(value.labels).filter(([name]) => name !== 'le'));
        const key = JSON.stringify(labels);
        if (done.has(key)) continue;
        done.add(key);
        (metric as { remove(labels: Record<string, string | number>): void }).remove(
          labels as Record<string, string | number>,
        );
      }
    }
  }
}
