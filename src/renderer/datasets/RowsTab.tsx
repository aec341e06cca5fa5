import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { DatasetVersion } from '#shared/contracts/dataforge';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { fieldClass } from './field';
import { isTablePath } from './model';

const PAGE_SIZES = [50, 100, 500] as const;
const TABLE_LIST_LIMIT = 5000;
const LINES_IN_CHIP = 8;

type Op = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'contains' | 'empty' | 'notEmpty';
interface Filter {
  column: string;
  op: Op;
  value: string;
}
interface Sort {
  column: string;
  order: 'asc' | 'desc';
}

const OPS: { op: Op; label: string }[] = [
  { op: 'eq', label: '=' },
  { op: 'ne', label: '≠' },
  { op: 'lt', label: '<' },
  { op: 'le', label: '≤' },
  { op: 'gt', label: '>' },
  { op: 'ge', label: '≥' },
  { op: 'contains', label: 'contains' },
  { op: 'empty', label: 'is empty' },
  { op: 'notEmpty', label: 'is not empty' },
];
const OP_LABEL = Object.fromEntries(OPS.map((o) => [o.op, o.label])) as Record<Op, string>;
const takesValue = (op: Op) => op !== 'empty' && op !== 'notEmpty';

/**
 * The rows of one table of the version, a page at a time, read by the core as a stream (any size works): sort by
 * a column (click its header), filter by column conditions, with each row's line number in its file. A link may
 * open it at a line (that row's page, the row highlighted) or narrowed to some lines (a quality finding's rows).
 */
