import type { Run } from '#shared/contracts/modelhub';
import { formatMetric } from './charts';

/**
 * The runs table's columns: a few attributes, and every param and metric key seen among the runs loaded so far.
 * A column id names its kind and key (`param:lr`, `metric:acc`); the server's order-by field is derived from it.
 */
export type ColumnKind = 'attr' | 'param' | 'metric' | 'tag';

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  label: string;
  /** The `orderBy` field of `runs.search`, or null when the server cannot sort by it. */
  sortField: string | null;
  numeric: boolean;
}

const ATTRIBUTES: Column[] = [
  { id: 'attr:status', kind: 'attr', key: 'status', label: 'Status', sortField: 'attributes.status', numeric: false },
  { id: 'attr:name', kind: 'attr', key: 'name', label: 'Name', sortField: 'attributes.run_name', numeric: false },
  {
    id: 'attr:start',
    kind: 'attr',
    key: 'start',
    label: 'Started',
    sortField: 'attributes.start_time',
    numeric: false,
  },
  // Durations are computed here; the server orders by start or end time only.
  { id: 'attr:duration', kind: 'attr', key: 'duration', label: 'Duration', sortField: null, numeric: true },
  { id: 'attr:user', kind: 'attr', key: 'user', label: 'User', sortField: 'attributes.user_id', numeric: false },
];

export const ATTRIBUTE_COLUMNS: readonly Column[] = ATTRIBUTES;

/** A key as the filter and order-by grammar reads it: bare when it can be, else in backticks. */
export function quoteKey(key: string): string {
  if (/^[\p{L}\p{N}_$.\-/]+$/u.test(key)) return key;
  return key.includes('`') ? `"${key.replace(/"/g, '')}"` : `\`${key}\``;
}

export function paramColumn(key: string): Column {
  return { id: `param:${key}`, kind: 'param', key, label: key, sortField: `params.${quoteKey(key)}`, numeric: false };
}

export function metricColumn(key: string): Column {
  return { id: `metric:${key}`, kind: 'metric', key, label: key, sortField: `metrics.${quoteKey(key)}`, numeric: true };
}

export function tagColumn(key: string): Column {
  return { id: `tag:${key}`, kind: 'tag', key, label: key, sortField: `tags.${quoteKey(key)}`, numeric: false };
}

/** The column an id names (attributes by name, the others by kind and key), or null for an unknown id. */
export function columnOf(id: string): Column | null {
  const attribute = ATTRIBUTES.find((c) => c.id === id);
  if (attribute) return attribute;
  const colon = id.indexOf(':');
  const kind = id.slice(0, colon);
  const key = id.slice(colon + 1);
  if (colon < 0 || key === '') return null;
  if (kind === 'param') return paramColumn(key);
  if (kind === 'metric') return metricColumn(key);
  if (kind === 'tag') return tagColumn(key);
  return null;
}

/** Tags MLflow sets on every run (`mlflow.runName`, `mlflow.user`…): not offered as columns. */
function isSystemTag(key: string): boolean {
  return key.startsWith('mlflow.') || key.startsWith('aidos.');
}

export interface Discovered {
  params: string[];
  metrics: string[];
  tags: string[];
}

/** Every param, metric and (user) tag key among `runs`, each list sorted. */
export function discoverKeys(runs: readonly Run[]): Discovered {
  const params = new Set<string>();
  const metrics = new Set<string>();
  const tags = new Set<string>();
  for (const run of runs) {
    for (const p of run.params) params.add(p.key);
    for (const m of run.metrics) metrics.add(m.key);
    for (const t of run.tags) if (!isSystemTag(t.key)) tags.add(t.key);
  }
  const sorted = (s: Set<string>) => [...s].sort((a, b) => a.localeCompare(b));
  return { params: sorted(params), metrics: sorted(metrics), tags: sorted(tags) };
}

/** What a table shows before anyone chooses: the attributes and the first few metrics. */
export function defaultColumnIds(discovered: Discovered, metrics = 3): string[] {
  return [
    'attr:status',
    'attr:name',
    'attr:start',
    'attr:duration',
    ...discovered.metrics.slice(0, metrics).map((k) => `metric:${k}`),
  ];
}

/** The columns to show: the chosen ids (or the defaults when nothing was chosen), unknown ids dropped. */
export function visibleColumns(chosen: readonly string[] | null, discovered: Discovered): Column[] {
  const ids = chosen ?? defaultColumnIds(discovered);
  return ids.flatMap((id) => {
    const column = columnOf(id);
    return column ? [column] : [];
  });
}

/** The stored choice of columns (localStorage JSON), or null when there is none or it is not a list of ids. */
export function parseStoredColumns(raw: string | null): string[] | null {
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return Array.isArray(value) && value.every((v) => typeof v === 'string' && columnOf(v) !== null)
      ? (value as string[])
      : null;
  } catch {
    return null;
  }
}

/** The localStorage key of a table's column choice: per set of experiments, so each keeps its own. */
export function columnsStorageKey(experimentIds: readonly string[]): string {
  return `aidos.runs.columns.${[...experimentIds].sort().join(',')}`;
}

/** A value of a run for a column, as text (empty when the run has none). */
export function cellText(run: Run, column: Column, now = Date.now()): string {
  switch (column.kind) {
    case 'param':
      return run.params.find((p) => p.key === column.key)?.value ?? '';
    case 'tag':
      return run.tags.find((t) => t.key === column.key)?.value ?? '';
    case 'metric':
      return formatMetric(run.metrics.find((m) => m.key === column.key)?.value);
    case 'attr':
      if (column.key === 'status') return run.info.status;
      if (column.key === 'name') return run.info.name;
      if (column.key === 'user') return run.info.userId;
      if (column.key === 'start') return String(run.info.startTime);
      return String(runDuration(run.info, now) ?? '');
  }
}

/** How long a run ran (or has run so far, while running); null when it has no start time. */
export function runDuration(
  info: { startTime: number; endTime: number | null; status: string },
  now = Date.now(),
): number | null {
  if (!info.startTime) return null;
  const end = info.endTime ?? (info.status === 'RUNNING' ? now : null);
  return end === null ? null : Math.max(0, end - info.startTime);
}
