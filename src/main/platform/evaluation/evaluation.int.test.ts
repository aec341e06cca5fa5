import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { probabilityToBeatBeta, twoProportionZTest, welchTTest, type MeanArm } from './ab.ts';
import { classificationMetrics, type ClassificationInput } from './classification.ts';
import { chiSquareTwoSample, jensenShannonDistance, ksTwoSampleSorted } from './drift.ts';
import { RandomStream } from './random.ts';
import { regressionMetrics } from './regression.ts';
import {
  betaI,
  chiSquareSf,
  kolmogorovSf,
  logGamma,
  normalQuantile,
  normalSf,
  studentTQuantile,
  studentTSf,
} from './special.ts';

/**
 * EvalKit's statistics against scikit-learn 1.2, scipy and numpy (Debian's python3-sklearn, which brings
 * python3-scipy) on the same generated data: deterministic quantities agree within 1e-9.
 */

const PYTHON = '/usr/bin/python3';
const REFERENCE = fileURLToPath(new URL('./sklearn_reference.py', import.meta.url));
const TOL = 1e-9;

function close(actual: number | null | undefined, expected: number, tol = TOL): void {
  expect(actual, `expected ${expected}`).not.toBeNull();
  expect(Math.abs((actual as number) - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    tol * Math.max(1, Math.abs(expected)),
  );
}

/** Relative agreement, for tail probabilities that an absolute tolerance would pass trivially. */
function closeRelative(actual: number[], expected: number[], tol = 1e-11): void {
  expected.forEach((e, i) => {
    expect(Math.abs(actual[i]! - e), `#${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(tol * Math.abs(e));
  });
}

function closeAll(actual: ArrayLike<number>, expected: number[], tol = TOL): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => close(actual[i], e, tol));
}

const rand = new RandomStream(2024);
const uniform = (n: number) => Array.from({ length: n }, () => rand.uniform());
const normal = (n: number, mean = 0, sd = 1) => Array.from({ length: n }, () => mean + sd * rand.normal());

// Binary: labels 0/1 from a noisy score; probabilities rounded to two decimals (ties), some exactly 0 or 1.
const binaryN = 3000;
const binaryProb = uniform(binaryN).map((u, i) => (i % 97 === 0 ? (i % 2 ? 1 : 0) : Math.round(u * 100) / 100));
const binaryLabels = binaryProb.map((p) => (rand.uniform() < 0.15 + 0.7 * p ? 1 : 0));

// Binary with string labels, explicit predictions that disagree with the probabilities now and then.
const stringLabels = binaryLabels.map((l) => (l ? 'spam' : 'ham'));
const stringPredicted = binaryProb.map((p, i) => (p >= 0.4 !== (i % 13 === 0) ? 'spam' : 'ham'));

// Multiclass: 4 classes, softmax of noisy logits; class 'd' is rare and never the argmax of some rows.
const classes4 = ['a', 'b', 'c', 'd'];
const multiN = 2500;
const multiLabels: string[] = [];
const multiProbs: number[][] = classes4.map(() => []);
for (let i = 0; i < multiN; i++) {
  const truth = rand.uniform() < 0.05 ? 3 : Math.floor(rand.uniform() * 3);
  multiLabels.push(classes4[truth]!);
  const logits = classes4.map((_, k) => (k === truth ? 1.2 : 0) + rand.normal() - (k === 3 ? 1.5 : 0));
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - m));
  const s = e.reduce((x, y) => x + y, 0);
  // Rounded (ties), the last column completing the row to 1 as sklearn checks.
  const rounded = e.slice(0, 3).map((v) => Math.round((v / s) * 1e4) / 1e4);
  rounded.push(Math.max(0, Math.round((1 - rounded[0]! - rounded[1]! - rounded[2]!) * 1e4) / 1e4));
  rounded.forEach((v, k) => multiProbs[k]!.push(v));
}

const regActual = normal(1500, 10, 3);
const regPredicted = regActual.map((y) => y + rand.normal() * 1.5 + 0.2);

// KS samples with ties (rounded), unequal and equal sizes.
const ksA = normal(300).map((v) => Math.round(v * 20) / 20);
const ksB = normal(200, 0.25, 1.1).map((v) => Math.round(v * 20) / 20);
const ksC = normal(500);
const ksD = normal(500, 0.1);
// Large enough for scipy's 'auto' to choose its asymptotic p-value.
const ksE = normal(20000);
const ksF = normal(15000, 0.02);

const armsMeans: [MeanArm, MeanArm][] = [
  [
    { mean: 10.2, variance: 4.1, n: 40 },
    { mean: 11.1, variance: 9.3, n: 25 },
  ],
  [
    { mean: 0.51, variance: 0.25, n: 12000 },
    { mean: 0.5, variance: 0.3, n: 9000 },
  ],
  [
    { mean: 3, variance: 1, n: 3 },
    { mean: 5, variance: 16, n: 2 },
  ],
];
const armsProportions = [
  [
    { successes: 30, n: 200 },
    { successes: 45, n: 210 },
  ],
  [
    { successes: 480, n: 10000 },
    { successes: 530, n: 10050 },
  ],
] as const;

const specialGrid = {
  t: [
    [0.5, 1],
    [2.1, 3.5],
    [-1.3, 7],
    [4.2, 12.25],
    [1.96, 1000],
    [8, 30],
    [0.01, 2],
    [3.5, 250000],
  ],
  tq: [
    [0.975, 1],
    [0.975, 3.7],
    [0.995, 10],
    [0.025, 25.5],
    [0.9, 1e5],
  ],
  chi2: [
    [0.5, 1],
    [3.84, 1],
    [10, 4],
    [120, 99],
    [0.01, 7],
    [60, 3],
  ],
  norm: [-3, -1, 0, 0.5, 1.96, 5, 9],
  normq: [1e-10, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999],
  kolmogorov: [0.1, 0.3, 0.6, 0.9, 1, 1.2, 1.36, 2, 3],
  beta: [
    [0.3, 2, 3],
    [0.7, 0.5, 0.5],
    [0.01, 10, 1.5],
    [0.5, 50, 60],
  ],
  gammaln: [0.1, 0.5, 1, 2.5, 10, 171.3, 1e5],
};

type Reference = Record<string, unknown>;
let ref: Reference[] = [];

beforeAll(() => {
  const cases = [
    {
      kind: 'classification',
      labels: binaryLabels,
      predicted: binaryProb.map((p) => (p >= 0.5 ? 1 : 0)),
      classes: [0, 1],
      positive: binaryProb,
      bins: 10,
    },
    {
      kind: 'classification',
      labels: stringLabels,
      predicted: stringPredicted,
      classes: ['ham', 'spam'],
      positive: binaryProb,
      bins: 7,
    },
    {
      kind: 'classification',
      labels: multiLabels,
      predicted: multiLabels.map((_, i) => classes4[argmax(multiProbs.map((c) => c[i]!))]!),
      classes: classes4,
      probabilities: multiProbs,
    },
    { kind: 'regression', actual: regActual, predicted: regPredicted, bins: 20 },
    { kind: 'drift', a: ksA, b: ksB, p: [0.1, 0.4, 0.5, 0], q: [0.2, 0.2, 0.3, 0.3], methods: ['exact', 'asymp'] },
    { kind: 'drift', a: ksC, b: ksD, p: [3, 1, 0, 5], q: [1, 1, 1, 1], methods: ['exact', 'asymp'] },
    { kind: 'drift', a: ksE, b: ksF, methods: ['asymp'] },
    {
      kind: 'chi2',
      table: [
        [120, 90, 40, 10],
        [100, 95, 60, 3],
      ],
    },
    {
      kind: 'chi2',
      table: [
        [30, 70],
        [45, 55],
      ],
    },
    ...armsMeans.map(([a, b]) => ({ kind: 'welch', a, b })),
    ...armsProportions.map(([a, b]) => ({ kind: 'proportions', a, b })),
    { kind: 'special', ...specialGrid },
  ];
  const run = spawnSync(PYTHON, [REFERENCE], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) {
    throw new Error(
      `${PYTHON} ${REFERENCE} failed (this test needs Debian's python3-sklearn and python3-scipy): ${run.stderr}`,
    );
  }
  ref = JSON.parse(run.stdout) as Reference[];
}, 120_000);

function argmax(values: number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) best = i;
  });
  return best;
}

