import { keepPreviousData, useInfiniteQuery, useQueries, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import type { Run, RunInfo } from '#shared/contracts/modelhub';
import { AppError } from '#shared/errors';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, inputClass, Muted, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { patchRun, replacedBy, withInfo, type RunPages } from './cache';
import { ColumnChooser } from './ColumnChooser';
import { columnsStorageKey, discoverKeys, parseStoredColumns, visibleColumns } from './columns';
import { FILTER_EXAMPLES, formatSort, nextSort, normalizeFilter, orderByOf, parseSort, type Sort } from './filter';
import { useLiveEvents } from './live';
import { comparePath, parseExperimentIds } from './paths';
import { RunsTable } from './RunsTable';

/** Runs per `runs.search` page: the table asks for the next page as the scroll nears the end of those loaded. */
const PAGE_SIZE = 500;
/** How often fresh metrics of live runs are fetched into the table, at most. */
const LIVE_FLUSH_MS = 1_000;

/**
 * The runs of one or more experiments in one virtualised table: a filter in MLflow's language, sorting by any
 * column on the server, a column chooser, and a selection to compare. Filter and sort live in the URL; running
 * runs update in place from live events.
 */
export function RunsPage() {
  const api = useApi();
  const navigate = useNavigate();
  const experimentIds = parseExperimentIds(useParams().ids);
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter') ?? '';
  const sort = parseSort(params.get('sort'));
  const orderBy = orderByOf(sort);
  const [selected, setSelected] = useState<string[]>([]);

  const experiments = useQueries({
    queries: experimentIds.map((id) => ({
      queryKey: queryKeys.experiment(id),
      queryFn: () => api.call('experiments.get', { experiment: id }),
      staleTime: 60_000,
    })),
  });
  const names = experiments.map((q, i) => q.data?.name ?? `#${experimentIds[i]}`);

  const queryKey = queryKeys.runsSearch(experimentIds, normalizeFilter(filter), orderBy);
  const runs = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) =>
      api.call('runs.search', {
        experimentIds,
        filter: normalizeFilter(filter),
        orderBy,
        limit: PAGE_SIZE,
        pageToken: pageParam,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken ?? undefined,
    enabled: experimentIds.length > 0,
    // A bad filter is the user's to fix, not a glitch to retry.
    retry: (count, error) => !(error instanceof AppError && error.httpStatus === 400) && count < 2,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const items = useMemo(() => runs.data?.pages.flatMap((p) => p.items) ?? [], [runs.data]);
  const discovered = useMemo(() => discoverKeys(items), [items]);
  const [chosen, setChosen] = useStoredColumns(experimentIds);
  const columns = visibleColumns(chosen, discovered);
  const filterError = runs.error instanceof AppError && runs.error.httpStatus === 400 ? runs.error : null;

  useLiveRuns(experimentIds, items, runs.data !== undefined);

  const update = (changes: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );
  // A click cycles from the sort it last set, not the one on screen: the router renders the new URL in a
  // transition, so a quick second click would otherwise start again from the old sort.
  const pendingSort = useRef<{ sort: Sort | null } | null>(null);
  if (pendingSort.current && formatSort(pendingSort.current.sort) === formatSort(sort)) pendingSort.current = null;
  const onSort = (field: string) => {
    const next = nextSort(pendingSort.current ? pendingSort.current.sort : sort, field);
    pendingSort.current = { sort: next };
    update({ sort: formatSort(next) });
  };

  const title =
    experimentIds.length === 1 ? (names[0] ?? 'Runs') : `Runs of ${experimentIds.length.toLocaleString()} experiments`;

  return (
    <div data-testid="runs-page" data-experiments={experimentIds.join(',')}>
      <nav aria-label="Breadcrumb" className="mb-2 text-[12px] text-zinc-500 dark:text-zinc-400">
        <Link to="/experiments" className="hover:underline">
          Experiments
        </Link>{' '}
        / {experimentIds.length === 1 ? names[0] : names.join(', ')}
      </nav>
      <PageHeader
        title={title}
        description={experimentIds.length > 1 ? names.join(' · ') : 'Runs, newest first unless a column is sorted.'}
        actions={
          <>
            <ColumnChooser discovered={discovered} chosen={columns.map((c) => c.id)} onChange={setChosen} />
            <Button
              variant="primary"
              disabled={selected.length < 2}
              onClick={() => navigate(comparePath(selected))}
              title={selected.length < 2 ? 'Select two or more runs to compare them' : undefined}
            >
              Compare{selected.length > 0 ? ` ${selected.length}` : ''} runs
            </Button>
          </>
        }
      />
      <FilterBar value={filter} onApply={(f) => update({ filter: f })} error={filterError} />
      {runs.isError && !filterError && (
        <ErrorBanner className="mb-3" error={runs.error} onRetry={() => void runs.refetch()} />
      )}
      <Card bodyClassName="p-0">
        <div className="flex min-h-10 items-center justify-between gap-3 border-b border-zinc-200 px-4 py-2 text-[12px] dark:border-zinc-800">
          <span data-testid="runs-count" data-loaded={items.length} data-complete={String(!runs.hasNextPage)}>
            {runs.isPending ? (
              <span className="flex items-center gap-2 text-zinc-500">
                <Spinner small /> Loading runs…
              </span>
            ) : (
              <Muted>
                {items.length.toLocaleString('en-US')}
                {runs.hasNextPage ? '+' : ''} {items.length === 1 ? 'run' : 'runs'}
                {runs.hasNextPage ? ' (more load as you scroll)' : ''}
                {runs.isFetching && !runs.isFetchingNextPage ? ' · refreshing…' : ''}
              </Muted>
            )}
          </span>
          {selected.length > 0 && (
            <span className="flex items-center gap-2">
              <Muted>{selected.length} selected</Muted>
              <Button size="sm" variant="ghost" onClick={() => setSelected([])}>
                Clear selection
              </Button>
            </span>
          )}
        </div>
        <RunsTable
          runs={items}
          columns={columns}
          sort={sort}
          onSort={onSort}
          selected={selected}
          onSelect={setSelected}
          hasMore={runs.hasNextPage}
          loadingMore={runs.isFetchingNextPage}
          onLoadMore={() => void runs.fetchNextPage()}
          empty={runs.isSuccess && items.length === 0}
          filtered={normalizeFilter(filter) !== ''}
        />
      </Card>
    </div>
  );
}

/** The filter bar: MLflow's filter language, applied on Enter; the server's complaint about it shown below. */
function FilterBar({
  value,
  onApply,
  error,
}: {
  value: string;
  onApply: (filter: string) => void;
  error: Error | null;
}) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(normalizeFilter(text));
  };
  return (
    <form onSubmit={submit} role="search" aria-label="Filter runs" className="mb-3">
      <div className="flex gap-2">
        <input
          className={`${inputClass} font-mono`}
          aria-label="Filter"
          aria-invalid={error !== null}
          aria-describedby={error ? 'runs-filter-error' : 'runs-filter-help'}
          placeholder={`${FILTER_EXAMPLES[0]} and ${FILTER_EXAMPLES[1]}`}
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
        />
        <Button type="submit">Apply</Button>
        {value !== '' && (
          <Button
            variant="ghost"
            onClick={() => {
              setText('');
              onApply('');
            }}
          >
            Clear
          </Button>
        )}
      </div>
      {error ? (
        <p
          id="runs-filter-error"
          role="alert"
          data-testid="filter-error"
          className="mt-1.5 font-mono text-[12px] text-red-600 dark:text-red-400"
        >
          {error.message}
        </p>
      ) : (
        <p id="runs-filter-help" className="mt-1.5 text-[12px] text-zinc-500 dark:text-zinc-400">
          Examples:{' '}
          {FILTER_EXAMPLES.slice(1).map((x, i) => (
            <span key={x}>
              {i > 0 && ' · '}
              <code className="font-mono">{x}</code>
            </span>
          ))}
        </p>
      )}
    </form>
  );
}

