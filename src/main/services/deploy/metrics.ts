import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DeploymentState, type DeploymentStats, type VersionStats } from '#shared/contracts/deploy';
import type { RuntimeRequestStats } from './runtimes';

/** The last this-many requests give the latency percentiles of `deployments.stats`. */
const WINDOW = 1000;

/** What a served request ended as, from the API layer. */
export interface ServedRequest {
  endpoint: string;
  outcome: 'ok' | 'error' | 'cancelled';
  /** The HTTP status the client got (the `status` of the error counter). */
  httpStatus: number;
  durationMs: number;
  /** The model version that answered (null for a file deployment). */
  version: number | null;
  /** A mirrored request to the shadow version: counted for its version only, not as a client's request. */
  shadow: boolean;
}

/** The `version` label of a model version: its number, or `file` for a file deployment. */
export function versionLabel(version: number | null): string {
  return version === null ? 'file' : String(version);
}

/**
 * The `role` label: `serving` for requests answered to clients (main or canary version), `shadow` for the copies
 * mirrored to a shadow version, so that summing the `serving` series counts what clients sent.
 */
function roleLabel(shadow: boolean): string {
  return shadow ? 'shadow' : 'serving';
}

/**
 * What the gauges read of each deployment: its state, its versions (the main one, then the canary's or shadow's)
 * and those loaded now.
 */
export interface DeploymentSnapshot {
  deployment: string;
  state: DeploymentState;
  versions: (number | null)[];
  loaded: VersionLoad[];
}

/** The outcome of a load: `ok`, `failed` (the model cannot be served), `refused` (no memory for it now). */
export type LoadOutcome = 'ok' | 'failed' | 'refused';

/** A loaded model version's replicas and requests now. */
export interface VersionLoad {
  version: number | null;
  inFlight: number;
  queued: number;
  replicas: number;
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
  /** Per deployment, per model version (`versionLabel`). */
  private readonly versionTallies = new Map<string, Map<string, { version: number | null; tally: Tally }>>();
  private readonly requests: Counter<'deployment' | 'version' | 'role' | 'endpoint' | 'outcome'>;
  private readonly errors: Counter<'deployment' | 'version' | 'role' | 'endpoint' | 'status'>;
  private readonly duration: Histogram<'deployment' | 'version' | 'role' | 'endpoint'>;
  private readonly tokens: Counter<'deployment' | 'version' | 'role' | 'kind'>;
  private readonly ttft: Histogram<'deployment' | 'version' | 'role'>;
  private readonly tpot: Histogram<'deployment' | 'version' | 'role'>;
  private readonly batchSize: Histogram<'deployment'>;
  private readonly loads: Counter<'deployment' | 'outcome'>;
  private readonly loadDuration: Histogram<'deployment'>;
  /**
   * The series a served request updates, by deployment, version, endpoint and outcome: prom-client hashes a label
   * set on every call, three times per request on the inference path; bound once here instead.
   */
  private readonly servedSeries = new Map<
    string,
    { requests: { inc(): void }; errors: { inc(): void } | null; duration: { observe(value: number): void } | null }
  >();
  /** The batch-size series of each deployment, bound once for the same reason. */
  private readonly batchSeries = new Map<string, { observe(value: number): void }>();

