import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readTable, type Row, type TextTableFormat } from './tables';

interface Read {
  columns: string[];
  rows: { line: number; values: Row }[];
  bad: { line: number; reason: string }[];
}

async function read(chunks: (string | Buffer)[], format: TextTableFormat = 'csv'): Promise<Read> {
  const out: Read = { columns: [], rows: [], bad: [] };
  await readTable(Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), format, {
    columns: (names) => void (out.columns = names),
    row: (values, line) => void out.rows.push({ line, values }),
    bad: (line, reason) => void out.bad.push({ line, reason }),
  });
  return out;
}

/** The same bytes cut into chunks at every position: reading must not depend on where a chunk ends. */
async function readCutEverywhere(bytes: Buffer): Promise<Read[]> {
  const results: Read[] = [];
  for (let cut = 1; cut < bytes.length; cut++) results.push(await read([bytes.subarray(0, cut), bytes.subarray(cut)]));
  return results;
}

describe('reading CSV and TSV', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, on the line each record ends', async () => {
    const r = await read(['id,text\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,"three\r\nlines\nhere"\n5,""\n']);
    expect(r.columns).toEqual(['id', 'text']);
    expect(r.rows).toEqual([
      { line: 2, values: ['1', 'a, b'] },
      { line: 3, values: ['2', 'say "hi"'] },
      { line: 5, values: ['3', 'two\nlines'] },
      { line: 8, values: ['4', 'three\r\nlines\nhere'] },
      { line: 9, values: ['5', null] },
    ]);
    expect(r.bad).toEqual([]);
  });

  it('accepts CRLF, LF and lone CR line endings mixed in one file, and skips empty lines', async () => {
    const r = await read(['a,b\r\n1,2\n\n3,4\r5,6\r\n\r\n7,']);
    expect(r.rows).toEqual([
      { line: 2, values: ['1', '2'] },
      { line: 4, values: ['3', '4'] },
      { line: 5, values: ['5', '6'] },
      { line: 7, values: ['7', null] },
    ]);
  });

  it('gives the same records wherever the chunks of the stream end', async () => {
    const bytes = Buffer.from('\uFEFFn,t\r\n1,"x\r\ny"\r\n2,"é€"\r3,"a""b"\n4,z\r\n');
    const whole = await read([bytes]);
    expect(whole.columns).toEqual(['n', 't']);
    expect(whole.rows.map((r) => r.values)).toEqual([
      ['1', 'x\r\ny'],
      ['2', 'é€'],
      ['3', 'a"b'],
      ['4', 'z'],
    ]);
    for (const cut of await readCutEverywhere(bytes)) expect(cut).toEqual(whole);
    expect(await read([...bytes].map((b) => Buffer.from([b])))).toEqual(whole); // a byte per chunk
  });

  it('names empty or blank header cells by position and trims the others', async () => {
    expect((await read([' id ,,\t\n1,2,3\n'])).columns).toEqual(['id', 'column_2', 'column_3']);
  });

  it('reports ragged rows and invalid UTF-8 by line, wherever a chunk ends', async () => {
    const bytes = Buffer.concat([
      Buffer.from('a,b\n1,2\n3\n4,5,6\n'),
      Buffer.from([0x38, 0x2c, 0xc3]),
      Buffer.from('\n9,10\n'),
    ]);
    const whole = await read([bytes]);
    expect(whole.bad).toEqual([
      { line: 3, reason: 'expected 2 fields, found 1' },
      { line: 4, reason: 'expected 2 fields, found 3' },
      { line: 5, reason: 'not valid UTF-8' },
    ]);
    expect(whole.rows.map((r) => r.line)).toEqual([2, 6]);
    for (const cut of await readCutEverywhere(bytes)) expect(cut).toEqual(whole);
  });

  it('reports bad quoting on its line and goes on with the next line', async () => {
    const r = await read(['a,b\n"x"y,1\n2,a"b\n"open,3\n4,5\n']);
    expect(r.bad).toEqual([
      { line: 2, reason: expect.stringMatching(/^Invalid Closing Quote: got "y" at line 2/) },
      {
        line: 3,
        reason: expect.stringMatching(/^Invalid Opening Quote: a quote is found on field 1 at line 3, value is "a"/),
      },
      { line: 4, reason: 'Quote Not Closed: the parsing is finished with an opening quote at line 4' },
    ]);
    expect(r.rows).toEqual([]); // the open quote took the rest of the file
    const resumed = await read(['a,b\n"x"y,1\n2,3\n']);
    expect(resumed.rows).toEqual([{ line: 3, values: ['2', '3'] }]);
  });

  it('reads TSV with the same quoting rules', async () => {
    const r = await read(['a\tb\n1\t"x\ty"\n2\t\n'], 'tsv');
    expect(r.rows).toEqual([
      { line: 2, values: ['1', 'x\ty'] },
      { line: 3, values: ['2', null] },
    ]);
  });

  it('stops when the visitor asks to, and gives an empty file no columns', async () => {
    const seen: number[] = [];
    await readTable(Readable.from([Buffer.from('a\n1\n2\n3\n')]), 'csv', {
      columns: () => undefined,
      row: (_values, line) => {
        seen.push(line);
        return line < 3;
      },
      bad: () => undefined,
    });
    expect(seen).toEqual([2, 3]);
    expect(await read([''])).toEqual({ columns: [], rows: [], bad: [] });
  });
});
