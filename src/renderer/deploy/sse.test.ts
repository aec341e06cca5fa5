import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseEvent } from './sse';

function parseAll(chunks: readonly string[]): SseEvent[] {
  const parser = new SseParser();
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

function body(chunks: readonly (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? encoder.encode(c) : c);
      controller.close();
    },
  });
}

describe('SseParser', () => {
  it('dispatches one event per blank line, with the space after "data:" dropped', () => {
    expect(parseAll(['data: {"a":1}\n\ndata: [DONE]\n\n'])).toEqual([
      { event: 'message', data: '{"a":1}', id: null },
      { event: 'message', data: '[DONE]', id: null },
    ]);
  });

  it('joins several data lines with newlines and reads event and id fields', () => {
    expect(parseAll(['event: delta\nid: 7\ndata: one\ndata:two\n\n'])).toEqual([
      { event: 'delta', data: 'one\ntwo', id: '7' },
    ]);
  });

  it('ignores comments and events without data', () => {
    expect(parseAll([': keep-alive\n\nevent: ping\n\ndata: x\n\n'])).toEqual([
      { event: 'message', data: 'x', id: null },
    ]);
  });

  it('puts lines split across chunks back together, wherever the chunks end', () => {
    const text = 'data: {"choices":[{"delta":{"content":" fox"}}]}\n\ndata: [DONE]\n\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(parseAll([text.slice(0, cut), text.slice(cut)]).map((e) => e.data)).toEqual([
        '{"choices":[{"delta":{"content":" fox"}}]}',
        '[DONE]',
      ]);
    }
  });

  it('takes CRLF and CR line ends, also a CRLF split between two chunks', () => {
    expect(parseAll(['data: a\r\n\r\ndata: b\r\r'])).toEqual([
      { event: 'message', data: 'a', id: null },
      { event: 'message', data: 'b', id: null },
    ]);
    // The CR ends the line; the LF that follows in the next chunk must not end another (an empty one).
    expect(parseAll(['data: a\r', '\ndata: b\r\n', '\r\n']).map((e) => e.data)).toEqual(['a\nb']);
  });

  it('drops an event the stream cut off before its blank line', () => {
    expect(parseAll(['data: whole\n\ndata: half'])).toEqual([{ event: 'message', data: 'whole', id: null }]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 characters split between network chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo – ✓\n\n');
    const events: SseEvent[] = [];
    for await (const e of readSse(body([bytes.slice(0, 8), bytes.slice(8, 17), bytes.slice(17)]))) events.push(e);
    expect(events.map((e) => e.data)).toEqual(['héllo – ✓']);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: more\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const e of readSse(stream)) {
      expect(e.data).toBe('more');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