interface ClassificationReference {
  accuracy: number;
  confusion: number[][];
  perClass: [number, number, number, number][];
  macro: [number, number, number];
  weighted: [number, number, number];
  rocAuc: number;
  averagePrecision: number;
  logLoss: number;
  calibration_uniform?: [number[], number[]];
  calibration_quantile?: [number[], number[]];
}

function compareClassification(input: ClassificationInput, r: ClassificationReference, bins?: number): void {
  const m = classificationMetrics(input, bins ? { calibrationBins: bins } : {});
  close(m.accuracy, r.accuracy);
  expect(m.confusionMatrix).toEqual(r.confusion);
  m.perClass.forEach((c, k) => {
    const [p, rc, f1, support] = r.perClass[k]!;
    close(c.precision, p);
    close(c.recall, rc);
    close(c.f1, f1);
    expect(c.support).toBe(support);
  });
  closeAll([m.macro.precision, m.macro.recall, m.macro.f1], r.macro);
  closeAll([m.weighted.precision, m.weighted.recall, m.weighted.f1], r.weighted);
  close(m.rocAuc.value, r.rocAuc);
  close(m.prAuc.value, r.averagePrecision);
  close(m.logLoss.value, r.logLoss);
  if (bins && r.calibration_uniform && r.calibration_quantile) {
    for (const [strategy, [observed, predicted]] of [
      ['uniform', r.calibration_uniform],
      ['quantile', r.calibration_quantile],
    ] as const) {
      const c = classificationMetrics(input, { calibrationBins: bins, calibrationStrategy: strategy }).calibration!;
      const filled = c.bins.filter((b) => b.count > 0);
      closeAll(
        filled.map((b) => b.observed!),
        observed,
      );
      closeAll(
        filled.map((b) => b.meanPredicted!),
        predicted,
      );
    }
  }
}

