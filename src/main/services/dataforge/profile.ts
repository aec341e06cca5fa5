import type { ColumnProfile, TableProfile } from '#shared/contracts/dataforge';
import type { Row, TableFormat, TableVisitor } from './tables';

const DISTINCT_CAP = 10_000;
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

/** Per-column statistics in one pass: Welford moments, a capped distinct/top-value count, a reservoir sample. */
class ColumnAccumulator {
  count = 0;
  missing = 0;
  private integers = 0;
  private numbers = 0;
  private booleans = 0;
  private datetimes = 0;
  private readonly counts = new Map<string, number>();
  private capped = false;
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
    if (value === null || value.trim() === '') {
      this.missing++;
      return;
    }
    const seen = this.counts.get(value);
    if (seen !== undefined) this.counts.set(value, seen + 1);
    else if (this.counts.size < DISTINCT_CAP) this.counts.set(value, 1);
    else this.capped = true;
    if (this.minText === null || value < this.minText) this.minText = value;
    if (this.maxText === null || value > this.maxText) this.maxText = value;
    if (NUMBER.test(value)) {
      this.numbers++;
      if (INTEGER.test(value)) this.integers++;
      const x = Number(value);
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
    } else if (BOOLEAN.test(value)) this.booleans++;
    else if (DATETIME.test(value) && !Number.isNaN(Date.parse(value))) this.datetimes++;
  }

  result(): ColumnProfile {
    const present = this.count - this.missing;
    let type: ColumnProfile['type'] = 'string';
    if (present === 0) type = 'empty';
    else if (this.integers === present) type = 'integer';
    else if (this.numbers === present) type = 'number';
    else if (this.booleans === present) type = 'boolean';
    else if (this.datetimes === present) type = 'datetime';
    const numeric = type === 'integer' || type === 'number';
    const top = [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_N)
      .map(([value, count]) => ({ value, count }));
    const base = {
      name: this.name,
      type,
      count: this.count,
      missing: this.missing,
      distinct: this.counts.size,
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
