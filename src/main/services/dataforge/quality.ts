import type { ColumnType, QualityFinding } from '#shared/contracts/dataforge';
import { TableProfiler, seededRandom } from './profile';
import type { Row, TableVisitor } from './tables';

type Severity = QualityFinding['severity'];
type Check = QualityFinding['check'];

/**
 * Rows held in memory for the checks that need whole rows (outliers, label issues): about 100,000 rows of
 * 20 short columns is some tens of MB. Beyond it they are a uniform reservoir sample, and those findings say so.
 */
export const KEPT_ROWS_CAP = 100_000;
/**
 * Row fingerprints remembered for the duplicate checks (a Set of 1,000,000 numbers is roughly 40 MB). Rows past
 * the cap are still compared with the ones remembered, so only copies that both come after it can be missed.
 */
const FINGERPRINT_CAP = 1_000_000;
const LINES_KEPT = 100;
/** A target with more classes than this is not treated as a classification label. */
const MAX_CLASSES = 100;
/** Values counted per candidate target column; more distinct values than this rule the column out anyway. */
const CLASS_COUNT_CAP = 1_000;
const TARGET_NAMES = ['label', 'target', 'class', 'species', 'y', 'diagnosis', 'digit', 'cultivar'];
/** The last column is guessed to be the label only when it has at most this many values. */
const GUESSED_LAST_COLUMN_MAX_CLASSES = 20;
const ONE_HOT_MAX_VALUES = 30;
const FOLDS = 5;
/** Below this many labelled rows a cross-validated model says nothing worth reporting. */
const LABEL_MODEL_MIN_ROWS = 20;
/** Classes listed in the imbalance message. */
const CLASSES_LISTED = 20;
const SEVERITY_WEIGHT: Record<Severity, number> = { info: 1, warning: 5, error: 15 };

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
/** An address is at most 64 characters before the `@` and 255 after it (RFC 5321). */
const EMAIL_LOCAL_MAX = 64;
const EMAIL_DOMAIN_MAX = 255;
/** `@` signs looked at per value: a long text is scanned near a few of them, never as a whole. */
const EMAIL_AT_SIGNS_TRIED = 10;
const E164 = /^\+[1-9]\d{8,14}$/;
/** Optional country code, optional bracketed area code, then groups of 2-5 digits split by space, dot or dash. */
const NATIONAL_PHONE = /^(\+\d{1,3}[ .-]?)?(\(\d{1,5}\)[ .-]?)?\d{2,5}([ .-]?\d{2,5}){1,4}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const CARD = /^\d[\d -]{11,24}\d$/;
/** What a phone or card number is written with; anything else rules both out at once. */
const PHONE_OR_CARD_CHARACTERS = /^[\d\s().+-]+$/;

function isMissing(value: string | null | undefined): value is null | undefined {
  return value === null || value === undefined || value.trim() === '';
}

/** A 53-bit hash of a string (two 32-bit FNV-1a variants): collisions among a million rows are ~1 in 20,000. */
function fingerprint(text: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (h1 >>> 0) * 2 ** 21 + ((h2 >>> 0) >>> 11);
}

/** A value as compared for near duplicates: trimmed, lower case, numbers to 6 significant digits. */
function normalised(value: string | null): string {
  if (isMissing(value)) return '\u0000';
  const text = value.trim();
  // toPrecision spells equal rounded numbers alike ("1", "1.0" and "1.0000001" all give "1.00000").
  if (NUMBER.test(text)) return Number(text).toPrecision(6);
  return text.toLowerCase();
}

