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
  /** Requests refused because the queue was full: load the queue depth never shows. */
  refused: number;
}

export interface ScalingDecision {
  /** Replicas to run: the current number when nothing changes. */
  replicas: number;
  /** Why it changes (for the deployment's events); null when it does not. */
  reason: string | null;
  /** The interval was quiet enough to scale down on (it takes `SCALE_DOWN_AFTER` such intervals in a row). */
  quiet: boolean;
}

/**
 * Quiet intervals in a row before a replica is removed: one quiet look right after a scale-up (the new replica
 * drained the queue) would otherwise take it away again, and each step starts or stops an inference session.
 */
export const SCALE_DOWN_AFTER = 3;

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/**
 * One step of the autoscaling rule (see `AutoscalingSettings`): one replica up when the queue or the p95 latency
 * reached its threshold or requests were refused with a full queue; one down when the replicas were mostly idle
 * and nothing queued for `SCALE_DOWN_AFTER` intervals in a row (`quietBefore`: how many before this one); always
 * within `[max(1, minReplicas), maxReplicas]` (scaling to zero is the idle unload's job).
 */
export function decideReplicas(
  current: number,
  bounds: { minReplicas: number; maxReplicas: number },
  policy: AutoscalingSettings,
  window: ScalingWindow,
  quietBefore: number,
): ScalingDecision {
  const min = Math.max(1, bounds.minReplicas);
  const max = Math.max(min, bounds.maxReplicas);
  if (current < min) return { replicas: min, reason: `below minReplicas ${min}`, quiet: false };
  if (current > max) return { replicas: max, reason: `above maxReplicas ${max}`, quiet: false };
  const over = `over ${Math.round(window.ms)} ms`;
  const queued = window.queueDepth >= policy.scaleUpQueueDepth;
  const slow = policy.scaleUpP95Ms !== null && window.p95Ms !== null && window.p95Ms >= policy.scaleUpP95Ms;
  const refused = window.refused > 0;
  if ((queued || slow || refused) && current < max) {
    const why = refused
      ? `${window.refused} request${window.refused === 1 ? '' : 's'} refused with a full queue`
      : queued
        ? `mean queue depth ${round(window.queueDepth)} ≥ ${policy.scaleUpQueueDepth}`
        : `p95 latency ${round(window.p95Ms as number)} ms ≥ ${policy.scaleUpP95Ms} ms`;
    return { replicas: current + 1, reason: `${why} ${over}`, quiet: false };
  }
  const quiet =
    !slow &&
    !refused &&
    window.queueDepth < policy.scaleUpQueueDepth / 2 &&
    (window.requests === 0 || window.utilization < policy.scaleDownUtilization);
  if (quiet && current > min && quietBefore + 1 >= SCALE_DOWN_AFTER) {
    const span = `${SCALE_DOWN_AFTER} intervals in a row`;
    const why =
      window.requests === 0
        ? `no requests in ${span} (the last ${Math.round(window.ms)} ms)`
        : `replicas busy under ${Math.round(policy.scaleDownUtilization * 100)}% for ${span} (${Math.round(window.utilization * 100)}% ${over})`;
    return { replicas: current - 1, reason: why, quiet };
  }
  return { replicas: current, reason: null, quiet };
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
  private refused = 0;

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

  /** A request refused because the queue was full. */
  queueFull(): void {
    this.refused++;
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
      refused: this.refused,
    };
    this.started = now;
    this.latencies = [];
    this.queueMs = 0;
    this.busyMs = 0;
    this.refused = 0;
    return window;
  }
}
