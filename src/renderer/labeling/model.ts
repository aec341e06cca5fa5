import {
  LabelDef,
  type LabelKind,
  type LabelProject,
  type LabelSource,
  type LabelTask,
  type LabelValue,
} from '#shared/contracts/labeling';
import { effectiveHotkeys } from './hotkeys';

export const KIND_LABELS: Record<LabelKind, string> = {
  classification: 'Classification (one label)',
  multilabel: 'Multi-label (any labels)',
  ner: 'Named entities (text spans)',
  boxes: 'Bounding boxes (images)',
};

/** Which sources each kind can label (the server refuses the others). */
export const KIND_SOURCES: Record<LabelKind, readonly LabelSource['type'][]> = {
  classification: ['table', 'images', 'texts'],
  multilabel: ['table', 'images', 'texts'],
  ner: ['table', 'texts'],
  boxes: ['images'],
};

export const SOURCE_LABELS: Record<LabelSource['type'], string> = {
  table: 'Rows of a table',
  images: 'Images in a folder',
  texts: 'Text files (.txt) in a folder',
};

/** The colours the server assigns, in its order: new labels in the editor start with the same ones. */
export const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#16a34a',
  '#d97706',
  '#9333ea',
  '#0891b2',
  '#db2777',
  '#65a30d',
  '#ea580c',
  '#4f46e5',
] as const;

export const METRIC_LABELS: Record<string, string> = {
  cohen_kappa: "Cohen's κ",
  fleiss_kappa: "Fleiss' κ",
  span_f1: 'span F1',
  box_iou: 'box IoU',
};

/** A label row of the schema editor; `from` is the name the label had on the server (for renames). */
export interface LabelDraft {
  key: string;
  from: string | null;
  name: string;
  color: string;
  hotkey: string;
  description: string;
}

/** What is wrong with each row (by key), and with the list as a whole. */
export function checkLabels(drafts: readonly LabelDraft[]): { rows: Map<string, string>; list: string | null } {
  const rows = new Map<string, string>();
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  for (const d of drafts) {
    names.set(d.name, (names.get(d.name) ?? 0) + 1);
    if (d.hotkey) keys.set(d.hotkey, (keys.get(d.hotkey) ?? 0) + 1);
  }
  for (const d of drafts) {
    const parsed = LabelDef.safeParse(toLabelDef(d));
    const issue = parsed.success ? null : parsed.error.issues[0];
    if (issue) rows.set(d.key, `${issue.path.join('.') || 'label'} ${issue.message}`.trim());
    else if ((names.get(d.name) ?? 0) > 1) rows.set(d.key, `“${d.name}” is given twice`);
    else if (d.hotkey && (keys.get(d.hotkey) ?? 0) > 1) rows.set(d.key, `key “${d.hotkey}” is given twice`);
  }
  return { rows, list: drafts.length === 0 ? 'add at least one label' : null };
}

export function toLabelDef(d: LabelDraft): LabelDef {
  return {
    name: d.name,
    color: d.color,
    ...(d.hotkey ? { hotkey: d.hotkey.toLowerCase() } : {}),
    description: d.description.trim(),
  };
}

/** The hotkey each row will get, shown as a placeholder where none is typed. */
export function draftHotkeys(drafts: readonly LabelDraft[]): (string | null)[] {
  return effectiveHotkeys(drafts.map((d) => ({ hotkey: d.hotkey || undefined })));
}

/** Renames for `labeling.update`: old name → new name, for the rows that came from the server and changed name. */
export function renamesOf(drafts: readonly LabelDraft[]): Record<string, string> {
  return Object.fromEntries(drafts.flatMap((d) => (d.from !== null && d.from !== d.name ? [[d.from, d.name]] : [])));
}

/** The starting answer for an empty task. */
export function emptyValue(kind: LabelKind): LabelValue {
  switch (kind) {
    case 'classification':
    case 'multilabel':
      return { labels: [] };
    case 'ner':
      return { spans: [] };
    case 'boxes':
      return { boxes: [] };
  }
}

/** Whether the value is an answer the server takes (classification: exactly one label; the rest may be empty). */
export function isComplete(kind: LabelKind, value: LabelValue): boolean {
  return kind !== 'classification' || value.labels?.length === 1;
}

/**
 * Where the annotator starts on a task: their own earlier answer, else the model's suggestion, else nothing.
 */
export function startingValue(
  kind: LabelKind,
  task: LabelTask,
  annotator: string,
): { value: LabelValue; suggested: boolean } {
  const own = task.annotations.find((a) => a.annotator === annotator && a.value);
  if (own?.value) return { value: own.value, suggested: false };
  if (task.prediction) return { value: task.prediction.value, suggested: true };
  return { value: emptyValue(kind), suggested: false };
}

/** Turns a label on or off, keeping the schema's order. */
export function toggleLabel(selected: readonly string[], label: string, order: readonly string[]): string[] {
  const next = selected.includes(label) ? selected.filter((l) => l !== label) : [...selected, label];
  return [...next].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** The rule annotator names follow on the server (no outer spaces, 1-100 characters). */
export function annotatorError(name: string): string | null {
  if (name.length === 0) return 'give a name';
  if (name.length > 100) return 'at most 100 characters';
  if (name.trim() !== name) return 'no spaces at the start or end';
  return null;
}

export interface StatusShare {
  status: 'open' | 'in_progress' | 'annotated' | 'reviewed';
  label: string;
  count: number;
  fraction: number;
}

/** The project's tasks by status, each with its share of all tasks: for the stacked progress bar. */
export function statusShares(stats: LabelProject['stats']): StatusShare[] {
  const total = Math.max(1, stats.tasks);
  const rows: [StatusShare['status'], string, number][] = [
    ['reviewed', 'reviewed', stats.reviewed],
    ['annotated', 'annotated', stats.annotated],
    ['in_progress', 'in progress', stats.inProgress],
    ['open', 'open', stats.open],
  ];
  return rows.map(([status, label, count]) => ({ status, label, count, fraction: count / total }));
}

export function formatAgreement(value: number | null): string {
  return value === null ? '—' : value.toFixed(2);
}

/** A rough reading of a kappa or F1 value, for the agreement panel. */
export function agreementTone(value: number | null): 'good' | 'fair' | 'poor' | 'none' {
  if (value === null) return 'none';
  if (value >= 0.8) return 'good';
  return value >= 0.6 ? 'fair' : 'poor';
}

export type ExportFormat = 'csv' | 'jsonl' | 'coco' | 'yolo';

export function exportFormats(kind: LabelKind): ExportFormat[] {
  return kind === 'boxes' ? ['coco', 'yolo', 'jsonl', 'csv'] : ['csv', 'jsonl'];
}

/** A one-line description of where tasks come from. */
export function describeSource(source: LabelSource): string {
  switch (source.type) {
    case 'table':
      return source.textColumn ? `${source.path} · column ${source.textColumn}` : source.path;
    case 'images':
      return source.prefix ? `images under ${source.prefix}` : 'all images';
    case 'texts':
      return source.prefix ? `.txt files under ${source.prefix}` : 'all .txt files';
  }
}
