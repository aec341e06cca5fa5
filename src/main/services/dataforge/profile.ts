import type { ColumnProfile, TableProfile } from '#shared/contracts/dataforge';
import type { Row, TableFormat, TableVisitor } from './tables';

const DISTINCT_CAP = 10_000;
/** In a nearly unique column, a value this common (a share of the values so far) is still counted. */
const FREQUENT_SHARE = 0.01;
const SAMPLE_SIZE = 10_000;
const TOP_N = 10;
const HISTOGRAM_BINS = 20;
const BAD_ROWS_KEPT = 50;
const QUANTILES: [string, number][] = [
  ['p5', 0.05],
  ['p25', 0.25],
  ['p50', 0.5],
  ['p75', 0.75],
  ['p95', 0.95],
];

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;
const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Per-column statistics in one pass: Welford moments, a capped distinct/top-value count, a reservoir sample.
 * Each type test stops once a value has ruled the type out, so a column pays only for the types it may still be.
 */
class ColumnAccumulator {
  count = 0;
  missing = 0;
  private mayBeInteger = true;
  private mayBeNumber = true;
  private mayBeBoolean = true;
  private mayBeDatetime = true;
  /** Distinct values, each with its place in `tallies`: one hash lookup per value. */
  private index = new Map<string, number>();
  private tallies: number[] = [];
  private capped = false;
  /** The column was found nearly unique: only its frequent values are counted from then on. */
  private frozen = false;
  /** Top values as they stood when the column was frozen, among the values not counted any more. */
  private seenAtFreeze: { value: string; count: number }[] = [];
  private mean = 0;
  private m2 = 0;
  private numericSeen = 0;
  private min = Infinity;
  private max = -Infinity;
  private minText: string | null = null;
  private maxText: string | null = null;
  private readonly sample: number[] = [];

  constructor(
    readonly name: string,
    private readonly random: () => number,
  ) {}

  add(value: string | null): void {
    this.count++;
    if (value === null || isBlank(value)) {
      this.missing++;
      return;
    }
    this.countDistinct(value);
    if (this.minText === null || value < this.minText) this.minText = value;
    if (this.maxText === null || value > this.maxText) this.maxText = value;
    if (this.mayBeNumber) {
      // An integer is a number too: while a column may be all integers, one test answers both.
      let isNumber = this.mayBeInteger && INTEGER.test(value);
      if (!isNumber) {
        this.mayBeInteger = false;
        isNumber = NUMBER.test(value);
      }
      if (isNumber) {
        this.mayBeBoolean = false;
        this.mayBeDatetime = false;
        this.addNumber(Number(value));
        return;
      }
      this.mayBeNumber = false;
    }
    if (this.mayBeBoolean && !BOOLEAN.test(value)) this.mayBeBoolean = false;
    if (this.mayBeDatetime && !(DATETIME.test(value) && !Number.isNaN(Date.parse(value)))) this.mayBeDatetime = false;
  }

  private countDistinct(value: string): void {
    if (this.frozen && this.index.size === 0) return;
    const at = this.index.get(value);
    if (at !== undefined) this.tallies[at]! += 1;
    else if (this.frozen) return;
    else if (this.index.size < DISTINCT_CAP) {
      this.index.set(value, this.tallies.length);
      this.tallies.push(1);
      // As many distinct values as the cap within twice the cap of values: ids, e-mails, floats, free text.
      // Counting such a column on would cost much of the profile and tell little: keep counting only the
      // values frequent so far (a float column's zero, say), and keep the rest of the top as it stands.
      if (this.index.size === DISTINCT_CAP && this.count - this.missing <= 2 * DISTINCT_CAP) this.freeze();
    } else this.capped = true;
  }

  private freeze(): void {
    const seen = this.count - this.missing;
    const top = this.topValues();
    const frequent = top.filter((t) => t.count >= seen * FREQUENT_SHARE);
    this.frozen = true;
    this.capped = true;
    this.seenAtFreeze = top.filter((t) => t.count < seen * FREQUENT_SHARE);
    this.index = new Map(frequent.map((t, i) => [t.value, i]));
    this.tallies = frequent.map((t) => t.count);
  }

