import type { Deployment, DeploymentSource, DeploymentStats } from '#shared/contracts/deploy';
import { isTensorRuntime } from './deploy-form';
import { versionName } from './traffic';

/**
 * The live charts' data: the stats endpoint gives totals since the app started and percentiles of the last 1,000
 * requests, so the page keeps the samples it polled and draws rates from the differences between them. Pure, so
 * the arithmetic is tested without a canvas.
 */

export interface StatsSample {
  /** When it was read, ms since the epoch. */
  at: number;
  total: number;
  errors: number;
  completionTokens: number;
  p50: number | null;
  p95: number | null;
  ttft: number | null;
  inFlight: number;
  queued: number;
  /** The same counters per model version (the main one, a canary or shadow, retired ones). */
  versions: VersionSample[];
}

export interface VersionSample {
  /** Null for a file deployment's only version. */
  version: number | null;
  total: number;
  errors: number;
  completionTokens: number;
  p50: number | null;
  p95: number | null;
}

/** How many samples a chart keeps: ten minutes at one every 2 s. */
export const MAX_SAMPLES = 300;

export function sampleOf(stats: DeploymentStats, at: number): StatsSample {
  return {
    at,
    total: stats.requests.total,
    errors: stats.requests.errors,
    completionTokens: stats.tokens.completion,
    p50: stats.latencyMs.p50,
    p95: stats.latencyMs.p95,
    ttft: stats.timeToFirstTokenMs.p50,
    inFlight: stats.inFlight,
    queued: stats.queued,
    versions: stats.versions.map((v) => ({
      version: v.version,
      total: v.requests.total,
      errors: v.requests.errors,
      completionTokens: v.tokens.completion,
      p50: v.latencyMs.p50,
      p95: v.latencyMs.p95,
    })),
  };
}

/** The history with one more sample, the oldest dropped past `max`; a reading no newer than the last is ignored. */
export function appendSample(history: readonly StatsSample[], sample: StatsSample, max = MAX_SAMPLES): StatsSample[] {
  const last = history[history.length - 1];
  if (last && sample.at <= last.at) return history as StatsSample[];
  const next = [...history, sample];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Per-second rates and latencies, one value per point of `RateSeries.t`. */
export interface Rates {
  requestsPerSecond: (number | null)[];
  errorsPerSecond: (number | null)[];
  tokensPerSecond: (number | null)[];
  p50: (number | null)[];
  p95: (number | null)[];
}

export interface RateSeries extends Rates {
  /** Seconds since the epoch (uPlot's time axis). */
  t: number[];
}

type Counters = Pick<StatsSample, 'total' | 'errors' | 'completionTokens' | 'p50' | 'p95'>;

function emptyRates(): Rates {
  return { requestsPerSecond: [], errorsPerSecond: [], tokensPerSecond: [], p50: [], p95: [] };
}

/** One point of `rates`: between `a` and `b`, `seconds` apart; all gaps when either reading is missing. */
function pushRates(rates: Rates, a: Counters | undefined, b: Counters | undefined, seconds: number): void {
  const rate = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined || to < from || seconds <= 0 ? null : (to - from) / seconds;
  rates.requestsPerSecond.push(rate(a?.total, b?.total));
  rates.errorsPerSecond.push(rate(a?.errors, b?.errors));
  rates.tokensPerSecond.push(rate(a?.completionTokens, b?.completionTokens));
  rates.p50.push(b?.p50 ?? null);
  rates.p95.push(b?.p95 ?? null);
}

/**
 * Per-second rates between consecutive samples, at the later one. A counter that went down (the app restarted)
 * gives a gap rather than a negative rate.
 */
export function ratesOf(history: readonly StatsSample[]): RateSeries {
  const out: RateSeries = { t: [], ...emptyRates() };
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1] as StatsSample;
    const b = history[i] as StatsSample;
    out.t.push(b.at / 1000);
    pushRates(out, a, b, (b.at - a.at) / 1000);
  }
  return out;
}

