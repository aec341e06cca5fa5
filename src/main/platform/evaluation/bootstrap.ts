import { AppError } from '#shared/errors';
import {
  metricsOfPrepared,
  rowLogLoss,
  scoresFromConfusion,
  type ClassificationMetrics,
  type PreparedClassification,
} from './classification.ts';
import { multinomialCounts, RandomStream } from './random.ts';
import { regressionOfPrepared, type PreparedRegression } from './regression.ts';
import { argsortFloat64, quantileSorted } from './stats-util.ts';

/**
 * Percentile bootstrap confidence intervals for the headline metrics. Resample b draws n rows with replacement
 * as multinomial counts from the stream (seed, b), so a resample is the same whichever thread computes it.
 * The rows are sorted by score once; a resample then costs a counting pass and one linear walk per ranking,
 * never a sort. A metric undefined on a resample (ROC AUC of a resample with one class) is left out of that
 * metric's interval, and `valid` says how many resamples it had.
 */
export interface BootstrapOptions {
  /** Resamples. Default 1000. */
  resamples?: number;
  /** Two-sided confidence level. Default 0.95. */
  confidence?: number;
  /** Default 0. */
  seed?: number;
}

export interface ConfidenceInterval {
  /** The metric on all the rows (null where undefined). */
  estimate: number | null;
  lower: number | null;
  upper: number | null;
  confidence: number;
  resamples: number;
  /** Resamples on which the metric was defined. */
  valid: number;
  reason?: string;
}

export const CLASSIFICATION_HEADLINES = ['accuracy', 'f1', 'rocAuc', 'prAuc', 'logLoss'] as const;
/** `f1`: the positive class's F1 for binary, macro F1 for multiclass. `rocAuc`/`prAuc` are null without probabilities. */
export type ClassificationHeadline = (typeof CLASSIFICATION_HEADLINES)[number];
export const REGRESSION_HEADLINES = ['mae', 'rmse', 'r2'] as const;
export type RegressionHeadline = (typeof REGRESSION_HEADLINES)[number];

export type Replicates<K extends string> = Record<K, Float64Array>;

const TYPE_TRUTH = 1;
const TYPE_PRED = 2;
/** Set on the lowest row of a run of equal scores: walking down, the tie group closes there. */
const TYPE_GROUP_END = 4;

/** Everything a resample needs, as typed arrays: what a worker thread receives. */
export type ClassificationEngineState =
  | {
      kind: 'binary';
      hasScores: boolean;
      /** Per row, in ascending score order. */
      type: Uint8Array;
      logLoss: Float64Array;
      /**
       * Runs of rows with the same score and (true, predicted) class, which no metric can tell apart: a
       * resample draws multinomial counts over these cells (the same distribution as over rows) when they
       * are few, instead of n row draws.
       */
      cells: { type: Uint8Array; size: Float64Array; logLoss: Float64Array };
    }
  | {
      kind: 'multiclass';
      classes: number;
      truth: Uint8Array | Int32Array;
      predicted: Uint8Array | Int32Array;
      logLoss: Float64Array | null;
      /** Per class: rows in ascending order of that class's probability, and their type flags. */
      orders: Int32Array[];
      flags: Uint8Array[];
    };

