import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '#platform/testing';
import { readParquet } from './parquet';
import type { Row, TableVisitor } from './tables';

/** A fixture's bytes as the ArrayBuffer hyparquet reads (any ArrayBuffer is an AsyncBuffer). */
function fixture(name: string, damage?: (bytes: Buffer) => Buffer): ArrayBuffer {
  const bytes = Buffer.from(readFileSync(fixturePath('data', name)));
  return new Uint8Array(damage ? damage(bytes) : bytes).buffer;
}

async function read(file: ArrayBuffer, stopAfter = Infinity) {
  const out = { columns: [] as string[], rows: [] as Row[], lines: [] as number[], bad: [] as [number, string][] };
  const visitor: TableVisitor = {
    columns: (names) => {
      out.columns = names;
    },
    row: (values, line) => {
      out.rows.push(values);
      out.lines.push(line);
      return out.rows.length < stopAfter;
    },
    bad: (line, reason) => {
      out.bad.push([line, reason]);
    },
  };
  await readParquet(file, visitor);
  return out;
}

describe('Parquet tables', () => {
  it('reads every row group of a file pyarrow wrote, with values as text like the other formats', async () => {
    const t = await read(fixture('people.parquet'));
    expect(t.columns).toEqual([
      'id',
      'name',
      'age',
      'score',
      'ratio',
      'active',
      'joined',
      'seen_at',
      'local_at',
      'big',
      'tags',
    ]);
    expect(t.bad).toEqual([]);
    expect(t.lines).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(t.rows[0]).toEqual([
      '1',
      'Ada',
      '31',
      '1.5',
      // float32: the shortest text that reads back as the same value, not 0.10000000149011612
      '0.1',
      'false',
      '2024-01-01',
      '2024-01-01T12:30:15.250Z',
      // not adjusted to UTC: no zone marker, and the microseconds kept
      '2024-02-01T08:00:00.123456',
      // int64 beyond 2^53, exact
      '9007199254740994',
      '[]',
    ]);
    expect(t.rows[2]?.[10]).toBe('["a","b"]');
    expect(t.rows[3]?.slice(0, 3)).toEqual(['4', null, null]);
    expect(t.rows[9]?.slice(0, 2)).toEqual(['10', 'Margaret']);
  });

  it('reads gzip-compressed pages', async () => {
    const t = await read(fixture('people-v2.parquet'));
    expect(t.bad).toEqual([]);
    expect(t.rows.map((r) => r[1])).toContain('Linus T.');
    expect(t.rows.at(-1)?.slice(0, 2)).toEqual(['11', 'Niklaus']);
  });

  it('stops when the visitor says so', async () => {
    const t = await read(fixture('people.parquet'), 2);
    expect(t.lines).toEqual([1, 2]);
  });

  it('reports a file that is not Parquet as one bad row with no columns, without throwing', async () => {
    const t = await read(new TextEncoder().encode('id,name\n1,Ada\n').buffer);
    expect(t.columns).toEqual([]);
    expect(t.rows).toEqual([]);
    expect(t.bad).toEqual([[0, expect.stringMatching(/^not a readable Parquet file: .*PAR1/)]]);
    const truncated = await read(fixture('people.parquet', (b) => b.subarray(0, b.length - 100)));
    expect(truncated.bad).toEqual([[0, expect.stringMatching(/^not a readable Parquet file/)]]);
  });

  it('reports a damaged row group as a bad row at its first row and reads the others', async () => {
    // Bytes 100-300 lie in the first row group's column chunks; the footer is intact.
    const t = await read(fixture('people.parquet', (b) => b.fill(0x5a, 100, 300)));
    expect(t.columns).toHaveLength(11);
    expect(t.bad).toEqual([[1, expect.stringMatching(/^row group 1 \(rows 1-4\) could not be read: /)]]);
    expect(t.lines).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it('passes on what a visitor throws instead of reporting it as bad data', async () => {
    const visitor: TableVisitor = {
      columns: () => undefined,
      row: () => {
        throw new Error('too many rows');
      },
      bad: () => undefined,
    };
    await expect(readParquet(fixture('people.parquet'), visitor)).rejects.toThrow('too many rows');
  });
});
