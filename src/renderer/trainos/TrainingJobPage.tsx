import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { hasEnded, trainosEvents, type TrainingJob } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Muted, Spinner } from '../components/ui';
import { useLiveEvents } from '../experiments/live';
import { modelPath, runPath } from '../experiments/paths';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime, formatDuration, formatMb, shortId } from '../lib/format';
import { useNow } from '../lib/hooks';
import { toastError } from '../lib/toasts';
import { trainerSettings } from './builtin-job';
import { quoteArgument } from './command';
import { JobCheckpoints } from './JobCheckpoints';
import { JobLog } from './JobLog';
import { JobMetrics } from './JobMetrics';
import { NewTrainingJobDialog } from './NewTrainingJobDialog';
import { TrainingStateBadge } from './TrainingStateBadge';
import { formatPlacement, stateNote, TRAINING_JOBS_PATH, trainingJobPath } from './training-jobs';

const JobUpdatedEvent = trainosEvents['training.job.updated'];

/**
 * One training job: what it runs, where, how it ended (or why it waits), its run's metrics as live charts, its
 * checkpoints, and its live log; it can be cancelled, retried, or cloned into the new-job form.
 */
export function TrainingJobPage({ jobId }: { jobId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const job = useQuery({
    queryKey: queryKeys.trainingJob(jobId),
    queryFn: () => api.call('trainingJobs.get', { job: jobId }),
    staleTime: 0,
    // Events bring changes at once; this also catches one missed while the event stream reconnected.
    refetchInterval: (query) => (query.state.data && hasEnded(query.state.data.state) ? false : 5000),
  });
  useLiveEvents(
    (name) => name === 'training.job.updated',
    (event) => {
      const parsed = JobUpdatedEvent.safeParse(event.data);
      if (parsed.success && parsed.data.job.id === jobId) {
        queryClient.setQueryData(queryKeys.trainingJob(jobId), parsed.data.job);
      }
    },
  );
  const cancel = useMutation({
    mutationFn: () => api.call('trainingJobs.cancel', { job: jobId }),
    // Read again rather than keep the answer: the job's end may have arrived as an event before it.
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.trainingJob(jobId) }),
    onError: (error) => toastError(error, 'Could not cancel the job'),
  });
  const retry = useMutation({
    mutationFn: () => api.call('trainingJobs.retry', { job: jobId }),
    onSuccess: (retried) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.trainingJobLists });
      void navigate(trainingJobPath(retried.id));
    },
    onError: (error) => toastError(error, 'Could not retry the job'),
  });
  const [cloning, setCloning] = useState(false);
  const data = job.data;

  return (
    <div data-testid="training-job-page" data-job-id={jobId}>
      <nav className="mb-2 text-[12px]">
        <Link to={TRAINING_JOBS_PATH} className="text-indigo-600 hover:underline dark:text-indigo-400">
          ← Training jobs
        </Link>
      </nav>
      {job.isError && <ErrorBanner className="mb-4" error={job.error} onRetry={() => void job.refetch()} />}
      {job.isPending && (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Loading the job…
        </div>
      )}
      {data && (
        <>
          <div className="mb-5 flex flex-wrap items-start justify-between gap-3">
            <div className="min-w-0">
              <h1 className="flex items-center gap-2 text-lg font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">
                <span className="truncate">{data.name}</span>
                <TrainingStateBadge state={data.state} />
              </h1>
              <p className="mt-0.5 font-mono text-[12px] text-zinc-500 dark:text-zinc-400">{data.id}</p>
            </div>
            <div className="flex items-center gap-2">
              {(data.state === 'queued' || data.state === 'running') && (
                <Button variant="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                  {cancel.isPending ? 'Cancelling…' : 'Cancel'}
                </Button>
              )}
              {hasEnded(data.state) && (
                <Button onClick={() => retry.mutate()} disabled={retry.isPending}>
                  {retry.isPending ? 'Retrying…' : 'Retry'}
                </Button>
              )}
              <Button onClick={() => setCloning(true)} title="A new job from this one's spec, to change first">
                Clone…
              </Button>
            </div>
          </div>
          {data.state === 'queued' && data.reason && (
            <p
              role="status"
              className="mb-4 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-900 dark:bg-amber-950/40 dark:text-amber-200"
              data-testid="training-job-requeued"
            >
              <span className="font-medium">Queued again:</span> {data.reason}
            </p>
          )}
          <div className="mb-4 grid grid-cols-1 gap-4 xl:grid-cols-2">
            <Outcome job={data} />
            <Spec job={data} />
          </div>
          <div className="mb-4">
            <JobMetrics runId={data.runId} builtin={data.spec.kind === 'builtin'} />
          </div>
          <div className="mb-4">
            <JobCheckpoints job={data} />
          </div>
          <JobLog jobId={data.id} running={!hasEnded(data.state)} />
          <NewTrainingJobDialog
            open={cloning}
            onClose={() => setCloning(false)}
            cloneOf={data}
            onSubmitted={(cloned) => void navigate(trainingJobPath(cloned.id))}
          />
        </>
      )}
    </div>
  );
}