/** Builds the sorted layout once. Binary rows are laid out in ascending score order (ties by true then predicted class). */
export function classificationEngine(p: PreparedClassification): ClassificationEngineState {
  const n = p.rows;
  if (p.classes.length === 2) {
    const type = new Uint8Array(n);
    const logLoss = new Float64Array(n);
    if (!p.positive) {
      for (let i = 0; i < n; i++) type[i] = (p.truth[i]! ? TYPE_TRUTH : 0) | (p.predicted[i]! ? TYPE_PRED : 0);
      return { kind: 'binary', hasScores: false, type, logLoss, cells: cellsOf(type, logLoss, null) };
    }
    // Four groups by (true, predicted) class, each sorted natively, merged: no index sort needed.
    const sizes = [0, 0, 0, 0];
    const code = new Uint8Array(n);
    for (let i = 0; i < n; i++) sizes[(code[i] = p.truth[i]! | (p.predicted[i]! << 1))]!++;
    const groups = sizes.map((s) => new Float64Array(s));
    const fill = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) groups[code[i]!]![fill[code[i]!]!++] = p.positive[i]!;
    for (const g of groups) g.sort();
    const heads = [0, 0, 0, 0];
    const scores = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let best = -1;
      let bestValue = Infinity;
      for (let g = 0; g < 4; g++) {
        if (heads[g]! < sizes[g]! && groups[g]![heads[g]!]! < bestValue) {
          best = g;
          bestValue = groups[g]![heads[g]!]!;
        }
      }
      heads[best]!++;
      scores[r] = bestValue;
      type[r] = best;
    }
    for (let r = 0; r < n; r++) if (r === 0 || scores[r - 1] !== scores[r]) type[r]! |= TYPE_GROUP_END;
    const ll = rowLogLoss({ ...p, rows: n, positive: scores, truth: Int32Array.from(type, (t) => t & TYPE_TRUTH) });
    logLoss.set(ll);
    return { kind: 'binary', hasScores: true, type, logLoss, cells: cellsOf(type, logLoss, scores) };
  }
  const k = p.classes.length;
  const small = k <= 255;
  const truth = small ? Uint8Array.from(p.truth) : Int32Array.from(p.truth);
  const predicted = small ? Uint8Array.from(p.predicted) : Int32Array.from(p.predicted);
  const orders: Int32Array[] = [];
  const flags: Uint8Array[] = [];
  if (p.probabilities) {
    p.probabilities.forEach((column, c) => {
      const order = argsortFloat64(column);
      const f = new Uint8Array(n);
      for (let j = 0; j < n; j++) {
        const row = order[j]!;
        f[j] =
          (p.truth[row] === c ? TYPE_TRUTH : 0) |
          (j === 0 || column[order[j - 1]!] !== column[row] ? TYPE_GROUP_END : 0);
      }
      orders.push(order);
      flags.push(f);
    });
  }
  return {
    kind: 'multiclass',
    classes: k,
    truth,
    predicted,
    logLoss: p.probabilities ? rowLogLoss(p) : null,
    orders,
    flags,
  };
}

/** Merges runs of rows with equal score and type (rows are in ascending score order, types grouped in a run). */
function cellsOf(
  type: Uint8Array,
  logLoss: Float64Array,
  scores: Float64Array | null,
): {
  type: Uint8Array;
  size: Float64Array;
  logLoss: Float64Array;
} {
  const n = type.length;
  if (!scores) {
    // Without scores only the (true, predicted) class matters: four cells.
    const size = new Float64Array(4);
    for (let r = 0; r < n; r++) size[type[r]! & 3]!++;
    return { type: Uint8Array.of(0, 1, 2, 3), size, logLoss: new Float64Array(4) };
  }
  const starts: number[] = [];
  for (let r = 0; r < n; r++) {
    const same =
      r > 0 && (type[r]! & 3) === (type[r - 1]! & 3) && scores[r] === scores[r - 1] && !(type[r]! & TYPE_GROUP_END);
    if (!same) starts.push(r);
  }
  const u = starts.length;
  const cells = { type: new Uint8Array(u), size: new Float64Array(u), logLoss: new Float64Array(u) };
  for (let c = 0; c < u; c++) {
    const r = starts[c]!;
    cells.type[c] = type[r]!;
    cells.size[c] = (c + 1 < u ? starts[c + 1]! : n) - r;
    cells.logLoss[c] = logLoss[r]!;
  }
  return cells;
}

/** Use the cells when drawing over them (a binomial each, ~100 ns) is cheaper than n row draws (~5 ns each). */
const CELL_COST_RATIO = 30;

/** Draws resample b's counts into `counts` (n draws of a uniform row, so an exact multinomial(n, 1/n)). */
function drawCounts(counts: Uint8Array, seed: number, b: number): void {
  const n = counts.length;
  counts.fill(0);
  // RandomStream's mulberry32, inlined: this loop is most of a resample's time.
  let state = new RandomStream(seed, b).nextUint32() | 0;
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const row = Math.floor((((t ^ (t >>> 14)) >>> 0) * n) / 4294967296);
    // A row drawn 256 times of n is beyond any real chance (Poisson(1) tail), but stay exact: refuse it.
    if (++counts[row]! === 0) throw new AppError('INTERNAL', 'a bootstrap resample drew one row over 255 times');
  }
}