  constructor(registry: Registry, snapshot: () => DeploymentSnapshot[]) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'aidos_deploy_requests_total',
      help: 'Inference requests by deployment, model version, role (serving: answered to a client; shadow: mirrored to a shadow version), endpoint and outcome (ok, error, cancelled)',
      labelNames: ['deployment', 'version', 'role', 'endpoint', 'outcome'],
      registers,
    });
    this.errors = new Counter({
      name: 'aidos_deploy_request_errors_total',
      help: 'Inference requests that failed, by deployment, model version, role, endpoint and the HTTP status answered (400 bad input, 409 model not ready, 429 queue full, 5xx the server)',
      labelNames: ['deployment', 'version', 'role', 'endpoint', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'aidos_deploy_request_duration_seconds',
      help: 'Latency of the inference requests that succeeded (to the last byte of a stream) by deployment, model version, role and endpoint',
      labelNames: ['deployment', 'version', 'role', 'endpoint'],
      // From 0.1 ms: a small ONNX model answers in well under a millisecond.
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
      ],
      registers,
    });
    this.tokens = new Counter({
      name: 'aidos_deploy_tokens_total',
      help: 'Tokens by deployment, model version and role: prompt tokens evaluated and completion tokens generated',
      labelNames: ['deployment', 'version', 'role', 'kind'],
      registers,
    });
    this.ttft = new Histogram({
      name: 'aidos_deploy_time_to_first_token_seconds',
      help: 'Time from a generation request to its first token (queue and prompt evaluation included)',
      labelNames: ['deployment', 'version', 'role'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.tpot = new Histogram({
      name: 'aidos_deploy_time_per_output_token_seconds',
      help: 'Decoding time per generated token after the first, one observation per generation (its mean), by deployment, model version and role',
      labelNames: ['deployment', 'version', 'role'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'aidos_deploy_batch_size_rows',
      help: 'Rows per session.run of ONNX deployments (dynamic batching concatenates concurrent requests)',
      labelNames: ['deployment'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.loads = new Counter({
      name: 'aidos_deploy_loads_total',
      help: 'Model loads (at start, on a cold start after scaling to zero, on a change) by deployment and outcome (ok, failed: the model cannot be served, refused: no memory for it now)',
      labelNames: ['deployment', 'outcome'],
      registers,
    });
    this.loadDuration = new Histogram({
      name: 'aidos_deploy_load_duration_seconds',
      help: 'Time to load a deployment’s model until it serves (a cold start’s wait), by deployment',
      labelNames: ['deployment'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    // Every deployment has its series, 0 while nothing is loaded: a query for scaled-to-zero models finds them.
    const gauge = (name: string, help: string, value: (v: VersionLoad) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['deployment', 'version'],
        registers,
        collect() {
          this.reset();
          for (const d of snapshot()) {
            for (const version of d.versions) {
              const v = d.loaded.find((l) => l.version === version) ?? { version, replicas: 0, inFlight: 0, queued: 0 };
              this.set({ deployment: d.deployment, version: versionLabel(version) }, value(v));
            }
          }
        },
      });
    gauge(
      'aidos_deploy_replicas',
      'Replicas of each model version of a deployment, 0 while not loaded (ONNX: replica threads, as the autoscaler set them for the main version)',
      (v) => v.replicas,
    );
    gauge('aidos_deploy_queue_depth', 'Requests waiting for a slot of a model version', (v) => v.queued);
    gauge('aidos_deploy_in_flight', 'Requests holding a slot of a model version', (v) => v.inFlight);
    new Gauge({
      name: 'aidos_deploy_state',
      help: 'A deployment’s state: 1 for the state it is in, 0 for the others (pending, loading, ready, idle-unloaded, stopped, failed)',
      labelNames: ['deployment', 'state'],
      registers,
      collect() {
        this.reset();
        for (const d of snapshot()) {
          for (const state of DeploymentState.options)
            this.set({ deployment: d.deployment, state }, state === d.state ? 1 : 0);
        }
      },
    });
  }

  /** A model load that ended: how, and (when it served) how long it took. */
  loaded(deployment: string, outcome: LoadOutcome, seconds: number): void {
    this.loads.inc({ deployment, outcome });
    if (outcome === 'ok') this.loadDuration.observe({ deployment }, seconds);
  }

  private tally(deployment: string): Tally {
    let tally = this.tallies.get(deployment);
    if (!tally) {
      tally = new Tally();
      this.tallies.set(deployment, tally);
    }
    return tally;
  }

  private versionTally(deployment: string, version: number | null): Tally {
    let versions = this.versionTallies.get(deployment);
    if (!versions) {
      versions = new Map();
      this.versionTallies.set(deployment, versions);
    }
    const label = versionLabel(version);
    let entry = versions.get(label);
    if (!entry) {
      entry = { version, tally: new Tally() };
      versions.set(label, entry);
    }
    return entry.tally;
  }

  /** A request the API layer finished (or failed), with its latency to the last byte. */
  served(deployment: string, request: ServedRequest): void {
    const tallies = [this.versionTally(deployment, request.version)];
    if (!request.shadow) tallies.push(this.tally(deployment));
    const ok = request.outcome === 'ok';
    for (const tally of tallies) {
      tally.total++;
      if (request.outcome === 'error') tally.errors++;
      if (request.outcome === 'cancelled') tally.cancelled++;
      // Latency is that of answers: a refusal in a millisecond would pull the percentiles down.
      if (ok) tally.latency.push(request.durationMs);
    }
    const error = request.outcome === 'error';
    const key = `${deployment}\0${request.version}\0${request.shadow}\0${request.endpoint}\0${request.outcome}${error ? `\0${request.httpStatus}` : ''}`;
    let series = this.servedSeries.get(key);
    if (!series) {
      const labels = {
        deployment,
        version: versionLabel(request.version),
        role: roleLabel(request.shadow),
        endpoint: request.endpoint,
      };
      series = {
        requests: this.requests.labels({ ...labels, outcome: request.outcome }),
        errors: error ? this.errors.labels({ ...labels, status: String(request.httpStatus) }) : null,
        duration: ok ? this.duration.labels(labels) : null,
      };
      this.servedSeries.set(key, series);
    }
    series.requests.inc();
    series.errors?.inc();
    series.duration?.observe(request.durationMs / 1000);
  }

  /**
   * What the runtime reports for each request: tokens and time to the first token. `shadow`: the request was
   * mirrored to a shadow version (counted for that version only).
   */
  runtime(deployment: string, version: number | null, shadow: boolean, stats: RuntimeRequestStats): void {
    const tallies = [this.versionTally(deployment, version)];
    if (!shadow) tallies.push(this.tally(deployment));
    for (const tally of tallies) {
      tally.promptTokens += stats.promptTokens;
      tally.completionTokens += stats.completionTokens;
      if (stats.ttftMs !== null) tally.ttft.push(stats.ttftMs);
      if (stats.tokensPerSecond !== null) tally.lastTokensPerSecond = Math.round(stats.tokensPerSecond * 10) / 10;
    }
    const labels = { deployment, version: versionLabel(version), role: roleLabel(shadow) };
    if (stats.promptTokens > 0) this.tokens.inc({ ...labels, kind: 'prompt' }, stats.promptTokens);
    if (stats.completionTokens > 0) this.tokens.inc({ ...labels, kind: 'completion' }, stats.completionTokens);
    if (stats.ttftMs !== null) this.ttft.observe(labels, stats.ttftMs / 1000);
    if (stats.tokensPerSecond) this.tpot.observe(labels, 1 / stats.tokensPerSecond);
  }

  /** An ONNX `session.run` of `rows` rows. */
  batch(deployment: string, rows: number): void {
    const tally = this.tally(deployment);
    tally.batches++;
    tally.batchRows += rows;
    let series = this.batchSeries.get(deployment);
    if (!series) {
      series = this.batchSize.labels({ deployment });
      this.batchSeries.set(deployment, series);
    }
    series.observe(rows);
  }

  /** Every model version of a deployment that has served since the app started, with `role` given by the caller. */
  versions(
    deployment: string,
    role: (version: number | null) => VersionStats['role'],
  ): Omit<VersionStats, 'replicas' | 'inFlight' | 'queued'>[] {
    return [...(this.versionTallies.get(deployment)?.values() ?? [])].map(({ version, tally }) => ({
      version,
      role: role(version),
      requests: { total: tally.total, errors: tally.errors, cancelled: tally.cancelled },
      latencyMs: tally.latency.percentiles(),
      tokens: { prompt: tally.promptTokens, completion: tally.completionTokens },
    }));
  }

  summary(
    deployment: string,
  ): Omit<DeploymentStats, 'id' | 'name' | 'state' | 'inFlight' | 'queued' | 'replicas' | 'versions'> {
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
    this.versionTallies.delete(deployment);
    this.batchSeries.delete(deployment);
    for (const key of this.servedSeries.keys()) if (key.startsWith(`${deployment}\0`)) this.servedSeries.delete(key);
    const series = [this.requests, this.errors, this.duration, this.tokens, this.ttft, this.tpot, this.batchSize];
    for (const metric of [...series, this.loads, this.loadDuration]) {
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