/** The column choice of this set of experiments, kept in localStorage; null until someone chooses. */
function useStoredColumns(experimentIds: readonly string[]): [string[] | null, (ids: string[] | null) => void] {
  const key = columnsStorageKey(experimentIds);
  const read = () => parseStoredColumns(window.localStorage.getItem(key));
  const [state, setState] = useState(() => ({ key, chosen: read() }));
  const chosen = state.key === key ? state.chosen : read();
  const set = (ids: string[] | null) => {
    if (ids === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(ids));
    setState({ key, chosen: ids });
  };
  return [chosen, set];
}

/**
 * Keeps the loaded runs live without refetching thousands of them: a `run.updated` event patches the run's info
 * in place; `run.metrics` of a loaded run fetches that one run (batched, at most once a second) and patches it.
 */
function useLiveRuns(experimentIds: readonly string[], items: readonly Run[], loaded: boolean) {
  const api = useApi();
  const queryClient = useQueryClient();
  const loadedIds = useRef(new Set<string>());
  useEffect(() => {
    loadedIds.current = new Set(items.map((r) => r.info.id));
  }, [items]);
  const pending = useRef(new Set<string>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => clearTimeout(timer.current ?? undefined), []);

  const patch = (id: string, change: (run: Run) => Run) =>
    queryClient.setQueriesData<RunPages>({ queryKey: [...queryKeys.runs, 'search'] }, (data) =>
      patchRun(data, id, change),
    );

  const flush = () => {
    timer.current = null;
    const ids = [...pending.current];
    pending.current.clear();
    for (const id of ids) {
      api.call('runs.get', { run: id }).then(
        (fresh) => patch(id, replacedBy(fresh)),
        () => undefined,
      );
    }
  };

  useLiveEvents(
    (name) => name === 'run.updated' || name === 'run.metrics' || name === 'run.created',
    (event) => {
      if (!loaded) return;
      if (event.name === 'run.updated') {
        const info = (event.data as { run: RunInfo }).run;
        patch(info.id, withInfo(info));
        void queryClient.invalidateQueries({ queryKey: queryKeys.run(info.id) });
      } else if (event.name === 'run.metrics') {
        const { runId } = event.data as { runId: string };
        if (!loadedIds.current.has(runId)) return;
        pending.current.add(runId);
        timer.current ??= setTimeout(flush, LIVE_FLUSH_MS);
      } else if (event.name === 'run.created') {
        const info = (event.data as { run: RunInfo }).run;
        // A new run belongs at the top of the default order: refetch when only the first page is loaded.
        if (experimentIds.includes(info.experimentId)) {
          void queryClient.invalidateQueries({
            queryKey: [...queryKeys.runs, 'search'],
            predicate: (q) => ((q.state.data as RunPages | undefined)?.pages.length ?? 0) <= 1,
          });
        }
      }
    },
  );
}
