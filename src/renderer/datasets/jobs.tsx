import { useQuery } from '@tanstack/react-query';
import type { Job } from '#shared/contracts/jobs';
import { AppError, isErrorCode } from '#shared/errors';
import { ErrorBanner } from '../components/ErrorBanner';
import { Muted, ProgressBar, StatusBadge } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { useEvents } from '../lib/events';
import { formatPercent, shortId } from '../lib/format';

/** Polling only covers a dropped event socket; job events normally move the job first. */
const FALLBACK_POLL_MS = 2_000;

export function isFinished(job: Job | undefined): boolean {
  return job?.status === 'succeeded' || job?.status === 'failed' || job?.status === 'cancelled';
}

/**
 * A job followed live: the newest copy from the event stream (every job event carries the whole job), or from
 * `jobs.get` (refreshed by the same events, and polled while the socket is down), whichever is newer.
 */
export function useJob(id: string | null): Job | undefined {
  const api = useApi();
  const fromEvents = useEvents((s) => (id ? newestJobInEvents(s.events, id) : undefined));
  const query = useQuery({
    queryKey: queryKeys.job(id ?? ''),
    queryFn: () => api.call('jobs.get', { id: id ?? '' }),
    enabled: id !== null,
    staleTime: 0,
    refetchInterval: (q) => (isFinished(q.state.data) ? false : FALLBACK_POLL_MS),
  });
  const fetched = query.data;
  if (!fromEvents) return fetched;
  if (!fetched) return fromEvents;
  return fromEvents.updatedAt > fetched.updatedAt || (isFinished(fromEvents) && !isFinished(fetched))
    ? fromEvents
    : fetched;
}

function newestJobInEvents(events: readonly { name: string; data: unknown }[], id: string): Job | undefined {
  // Newest first: the first match is the latest word on the job.
  for (const e of events) {
    if (!e.name.startsWith('job.')) continue;
    const job = (e.data as { job?: Job } | null)?.job;
    if (job?.id === id) return job;
  }
  return undefined;
}

/** A job's state in a dialog: status, a progress bar with the handler's message, and the error when it failed. */
export function JobProgress({ job, label }: { job: Job | undefined; label: string }) {
  if (!job) {
    return <Muted>Starting…</Muted>;
  }
  const progress = job.status === 'succeeded' ? 1 : job.progress;
  const tone =
    job.status === 'failed'
      ? 'red'
      : job.status === 'succeeded'
        ? 'emerald'
        : job.status === 'cancelled'
          ? 'amber'
          : 'indigo';
  return (
    <div className="space-y-2" data-testid="job-follow" data-status={job.status}>
      <div className="flex items-center gap-2">
        <StatusBadge status={job.status} />
        <span className="font-mono text-[11px] text-zinc-500" title={job.id}>
          {job.type} {shortId(job.id)}
        </span>
        <span className="ml-auto text-[12px] tabular-nums">
          {job.status === 'queued' ? 'waiting' : formatPercent(progress)}
        </span>
      </div>
      <ProgressBar value={job.status === 'queued' ? null : progress} tone={tone} label={label} />
      {job.progressMessage && job.status === 'running' && (
        <p className="truncate text-[12px] text-zinc-500 dark:text-zinc-400">{job.progressMessage}</p>
      )}
      {job.error && (
        <ErrorBanner
          title={job.status === 'cancelled' ? 'Cancelled' : 'The job failed'}
          error={
            isErrorCode(job.error.code)
              ? new AppError(job.error.code, job.error.message)
              : new Error(`${job.error.code}: ${job.error.message}`)
          }
        />
      )}
    </div>
  );
}