describe('classification metrics agree with scikit-learn', () => {
  it('on binary 0/1 labels with tied, clipped probabilities', () => {
    compareClassification(
      { labels: binaryLabels, positiveProbability: binaryProb },
      ref[0] as unknown as ClassificationReference,
      10,
    );
  });

  it('on string labels with explicit predictions', () => {
    compareClassification(
      { labels: stringLabels, predicted: stringPredicted, positiveProbability: binaryProb, classes: ['ham', 'spam'] },
      ref[1] as unknown as ClassificationReference,
      7,
    );
  });

  it('on four classes (one-vs-rest macro ROC AUC and average precision)', () => {
    compareClassification(
      { labels: multiLabels, classProbabilities: multiProbs, classes: classes4 },
      ref[2] as unknown as ClassificationReference,
    );
  });
});

describe('regression metrics agree with scikit-learn and numpy', () => {
  it('MAE, RMSE, R², residual quartiles, std and histogram', () => {
    const r = ref[3] as {
      mae: number;
      rmse: number;
      r2: number;
      quartiles: number[];
      std: number;
      histogram: [number[], number[]];
    };
    const m = regressionMetrics({ actual: regActual, predicted: regPredicted }, { histogramBins: 20 });
    close(m.mae, r.mae);
    close(m.rmse, r.rmse);
    close(m.r2, r.r2);
    closeAll([m.residuals.p25, m.residuals.median, m.residuals.p75], r.quartiles);
    close(m.residuals.std, r.std);
    expect(m.residuals.histogram.counts).toEqual(r.histogram[0]);
    closeAll(m.residuals.histogram.edges, r.histogram[1]);
  });
});

