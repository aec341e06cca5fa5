import { describe, expect, it } from 'vitest';
import { PREPROCESSING_FORMAT, type TextPreprocessing } from './preprocessing';
import { TOKEN_SEPARATOR, encodeTexts, fillBags, fitVocabulary, tokenIds, tokenize } from './text';

const pre: TextPreprocessing = {
  format: PREPROCESSING_FORMAT,
  kind: 'text-classifier',
  input: { name: 'tokens', dtype: 'int64', shape: ['batch', 'tokens'] },
  output: { name: 'probabilities', dtype: 'float32', shape: ['batch', 2] },
  labels: ['a', 'b'],
  textColumn: 'text',
  tokenizer: { lowercase: true, splitPattern: TOKEN_SEPARATOR },
  vocabulary: ['the', 'cat', 'sat'],
};

describe('text preprocessing', () => {
  it('lower-cases and splits on anything that is neither a letter nor a digit, in any script', () => {
    expect(tokenize("The CAT's 2 naïve-Übermensch, 東京!")).toEqual([
      'the',
      'cat',
      's',
      '2',
      'naïve',
      'übermensch',
      '東京',
    ]);
    expect(tokenize(' ,;- ')).toEqual([]);
  });

  it('keeps tokens seen often enough, most frequent first, ties by text, at most the maximum', () => {
    const texts = ['b a c', 'a b d', 'a e'];
    expect(fitVocabulary(texts, 1, 10)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(fitVocabulary(texts, 2, 10)).toEqual(['a', 'b']);
    expect(fitVocabulary(texts, 1, 1)).toEqual(['a']);
  });

  it('encodes texts as 1-based token ids, right-padded with 0, unknown tokens dropped', () => {
    const ids = new Map(pre.vocabulary.map((t, i) => [t, i + 1]));
    expect(tokenIds('The dog sat', ids)).toEqual([1, 3]);
    const { data, dims } = encodeTexts(pre, ['the cat sat on the mat', 'dog', 'cat']);
    expect(dims).toEqual([3, 4]);
    expect(Array.from(data, Number)).toEqual([1, 2, 3, 1, 0, 0, 0, 0, 2, 0, 0, 0]);
    expect(encodeTexts(pre, ['', 'dog']).dims).toEqual([2, 1]);
  });

  it('builds bags of words whose rows average the known tokens', () => {
    const out = new Float32Array(2 * 3).fill(9);
    fillBags([[1, 3, 1, 1], []], 3, out);
    expect(Array.from(out)).toEqual([0.75, 0, 0.25, 0, 0, 0]);
  });
});
