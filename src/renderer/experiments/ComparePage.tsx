import { useQueries, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Run } from '#shared/contracts/modelhub';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, cx, EmptyState, inputClasses, Muted, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { runColor } from './charts';
import { metricRows, paramRows, type CompareRow } from './compare';
import { MetricCharts, type ChartRun } from './MetricCharts';
import { ParallelCoordinates } from './ParallelCoordinates';
import { parseRunIds, runPath, runsPath } from './paths';
import { RunStatusBadge } from './ui';

/**
 * Runs side by side (`?runs=a,b,c`): their params with the rows that differ marked, their latest metrics, every
 * metric overlaid in one chart per key, and a parallel-coordinates plot of params against a chosen metric.
 */
export function ComparePage() {
  const api = useApi();
  const [params] = useSearchParams();
  const ids = parseRunIds(params.get('runs'));
  // `combine` keeps the same `runs` array until a run's data changes: the charts key on it.
  const { runs, error, loaded } = useQueries({
    queries: ids.map((id) => ({
      queryKey: queryKeys.run(id),
      queryFn: () => api.call('runs.get', { run: id }),
    })),
    combine: (results) => ({
      runs: results.flatMap((q) => (q.data ? [q.data] : [])),
      error: results.find((q) => q.isError)?.error ?? null,
      loaded: results.every((q) => q.isSuccess),
    }),
  });
  const chartRuns = useMemo<ChartRun[]>(() => runs.map((r) => ({ id: r.info.id, name: r.info.name })), [runs]);
  const metricKeys = useMemo(
    () => [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort((a, b) => a.localeCompare(b)),
    [runs],
  );
  const names = useMemo(() => new Map(runs.map((r) => [r.info.id, r.info.name])), [runs]);
  const [onlyDiffering, setOnlyDiffering] = useState(false);
  const [chosenMetric, setChosenMetric] = useState<string | null>(null);
  const metric = chosenMetric && metricKeys.includes(chosenMetric) ? chosenMetric : (metricKeys[0] ?? null);
  const experimentIds = [...new Set(runs.map((r) => r.info.experimentId))];
  // The breadcrumb names the runs' experiment when they share one.
  const onlyExperiment = experimentIds.length === 1 ? experimentIds[0] : undefined;
  const experiment = useQuery({
    queryKey: queryKeys.experiment(onlyExperiment ?? ''),
    queryFn: () => api.call('experiments.get', { experiment: onlyExperiment ?? '' }),
    enabled: onlyExperiment !== undefined,
    staleTime: 60_000,
  });

  if (ids.length < 2) {
    return (
      <EmptyState title="Choose two or more runs to compare">
        <Link to="/experiments" className="text-indigo-700 hover:underline dark:text-indigo-400">
          Pick them in an experiment’s runs table
        </Link>
      </EmptyState>
    );
  }
  const pRows = paramRows(runs);
  const shownParams = onlyDiffering ? pRows.filter((r) => r.differs) : pRows;

  return (
    <div data-testid="compare-page">
      <nav aria-label="Breadcrumb" className="mb-2 text-[12px] text-zinc-500 dark:text-zinc-400">
        <Link to="/experiments" className="hover:underline">
          Experiments
        </Link>
        {experimentIds.length > 0 && (
          <>
            {' / '}
            <Link to={runsPath(experimentIds)} className="hover:underline">
              {onlyExperiment === undefined
                ? `${experimentIds.length} experiments`
                : (experiment.data?.name ?? `#${onlyExperiment}`)}
            </Link>
          </>
        )}{' '}
        / compare
      </nav>
      <PageHeader title={`Compare ${ids.length} runs`} description={runs.map((r) => r.info.name).join(' · ')} />
      {error && <ErrorBanner className="mb-3" error={error} title="A run could not be loaded" />}
      {!loaded && !error ? (
        <div className="flex items-center gap-2 p-6 text-zinc-500">
          <Spinner /> Loading runs…
        </div>
      ) : (
        <div className="space-y-4">
          <Card
            title="Params"
            actions={
              <label className="flex items-center gap-2 text-[12px] font-normal">
                <input
                  type="checkbox"
                  className="accent-indigo-600"
                  checked={onlyDiffering}
                  onChange={(e) => setOnlyDiffering(e.target.checked)}
                />
                Only rows that differ
              </label>
            }
            bodyClassName="overflow-x-auto p-0"
          >
            <CompareTable
              label="Params compared"
              testId="param-row"
              runs={runs}
              rows={shownParams}
              empty={onlyDiffering ? 'All params are the same.' : 'No params logged.'}
            />
          </Card>
          <Card title="Latest metrics" bodyClassName="overflow-x-auto p-0">
            <CompareTable
              label="Metrics compared"
              testId="metric-row"
              runs={runs}
              rows={metricRows(runs)}
              empty="No metrics logged."
              highlight={false}
            />
          </Card>
          <section aria-label="Charts">
            <h2 className="mb-2 text-[13px] font-semibold text-zinc-900 dark:text-zinc-100">Charts</h2>
            <MetricCharts runs={chartRuns} keys={metricKeys} />
          </section>
          <Card
            title="Parallel coordinates"
            actions={
              metric && (
                <label className="flex items-center gap-2 text-[12px] font-normal">
                  Metric
                  <select
                    className={cx(inputClasses({ width: 'w-auto', height: 'h-7' }), 'py-0')}
                    value={metric}
                    onChange={(e) => setChosenMetric(e.target.value)}
                  >
                    {metricKeys.map((k) => (
                      <option key={k} value={k}>
                        {k}
                      </option>
                    ))}
                  </select>
                </label>
              )
            }
          >
            {metric ? (
              <ParallelCoordinates runs={runs} metric={metric} names={names} />
            ) : (
              <Muted>These runs have no metrics.</Muted>
            )}
          </Card>
        </div>
      )}
    </div>
  );
}

function CompareTable({
  label,
  testId,
  runs,
  rows,
  empty,
  highlight = true,
}: {
  label: string;
  testId: string;
  runs: readonly Run[];
  rows: readonly CompareRow[];
  empty: string;
  highlight?: boolean;
}) {
  if (rows.length === 0) return <p className="px-4 py-3 text-zinc-500 dark:text-zinc-400">{empty}</p>;
  return (
    <table className="w-full text-left" aria-label={label}>
      <thead className="text-[11px] font-medium text-zinc-500 dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium tracking-wide uppercase">Key</th>
          {runs.map((r, i) => (
            <th key={r.info.id} className="px-4 py-2 font-medium">
              <span className="flex items-center gap-1.5">
                <span className="inline-block size-2 rounded-full" style={{ background: runColor(i) }} />
                <Link
                  to={runPath(r.info.id)}
                  className="text-[12px] text-indigo-700 normal-case hover:underline dark:text-indigo-400"
                >
                  {r.info.name}
                </Link>
                <RunStatusBadge status={r.info.status} />
              </span>
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {rows.map((row) => (
          <tr
            key={row.key}
            data-testid={testId}
            data-key={row.key}
            data-differs={String(row.differs)}
            className={cx(highlight && row.differs && 'bg-amber-50 dark:bg-amber-950/30')}
          >
            <th scope="row" className="px-4 py-1.5 font-medium text-zinc-700 dark:text-zinc-300">
              {row.key}
              {highlight && row.differs && <span className="sr-only"> (differs)</span>}
            </th>
            {row.values.map((v, i) => (
              <td key={i} className="px-4 py-1.5 font-mono text-[12px]">
                {v === null ? <Muted>—</Muted> : v}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
