/**
 * What the request log table shows of an entry's input: a chat's messages as "role: text" lines (they are logged
 * as the JSON of the request's `messages`), anything else as it was logged.
 */
export function inputPreview(input: string): string {
  const t = input.trim();
  if (!t.startsWith('[')) return input;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    // Cut to the log's size, a chat's JSON no longer parses: shown as it is.
    return input;
  }
  if (!Array.isArray(parsed) || !parsed.every(isMessage)) return input;
  return parsed.map((m) => `${m.role}: ${contentText(m.content)}`).join('\n');
}

function isMessage(value: unknown): value is { role: string; content: unknown } {
  return typeof value === 'object' && value !== null && 'role' in value && typeof value.role === 'string';
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string' ? part.text : '',
      )
      .join('');
  }
  return content === null || content === undefined ? '' : JSON.stringify(content);
}

/** What the request log keeps at a sample rate, in words: it keeps every failure whatever the rate (but 0: off). */
export function sampleRateText(sampleRate: number): string {
  if (sampleRate <= 0) return 'off';
  if (sampleRate >= 1) return 'every request';
  return `${+(sampleRate * 100).toPrecision(3)}% of successful requests and every failure`;
}
