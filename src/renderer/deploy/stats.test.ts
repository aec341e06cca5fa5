import { describe, expect, it } from 'vitest';
import type { DeploymentStats } from '#shared/contracts/deploy';
import {
  appendSample,
  capacityLabel,
  formatMs,
  idleLabel,
  playgroundKindOf,
  ratesOf,
  sampleOf,
  versionRatesOf,
  type StatsSample,
} from './stats';

function sample(at: number, total: number, completionTokens = 0, errors = 0): StatsSample {
  return { at, total, errors, completionTokens, p50: 10, p95: 20, ttft: null, inFlight: 0, queued: 0, versions: [] };
}

/** A sample whose requests are split between versions: `[version, total, p50]` each. */
function split(at: number, ...versions: [number, number, number][]): StatsSample {
  const total = versions.reduce((n, [, count]) => n + count, 0);
  return {
    ...sample(at, total),
    versions: versions.map(([version, count, p50]) => ({
      version,
      total: count,
      errors: 0,
      completionTokens: 0,
      p50,
      p95: p50 * 2,
    })),
  };
}

const source = (version: number) => ({
  kind: 'model-version' as const,
  model: 'digits',
  version,
  alias: null,
  format: 'onnx',
  path: '/m/digits.onnx',
  sha256: null,
});

describe('ratesOf', () => {
  it('gives per-second rates between consecutive samples, at the later one', () => {
    const rates = ratesOf([sample(0, 0), sample(2000, 4, 100, 1), sample(4000, 4, 100, 1)]);
    expect(rates.t).toEqual([2, 4]);
    expect(rates.requestsPerSecond).toEqual([2, 0]);
    expect(rates.errorsPerSecond).toEqual([0.5, 0]);
    expect(rates.tokensPerSecond).toEqual([50, 0]);
    expect(rates.p95).toEqual([20, 20]);
  });

  it('leaves a gap where a counter went down (the app restarted)', () => {
    expect(ratesOf([sample(0, 10), sample(1000, 2)]).requestsPerSecond).toEqual([null]);
  });

  it('has no points with fewer than two samples', () => {
    expect(ratesOf([sample(0, 1)]).t).toEqual([]);
  });
});

describe('versionRatesOf', () => {
  const history = [split(0, [1, 0, 1]), split(2000, [1, 8, 1], [2, 2, 3]), split(4000, [1, 16, 1], [2, 6, 4])];

  it('draws a line per version while a canary is set, named with its share', () => {
    const lines = versionRatesOf(history, {
      source: source(1),
      traffic: { mode: 'canary', percent: 20, source: source(2) },
    });
    expect(lines.map((l) => [l.label, l.role])).toEqual([
      ['v1', 'main'],
      ['v2 (canary 20%)', 'canary'],
    ]);
    expect(lines[0]?.requestsPerSecond).toEqual([4, 4]);
    // Version 2 had not served before the second sample: a gap, then its rate.
    expect(lines[1]?.requestsPerSecond).toEqual([null, 2]);
    expect(lines[1]?.p50).toEqual([3, 4]);
    expect(lines[1]?.p95).toEqual([6, 8]);
  });

  it('names a shadow, and draws no version lines without a traffic split', () => {
    const shadow = versionRatesOf(history, {
      source: source(1),
      traffic: { mode: 'shadow', percent: 100, source: source(2) },
    });
    expect(shadow.map((l) => l.label)).toEqual(['v1', 'v2 (shadow)']);
    expect(versionRatesOf(history, { source: source(1), traffic: null })).toEqual([]);
  });
});

describe('appendSample', () => {
  it('keeps the newest samples only and ignores a reading no newer than the last', () => {
    let history: StatsSample[] = [];
    for (let i = 1; i <= 5; i++) history = appendSample(history, sample(i * 1000, i), 3);
    expect(history.map((s) => s.total)).toEqual([3, 4, 5]);
    expect(appendSample(history, sample(5000, 99), 3)).toBe(history);
  });

  it('reads the figures of a stats answer', () => {
    const stats = {
      requests: { total: 3, errors: 1, cancelled: 0 },
      latencyMs: { p50: 5, p95: 9, p99: 9 },
      timeToFirstTokenMs: { p50: 2, p95: 3, p99: 3 },
      tokens: { prompt: 10, completion: 30 },
      inFlight: 1,
      queued: 2,
      versions: [
        {
          version: 1,
          role: 'main',
          requests: { total: 3, errors: 1, cancelled: 0 },
          latencyMs: { p50: 5, p95: 9, p99: 9 },
          tokens: { prompt: 10, completion: 30 },
        },
      ],
    } as unknown as DeploymentStats;
    expect(sampleOf(stats, 7)).toEqual({
      at: 7,
      total: 3,
      errors: 1,
      completionTokens: 30,
      p50: 5,
      p95: 9,
      ttft: 2,
      inFlight: 1,
      queued: 2,
      versions: [{ version: 1, total: 3, errors: 1, completionTokens: 30, p50: 5, p95: 9 }],
    });
  });
});

describe('labels', () => {
  it('formats latencies', () => {
    expect(formatMs(null)).toBe('—');
    expect(formatMs(3.25)).toBe('3.3 ms');
    expect(formatMs(120.4)).toBe('120 ms');
    expect(formatMs(1450)).toBe('1.45 s');
  });

  it('says replicas and parallel requests', () => {
    expect(capacityLabel({ runtime: 'gguf', minReplicas: 1, maxReplicas: 1, parallel: 4 })).toBe(
      '1 replica × 4 parallel',
    );
    expect(capacityLabel({ runtime: 'onnx', minReplicas: 1, maxReplicas: 4, parallel: 1, replicas: 2 })).toBe(
      '2 of 1–4 replicas',
    );
    expect(capacityLabel({ runtime: 'onnx', minReplicas: 0, maxReplicas: 2, parallel: 1, replicas: null })).toBe(
      '0–2 replicas',
    );
    expect(capacityLabel({ runtime: 'tfjs', minReplicas: 1, maxReplicas: 1, parallel: 1, replicas: 1 })).toBe(
      '1 of 1 replica',
    );
  });

  it('says when an idle model is unloaded', () => {
    expect(idleLabel(null)).toBe('never');
    expect(idleLabel(30)).toBe('after 30 s');
    expect(idleLabel(600)).toBe('after 10 min');
    expect(idleLabel(7200)).toBe('after 2 h');
  });

  it('picks the playground from the runtime and what the loaded model serves', () => {
    expect(playgroundKindOf({ runtime: 'gguf', modelKind: 'generation' })).toBe('chat');
    expect(playgroundKindOf({ runtime: 'gguf', modelKind: 'embedding' })).toBe('embedding');
    expect(playgroundKindOf({ runtime: 'gguf', modelKind: null })).toBe('chat');
    expect(playgroundKindOf({ runtime: 'onnx', modelKind: null })).toBe('predict');
    expect(playgroundKindOf({ runtime: 'tfjs', modelKind: 'tensor' })).toBe('predict');
    expect(playgroundKindOf({ runtime: 'tfjs', modelKind: null })).toBe('predict');
  });
});
