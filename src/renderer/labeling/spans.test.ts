import { describe, expect, it } from 'vitest';
import { addSpan, removeSpan, segmentText, trimRange } from './spans';

const TEXT = 'Ada Lovelace met Babbage in London.';

describe('trimRange', () => {
  it('orders a backwards selection and trims white space at its ends', () => {
    expect(trimRange(TEXT, 13, 0)).toEqual({ start: 0, end: 12 });
    expect(trimRange(TEXT, 27, 35)).toEqual({ start: 28, end: 35 });
  });

  it('is null for a selection of only white space or nothing', () => {
    expect(trimRange(TEXT, 12, 13)).toBeNull();
    expect(trimRange(TEXT, 5, 5)).toBeNull();
  });

  it('clamps to the text', () => {
    expect(trimRange('abc', -3, 99)).toEqual({ start: 0, end: 3 });
  });
});

describe('addSpan and removeSpan', () => {
  it('keeps spans in text order and replaces the ones a new span overlaps', () => {
    const london = { start: 28, end: 34, label: 'LOC' };
    const ada = { start: 0, end: 12, label: 'PER' };
    let spans = addSpan([london], ada);
    expect(spans).toEqual([ada, london]);
    spans = addSpan(spans, { start: 4, end: 16, label: 'ORG' });
    expect(spans).toEqual([{ start: 4, end: 16, label: 'ORG' }, london]);
    expect(removeSpan(spans, london)).toEqual([{ start: 4, end: 16, label: 'ORG' }]);
  });
});

describe('segmentText', () => {
  it('cuts the text into plain runs and span runs that cover it exactly', () => {
    const segments = segmentText(TEXT, [
      { start: 28, end: 34, label: 'LOC' },
      { start: 0, end: 12, label: 'PER' },
    ]);
    expect(segments.map((s) => [TEXT.slice(s.start, s.end), s.span?.label ?? null])).toEqual([
      ['Ada Lovelace', 'PER'],
      [' met Babbage in ', null],
      ['London', 'LOC'],
      ['.', null],
    ]);
  });

  it('leaves out spans that overlap an earlier one or reach past the text', () => {
    const segments = segmentText('abcdef', [
      { start: 0, end: 3, label: 'A' },
      { start: 2, end: 4, label: 'B' },
      { start: 4, end: 9, label: 'C' },
    ]);
    expect(segments.map((s) => [s.start, s.end, s.span?.label ?? null])).toEqual([
      [0, 3, 'A'],
      [3, 6, null],
    ]);
  });

  it('gives one empty run for empty text', () => {
    expect(segmentText('', [])).toEqual([{ start: 0, end: 0, span: null }]);
  });
});
