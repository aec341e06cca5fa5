import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { JOB_STATUSES, type Job, type JobStatus } from '#shared/contracts/jobs';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import {
  Button,
  Card,
  EmptyState,
  FilterButtons,
  Muted,
  PageHeader,
  ProgressBar,
  Spinner,
  StatusBadge,
} from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatDuration, formatPercent, formatRelative, shortId } from '../lib/format';
import { useNow } from '../lib/hooks';
import { toastError } from '../lib/toasts';
import { NewJobDialog } from './NewJobDialog';

const PAGE_SIZE = 50;

function isStatus(value: string | null): value is JobStatus {
  return value !== null && (JOB_STATUSES as readonly string[]).includes(value);
}

/**
 * The platform's background tasks (the job queue's jobs: imports, exports, profiles, maintenance), newest first,
 * filtered by status (kept in the URL); live through the event stream's invalidations. Called tasks, not jobs, in
 * the UI so as not to be taken for training jobs, which have pages of their own.
 */
export function JobsPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const raw = params.get('status');
  const status = isStatus(raw) ? raw : undefined;
  const [creating, setCreating] = useState(false);

  const jobs = useInfiniteQuery({
    queryKey: queryKeys.jobsList(status),
    queryFn: ({ pageParam }) => api.call('jobs.list', { status, limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 0,
  });
  const items = jobs.data?.pages.flatMap((p) => p.items) ?? [];

  const setStatus = (next: JobStatus | undefined) => {
    setParams(next ? { status: next } : {}, { replace: true });
  };

  return (
    <div>
      <PageHeader
        title="Background tasks"
        description={
          <>
            Dataset imports, exports, profiles and checks, and storage maintenance. Training jobs are on{' '}
            <Link to="/training/jobs" className="text-indigo-600 hover:underline dark:text-indigo-400">
              their own page
            </Link>
            .
          </>
        }
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <PlusIcon width={14} height={14} /> New task
          </Button>
        }
      />
      <FilterButtons label="Filter by status" values={JOB_STATUSES} value={status} onChange={setStatus} />

      {jobs.isError && <ErrorBanner className="mb-3" error={jobs.error} onRetry={() => void jobs.refetch()} />}

      <Card bodyClassName="overflow-x-auto p-0">
        {jobs.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading tasks…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title={status ? `No ${status} tasks` : 'No background tasks yet'}>
            Tasks appear here when a service or you enqueue one (“New task”, or{' '}
            <code className="font-mono">aidos tasks</code> in a terminal).
          </EmptyState>
        ) : (
          <JobsTable jobs={items} />
        )}
      </Card>
      {jobs.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <Button onClick={() => void jobs.fetchNextPage()} disabled={jobs.isFetchingNextPage}>
            {jobs.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        </div>
      )}
      <NewJobDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function JobsTable({ jobs }: { jobs: Job[] }) {
  const now = useNow(1000);
  return (
    <table className="w-full text-left" aria-label="Background tasks">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Task</th>
          <th className="px-4 py-2 font-medium">Status</th>
          <th className="w-48 px-4 py-2 font-medium">Progress</th>
          <th className="px-4 py-2 font-medium">Attempts</th>
          <th className="px-4 py-2 font-medium">Created</th>
          <th className="px-4 py-2 font-medium">Duration</th>
          <th className="px-4 py-2 font-medium">Error</th>
          <th className="px-4 py-2">
            <span className="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {jobs.map((job) => (
          <JobRow key={job.id} job={job} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function JobRow({ job, now }: { job: Job; now: number }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => api.call('jobs.cancel', { id: job.id }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.jobs }),
    onError: (error) => toastError(error, `Could not cancel ${job.type} ${shortId(job.id)}`),
  });
  const progress = job.status === 'succeeded' ? 1 : job.progress;
  const cancellable = job.status === 'queued' || job.status === 'running';
  const duration = job.startedAt ? (job.finishedAt ?? now) - job.startedAt : null;
  return (
    <tr
      data-testid="job-row"
      data-job-id={job.id}
      data-status={job.status}
      className="align-top hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
    >
      <td className="px-4 py-2.5">
        <p className="font-medium text-zinc-900 dark:text-zinc-100">{job.type}</p>
        <p className="font-mono text-[11px] text-zinc-500" title={job.id}>
          {shortId(job.id)}
          {job.priority !== 0 && <span className="ml-2">prio {job.priority}</span>}
        </p>
      </td>
      <td className="px-4 py-2.5">
        <StatusBadge status={job.status} />
      </td>
      <td className="px-4 py-2.5">
        {job.status === 'queued' ? (
          <Muted>waiting</Muted>
        ) : (
          <>
            <div className="flex items-center gap-2">
              <ProgressBar
                value={progress}
                tone={
                  job.status === 'failed'
                    ? 'red'
                    : job.status === 'succeeded'
                      ? 'emerald'
                      : job.status === 'cancelled'
                        ? 'amber'
                        : 'indigo'
                }
                label={`Progress of task ${shortId(job.id)}`}
              />
              <span className="w-10 shrink-0 text-right text-[12px] tabular-nums" data-testid="job-progress">
                {formatPercent(progress)}
              </span>
            </div>
            {job.progressMessage && job.status === 'running' && (
              <p className="mt-0.5 truncate text-[11px] text-zinc-500 dark:text-zinc-400">{job.progressMessage}</p>
            )}
          </>
        )}
      </td>
      <td className="px-4 py-2.5 tabular-nums">
        {job.attempts}
        <Muted> / {job.maxAttempts}</Muted>
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap" title={new Date(job.createdAt).toISOString()}>
        {formatRelative(job.createdAt, now)}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap tabular-nums">
        {duration === null ? <Muted>—</Muted> : formatDuration(duration)}
      </td>
      <td className="max-w-xs px-4 py-2.5">
        {job.error ? (
          <p className="text-red-700 dark:text-red-400" data-testid="job-error">
            <span className="font-mono text-[11px] opacity-80">{job.error.code}</span> {job.error.message}
          </p>
        ) : job.cancelRequested && cancellable ? (
          <Muted>cancelling…</Muted>
        ) : null}
      </td>
      <td className="px-4 py-2.5 text-right">
        {cancellable && (
          <Button size="sm" onClick={() => cancel.mutate()} disabled={cancel.isPending || job.cancelRequested}>
            Cancel
          </Button>
        )}
      </td>
    </tr>
  );
}
