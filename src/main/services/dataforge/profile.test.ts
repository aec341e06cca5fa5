import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TableProfiler } from './profile';
import { readTable, type TextTableFormat } from './tables';

async function profile(text: string, format: TextTableFormat = 'csv') {
  const profiler = new TableProfiler('t', format);
  await readTable(Readable.from([Buffer.from(text)]), format, profiler);
  return profiler.result();
}

describe('table profiles', () => {
  it('infers types and counts missing values, distinct values and top values', async () => {
    const p = await profile(
      'id,score,name,ok,when\n1,2.5,ann,true,2024-01-02\n2,,bob,false,2024-01-03\n3,4.5,ann,true,\n',
    );
    expect(p.rows).toBe(3);
    const [id, score, name, ok, when] = p.columns;
    expect(id).toMatchObject({ type: 'integer', missing: 0, distinct: 3, min: 1, max: 3, mean: 2 });
    expect(score).toMatchObject({ type: 'number', missing: 1, min: 2.5, max: 4.5, mean: 3.5 });
    expect(score?.std).toBeCloseTo(Math.SQRT2, 10);
    expect(name).toMatchObject({
      type: 'string',
      distinct: 2,
      top: [
        { value: 'ann', count: 2 },
        { value: 'bob', count: 1 },
      ],
    });
    expect(ok?.type).toBe('boolean');
    expect(when).toMatchObject({ type: 'datetime', missing: 1, min: '2024-01-02', max: '2024-01-03' });
  });

  it('gives quantiles and a histogram for numeric columns', async () => {
    const rows = Array.from({ length: 101 }, (_, i) => `${i}`).join('\n');
    const [x] = (await profile(`x\n${rows}\n`)).columns;
    expect(x?.quantiles).toEqual({ p5: 5, p25: 25, p50: 50, p75: 75, p95: 95 });
    expect(x?.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(101);
    expect(x?.histogram?.edges[0]).toBe(0);
    expect(x?.histogram?.edges.at(-1)).toBe(100);
  });

  it('reports ragged rows and invalid UTF-8 by line, and keeps reading', async () => {
    const text = Buffer.concat([
      Buffer.from('a,b\n1,2\n3\n'),
      Buffer.from([0x38, 0x2c, 0xff, 0xfe, 0x0a]),
      Buffer.from('9,10\n'),
    ]);
    const profiler = new TableProfiler('t', 'csv');
    await readTable(Readable.from([text]), 'csv', profiler);
    const p = profiler.result();
    expect(p.badRows).toEqual([
      { line: 3, reason: 'expected 2 fields, found 1' },
      { line: 4, reason: 'not valid UTF-8' },
    ]);
    expect(p.rows).toBe(2);
  });

  it('names the line of a bad quote', async () => {
    const p = await profile('a,b\n1,2\n"x"y,3\n');
    expect(p.rows).toBe(1);
    expect(p.badRows[0]).toMatchObject({ line: 3, reason: expect.stringMatching(/^Invalid Closing Quote/) });
  });

  it('infers a type only when every present value has it, whatever their order, and treats blanks as missing', async () => {
    const p = await profile('a,b,c,d\n1,true,2024-01-02, \n2.5,1, x ,\u00a0\ntrue,false,2024-13-45,\t\n');
    expect(p.columns.map((c) => c.type)).toEqual(['string', 'string', 'string', 'empty']);
    expect(p.columns[3]).toMatchObject({ missing: 3, distinct: 0 });
    expect((await profile('n\n1\n2\n3.5\n')).columns[0]?.type).toBe('number');
  });

  it('stops counting a nearly unique column early but keeps counting its frequent values exactly', async () => {
    // 30,000 rows: a unique id, and a float that is 0 in every fourth row.
    const rows = Array.from({ length: 30_000 }, (_, i) => `${i},${i % 4 === 0 ? '0' : (i / 7).toFixed(6)}`);
    const [id, x] = (await profile(`id,x\n${rows.join('\n')}\n`)).columns;
    expect(id).toMatchObject({ type: 'integer', distinct: 10_000, distinctCapped: true, min: 0, max: 29_999 });
    expect(id?.top).toHaveLength(10);
    expect(x).toMatchObject({ type: 'number', distinct: 10_000, distinctCapped: true });
    expect(x?.top[0]).toEqual({ value: '0', count: 7_500 });
  });

  it('reads JSON lines, reporting lines that are not objects', async () => {
    const p = await profile('{"a":1,"b":"x"}\nnot json\n[1]\n{"a":2,"b":null}\n', 'jsonl');
    expect(p.rows).toBe(2);
    expect(p.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(p.columns[1]?.missing).toBe(1);
    expect(p.badRows.map((b) => b.line)).toEqual([2, 3]);
  });
});
