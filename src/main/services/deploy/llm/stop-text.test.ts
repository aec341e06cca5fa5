import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StopTextBuffer } from './stop-text';

function streamed(stops: string[], pieces: string[], trim = false): { text: string; stopped: boolean } {
  const buffer = new StopTextBuffer(stops, trim);
  let text = '';
  for (const piece of pieces) {
    text += buffer.push(piece);
    if (buffer.stopped) return { text, stopped: true };
  }
  return { text: text + buffer.flush(), stopped: false };
}

describe('StopTextBuffer', () => {
  it('cuts the text before a stop string and reports the stop', () => {
    expect(streamed(['dog'], [' fox jumps over the lazy', ' do', 'g.'])).toEqual({
      text: ' fox jumps over the lazy ',
      stopped: true,
    });
  });

  it('holds back the start of a stop string until the next piece decides it', () => {
    const buffer = new StopTextBuffer(['</end>']);
    expect(buffer.push('answer </e')).toBe('answer ');
    expect(buffer.push('nvelope')).toBe('</envelope');
    expect(buffer.flush()).toBe('');
  });

  it('stops at the earliest of several stop strings', () => {
    expect(streamed(['three', 'two'], ['one, two, three'])).toEqual({ text: 'one, ', stopped: true });
    // Overlapping stops: the one that completes first wins, whether the text comes in one piece or two.
    expect(streamed([' ', 'a  '], ['aaa  '])).toEqual({ text: 'aaa', stopped: true });
    expect(streamed([' ', 'a  '], ['aaa ', ' '])).toEqual({ text: 'aaa', stopped: true });
  });

  it('drops trailing whitespace when trimming, but keeps inner whitespace', () => {
    expect(streamed([], ['{"a":', ' 1}', '\n', '\n'], true)).toEqual({ text: '{"a": 1}', stopped: false });
    expect(streamed(['\n\n\n\n'], ['{}', '\n\n', '\n\n', 'x'], true)).toEqual({ text: '{}', stopped: true });
    // Whitespace before the start of a stop string is held with it: it is trailing once the stop completes.
    expect(streamed(['b '], ['aa\nb', ' '], true)).toEqual({ text: 'aa', stopped: true });
  });

  it('streams pieces that concatenate to the one-shot result, however the text is split', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '\n'), maxLength: 40 }),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '\n'), minLength: 1, maxLength: 3 }), {
          maxLength: 3,
        }),
        fc.array(fc.nat(40), { maxLength: 6 }),
        fc.boolean(),
        (text, stops, cuts, trim) => {
          const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
          const pieces: string[] = [];
          let from = 0;
          for (const at of [...points, text.length]) {
            pieces.push(text.slice(from, at));
            from = at;
          }
          expect(streamed(stops, pieces, trim)).toEqual(streamed(stops, [text], trim));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
