import { AppError } from '#shared/errors';
import { RandomStream } from './random.ts';
import { logBeta, normalCdf, normalQuantile, normalSf, studentTQuantile, studentTSf } from './special.ts';

/**
 * A/B statistics for two arms, A (control) and B (treatment): differences are B − A. Frequentist: the
 * two-proportion z-test (pooled standard error for the test, unpooled Wald interval, as R's
 * prop.test(correct = FALSE): z² is its X²) and Welch's t-test (scipy's `ttest_ind(equal_var=False)`).
 * Bayesian: the probability that B beats A. Planning: per-arm sample sizes, and a peeking rule.
 */
export interface ProportionArm {
  /** Rows with the outcome (conversions). */
  successes: number;
  /** Rows in the arm. */
  n: number;
}

export interface MeanArm {
  mean: number;
  /** Sample variance (ddof = 1). */
  variance: number;
  n: number;
}

export interface TestResult {
  /** B − A. */
  difference: number;
  /** (B − A) / A; null when A is 0. */
  relativeDifference: number | null;
  standardError: number;
  /** The z or t statistic. */
  statistic: number;
  /** Welch–Satterthwaite degrees of freedom (t-test only). */
  df?: number;
  /** Two-sided. */
  pValue: number;
  /** Confidence interval of the difference. */
  interval: [number, number];
  confidence: number;
  significant: boolean;
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new AppError('INVALID_ARGUMENT', `confidence must be in (0, 1), got ${confidence}`);
  }
}

function checkProportionArm(arm: ProportionArm, name: string): void {
  if (
    !Number.isInteger(arm.n) ||
    arm.n < 1 ||
    !Number.isInteger(arm.successes) ||
    arm.successes < 0 ||
    arm.successes > arm.n
  ) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `arm ${name}: successes must be an integer in 0..n and n a positive integer`,
      {
        arm: name,
      },
    );
  }
}

function checkMeanArm(arm: MeanArm, name: string): void {
  if (!Number.isFinite(arm.mean) || !Number.isFinite(arm.variance) || arm.variance < 0) {
    throw new AppError('INVALID_ARGUMENT', `arm ${name}: mean and variance must be finite, variance ≥ 0`, {
      arm: name,
    });
  }
  if (!Number.isInteger(arm.n) || arm.n < 2) {
    throw new AppError('INVALID_ARGUMENT', `arm ${name}: a t-test needs at least 2 rows, got ${arm.n}`, { arm: name });
  }
}

/** Mean, sample variance (ddof = 1) and size of raw values (NaN refused, naming the arm). */
export function meanArmOf(values: ArrayLike<number>, name = 'values'): MeanArm {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new AppError('INVALID_ARGUMENT', `column '${name}' has a non-finite value at row ${i}`, {
        column: name,
        row: i,
      });
    }
    s += v;
  }
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return { mean, variance: n > 1 ? ss / (n - 1) : NaN, n };
}

/** Two-proportion z-test: z = (p̂B − p̂A)/√(p̄(1−p̄)(1/nA + 1/nB)); the interval is Wald's, unpooled. */
export function twoProportionZTest(a: ProportionArm, b: ProportionArm, confidence = 0.95): TestResult {
  checkProportionArm(a, 'A');
  checkProportionArm(b, 'B');
  checkConfidence(confidence);
  const pa = a.successes / a.n;
  const pb = b.successes / b.n;
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  const seUnpooled = Math.sqrt((pa * (1 - pa)) / a.n + (pb * (1 - pb)) / b.n);
  const difference = pb - pa;
  // All rows converted, or none: no variation, no evidence of a difference.
  const z = sePooled > 0 ? difference / sePooled : 0;
  const pValue = sePooled > 0 ? 2 * normalSf(Math.abs(z)) : 1;
  const q = normalQuantile(1 - (1 - confidence) / 2);
  return {
    difference,
    relativeDifference: pa > 0 ? difference / pa : null,
    standardError: seUnpooled,
    statistic: z,
    pValue,
    interval: [difference - q * seUnpooled, difference + q * seUnpooled],
    confidence,
    significant: pValue < 1 - confidence,
  };
}

