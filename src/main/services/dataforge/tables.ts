import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';

export type TableFormat = 'csv' | 'tsv' | 'jsonl';

export function tableFormatOf(path: string): TableFormat | undefined {
  const m = /\.(csv|tsv|jsonl|ndjson)$/i.exec(path);
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
export async function readTable(source: Readable, format: TableFormat, visitor: TableVisitor): Promise<void> {
  if (format === 'jsonl') return readJsonl(source, visitor);
  const parser = parse({
    delimiter: format === 'tsv' ? '\t' : ',',
    bom: true,
    // Files edited on several systems mix line endings; detecting one from the first line would glue the rest.
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
  });
  let header: string[] | undefined;
  let stopped = false;
  parser.on('skip', (err: Error & { lines?: number }) => visitor.bad(err.lines ?? 0, err.message));
  const feeding = (async () => {
    for await (const chunk of source) {
      if (stopped) break;
      if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
    }
    parser.end();
  })();
  // A visitor that throws or stops early must not leave the feeder writing into a closed parser.
  feeding.catch(() => undefined);
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      if (!header) {
        header = record.map((name, i) => name.trim() || `column_${i + 1}`);
        visitor.columns(header);
        continue;
      }
      if (record.length !== header.length) {
        visitor.bad(info.lines, `expected ${header.length} fields, found ${record.length}`);
        continue;
      }
      if (record.some((v) => v.includes('\uFFFD'))) {
        visitor.bad(info.lines, 'not valid UTF-8');
        continue;
      }
      if (
        visitor.row(
          record.map((v) => (v === '' ? null : v)),
          info.lines,
        ) === false
      )
        break;
    }
    if (!header) visitor.columns([]);
  } finally {
    stopped = true;
    source.destroy();
    parser.destroy();
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
