import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useRef } from 'react';
import { Link } from 'react-router';
import type { Run } from '#shared/contracts/modelhub';
import { cx, EmptyState, Spinner } from '../components/ui';
import { formatDateTime, formatDuration } from '../lib/format';
import { useNow } from '../lib/hooks';
import { cellText, runDuration, type Column } from './columns';
import type { Sort } from './filter';
import { runPath } from './paths';
import { RunStatusBadge } from './ui';

const ROW_HEIGHT = 36;
/** Ask for the next page when the last row drawn is this close to the end of those loaded. */
const PREFETCH_ROWS = 150;

function widthOf(column: Column): string {
  if (column.kind === 'attr') {
    if (column.key === 'name') return 'minmax(200px, 2fr)';
    if (column.key === 'start') return '184px';
    if (column.key === 'status') return '104px';
    return '110px';
  }
  return 'minmax(110px, 1fr)';
}

/**
 * The runs as a virtualised grid: only the rows in view (and a few around them) are in the DOM, so ten thousand
 * loaded runs scroll like ten. The header stays on top; a click on a sortable header sorts on the server.
 */
export function RunsTable({
  runs,
  columns,
  sort,
  onSort,
  selected,
  onSelect,
  hasMore,
  loadingMore,
  onLoadMore,
  empty,
  filtered,
}: {
  runs: readonly Run[];
  columns: readonly Column[];
  sort: Sort | null;
  /** A click on a sortable header, with its order-by field. */
  onSort: (field: string) => void;
  selected: readonly string[];
  onSelect: (ids: string[]) => void;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  empty: boolean;
  filtered: boolean;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: runs.length + (hasMore ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const rows = virtualizer.getVirtualItems();
  const lastDrawn = rows.at(-1)?.index ?? 0;
  useEffect(() => {
    if (hasMore && !loadingMore && lastDrawn >= runs.length - PREFETCH_ROWS) onLoadMore();
  }, [hasMore, loadingMore, lastDrawn, runs.length, onLoadMore]);

  const template = ['40px', ...columns.map(widthOf)].join(' ');
  const chosen = new Set(selected);
  const toggle = (id: string) => onSelect(chosen.has(id) ? selected.filter((s) => s !== id) : [...selected, id]);
  const now = useNow(5_000);

  return (
    <div
      ref={scroller}
      className="relative h-[calc(100vh-330px)] min-h-80 overflow-auto"
      data-testid="runs-scroller"
      tabIndex={-1}
    >
      <div role="table" aria-label="Runs" aria-rowcount={runs.length + 1} className="min-w-full text-[13px]">
        <div role="rowgroup" className="sticky top-0 z-10">
          <div
            role="row"
            aria-rowindex={1}
            className="grid border-b border-zinc-200 bg-zinc-50 text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-400"
            style={{ gridTemplateColumns: template }}
          >
            <div role="columnheader" className="flex items-center py-2 pl-4">
              <span className="sr-only">Selected</span>
            </div>
            {columns.map((column) => (
              <HeaderCell key={column.id} column={column} sort={sort} onSort={onSort} />
            ))}
          </div>
        </div>
        <div role="rowgroup" className="relative" style={{ height: virtualizer.getTotalSize() }}>
          {rows.map((row) => {
            const run = runs[row.index];
            if (!run) {
              return (
                <div
                  key="loading"
                  role="row"
                  className="absolute inset-x-0 flex items-center gap-2 px-4 text-zinc-500"
                  style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
                >
                  <span role="cell" className="flex items-center gap-2">
                    <Spinner small /> Loading more runs…
                  </span>
                </div>
              );
            }
            return (
              <RunRow
                key={run.info.id}
                run={run}
                index={row.index}
                top={row.start}
                template={template}
                columns={columns}
                selected={chosen.has(run.info.id)}
                onToggle={toggle}
                now={run.info.status === 'RUNNING' ? now : 0}
              />
            );
          })}
        </div>
      </div>
      {empty && (
        <EmptyState title={filtered ? 'No runs match this filter' : 'No runs yet'}>
          {filtered ? 'Change or clear the filter above.' : 'Runs logged to this experiment appear here as they start.'}
        </EmptyState>
      )}
    </div>
  );
}

function HeaderCell({ column, sort, onSort }: { column: Column; sort: Sort | null; onSort: (field: string) => void }) {
  const active = column.sortField !== null && sort?.field === column.sortField;
  const ariaSort = active ? (sort?.direction === 'ASC' ? 'ascending' : 'descending') : 'none';
  const prefix =
    column.kind === 'param' ? 'param' : column.kind === 'metric' ? 'metric' : column.kind === 'tag' ? 'tag' : '';
  const label = (
    <>
      {prefix && <span className="mr-1 font-normal normal-case opacity-60">{prefix}</span>}
      <span className="truncate normal-case">{column.label}</span>
      {active && <span aria-hidden="true">{sort?.direction === 'ASC' ? '▲' : '▼'}</span>}
    </>
  );
  return (
    <div
      role="columnheader"
      aria-sort={column.sortField ? ariaSort : undefined}
      data-testid="column-header"
      data-column={column.id}
      className={cx('flex min-w-0 items-center px-3 py-2', column.numeric && 'justify-end')}
      title={column.sortField ? `${column.sortField} (click to sort)` : column.label}
    >
      {column.sortField ? (
        <button
          type="button"
          onClick={() => onSort(column.sortField as string)}
          aria-label={`Sort by ${prefix ? `${prefix} ` : ''}${column.label}`}
          className="flex min-w-0 items-center gap-1 uppercase hover:text-zinc-900 dark:hover:text-zinc-100"
        >
          {label}
        </button>
      ) : (
        <span className="flex min-w-0 items-center gap-1 uppercase">{label}</span>
      )}
    </div>
  );
}

const RunRow = memo(function RunRow({
  run,
  index,
  top,
  template,
  columns,
  selected,
  onToggle,
  now,
}: {
  run: Run;
  index: number;
  top: number;
  template: string;
  columns: readonly Column[];
  selected: boolean;
  onToggle: (id: string) => void;
  now: number;
}) {
  return (
    <div
      role="row"
      aria-rowindex={index + 2}
      aria-selected={selected}
      data-testid="run-row"
      data-run-id={run.info.id}
      data-name={run.info.name}
      data-index={index}
      className={cx(
        'absolute inset-x-0 grid items-center border-b border-zinc-100 dark:border-zinc-800/70',
        selected ? 'bg-indigo-50/70 dark:bg-indigo-950/40' : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
      )}
      style={{ height: ROW_HEIGHT, transform: `translateY(${top}px)`, gridTemplateColumns: template }}
    >
      <div role="cell" className="flex items-center pl-4">
        <input
          type="checkbox"
          checked={selected}
          onChange={() => onToggle(run.info.id)}
          aria-label={`Select run ${run.info.name}`}
          className="accent-indigo-600"
        />
      </div>
      {columns.map((column) => (
        <div
          role="cell"
          key={column.id}
          data-column={column.id}
          className={cx('min-w-0 truncate px-3', column.numeric && 'text-right font-mono text-[12px] tabular-nums')}
        >
          <Cell run={run} column={column} now={now} />
        </div>
      ))}
    </div>
  );
});

function Cell({ run, column, now }: { run: Run; column: Column; now: number }) {
  if (column.kind === 'attr') {
    switch (column.key) {
      case 'status':
        return <RunStatusBadge status={run.info.status} />;
      case 'name':
        return (
          <Link
            to={runPath(run.info.id)}
            className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
            title={run.info.id}
          >
            {run.info.name || run.info.id.slice(0, 8)}
          </Link>
        );
      case 'start':
        return (
          <span className="whitespace-nowrap">{run.info.startTime ? formatDateTime(run.info.startTime) : ''}</span>
        );
      case 'duration': {
        const ms = runDuration(run.info, now || Date.now());
        return <span>{ms === null ? '' : formatDuration(ms)}</span>;
      }
    }
  }
  const text = cellText(run, column);
  return <span title={text}>{text}</span>;
}
