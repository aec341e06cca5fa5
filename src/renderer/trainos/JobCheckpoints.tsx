import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { TrainingJob } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes, formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';

/**
 * The files a job saved to resume from, newest first, each to download. The job's newest checkpoint is part of
 * the query's key: a `training.job.updated` event that brings a new one (the page keeps the job from events)
 * reads the list again.
 */
export function JobCheckpoints({ job }: { job: TrainingJob }) {
  const api = useApi();
  const now = useNow(10_000);
  const newest = job.lastCheckpoint?.id ?? null;
  const checkpoints = useQuery({
    queryKey: [...queryKeys.trainingJob(job.id), 'checkpoints', newest],
    queryFn: () => api.call('trainingJobs.checkpoints', { job: job.id }),
    placeholderData: keepPreviousData,
  });
  const items = [...(checkpoints.data?.checkpoints ?? [])].reverse();

  return (
    <Card
      title="Checkpoints"
      actions={
        items.length > 0 && (
          <Muted className="text-[11px]">
            {items.length} saved{job.lastCheckpoint && ` · a restart resumes from step ${job.lastCheckpoint.step}`}
          </Muted>
        )
      }
      bodyClassName="overflow-x-auto p-0"
      data-testid="training-job-checkpoints"
    >
      {checkpoints.isError ? (
        <ErrorBanner className="m-3" error={checkpoints.error} onRetry={() => void checkpoints.refetch()} />
      ) : checkpoints.isPending ? (
        <div className="flex items-center gap-2 p-4 text-zinc-500">
          <Spinner /> Loading checkpoints…
        </div>
      ) : items.length === 0 ? (
        <EmptyState title="No checkpoints yet">
          {job.spec.kind === 'builtin' ? (
            'The trainer saves one after each epoch'
          ) : (
            <>
              A running job saves one with <code className="font-mono">aidos.save_checkpoint(path, step)</code>
            </>
          )}
          ; a restart (a retry, or after being preempted) resumes from the newest.
        </EmptyState>
      ) : (
        <table className="w-full text-left" aria-label="Checkpoints">
          <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="px-4 py-2 font-medium">Step</th>
              <th className="px-4 py-2 font-medium">File</th>
              <th className="px-4 py-2 font-medium">Attempt</th>
              <th className="px-4 py-2 text-right font-medium">Size</th>
              <th className="px-4 py-2 font-medium">Saved</th>
              <th className="px-4 py-2">
                <span className="sr-only">Download</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {items.map((c) => (
              <tr
                key={c.id}
                data-testid="checkpoint-row"
                data-step={c.step}
                className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
              >
                <td className="px-4 py-2 tabular-nums">
                  {c.step}
                  {c.id === newest && (
                    <span
                      className="ml-2 rounded bg-indigo-50 px-1.5 py-0.5 text-[11px] font-medium text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300"
                      title="A restart resumes from this one"
                    >
                      newest
                    </span>
                  )}
                </td>
                <td className="px-4 py-2">
                  <span className="font-mono text-[12px] break-all" title={`sha256 ${c.sha256}`}>
                    {c.name}
                  </span>
                </td>
                <td className="px-4 py-2 tabular-nums">{c.attempt}</td>
                <td className="px-4 py-2 text-right whitespace-nowrap tabular-nums">{formatBytes(c.size)}</td>
                <td className="px-4 py-2 whitespace-nowrap" title={formatDateTime(c.createdAt)}>
                  {formatRelative(c.createdAt, now)}
                </td>
                <td className="px-4 py-2 text-right">
                  <a
                    href={api.url('trainingJobs.checkpointContent', { job: job.id, checkpoint: c.id })}
                    download={c.name}
                    className="text-[12px] font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                  >
                    Download
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
