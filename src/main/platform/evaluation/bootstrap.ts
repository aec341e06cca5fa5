import { AppError } from '#shared/errors';
import {
  metricsOfPrepared,
  rowLogLoss,
  scoresFromConfusion,
  type ClassificationMetrics,
  type PreparedClassification,
} from './classification.ts';
import { poissonStreams } from './poisson.ts';
import { hashedKeys, poissonWalk, poissonWalkClasses } from './poisson-walk.ts';
import { multinomialCounts, RandomStream } from './random.ts';
import { regressionOfPrepared, type PreparedRegression } from './regression.ts';
import { argsortFloat64, quantileSorted } from './stats-util.ts';

/**
 * Percentile bootstrap confidence intervals for the headline metrics. Resample b is drawn from the stream
 * (seed, b) alone, so it is the same whichever thread computes it. The rows are sorted by score once; a resample
 * then costs one linear walk per ranking, never a sort. Resamples are exact multinomial draws of n rows (over
 * cells of indistinguishable rows when scores repeat), except for binary classification with distinct scores on
 * POISSON_MIN_ROWS rows or more, where each row gets a Poisson(1) weight (./poisson.ts) so that all the resamples
 * of a range walk the rows together through the cache. A metric undefined on a resample (ROC AUC of a resample
 * with one class) is left out of that metric's interval, and `valid` says how many resamples it had.
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

/**
 * How a binary resample is drawn. 'cells': multinomial counts over runs of rows no metric can tell apart (few
 * when scores repeat); 'rows': n uniform row draws (exact multinomial) for distinct scores on few rows; 'poisson':
 * independent Poisson(1) row weights for distinct scores on many rows, walked in cache-sized pieces shared by all
 * the resamples of a range (see ./poisson.ts).
 */
export type BinaryResampling = 'cells' | 'rows' | 'poisson';

/** Everything a resample needs, as typed arrays: what a worker thread receives. */
export type ClassificationEngineState =
  | {
      kind: 'binary';
      hasScores: boolean;
      rows: number;
      resampling: BinaryResampling;
      /**
       * Per unit (row, or cell of rows with the same score and (true, predicted) class) in ascending score order:
       * type flags and log loss. Row layouts live in SharedArrayBuffers, so worker threads share them uncopied.
       */
      type: Uint8Array;
      logLoss: Float64Array;
      /** 'cells': rows per cell. */
      cellSizes: Float64Array | null;
      /** 'poisson': rows per (true, predicted) class, index true + 2 · predicted; accuracy and F1 resample these. */
      confusion: Float64Array | null;
    }
  | {
      kind: 'multiclass';
      classes: number;
      /**
       * 'cells': without probabilities, a multinomial over the k × k (true, predicted) cells (exact, any size);
       * 'rows': n uniform row draws; 'poisson': from POISSON_MIN_ROWS rows with probabilities, Poisson(1) row
       * weights hashed from (resample, row), so that every class's ranking sees the same resample.
       */
      resampling: 'cells' | 'rows' | 'poisson';
      truth: Uint8Array | Int32Array;
      predicted: Uint8Array | Int32Array;
      logLoss: Float64Array | null;
      /** Per class: rows in ascending order of that class's probability, and their type flags. */
      orders: Int32Array[];
      flags: Uint8Array[];
      /** Rows per (true, predicted) cell, index true · k + predicted. */
      confusion: Float64Array;
    };

/** Use the cells when drawing over them (a binomial each, ~100 ns) is cheaper than n row draws (~5 ns each). */
const CELL_COST_RATIO = 30;
/**
 * From this many rows, distinct scores are resampled with Poisson(1) weights: the total weight's relative spread
 * (1/√n) is then 1 % or less, and the two schemes' intervals differ by far less than their Monte Carlo error.
 */
export const POISSON_MIN_ROWS = 10_000;

