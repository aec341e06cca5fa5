import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Formats read from a byte stream by `readTable`. */
export type TextTableFormat = 'csv' | 'tsv' | 'jsonl';
/** Every table format; Parquet needs random access and is read by `readParquet` (parquet.ts). */
export type TableFormat = TextTableFormat | 'parquet';

export function tableFormatOf(path: string): TableFormat | undefined {
  const m = /\.(csv|tsv|jsonl|ndjson|parquet)$/i.exec(path);
  if (!m) return undefined;
  const ext = (m[1] as string).toLowerCase();
  return ext === 'ndjson' ? 'jsonl' : (ext as TableFormat);
}

/** Values as read: strings, and null for a missing one (an empty CSV field, a JSON null or absent key). */
export type Row = (string | null)[];

export interface TableVisitor {
  /** Called once, before any row, with the column names. */
  columns(names: string[]): void;
  /** One good row with its 1-based line number in the file. Return false to stop reading. */
  row(values: Row, line: number): boolean | void;
  /** A row that could not be read, with why; reading goes on. */
  bad(line: number, reason: string): void;
}

const JSONL_COLUMN_SAMPLE = 100;

/**
 * Streams a table row by row, never holding the file in memory. CSV/TSV: the first record is the header;
 * a row with another number of fields, bad quoting or invalid UTF-8 is reported with its line and skipped.
 * JSONL: one object per line; the columns are the keys of the first rows, in order of appearance.
 */
