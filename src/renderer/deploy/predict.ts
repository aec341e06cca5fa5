import type { PredictOutput } from '#shared/contracts/deploy';

/**
 * The predict playground's pure parts (ONNX, TF.js): rows typed as CSV or JSON for a tabular model, an input
 * template from the model's v2 metadata, and how an answer is shown.
 */

export type Row = Record<string, unknown>;

/** A CSV cell as a JSON value: numbers as numbers, `true`/`false` as booleans, an empty cell as null. */
function cellValue(cell: string): unknown {
  const t = cell.trim();
  if (t === '') return null;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return t;
}

/** One CSV line's cells (RFC 4180 quoting: `"a, b"` and `""` inside quotes). */
function csvCells(line: string, delimiter: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/**
 * Rows from what was typed: a JSON array of objects (or one object), or CSV with a header line (comma, semicolon
 * or tab separated).
 */
export function parseRows(text: string): { rows: Row[] } | { error: string } {
  const t = text.trim();
  if (t === '') return { error: 'Type or paste rows: CSV with a header line, or JSON objects.' };
  if (t.startsWith('[') || t.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (err) {
      return { error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0) return { error: 'No rows.' };
    if (!list.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      return { error: 'Each row must be an object of column values.' };
    }
    return { rows: list as Row[] };
  }
  const lines = t.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const delimiter = header.includes('\t') ? '\t' : header.includes(';') && !header.includes(',') ? ';' : ',';
  const names = csvCells(header, delimiter).map((n) => n.trim());
  if (lines.length < 2) return { error: 'CSV needs a header line and at least one row.' };
  const rows: Row[] = [];
  for (const [i, line] of lines.slice(1).entries()) {
    const cells = csvCells(line, delimiter);
    if (cells.length !== names.length) {
      return { error: `Row ${i + 1} has ${cells.length} cells; the header names ${names.length} columns.` };
    }
    rows.push(Object.fromEntries(names.map((n, j) => [n, cellValue(cells[j] as string)])));
  }
  return { rows };
}

/** The columns of some rows, in the order they first appear. */
export function columnsOf(rows: readonly Row[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
  return [...seen];
}

export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/**
 * A request body for `deployments.predict` from the model's inputs: one row of zeros per input, variable
 * dimensions (-1) taken as 1, to edit before sending.
 */
export function tensorTemplate(inputs: readonly MetadataTensor[]): string {
  const body = {
    inputs: Object.fromEntries(
      inputs.map((input) => {
        const shape = input.shape.map((d) => (d < 0 ? 1 : d));
        const size = shape.reduce((n, d) => n * d, 1);
        const zero = input.datatype === 'BYTES' ? '' : input.datatype === 'BOOL' ? false : 0;
        return [input.name, { shape, data: new Array<unknown>(Math.min(size, 100_000)).fill(zero) }];
      }),
    ),
  };
  // One tensor per line, its data on one line: readable without scrolling through hundreds of zeros.
  const lines = Object.entries(body.inputs).map(([name, t]) => `    ${JSON.stringify(name)}: ${JSON.stringify(t)}`);
  return `{\n  "inputs": {\n${lines.join(',\n')}\n  }\n}`;
}

/** What a tabular prediction says, in a table's cells. */
export function predictionCells(p: NonNullable<PredictOutput['predictions']>[number]): {
  prediction: string;
  confidence: number | null;
} {
  if ('value' in p) return { prediction: String(Number(p.value.toPrecision(6))), confidence: null };
  const top = Math.max(...Object.values(p.probabilities));
  return { prediction: p.label, confidence: Number.isFinite(top) ? top : null };
}

/** An output tensor in short: its first values, and where the largest is (a classifier's answer). */
export function tensorSummary(
  data: readonly (number | boolean | string)[],
  first = 10,
): { head: string; argmax: number | null } {
  const head = data
    .slice(0, first)
    .map((v) => (typeof v === 'number' ? String(Number(v.toPrecision(5))) : JSON.stringify(v)))
    .join(', ');
  let argmax: number | null = null;
  data.forEach((v, i) => {
    if (typeof v === 'number' && (argmax === null || v > (data[argmax] as number))) argmax = i;
  });
  return { head: data.length > first ? `${head}, …` : head, argmax };
}
