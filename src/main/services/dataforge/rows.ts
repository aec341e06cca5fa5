import type { Row, TableVisitor } from './tables';
import type { RowsQuery } from './contract';
import { AppError } from '#shared/errors';

/** Sorted pages keep the best offset+limit rows in memory; beyond this, filter to narrow the table instead. */
export const MAX_SORTED_WINDOW = 100_000;

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Numbers compare as numbers, everything else as text; missing values sort last either way. */
function compareValues(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (NUMERIC.test(a) && NUMERIC.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function matches(value: string | null, op: RowsQuery['filters'][number]['op'], operand: string): boolean {
  switch (op) {
    case 'empty':
      return value === null || value.trim() === '';
    case 'notEmpty':
      return value !== null && value.trim() !== '';
    case 'contains':
      return value !== null && value.toLowerCase().includes(operand.toLowerCase());
    default: {
      if (value === null) return op === 'ne';
      const c = compareValues(value, operand);
      if (op === 'eq') return c === 0;
      if (op === 'ne') return c !== 0;
      if (op === 'lt') return c < 0;
      if (op === 'le') return c <= 0;
      if (op === 'gt') return c > 0;
      return c >= 0;
    }
  }
}

/** Collects one page of rows while `readTable` streams the whole table (counting every match for `total`). */
export class RowsCollector implements TableVisitor {
  names: string[] = [];
  total = 0;
  private filters: { index: number; op: RowsQuery['filters'][number]['op']; value: string }[] = [];
  private sortIndex = -1;
  private window: { values: Row; line: number }[] = [];
  error: AppError | undefined;

  constructor(private readonly query: RowsQuery) {
    if (query.sort && query.offset + query.limit > MAX_SORTED_WINDOW) {
      throw AppError.invalid(
        'offset',
        `sorted pages end at row ${MAX_SORTED_WINDOW}; add a filter to narrow the table`,
      );
    }
  }

  private indexOf(column: string, field: string): number {
    const i = this.names.indexOf(column);
    if (i < 0)
      this.error = AppError.invalid(field, `the table has no column '${column}' (it has: ${this.names.join(', ')})`);
    return i;
  }

  columns(names: string[]): void {
    this.names = names;
    this.filters = this.query.filters.map((f, k) => ({
      index: this.indexOf(f.column, `filters.${k}.column`),
      op: f.op,
      value: f.value,
    }));
    if (this.query.sort) this.sortIndex = this.indexOf(this.query.sort.column, 'sort.column');
  }

  row(values: Row, line: number): boolean {
    if (this.error) return false;
    for (const f of this.filters) if (!matches(values[f.index] ?? null, f.op, f.value)) return true;
    const position = this.total++;
    if (this.sortIndex < 0) {
      if (position >= this.query.offset && position < this.query.offset + this.query.limit)
        this.window.push({ values, line });
      return true;
    }
    this.window.push({ values, line });
    const keep = this.query.offset + this.query.limit;
    if (this.window.length >= 2 * keep) this.window = this.sorted().slice(0, keep);
    return true;
  }

  bad(): void {
    // Unreadable rows are not part of any page; the profile lists them.
  }

  private sorted(): { values: Row; line: number }[] {
    const i = this.sortIndex;
    const sign = this.query.sort?.order === 'desc' ? -1 : 1;
    // Stable: equal values keep file order.
    return [...this.window].sort((a, b) => {
      const av = a.values[i] ?? null;
      const bv = b.values[i] ?? null;
      if (av === null || bv === null) return compareValues(av, bv) || a.line - b.line;
      return sign * compareValues(av, bv) || a.line - b.line;
    });
  }

  page(): { rows: Row[]; lines: number[] } {
    if (this.error) throw this.error;
    const rows =
      this.sortIndex < 0 ? this.window : this.sorted().slice(this.query.offset, this.query.offset + this.query.limit);
    return { rows: rows.map((r) => r.values), lines: rows.map((r) => r.line) };
  }
}
