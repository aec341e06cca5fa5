import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { modelhubEvents } from '#shared/contracts/modelhub';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, EmptyState, Spinner } from '../components/ui';
import { useLiveEvents, useThrottled } from '../experiments/live';
import { MetricCharts, type ChartRun } from '../experiments/MetricCharts';
import { queryKeys, useApi } from '../lib/api';

const RunMetricsEvent = modelhubEvents['run.metrics'];
/** A metric new to the run shows within this long; the charts follow their points themselves. */
const NEW_KEY_REFETCH_MS = 1_000;

/** A training job's run as live charts, one per metric it logs: the run page's charts, on the job's page. */
export function JobMetrics({ runId }: { runId: string | null }) {
  return (
    <section aria-label="Metrics" data-testid="training-job-metrics">
      <h2 className="mb-2 text-[13px] font-semibold text-zinc-900 dark:text-zinc-100">Metrics</h2>
      {runId ? (
        <RunCharts runId={runId} />
      ) : (
        <Card>
          <EmptyState title="No run yet">Its run is made when the job starts; what it logs is charted here.</EmptyState>
        </Card>
      )}
    </section>
  );
}

function RunCharts({ runId }: { runId: string }) {
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
  const keys = useMemo(() => (keyList === '' ? [] : keyList.split('\n')), [keyList]);

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
          The job logs them to its run (<code className="font-mono">AIDOS_RUN_ID</code>) with the aidos SDK or
          MLflow&apos;s client; they are charted here as they arrive.
        </EmptyState>
      </Card>
    );
  }
  return <MetricCharts runs={chartRuns} keys={keys} />;
}