function digitsOf(text: string): string {
  return text.replace(/\D/g, '');
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function isCardNumber(value: string): boolean {
  if (!CARD.test(value)) return false;
  const digits = digitsOf(value);
  return digits.length >= 13 && digits.length <= 19 && !/^0+$/.test(digits) && luhnValid(digits);
}

/**
 * Whether a value holds an e-mail address anywhere. The pattern runs only on a window around each `@`, so a
 * long text cannot make the regular expression backtrack over all of it.
 */
export function containsEmail(value: string): boolean {
  let at = value.indexOf('@');
  for (let tried = 0; at >= 0 && tried < EMAIL_AT_SIGNS_TRIED; tried++) {
    if (EMAIL.test(value.slice(Math.max(0, at - EMAIL_LOCAL_MAX), at + 1 + EMAIL_DOMAIN_MAX))) return true;
    at = value.indexOf('@', at + 1);
  }
  return false;
}

export function isPhoneNumber(value: string): boolean {
  if (E164.test(value)) return true;
  if (!NATIONAL_PHONE.test(value) || IPV4.test(value)) return false;
  const digits = digitsOf(value).length;
  return digits >= 9 && digits <= 15;
}

/** A count with the first lines it happened on. */
class Tally {
  count = 0;
  readonly lines: number[] = [];

  add(line: number): void {
    this.count++;
    if (this.lines.length < LINES_KEPT) this.lines.push(line);
  }
}

/** PII matches in one column; which of them are reported depends on the column's type, known at the end. */
class PiiTally {
  readonly email = new Tally();
  readonly phone = new Tally();
  readonly card = new Tally();
  /** Phones written `+` and digits only, which a number column can hold too. */
  readonly e164 = new Tally();
}

function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** info below `infoBelow`, warning below `warningBelow`, error from there. */
function severityByShare(share: number, infoBelow: number, warningBelow: number): Severity {
  if (share < infoBelow) return 'info';
  return share < warningBelow ? 'warning' : 'error';
}

function percent(share: number): string {
  const p = share * 100;
  return `${p < 1 && p > 0 ? p.toPrecision(2) : Math.round(p)}%`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Features for the label model, row-major `n` × `d`. */
interface FeatureMatrix {
  x: Float64Array;
  n: number;
  d: number;
}

/**
 * The label model's features for the `selected` kept rows: numeric columns standardised (a missing value
 * becomes the mean, i.e. 0), columns of 2-30 distinct values one-hot (missing: all zeros), others left out.
 */
function buildFeatures(
  kept: KeptRow[],
  selected: Int32Array,
  columns: number[],
  types: ColumnType[],
  numbersOf: (column: number) => Float64Array,
): FeatureMatrix {
  const n = selected.length;
  const encoders: ((row: number, out: Float64Array, at: number) => void)[] = [];
  let d = 0;
  for (const c of columns) {
    const type = types[c];
    if (type === 'integer' || type === 'number') {
      const numbers = numbersOf(c);
      let sum = 0;
      let sumSq = 0;
      let present = 0;
      for (const r of selected) {
        const v = numbers[r]!;
        if (Number.isNaN(v)) continue;
        sum += v;
        sumSq += v * v;
        present++;
      }
      const mean = sum / present;
      const std = Math.sqrt(Math.max(0, sumSq / present - mean * mean));
      if (!(std > 0)) continue;
      const offset = d++;
      encoders.push((r, out, at) => {
        const v = numbers[r]!;
        out[at + offset] = Number.isNaN(v) ? 0 : (v - mean) / std;
      });
      continue;
    }
    const slots = new Map<string, number>();
    let tooMany = false;
    for (const r of selected) {
      const v = kept[r]!.values[c];
      if (isMissing(v) || slots.has(v)) continue;
      if (slots.size === ONE_HOT_MAX_VALUES) {
        tooMany = true;
        break;
      }
      slots.set(v, slots.size);
    }
    if (tooMany || slots.size < 2) continue;
    const offset = d;
    d += slots.size;
    encoders.push((r, out, at) => {
      const v = kept[r]!.values[c];
      const slot = isMissing(v) ? undefined : slots.get(v);
      if (slot !== undefined) out[at + offset + slot] = 1;
    });
  }
  const x = new Float64Array(n * d);
  selected.forEach((r, i) => {
    for (const encode of encoders) encode(r, x, i * d);
  });
  return { x, n, d };
}

const MODEL_STEPS = 300;
const MODEL_LEARNING_RATE = 0.1;
const MODEL_L2 = 1e-3;
/** Multiply-adds per optimisation step (batch rows × features × classes). */
const MODEL_WORK_PER_STEP = 50_000;

/**
 * Multinomial logistic regression fitted by Adam with an L2 penalty and a cosine-decaying step. Small tables
 * use the full batch at every step; larger ones a shuffled mini-batch sized so that a step costs about the
 * same whatever the table, which keeps the fit to a fixed budget (≈12 passes over 16,000 rows of 20 features).
 * Returns the weights, `classes` rows of `d` feature weights and a bias.
 */
function fitSoftmax(
  features: FeatureMatrix,
  labels: Int32Array,
  classes: number,
  train: Int32Array,
  random: () => number,
): Float64Array {
  const { x, d } = features;
  const width = d + 1;
  const weights = new Float64Array(classes * width);
  const gradient = new Float64Array(weights.length);
  const m1 = new Float64Array(weights.length);
  const m2 = new Float64Array(weights.length);
  const probs = new Float64Array(classes);
  const batchSize = Math.min(train.length, Math.max(64, Math.floor(MODEL_WORK_PER_STEP / (width * classes))));
  const order = Int32Array.from(train);
  let cursor = order.length;
  const beta1 = 0.9;
  const beta2 = 0.999;
  for (let step = 0; step < MODEL_STEPS; step++) {
    gradient.fill(0);
    for (let b = 0; b < batchSize; b++) {
      let r: number;
      if (batchSize === train.length) r = train[b]!;
      else {
        if (cursor === order.length) {
          shuffle(order, random);
          cursor = 0;
        }
        r = order[cursor++]!;
      }
      const at = r * d;
      softmaxInto(weights, x, at, d, classes, probs);
      const label = labels[r]!;
      for (let k = 0; k < classes; k++) {
        const error = probs[k]! - (k === label ? 1 : 0);
        const w = k * width;
        for (let j = 0; j < d; j++) gradient[w + j]! += error * x[at + j]!;
        gradient[w + d]! += error;
      }
    }
    const lr = MODEL_LEARNING_RATE * 0.5 * (1 + Math.cos((Math.PI * step) / MODEL_STEPS));
    const correction1 = 1 - beta1 ** (step + 1);
    const correction2 = 1 - beta2 ** (step + 1);
    for (let i = 0; i < weights.length; i++) {
      const isBias = i % width === d;
      const g = gradient[i]! / batchSize + (isBias ? 0 : MODEL_L2 * weights[i]!);
      m1[i] = beta1 * m1[i]! + (1 - beta1) * g;
      m2[i] = beta2 * m2[i]! + (1 - beta2) * g * g;
      weights[i]! -= (lr * (m1[i]! / correction1)) / (Math.sqrt(m2[i]! / correction2) + 1e-8);
    }
  }
  return weights;
}

function softmaxInto(
  weights: Float64Array,
  x: Float64Array,
  at: number,
  d: number,
  classes: number,
  out: Float64Array,
): void {
  const width = d + 1;
  let max = -Infinity;
  for (let k = 0; k < classes; k++) {
    const w = k * width;
    let z = weights[w + d]!;
    for (let j = 0; j < d; j++) z += weights[w + j]! * x[at + j]!;
    out[k] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    const e = Math.exp(out[k]! - max);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < classes; k++) out[k]! /= sum;
}

function shuffle(items: Int32Array, random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

/** Stratified folds: each class's rows, in random order, dealt round-robin so every fold gets its share. */
function stratifiedFolds(labels: Int32Array, folds: number, random: () => number): Int32Array {
  const order = Int32Array.from(labels.keys());
  shuffle(order, random);
  const fold = new Int32Array(labels.length);
  const dealt = new Map<number, number>();
  for (const r of order) {
    const label = labels[r]!;
    const n = dealt.get(label) ?? 0;
    fold[r] = n % folds;
    dealt.set(label, n + 1);
  }
  return fold;
}

const NEIGHBOURS = 10;
/** Distance terms (rows × references × features) allowed for the whole cross-validation, beyond a floor. */
const NEIGHBOUR_WORK = 150_000_000;
const MIN_REFERENCES = 500;

/**
 * The share of each class among the 10 nearest `references` of row `r` (squared Euclidean distance on the
 * features). Such votes are sharp where a class's rows cluster, which is where a wrong label stands out most.
 */
function neighbourVotesInto(
  features: FeatureMatrix,
  labels: Int32Array,
  references: Int32Array,
  r: number,
  out: Float64Array,
): void {
  const { x, d } = features;
  const k = Math.min(NEIGHBOURS, references.length);
  const bestDistance = new Float64Array(k).fill(Infinity);
  const bestRow = new Int32Array(k);
  const at = r * d;
  for (const s of references) {
    const bt = s * d;
    let distance = 0;
    for (let j = 0; j < d && distance < bestDistance[k - 1]!; j++) {
      const diff = x[at + j]! - x[bt + j]!;
      distance += diff * diff;
    }
    if (distance >= bestDistance[k - 1]!) continue;
    let i = k - 1;
    for (; i > 0 && bestDistance[i - 1]! > distance; i--) {
      bestDistance[i] = bestDistance[i - 1]!;
      bestRow[i] = bestRow[i - 1]!;
    }
    bestDistance[i] = distance;
    bestRow[i] = s;
  }
  out.fill(0);
  for (let i = 0; i < k; i++) out[labels[bestRow[i]!]!]! += 1 / k;
}

/** Up to `size` of `rows`, chosen uniformly (a partial Fisher-Yates shuffle). */
function sampleOf(rows: Int32Array, size: number, random: () => number): Int32Array {
  if (size >= rows.length) return rows;
  const copy = Int32Array.from(rows);
  for (let i = 0; i < size; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    const t = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = t;
  }
  return copy.subarray(0, size);
}

export type LabelModel = 'logistic-regression' | 'logistic-regression+knn';

/** The Brier score: mean squared distance of the probabilities from the one-hot given label (lower is better). */
function brierScore(probs: Float64Array, labels: Int32Array, classes: number): number {
  let sum = 0;
  for (let r = 0; r < labels.length; r++) {
    for (let k = 0; k < classes; k++) sum += (probs[r * classes + k]! - (labels[r] === k ? 1 : 0)) ** 2;
  }
  return sum / labels.length;
}

/**
 * Out-of-fold class probabilities, `n` × `classes`, from `folds`-fold cross-validation of logistic regression
 * (smooth, global), alone or averaged with 10 nearest neighbours (sharp, local), whichever has the lower
 * out-of-fold Brier score (log loss punishes the neighbours' zero votes too hard to choose well). On iris,
 * wine and penguins with labels flipped the average finds as many flips and flags fewer good rows; on wide
 * tables with irrelevant columns the neighbours are noise and regression alone wins. Large tables vote among
 * a uniform sample of each fold's training rows.
 */
function crossValidatedProbabilities(
  features: FeatureMatrix,
  labels: Int32Array,
  classes: number,
  random: () => number,
  folds = FOLDS,
): { probabilities: Float64Array; model: LabelModel } {
  const { n, d, x } = features;
  const fromModel = new Float64Array(n * classes);
  const fromNeighbours = new Float64Array(n * classes);
  const fold = stratifiedFolds(labels, folds, random);
  const referenceCount = Math.max(MIN_REFERENCES, Math.floor(NEIGHBOUR_WORK / (n * Math.max(1, d))));
  for (let f = 0; f < folds; f++) {
    const train = Int32Array.from(fold.keys()).filter((r) => fold[r] !== f);
    if (train.length === 0) continue;
    const weights = fitSoftmax(features, labels, classes, train, random);
    const references = sampleOf(train, referenceCount, random);
    for (let r = 0; r < n; r++) {
      if (fold[r] !== f) continue;
      softmaxInto(weights, x, r * d, d, classes, fromModel.subarray(r * classes, (r + 1) * classes));
      neighbourVotesInto(features, labels, references, r, fromNeighbours.subarray(r * classes, (r + 1) * classes));
    }
  }
  const averaged = fromModel.map((p, i) => (p + fromNeighbours[i]!) / 2);
  return brierScore(averaged, labels, classes) < brierScore(fromModel, labels, classes)
    ? { probabilities: averaged, model: 'logistic-regression+knn' }
    : { probabilities: fromModel, model: 'logistic-regression' };
}

/** How the label model did: its cross-validated accuracy next to always guessing the largest class. */
export interface LabelModelSummary {
  model: LabelModel;
  rows: number;
  features: number;
  classes: number;
  accuracy: number;
  majorityShare: number;
  /** False when the model was too weak to judge labels by (then no label issues are reported). */
  used: boolean;
}

export interface QualityCheckerOptions {
  /** The label column; guessed when absent. */
  target?: string | undefined;
  /** The columns of the parent version's table, to report schema drift. */
  parentColumns?: { name: string; type: ColumnType }[] | undefined;
  /** For the reservoir sample and the folds; seeded by default, so the same table gives the same findings. */
  random?: () => number;
  /** Rows kept for outliers and label issues; `KEPT_ROWS_CAP` unless a test wants sampling on a small table. */
  maxKeptRows?: number;
}

export interface QualityResult {
  rows: number;
  /** 0-100; see `score`. */
  score: number;
  findings: QualityFinding[];
  /** The label column checked for class imbalance and label issues, if any. */
  target: string | null;
  labelModel: LabelModelSummary | null;
}

interface KeptRow {
  values: Row;
  line: number;
}

/**
 * A visitor that checks a table's data quality while `readTable` streams it once: missing values, exact and
 * near duplicate rows, constant columns, outliers, class imbalance and label issues of the target column,
 * schema drift from the parent version, and personal data (e-mail addresses, phone and card numbers).
 */
export class QualityChecker implements TableVisitor {
  private names: string[] = [];
  private rows = 0;
  private readonly profiler: TableProfiler;
  private readonly random: () => number;
  private readonly maxKeptRows: number;
  private missing: Tally[] = [];
  private pii: PiiTally[] = [];
  private readonly kept: KeptRow[] = [];
  private readonly exactSeen = new Set<number>();
  private readonly normalisedSeen = new Set<number>();
  private readonly duplicates = new Tally();
  private readonly nearDuplicates = new Tally();
  /** Value counts of the columns that could be the target (null once a column has too many values). */
  private classCounts = new Map<number, Map<string, number> | null>();

  constructor(
    private readonly path: string,
    private readonly options: QualityCheckerOptions = {},
  ) {
    this.random = options.random ?? seededRandom();
    this.maxKeptRows = options.maxKeptRows ?? KEPT_ROWS_CAP;
    // Types are inferred exactly as the profile does, so schema drift compares like with like.
    this.profiler = new TableProfiler(path, 'csv');
  }

  columns(names: string[]): void {
    this.names = names;
    this.profiler.columns(names);
    this.missing = names.map(() => new Tally());
    this.pii = names.map(() => new PiiTally());
    const candidates = this.options.target
      ? [names.indexOf(this.options.target)]
      : [...names.keys()].filter((i) => TARGET_NAMES.includes(names[i]!.toLowerCase()) || i === names.length - 1);
    this.classCounts = new Map(candidates.filter((i) => i >= 0).map((i) => [i, new Map()]));
  }

  row(values: Row, line: number): void {
    this.rows++;
    this.profiler.row(values);
    let exactKey = '';
    let normalisedKey = '';
    for (let c = 0; c < this.names.length; c++) {
      const value = values[c] ?? null;
      exactKey += (value ?? '\u0000') + '\u0001';
      normalisedKey += normalised(value) + '\u0001';
      if (isMissing(value)) {
        this.missing[c]!.add(line);
        continue;
      }
      this.scanForPii(value, this.pii[c]!, line);
      const counts = this.classCounts.get(c);
      if (counts) {
        counts.set(value, (counts.get(value) ?? 0) + 1);
        if (counts.size > CLASS_COUNT_CAP) this.classCounts.set(c, null);
      }
    }
    this.checkDuplicate(exactKey, normalisedKey, line);
    this.keep(values, line);
  }

  bad(line: number, reason: string): void {
    this.profiler.bad(line, reason);
  }

  private scanForPii(value: string, tally: PiiTally, line: number): void {
    if (containsEmail(value)) tally.email.add(line);
    // Cheap first: phone and card numbers are mostly digits and no longer than 30 characters.
    if (value.length < 9 || value.length > 30 || !PHONE_OR_CARD_CHARACTERS.test(value)) return;
    const text = value.trim();
    if (isCardNumber(text)) tally.card.add(line);
    else if (isPhoneNumber(text)) {
      tally.phone.add(line);
      if (E164.test(text)) tally.e164.add(line);
    }
  }

  private checkDuplicate(exactKey: string, normalisedKey: string, line: number): void {
    const exact = fingerprint(exactKey);
    const near = fingerprint(normalisedKey);
    if (this.exactSeen.has(exact)) this.duplicates.add(line);
    else if (this.normalisedSeen.has(near)) this.nearDuplicates.add(line);
    if (this.exactSeen.size < FINGERPRINT_CAP) this.exactSeen.add(exact);
    if (this.normalisedSeen.size < FINGERPRINT_CAP) this.normalisedSeen.add(near);
  }

  /** Reservoir sampling (Algorithm R): every row seen so far is kept with the same probability. */
  private keep(values: Row, line: number): void {
    if (this.kept.length < this.maxKeptRows) {
      this.kept.push({ values, line });
      return;
    }
    const j = Math.floor(this.random() * this.rows);
    if (j < this.maxKeptRows) this.kept[j] = { values, line };
  }

  /** The findings, once the table has been read (call it once: it runs the label model). */
  result(): QualityResult {
    const profile = this.profiler.result();
    const types = profile.columns.map((c) => c.type);
    const findings: QualityFinding[] = [];
    const add: AddFinding = (check, severity, column, message, count, lines) =>
      findings.push({ check, severity, table: this.path, column, message, count, lines: lines.slice(0, LINES_KEPT) });
    const rows = this.rows;
    const sampleNote = rows > this.kept.length ? ` (in a uniform sample of ${this.kept.length} of ${rows} rows)` : '';
    const numbers = new Map<number, Float64Array>();
    const numbersOf = (c: number): Float64Array => {
      let column = numbers.get(c);
      if (!column) {
        column = Float64Array.from(this.kept, (r) => (isMissing(r.values[c]) ? NaN : Number(r.values[c])));
        numbers.set(c, column);
      }
      return column;
    };

    this.missing.forEach((tally, c) => {
      if (tally.count === 0) return;
      const share = tally.count / rows;
      const message = `${plural(tally.count, 'missing value')} (${percent(share)} of rows)`;
      add('missing', severityByShare(share, 0.05, 0.3), this.names[c]!, message, tally.count, tally.lines);
    });

    if (this.duplicates.count > 0) {
      const { count, lines } = this.duplicates;
      const share = count / rows;
      const message = `${plural(count, 'row')} repeating an earlier row exactly (${percent(share)} of rows)`;
      add('duplicates', severityByShare(share, 0, 0.3), null, message, count, lines);
    }
    if (this.nearDuplicates.count > 0) {
      const { count, lines } = this.nearDuplicates;
      const message = `${plural(count, 'row')} equal to an earlier row once case, spaces and number precision are ignored`;
      add('near_duplicates', severityByShare(count / rows, 0.05, Infinity), null, message, count, lines);
    }

    // In a one-row table every column is "constant": nothing to learn from that.
    if (rows >= 2) {
      for (const column of profile.columns) {
        const present = column.count - column.missing;
        if (present === 0) add('constant', 'info', column.name, 'every value is missing', rows, []);
        else if (column.distinct === 1 && !column.distinctCapped) {
          const value = JSON.stringify(column.top[0]?.value ?? '');
          const message = `every value is ${value}${column.missing > 0 ? ' (or missing)' : ''}`;
          add('constant', 'warning', column.name, message, present, []);
        }
      }
    }

    const target = this.chooseTarget(types);
    for (let c = 0; c < this.names.length; c++) {
      const numeric = types[c] === 'integer' || types[c] === 'number';
      if (numeric && c !== target?.column) this.checkOutliers(c, numbersOf(c), add, sampleNote);
    }

    let labelModel: LabelModelSummary | null = null;
    if (target) {
      this.checkClassBalance(target, add);
      labelModel = this.checkLabels(target.column, types, numbersOf, add, sampleNote);
    }

    if (this.options.parentColumns) this.checkSchemaDrift(this.options.parentColumns, types, add);

    this.pii.forEach((tally, c) => this.reportPii(c, types[c]!, tally, add));

    const targetName = target ? this.names[target.column]! : null;
    return { rows, score: score(findings, rows), findings, target: targetName, labelModel };
  }

  /** The given target, else a column with a label-like name, else the last column when it has few values. */
  private chooseTarget(types: ColumnType[]): { column: number; counts: Map<string, number> } | null {
    const usable = (c: number, maxClasses: number) => {
      const counts = this.classCounts.get(c);
      return counts && counts.size >= 2 && counts.size <= maxClasses ? { column: c, counts } : null;
    };
    if (this.options.target) return usable(this.names.indexOf(this.options.target), MAX_CLASSES);
    for (const name of TARGET_NAMES) {
      const c = this.names.findIndex((n) => n.toLowerCase() === name);
      // A column of fractions is a regression target, not classes.
      const found = c >= 0 && types[c] !== 'number' ? usable(c, MAX_CLASSES) : null;
      if (found) return found;
    }
    const last = this.names.length - 1;
    const found = last >= 0 ? usable(last, GUESSED_LAST_COLUMN_MAX_CLASSES) : null;
    // A few values in a tiny table are no sign of a label: ask for five rows a class on average.
    return found && found.counts.size * 5 <= this.rows ? found : null;
  }

  /** Tukey's far-out fences: below Q1 − 3·IQR or above Q3 + 3·IQR, quartiles from the kept rows. */
  private checkOutliers(c: number, numbers: Float64Array, add: AddFinding, sampleNote: string): void {
    const sorted = numbers.filter((v) => !Number.isNaN(v)).sort();
    if (sorted.length < 4) return;
    const q1 = quantile(sorted, 0.25);
    const q3 = quantile(sorted, 0.75);
    const iqr = q3 - q1;
    // With IQR 0 (a column mostly one value) every other value would fall outside: no useful fence.
    if (!(iqr > 0)) return;
    const low = q1 - 3 * iqr;
    const high = q3 + 3 * iqr;
    const lines: number[] = [];
    numbers.forEach((v, r) => {
      if (v < low || v > high) lines.push(this.kept[r]!.line);
    });
    if (lines.length === 0) return;
    lines.sort((a, b) => a - b);
    const share = lines.length / sorted.length;
    const fences = `[${round(low)}, ${round(high)}]`;
    const message = `${plural(lines.length, 'value')} outside ${fences}, 3 × IQR beyond the quartiles${sampleNote}`;
    add('outliers', severityByShare(share, 0.01, Infinity), this.names[c]!, message, lines.length, lines);
  }

  private checkClassBalance(target: { column: number; counts: Map<string, number> }, add: AddFinding): void {
    const classes = [...target.counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const [largestName, largest] = classes[0]!;
    const [smallestName, smallest] = classes.at(-1)!;
    if (smallest * 5 >= largest && smallest >= 5) return;
    const listed = classes
      .slice(0, CLASSES_LISTED)
      .map(([name, n]) => `${name}: ${n}`)
      .join(', ');
    const more = classes.length > CLASSES_LISTED ? `, and ${classes.length - CLASSES_LISTED} more` : '';
    const message = `smallest class "${smallestName}" has ${plural(smallest, 'row')}, largest "${largestName}" ${largest} (${listed}${more})`;
    add('class_imbalance', 'warning', this.names[target.column]!, message, smallest, []);
  }

  /**
   * Confident learning (cleanlab): out-of-fold probabilities from cross-validated models; class j's threshold
   * t_j is the mean probability of j over rows labelled j; a row labelled i is an issue when another class j
   * has p_j ≥ t_j and p_j > p_i. Issues are listed from the least likely given label up.
   */
  private checkLabels(
    target: number,
    types: ColumnType[],
    numbersOf: (column: number) => Float64Array,
    add: AddFinding,
    sampleNote: string,
  ): LabelModelSummary | null {
    const selected = Int32Array.from(this.kept.keys()).filter((r) => !isMissing(this.kept[r]!.values[target]));
    if (selected.length < LABEL_MODEL_MIN_ROWS) return null;
    const classIndex = new Map<string, number>();
    const labels = Int32Array.from(selected, (r) => {
      const name = this.kept[r]!.values[target]!;
      let k = classIndex.get(name);
      if (k === undefined) classIndex.set(name, (k = classIndex.size));
      return k;
    });
    const classes = classIndex.size;
    if (classes < 2) return null;
    const featureColumns = [...this.names.keys()].filter((c) => c !== target);
    const features = buildFeatures(this.kept, selected, featureColumns, types, numbersOf);
    if (features.d === 0) return null;
    const { probabilities: probs, model } = crossValidatedProbabilities(features, labels, classes, this.random);

    const sums = new Float64Array(classes);
    const sizes = new Float64Array(classes);
    let correct = 0;
    for (let r = 0; r < labels.length; r++) {
      const label = labels[r]!;
      sums[label]! += probs[r * classes + label]!;
      sizes[label]! += 1;
      let predicted = 0;
      for (let k = 1; k < classes; k++) if (probs[r * classes + k]! > probs[r * classes + predicted]!) predicted = k;
      if (predicted === label) correct++;
    }
    const accuracy = correct / labels.length;
    const majorityShare = Math.max(...sizes) / labels.length;
    // A model that barely beats guessing the largest class gives near-uniform probabilities, and confident
    // learning would flag half the rows: ask it to close at least a quarter of the gap to perfect.
    const used = accuracy >= majorityShare + (1 - majorityShare) / 4;
    const summary: LabelModelSummary = {
      model,
      rows: labels.length,
      features: features.d,
      classes,
      accuracy,
      majorityShare,
      used,
    };
    if (!used) return summary;

    const thresholds = Float64Array.from(sums, (sum, k) => (sizes[k]! > 0 ? sum / sizes[k]! : Infinity));
    const issues: { line: number; givenProbability: number }[] = [];
    for (let r = 0; r < labels.length; r++) {
      const label = labels[r]!;
      const given = probs[r * classes + label]!;
      for (let k = 0; k < classes; k++) {
        const p = probs[r * classes + k]!;
        if (k !== label && p >= thresholds[k]! && p > given) {
          issues.push({ line: this.kept[selected[r]!]!.line, givenProbability: given });
          break;
        }
      }
    }
    if (issues.length === 0) return summary;
    issues.sort((a, b) => a.givenProbability - b.givenProbability || a.line - b.line);
    const share = issues.length / labels.length;
    const modelName =
      model === 'logistic-regression'
        ? 'logistic regression'
        : `logistic regression and ${NEIGHBOURS} nearest neighbours`;
    const how = `out-of-fold ${modelName}, ${FOLDS}-fold accuracy ${percent(accuracy)}`;
    const message = `${plural(issues.length, 'row')} whose label another class fits confidently better (${how})${sampleNote}; most doubtful first`;
    const lines = issues.map((i) => i.line);
    add('label_issues', severityByShare(share, 0.02, 0.1), this.names[target]!, message, issues.length, lines);
    return summary;
  }

  private checkSchemaDrift(parent: { name: string; type: ColumnType }[], types: ColumnType[], add: AddFinding): void {
    const before = new Map(parent.map((c) => [c.name, c.type]));
    const now = new Set(this.names);
    for (const c of parent) {
      if (!now.has(c.name)) add('schema_drift', 'warning', c.name, `column removed (was ${c.type})`, this.rows, []);
    }
    this.names.forEach((name, c) => {
      const was = before.get(name);
      const type = types[c]!;
      if (was === undefined) add('schema_drift', 'info', name, `column added (${type})`, this.rows, []);
      else if (was !== type) {
        // Integers becoming fractions (or back) is a widening any reader copes with; other changes break readers.
        const widening = (was === 'integer' && type === 'number') || (was === 'number' && type === 'integer');
        add('schema_drift', widening ? 'info' : 'warning', name, `type changed from ${was} to ${type}`, this.rows, []);
      }
    });
  }

  private reportPii(c: number, type: ColumnType, tally: PiiTally, add: AddFinding): void {
    const name = this.names[c]!;
    const cards = `${plural(tally.card.count, 'value')} that look like payment card numbers (Luhn check passes)`;
    if (type === 'string') {
      const { email, phone, card } = tally;
      if (email.count > 0)
        add(
          'pii',
          'warning',
          name,
          `${plural(email.count, 'value')} holding an e-mail address`,
          email.count,
          email.lines,
        );
      if (phone.count > 0)
        add(
          'pii',
          'warning',
          name,
          `${plural(phone.count, 'value')} that look like phone numbers`,
          phone.count,
          phone.lines,
        );
      if (card.count > 0) add('pii', 'error', name, cards, card.count, card.lines);
    } else if (type === 'integer') {
      // A column of plain numbers is only flagged when it is unmistakable: `+` phone numbers, or mostly
      // Luhn-valid card-length numbers (a random 16-digit id passes the Luhn check one time in ten).
      const { e164, card } = tally;
      const present = this.rows - this.missing[c]!.count;
      if (e164.count > 0)
        add(
          'pii',
          'warning',
          name,
          `${plural(e164.count, 'value')} that look like international phone numbers`,
          e164.count,
          e164.lines,
        );
      if (card.count > 0 && card.count >= present / 2) add('pii', 'error', name, cards, card.count, card.lines);
    }
  }
}

type AddFinding = (
  check: Check,
  severity: Severity,
  column: string | null,
  message: string,
  count: number,
  lines: number[],
) => void;

function round(x: number): number {
  return Number(x.toPrecision(6));
}

/**
 * score = max(0, 100 − Σ weight(severity) × max(0.2, share)), rounded to one decimal, where weight is
 * info 1, warning 5, error 15 and share = min(1, count / rows). The 0.2 floor makes any finding cost
 * something even when it touches few rows (a constant column, a schema change, one card number).
 */
export function score(findings: QualityFinding[], rows: number): number {
  let penalty = 0;
  for (const f of findings) {
    const share = rows > 0 ? Math.min(1, f.count / rows) : 0;
    penalty += SEVERITY_WEIGHT[f.severity] * Math.max(0.2, share);
  }
  return Math.round(Math.max(0, 100 - penalty) * 10) / 10;
}
