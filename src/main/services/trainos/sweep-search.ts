import { AppError } from '#shared/errors';
import type {
  ParamSet,
  ParamValue,
  SweepAlgorithm,
  SweepGoal,
  SweepParameter,
  SweepSpace,
  SweepTrialState,
} from '#shared/sweep-space';

/**
 * How a sweep picks its next trial's parameters: grid, random and TPE (tree-structured Parzen estimator) search.
 *
 * Every algorithm is a pure function of its options and the sweep's history: suggestion number n (n = the number of
 * trials in the history) draws from a random stream made from the sweep's seed and n. So a sweep rebuilt after a
 * restart suggests what it would have suggested, and the caller adds each suggested trial to the history (as
 * `running`) before asking for the next one.
 */

/** One trial of a sweep as the search sees it. */
export interface Trial {
  params: ParamSet;
  /** The objective's value: null while running, after a failure, or when the run logged none. */
  value: number | null;
  state: SweepTrialState;
}

export interface SearchAlgorithm {
  /** The next trial's parameters, or null when the search is exhausted (the grid is done, or maxTrials reached). */
  suggest(history: readonly Trial[]): ParamSet | null;
}

export const DEFAULT_GRID_POINTS = 5;
/** A grid is gone through in full, one training run a point: past this, random or TPE search is the tool. */
export const MAX_GRID_SIZE = 10_000;

export interface GridOptions {
  /** Points on each continuous (uniform, loguniform) range: one number for all, or by parameter name. */
  gridPoints?: number | Readonly<Record<string, number>>;
  maxTrials?: number;
}

export interface RandomOptions {
  seed: number;
  maxTrials?: number;
}

export interface TpeOptions {
  seed: number;
  goal: SweepGoal;
  /** Trials drawn at random before the estimators are fitted: TPE starts once this many have a value. */
  startupTrials?: number;
  /** The share of valued trials that make the "good" group. */
  gamma?: number;
  /** Draws from the good group's estimator, per parameter, of which the best by l(x)/g(x) is kept. */
  candidates?: number;
  maxTrials?: number;
}

export const TPE_DEFAULTS = { startupTrials: 10, gamma: 0.25, candidates: 24 } as const;

export type SearchOptions = GridOptions & Omit<TpeOptions, 'maxTrials'>;

