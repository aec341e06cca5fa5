import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { Run } from '#shared/contracts/modelhub';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, cx, Muted, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime, formatDuration } from '../lib/format';
import { useNow } from '../lib/hooks';
import { ArtifactsBrowser } from './ArtifactsBrowser';
import { formatMetric } from './charts';
import { runDuration } from './columns';
import { useLiveEvents, useThrottled } from './live';
import { MetricCharts, type ChartRun } from './MetricCharts';
import { datasetOfSource, runsPath } from './paths';
import { KeyValueTable, RunStatusBadge } from './ui';

const TABS = ['overview', 'charts', 'artifacts'] as const;
type Tab = (typeof TABS)[number];
const TAB_LABELS: Record<Tab, string> = { overview: 'Overview', charts: 'Charts', artifacts: 'Artifacts' };

/**
 * One run: its info, params, latest metrics, tags and inputs; its metric charts; and its artifacts. The tab and
 * the artifact folder and file live in the URL. The run follows live events while it runs.
 */
export function RunPage() {
  const runId = useParams().run ?? '';
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const raw = params.get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(raw ?? '') ? (raw as Tab) : 'overview';
  const run = useQuery({
    queryKey: queryKeys.run(runId),
    queryFn: () => api.call('runs.get', { run: runId }),
  });
  // Points arrive up to four times a second: the latest values are fetched once a second at most.
  const refetch = useThrottled(() => void run.refetch(), 1_000);
  useLiveEvents(
    (name) => name === 'run.metrics' || name === 'run.updated',
    (event) => {
      const data = event.data as { runId?: string; run?: { id: string } };
      if ((data.runId ?? data.run?.id) === runId) refetch();
    },
  );
  const experiment = useQuery({
    queryKey: queryKeys.experiment(run.data?.info.experimentId ?? ''),
    queryFn: () => api.call('experiments.get', { experiment: run.data?.info.experimentId ?? '' }),
    enabled: run.isSuccess,
    staleTime: 60_000,
  });
  const set = (changes: Record<string, string | null>) =>
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

  const info = run.data?.info;
  // Kept while the id and name stay, so that a live refetch of the run does not redraw its charts.
  const chartId = info?.id;
  const chartName = info?.name ?? '';
  const chartRuns = useMemo<ChartRun[]>(
    () => (chartId ? [{ id: chartId, name: chartName }] : []),
    [chartId, chartName],
  );
  const keyList = (run.data?.metrics.map((m) => m.key) ?? []).sort((a, b) => a.localeCompare(b)).join('\n');
  const metricKeys = useMemo(() => (keyList === '' ? [] : keyList.split('\n')), [keyList]);

  if (run.isError) {
    return <ErrorBanner error={run.error} title={`Cannot open run ${runId}`} onRetry={() => void run.refetch()} />;
  }
  return (
    <div data-testid="run-page" data-run-id={runId}>
      <nav aria-label="Breadcrumb" className="mb-2 text-[12px] text-zinc-500 dark:text-zinc-400">
        <Link to="/experiments" className="hover:underline">
          Experiments
        </Link>{' '}
        /{' '}
        {info && (
          <Link to={runsPath([info.experimentId])} className="hover:underline">
            {experiment.data?.name ?? `#${info.experimentId}`}
          </Link>
        )}
      </nav>
      <PageHeader
        title={info ? info.name || info.id : 'Run'}
        description={
          info ? (
            <span className="flex items-center gap-2">
              <RunStatusBadge status={info.status} />
              <span className="font-mono text-[12px]">{info.id}</span>
            </span>
          ) : (
            'Loading…'
          )
        }
      />
      <div
        role="tablist"
        aria-label="Run views"
        className="mb-3 flex gap-1 border-b border-zinc-200 dark:border-zinc-800"
      >
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            onClick={() => set({ tab: t === 'overview' ? null : t })}
            className={cx(
              '-mb-px border-b-2 px-3 py-2 text-[13px] font-medium',
              tab === t
                ? 'border-indigo-500 text-zinc-900 dark:text-zinc-50'
                : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:text-zinc-400 dark:hover:text-zinc-200',
            )}
          >
            {TAB_LABELS[t]}
          </button>
        ))}
      </div>
      {!run.data ? (
        <div className="flex items-center gap-2 p-6 text-zinc-500">
          <Spinner /> Loading the run…
        </div>
      ) : tab === 'overview' ? (
        <Overview run={run.data} />
      ) : tab === 'charts' ? (
        <MetricCharts runs={chartRuns} keys={metricKeys} />
      ) : (
        <ArtifactsBrowser
          runId={runId}
          folder={params.get('path') ?? ''}
          file={params.get('file')}
          onOpen={({ folder, file }) => set({ path: folder, file })}
        />
      )}
    </div>
  );
}