export async function readTable(source: Readable, format: TextTableFormat, visitor: TableVisitor): Promise<void> {
  if (format === 'jsonl') return readJsonl(source, visitor);
  const reader = new DelimitedReader(format === 'tsv' ? '\t' : ',', visitor);
  try {
    for await (const chunk of source) if (!reader.push(chunk as Buffer)) return;
    reader.end();
  } finally {
    source.destroy();
  }
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/** A record being read: its fields so far, and the quoted field a line break is inside of, if any. */
interface PartialRecord {
  fields: string[];
  /** The quoted field open at the end of the last line, its line break included. */
  open: string | undefined;
  startLine: number;
  invalidUtf8: boolean;
}

/**
 * CSV/TSV as RFC 4180 has it (quoted fields, doubled quotes, line breaks inside quotes), with the line endings
 * of files edited on several systems mixed (CRLF, LF, a lone CR). It splits bytes into lines and decodes each
 * line on its own, so a value keeps only its line alive (not a whole chunk), and a line without a quote is
 * split with `split`: most lines take that path, which is many times faster than a character-by-character
 * parser. A record that cannot be read is reported with its line, and reading resumes at the next line.
 */
class DelimitedReader {
  /** Lines read so far; while a line is handled, its own number. */
  private line = 0;
  /** The start of a line that the end of a chunk cut (or a lone CR that a LF may follow), in pieces. */
  private tail: Buffer[] = [];
  private pending: PartialRecord | undefined;
  private header: string[] | undefined;

  constructor(
    private readonly delimiter: string,
    private readonly visitor: TableVisitor,
  ) {}

  /** Reads the complete lines of a chunk; false once the visitor asked to stop. */
  push(chunk: Buffer): boolean {
    // A line longer than a chunk is gathered in pieces and joined once it ends, not copied again at every chunk.
    if (this.tail.length > 0 && chunk.indexOf(LF) === -1 && chunk.indexOf(CR) === -1) {
      this.tail.push(chunk);
      return true;
    }
    const bytes = this.tail.length > 0 ? Buffer.concat([...this.tail, chunk]) : chunk;
    const pos = this.readLines(bytes, false);
    if (pos < 0) return false;
    this.tail = pos < bytes.length ? [bytes.subarray(pos)] : [];
    return true;
  }

  end(): void {
    if (this.tail.length > 0 && this.readLines(Buffer.concat(this.tail), true) < 0) return;
    this.tail = [];
    if (this.pending) {
      const line = this.pending.startLine;
      this.visitor.bad(line, `Quote Not Closed: the parsing is finished with an opening quote at line ${line}`);
    }
    if (!this.header) this.visitor.columns([]);
  }

  /**
   * Handles every line of `bytes` (the last one too when `final`); returns where the unread rest starts, or -1
   * once the visitor asked to stop.
   */
  private readLines(bytes: Buffer, final: boolean): number {
    const length = bytes.length;
    let pos = 0;
    let lf = -1;
    // Most files hold no CR at all: then each line is found with one search.
    let cr = bytes.indexOf(CR) === -1 ? length : -1;
    while (pos < length) {
      if (lf < pos) {
        const found = bytes.indexOf(LF, pos);
        lf = found === -1 ? length : found;
      }
      if (cr < pos) {
        const found = bytes.indexOf(CR, pos);
        cr = found === -1 ? length : found;
      }
      let end: number;
      let next: number;
      let terminator: string;
      if (cr < lf) {
        if (cr + 1 === length && !final) break; // a LF may start the next chunk
        end = cr;
        terminator = bytes[cr + 1] === LF ? '\r\n' : '\r';
        next = cr + terminator.length;
      } else if (lf < length) {
        end = lf;
        next = lf + 1;
        terminator = '\n';
      } else if (final) {
        end = length;
        next = length;
        terminator = '';
      } else break;
      this.line++;
      if (!this.readLine(bytes.toString('utf8', pos, end), terminator)) return -1;
      pos = next;
    }
    return pos;
  }

  private readLine(decoded: string, terminator: string): boolean {
    const text = this.line === 1 && decoded.charCodeAt(0) === BOM ? decoded.slice(1) : decoded;
    if (this.pending) return this.parse(text, terminator, this.pending);
    if (text.length === 0) return true;
    if (text.indexOf('"') === -1) return this.record(text.split(this.delimiter), text.includes('\uFFFD'));
    return this.parse(text, terminator, { fields: [], open: undefined, startLine: this.line, invalidUtf8: false });
  }

  /** Reads the fields of a line that holds quotes, or continues a record whose quoted field spans lines. */
  private parse(text: string, terminator: string, record: PartialRecord): boolean {
    const { fields } = record;
    const length = text.length;
    const delimiter = this.delimiter;
    record.invalidUtf8 ||= text.includes('\uFFFD');
    let i = 0;
    let quoted = record.open;
    for (;;) {
      if (quoted !== undefined) {
        const close = text.indexOf('"', i);
        if (close === -1) {
          record.open = quoted + text.slice(i) + terminator;
          this.pending = record;
          return true;
        }
        quoted += text.slice(i, close);
        const after = close + 1;
        if (after === length) {
          fields.push(quoted);
          break;
        }
        const c = text[after];
        if (c === '"') {
          quoted += '"';
          i = after + 1;
        } else if (c === delimiter) {
          fields.push(quoted);
          quoted = undefined;
          i = after + 1;
        } else {
          return this.unreadable(
            `Invalid Closing Quote: got "${c}" at line ${this.line} instead of a delimiter or the end of the line`,
          );
        }
        continue;
      }
      if (text.charCodeAt(i) === QUOTE) {
        quoted = '';
        i++;
        continue;
      }
      const next = text.indexOf(delimiter, i);
      const end = next === -1 ? length : next;
      const quote = text.indexOf('"', i);
      if (quote !== -1 && quote < end) {
        const where = `field ${fields.length} at line ${this.line}`;
        return this.unreadable(
          `Invalid Opening Quote: a quote is found on ${where}, value is "${text.slice(i, quote)}"`,
        );
      }
      fields.push(text.slice(i, end));
      if (next === -1) break;
      i = next + 1;
    }
    this.pending = undefined;
    return this.record(fields, record.invalidUtf8);
  }

  private unreadable(reason: string): boolean {
    this.pending = undefined;
    this.visitor.bad(this.line, reason);
    return true;
  }

  /** A complete record, reported on the line it ends on: the header, a row, or a row that cannot be used. */
  private record(fields: string[], invalidUtf8: boolean): boolean {
    if (!this.header) {
      this.header = fields.map((name, i) => name.trim() || `column_${i + 1}`);
      this.visitor.columns(this.header);
      return true;
    }
    if (fields.length !== this.header.length) {
      this.visitor.bad(this.line, `expected ${this.header.length} fields, found ${fields.length}`);
      return true;
    }
    if (invalidUtf8) {
      this.visitor.bad(this.line, 'not valid UTF-8');
      return true;
    }
    const row: Row = fields;
    for (let i = 0; i < row.length; i++) if (row[i] === '') row[i] = null;
    return this.visitor.row(row, this.line) !== false;
  }
}

async function readJsonl(source: Readable, visitor: TableVisitor): Promise<void> {
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  const pending: { obj: Record<string, unknown>; line: number }[] = [];
  let columns: string[] | undefined;
  const seen = new Set<string>();
  let lineNo = 0;
  const toRow = (obj: Record<string, unknown>): Row =>
    (columns as string[]).map((c) => {
      const v = obj[c];
      if (v === null || v === undefined) return null;
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  const flush = (): boolean => {
    if (!columns) {
      columns = [...seen];
      visitor.columns(columns);
    }
    for (const p of pending.splice(0)) if (visitor.row(toRow(p.obj), p.line) === false) return false;
    return true;
  };
  try {
    await readJsonlLines();
  } finally {
    lines.close();
    source.destroy();
  }

  async function readJsonlLines(): Promise<void> {
    for await (const text of lines) {
      lineNo++;
      if (text.trim() === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (err) {
        visitor.bad(lineNo, `not valid JSON: ${(err as Error).message}`);
        continue;
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        visitor.bad(lineNo, 'not a JSON object');
        continue;
      }
      if (!columns) {
        for (const k of Object.keys(obj)) seen.add(k);
        pending.push({ obj: obj as Record<string, unknown>, line: lineNo });
        if (pending.length >= JSONL_COLUMN_SAMPLE && !flush()) break;
      } else if (visitor.row(toRow(obj as Record<string, unknown>), lineNo) === false) break;
    }
    if (!columns || pending.length > 0) flush();
  }
}
