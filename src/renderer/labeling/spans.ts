import type { TextSpan } from '#shared/contracts/labeling';

/** A run of the text: plain, or inside one span. Renders NER text with its spans highlighted. */
export interface Segment {
  start: number;
  end: number;
  span: TextSpan | null;
}

/** Cuts `text` into runs at the spans' edges; spans are taken in order and one that overlaps an earlier one is left out. */
export function segmentText(text: string, spans: readonly TextSpan[]): Segment[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Segment[] = [];
  let at = 0;
  for (const span of sorted) {
    if (span.start < at || span.end > text.length || span.end <= span.start) continue;
    if (span.start > at) out.push({ start: at, end: span.start, span: null });
    out.push({ start: span.start, end: span.end, span });
    at = span.end;
  }
  if (at < text.length || out.length === 0) out.push({ start: at, end: text.length, span: null });
  return out;
}

/**
 * The span a selection makes: its ends ordered and moved in past white space (a double-click often takes the
 * space after a word). Null when nothing but white space is selected.
 */
export function trimRange(text: string, a: number, b: number): { start: number; end: number } | null {
  let start = Math.max(0, Math.min(a, b));
  let end = Math.min(text.length, Math.max(a, b));
  while (start < end && /\s/.test(text[start] as string)) start++;
  while (end > start && /\s/.test(text[end - 1] as string)) end--;
  return end > start ? { start, end } : null;
}

/** Adds a span, dropping the ones it overlaps (the newest selection wins); the result is in text order. */
export function addSpan(spans: readonly TextSpan[], span: TextSpan): TextSpan[] {
  return [...spans.filter((s) => s.end <= span.start || s.start >= span.end), span].sort(
    (a, b) => a.start - b.start || a.end - b.end,
  );
}

export function removeSpan(spans: readonly TextSpan[], span: Pick<TextSpan, 'start' | 'end'>): TextSpan[] {
  return spans.filter((s) => s.start !== span.start || s.end !== span.end);
}
