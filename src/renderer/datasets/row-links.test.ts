import { describe, expect, it } from 'vitest';
import { formatLines, parseLine, parseLines, rowsSearch } from './row-links';

describe('row links', () => {
  it('reads a line from the URL only when it is a positive integer', () => {
    expect(parseLine('12')).toBe(12);
    for (const bad of [null, '', '0', '-3', '1.5', 'x', '012']) expect(parseLine(bad)).toBeNull();
  });

  it('reads lines as positive integers, deduplicated and ascending, ignoring junk', () => {
    expect(parseLines('11,5,x,10,5,0, 7')).toEqual([5, 7, 10, 11]);
    expect(parseLines('')).toBeNull();
    expect(parseLines(',x,-1')).toBeNull();
    expect(parseLines(formatLines(Array.from({ length: 1200 }, (_, i) => i + 1)))).toHaveLength(1000);
  });

  it('links to the Rows tab at a line or at some lines, keeping the version and dropping the other', () => {
    const here = new URLSearchParams('v=2&tab=quality&table=old.csv&lines=1,2');
    expect(rowsSearch(here, { table: 'penguins.csv', line: 12 })).toBe('?v=2&tab=rows&table=penguins.csv&line=12');
    expect(rowsSearch(new URLSearchParams('v=2&line=4'), { table: 'a b.csv', lines: [11, 5] })).toBe(
      '?v=2&tab=rows&table=a+b.csv&lines=5%2C11',
    );
    // The URL it was made from is left alone.
    expect(here.get('tab')).toBe('quality');
  });
});