describe('drift statistics agree with scipy', () => {
  const sorted = (v: number[]) => Float64Array.from(v).sort();
  it('KS: the statistic and the exact p-value, unequal sizes with ties and equal sizes', () => {
    for (const [i, a, b] of [
      [4, ksA, ksB],
      [5, ksC, ksD],
    ] as const) {
      const r = ref[i] as { ks_exact: [number, number]; ks_asymp: [number, number]; kstwobign: number };
      const exact = ksTwoSampleSorted(sorted(a), sorted(b), 'exact');
      close(exact.statistic, r.ks_exact[0]);
      close(exact.pValue, r.ks_exact[1]);
      expect(ksTwoSampleSorted(sorted(a), sorted(b)).method).toBe('exact');
      close(ksTwoSampleSorted(sorted(a), sorted(b), 'asymptotic').pValue, r.kstwobign);
    }
  });

  it("KS on 20,000 vs 15,000 rows: asymptotic as scipy's 'auto'; the Kolmogorov limit within 2% of scipy's kstwo", () => {
    const r = ref[6] as { ks_asymp: [number, number]; kstwobign: number };
    const ks = ksTwoSampleSorted(sorted(ksE), sorted(ksF));
    expect(ks.method).toBe('asymptotic');
    close(ks.statistic, r.ks_asymp[0]);
    close(ks.pValue, r.kstwobign);
    expect(Math.abs(ks.pValue - r.ks_asymp[1]) / r.ks_asymp[1]).toBeLessThan(0.02);
  });

  it('Jensen–Shannon distance (base 2), with an empty bin', () => {
    close(jensenShannonDistance([0.1, 0.4, 0.5, 0], [0.2, 0.2, 0.3, 0.3]), (ref[4] as { js: number }).js);
    close(jensenShannonDistance([3, 1, 0, 5], [1, 1, 1, 1]), (ref[5] as { js: number }).js);
  });

  it('chi-square of a 2 × K contingency table, and Yates-corrected 2 × 2', () => {
    for (const [i, table] of [
      [
        7,
        [
          [120, 90, 40, 10],
          [100, 95, 60, 3],
        ],
      ],
      [
        8,
        [
          [30, 70],
          [45, 55],
        ],
      ],
    ] as const) {
      const [stat, p, dof] = ref[i] as unknown as [number, number, number];
      const r = chiSquareTwoSample(table[0], table[1]);
      close(r.statistic, stat);
      close(r.pValue, p);
      expect(r.dof).toBe(dof);
    }
  });
});

describe('A/B statistics agree with scipy', () => {
  it("Welch's t-test: t, Welch–Satterthwaite df, p-value and the t quantile of the interval", () => {
    armsMeans.forEach(([a, b], i) => {
      const r = ref[9 + i] as { t: number; p: number; df: number; q975: number };
      const w = welchTTest(a, b);
      close(w.statistic, r.t);
      close(w.df, r.df);
      close(w.pValue, r.p);
      close((w.interval[1] - w.difference) / w.standardError, r.q975);
    });
  });

  it('two-proportion z-test: z² is the uncorrected 2 × 2 chi-square, same p-value; Beta probability to beat', () => {
    armsProportions.forEach(([a, b], i) => {
      const r = ref[12 + i] as { chi2: number; p: number; beats: number };
      const z = twoProportionZTest(a, b);
      close(z.statistic ** 2, r.chi2);
      close(z.pValue, r.p);
      close(probabilityToBeatBeta(a, b, { method: 'exact' }).probability, r.beats, 1e-8);
      const mc = probabilityToBeatBeta(a, b, { method: 'monte-carlo', samples: 200_000, seed: 3 });
      expect(Math.abs(mc.probability - r.beats)).toBeLessThan(4 * Math.sqrt(0.25 / 200_000));
    });
  });
});

describe('special functions agree with scipy', () => {
  it('t, chi-square, normal, Kolmogorov, incomplete beta and log-gamma', () => {
    const r = ref[14] as Record<string, number[]>;
    closeRelative(
      specialGrid.t.map(([x, df]) => studentTSf(x!, df!)),
      r.tsf!,
    );
    closeRelative(
      specialGrid.tq.map(([q, df]) => studentTQuantile(q!, df!)),
      r.tppf!,
      1e-11,
    );
    closeRelative(
      specialGrid.chi2.map(([x, k]) => chiSquareSf(x!, k!)),
      r.chi2sf!,
    );
    closeRelative(specialGrid.norm.map(normalSf), r.normsf!);
    closeRelative(specialGrid.normq.map(normalQuantile), r.normppf!);
    closeRelative(specialGrid.kolmogorov.map(kolmogorovSf), r.kstwobign!);
    closeRelative(
      specialGrid.beta.map(([x, a, b]) => betaI(x!, a!, b!)),
      r.betainc!,
    );
    closeRelative(specialGrid.gammaln.map(logGamma), r.gammaln!);
  });
});