/** One ranking walk (descending) with weights `counts[order[j]]`: ROC AUC and AP, NaN where undefined. */
function rankingOf(flags: Uint8Array, order: Int32Array, counts: Uint8Array): [number, number] {
  let wp = 0;
  let wn = 0;
  let tp = 0;
  let fp = 0;
  let auc = 0;
  let ap = 0;
  for (let j = flags.length - 1; j >= 0; j--) {
    const w = counts[order[j]!]!;
    const t = flags[j]!;
    if (t & TYPE_TRUTH) wp += w;
    else wn += w;
    if (t & TYPE_GROUP_END) {
      auc += wn * (tp + wp / 2);
      tp += wp;
      fp += wn;
      if (wp > 0) ap += wp * (tp / (tp + fp));
      wp = wn = 0;
    }
  }
  return [tp > 0 && fp > 0 ? auc / (tp * fp) : NaN, tp > 0 ? ap / tp : NaN];
}

interface BinaryPass {
  tn: number;
  fn: number;
  fp: number;
  tp: number;
  rocAuc: number;
  averagePrecision: number;
  /** Σ weight · row log loss. */
  logLoss: number;
}

/** One descending walk over weighted rows (or cells): the confusion counts, ROC AUC, AP and the log-loss sum. */
function binaryPass(type: Uint8Array, logLoss: Float64Array, counts: Uint8Array | Int32Array): BinaryPass {
  let wp = 0;
  let wn = 0;
  let tp = 0;
  let fp = 0;
  let auc = 0;
  let ap = 0;
  let ll = 0;
  // Weighted (true, predicted) counts, branch-free: FN, FP, TP and the total (TN is the rest).
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let total = 0;
  for (let r = type.length - 1; r >= 0; r--) {
    const w = counts[r]!;
    const t = type[r]!;
    const wPos = w * (t & TYPE_TRUTH);
    const both = wPos * ((t >> 1) & 1);
    wp += wPos;
    wn += w - wPos;
    c3 += both;
    c1 += wPos - both;
    c2 += w * ((t >> 1) & 1) - both;
    total += w;
    ll += w * logLoss[r]!;
    if (t & TYPE_GROUP_END) {
      auc += wn * (tp + wp / 2);
      tp += wp;
      fp += wn;
      // tp + fp ≥ 1 once any row has weight; before that wp is 0 too: max() keeps it branch-free.
      ap += (wp * tp) / Math.max(tp + fp, 1);
      wp = wn = 0;
    }
  }
  const c0 = total - c1 - c2 - c3;
  return {
    tn: c0,
    fn: c1,
    fp: c2,
    tp: c3,
    rocAuc: tp > 0 && fp > 0 ? auc / (tp * fp) : NaN,
    averagePrecision: tp > 0 ? ap / tp : NaN,
    logLoss: ll,
  };
}

