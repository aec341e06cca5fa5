import { closeSync, fstatSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import type { LogLine, LogPage, LogPageQuery, LogStream } from './executor';

// ---------------------------------------------------------------------------------------------------------------
// A job's log: its output, written by the job to raw capture files, moved into one file of timestamped lines that
// every executor shares (so the app shows a Slurm job's log like a local one's).
// ---------------------------------------------------------------------------------------------------------------

/** Longer lines are split: one line must not hold a megabyte of progress bar in memory or in an event. */
const MAX_LINE_BYTES = 64 * 1024;
/** A stored line is at most this long: a split line of invalid bytes (3 bytes each once replaced) and its prefix. */
const MAX_STORED_LINE_BYTES = MAX_LINE_BYTES * 3 + 64;
/** Captured output moved to the log per stream and poll, so that a flood of output does not stall the app. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
const DEFAULT_PAGE_BYTES = 1024 * 1024;

export const STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** The log files of a job, next to its log. */
export interface CaptureFiles {
  log: string;
  /** The process writes its output straight to these, so it never depends on the app being alive to read it. */
  capture: Record<LogStream, string>;
  /** How many bytes of each capture file are already in the log, for the instance that adopts the job. */
  captureOffsets: string;
}

export function captureFiles(logFile: string): CaptureFiles {
  return {
    log: logFile,
    capture: { stdout: `${logFile}.stdout.raw`, stderr: `${logFile}.stderr.raw` },
    captureOffsets: `${logFile}.raw-offsets.json`,
  };
}

/** Once a job's output is all in its log, its capture files go. */
export function removeCaptureFiles(files: CaptureFiles): void {
  for (const file of [files.capture.stdout, files.capture.stderr, files.captureOffsets]) {
    rmSync(file, { force: true });
  }
}

const captureOffsetsSchema = z.object({ stdout: z.number().int().min(0), stderr: z.number().int().min(0) });

function readCaptureOffsets(file: string): Record<LogStream, number> {
  try {
    return captureOffsetsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return { stdout: 0, stderr: 0 }; // not written yet: nothing was moved to the log
  }
}

export function isErrnoError(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/** Backs off from `at` to the start of a UTF-8 character, so a split does not cut one in two. */
function utf8Boundary(bytes: Buffer, at: number): number {
  let cut = at;
  while (cut > at - 3 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}

function decodeLine(bytes: Buffer): string {
  const withoutCr = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes;
  return withoutCr.toString('utf8'); // invalid UTF-8 becomes U+FFFD
}

/** Whole lines from `bytes` (and the unterminated rest when `final`), and how many bytes they used. */
function splitLines(bytes: Buffer, final: boolean): { lines: string[]; consumed: number } {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const found = bytes.subarray(start, start + MAX_LINE_BYTES + 1).indexOf(0x0a);
    const newline = found === -1 ? -1 : start + found;
    const lineEnd = newline === -1 ? bytes.length : newline;
    if (lineEnd - start > MAX_LINE_BYTES) {
      const cut = utf8Boundary(bytes, start + MAX_LINE_BYTES);
      lines.push(decodeLine(bytes.subarray(start, cut)));
      start = cut;
    } else if (newline !== -1) {
      lines.push(decodeLine(bytes.subarray(start, newline)));
      start = newline + 1;
    } else break;
  }
  if (final && start < bytes.length) {
    lines.push(decodeLine(bytes.subarray(start)));
    start = bytes.length;
  }
  return { lines, consumed: start };
}

function formatLogLine(line: LogLine): string {
  return `${new Date(line.time).toISOString()} ${line.stream} ${line.text}\n`;
}

/** Null for a line that is not one of ours (a page that starts mid-line). */
function parseLogLine(stored: string): LogLine | null {
  const afterTime = stored.indexOf(' ');
  const afterStream = stored.indexOf(' ', afterTime + 1);
  const time = Date.parse(stored.slice(0, afterTime));
  const stream = stored.slice(afterTime + 1, afterStream);
  if (afterTime === -1 || afterStream === -1 || Number.isNaN(time)) return null;
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  return { time, stream, text: stored.slice(afterStream + 1) };
}

/** Reads what a process appends to one capture file, from where the log left off. */
class CaptureReader {
  private fd: number | null = null;
  private pending = Buffer.alloc(0);

  constructor(
    private readonly file: string,
    /** Bytes already moved to the log: whole lines only. */
    public consumed: number,
  ) {}

  /** The next whole lines (and the unterminated rest when `final`); `more` when output was left for later. */
  read(final: boolean): { lines: string[]; more: boolean } {
    const fd = this.openIfPresent();
    if (fd === null) return { lines: [], more: false };
    const from = this.consumed + this.pending.length;
    const available = fstatSync(fd).size - from;
    const length = Math.max(0, Math.min(available, READ_CHUNK_BYTES));
    const fresh = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const got = readSync(fd, fresh, filled, length - filled, from + filled);
      if (got === 0) break;
      filled += got;
    }
    const more = available > filled;
    const bytes = Buffer.concat([this.pending, fresh.subarray(0, filled)]);
    const { lines, consumed } = splitLines(bytes, final && !more);
    this.pending = Buffer.from(bytes.subarray(consumed));
    this.consumed += consumed;
    return { lines, more };
  }

  private openIfPresent(): number | null {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.file, 'r');
      } catch (err) {
        if (isErrnoError(err, 'ENOENT')) return null;
        throw err;
      }
    }
    return this.fd;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Appends timestamped lines to a job's log file, counting its bytes so each line's `nextByte` is known. */
