import { createHash } from 'node:crypto';
import type { TableDiff } from '#shared/contracts/dataforge';
import { AppError } from '#shared/errors';
import type { Row, TableVisitor } from './tables';

const SAMPLES = 20;
/** Rows held in memory (one short hash each) for the older side; beyond this the diff is refused. */
export const MAX_DIFF_ROWS = 5_000_000;

function rowHash(values: Row): string {
  // \u0001 cannot appear in a CSV field as read, and null differs from the empty string.
  return createHash('sha1')
    .update(values.map((v) => (v === null ? '\u0000' : v)).join('\u0001'))
    .digest('base64');
}

interface Side {
  /** Streams the table through a visitor, whatever its format; called once or twice. */
  read(visitor: TableVisitor): Promise<void>;
  version: number;
}

/**
 * Compares one table across two versions in two streaming passes over the old side (the second only to fetch
 * sample rows) and one over the new. Without a key, rows are compared as a multiset of whole rows; with one,
 * rows are matched by key and a row whose other values differ counts as changed.
 */
export async function diffTables(from: Side, to: Side, key: string | undefined): Promise<Omit<TableDiff, 'path'>> {
  let fromColumns: string[] = [];
  let toColumns: string[] = [];
  let fromRows = 0;
  let toRows = 0;
  let badRows = 0;
  let keyIndex = -1;
  const old = new Map<string, { hash: string; line: number; count: number }>();
  const keyError = (columns: string[], side: string) =>
    AppError.invalid('key', `the table in ${side} has no column '${key}' (it has: ${columns.join(', ')})`);

  await from.read({
    columns(names) {
      fromColumns = names;
      if (key !== undefined) {
        keyIndex = names.indexOf(key);
        if (keyIndex < 0) throw keyError(names, `v${from.version}`);
      }
    },
    row(values, line) {
      if (++fromRows > MAX_DIFF_ROWS)
        throw AppError.invalid('path', `tables over ${MAX_DIFF_ROWS} rows cannot be diffed here`);
      const hash = rowHash(values);
      const id = keyIndex >= 0 ? (values[keyIndex] ?? '') : hash;
      const seen = old.get(id);
      if (seen) seen.count++;
      else old.set(id, { hash, line, count: 1 });
    },
    bad() {
      badRows++;
    },
  });

  const counts = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  const samples: TableDiff['samples'] = { added: [], removed: [], changed: [] };
  const sample = (kind: keyof TableDiff['samples'], line: number, values: Row) => {
    if (samples[kind].length < SAMPLES) samples[kind].push({ line, values });
  };
  let toKeyIndex = -1;
  await to.read({
    columns(names) {
      toColumns = names;
      if (key !== undefined) {
        toKeyIndex = names.indexOf(key);
        if (toKeyIndex < 0) throw keyError(names, `v${to.version}`);
      }
    },
    row(values, line) {
      toRows++;
      const hash = rowHash(values);
      const id = toKeyIndex >= 0 ? (values[toKeyIndex] ?? '') : hash;
      const match = old.get(id);
      if (!match || match.count === 0) {
        counts.added++;
        sample('added', line, values);
        return;
      }
      match.count--;
      if (match.hash === hash) counts.unchanged++;
      else {
        counts.changed++;
        sample('changed', line, values);
      }
    },
    bad() {
      badRows++;
    },
  });

  const removedLines = new Set<number>();
  for (const entry of old.values()) {
    if (entry.count === 0) continue;
    counts.removed += entry.count;
    if (removedLines.size < SAMPLES) removedLines.add(entry.line);
  }
  if (removedLines.size > 0) {
    await from.read({
      columns() {},
      row(values, line) {
        if (removedLines.has(line)) sample('removed', line, values);
        return samples.removed.length < removedLines.size;
      },
      bad() {},
    });
  }
  return {
    from: { version: from.version, rows: fromRows, columns: fromColumns },
    to: { version: to.version, rows: toRows, columns: toColumns },
    schema: {
      added: toColumns.filter((c) => !fromColumns.includes(c)),
      removed: fromColumns.filter((c) => !toColumns.includes(c)),
    },
    key: key ?? null,
    rows: counts,
    samples,
    badRows,
  };
}
