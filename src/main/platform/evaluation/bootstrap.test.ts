import { describe, expect, it } from 'vitest';
import {
  bootstrapClassification,
  bootstrapClassificationSync,
  bootstrapRegression,
  classificationEngine,
  classificationReplicates,
  percentileInterval,
} from './bootstrap.ts';
import { metricsOfPrepared, prepareClassification } from './classification.ts';
import { binomial, multinomialCounts, RandomStream } from './random.ts';
import { prepareRegression } from './regression.ts';
import { subsetClassification } from './slices.ts';

function data(n: number, decimals: number | null, seed = 5) {
  const r = new RandomStream(seed);
  const labels = new Int32Array(n);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = r.uniform();
    p[i] = decimals === null ? v : Math.round(v * 10 ** decimals) / 10 ** decimals;
    labels[i] = r.uniform() < 0.2 + 0.6 * v ? 1 : 0;
  }
  return prepareClassification({ labels, positiveProbability: p, classes: [0, 1] });
}

const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
const sd = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1));

describe('bootstrap', () => {
  it('is reproducible for a seed, changes with it, and brackets the estimate', () => {
    const p = data(2000, null);
    const a = bootstrapClassificationSync(p, { resamples: 200, seed: 1 });
    expect(bootstrapClassificationSync(p, { resamples: 200, seed: 1 })).toEqual(a);
    expect(bootstrapClassificationSync(p, { resamples: 200, seed: 2 }).rocAuc.lower).not.toBe(a.rocAuc.lower);
    for (const ci of Object.values(a)) {
      expect(ci.lower!).toBeLessThanOrEqual(ci.estimate!);
      expect(ci.upper!).toBeGreaterThanOrEqual(ci.estimate!);
      expect(ci.valid).toBe(200);
    }
  });

  it('gives the same intervals whichever way the resamples are split across runners', async () => {
    const p = data(3000, 2);
    const whole = bootstrapClassificationSync(p, { resamples: 101, seed: 4 });
    const runner = async (s: Parameters<typeof classificationReplicates>[0], seed: number, from: number, to: number) =>
      classificationReplicates(s, seed, from, to);
    expect(await bootstrapClassification(p, { resamples: 101, seed: 4, runner, parts: 3 })).toEqual(whole);
  });

  it('resampling cells of tied rows has the distribution of resampling rows', () => {
    // One decimal: ~44 (score, class) cells for 3,000 rows, so resamples are multinomial draws over cells.
    const p = data(3000, 1);
    const state = classificationEngine(p);
    expect(state.kind === 'binary' && state.cells.size.length * 30).toBeLessThan(3000);
    const cells = classificationReplicates(state, 3, 0, 300);
    // The definition: n rows drawn uniformly with replacement, metrics recomputed from scratch.
    const s = new RandomStream(99);
    const brute = { accuracy: new Float64Array(300), rocAuc: new Float64Array(300) };
    for (let b = 0; b < 300; b++) {
      const idx = Int32Array.from({ length: p.rows }, () => Math.floor(s.uniform() * p.rows));
      const m = metricsOfPrepared(subsetClassification(p, idx));
      brute.accuracy[b] = m.accuracy;
      brute.rocAuc[b] = m.rocAuc.value!;
    }
    for (const m of ['accuracy', 'rocAuc'] as const) {
      expect(Math.abs(mean(cells[m]) - mean(brute[m]))).toBeLessThan((5 * sd(brute[m])) / Math.sqrt(300));
      expect(sd(cells[m]) / sd(brute[m])).toBeGreaterThan(0.8);
      expect(sd(cells[m]) / sd(brute[m])).toBeLessThan(1.25);
    }
  });

  it('leaves out resamples where ROC AUC is undefined, and reports none for one-class labels', () => {
    const p = prepareClassification({
      labels: [1, 1, 1, 1],
      positiveProbability: [0.2, 0.4, 0.6, 0.8],
      classes: [0, 1],
    });
    const ci = bootstrapClassificationSync(p, { resamples: 50 });
    expect(ci.rocAuc).toMatchObject({ estimate: null, lower: null, valid: 0 });
    expect(ci.rocAuc.reason).toMatch(/only one class/);
    expect(ci.accuracy.valid).toBe(50);
  });

  it('bootstraps multiclass metrics and regression metrics', () => {
    const r = new RandomStream(1);
    const labels = Array.from({ length: 600 }, (_, i) => ['a', 'b', 'c'][i % 3]!);
    const cols = [0, 1, 2].map((k) => labels.map((l) => (l === ['a', 'b', 'c'][k] ? 0.5 : 0.25) + 0 * r.uniform()));
    const p = prepareClassification({ labels, classProbabilities: cols });
    const ci = bootstrapClassificationSync(p, { resamples: 100 });
    expect(ci.rocAuc.estimate).toBe(1);
    expect(ci.rocAuc.lower).toBe(1);
    expect(ci.accuracy.estimate).toBe(1);
    const reg = bootstrapRegression(
      prepareRegression({ actual: [1, 2, 3, 4, 5, 6], predicted: [1.1, 2.2, 2.7, 4, 5.5, 6.1] }),
      {
        resamples: 300,
      },
    );
    expect(reg.mae.lower!).toBeLessThanOrEqual(reg.mae.estimate!);
    expect(reg.r2.upper!).toBeLessThanOrEqual(1);
  });

  it('validates its options', () => {
    const p = data(10, null);
    expect(() => bootstrapClassificationSync(p, { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapClassificationSync(p, { confidence: 1 })).toThrow(/confidence/);
  });

  it('takes percentiles as numpy (linear) of the defined replicates', () => {
    const ci = percentileInterval(Float64Array.of(NaN, 4, 1, 3, 2, 5), 3, 0.5);
    expect(ci).toMatchObject({ lower: 2, upper: 4, valid: 5, resamples: 6 });
  });

  it('draws exact binomials and multinomials: counts add up, moments match', () => {
    const s = new RandomStream(2);
    const out = new Int32Array(5);
    multinomialCounts([1, 2, 3, 4, 90], 1000, out, s);
    expect(out.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const [n, p] of [
      [50, 0.1],
      [100_000, 0.3],
      [1_000_000, 0.0004],
    ] as const) {
      const draws = Float64Array.from({ length: 4000 }, () => binomial(n, p, s));
      expect(Math.abs(mean(draws) - n * p)).toBeLessThan(5 * Math.sqrt((n * p * (1 - p)) / 4000));
      expect(sd(draws) / Math.sqrt(n * p * (1 - p))).toBeGreaterThan(0.93);
      expect(sd(draws) / Math.sqrt(n * p * (1 - p))).toBeLessThan(1.07);
    }
  });
});
