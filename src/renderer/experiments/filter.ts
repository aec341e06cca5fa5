/**
 * The runs table's filter bar and sorting, as text in the URL: `filter` holds MLflow's filter language as typed,
 * `sort` one order-by (`metrics.acc DESC`).
 */

export interface Sort {
  field: string;
  direction: 'ASC' | 'DESC';
}

/** Runs newest first unless a column is sorted. */
export const DEFAULT_ORDER = ['attributes.start_time DESC'];

/** A sort from the URL (`metrics.acc DESC`, `params.lr`), or null when empty. */
export function parseSort(text: string | null): Sort | null {
  const trimmed = text?.trim() ?? '';
  if (trimmed === '') return null;
  const match = /^(.*?)\s+(ASC|DESC)$/i.exec(trimmed);
  if (!match) return { field: trimmed, direction: 'ASC' };
  return { field: (match[1] as string).trim(), direction: (match[2] as string).toUpperCase() as 'ASC' | 'DESC' };
}

export function formatSort(sort: Sort | null): string {
  return sort ? `${sort.field} ${sort.direction}` : '';
}

/**
 * What a click on a column header does: a new column sorts descending (highest metric first), a second click
 * ascending, a third goes back to the default order.
 */
export function nextSort(current: Sort | null, field: string): Sort | null {
  if (current?.field !== field) return { field, direction: 'DESC' };
  return current.direction === 'DESC' ? { field, direction: 'ASC' } : null;
}

/**
 * The `orderBy` of `runs.search`: the chosen sort, then newest first and the run id, so that pages split ties
 * the same way every time.
 */
export function orderByOf(sort: Sort | null): string[] {
  if (!sort) return [...DEFAULT_ORDER, 'attributes.run_id ASC'];
  return [formatSort(sort), ...DEFAULT_ORDER, 'attributes.run_id ASC'];
}

/** The filter as sent: surrounding spaces and a trailing AND that someone left while typing go. */
export function normalizeFilter(text: string): string {
  return text.trim().replace(/\s+and\s*$/i, '');
}

/** The examples the filter bar offers, valid for any experiment with those keys. */
export const FILTER_EXAMPLES = [
  'metrics.acc > 0.9',
  "params.lr = '0.01'",
  "attributes.status = 'RUNNING'",
  "tags.team = 'vision' and metrics.loss < 0.2",
  "attributes.run_name LIKE 'sweep-%'",
] as const;