function Overview({ run }: { run: Run }) {
  const now = useNow(run.info.status === 'RUNNING' ? 1000 : 60_000);
  const { info } = run;
  const duration = runDuration(info, now);
  const userTags = run.tags.filter((t) => !t.key.startsWith('mlflow.'));
  const systemTags = run.tags.filter((t) => t.key.startsWith('mlflow.'));
  return (
    <div className="grid grid-cols-1 gap-3 lg:grid-cols-2">
      <Card title="About" bodyClassName="p-0">
        <KeyValueTable
          label="About the run"
          mono={false}
          empty=""
          rows={[
            { key: 'Status', value: <RunStatusBadge status={info.status} /> },
            { key: 'Started', value: info.startTime ? formatDateTime(info.startTime) : '—' },
            { key: 'Ended', value: info.endTime ? formatDateTime(info.endTime) : '—' },
            { key: 'Duration', value: duration === null ? '—' : formatDuration(duration) },
            { key: 'User', value: info.userId || '—' },
            { key: 'Run ID', value: <span className="font-mono text-[12px]">{info.id}</span> },
            { key: 'Artifacts', value: <span className="font-mono text-[12px]">{info.artifactUri}</span> },
          ]}
        />
      </Card>
      <Card title="Latest metrics" bodyClassName="p-0" data-testid="run-metrics">
        <KeyValueTable
          label="Latest metrics"
          empty="No metrics logged."
          rows={[...run.metrics]
            .sort((a, b) => a.key.localeCompare(b.key))
            .map((m) => ({
              key: m.key,
              value: (
                <span className="flex justify-between gap-3" data-metric={m.key}>
                  <span>{formatMetric(m.value)}</span>
                  <Muted className="text-[11px]">step {m.step.toLocaleString('en-US')}</Muted>
                </span>
              ),
            }))}
        />
      </Card>
      <Card title="Params" bodyClassName="p-0">
        <KeyValueTable
          label="Params"
          empty="No params logged."
          rows={[...run.params].sort((a, b) => a.key.localeCompare(b.key))}
        />
      </Card>
      <div className="space-y-3">
        <Card title="Inputs" bodyClassName="p-0" data-testid="run-inputs">
          {run.inputs.length === 0 ? (
            <p className="px-4 py-3 text-zinc-500 dark:text-zinc-400">No dataset inputs logged.</p>
          ) : (
            <ul className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
              {run.inputs.map((input) => {
                const ours = datasetOfSource(input.source);
                const context = input.tags.find((t) => t.key === 'mlflow.data.context')?.value;
                return (
                  <li key={`${input.name}:${input.digest}`} className="px-4 py-2">
                    <div className="flex flex-wrap items-center gap-2">
                      {ours ? (
                        <Link
                          to={`/datasets/${encodeURIComponent(ours.name)}?v=${ours.version}`}
                          className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                        >
                          {ours.name} v{ours.version}
                        </Link>
                      ) : (
                        <span className="font-medium">{input.name}</span>
                      )}
                      {context && <Muted className="text-[12px]">{context}</Muted>}
                    </div>
                    <p className="truncate font-mono text-[11px] text-zinc-500 dark:text-zinc-400" title={input.source}>
                      {input.source} · {input.digest}
                    </p>
                  </li>
                );
              })}
            </ul>
          )}
        </Card>
        <Card title="Tags" bodyClassName="p-0">
          <KeyValueTable label="Tags" empty="No tags." rows={[...userTags, ...systemTags]} />
        </Card>
      </div>
    </div>
  );
}
