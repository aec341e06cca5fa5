import type { TextPreprocessing } from './preprocessing';

/** Runs of characters that are neither letters nor digits separate tokens. */
export const TOKEN_SEPARATOR = '[^\\p{L}\\p{N}]+';
const SEPARATOR = new RegExp(TOKEN_SEPARATOR, 'u');

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(SEPARATOR)
    .filter((t) => t.length > 0);
}

/** Tokens seen at least `minCount` times, most frequent first (ties by text), at most `maxSize`. */
export function fitVocabulary(texts: string[], minCount: number, maxSize: number): string[] {
  const counts = new Map<string, number>();
  for (const text of texts) for (const token of tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
  return [...counts.entries()]
    .filter(([, count]) => count >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxSize)
    .map(([token]) => token);
}

/** Token ids of a text (1-based; unknown tokens dropped). */
export function tokenIds(text: string, ids: Map<string, number>): number[] {
  const out: number[] = [];
  for (const token of tokenize(text)) {
    const id = ids.get(token);
    if (id !== undefined) out.push(id);
  }
  return out;
}

export function vocabularyIds(pre: TextPreprocessing): Map<string, number> {
  return new Map(pre.vocabulary.map((token, i) => [token, i + 1]));
}

/**
 * The ONNX input of texts: token ids [texts, longest], right-padded with 0 (the reference implementation of
 * `TextPreprocessing`). A batch of texts without any known token still has one column.
 */
export function encodeTexts(pre: TextPreprocessing, texts: string[]): { data: BigInt64Array; dims: [number, number] } {
  const ids = vocabularyIds(pre);
  const rows = texts.map((t) => tokenIds(t, ids));
  const width = Math.max(1, ...rows.map((r) => r.length));
  const data = new BigInt64Array(texts.length * width);
  rows.forEach((row, r) => row.forEach((id, i) => (data[r * width + i] = BigInt(id))));
  return { data, dims: [texts.length, width] };
}

/** The bag-of-words rows the TF.js graph takes: each known token's count over the row's known-token count. */
export function fillBags(rows: number[][], vocabulary: number, out: Float32Array): void {
  out.fill(0);
  rows.forEach((ids, r) => {
    const weight = 1 / ids.length;
    for (const id of ids) out[r * vocabulary + id - 1] = (out[r * vocabulary + id - 1] as number) + weight;
  });
}