/** The headline metrics of resamples [from, to) of the stream `seed`. */
export function classificationReplicates(
  state: ClassificationEngineState,
  seed: number,
  from: number,
  to: number,
): Replicates<ClassificationHeadline> {
  const count = to - from;
  const out = Object.fromEntries(
    CLASSIFICATION_HEADLINES.map((m) => [m, new Float64Array(count).fill(NaN)]),
  ) as Replicates<ClassificationHeadline>;
  const n = state.kind === 'binary' ? state.type.length : state.truth.length;
  const counts = new Uint8Array(n);
  const cellCounts = state.kind === 'binary' ? new Int32Array(state.cells.size.length) : null;
  for (let b = from; b < to; b++) {
    const o = b - from;
    if (state.kind === 'binary') {
      const useCells = state.cells.size.length * CELL_COST_RATIO < n;
      let r: BinaryPass;
      if (useCells) {
        multinomialCounts(state.cells.size, n, cellCounts!, new RandomStream(seed, b));
        r = binaryPass(state.cells.type, state.cells.logLoss, cellCounts!);
      } else {
        drawCounts(counts, seed, b);
        r = binaryPass(state.type, state.logLoss, counts);
      }
      out.accuracy[o] = (r.tn + r.tp) / n;
      out.f1[o] = r.tp > 0 ? (2 * r.tp) / (2 * r.tp + r.fp + r.fn) : 0;
      if (state.hasScores) {
        out.rocAuc[o] = r.rocAuc;
        out.prAuc[o] = r.averagePrecision;
        out.logLoss[o] = r.logLoss / n;
      }
    } else {
      drawCounts(counts, seed, b);
      const k = state.classes;
      const cm = new Float64Array(k * k);
      const { truth, predicted, logLoss } = state;
      let ll = 0;
      for (let i = 0; i < n; i++) {
        const w = counts[i]!;
        if (w === 0) continue;
        cm[truth[i]! * k + predicted[i]!]! += w;
        if (logLoss) ll += w * logLoss[i]!;
      }
      const s = scoresFromConfusion(cm, k);
      out.accuracy[o] = s.accuracy;
      out.f1[o] = s.macro.f1;
      if (logLoss) out.logLoss[o] = ll / n;
      if (state.orders.length) {
        let aucSum = 0;
        let aucN = 0;
        let apSum = 0;
        let apN = 0;
        for (let c = 0; c < k; c++) {
          const [auc, ap] = rankingOf(state.flags[c]!, state.orders[c]!, counts);
          if (!Number.isNaN(auc)) {
            aucSum += auc;
            aucN++;
          }
          if (!Number.isNaN(ap)) {
            apSum += ap;
            apN++;
          }
        }
        out.rocAuc[o] = aucN ? aucSum / aucN : NaN;
        out.prAuc[o] = apN ? apSum / apN : NaN;
      }
    }
  }
  return out;
}

/** Percentile intervals (numpy's linear percentiles of the defined replicates). */
export function percentileInterval(
  replicates: Float64Array,
  estimate: number | null,
  confidence: number,
  reason?: string,
): ConfidenceInterval {
  const valid = Float64Array.from(replicates.filter((v) => !Number.isNaN(v))).sort();
  const base = { estimate, confidence, resamples: replicates.length, valid: valid.length };
  if (estimate === null || valid.length === 0) {
    return { ...base, lower: null, upper: null, reason: reason ?? 'the metric is undefined on every resample' };
  }
  const alpha = 1 - confidence;
  return { ...base, lower: quantileSorted(valid, alpha / 2), upper: quantileSorted(valid, 1 - alpha / 2) };
}

function checkBootstrap(options: BootstrapOptions): Required<BootstrapOptions> {
  const resamples = options.resamples ?? 1000;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new AppError('INVALID_ARGUMENT', `resamples must be a positive integer, got ${resamples}`);
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw new AppError('INVALID_ARGUMENT', `confidence must be in (0, 1), got ${confidence}`);
  }
  if (!Number.isInteger(seed)) throw new AppError('INVALID_ARGUMENT', `seed must be an integer, got ${seed}`);
  return { resamples, confidence, seed };
}

/** The point estimates of the headline metrics, with reasons for those undefined. */
export function classificationHeadlines(
  m: ClassificationMetrics,
): Record<ClassificationHeadline, { value: number | null; reason?: string }> {
  return {
    accuracy: { value: m.rows ? m.accuracy : null, ...(m.rows ? {} : { reason: 'no rows' }) },
    f1: { value: m.rows ? (m.positive ? m.positive.f1 : m.macro.f1) : null, ...(m.rows ? {} : { reason: 'no rows' }) },
    rocAuc: m.rocAuc,
    prAuc: m.prAuc,
    logLoss: m.logLoss,
  };
}

/** Runs resample ranges, possibly on other threads: `(state, seed, from, to) => replicates`. */
export type ReplicateRunner = (
  state: ClassificationEngineState,
  seed: number,
  from: number,
  to: number,
) => Promise<Replicates<ClassificationHeadline>>;