  /** The most frequent values counted, ties in value order. */
  private topValues(): { value: string; count: number }[] {
    return [...this.index.entries()]
      .map(([value, at]) => ({ value, count: this.tallies[at] as number }))
      .concat(this.seenAtFreeze)
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, TOP_N);
  }

  private addNumber(x: number): void {
    this.numericSeen++;
    const delta = x - this.mean;
    this.mean += delta / this.numericSeen;
    this.m2 += delta * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (this.sample.length < SAMPLE_SIZE) this.sample.push(x);
    else {
      const j = Math.floor(this.random() * this.numericSeen);
      if (j < SAMPLE_SIZE) this.sample[j] = x;
    }
  }

  result(): ColumnProfile {
    const present = this.count - this.missing;
    let type: ColumnProfile['type'] = 'string';
    if (present === 0) type = 'empty';
    else if (this.mayBeInteger) type = 'integer';
    else if (this.mayBeNumber) type = 'number';
    else if (this.mayBeBoolean) type = 'boolean';
    else if (this.mayBeDatetime) type = 'datetime';
    const numeric = type === 'integer' || type === 'number';
    const top = this.topValues();
    const base = {
      name: this.name,
      type,
      count: this.count,
      missing: this.missing,
      distinct: this.frozen ? DISTINCT_CAP : this.index.size,
      distinctCapped: this.capped,
      top,
    };
    if (!numeric) {
      return { ...base, min: this.minText, max: this.maxText, mean: null, std: null, quantiles: null, histogram: null };
    }
    const sorted = Float64Array.from(this.sample).sort();
    const quantiles = Object.fromEntries(QUANTILES.map(([name, q]) => [name, quantile(sorted, q)]));
    return {
      ...base,
      min: this.min,
      max: this.max,
      mean: this.mean,
      std: this.numericSeen > 1 ? Math.sqrt(this.m2 / (this.numericSeen - 1)) : 0,
      quantiles,
      histogram: histogram(sorted, this.min, this.max, this.numericSeen),
    };
  }
}

/**
 * `value.trim() === ''` without trimming (an allocation) every value: only a value that starts or ends with a
 * space can be blank.
 */
function isBlank(value: string): boolean {
  if (value.length === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  // What `trim` removes is ASCII space or control characters, or beyond ASCII (NBSP, U+2000…, BOM).
  if (first > 32 && first < 128 && last > 32 && last < 128) return false;
  return value.trim() === '';
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Bins of the sample between the exact min and max; counts scaled to the whole column when sampled. */
function histogram(sorted: Float64Array, min: number, max: number, total: number): ColumnProfile['histogram'] {
  if (sorted.length === 0) return null;
  const bins = min === max ? 1 : HISTOGRAM_BINS;
  const width = (max - min) / bins || 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (const x of sorted) counts[Math.min(bins - 1, Math.floor((x - min) / width))]! += 1;
  const scale = total / sorted.length;
  return { edges, counts: scale === 1 ? counts : counts.map((c) => Math.round(c * scale)) };
}

/** A deterministic generator, so that profiling (or checking) the same table twice gives the same figures. */
export function seededRandom(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A visitor that profiles a table while `readTable` streams it. */
export class TableProfiler implements TableVisitor {
  private columnsAcc: ColumnAccumulator[] = [];
  private rows = 0;
  private readonly badRows: TableProfile['badRows'] = [];
  private badRowCount = 0;
  private readonly random = seededRandom();

  constructor(
    private readonly path: string,
    private readonly format: TableFormat,
  ) {}

  columns(names: string[]): void {
    this.columnsAcc = names.map((n) => new ColumnAccumulator(n, this.random));
  }

  row(values: Row): void {
    this.rows++;
    for (let i = 0; i < this.columnsAcc.length; i++) (this.columnsAcc[i] as ColumnAccumulator).add(values[i] ?? null);
  }

  bad(line: number, reason: string): void {
    this.badRowCount++;
    if (this.badRows.length < BAD_ROWS_KEPT) this.badRows.push({ line, reason });
  }

  result(): TableProfile {
    return {
      path: this.path,
      format: this.format,
      rows: this.rows,
      columns: this.columnsAcc.map((c) => c.result()),
      badRows: this.badRows,
      badRowCount: this.badRowCount,
    };
  }
}
