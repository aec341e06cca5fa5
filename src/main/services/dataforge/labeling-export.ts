import path from 'node:path';
import type { LabelKind, LabelSource, LabelTask, LabelValue } from '#shared/contracts/labeling';
import { AppError } from '#shared/errors';

/** A task with the label that is final for it. */
export interface FinalTask {
  item: string;
  data: LabelTask['data'];
  value: LabelValue;
}

export interface ExportInput {
  kind: LabelKind;
  source: LabelSource;
  /** The table's columns in file order (table sources). */
  columns: readonly string[];
  labels: readonly string[];
  tasks: readonly FinalTask[];
}

/** A file of the exported version: new content, or a file of the source version kept by reference. */
export type ExportFile = { path: string; content: Buffer } | { path: string; from: string };

export type ExportFormat = 'csv' | 'jsonl' | 'coco' | 'yolo';

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csv(rows: readonly (readonly (string | null)[])[]): Buffer {
  return Buffer.from(rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n');
}

function jsonl(objects: readonly object[]): Buffer {
  return Buffer.from(objects.map((o) => JSON.stringify(o)).join('\n') + (objects.length > 0 ? '\n' : ''));
}

/** The column that carries the answer; renamed when the table already has a column of that name. */
function answerColumn(kind: LabelKind, columns: readonly string[]): string {
  const base =
    kind === 'classification' ? 'label' : kind === 'multilabel' ? 'labels' : kind === 'ner' ? 'spans' : 'boxes';
  let name = base;
  for (let i = 1; columns.includes(name); i++) name = `${base}_${i}`;
  return name;
}

/** The answer as one CSV cell: a label, labels joined by "|", or JSON for spans and boxes. */
function answerCell(kind: LabelKind, v: LabelValue): string {
  switch (kind) {
    case 'classification':
      return v.labels?.[0] ?? '';
    case 'multilabel':
      return (v.labels ?? []).join('|');
    case 'ner':
      return JSON.stringify(v.spans ?? []);
    case 'boxes':
      return JSON.stringify(v.boxes ?? []);
  }
}

function answerJson(kind: LabelKind, v: LabelValue): unknown {
  switch (kind) {
    case 'classification':
      return v.labels?.[0] ?? null;
    case 'multilabel':
      return v.labels ?? [];
    case 'ner':
      return v.spans ?? [];
    case 'boxes':
      return v.boxes ?? [];
  }
}

/** The source files the export carries along (images, text files), so the version stands on its own. */
function sourceFiles(input: ExportInput, under = ''): ExportFile[] {
  if (input.source.type === 'table') return [];
  return input.tasks.map((t) => ({ path: `${under}${t.item}`, from: t.item }));
}

/**
 * The files of an export: `labels.csv` or `labels.jsonl` (a table's rows with an answer column; or one line per
 * file, with the files alongside), or for boxes COCO (`images/…` + `annotations.json`) and YOLO (`images/…`,
 * `labels/….txt` with normalised centre boxes, `data.yaml`).
 */
export function exportFiles(input: ExportInput, format: ExportFormat): ExportFile[] {
  const { kind, tasks } = input;
  if ((format === 'coco' || format === 'yolo') && kind !== 'boxes') {
    throw AppError.invalid(
      'format',
      `${format.toUpperCase()} holds bounding boxes; this is a ${kind} project: use csv or jsonl`,
    );
  }
  switch (format) {
    case 'csv': {
      if (input.source.type === 'table') {
        const column = answerColumn(kind, input.columns);
        const rows = tasks.map((t) => [
          ...input.columns.map((c) => t.data.fields?.[c] ?? null),
          answerCell(kind, t.value),
        ]);
        return [{ path: 'labels.csv', content: csv([[...input.columns, column], ...rows]) }];
      }
      if (kind === 'boxes') {
        const rows = tasks.flatMap((t) =>
          (t.value.boxes ?? []).map((b) => [t.item, b.label, fmt(b.x), fmt(b.y), fmt(b.width), fmt(b.height)]),
        );
        return [
          ...sourceFiles(input),
          { path: 'labels.csv', content: csv([['path', 'label', 'x', 'y', 'width', 'height'], ...rows]) },
        ];
      }
      const rows = tasks.map((t) => [t.item, answerCell(kind, t.value)]);
      return [
        ...sourceFiles(input),
        { path: 'labels.csv', content: csv([['path', answerColumn(kind, ['path'])], ...rows]) },
      ];
    }
    case 'jsonl': {
      if (input.source.type === 'table') {
        const column = answerColumn(kind, input.columns);
        return [
          {
            path: 'labels.jsonl',
            content: jsonl(
              tasks.map((t) => ({
                ...Object.fromEntries(input.columns.map((c) => [c, t.data.fields?.[c] ?? null])),
                [column]: answerJson(kind, t.value),
              })),
            ),
          },
        ];
      }
      const lines = tasks.map((t) => ({
        path: t.item,
        ...(kind === 'ner' ? { text: t.data.text } : {}),
        ...(t.data.image ? { width: t.data.image.width, height: t.data.image.height } : {}),
        [answerColumn(kind, [])]: answerJson(kind, t.value),
      }));
      return [...sourceFiles(input), { path: 'labels.jsonl', content: jsonl(lines) }];
    }
    case 'coco':
      return cocoFiles(input);
    case 'yolo':
      return yoloFiles(input);
  }
}

/** Coordinates as plain decimals with at most 4 places (boxes are pixels; more digits is noise). */
function fmt(n: number): string {
  return String(Math.round(n * 10_000) / 10_000);
}

function imageOf(t: FinalTask): NonNullable<LabelTask['data']['image']> {
  if (!t.data.image) throw new AppError('INTERNAL', `task '${t.item}' of a boxes project has no image`);
  return t.data.image;
}

function cocoFiles(input: ExportInput): ExportFile[] {
  const categories = input.labels.map((name, i) => ({ id: i + 1, name, supercategory: '' }));
  const categoryId = new Map(input.labels.map((name, i) => [name, i + 1]));
  const images = input.tasks.map((t, i) => {
    const image = imageOf(t);
    return { id: i + 1, file_name: t.item, width: image.width, height: image.height };
  });
  let annotationId = 0;
  const annotations = input.tasks.flatMap((t, i) =>
    (t.value.boxes ?? []).map((b) => ({
      id: ++annotationId,
      image_id: i + 1,
      category_id: categoryId.get(b.label) as number,
      bbox: [b.x, b.y, b.width, b.height].map((n) => Number(fmt(n))),
      area: Number(fmt(b.width * b.height)),
      iscrowd: 0,
      segmentation: [],
    })),
  );
  const doc = {
    info: { description: 'Exported by AI-DOS DataForge', date_created: new Date().toISOString().slice(0, 10) },
    images,
    annotations,
    categories,
  };
  return [
    ...sourceFiles(input, 'images/'),
    { path: 'annotations.json', content: Buffer.from(JSON.stringify(doc, null, 1) + '\n') },
  ];
}

function yoloFiles(input: ExportInput): ExportFile[] {
  const classId = new Map(input.labels.map((name, i) => [name, i]));
  const labelFiles = input.tasks.map((t) => {
    const image = imageOf(t);
    const lines = (t.value.boxes ?? []).map((b) =>
      [
        classId.get(b.label) as number,
        (b.x + b.width / 2) / image.width,
        (b.y + b.height / 2) / image.height,
        b.width / image.width,
        b.height / image.height,
      ]
        .map((n, i) => (i === 0 ? String(n) : n.toFixed(6)))
        .join(' '),
    );
    const stem = t.item.slice(0, t.item.length - path.posix.extname(t.item).length);
    // An image with no boxes keeps an empty file: YOLO reads it as background, not as unlabelled.
    return { path: `labels/${stem}.txt`, content: Buffer.from(lines.map((l) => `${l}\n`).join('')) };
  });
  const names = input.labels.map((name, i) => `  ${i}: ${JSON.stringify(name)}`).join('\n');
  const dataYaml = `# Exported by AI-DOS DataForge\npath: .\ntrain: images\nval: images\nnc: ${input.labels.length}\nnames:\n${names}\n`;
  return [
    ...sourceFiles(input, 'images/'),
    ...labelFiles,
    { path: 'data.yaml', content: Buffer.from(dataYaml) },
    { path: 'classes.txt', content: Buffer.from(input.labels.map((l) => `${l}\n`).join('')) },
  ];
}
