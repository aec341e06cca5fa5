import { describe, expect, it } from 'vitest';
import { parseDelimited, parseJsonl } from './tables';

describe('table parsing', () => {
  it('reads RFC 4180 CSV: quotes, doubled quotes, line breaks inside quotes, CRLF, blanks as missing', () => {
    const text = 'a,b,c\r\n1,"x, ""y""",\r\n2,"two\nlines", 3 \r\n\r\n';
    expect(parseDelimited(text, ',')).toEqual({
      columns: ['a', 'b', 'c'],
      rows: [
        ['1', 'x, "y"', null],
        ['2', 'two\nlines', ' 3 '],
      ],
      skipped: 0,
    });
  });

  it('skips rows with another number of fields and reads a last line without a line end', () => {
    expect(parseDelimited('a\tb\n1\t2\n3\n4\t5', '\t')).toEqual({
      columns: ['a', 'b'],
      rows: [
        ['1', '2'],
        ['4', '5'],
      ],
      skipped: 1,
    });
  });

  it('reads JSON lines with columns in order of appearance, values as text and bad lines skipped', () => {
    const text = '{"a": 1, "b": "x"}\n{"c": true, "a": null}\nnot json\n[1]\n{"b": "  ", "a": {"n": 2}}\n';
    expect(parseJsonl(text)).toEqual({
      columns: ['a', 'b', 'c'],
      rows: [
        ['1', 'x', null],
        [null, null, 'true'],
        ['{"n":2}', null, null],
      ],
      skipped: 2,
    });
  });
});
