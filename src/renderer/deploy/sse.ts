/**
 * Server-sent events as the WHATWG spec parses them (the parts OpenAI's streams use): `data:` lines joined by
 * newlines, `event:` and `id:` fields, `:` comments, and an event dispatched at each blank line. Lines may end in
 * CRLF, LF or CR, and a chunk may end anywhere, even between a CR and its LF. Pure, so it is tested without a
 * server.
 */

export interface SseEvent {
  /** `message` unless an `event:` field named another. */
  event: string;
  data: string;
  id: string | null;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | null = null;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  private pendingCr = false;

  /** Feeds one decoded chunk; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /**
   * The stream ended. A last line without its terminator still counts, but an event without its blank line is
   * dropped, as the spec says (a cut-off stream must not deliver half an event).
   */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer !== '') this.line(this.buffer, out);
    this.buffer = '';
    this.data = [];
    this.event = '';
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}

/**
 * The events of a response body, as they arrive; stops when the body ends, or at once when `signal` aborts (the
 * body is cancelled, which closes the connection).
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent, void, undefined> {
  const reader = body.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  try {
    while (!signal?.aborted) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    if (signal?.aborted) return;
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Left early (the consumer stopped reading): close the connection, which tells the server to stop generating.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
