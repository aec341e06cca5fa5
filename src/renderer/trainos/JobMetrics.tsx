import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { modelhubEvents } from '#shared/contracts/modelhub';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, EmptyState, Muted, Spinner } from '../components/ui';
import { useLiveEvents, useThrottled } from '../experiments/live';
import { MetricCharts, type ChartRun } from '../experiments/MetricCharts';
import { queryKeys, useApi } from '../lib/api';
import { isFinalMetric } from './builtin-job';

const RunMetricsEvent = modelhubEvents['run.metrics'];
/** A metric new to the run shows within this long; the charts follow their points themselves. */
const NEW_KEY_REFETCH_MS = 1_000;

/**
 * A training job's run as live charts, one per metric it logs: the run page's charts, on the job's page. A built-in
 * trainer's job shows the values it logs once at the end (best epoch, test set) as numbers above the charts.
 */
export function JobMetrics({ runId, builtin = false }: { runId: string | null; builtin?: boolean }) {
  return (
    <section aria-label="Metrics" data-testid="training-job-metrics">
      <h2 className="mb-2 text-[13px] font-semibold text-zinc-900 dark:text-zinc-100">Metrics</h2>
      {runId ? (
        <RunCharts runId={runId} builtin={builtin} />
      ) : (
        <Card>
          <EmptyState title="No run yet">Its run is made when the job starts; what it logs is charted here.</EmptyState>
        </Card>
      )}
    </section>
  );
}

function RunCharts({ runId, builtin }: { runId: string; builtin: boolean }) {
  const api = useApi();
  const run = useQuery({
    queryKey: queryKeys.run(runId),
    queryFn: () => api.call('runs.get', { run: runId }),
  });
  const refetch = useThrottled(() => void run.refetch(), NEW_KEY_REFETCH_MS);
  const keyList = (run.data?.metrics.map((m) => m.key) ?? []).sort((a, b) => a.localeCompare(b)).join('\n');
  useLiveEvents(
    (name) => name === 'run.metrics',
    (event) => {
      const parsed = RunMetricsEvent.safeParse(event.data);
      if (!parsed.success || parsed.data.runId !== runId) return;
      const known = keyList.split('\n');
      if (parsed.data.keys.some((key) => !known.includes(key))) refetch();
    },
  );
  // Kept while the id, name and keys stay, so that reading the run again does not redraw its charts.
  const name = run.data?.info.name ?? '';
  const chartRuns = useMemo<ChartRun[]>(() => [{ id: runId, name }], [runId, name]);
  const keys = useMemo(
    () => (keyList === '' ? [] : keyList.split('\n')).filter((key) => !builtin || !isFinalMetric(key)),
    [keyList, builtin],
  );
  const finals = builtin ? (run.data?.metrics ?? []).filter((m) => isFinalMetric(m.key)) : [];

  if (run.isError) return <ErrorBanner error={run.error} onRetry={() => void run.refetch()} />;
  if (!run.data) {
    return (
      <div className="flex items-center gap-2 py-4 text-zinc-500">
        <Spinner /> Loading its run…
      </div>
    );
  }
  if (keys.length === 0) {
    return (
      <Card>
        <EmptyState title="No metrics logged yet">
          {builtin ? (
            'The trainer logs its loss and metrics after each epoch; they are charted here as they arrive.'
          ) : (
            <>
              The job logs them to its run (<code className="font-mono">AIDOS_RUN_ID</code>) with the aidos SDK or
              MLflow&apos;s client; they are charted here as they arrive.
            </>
          )}
        </EmptyState>
      </Card>
    );
  }
  return (
    <>
      {finals.length > 0 && (
        <dl
          className="mb-3 flex flex-wrap gap-x-6 gap-y-1 rounded-md border border-zinc-200 bg-white px-4 py-2.5 dark:border-zinc-800 dark:bg-zinc-900"
          aria-label="Final metrics"
          data-testid="training-job-final-metrics"
        >
          {[...finals]
            .sort((a, b) => a.key.localeCompare(b.key))
            .map((m) => (
              <div key={m.key} className="flex items-baseline gap-1.5" data-key={m.key}>
                <dt className="font-mono text-[12px] text-zinc-500 dark:text-zinc-400">{m.key}</dt>
                <dd className="font-medium text-zinc-900 tabular-nums dark:text-zinc-100">{formatMetric(m.value)}</dd>
              </div>
            ))}
          <Muted className="self-center text-[11px]">logged at the end</Muted>
        </dl>
      )}
      <MetricCharts runs={chartRuns} keys={keys} />
    </>
  );
}

/** 4 significant digits; whole numbers (an epoch) and NaN or infinities as they are. */
function formatMetric(value: number | string): string {
  return typeof value === 'string' || Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