function Outcome({ job }: { job: TrainingJob }) {
  const now = useNow(1000);
  const note = stateNote(job);
  const duration = job.startedAt === null ? null : (job.endedAt ?? now) - job.startedAt;
  return (
    <Card title="State">
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1.5" data-testid="training-job-outcome">
        <Fact label="State">
          <TrainingStateBadge state={job.state} />
          {note && (
            <span
              className={job.state === 'queued' ? 'ml-2 text-zinc-500' : 'ml-2 text-red-700 dark:text-red-400'}
              data-testid="training-job-reason"
            >
              {note}
            </span>
          )}
        </Fact>
        <Fact label="Attempt">
          <span data-testid="training-job-attempt">{job.attempt}</span>
          {job.resumedFromStep !== null ? (
            <span data-testid="training-job-resumed"> · resumed from the checkpoint at step {job.resumedFromStep}</span>
          ) : (
            job.attempt > 1 &&
            job.state !== 'queued' && <Muted> · started over: there was no checkpoint to resume from</Muted>
          )}
        </Fact>
        <Fact label="Placement">
          {formatPlacement(job.placement) ?? <Muted>not placed yet</Muted>}
          {job.placement && job.placement.gpus.length > 0 && (
            <Muted> · CUDA_VISIBLE_DEVICES={job.placement.cudaVisibleDevices}</Muted>
          )}
        </Fact>
        {/* A built-in trainer runs in the app's worker thread: it has no process to exit. */}
        {job.spec.kind === 'script' && (
          <Fact label="Exit">
            <span data-testid="training-job-exit">
              {job.signal !== null ? `signal ${job.signal}` : job.exitCode !== null ? `code ${job.exitCode}` : '—'}
            </span>
          </Fact>
        )}
        <Fact label="Run">
          {job.runId ? (
            <Link
              to={runPath(job.runId)}
              className="font-mono text-indigo-600 hover:underline dark:text-indigo-400"
              data-testid="training-job-run"
            >
              {job.runId}
            </Link>
          ) : (
            <Muted>made when it starts</Muted>
          )}
          <Muted> · in {job.spec.experiment}</Muted>
        </Fact>
        {job.retryOf && (
          <Fact label="Retry of">
            <Link
              to={trainingJobPath(job.retryOf)}
              className="font-mono text-indigo-600 hover:underline dark:text-indigo-400"
            >
              {shortId(job.retryOf)}
            </Link>
          </Fact>
        )}
        <Fact label="Submitted">{formatDateTime(job.createdAt)}</Fact>
        <Fact label="Started">{job.startedAt === null ? <Muted>—</Muted> : formatDateTime(job.startedAt)}</Fact>
        <Fact label="Ended">{job.endedAt === null ? <Muted>—</Muted> : formatDateTime(job.endedAt)}</Fact>
        <Fact label="Duration">{duration === null ? <Muted>—</Muted> : formatDuration(duration)}</Fact>
      </dl>
    </Card>
  );
}

