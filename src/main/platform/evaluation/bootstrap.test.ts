import { describe, expect, it } from 'vitest';
import {
  bootstrapClassification,
  bootstrapClassificationSync,
  bootstrapRegression,
  CLASSIFICATION_HEADLINES,
  classificationEngine,
  classificationReplicates,
  percentileInterval,
  POISSON_MIN_ROWS,
} from './bootstrap.ts';
import { metricsOfPrepared, prepareClassification } from './classification.ts';
import { POISSON_PAIRS, poissonPairIn, STRADDLES } from './poisson.ts';
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

/**
 * Checks replicates against the definition: n rows drawn uniformly with replacement, metrics recomputed from
 * scratch (sklearn's, as evaluation.int.test.ts checks them): the same mean (within 4 standard errors) and spread
 * (the intervals are made of it; its ratio has a standard error of about 7 % at 200 resamples).
 */
function expectRowResamplingDistribution(
  p: ReturnType<typeof prepareClassification>,
  replicates: Record<(typeof CLASSIFICATION_HEADLINES)[number], Float64Array>,
  f1Of: (m: ReturnType<typeof metricsOfPrepared>) => number,
): void {
  const resamples = replicates.accuracy.length;
  const s = new RandomStream(12);
  const brute = Object.fromEntries(CLASSIFICATION_HEADLINES.map((m) => [m, new Float64Array(resamples)]));
  for (let b = 0; b < resamples; b++) {
    const idx = Int32Array.from({ length: p.rows }, () => Math.floor(s.uniform() * p.rows));
    const m = metricsOfPrepared(subsetClassification(p, idx));
    brute.accuracy![b] = m.accuracy;
    brute.f1![b] = f1Of(m);
    brute.rocAuc![b] = m.rocAuc.value!;
    brute.prAuc![b] = m.prAuc.value!;
    brute.logLoss![b] = m.logLoss.value!;
  }
  for (const m of CLASSIFICATION_HEADLINES) {
    const se = Math.sqrt((sd(replicates[m]) ** 2 + sd(brute[m]!) ** 2) / resamples);
    expect(Math.abs(mean(replicates[m]) - mean(brute[m]!)), m).toBeLessThan(4 * se);
    expect(sd(replicates[m]) / sd(brute[m]!), m).toBeGreaterThan(0.78);
    expect(sd(replicates[m]) / sd(brute[m]!), m).toBeLessThan(1.28);
  }
}

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
    expect(state.kind === 'binary' && state.resampling).toBe('cells');
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

  describe('Poisson(1) resampling of many distinct scores', () => {
    /** 20,001 rows (an odd count, so the walk ends on half a random word): distinct scores, or each shared by two rows. */
    function many(ties: boolean) {
      const r = new RandomStream(8);
      const n = 2 * POISSON_MIN_ROWS + 1;
      const labels = new Int32Array(n);
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        p[i] = ties && i % 2 === 1 ? p[i - 1]! : r.uniform();
        labels[i] = r.uniform() < 0.2 + 0.6 * p[i]! ? 1 : 0;
      }
      return prepareClassification({ labels, positiveProbability: p, classes: [0, 1] });
    }

    it.each([false, true])(
      'has the distribution of resampling rows (ties: %s)',
      (ties) => {
        const p = many(ties);
        const state = classificationEngine(p);
        expect(state.kind === 'binary' && state.resampling).toBe('poisson');
        const resamples = 200;
        const poisson = classificationReplicates(state, 11, 0, resamples);
        expectRowResamplingDistribution(p, poisson, (m) => m.positive!.f1);
        // 200 full metric computations on 20,000 rows: seconds on a shared machine.
      },
      60_000,
    );

    it('resamples three classes with one weight per row across every class ranking: the distribution of resampling rows', () => {
      const r = new RandomStream(9);
      const n = 2 * POISSON_MIN_ROWS + 1;
      const labels = new Int32Array(n);
      const cols = [0, 1, 2].map(() => new Float64Array(n));
      for (let i = 0; i < n; i++) {
        labels[i] = Math.floor(r.uniform() * 3);
        const raw = [0, 1, 2].map((c) => r.uniform() + (c === labels[i] ? 0.4 : 0));
        const total = raw[0]! + raw[1]! + raw[2]!;
        raw.forEach((v, c) => (cols[c]![i] = v / total));
      }
      const p = prepareClassification({ labels, classProbabilities: cols, classes: [0, 1, 2] });
      const state = classificationEngine(p);
      expect(state.kind === 'multiclass' && state.resampling).toBe('poisson');
      const resamples = 200;
      const poisson = classificationReplicates(state, 11, 0, resamples);
      expectRowResamplingDistribution(p, poisson, (m) => m.macro.f1);
      // Without probabilities only the (true, predicted) cells matter, whatever the size.
      const labelsOnly = prepareClassification({ labels, predicted: labels.map((l, i) => (i % 5 ? l : (l + 1) % 3)) });
      const cells = classificationEngine(labelsOnly);
      expect(cells.kind === 'multiclass' && cells.resampling).toBe('cells');
      const accuracy = classificationReplicates(cells, 3, 0, 400).accuracy;
      // 80 % right: a binomial proportion's spread over n rows.
      expect(Math.abs(mean(accuracy) - 0.8)).toBeLessThan(0.002);
      expect(sd(accuracy) / Math.sqrt((0.8 * 0.2) / n)).toBeGreaterThan(0.85);
      expect(sd(accuracy) / Math.sqrt((0.8 * 0.2) / n)).toBeLessThan(1.15);
    }, 60_000);

    it('is reproducible for a seed whichever way the resamples are split, and changes with the seed', async () => {
      const p = many(false);
      const whole = bootstrapClassificationSync(p, { resamples: 60, seed: 4 });
      const runner = async (
        s: Parameters<typeof classificationReplicates>[0],
        seed: number,
        from: number,
        to: number,
      ) => classificationReplicates(s, seed, from, to);
      expect(await bootstrapClassification(p, { resamples: 60, seed: 4, runner, parts: 3 })).toEqual(whole);
      expect(bootstrapClassificationSync(p, { resamples: 60, seed: 5 }).rocAuc.lower).not.toBe(whole.rocAuc.lower);
      for (const ci of Object.values(whole)) {
        expect(ci.lower!).toBeLessThanOrEqual(ci.estimate!);
        expect(ci.upper!).toBeGreaterThanOrEqual(ci.estimate!);
      }
    });

    it('draws pairs of independent Poisson(1) weights: the table and its refinement give the exact probabilities', () => {
      // Every bucket's share of the mass, refined buckets by many draws: P(a, b) to within sampling error.
      const s = new RandomStream(3);
      const mass = new Float64Array(256);
      for (let bucket = 0; bucket < 65536; bucket++) {
        const code = POISSON_PAIRS[bucket]!;
        if (code !== STRADDLES) mass[code]! += 1 / 65536;
        else for (let j = 0; j < 2000; j++) mass[poissonPairIn(bucket, s)]! += 1 / 65536 / 2000;
      }
      const poisson = (k: number) => Math.exp(-1) / [1, 1, 2, 6, 24, 120, 720, 5040][k]!;
      for (let a = 0; a < 8; a++) {
        for (let b = 0; b < 8; b++) {
          // Each of the ~40 refined buckets errs by ≤ 4·√(2000·¼)/2000 of its 1/65536 (a bound, not a typical error).
          expect(Math.abs(mass[a | (b << 4)]! - poisson(a) * poisson(b))).toBeLessThan(2 * 4 * (0.0112 / 65536));
        }
      }
    });
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
    // 12,000 binomial draws of up to a million trials: seconds on a shared machine.
  }, 30_000);
});
