import type { AutoscalingSettings } from '#shared/contracts/deploy';

/** What one interval of an ONNX deployment's traffic looked like, from its runtime's timings. */
export interface ScalingWindow {
  /** The interval's length, in ms. */
  ms: number;
  /** Requests answered in it. */
  requests: number;
  /** Time-averaged requests waiting for a replica (the sum of their queue times over the interval: Little's law). */
  queueDepth: number;
  /** p95 of the requests' time from arrival to answer, in ms; null without requests. */
  p95Ms: number | null;
  /** The share of the interval the replicas spent running batches (0..1, over all replicas). */
  utilization: number;
}

export interface ScalingDecision {
  /** Replicas to run: the current number when nothing changes. */
  replicas: number;
  /** Why it changes (for the deployment's events); null when it does not. */
  reason: string | null;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/**
 * One step of the autoscaling rule (see `AutoscalingSettings`): one replica up when the queue or the p95 latency
 * reached its threshold, one down when the replicas were mostly idle and nothing queued, always within
 * `[max(1, minReplicas), maxReplicas]` (scaling to zero is the idle unload's job).
 */
export function decideReplicas(
  current: number,
  bounds: { minReplicas: number; maxReplicas: number },
  policy: AutoscalingSettings,
  window: ScalingWindow,
): ScalingDecision {
  const min = Math.max(1, bounds.minReplicas);
  const max = Math.max(min, bounds.maxReplicas);
  if (current < min) return { replicas: min, reason: `below minReplicas ${min}` };
  if (current > max) return { replicas: max, reason: `above maxReplicas ${max}` };
  const queued = window.queueDepth >= policy.scaleUpQueueDepth;
  const slow = policy.scaleUpP95Ms !== null && window.p95Ms !== null && window.p95Ms >= policy.scaleUpP95Ms;
  if ((queued || slow) && current < max) {
    const why = queued
      ? `mean queue depth ${round(window.queueDepth)} ≥ ${policy.scaleUpQueueDepth}`
      : `p95 latency ${round(window.p95Ms as number)} ms ≥ ${policy.scaleUpP95Ms} ms`;
    return { replicas: current + 1, reason: `${why} over ${Math.round(window.ms)} ms` };
  }
  const quiet = window.queueDepth < policy.scaleUpQueueDepth / 2 && !slow;
  if (quiet && current > min && (window.requests === 0 || window.utilization < policy.scaleDownUtilization)) {
    const why =
      window.requests === 0
        ? `no requests in ${Math.round(window.ms)} ms`
        : `replicas busy ${Math.round(window.utilization * 100)}% < ${Math.round(policy.scaleDownUtilization * 100)}% over ${Math.round(window.ms)} ms`;
    return { replicas: current - 1, reason: why };
  }
  return { replicas: current, reason: null };
}

/**
 * Collects one deployment's ONNX timings between the controller's looks and turns them into a `ScalingWindow`.
 * The clock is injected (tests drive it); `performance.now` by default.
 */
export class ScalingMeter {
  private started: number;
  private latencies: number[] = [];
  private queueMs = 0;
  private busyMs = 0;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.started = now();
  }

  /** A request answered (or failed after it ran): its time queued and in total. */
  request(queueMs: number, totalMs: number): void {
    this.latencies.push(totalMs);
    this.queueMs += queueMs;
  }

  /** A `session.run` on one replica. */
  batch(inferenceMs: number): void {
    this.busyMs += inferenceMs;
  }

  /** The window since the last call (or since it was made), and a new window from now. */
  take(replicas: number): ScalingWindow {
    const now = this.now();
    const ms = Math.max(1, now - this.started);
    const sorted = this.latencies.sort((a, b) => a - b);
    const p95 =
      sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] as number);
    const window: ScalingWindow = {
      ms,
      requests: sorted.length,
      queueDepth: this.queueMs / ms,
      p95Ms: p95,
      utilization: Math.min(1, this.busyMs / (ms * Math.max(1, replicas))),
    };
    this.started = now;
    this.latencies = [];
    this.queueMs = 0;
    this.busyMs = 0;
    return window;
  }
}
