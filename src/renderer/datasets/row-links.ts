/** Where in the Rows tab a link goes: a table, optionally the page of one line, or only some lines. */
export interface RowsTarget {
  table: string;
  /** Open the page holding this file line, with the row highlighted. */
  line?: number | undefined;
  /** Show only the rows at these file lines (a quality finding's). */
  lines?: number[] | undefined;
}

/** The most lines the rows endpoint takes at once. */
export const MAX_LINES = 1000;

const POSITIVE = /^[1-9]\d{0,9}$/;

/** A file line from the URL (`line=12`), or null when absent or not a positive integer. */
export function parseLine(value: string | null): number | null {
  return value !== null && POSITIVE.test(value) ? Number(value) : null;
}

/** File lines from the URL (`lines=5,10,11`): positive integers, deduplicated, ascending; null when there are none. */
export function parseLines(value: string | null): number[] | null {
  if (!value) return null;
  const lines = [...new Set(value.split(',').flatMap((s) => (POSITIVE.test(s.trim()) ? [Number(s.trim())] : [])))];
  return lines.length > 0 ? lines.sort((a, b) => a - b).slice(0, MAX_LINES) : null;
}

export function formatLines(lines: readonly number[]): string {
  return lines.join(',');
}

/** The search string of the Rows tab at `target`, keeping the rest of the page's place (version, folder). */
export function rowsSearch(current: URLSearchParams, target: RowsTarget): string {
  const next = new URLSearchParams(current);
  next.set('tab', 'rows');
  next.set('table', target.table);
  if (target.line !== undefined) next.set('line', String(target.line));
  else next.delete('line');
  const lines = target.lines ? parseLines(formatLines(target.lines)) : null;
  if (lines) next.set('lines', formatLines(lines));
  else next.delete('lines');
  return `?${next.toString()}`;
}