/**
 * Bootstrap intervals of accuracy, F1, ROC AUC, PR AUC and log loss. With `parts` > 1 and a `runner`, the
 * resamples are split into that many ranges run concurrently (worker threads); the result is identical.
 */
export async function bootstrapClassification(
  p: PreparedClassification,
  options: BootstrapOptions & { parts?: number; runner?: ReplicateRunner; metrics?: ClassificationMetrics } = {},
): Promise<Record<ClassificationHeadline, ConfidenceInterval>> {
  const { resamples, confidence, seed } = checkBootstrap(options);
  const metrics = options.metrics ?? metricsOfPrepared(p);
  if (p.rows === 0) throw new AppError('INVALID_ARGUMENT', 'bootstrap needs at least one row');
  const state = classificationEngine(p);
  const parts = options.runner ? Math.max(1, Math.min(options.parts ?? 2, resamples)) : 1;
  const run: ReplicateRunner = options.runner ?? (async (s, sd, from, to) => classificationReplicates(s, sd, from, to));
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * resamples) / parts));
  const pieces = await Promise.all(bounds.slice(0, -1).map((from, i) => run(state, seed, from, bounds[i + 1]!)));
  const headlines = classificationHeadlines(metrics);
  return Object.fromEntries(
    CLASSIFICATION_HEADLINES.map((m) => {
      const all = new Float64Array(resamples);
      pieces.forEach((piece, i) => all.set(piece[m], bounds[i]!));
      return [m, percentileInterval(all, headlines[m].value, confidence, headlines[m].reason)];
    }),
  ) as Record<ClassificationHeadline, ConfidenceInterval>;
}

/** The same on this thread, synchronously. */
export function bootstrapClassificationSync(
  p: PreparedClassification,
  options: BootstrapOptions & { metrics?: ClassificationMetrics } = {},
): Record<ClassificationHeadline, ConfidenceInterval> {
  const { resamples, confidence, seed } = checkBootstrap(options);
  if (p.rows === 0) throw new AppError('INVALID_ARGUMENT', 'bootstrap needs at least one row');
  const headlines = classificationHeadlines(options.metrics ?? metricsOfPrepared(p));
  const reps = classificationReplicates(classificationEngine(p), seed, 0, resamples);
  return Object.fromEntries(
    CLASSIFICATION_HEADLINES.map((m) => [
      m,
      percentileInterval(reps[m], headlines[m].value, confidence, headlines[m].reason),
    ]),
  ) as Record<ClassificationHeadline, ConfidenceInterval>;
}

/** Bootstrap intervals of MAE, RMSE and R² (R² of a resample with constant actual values follows sklearn: 1 or 0). */
export function bootstrapRegression(
  p: PreparedRegression,
  options: BootstrapOptions = {},
): Record<RegressionHeadline, ConfidenceInterval> {
  const { resamples, confidence, seed } = checkBootstrap(options);
  const n = p.rows;
  if (n === 0) throw new AppError('INVALID_ARGUMENT', 'bootstrap needs at least one row');
  const point = regressionOfPrepared(p);
  const reps = { mae: new Float64Array(resamples), rmse: new Float64Array(resamples), r2: new Float64Array(resamples) };
  const counts = new Uint8Array(n);
  const { actual, predicted } = p;
  for (let b = 0; b < resamples; b++) {
    drawCounts(counts, seed, b);
    let abs = 0;
    let sq = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      const w = counts[i]!;
      if (w === 0) continue;
      const r = actual[i]! - predicted[i]!;
      abs += w * Math.abs(r);
      sq += w * r * r;
      sy += w * actual[i]!;
    }
    const mean = sy / n;
    let ssTot = 0;
    for (let i = 0; i < n; i++) {
      const w = counts[i]!;
      if (w !== 0) ssTot += w * (actual[i]! - mean) ** 2;
    }
    reps.mae[b] = abs / n;
    reps.rmse[b] = Math.sqrt(sq / n);
    reps.r2[b] = ssTot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / ssTot;
  }
  return {
    mae: percentileInterval(reps.mae, point.mae, confidence),
    rmse: percentileInterval(reps.rmse, point.rmse, confidence),
    r2: percentileInterval(reps.r2, point.r2, confidence),
  };
}