/** Welch's t-test with the Welch–Satterthwaite df; the interval uses the t quantile at that df. */
export function welchTTest(a: MeanArm, b: MeanArm, confidence = 0.95): TestResult {
  checkMeanArm(a, 'A');
  checkMeanArm(b, 'B');
  checkConfidence(confidence);
  const va = a.variance / a.n;
  const vb = b.variance / b.n;
  const se = Math.sqrt(va + vb);
  const difference = b.mean - a.mean;
  const relativeDifference = a.mean !== 0 ? difference / a.mean : null;
  if (se === 0) {
    throw new AppError('INVALID_ARGUMENT', 'both arms have zero variance: the t-test is undefined');
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const t = difference / se;
  const pValue = Math.min(1, 2 * studentTSf(Math.abs(t), df));
  const q = studentTQuantile(1 - (1 - confidence) / 2, df);
  return {
    difference,
    relativeDifference,
    standardError: se,
    statistic: t,
    df,
    pValue,
    interval: [difference - q * se, difference + q * se],
    confidence,
    significant: pValue < 1 - confidence,
  };
}

export interface BetaPrior {
  alpha: number;
  beta: number;
}

export interface ProbabilityToBeat {
  /** P(B's rate > A's rate | data). */
  probability: number;
  method: 'exact' | 'monte-carlo' | 'normal';
  /** Monte Carlo draws (monte-carlo only). */
  samples?: number;
}

/** Arms whose posterior α is an integer up to this are summed exactly. */
const EXACT_TERMS = 1_000_000;

/**
 * P(p_B > p_A) with independent Beta posteriors Beta(prior.α + successes, prior.β + failures). 'exact': Evan
 * Miller's closed form, a sum of α terms of the arm with the smaller integer α; 'monte-carlo': draws from both
 * posteriors with a seeded stream. 'auto' is exact when an α is an integer up to a million, else Monte Carlo.
 */
export function probabilityToBeatBeta(
  a: ProportionArm,
  b: ProportionArm,
  options: { prior?: BetaPrior; method?: 'auto' | 'exact' | 'monte-carlo'; samples?: number; seed?: number } = {},
): ProbabilityToBeat {
  checkProportionArm(a, 'A');
  checkProportionArm(b, 'B');
  const prior = options.prior ?? { alpha: 1, beta: 1 };
  if (!(prior.alpha > 0 && prior.beta > 0))
    throw new AppError('INVALID_ARGUMENT', 'the Beta prior needs α > 0 and β > 0');
  const aa = prior.alpha + a.successes;
  const ba = prior.beta + a.n - a.successes;
  const ab = prior.alpha + b.successes;
  const bb = prior.beta + b.n - b.successes;
  const integral = (x: number) => Number.isInteger(x) && x <= EXACT_TERMS;
  const method = options.method ?? 'auto';
  if (method === 'exact' || (method === 'auto' && (integral(ab) || integral(aa)))) {
    if (integral(ab) && (!integral(aa) || ab <= aa)) return { probability: betaBeats(aa, ba, ab, bb), method: 'exact' };
    if (integral(aa)) return { probability: 1 - betaBeats(ab, bb, aa, ba), method: 'exact' };
    throw new AppError('INVALID_ARGUMENT', 'the exact method needs an integer posterior α (up to 1e6) in one arm');
  }
  const samples = options.samples ?? 200_000;
  const stream = new RandomStream(options.seed ?? 0);
  let wins = 0;
  for (let i = 0; i < samples; i++) if (stream.beta(ab, bb) > stream.beta(aa, ba)) wins++;
  return { probability: wins / samples, method: 'monte-carlo', samples };
}

/** P(X_B > X_A) for X_A ~ Beta(aa, ba), X_B ~ Beta(ab, bb), ab a positive integer (Evan Miller, 2015). */
function betaBeats(aa: number, ba: number, ab: number, bb: number): number {
  let total = 0;
  const base = logBeta(aa, ba);
  for (let i = 0; i < ab; i++) {
    total += Math.exp(logBeta(aa + i, ba + bb) - Math.log(bb + i) - logBeta(1 + i, bb) - base);
  }
  return Math.min(1, Math.max(0, total));
}

/** P(μ_B > μ_A) under the normal approximation of both means (flat priors): Φ((m_B − m_A)/√(v_A/n_A + v_B/n_B)). */
export function probabilityToBeatNormal(a: MeanArm, b: MeanArm): ProbabilityToBeat {
  checkMeanArm(a, 'A');
  checkMeanArm(b, 'B');
  const se = Math.sqrt(a.variance / a.n + b.variance / b.n);
  const d = b.mean - a.mean;
  return { probability: se > 0 ? normalCdf(d / se) : d > 0 ? 1 : d < 0 ? 0 : 0.5, method: 'normal' };
}

export interface PowerOptions {
  /** Two-sided significance level. Default 0.05. */
  alpha?: number;
  /** Default 0.8. */
  power?: number;
}

function zs(options: PowerOptions): { za: number; zb: number } {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  if (!(alpha > 0 && alpha < 1)) throw new AppError('INVALID_ARGUMENT', `alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new AppError('INVALID_ARGUMENT', `power must be in (0, 1), got ${power}`);
  return { za: normalQuantile(1 - alpha / 2), zb: normalQuantile(power) };
}

/**
 * Rows per arm to detect a change of the rate from `baseline` by `mde` (absolute, e.g. 0.01 for one point;
 * `relative: true` reads it as a fraction of the baseline) with a two-sided z-test:
 * n = (z₁₋α/₂·√(2p̄q̄) + z₁₋β·√(p₁q₁ + p₂q₂))² / (p₂ − p₁)², rounded up (Fleiss, without continuity correction).
 */
export function sampleSizeProportions(
  baseline: number,
  mde: number,
  options: PowerOptions & { relative?: boolean } = {},
): number {
  const p1 = baseline;
  const p2 = options.relative ? baseline * (1 + mde) : baseline + mde;
  if (!(p1 > 0 && p1 < 1) || !(p2 > 0 && p2 < 1) || mde === 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `baseline and baseline + effect must be in (0, 1) and differ: got ${p1} and ${p2}`,
    );
  }
  const { za, zb } = zs(options);
  const pbar = (p1 + p2) / 2;
  const n =
    (za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2;
  return Math.ceil(n - 1e-9);
}

/** Rows per arm to detect a difference `mde` of means with standard deviation `sd`: n = 2σ²(z₁₋α/₂ + z₁₋β)²/δ², rounded up. */
export function sampleSizeMeans(sd: number, mde: number, options: PowerOptions = {}): number {
  if (!(sd > 0) || !(mde !== 0 && Number.isFinite(mde))) {
    throw new AppError('INVALID_ARGUMENT', `sd must be > 0 and the effect non-zero: got sd ${sd}, effect ${mde}`);
  }
  const { za, zb } = zs(options);
  return Math.ceil((2 * sd * sd * (za + zb) ** 2) / (mde * mde) - 1e-9);
}

export interface PeekingCheck {
  /** True only when both arms reached the planned size. */
  final: boolean;
  /** min(nA, nB) / planned; null without a plan. */
  progress: number | null;
  warning?: string;
}

/**
 * The peeking rule: a fixed-horizon test is valid once, at its planned sample size. Before that (or with no
 * plan) the result is flagged not final: stopping when p first dips below α inflates false positives.
 */
export function peekingCheck(plannedPerArm: number | undefined, nA: number, nB: number): PeekingCheck {
  if (plannedPerArm === undefined) {
    return {
      final: false,
      progress: null,
      warning: 'no planned sample size: set one with the sample-size calculator before reading the result',
    };
  }
  if (!(Number.isInteger(plannedPerArm) && plannedPerArm > 0)) {
    throw new AppError('INVALID_ARGUMENT', `the planned sample size must be a positive integer, got ${plannedPerArm}`);
  }
  const reached = Math.min(nA, nB);
  const progress = reached / plannedPerArm;
  if (reached >= plannedPerArm) return { final: true, progress };
  return {
    final: false,
    progress,
    warning:
      `sample size not reached (${reached} of ${plannedPerArm} per arm): the result is not final, and stopping ` +
      'early on a significant p-value (peeking) inflates the false-positive rate',
  };
}

export interface AbResult {
  test: TestResult;
  probabilityToBeat: ProbabilityToBeat;
  peeking: PeekingCheck;
}

/** A conversion experiment: z-test, Beta-Binomial probability to beat, and the peeking check. */
export function abTestProportions(
  a: ProportionArm,
  b: ProportionArm,
  options: { confidence?: number; plannedPerArm?: number; prior?: BetaPrior; seed?: number } = {},
): AbResult {
  return {
    test: twoProportionZTest(a, b, options.confidence ?? 0.95),
    probabilityToBeat: probabilityToBeatBeta(a, b, {
      ...(options.prior ? { prior: options.prior } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    }),
    peeking: peekingCheck(options.plannedPerArm, a.n, b.n),
  };
}

/** A continuous-metric experiment: Welch's t-test, the normal probability to beat, and the peeking check. */
export function abTestMeans(
  a: MeanArm,
  b: MeanArm,
  options: { confidence?: number; plannedPerArm?: number } = {},
): AbResult {
  return {
    test: welchTTest(a, b, options.confidence ?? 0.95),
    probabilityToBeat: probabilityToBeatNormal(a, b),
    peeking: peekingCheck(options.plannedPerArm, a.n, b.n),
  };
}