/** Builds the sorted layout once. Binary rows are laid out in ascending score order (ties by true then predicted class). */
export function classificationEngine(p: PreparedClassification): ClassificationEngineState {
  const n = p.rows;
  if (p.classes.length === 2) {
    const type = new Uint8Array(n);
    if (!p.positive) {
      // Without scores only the (true, predicted) class matters: four cells, each its own group (so the walk
      // totals the positives; the ranking sums it also makes are not reported).
      const cellSizes = new Float64Array(4);
      for (let i = 0; i < n; i++) cellSizes[p.truth[i]! | (p.predicted[i]! << 1)]!++;
      const type = Uint8Array.from([0, 1, 2, 3], (t) => t | TYPE_GROUP_END);
      const cells = { type, logLoss: new Float64Array(4), cellSizes };
      return { kind: 'binary', hasScores: false, rows: n, resampling: 'cells', ...cells, confusion: null };
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
    const logLoss = rowLogLoss({
      ...p,
      rows: n,
      positive: scores,
      truth: Int32Array.from(type, (t) => t & TYPE_TRUTH),
    });
    const starts = cellStarts(type, scores);
    if (starts.length * CELL_COST_RATIO < n) {
      const cellSizes = new Float64Array(starts.length);
      const cells = { type: new Uint8Array(starts.length), logLoss: new Float64Array(starts.length), cellSizes };
      starts.forEach((r, c) => {
        cells.type[c] = type[r]!;
        cells.cellSizes[c] = (c + 1 < starts.length ? starts[c + 1]! : n) - r;
        cells.logLoss[c] = logLoss[r]!;
      });
      return { kind: 'binary', hasScores: true, rows: n, resampling: 'cells', ...cells, confusion: null };
    }
    const shared = {
      type: new Uint8Array(new SharedArrayBuffer(n)),
      logLoss: new Float64Array(new SharedArrayBuffer(n * 8)),
    };
    shared.type.set(type);
    shared.logLoss.set(logLoss);
    if (n < POISSON_MIN_ROWS) {
      return {
        kind: 'binary',
        hasScores: true,
        rows: n,
        resampling: 'rows',
        ...shared,
        cellSizes: null,
        confusion: null,
      };
    }
    const confusion = Float64Array.from(sizes);
    return { kind: 'binary', hasScores: true, rows: n, resampling: 'poisson', ...shared, cellSizes: null, confusion };
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
  const confusion = new Float64Array(k * k);
  for (let i = 0; i < n; i++) confusion[p.truth[i]! * k + p.predicted[i]!]!++;
  const resampling = !p.probabilities ? 'cells' : n < POISSON_MIN_ROWS ? 'rows' : 'poisson';
  return {
    kind: 'multiclass',
    classes: k,
    resampling,
    truth,
    predicted,
    logLoss: p.probabilities ? rowLogLoss(p) : null,
    orders,
    flags,
    confusion,
  };
}

/** The first row of each run of rows with equal score and type (rows in ascending score order, types grouped in a run). */
function cellStarts(type: Uint8Array, scores: Float64Array): Int32Array {
  const starts = new Int32Array(type.length);
  let count = 0;
  for (let r = 0; r < type.length; r++) {
    const same =
      r > 0 && (type[r]! & 3) === (type[r - 1]! & 3) && scores[r] === scores[r - 1] && !(type[r]! & TYPE_GROUP_END);
    if (!same) starts[count++] = r;
  }
  return starts.subarray(0, count);
}

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

/**
 * The running sums of a weighted descending walk over binary units, ACC numbers per resample: the weights of
 * the open tie group (positive, negative), the cumulative positive and negative weight (the class totals once
 * the walk ends, as its last unit closes a group), the ROC AUC and AP numerators, Σ w · log loss, and the weights
 * of predicted-positive and true-and-predicted-positive units. A walk split into pieces carries them over.
 */
const ACC = 9;

/** Walks units [lo, hi) downwards with weights `weights[r - lo]`, adding to acc[at, at + ACC). */
function accumulate(
  type: Uint8Array,
  logLoss: Float64Array,
  weights: Uint8Array | Int32Array,
  lo: number,
  hi: number,
  acc: Float64Array,
  at: number,
): void {
  let wp = acc[at]!;
  let wn = acc[at + 1]!;
  let tp = acc[at + 2]!;
  let fp = acc[at + 3]!;
  let auc = acc[at + 4]!;
  let ap = acc[at + 5]!;
  let ll = acc[at + 6]!;
  let predicted = acc[at + 7]!;
  let both = acc[at + 8]!;
  for (let r = hi - 1; r >= lo; r--) {
    const w = weights[r - lo]!;
    const t = type[r]!;
    // Branch-free: the class bits are as good as random along the walk.
    const wPos = w * (t & TYPE_TRUTH);
    const pred = (t & TYPE_PRED) >> 1;
    wp += wPos;
    wn += w - wPos;
    predicted += w * pred;
    both += wPos * pred;
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
  acc[at] = wp;
  acc[at + 1] = wn;
  acc[at + 2] = tp;
  acc[at + 3] = fp;
  acc[at + 4] = auc;
  acc[at + 5] = ap;
  acc[at + 6] = ll;
  acc[at + 7] = predicted;
  acc[at + 8] = both;
}

/** Accuracy and the positive class's F1 of weighted confusion counts. */
function confusionHeadlines(
  out: Replicates<ClassificationHeadline>,
  o: number,
  tn: number,
  fn: number,
  fp: number,
  tp: number,
): void {
  out.accuracy[o] = (tn + tp) / (tn + fn + fp + tp);
  out.f1[o] = tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

/** The ranking metrics and log loss of a finished walk, as fractions of its total weight (n, when multinomial). */
function rankingHeadlines(
  out: Replicates<ClassificationHeadline>,
  o: number,
  tp: number,
  fp: number,
  auc: number,
  ap: number,
  ll: number,
): void {
  out.rocAuc[o] = tp > 0 && fp > 0 ? auc / (tp * fp) : NaN;
  out.prAuc[o] = tp > 0 ? ap / tp : NaN;
  out.logLoss[o] = ll / (tp + fp);
}

/**
 * Resamples [from, to) with Poisson(1) row weights (./poisson.ts), walked by ./poisson-walk.ts. Accuracy and F1
 * depend on the rows only through the four (true, predicted) class counts, so their replicates are exact
 * multinomial draws over those four cells, from the same streams (before the walk's rare extra draws).
 */
function poissonReplicates(
  state: Extract<ClassificationEngineState, { kind: 'binary' }>,
  seed: number,
  from: number,
  to: number,
  out: Replicates<ClassificationHeadline>,
): void {
  const streams = poissonStreams(seed, from, to);
  const cells = new Int32Array(4);
  for (let o = 0; o < to - from; o++) {
    multinomialCounts(state.confusion!, state.rows, cells, streams.streams[o]!);
    confusionHeadlines(out, o, cells[0]!, cells[1]!, cells[2]!, cells[3]!);
  }
  const sums = poissonWalk(state.type, state.logLoss, streams);
  for (let o = 0; o < to - from; o++) {
    rankingHeadlines(out, o, sums.tp[o]!, sums.fp[o]!, sums.auc[o]!, sums.ap[o]!, sums.logLoss[o]!);
  }
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
  if (state.kind === 'binary') {
    if (state.resampling === 'poisson') {
      poissonReplicates(state, seed, from, to, out);
      return out;
    }
    const acc = new Float64Array(ACC);
    const counts = state.cellSizes ? new Int32Array(state.cellSizes.length) : new Uint8Array(state.rows);
    for (let b = from; b < to; b++) {
      if (counts instanceof Int32Array)
        multinomialCounts(state.cellSizes!, state.rows, counts, new RandomStream(seed, b));
      else drawCounts(counts, seed, b);
      acc.fill(0);
      accumulate(state.type, state.logLoss, counts, 0, counts.length, acc, 0);
      const [, , tp, fp, auc, ap, ll, predicted, both] = acc;
      confusionHeadlines(out, b - from, fp! - (predicted! - both!), tp! - both!, predicted! - both!, both!);
      if (state.hasScores) rankingHeadlines(out, b - from, tp!, fp!, auc!, ap!, ll!);
    }
    return out;
  }
  if (state.resampling !== 'rows') {
    multiclassCellReplicates(state, seed, from, to, out);
    return out;
  }
  const n = state.truth.length;
  const counts = new Uint8Array(n);
  for (let b = from; b < to; b++) {
    const o = b - from;
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
  return out;
}

/**
 * Multiclass resamples [from, to) without a row draw: accuracy and macro F1 from an exact multinomial over the
 * k × k (true, predicted) cells; with probabilities ('poisson'), the one-vs-rest ROC AUC and AP of every class and
 * log loss from one set of Poisson(1) row weights per resample (./poisson-walk.ts), macro-averaged over the classes
 * on which they are defined.
 */
function multiclassCellReplicates(
  state: Extract<ClassificationEngineState, { kind: 'multiclass' }>,
  seed: number,
  from: number,
  to: number,
  out: Replicates<ClassificationHeadline>,
): void {
  const k = state.classes;
  const n = state.truth.length;
  const keys = new Uint32Array((to - from) * 2);
  const cells = new Int32Array(k * k);
  for (let b = from; b < to; b++) {
    const o = b - from;
    const stream = new RandomStream(seed, b);
    [keys[o * 2], keys[o * 2 + 1]] = hashedKeys(stream);
    multinomialCounts(state.confusion, n, cells, stream);
    const s = scoresFromConfusion(cells, k);
    out.accuracy[o] = s.accuracy;
    out.f1[o] = s.macro.f1;
  }
  if (state.resampling !== 'poisson') return;
  const perClass = poissonWalkClasses({ orders: state.orders, flags: state.flags, logLoss: state.logLoss! }, keys);
  for (let o = 0; o < to - from; o++) {
    let [aucSum, aucN, apSum, apN] = [0, 0, 0, 0];
    for (const sums of perClass) {
      const tp = sums.tp[o]!;
      const fp = sums.fp[o]!;
      if (tp > 0 && fp > 0) {
        aucSum += sums.auc[o]! / (tp * fp);
        aucN++;
      }
      if (tp > 0) {
        apSum += sums.ap[o]! / tp;
        apN++;
      }
    }
    out.rocAuc[o] = aucN ? aucSum / aucN : NaN;
    out.prAuc[o] = apN ? apSum / apN : NaN;
    out.logLoss[o] = perClass[0]!.logLoss[o]! / (perClass[0]!.tp[o]! + perClass[0]!.fp[o]!);
  }
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
