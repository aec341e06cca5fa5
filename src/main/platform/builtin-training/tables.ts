import { readFileSync } from 'node:fs';
import { AppError } from '#shared/errors';

/** A cell as read: text, or null for a missing value (an empty field, a JSON null or an absent key), as DataForge reads tables. */
export type Cell = string | null;

export interface Table {
  columns: string[];
  rows: Cell[][];
}

export const TABLE_EXTENSIONS = /\.(csv|tsv|jsonl|ndjson)$/i;

/** Reads a CSV, TSV or JSONL file whole; rows that cannot be read are skipped and counted in `skipped`. */
export function readTableFile(file: string): Table & { skipped: number } {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  if (/\.(jsonl|ndjson)$/i.test(file)) return parseJsonl(text);
  if (/\.(csv|tsv)$/i.test(file)) return parseDelimited(text, /\.tsv$/i.test(file) ? '\t' : ',');
  throw new AppError('INVALID_ARGUMENT', `'${file}' is not a table the built-in trainers read (CSV, TSV or JSONL)`);
}

/** RFC 4180: quoted fields, doubled quotes, line breaks inside quotes; CRLF, LF or CR line ends. */
export function parseDelimited(text: string, delimiter: string): Table & { skipped: number } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(field);
    field = '';
    // A blank line is no record.
    if (record.length > 1 || record[0] !== '') records.push(record);
    record = [];
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (field !== '' || record.length > 0) endRecord();
  const [header, ...body] = records;
  if (!header) return { columns: [], rows: [], skipped: 0 };
  const rows: Cell[][] = [];
  let skipped = 0;
  for (const values of body) {
    if (values.length !== header.length) skipped++;
    else rows.push(values.map((v) => (v.trim() === '' ? null : v)));
  }
  return { columns: header, rows, skipped };
}

/** One JSON object per line; the columns are the keys in order of first appearance. */
export function parseJsonl(text: string): Table & { skipped: number } {
  const objects: Record<string, unknown>[] = [];
  let skipped = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        objects.push(value as Record<string, unknown>);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  const columns = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return { columns, rows: objects.map((o) => columns.map((c) => cellOf(o[c]))), skipped };
}

/** JSON values as text cells, the way DataForge renders them. */
export function cellOf(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export function columnIndex(table: Table, name: string, role: string): number {
  const index = table.columns.indexOf(name);
  if (index < 0)
    throw new AppError(
      'INVALID_ARGUMENT',
      `the ${role} column '${name}' is not in the table (columns: ${table.columns.join(', ')})`,
    );
  return index;
}