/** One model version's line on the charts while a canary or shadow is set. */
export interface VersionRates extends Rates {
  version: number | null;
  role: 'main' | 'canary' | 'shadow';
  /** The legend's name: "v1", "v2 (canary 20%)", "v2 (shadow)". */
  label: string;
}

/**
 * The rates of `ratesOf` per model version, at the same points, for the versions the deployment serves now: the
 * main one and its canary or shadow (a shadow's requests are the mirrored ones). None without a traffic split:
 * the charts then draw the deployment's own figures. A version missing from a sample is a gap.
 */
export function versionRatesOf(
  history: readonly StatsSample[],
  d: Pick<Deployment, 'source' | 'traffic'>,
): VersionRates[] {
  const t = d.traffic;
  if (!t) return [];
  const versionOf = (source: DeploymentSource) => (source.kind === 'model-version' ? source.version : null);
  const main = versionOf(d.source);
  const second = versionOf(t.source);
  const lines: VersionRates[] = [
    { version: main, role: 'main', label: versionName({ version: main }), ...emptyRates() },
    {
      version: second,
      role: t.mode,
      label: `${versionName({ version: second })} (${t.mode === 'canary' ? `canary ${t.percent}%` : 'shadow'})`,
      ...emptyRates(),
    },
  ];
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1] as StatsSample;
    const b = history[i] as StatsSample;
    for (const line of lines) {
      const at = (s: StatsSample) => s.versions.find((v) => v.version === line.version);
      pushRates(line, at(a), at(b), (b.at - a.at) / 1000);
    }
  }
  return lines;
}

/** A latency for tables: "12 ms", "1.4 s", "—" for none. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '0 ms';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A count for tables: 1234 → "1,234". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** What a deployment serves, in words: "tiny-llama v1 (@champion)" or a file's name. */
export function sourceLabel(source: DeploymentSource): string {
  if (source.kind === 'file') return source.path.split(/[\\/]/).pop() ?? source.path;
  return `${source.model} v${source.version}${source.alias ? ` (@${source.alias})` : ''}`;
}

/**
 * Replicas and parallel requests: GGUF "1 replica × 4 parallel"; ONNX and TF.js, which scale replicas, "2 of 1–4
 * replicas" (running of min–max; only the range while it is not loaded).
 */
export function capacityLabel(
  d: Pick<Deployment, 'runtime' | 'minReplicas' | 'maxReplicas' | 'parallel'> & { replicas?: number | null },
): string {
  if (isTensorRuntime(d.runtime)) {
    const range = d.minReplicas === d.maxReplicas ? `${d.maxReplicas}` : `${d.minReplicas}–${d.maxReplicas}`;
    const plural = d.maxReplicas === 1 && d.minReplicas === 1 ? 'replica' : 'replicas';
    return d.replicas == null ? `${range} ${plural}` : `${d.replicas} of ${range} ${plural}`;
  }
  return `1 replica × ${d.parallel} parallel`;
}

/** Idle unload in words: "never", "after 5 min". */
export function idleLabel(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 60) return `after ${seconds} s`;
  if (seconds < 3600 && seconds % 60 === 0) return `after ${seconds / 60} min`;
  if (seconds % 3600 === 0) return `after ${seconds / 3600} h`;
  return `after ${seconds} s`;
}

/** The playground a deployment gets: a chat for LLMs, a text box for embedding models, none while unknown. */
export type PlaygroundKind = 'chat' | 'embedding' | 'predict' | 'unknown';

export function playgroundKindOf(d: Pick<Deployment, 'runtime' | 'modelKind'>): PlaygroundKind {
  if (isTensorRuntime(d.runtime)) return 'predict';
  if (d.modelKind === 'embedding') return 'embedding';
  if (d.modelKind === 'generation') return 'chat';
  // A GGUF deployment not loaded yet: most are LLMs, and its first request loads it.
  return d.runtime === 'gguf' ? 'chat' : 'unknown';
}
