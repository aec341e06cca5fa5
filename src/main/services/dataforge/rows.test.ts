import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RowsQuery } from './contract';
import { RowsCollector } from './rows';
import { readTable } from './tables';

/** Good rows at lines 2-5 and 7-11 (ids 1-9, kinds a/b alternating); line 6 is ragged. */
const CSV = ['id,kind', '1,a', '2,b', '3,a', '4,b', 'ragged,x,y', '5,a', '6,b', '7,a', '8,b', '9,a', ''].join('\n');

async function collect(query: Partial<RowsQuery>, csv = CSV) {
  const collector = new RowsCollector({ path: 't.csv', offset: 0, limit: 3, filters: [], ...query });
  let visited = 0;
  await readTable(Readable.from([Buffer.from(csv)]), 'csv', {
    columns: (names) => collector.columns(names),
    row: (values, line) => {
      visited++;
      return collector.row(values, line);
    },
    bad: () => collector.bad(),
  });
  const page = collector.page();
  return { ...page, ids: page.rows.map((r) => r[0]), total: collector.total, visited };
}

describe('RowsCollector, the page holding a line', () => {
  it('opens the first page at its first line, and a later page at a line in it', async () => {
    expect(await collect({ line: 2 })).toMatchObject({ offset: 0, lines: [2, 3, 4], focus: 0, total: 9 });
    expect(await collect({ line: 8 })).toMatchObject({ offset: 3, lines: [5, 7, 8], focus: 2, total: 9 });
    // The offset asked for is ignored: the line decides the page.
    expect(await collect({ line: 11, offset: 3 })).toMatchObject({ offset: 6, lines: [9, 10, 11], focus: 2 });
  });

  it('gives the page where a line that is no row would be, with no focus', async () => {
    // Line 6 is a bad row: the next row (line 7) is the second of the page at offset 3.
    expect(await collect({ line: 6 })).toMatchObject({ offset: 3, lines: [5, 7, 8], focus: null });
    // The header.
    expect(await collect({ line: 1 })).toMatchObject({ offset: 0, lines: [2, 3, 4], focus: null });
  });

  it('gives the last page, not an error, for a line past the end (a full last page too)', async () => {
    expect(await collect({ line: 99 })).toMatchObject({ offset: 6, lines: [9, 10, 11], focus: null, total: 9 });
    expect(await collect({ line: 99, limit: 4 })).toMatchObject({ offset: 8, lines: [11], focus: null });
    expect(await collect({ line: 5 }, 'id,kind\n')).toMatchObject({ offset: 0, lines: [], focus: null, total: 0 });
  });

  it('counts pages among the rows that match the filters', async () => {
    const kindA = [{ column: 'kind', op: 'eq' as const, value: 'a' }];
    // Kind a: lines 2, 4, 7, 9, 11; pages of two.
    expect(await collect({ line: 9, limit: 2, filters: kindA })).toMatchObject({
      offset: 2,
      lines: [7, 9],
      focus: 1,
      total: 5,
    });
    // Line 8 is of kind b: the page where it would be, before line 9.
    expect(await collect({ line: 8, limit: 2, filters: kindA })).toMatchObject({ offset: 2, focus: null });
  });

  it('refuses a line together with a sort', () => {
    expect(
      () =>
        new RowsCollector({
          path: 't.csv',
          offset: 0,
          limit: 3,
          filters: [],
          line: 2,
          sort: { column: 'id', order: 'asc' },
        }),
    ).toThrow(/^line: /);
  });
});

describe('RowsCollector, rows by line', () => {
  it('keeps only the rows at the lines asked for, and stops reading after the last of them', async () => {
    const r = await collect({ lines: [5, 3, 6] });
    expect(r).toMatchObject({ lines: [3, 5], ids: ['2', '4'], total: 2, offset: 0, focus: null });
    // Rows at lines 2, 3, 4, 5, then 7, which is past the last line asked for.
    expect(r.visited).toBe(5);
  });

  it('pages, filters and sorts rows by line like any other rows', async () => {
    const lines = [2, 3, 4, 5, 7, 8];
    expect(await collect({ lines, limit: 2, offset: 2 })).toMatchObject({ lines: [4, 5], total: 6, offset: 2 });
    expect(
      await collect({
        lines,
        filters: [{ column: 'kind', op: 'eq', value: 'b' }],
        sort: { column: 'id', order: 'desc' },
      }),
    ).toMatchObject({ ids: ['6', '4', '2'], total: 3 });
    expect(await collect({ lines, limit: 2, line: 7 })).toMatchObject({ offset: 4, lines: [7, 8], focus: 0 });
  });
});
