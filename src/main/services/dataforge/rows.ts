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

/**
 * Collects one page of rows while `readTable` streams the table, counting every match for `total`. `total` is
 * always exact, so the whole table is read, with one exception: with `lines`, reading stops after the last of
 * them, since no later row can match. Only one page of rows is kept (sorted pages: the best offset+limit).
 *
 * With `line` (file order only), the page is the one of `limit` rows (counted in the filtered sequence) that holds
 * the first matching row at or after that line, and `focus` is that row's index in the page when it is the row at
 * `line` itself. A line that is no matching row (the header, a bad row, a row the filters leave out) gets the page
 * where it would be, and past the last row, the last page; `focus` is then null.
 */
export class RowsCollector implements TableVisitor {
  names: string[] = [];
  total = 0;
  private filters: { index: number; op: RowsQuery['filters'][number]['op']; value: string }[] = [];
  private sortIndex = -1;
  private window: { values: Row; line: number }[] = [];
  /** The rows asked for by line, and the last of them (reading stops past it). */
  private readonly wanted: Set<number> | undefined;
  private readonly lastWanted: number = Infinity;
  /** With `line`: the offset of the page being filled, whether it is the page of the line, and the line's index. */
  private pageStart = 0;
  private found = false;
  private focus: number | null = null;
  error: AppError | undefined;

  constructor(private readonly query: RowsQuery) {
    if (query.sort && query.offset + query.limit > MAX_SORTED_WINDOW) {
      throw AppError.invalid(
        'offset',
        `sorted pages end at row ${MAX_SORTED_WINDOW}; add a filter to narrow the table`,
      );
    }
    if (query.sort && query.line !== undefined)
      throw AppError.invalid('line', 'a line opens its page in file order; leave out the sort');
    if (query.lines) {
      this.wanted = new Set(query.lines);
      this.lastWanted = Math.max(...query.lines);
    }
    if (query.line === undefined) this.pageStart = query.offset;
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
    if (this.wanted) {
      if (line > this.lastWanted) return false;
      if (!this.wanted.has(line)) return true;
    }
    for (const f of this.filters) if (!matches(values[f.index] ?? null, f.op, f.value)) return true;
    const position = this.total++;
    if (this.sortIndex >= 0) {
      this.window.push({ values, line });
      const keep = this.query.offset + this.query.limit;
      if (this.window.length >= 2 * keep) this.window = this.sorted().slice(0, keep);
    } else if (this.query.line === undefined) {
      if (position >= this.query.offset && position < this.query.offset + this.query.limit)
        this.window.push({ values, line });
    } else if (!this.found) {
      // Keep the page being passed through, until the row at (or after) the line is in it.
      if (position % this.query.limit === 0) {
        this.window = [];
        this.pageStart = position;
      }
      this.window.push({ values, line });
      if (line >= this.query.line) {
        this.found = true;
        if (line === this.query.line) this.focus = this.window.length - 1;
      }
    } else if (this.window.length < this.query.limit) {
      this.window.push({ values, line });
    }
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

  /** The page: its rows and their lines, its offset (with `line`, the page of that line) and the focused row. */
  page(): { rows: Row[]; lines: number[]; offset: number; focus: number | null } {
    if (this.error) throw this.error;
    const rows =
      this.sortIndex < 0 ? this.window : this.sorted().slice(this.query.offset, this.query.offset + this.query.limit);
    return {
      rows: rows.map((r) => r.values),
      lines: rows.map((r) => r.line),
      offset: this.pageStart,
      focus: this.focus,
    };
  }
}