export class LogAppender {
  private readonly fd: number;
  private bytes: number;

  constructor(logFile: string) {
    this.fd = openSync(logFile, 'a');
    this.bytes = fstatSync(this.fd).size;
  }

  /** Writes the lines, then hands each on with the log offset after it. */
  append(lines: readonly LogLine[], onLine: (line: LogLine, nextByte: number) => void, written?: () => void): void {
    const stored = lines.map((line) => Buffer.from(formatLogLine(line)));
    const bytes = Buffer.concat(stored);
    for (let at = 0; at < bytes.length;) at += writeSync(this.fd, bytes, at);
    written?.();
    lines.forEach((line, i) => {
      this.bytes += stored[i]?.length ?? 0;
      onLine(line, this.bytes);
    });
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Moves a job's captured output into its log as timestamped lines, and hands each line on. */
export class OutputFollower {
  private readonly readers: Record<LogStream, CaptureReader>;
  private readonly log: LogAppender;

  constructor(
    private readonly files: CaptureFiles,
    private readonly onLine: (line: LogLine, nextByte: number) => void,
  ) {
    const offsets = readCaptureOffsets(files.captureOffsets);
    this.readers = {
      stdout: new CaptureReader(files.capture.stdout, offsets.stdout),
      stderr: new CaptureReader(files.capture.stderr, offsets.stderr),
    };
    this.log = new LogAppender(files.log);
  }

  /**
   * Moves what is new; `final` moves everything, unterminated last lines included. Lines of the two streams are
   * ordered within a stream, and across streams only from one poll to the next.
   */
  pump(final: boolean): void {
    for (let more = true; more;) {
      more = false;
      const time = Date.now();
      const lines: LogLine[] = [];
      for (const stream of STREAMS) {
        const read = this.readers[stream].read(final);
        for (const text of read.lines) lines.push({ time, stream, text });
        more ||= read.more;
      }
      if (lines.length > 0) {
        // Offsets recorded after the lines are in the log: a crash in between repeats lines on adoption, never
        // loses them.
        this.log.append(lines, this.onLine, () =>
          writeFileSync(
            this.files.captureOffsets,
            JSON.stringify({ stdout: this.readers.stdout.consumed, stderr: this.readers.stderr.consumed }),
          ),
        );
      }
      more &&= final; // otherwise the next poll takes the rest
    }
  }

  close(): void {
    this.log.close();
    for (const stream of STREAMS) this.readers[stream].close();
  }
}

/**
 * A page of whole lines of a job's log file (any job's, tracked or not: an ended job's log outlives the
 * executor). `ended`: whether the job has ended, so that a page reaching the end of the file is its last.
 */
export async function readLogFile(logFile: string, query: LogPageQuery, ended: boolean): Promise<LogPage> {
  const fromByte = query.fromByte ?? 0;
  let file;
  try {
    file = await open(logFile, 'r');
  } catch (err) {
    if (isErrnoError(err, 'ENOENT')) return { lines: [], nextByte: fromByte, atEnd: ended };
    throw err;
  }
  try {
    const size = (await file.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, Math.min(size - fromByte, query.maxBytes ?? DEFAULT_PAGE_BYTES)));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, fromByte);
    let whole = buffer.subarray(0, bytesRead);
    let end = whole.lastIndexOf(0x0a) + 1;
    if (end === 0 && bytesRead < size - fromByte) {
      // A page holds at least one whole line, however small `maxBytes` is.
      const longer = Buffer.alloc(Math.min(size - fromByte, MAX_STORED_LINE_BYTES));
      whole = longer.subarray(0, (await file.read(longer, 0, longer.length, fromByte)).bytesRead);
      end = whole.indexOf(0x0a) + 1;
    }
    const lines = whole
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .slice(0, -1)
      .map(parseLogLine)
      .filter((line): line is LogLine => line !== null);
    return { lines, nextByte: fromByte + end, atEnd: ended && fromByte + end >= size };
  } finally {
    await file.close();
  }
}