/** The search a sweep's algorithm names, with the options that apply to it. */
export function searchAlgorithm(algorithm: SweepAlgorithm, space: SweepSpace, options: SearchOptions): SearchAlgorithm {
  switch (algorithm) {
    case 'grid':
      return gridSearch(space, options);
    case 'random':
      return randomSearch(space, options);
    case 'tpe':
      return tpeSearch(space, options);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Grid

/** How many points the grid over a space has: choices × stepped values × gridPoints per continuous range. */
export function gridSize(space: SweepSpace, options: GridOptions = {}): number {
  return Object.entries(space).reduce((size, [name, param]) => size * gridAxisSize(param, pointsFor(name, options)), 1);
}

/**
 * Every combination once, the last parameter changing fastest (as nested loops in the space's order would), then
 * null. A point is done once a trial with its params is in the history, whatever its state: retrying a failed run is
 * the job's business, not the grid's.
 */
export function gridSearch(space: SweepSpace, options: GridOptions = {}): SearchAlgorithm {
  const maxTrials = checkMaxTrials(options.maxTrials);
  const size = gridSize(space, options);
  if (size > MAX_GRID_SIZE) {
    throw AppError.invalid(
      'space',
      `the grid has ${size} points, more than ${MAX_GRID_SIZE}: narrow it (fewer values, larger steps, fewer gridPoints) or use random or TPE search`,
    );
  }
  const axes = Object.entries(space).map(([name, param]) => ({
    name,
    values: gridAxisValues(param, pointsFor(name, options)),
  }));
  const pointAt = (index: number): ParamSet => {
    const params: ParamSet = {};
    let rest = index;
    for (let a = axes.length - 1; a >= 0; a--) {
      const { name, values } = axes[a]!;
      params[name] = values[rest % values.length]!;
      rest = Math.floor(rest / values.length);
    }
    // Insertion order as in the space, whatever order the digits were worked out in.
    return Object.fromEntries(axes.map(({ name }) => [name, params[name]!]));
  };
  const names = axes.map((a) => a.name);
  return {
    suggest(history) {
      if (maxTrials !== undefined && history.length >= maxTrials) return null;
      const done = new Set(history.map((t) => paramsKey(names, t.params)));
      for (let i = 0; i < size; i++) {
        const point = pointAt(i);
        if (!done.has(paramsKey(names, point))) return point;
      }
      return null;
    },
  };
}

function pointsFor(name: string, options: GridOptions): number {
  const points =
    typeof options.gridPoints === 'number' ? options.gridPoints : (options.gridPoints?.[name] ?? DEFAULT_GRID_POINTS);
  if (!Number.isInteger(points) || points < 1) {
    throw AppError.invalid('gridPoints', `${name}: must be a whole number of points, at least 1 (got ${points})`);
  }
  return points;
}

function gridAxisSize(param: SweepParameter, points: number): number {
  switch (param.type) {
    case 'choice':
      return param.values.length;
    case 'int':
    case 'quniform':
      return steppedCount(param);
    case 'uniform':
    case 'loguniform':
      return points;
  }
}

function gridAxisValues(param: SweepParameter, points: number): ParamValue[] {
  switch (param.type) {
    case 'choice':
      return [...param.values];
    case 'int':
    case 'quniform':
      return Array.from({ length: steppedCount(param) }, (_, k) => steppedValue(param, k));
    case 'uniform':
      return spaced(points, param, (t) => param.min + t * (param.max - param.min));
    case 'loguniform': {
      const [lo, hi] = [Math.log(param.min), Math.log(param.max)];
      return spaced(points, param, (t) => Math.exp(lo + t * (hi - lo)));
    }
  }
}

/** `points` values from t = 0 to t = 1 inclusive (one point: the middle), tidied of float noise, kept in range. */
function spaced(points: number, param: { min: number; max: number }, at: (t: number) => number): number[] {
  const value = (t: number) => clamp(tidy(at(t)), param.min, param.max);
  return points === 1 ? [value(0.5)] : Array.from({ length: points }, (_, i) => value(i / (points - 1)));
}

/** Identifies a point by its values in the space's order: JSON tells 1 from "1" from true. */
function paramsKey(names: readonly string[], params: ParamSet): string {
  return JSON.stringify(names.map((n) => params[n] ?? null));
}

// ---------------------------------------------------------------------------------------------------------------
// Random

/** Independent draws: choices and steps evenly, uniform evenly, loguniform evenly in log space. */
export function randomSearch(space: SweepSpace, options: RandomOptions): SearchAlgorithm {
  const maxTrials = checkMaxTrials(options.maxTrials);
  const seed = checkSeed(options.seed);
  return {
    suggest(history) {
      if (maxTrials !== undefined && history.length >= maxTrials) return null;
      return randomPoint(space, randomStream(seed, history.length));
    },
  };
}

function randomPoint(space: SweepSpace, random: Random): ParamSet {
  return Object.fromEntries(Object.entries(space).map(([name, param]) => [name, randomValue(param, random)]));
}

function randomValue(param: SweepParameter, random: Random): ParamValue {
  switch (param.type) {
    case 'choice':
      return param.values[Math.floor(random() * param.values.length)]!;
    case 'uniform':
      return param.min + random() * (param.max - param.min);
    case 'loguniform': {
      const [lo, hi] = [Math.log(param.min), Math.log(param.max)];
      return clamp(Math.exp(lo + random() * (hi - lo)), param.min, param.max);
    }
    case 'int':
    case 'quniform':
      return steppedValue(param, Math.floor(random() * steppedCount(param)));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// TPE

/**
 * Tree-structured Parzen estimator search (Bergstra et al. 2011, as in hyperopt and Optuna), one parameter at a time.
 *
 * - The first `startupTrials` suggestions (until that many trials have a value) are the random search's.
 * - Then the completed trials with a finite value are ranked by the goal; the best ceil(gamma × n) make the good
 *   group, the rest the bad group. Completed trials without a finite value (a diverged loss) join the bad group.
 * - Pruned trials join the bad group: the early stopper ended them for looking worse than their peers, and their
 *   last value, taken at an early step, does not rank against finished trials.
 * - Running trials join the bad group too ("constant liar"): a parallel suggestion is pushed away from the points
 *   still being tried, so N suggestions made before any result comes back are not all the same. Failed trials are
 *   left out: a crash says nothing reliable about the objective.
 * - Per parameter, l(x) and g(x) are Parzen estimators of the good and bad groups' values: numeric parameters as a
 *   mixture of Gaussians truncated to the range (in log space for loguniform; int and quniform on the continuous
 *   range widened by half a step, rounded back onto the steps), each centred on an observation with the larger of
 *   the distances to its neighbours as its width (hyperopt's rule), clipped to [range / min(100, n + 1), range],
 *   plus a prior Gaussian over the whole range; choices as counts smoothed by a prior spread evenly over the values.
 * - `candidates` values are drawn from l(x) and the one with the largest l(x)/g(x) is kept. The estimators of
 *   different parameters are independent, so picking per parameter maximises the product over all combinations of
 *   the candidates.
 */
export function tpeSearch(space: SweepSpace, options: TpeOptions): SearchAlgorithm {
  const maxTrials = checkMaxTrials(options.maxTrials);
  const seed = checkSeed(options.seed);
  const startupTrials = options.startupTrials ?? TPE_DEFAULTS.startupTrials;
  const gamma = options.gamma ?? TPE_DEFAULTS.gamma;
  const candidates = options.candidates ?? TPE_DEFAULTS.candidates;
  if (!Number.isInteger(startupTrials) || startupTrials < 0) {
    throw AppError.invalid('startupTrials', 'must be a whole number, 0 or more');
  }
  if (!(gamma > 0 && gamma < 1)) throw AppError.invalid('gamma', 'must be between 0 and 1');
  if (!Number.isInteger(candidates) || candidates < 1) {
    throw AppError.invalid('candidates', 'must be a whole number, at least 1');
  }
  const better = options.goal === 'minimize' ? (a: number, b: number) => a - b : (a: number, b: number) => b - a;

  return {
    suggest(history) {
      if (maxTrials !== undefined && history.length >= maxTrials) return null;
      const random = randomStream(seed, history.length);
      const valued: { params: ParamSet; value: number; order: number }[] = [];
      const bad: ParamSet[] = [];
      history.forEach((t, order) => {
        if (t.state === 'completed' && t.value !== null && Number.isFinite(t.value)) {
          valued.push({ params: t.params, value: t.value, order });
        } else if (t.state !== 'failed') {
          bad.push(t.params);
        }
      });
      // Two valued trials at least, so that both groups have one.
      if (valued.length < Math.max(startupTrials, 2)) return randomPoint(space, random);

      valued.sort((a, b) => better(a.value, b.value) || a.order - b.order);
      const goodCount = Math.min(valued.length - 1, Math.max(1, Math.ceil(gamma * valued.length)));
      const good = valued.slice(0, goodCount).map((t) => t.params);
      bad.push(...valued.slice(goodCount).map((t) => t.params));
      return Object.fromEntries(
        Object.entries(space).map(([name, param]) => [
          name,
          param.type === 'choice'
            ? suggestChoice(param.values, name, good, bad, candidates, random)
            : suggestNumber(numericView(param), name, good, bad, candidates, random),
        ]),
      );
    },
  };
}

function suggestChoice(
  values: readonly ParamValue[],
  name: string,
  good: readonly ParamSet[],
  bad: readonly ParamSet[],
  candidates: number,
  random: Random,
): ParamValue {
  const indices = (group: readonly ParamSet[]) =>
    group.map((p) => (p[name] === undefined ? -1 : values.indexOf(p[name]))).filter((i) => i >= 0);
  const l = categorical(values.length, indices(good));
  const g = categorical(values.length, indices(bad));
  let best = -1;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const i = pick(l, random);
    const score = Math.log(l[i]!) - Math.log(g[i]!);
    if (score > bestScore) [best, bestScore] = [i, score];
  }
  return values[best]!;
}

/** Smoothed counts: each observation counts 1, and a prior of weight 1 is spread evenly over the k values. */
function categorical(k: number, observed: readonly number[]): number[] {
  const weights = new Array<number>(k).fill(PRIOR_WEIGHT / k);
  for (const i of observed) weights[i]! += 1;
  const total = PRIOR_WEIGHT + observed.length;
  return weights.map((w) => w / total);
}

function suggestNumber(
  view: NumericView,
  name: string,
  good: readonly ParamSet[],
  bad: readonly ParamSet[],
  candidates: number,
  random: Random,
): number {
  const observed = (group: readonly ParamSet[]) =>
    group.flatMap((p) => {
      const v = p[name];
      return typeof v === 'number' && Number.isFinite(v) && view.contains(v) ? [view.toInternal(v)] : [];
    });
  const l = parzen(observed(good), view.lo, view.hi);
  const g = parzen(observed(bad), view.lo, view.hi);
  let best = Number.NaN;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const value = view.fromInternal(sampleParzen(l, random));
    const x = view.toInternal(value);
    const score = Math.log(parzenDensity(l, x)) - Math.log(parzenDensity(g, x));
    if (score > bestScore || Number.isNaN(best)) [best, bestScore] = [value, score];
  }
  return best;
}

/** How a numeric parameter looks to the estimators: the range they work on and the way back to a valid value. */
interface NumericView {
  lo: number;
  hi: number;
  contains(value: number): boolean;
  toInternal(value: number): number;
  /** The valid value nearest to a point of [lo, hi]: clamped, and rounded onto the steps for int and quniform. */
  fromInternal(x: number): number;
}

function numericView(param: Exclude<SweepParameter, { type: 'choice' }>): NumericView {
  const contains = (v: number) => v >= param.min && v <= param.max;
  switch (param.type) {
    case 'uniform':
      return {
        lo: param.min,
        hi: param.max,
        contains,
        toInternal: (v) => v,
        fromInternal: (x) => clamp(x, param.min, param.max),
      };
    case 'loguniform':
      return {
        lo: Math.log(param.min),
        hi: Math.log(param.max),
        contains,
        toInternal: Math.log,
        fromInternal: (x) => clamp(Math.exp(x), param.min, param.max),
      };
    case 'int':
    case 'quniform': {
      const count = steppedCount(param);
      return {
        lo: param.min - param.step / 2,
        hi: steppedValue(param, count - 1) + param.step / 2,
        contains,
        toInternal: (v) => v,
        fromInternal: (x) => steppedValue(param, clamp(Math.round((x - param.min) / param.step), 0, count - 1)),
      };
    }
  }
}

/** The weight of the estimators' prior against one observation's 1. */
const PRIOR_WEIGHT = 1;

/** A mixture of Gaussians truncated to [lo, hi]. */
interface Parzen {
  mus: number[];
  sigmas: number[];
  weights: number[];
  /** Per component: its mass inside [lo, hi], which its density is divided by. */
  masses: number[];
  lo: number;
  hi: number;
}

/** hyperopt's adaptive Parzen estimator: a kernel per observation, widths from neighbour gaps, and a broad prior. */
function parzen(observed: readonly number[], lo: number, hi: number): Parzen {
  const range = hi - lo;
  const prior = (lo + hi) / 2;
  // The prior takes part in the neighbour gaps as a point of its own, as in hyperopt.
  const points = [
    ...observed.map((mu) => ({ mu, weight: 1, isPrior: false })),
    { mu: prior, weight: PRIOR_WEIGHT, isPrior: true },
  ];
  points.sort((a, b) => a.mu - b.mu);
  const minSigma = range / Math.min(100, observed.length + 1);
  const sigmas = points.map((p, i) => {
    if (p.isPrior) return range;
    const gaps = [i > 0 ? p.mu - points[i - 1]!.mu : 0, i < points.length - 1 ? points[i + 1]!.mu - p.mu : 0];
    return clamp(Math.max(...gaps), minSigma, range);
  });
  const total = points.reduce((sum, p) => sum + p.weight, 0);
  const mus = points.map((p) => p.mu);
  return {
    mus,
    sigmas,
    weights: points.map((p) => p.weight / total),
    masses: mus.map((mu, i) => normalCdf((hi - mu) / sigmas[i]!) - normalCdf((lo - mu) / sigmas[i]!)),
    lo,
    hi,
  };
}

function parzenDensity(p: Parzen, x: number): number {
  let density = 0;
  for (let i = 0; i < p.mus.length; i++) {
    const sigma = p.sigmas[i]!;
    const z = (x - p.mus[i]!) / sigma;
    density += (p.weights[i]! * Math.exp(-0.5 * z * z)) / (sigma * Math.sqrt(2 * Math.PI) * p.masses[i]!);
  }
  return density;
}

function sampleParzen(p: Parzen, random: Random): number {
  const i = pick(p.weights, random);
  const [mu, sigma] = [p.mus[i]!, p.sigmas[i]!];
  // Rejection is cheap here: every kernel has at least a third or so of its mass inside the range.
  for (let tries = 0; tries < 100; tries++) {
    const x = mu + sigma * gaussian(random);
    if (x >= p.lo && x <= p.hi) return x;
  }
  return clamp(mu, p.lo, p.hi);
}

/** The standard normal CDF, through erf (Abramowitz and Stegun 7.1.26, error under 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers

type Random = () => number;

/** Suggestion n's own random stream: the sweep's seed and n mixed (murmur3's finaliser), then mulberry32. */
function randomStream(seed: number, n: number): Random {
  let h = (seed ^ Math.imul(n + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  let state = (h ^ (h >>> 16)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
function gaussian(random: Random): number {
  const u = 1 - random(); // in (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** An index drawn with the given probabilities (summing to 1). */
function pick(probabilities: readonly number[], random: Random): number {
  let r = random();
  for (let i = 0; i < probabilities.length - 1; i++) {
    r -= probabilities[i]!;
    if (r < 0) return i;
  }
  return probabilities.length - 1;
}

function steppedCount(param: { min: number; max: number; step: number }): number {
  // The epsilon keeps max when float division lands a hair short of a whole number of steps.
  return Math.floor((param.max - param.min) / param.step + 1e-9) + 1;
}

function steppedValue(param: { min: number; step: number }, k: number): number {
  return tidy(param.min + k * param.step);
}

/** Drops float noise (0.30000000000000004 → 0.3), so that stepped values print and compare as written. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw AppError.invalid('seed', 'must be a whole number');
  // Folds the high bits in, so that seeds 2^32 apart differ.
  return (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
}

function checkMaxTrials(maxTrials: number | undefined): number | undefined {
  if (maxTrials !== undefined && (!Number.isInteger(maxTrials) || maxTrials < 1)) {
    throw AppError.invalid('maxTrials', 'must be a whole number, at least 1');
  }
  return maxTrials;
}