export function RowsTab({
  dataset,
  version,
  table,
  onTable,
  line = null,
  lines = null,
  onLine = () => {},
  onClearLines = () => {},
}: {
  dataset: string;
  version: DatasetVersion;
  table: string | null;
  onTable: (path: string) => void;
  /** The file line to open the page of and highlight. */
  line?: number | null;
  /** Only the rows at these file lines. */
  lines?: number[] | null;
  /** Called with null when the user moves away from the line (pages, sorts, filters). */
  onLine?: (line: number | null) => void;
  onClearLines?: () => void;
}) {
  const api = useApi();
  const files = useQuery({
    queryKey: [...queryKeys.datasetFiles(dataset, version.id, ''), 'tables'],
    queryFn: () => api.call('datasets.files', { dataset, version: version.id, limit: TABLE_LIST_LIMIT }),
    staleTime: Infinity,
  });
  const tables = (files.data?.items ?? []).filter((e) => isTablePath(e.path)).map((e) => e.path);
  const path = table ?? tables[0] ?? null;

  if (files.isError) return <ErrorBanner error={files.error} onRetry={() => void files.refetch()} />;
  if (files.isPending) {
    return (
      <div className="flex items-center gap-2 py-6 text-zinc-500">
        <Spinner /> Looking for tables…
      </div>
    );
  }
  if (!path) {
    return (
      <Card>
        <EmptyState title="No tables in this version">The row viewer reads CSV, TSV and JSONL files.</EmptyState>
      </Card>
    );
  }
  const options = tables.includes(path) ? tables : [path, ...tables];
  return (
    <div className="space-y-3" data-testid="rows-tab">
      <div className="flex items-center gap-2">
        <label htmlFor="rows-table" className="font-medium">
          Table
        </label>
        <select
          id="rows-table"
          value={path}
          onChange={(e) => onTable(e.target.value)}
          className={fieldClass({ width: 'w-auto', text: 'text-[12px]', extra: 'max-w-xl font-mono' })}
        >
          {options.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        {files.data?.next && <Muted className="text-[12px]">(tables among the first {TABLE_LIST_LIMIT} files)</Muted>}
      </div>
      {/* A new table starts with no sort, no filters, at the first row. */}
      <RowsView
        key={`${version.id}:${path}`}
        dataset={dataset}
        version={version}
        path={path}
        line={line}
        lines={lines}
        onLine={onLine}
        onClearLines={onClearLines}
      />
    </div>
  );
}

function RowsView({
  dataset,
  version,
  path,
  line,
  lines,
  onLine,
  onClearLines,
}: {
  dataset: string;
  version: DatasetVersion;
  path: string;
  line: number | null;
  lines: number[] | null;
  onLine: (line: number | null) => void;
  onClearLines: () => void;
}) {
  const api = useApi();
  const [offsetState, setOffsetState] = useState(0);
  const [limit, setLimit] = useState<number>(PAGE_SIZES[0]);
  const [sort, setSort] = useState<Sort | undefined>();
  const [filters, setFilters] = useState<Filter[]>([]);
  // A line opens its own page (in file order): the core picks the offset.
  const seeking = line !== null && !sort;
  const query = {
    path,
    offset: seeking ? 0 : offsetState,
    limit,
    sort,
    filters,
    ...(lines ? { lines } : {}),
    ...(seeking ? { line } : {}),
  };
  const rows = useQuery({
    queryKey: queryKeys.datasetRows(dataset, version.id, query),
    queryFn: () => api.call('datasets.rows', { dataset, version: version.id, ...query }),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });
  const page = rows.data;
  const columns = page?.columns ?? [];
  const total = page?.total ?? 0;
  const offset = seeking ? (page?.offset ?? 0) : offsetState;
  // Moving away from the page of the line lets the line go.
  const setOffset = (o: number) => {
    setOffsetState(o);
    if (line !== null) onLine(null);
  };
  const focus = seeking && !rows.isPlaceholderData ? (page?.focus ?? null) : null;
  const focusRow = useRef<HTMLTableRowElement>(null);
  useEffect(() => {
    if (focus !== null) focusRow.current?.scrollIntoView({ block: 'center' });
  }, [focus, line]);

  const cycleSort = (column: string) => {
    setOffset(0);
    setSort((s) =>
      s?.column !== column ? { column, order: 'asc' } : s.order === 'asc' ? { column, order: 'desc' } : undefined,
    );
  };
  const addFilter = (f: Filter) => {
    setOffset(0);
    setFilters((fs) => [...fs, f]);
  };
  const removeFilter = (i: number) => {
    setOffset(0);
    setFilters((fs) => fs.filter((_, k) => k !== i));
  };
  const lastOffset = total > 0 ? Math.floor((total - 1) / limit) * limit : 0;
  const shownTo = page ? page.offset + page.rows.length : 0;

  return (
    <Card bodyClassName="p-0">
      <div className="space-y-2 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
        <FilterForm columns={columns} onAdd={addFilter} />
        {(filters.length > 0 || sort || lines) && (
          <div className="flex flex-wrap items-center gap-1.5" data-testid="active-filters">
            {lines && (
              <span
                data-testid="lines-chip"
                data-count={lines.length}
                title={`lines ${lines.join(', ')}`}
                className="inline-flex items-center gap-1 rounded-full bg-amber-50 py-0.5 pr-1 pl-2 text-[12px] text-amber-900 ring-1 ring-amber-200 ring-inset dark:bg-amber-950 dark:text-amber-200 dark:ring-amber-800"
              >
                {lines.length === 1 ? 'line' : 'lines'}{' '}
                <span className="font-mono">
                  {lines.slice(0, LINES_IN_CHIP).join(', ')}
                  {lines.length > LINES_IN_CHIP && ` +${lines.length - LINES_IN_CHIP} more`}
                </span>
                <button
                  type="button"
                  aria-label="Show all rows, not only these lines"
                  onClick={() => {
                    // A line in focus stays so (its page in the whole table); one URL update at a time.
                    setOffsetState(0);
                    onClearLines();
                  }}
                  className="rounded-full px-1 leading-none hover:bg-amber-100 dark:hover:bg-amber-900"
                >
                  ×
                </button>
              </span>
            )}
            {filters.map((f, i) => (
              <span
                key={`${i}:${f.column}:${f.op}:${f.value}`}
                data-testid="filter-chip"
                className="inline-flex items-center gap-1 rounded-full bg-sky-50 py-0.5 pr-1 pl-2 text-[12px] text-sky-800 ring-1 ring-sky-200 ring-inset dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-800"
              >
                <span className="font-mono">{f.column}</span> {OP_LABEL[f.op]}{' '}
                {takesValue(f.op) && <span className="font-mono">“{f.value}”</span>}
                <button
                  type="button"
                  aria-label={`Remove filter ${f.column} ${OP_LABEL[f.op]} ${f.value}`}
                  onClick={() => removeFilter(i)}
                  className="rounded-full px-1 leading-none hover:bg-sky-100 dark:hover:bg-sky-900"
                >
                  ×
                </button>
              </span>
            ))}
            {sort && (
              <span className="text-[12px] text-zinc-500 dark:text-zinc-400">
                sorted by <span className="font-mono">{sort.column}</span>{' '}
                {sort.order === 'asc' ? 'ascending' : 'descending'}
              </span>
            )}
            <Button
              size="sm"
              variant="ghost"
              onClick={() => {
                setFilters([]);
                setSort(undefined);
                setOffsetState(0);
                if (lines) onClearLines();
              }}
            >
              Clear
            </Button>
          </div>
        )}
      </div>
      {rows.isError && <ErrorBanner className="m-3" error={rows.error} onRetry={() => void rows.refetch()} />}
      {seeking && page && !rows.isPlaceholderData && page.focus === null && (
        <p
          className="border-b border-zinc-200 bg-amber-50 px-4 py-2 text-[12px] text-amber-900 dark:border-zinc-800 dark:bg-amber-950 dark:text-amber-200"
          data-testid="line-not-shown"
        >
          Line {line.toLocaleString('en-US')} is not a row here (the header, a row that could not be read, one the
          filters leave out, or past the end); this is the page where it would be.
        </p>
      )}
      {rows.isPending ? (
        <div className="flex items-center gap-2 p-6 text-zinc-500">
          <Spinner /> Reading rows…
        </div>
      ) : page ? (
        <>
          <div className="flex flex-wrap items-center justify-between gap-2 px-4 py-2 text-[12px]">
            <span data-testid="rows-total" data-total={page.total} className="text-zinc-700 dark:text-zinc-300">
              <span className="font-semibold tabular-nums">{page.total.toLocaleString('en-US')}</span>{' '}
              {filters.length > 0 || lines
                ? page.total === 1
                  ? 'row matches'
                  : 'rows match'
                : page.total === 1
                  ? 'row'
                  : 'rows'}
              {page.rows.length > 0 && (
                <Muted className="ml-2 tabular-nums">
                  showing {(page.offset + 1).toLocaleString('en-US')}–{shownTo.toLocaleString('en-US')}
                </Muted>
              )}
              {rows.isFetching && <Spinner small className="ml-2 align-[-2px]" />}
            </span>
            <Pager
              offset={offset}
              limit={limit}
              total={total}
              lastOffset={lastOffset}
              onOffset={setOffset}
              onLimit={(l) => {
                // A line keeps its row in view: the core finds its page of the new size.
                setLimit(l);
                setOffsetState(0);
              }}
            />
          </div>
          <div className="overflow-x-auto border-t border-zinc-200 dark:border-zinc-800">
            <table className="w-full text-left text-[12px]" aria-label={`Rows of ${path}`} data-testid="rows-table">
              <thead className="bg-zinc-50 text-zinc-600 dark:bg-zinc-900/60 dark:text-zinc-400">
                <tr className="border-b border-zinc-200 dark:border-zinc-800">
                  <th className="w-px px-3 py-1.5 text-right font-medium whitespace-nowrap" title="Line in the file">
                    line
                  </th>
                  {columns.map((c) => {
                    const order = sort?.column === c ? sort.order : undefined;
                    return (
                      <th
                        key={c}
                        aria-sort={order === 'asc' ? 'ascending' : order === 'desc' ? 'descending' : 'none'}
                        className="px-3 py-1.5 font-medium whitespace-nowrap"
                      >
                        <button
                          type="button"
                          onClick={() => cycleSort(c)}
                          title={`Sort by ${c}`}
                          data-testid="column-header"
                          data-column={c}
                          className={cx(
                            'inline-flex items-center gap-1 font-mono hover:text-zinc-900 dark:hover:text-zinc-100',
                            order && 'text-indigo-700 dark:text-indigo-300',
                          )}
                        >
                          {c}
                          <span aria-hidden="true" className={cx('w-2 text-[10px]', !order && 'opacity-0')}>
                            {order === 'desc' ? '▼' : '▲'}
                          </span>
                        </button>
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 font-mono dark:divide-zinc-800/80">
                {page.rows.map((row, i) => (
                  <tr
                    key={page.lines[i] ?? i}
                    ref={i === focus ? focusRow : undefined}
                    data-testid="data-row"
                    data-line={page.lines[i]}
                    data-focused={i === focus ? 'true' : undefined}
                    aria-current={i === focus ? 'true' : undefined}
                    className={cx(
                      i === focus
                        ? 'bg-amber-100 outline-2 -outline-offset-2 outline-amber-400 dark:bg-amber-900/40'
                        : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
                    )}
                  >
                    <td className="px-3 py-1 text-right text-zinc-400 tabular-nums select-none dark:text-zinc-500">
                      {page.lines[i]}
                    </td>
                    {columns.map((c, k) => {
                      const v = row[k];
                      return (
                        <td
                          key={c}
                          className="max-w-xs truncate px-3 py-1 text-zinc-800 dark:text-zinc-200"
                          title={v ?? 'missing'}
                        >
                          {v === null || v === undefined ? (
                            <span className="text-zinc-400 italic dark:text-zinc-600">null</span>
                          ) : (
                            v
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
            {page.rows.length === 0 && (
              <EmptyState title={filters.length || lines ? 'No row matches these filters' : 'No rows'} />
            )}
          </div>
        </>
      ) : null}
    </Card>
  );
}

function FilterForm({ columns, onAdd }: { columns: string[]; onAdd: (f: Filter) => void }) {
  const [column, setColumn] = useState('');
  const [op, setOp] = useState<Op>('eq');
  const [value, setValue] = useState('');
  useEffect(() => {
    if (!columns.includes(column) && columns[0] !== undefined) setColumn(columns[0]);
  }, [columns, column]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!column) return;
    onAdd({ column, op, value: takesValue(op) ? value : '' });
    setValue('');
  };
  return (
    <form onSubmit={submit} className="flex flex-wrap items-center gap-2" aria-label="Filter rows">
      <span className="font-medium">Filter</span>
      <select
        aria-label="Filter column"
        value={column}
        onChange={(e) => setColumn(e.target.value)}
        className={fieldClass({ width: 'w-auto', text: 'text-[12px]', extra: 'font-mono' })}
      >
        {columns.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
      <select
        aria-label="Filter operator"
        value={op}
        onChange={(e) => setOp(e.target.value as Op)}
        className={fieldClass({ width: 'w-auto' })}
      >
        {OPS.map((o) => (
          <option key={o.op} value={o.op}>
            {o.label}
          </option>
        ))}
      </select>
      <input
        aria-label="Filter value"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        disabled={!takesValue(op)}
        placeholder={takesValue(op) ? 'value' : ''}
        className={fieldClass({ width: 'w-48' })}
      />
      <Button size="sm" type="submit" disabled={!column}>
        Add filter
      </Button>
    </form>
  );
}

function Pager({
  offset,
  limit,
  total,
  lastOffset,
  onOffset,
  onLimit,
}: {
  offset: number;
  limit: number;
  total: number;
  lastOffset: number;
  onOffset: (offset: number) => void;
  onLimit: (limit: number) => void;
}) {
  return (
    <div className="flex items-center gap-1" role="group" aria-label="Pages">
      <Button size="sm" variant="ghost" onClick={() => onOffset(0)} disabled={offset === 0} aria-label="First page">
        «
      </Button>
      <Button
        size="sm"
        variant="ghost"
        onClick={() => onOffset(Math.max(0, offset - limit))}
        disabled={offset === 0}
        aria-label="Previous page"
      >
        ‹ Prev
      </Button>
      <span className="px-1 whitespace-nowrap text-zinc-500 tabular-nums dark:text-zinc-400">
        page {Math.floor(offset / limit) + 1} of {Math.max(1, Math.floor(lastOffset / limit) + 1)}
      </span>
      <Button
        size="sm"
        variant="ghost"
        onClick={() => onOffset(offset + limit)}
        disabled={offset + limit >= total}
        aria-label="Next page"
      >
        Next ›
      </Button>
      <Button
        size="sm"
        variant="ghost"
        onClick={() => onOffset(lastOffset)}
        disabled={offset >= lastOffset}
        aria-label="Last page"
      >
        »
      </Button>
      <select
        aria-label="Rows per page"
        value={limit}
        onChange={(e) => onLimit(Number(e.target.value))}
        className={fieldClass({ width: 'w-auto', height: 'h-7', text: 'text-[12px]', extra: 'ml-1' })}
      >
        {PAGE_SIZES.map((n) => (
          <option key={n} value={n}>
            {n} / page
          </option>
        ))}
      </select>
    </div>
  );
}
