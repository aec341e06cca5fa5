import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { TRAINING_JOB_STATES, type TrainingJob, type TrainingJobState } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import { Button, Card, EmptyState, FilterButtons, Muted, PageHeader, Spinner } from '../components/ui';
import { useLiveEvents, useThrottled } from '../experiments/live';
import { runPath } from '../experiments/paths';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime, formatDuration, formatRelative, shortId } from '../lib/format';
import { useNow } from '../lib/hooks';
import { NewTrainingJobDialog } from './NewTrainingJobDialog';
import { builtinJobSubtitle, trainerText } from './builtin-job';
import { TrainingJobPage } from './TrainingJobPage';
import { TrainingStateBadge } from './TrainingStateBadge';
import { formatPlacement, stateNote, trainingJobPath } from './training-jobs';

const PAGE_SIZE = 50;
/** A burst of job updates (a sweep submitting many) costs one refetch. */
const EVENT_REFRESH_MS = 250;

function isState(value: string | null): value is TrainingJobState {
  return value !== null && (TRAINING_JOB_STATES as readonly string[]).includes(value);
}

/** The training job queue, or one job's page when the URL names it (`?job=<id>`). */
export function TrainingJobsPage() {
  const [params] = useSearchParams();
  const jobId = params.get('job');
  return jobId ? <TrainingJobPage key={jobId} jobId={jobId} /> : <TrainingJobQueue />;
}

/** Every training job, newest first, filtered by state (kept in the URL), live through `training.job.updated`. */
function TrainingJobQueue() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const raw = params.get('state');
  const state = isState(raw) ? raw : undefined;
  const [creating, setCreating] = useState(false);

  const jobs = useInfiniteQuery({
    queryKey: queryKeys.trainingJobList(state),
    queryFn: ({ pageParam }) => api.call('trainingJobs.list', { state, limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 0,
  });
  const refresh = useThrottled(
    () => void queryClient.invalidateQueries({ queryKey: queryKeys.trainingJobLists }),
    EVENT_REFRESH_MS,
  );
  useLiveEvents((name) => name === 'training.job.updated', refresh);
  const items = jobs.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div data-testid="training-jobs-page">
      <PageHeader
        title="Training jobs"
        description="Training on this machine's GPUs or CPU, from a template or a command, each job logging into a ModelHub run."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <PlusIcon width={14} height={14} /> New training job
          </Button>
        }
      />
      <FilterButtons
        label="Filter by state"
        values={TRAINING_JOB_STATES}
        value={state}
        onChange={(s) => setParams(s ? { state: s } : {}, { replace: true })}
      />

      {jobs.isError && <ErrorBanner className="mb-3" error={jobs.error} onRetry={() => void jobs.refetch()} />}

      <Card bodyClassName="overflow-x-auto p-0">
        {jobs.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading training jobs…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title={state ? `No ${state} training jobs` : 'No training jobs yet'}>
            Submit one with “New training job”, or <code className="font-mono">aidos jobs submit</code> in a terminal.
          </EmptyState>
        ) : (
          <TrainingJobsTable jobs={items} />
        )}
      </Card>
      {jobs.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <Button onClick={() => void jobs.fetchNextPage()} disabled={jobs.isFetchingNextPage}>
            {jobs.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        </div>
      )}
      <NewTrainingJobDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function TrainingJobsTable({ jobs }: { jobs: readonly TrainingJob[] }) {
  const now = useNow(1000);
  return (
    <table className="w-full text-left" aria-label="Training jobs">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Job</th>
          <th className="px-4 py-2 font-medium">State</th>
          <th className="px-4 py-2 font-medium">Attempt</th>
          <th className="px-4 py-2 font-medium">Placement</th>
          <th className="px-4 py-2 font-medium">Waiting for / why</th>
          <th className="px-4 py-2 font-medium">Run</th>
          <th className="px-4 py-2 font-medium">Started</th>
          <th className="px-4 py-2 font-medium">Ended</th>
          <th className="px-4 py-2 font-medium">Duration</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {jobs.map((job) => (
          <TrainingJobRow key={job.id} job={job} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function TrainingJobRow({ job, now }: { job: TrainingJob; now: number }) {
  const placement = formatPlacement(job.placement);
  const note = stateNote(job);
  const duration = job.startedAt === null ? null : (job.endedAt ?? now) - job.startedAt;
  // Built-in jobs from one template share its title: what each trains, on what, tells them apart.
  const subtitle = builtinJobSubtitle(job);
  return (
    <tr
      data-testid="training-job-row"
      data-job-id={job.id}
      data-state={job.state}
      className="align-top hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
    >
      <td className="max-w-64 px-4 py-2.5">
        <Link
          to={trainingJobPath(job.id)}
          className="block truncate font-medium text-zinc-900 hover:text-indigo-600 hover:underline dark:text-zinc-100 dark:hover:text-indigo-400"
          title={job.spec.command ? job.spec.command.join(' ') : job.spec.trainer && trainerText(job.spec.trainer)}
        >
          {job.name}
        </Link>
        {subtitle && (
          <p className="truncate text-[12px] text-zinc-600 dark:text-zinc-300" data-testid="training-job-trains">
            {subtitle}
          </p>
        )}
        <p className="font-mono text-[11px] text-zinc-500" title={job.id}>
          {shortId(job.id)}
          {job.spec.priority !== 0 && <span className="ml-2">prio {job.spec.priority}</span>}
        </p>
      </td>
      <td className="px-4 py-2.5">
        <TrainingStateBadge state={job.state} />
      </td>
      <td className="px-4 py-2.5 tabular-nums">
        {/* Not "of at most": a preempted job starts again without using up a retry. */}
        {job.attempt}
        {job.resumedFromStep !== null && (
          <span className="block text-[11px] text-zinc-500 dark:text-zinc-400" title="Resumed from its checkpoint">
            from step {job.resumedFromStep}
          </span>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap" data-testid="training-job-placement">
        {placement ?? <Muted>—</Muted>}
      </td>
      <td className="max-w-xs px-4 py-2.5" data-testid="training-job-note">
        {job.state === 'queued' && job.reason && (
          <p className="text-amber-800 dark:text-amber-300">Queued again: {job.reason}</p>
        )}
        {note &&
          (job.state === 'queued' ? (
            <Muted>{note}</Muted>
          ) : (
            <span className="text-red-700 dark:text-red-400">{note}</span>
          ))}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">
        {job.runId ? (
          <Link
            to={runPath(job.runId)}
            className="font-mono text-[12px] text-indigo-600 hover:underline dark:text-indigo-400"
            title={`Run ${job.runId} in ${job.spec.experiment}`}
          >
            {shortId(job.runId)}
          </Link>
        ) : (
          <Muted>—</Muted>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">
        {job.startedAt === null ? (
          <Muted>—</Muted>
        ) : (
          <span title={formatDateTime(job.startedAt)}>{formatRelative(job.startedAt, now)}</span>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">
        {job.endedAt === null ? (
          <Muted>—</Muted>
        ) : (
          <span title={formatDateTime(job.endedAt)}>{formatRelative(job.endedAt, now)}</span>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap tabular-nums">
        {duration === null ? <Muted>—</Muted> : formatDuration(duration)}
      </td>
    </tr>
  );
}
