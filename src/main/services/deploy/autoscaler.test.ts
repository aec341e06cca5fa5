import { describe, expect, it } from 'vitest';
import { AutoscalingSettings } from '#shared/contracts/deploy';
import { SCALE_DOWN_AFTER, ScalingMeter, decideReplicas, type ScalingWindow } from './autoscaler';

const policy = AutoscalingSettings.parse({ scaleUpQueueDepth: 2, scaleUpP95Ms: 50, scaleDownUtilization: 0.3 });
const bounds = { minReplicas: 1, maxReplicas: 4 };
const window = (w: Partial<ScalingWindow>): ScalingWindow => ({
  ms: 1000,
  requests: 100,
  queueDepth: 0,
  p95Ms: 5,
  utilization: 0.6,
  refused: 0,
  ...w,
});
/** The rule with as many quiet looks before this one as a scale-down needs. */
const settled = (current: number, w: Partial<ScalingWindow>, b = bounds) =>
  decideReplicas(current, b, policy, window(w), SCALE_DOWN_AFTER - 1);

describe('the autoscaling rule', () => {
  it('adds one replica when the mean queue depth or the p95 latency reaches its threshold', () => {
    expect(decideReplicas(1, bounds, policy, window({ queueDepth: 2.5 }), 0)).toEqual({
      replicas: 2,
      reason: 'mean queue depth 2.5 ≥ 2 over 1000 ms',
      quiet: false,
    });
    expect(decideReplicas(2, bounds, policy, window({ p95Ms: 80 }), 0)).toEqual({
      replicas: 3,
      reason: 'p95 latency 80 ms ≥ 50 ms over 1000 ms',
      quiet: false,
    });
  });

  it('adds one when requests were refused with a full queue, though the queue depth stayed under the threshold', () => {
    expect(decideReplicas(1, bounds, policy, window({ refused: 12, queueDepth: 0.9, utilization: 0.1 }), 5)).toEqual({
      replicas: 2,
      reason: '12 requests refused with a full queue over 1000 ms',
      quiet: false,
    });
  });

  it('never goes above maxReplicas, nor below max(1, minReplicas), and brings a count outside the bounds back', () => {
    expect(settled(4, { queueDepth: 9 }).replicas).toBe(4);
    expect(settled(1, { requests: 0 }, { minReplicas: 0, maxReplicas: 4 }).replicas).toBe(1);
    expect(decideReplicas(6, bounds, policy, window({}), 0).replicas).toBe(4);
    expect(decideReplicas(1, { minReplicas: 3, maxReplicas: 4 }, policy, window({}), 0).replicas).toBe(3);
  });

  it('removes one replica after intervals in a row without requests, or with the replicas mostly idle and nothing queued', () => {
    expect(settled(3, { requests: 0, utilization: 0, p95Ms: null })).toEqual({
      replicas: 2,
      reason: 'no requests in 3 intervals in a row (the last 1000 ms)',
      quiet: true,
    });
    expect(settled(3, { utilization: 0.1, queueDepth: 0.5 })).toEqual({
      replicas: 2,
      reason: 'replicas busy under 30% for 3 intervals in a row (10% over 1000 ms)',
      quiet: true,
    });
    // Busy, queueing (even under the threshold to scale up) or refusing: it stays, and the quiet run ends.
    expect(settled(3, { utilization: 0.6 })).toMatchObject({ replicas: 3, quiet: false });
    expect(settled(3, { utilization: 0.1, queueDepth: 1.5 })).toMatchObject({ replicas: 3, quiet: false });
  });

  it('does not remove a replica on one quiet look: the one after a scale-up is often quiet because of it', () => {
    for (let before = 0; before < SCALE_DOWN_AFTER - 1; before++) {
      expect(decideReplicas(3, bounds, policy, window({ utilization: 0.05 }), before)).toEqual({
        replicas: 3,
        reason: null,
        quiet: true,
      });
    }
  });

  it('ignores latency when no p95 threshold is set', () => {
    const queueOnly = AutoscalingSettings.parse({});
    expect(queueOnly.scaleUpP95Ms).toBeNull();
    expect(decideReplicas(1, bounds, queueOnly, window({ p95Ms: 10_000 }), 0).replicas).toBe(1);
  });
});

describe('the scaling meter', () => {
  it('turns an interval of timings into a window: queue depth by Little’s law, p95, utilisation per replica', () => {
    let now = 0;
    const meter = new ScalingMeter(() => now);
    for (let i = 1; i <= 20; i++) meter.request(10, i);
    meter.batch(300);
    meter.batch(100);
    meter.queueFull();
    now = 200;
    expect(meter.take(2)).toEqual({ ms: 200, requests: 20, queueDepth: 1, p95Ms: 19, utilization: 1, refused: 1 });
    now = 1200;
    // A new window starts at each take.
    expect(meter.take(2)).toEqual({
      ms: 1000,
      requests: 0,
      queueDepth: 0,
      p95Ms: null,
      utilization: 0,
      refused: 0,
    });
  });
});