function Spec({ job }: { job: TrainingJob }) {
  const { spec } = job;
  const env = Object.entries(spec.env);
  const params = Object.entries(spec.params);
  const builtin = spec.kind === 'builtin';
  return (
    <Card title="Spec">
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1.5" data-testid="training-job-spec">
        {spec.command && (
          <Fact label="Command">
            <code className="font-mono text-[12px] break-all" data-testid="training-job-command">
              {spec.command.map(quoteArgument).join(' ')}
            </code>
          </Fact>
        )}
        {spec.workingDir && (
          <Fact label="Working dir">
            <code className="font-mono text-[12px] break-all">{spec.workingDir}</code>
          </Fact>
        )}
        {spec.trainer && (
          <Fact label="Trainer">
            <TrainerFact trainer={spec.trainer} />
          </Fact>
        )}
        {spec.trainer && spec.registerModel && (
          <>
            <Fact label="Registers">
              <Link
                to={modelPath(spec.registerModel)}
                className="text-indigo-600 hover:underline dark:text-indigo-400"
                data-testid="training-job-registers"
              >
                {spec.registerModel}
              </Link>
            </Fact>
          </>
        )}
        {spec.datasets.length > 0 && (
          <Fact label="Data">
            <ul data-testid="training-job-datasets">
              {spec.datasets.map((d) => (
                <li key={`${d.as ?? ''}:${d.dataset}`}>
                  <DatasetVersionLink dataset={d.dataset} version={d.version} />
                  {/* A built-in trainer reads it in the app: no environment variable names it. */}
                  {d.as && !builtin && <Muted> as AIDOS_DATASET_{d.as}</Muted>}
                </li>
              ))}
            </ul>
          </Fact>
        )}
        {/* A built-in job's template parameters went into its trainer's settings, shown above. */}
        {params.length > 0 && !builtin && (
          <Fact label="Parameters">
            <ul className="font-mono text-[12px]">
              {params.map(([name, value]) => (
                <li key={name} className="break-all">
                  {name}={value}
                </li>
              ))}
            </ul>
          </Fact>
        )}
        <Fact label="Resources">
          {spec.resources.gpus === 'any'
            ? 'a GPU if one is free'
            : spec.resources.gpus === 0
              ? 'CPU only'
              : `${spec.resources.gpus} GPU${spec.resources.gpus === 1 ? '' : 's'}`}
          {spec.resources.gpuMemoryMb !== undefined && ` (${formatMb(spec.resources.gpuMemoryMb)})`} ·{' '}
          {spec.resources.cpuThreads} CPU thread{spec.resources.cpuThreads === 1 ? '' : 's'} ·{' '}
          {formatMb(spec.resources.ramMb)} RAM
        </Fact>
        <Fact label="Priority">{spec.priority}</Fact>
        <Fact label="Max runtime">
          {spec.maxRuntimeSeconds === undefined ? (
            <Muted>no limit</Muted>
          ) : (
            formatDuration(spec.maxRuntimeSeconds * 1000)
          )}
        </Fact>
        <Fact label="Retries">{spec.retries}</Fact>
        <Fact label="Checkpoints kept">
          {spec.keepCheckpoints === undefined ? <Muted>all</Muted> : `the newest ${spec.keepCheckpoints}`}
        </Fact>
        {!builtin && (
          <Fact label="Environment">
            {env.length === 0 ? (
              <Muted>nothing beyond what the job is given</Muted>
            ) : (
              <ul className="font-mono text-[12px]">
                {env.map(([name, value]) => (
                  <li key={name} className="break-all">
                    {name}={value}
                  </li>
                ))}
              </ul>
            )}
          </Fact>
        )}
      </dl>
    </Card>
  );
}

/**
 * Which trainer, and the settings its kind reads, one chip each: "tabular-classifier" then "target=species",
 * "epochs=3"… (the spec also holds the defaults of settings only other kinds read, left out here).
 */
function TrainerFact({ trainer }: { trainer: NonNullable<TrainingJob['spec']['trainer']> }) {
  const { kind, ...settings } = trainerSettings(trainer);
  return (
    <span className="flex flex-wrap items-center gap-1" data-testid="training-job-trainer">
      <code className="font-mono text-[12px] font-medium">{kind}</code>{' '}
      {Object.entries(settings).map(([key, value]) => (
        <span key={key}>
          <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[11px] break-all text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
            {key}={typeof value === 'string' ? value : JSON.stringify(value)}
          </code>{' '}
        </span>
      ))}
    </span>
  );
}

/** A version the job reads: fixed to its number when the job was submitted, so it links to that version. */
function DatasetVersionLink({ dataset, version }: { dataset: string; version: string }) {
  const numbered = /^\d+$/.test(version);
  const to = `/datasets/${encodeURIComponent(dataset)}${numbered ? `?v=${version}` : ''}`;
  return (
    <Link to={to} className="text-indigo-600 hover:underline dark:text-indigo-400">
      {dataset} {numbered ? `v${version}` : version}
    </Link>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="min-w-0 text-zinc-900 dark:text-zinc-100">{children}</dd>
    </>
  );
}
