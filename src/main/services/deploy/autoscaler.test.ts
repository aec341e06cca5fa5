import { describe, expect, it } from 'vitest';
import { AutoscalingSettings } from '#shared/contracts/deploy';
import { ScalingMeter, decideReplicas, type ScalingWindow } from './autoscaler';

const policy = AutoscalingSettings.parse({ scaleUpQueueDepth: 2, scaleUpP95Ms: 50, scaleDownUtilization: 0.3 });
const bounds = { minReplicas: 1, maxReplicas: 4 };
const window = (w: Partial<ScalingWindow>): ScalingWindow => ({
  ms: 1000,
  requests: 100,
  queueDepth: 0,
  p95Ms: 5,
  utilization: 0.6,
  ...w,
});

describe('the autoscaling rule', () => {
  it('adds one replica when the mean queue depth or the p95 latency reaches its threshold', () => {
    expect(decideReplicas(1, bounds, policy, window({ queueDepth: 2.5 }))).toEqual({
      replicas: 2,
      reason: 'mean queue depth 2.5 ≥ 2 over 1000 ms',
    });
    expect(decideReplicas(2, bounds, policy, window({ p95Ms: 80 }))).toEqual({
      replicas: 3,
      reason: 'p95 latency 80 ms ≥ 50 ms over 1000 ms',
    });
  });

  it('never goes above maxReplicas, nor below max(1, minReplicas), and brings a count outside the bounds back', () => {
    expect(decideReplicas(4, bounds, policy, window({ queueDepth: 9 })).replicas).toBe(4);
    expect(decideReplicas(1, { minReplicas: 0, maxReplicas: 4 }, policy, window({ requests: 0 })).replicas).toBe(1);
    expect(decideReplicas(6, bounds, policy, window({})).replicas).toBe(4);
    expect(decideReplicas(1, { minReplicas: 3, maxReplicas: 4 }, policy, window({})).replicas).toBe(3);
  });

  it('removes one replica after an interval without requests, or with the replicas mostly idle and nothing queued', () => {
    expect(decideReplicas(3, bounds, policy, window({ requests: 0, utilization: 0, p95Ms: null }))).toEqual({
      replicas: 2,
      reason: 'no requests in 1000 ms',
    });
    expect(decideReplicas(3, bounds, policy, window({ utilization: 0.1, queueDepth: 0.5 }))).toEqual({
      replicas: 2,
      reason: 'replicas busy 10% < 30% over 1000 ms',
    });
    // Busy, or queueing (even under the threshold to scale up): it stays.
    expect(decideReplicas(3, bounds, policy, window({ utilization: 0.6 })).replicas).toBe(3);
    expect(decideReplicas(3, bounds, policy, window({ utilization: 0.1, queueDepth: 1.5 })).replicas).toBe(3);
  });

  it('ignores latency when no p95 threshold is set', () => {
    const queueOnly = AutoscalingSettings.parse({});
    expect(queueOnly.scaleUpP95Ms).toBeNull();
    expect(decideReplicas(1, bounds, queueOnly, window({ p95Ms: 10_000 })).replicas).toBe(1);
  });
});

describe('the scaling meter', () => {
  it('turns an interval of timings into a window: queue depth by Little’s law, p95, utilisation per replica', () => {
    let now = 0;
    const meter = new ScalingMeter(() => now);
    for (let i = 1; i <= 20; i++) meter.request(10, i);
    meter.batch(300);
    meter.batch(100);
    now = 200;
    expect(meter.take(2)).toEqual({ ms: 200, requests: 20, queueDepth: 1, p95Ms: 19, utilization: 1 });
    now = 1200;
    // A new window starts at each take.
    expect(meter.take(2)).toEqual({ ms: 1000, requests: 0, queueDepth: 0, p95Ms: null, utilization: 0 });
  });
});
