import { describe, expect, test } from 'vitest';
import type { JobLogLine } from '#shared/contracts/trainos';
import { formatPlacement, LogTail } from './training-jobs';

/** A log line and the byte offset after it, as if each line took 10 bytes. */
function line(n: number): { line: JobLogLine; nextByte: number } {
  return { line: { time: n, stream: 'stdout', text: `line ${n}` }, nextByte: (n + 1) * 10 };
}

function page(from: number, to: number, atEnd = false) {
  const lines = [];
  for (let n = from; n < to; n++) lines.push(line(n).line);
  return { lines, nextByte: to * 10, atEnd };
}

const texts = (tail: LogTail) => tail.lines.map((l) => l.text);

describe('LogTail', () => {
  test('reads the stored log page by page, then follows live lines, dropping those it already has', () => {
    const tail = new LogTail(100);
    expect(tail.startRead()).toBe(0);
    expect(tail.finishRead(0, page(0, 3))).toBe('more');
    expect(tail.startRead()).toBe(30);
    expect(tail.finishRead(30, page(3, 3))).toBe('done');
    for (const n of [2, 3, 4]) tail.addLive(line(n).line, line(n).nextByte);
    expect(texts(tail)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(tail.nextByte).toBe(50);
  });

  test('holds live lines while a read is out and joins them after it without gaps or repeats', () => {
    const tail = new LogTail(100);
    tail.startRead();
    // Written while the first page was being read: lines 2 and 3 are both in the page and live.
    for (const n of [2, 3, 4]) tail.addLive(line(n).line, line(n).nextByte);
    expect(tail.lines).toEqual([]);
    expect(tail.finishRead(0, page(0, 4))).toBe('done');
    expect(texts(tail)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  test('reads on while a page stops short of the live lines waiting, so none is skipped', () => {
    const tail = new LogTail(100);
    tail.startRead();
    tail.addLive(line(5).line, line(5).nextByte);
    // The page ends at line 2 (maxBytes): lines 2..4 are still only in the file.
    expect(tail.finishRead(0, page(0, 2))).toBe('more');
    expect(tail.finishRead(tail.startRead(), page(2, 5))).toBe('more');
    expect(tail.finishRead(tail.startRead(), page(5, 6))).toBe('done');
    expect(texts(tail)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  test("is done when the job's log has ended, and ignores a page that does not continue what it holds", () => {
    const tail = new LogTail(100);
    tail.startRead();
    expect(tail.finishRead(20, page(2, 3))).toBe('more');
    expect(tail.finishRead(0, page(0, 2, true))).toBe('done');
    expect(texts(tail)).toEqual(['line 0', 'line 1']);
  });

  test('keeps only the last lines of a long log and counts those let go', () => {
    const tail = new LogTail(10);
    tail.startRead();
    tail.finishRead(0, page(0, 0, false));
    for (let n = 0; n < 25; n++) tail.addLive(line(n).line, line(n).nextByte);
    expect(tail.lines.length + tail.dropped).toBe(25);
    expect(tail.lines.length).toBeLessThanOrEqual(11);
    expect(tail.lines.at(-1)?.text).toBe('line 24');
  });
});

describe('formatPlacement', () => {
  test('names the GPUs, or the CPU, or nothing before a job is placed', () => {
    expect(formatPlacement({ gpus: [0, 1], cudaVisibleDevices: '0,1' })).toBe('GPU 0,1');
    expect(formatPlacement({ gpus: [], cudaVisibleDevices: '' })).toBe('CPU');
    expect(formatPlacement(null)).toBeNull();
  });
});
