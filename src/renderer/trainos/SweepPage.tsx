import { trainerSummary } from '#shared/contracts/builtin-trainer';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { trainosEvents, type Sweep, type SweepTrial } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, cx, Muted, Spinner } from '../components/ui';
import { useLiveEvents } from '../experiments/live';
import { runPath } from '../experiments/paths';
import { useApi } from '../lib/api';
import { formatDateTime, formatDuration, shortId } from '../lib/format';
import { useNow } from '../lib/hooks';
import { toastError } from '../lib/toasts';
import { quoteArgument } from './command';
import { ParallelCoordinates } from './ParallelCoordinates';
import { axesFromSpace, formatValue } from './parallel-coordinates';
import {
  ALGORITHM_NAMES,
  bestTrialOf,
  earlyStoppingText,
  objectiveScaleOf,
  objectiveText,
  plotTrialOf,
  sortTrials,
  SWEEPS_PATH,
  sweepProgress,
  sweepQueryKeys,
  trialLabel,
  trialNumberOf,
  type TrialSort,
} from './sweeps';
import { trainingJobPath } from './training-jobs';
import { TrainingStateBadge } from './TrainingStateBadge';

const SweepUpdatedEvent = trainosEvents['training.sweep.updated'];

/**
 * One sweep: how it searches and what it has found, its trials as parallel coordinates (objective last) and as a
 * table, each selectable from the other, with links to every trial's job and run; live, and cancellable while it runs.
 */
export function SweepPage({ sweepId }: { sweepId: string }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const sweep = useQuery({
    queryKey: sweepQueryKeys.one(sweepId),
    queryFn: () => api.call('trainingSweeps.get', { sweep: sweepId }),
    staleTime: 0,
    // Events bring changes at once; this also catches one missed while the event stream reconnected.
    refetchInterval: (query) => (query.state.data?.state === 'running' ? 5000 : false),
  });
  useLiveEvents(
    (name) => name === 'training.sweep.updated',
    (event) => {
      const parsed = SweepUpdatedEvent.safeParse(event.data);
      if (parsed.success && parsed.data.sweep.id === sweepId) {
        queryClient.setQueryData(sweepQueryKeys.one(sweepId), parsed.data.sweep);
      }
    },
  );
  const cancel = useMutation({
    mutationFn: () => api.call('trainingSweeps.cancel', { sweep: sweepId }),
    onSuccess: (cancelled) => queryClient.setQueryData(sweepQueryKeys.one(sweepId), cancelled),
    onError: (error) => toastError(error, 'Could not cancel the sweep'),
  });
  const data = sweep.data;

  return (
    <div data-testid="sweep-page" data-sweep-id={sweepId}>
      <nav className="mb-2 text-[12px]">
        <Link to={SWEEPS_PATH} className="text-indigo-600 hover:underline dark:text-indigo-400">
          ← Sweeps
        </Link>
      </nav>
      {sweep.isError && <ErrorBanner className="mb-4" error={sweep.error} onRetry={() => void sweep.refetch()} />}
      {sweep.isPending && (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Loading the sweep…
        </div>
      )}
      {data && (
        <>
          <div className="mb-5 flex flex-wrap items-start justify-between gap-3">
            <div className="min-w-0">
              <h1 className="flex items-center gap-2 text-lg font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">
                <span className="truncate">{data.name}</span>
                <span data-testid="sweep-state" data-state={data.state}>
                  <TrainingStateBadge state={data.state} />
                </span>
              </h1>
              <p className="mt-0.5 font-mono text-[12px] text-zinc-500 dark:text-zinc-400">{data.id}</p>
            </div>
            {data.state === 'running' && (
              <Button variant="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                {cancel.isPending ? 'Cancelling…' : 'Cancel sweep'}
              </Button>
            )}
          </div>
          {data.reason && data.reason !== data.state && (
            <p
              role="status"
              data-testid="sweep-reason"
              className={cx(
                'mb-4 rounded-md border px-3 py-2',
                data.state === 'failed'
                  ? 'border-red-200 bg-red-50 text-red-900 dark:border-red-900 dark:bg-red-950/40 dark:text-red-200'
                  : 'border-amber-200 bg-amber-50 text-amber-900 dark:border-amber-900 dark:bg-amber-950/40 dark:text-amber-200',
              )}
            >
              <span className="font-medium">{data.state === 'failed' ? 'Failed:' : 'Ended:'}</span> {data.reason}
            </p>
          )}
          <SweepTrials sweep={data} />
        </>
      )}
    </div>
  );
}

/** The summary, the chart and the table, sharing which trial is selected. */
function SweepTrials({ sweep }: { sweep: Sweep }) {
  const [selected, setSelected] = useState<number | null>(null);
  const rows = useRef(new Map<number, HTMLTableRowElement>());
  const axes = useMemo(() => axesFromSpace(sweep.spec.space), [sweep.spec.space]);
  const plotTrials = useMemo(() => sweep.trials.map(plotTrialOf), [sweep.trials]);
  const selectFromChart = (plotId: string) => {
    const number = trialNumberOf(plotId);
    setSelected(number);
    if (number !== null) rows.current.get(number)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  };
  return (
    <>
      <div className="mb-4 grid grid-cols-1 gap-4 xl:grid-cols-2">
        <SearchSummary sweep={sweep} />
        <TrialJobSummary sweep={sweep} />
      </div>
      <Card title="Parallel coordinates" className="mb-4" data-testid="sweep-chart">
        <ParallelCoordinates
          axes={axes}
          trials={plotTrials}
          objective={sweep.spec.objective}
          objectiveScale={objectiveScaleOf(sweep.trials)}
          selectedId={selected === null ? null : trialLabel(selected)}
          onSelect={selectFromChart}
        />
      </Card>
      <TrialsTable
        sweep={sweep}
        selected={selected}
        onSelect={(number) => setSelected((current) => (current === number ? null : number))}
        rowRef={(number, row) => {
          if (row) rows.current.set(number, row);
          else rows.current.delete(number);
        }}
      />
    </>
  );
}

function SearchSummary({ sweep }: { sweep: Sweep }) {
  const now = useNow(1000);
  const { spec } = sweep;
  const progress = sweepProgress(sweep);
  const best = bestTrialOf(sweep);
  return (
    <Card title="Search">
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1.5" data-testid="sweep-summary">
        <Fact label="Algorithm">
          <span data-testid="sweep-algorithm">{ALGORITHM_NAMES[spec.algorithm]}</span>
          {spec.algorithm === 'grid' ? (
            spec.gridPoints !== undefined && <Muted> · {spec.gridPoints} points on each continuous range</Muted>
          ) : (
            <Muted> · seed {spec.seed}</Muted>
          )}
        </Fact>
        <Fact label="Objective">
          <span data-testid="sweep-objective">{objectiveText(spec.objective)}</span>
        </Fact>
        <Fact label="Early stopping">
          <span data-testid="sweep-early-stopping">{earlyStoppingText(spec.earlyStopping)}</span>
        </Fact>
        <Fact label="Trials">
          <span className="tabular-nums" data-testid="sweep-trial-progress">
            {progress.ended} of {progress.planned} ended
          </span>
          <Muted>
            {' '}
            · {progress.running} running
            {progress.queued > 0 && `, ${progress.queued} queued`} · {spec.parallel} at a time
          </Muted>
        </Fact>
        <Fact label="Best">
          {best ? (
            <span data-testid="sweep-best-summary">
              <span className="font-mono tabular-nums">{formatValue(best.value)}</span>{' '}
              <Muted>
                by trial {trialLabel(best.number)}:{' '}
                {Object.entries(best.params)
                  .map(([name, value]) => `${name} = ${formatValue(value)}`)
                  .join(', ')}
              </Muted>
            </span>
          ) : (
            <Muted>no trial has completed yet</Muted>
          )}
        </Fact>
        <Fact label="Parent run">
          {sweep.runId ? (
            <Link
              to={runPath(sweep.runId)}
              className="font-mono text-indigo-600 hover:underline dark:text-indigo-400"
              data-testid="sweep-run"
            >
              {sweep.runId}
            </Link>
          ) : (
            <Muted>none</Muted>
          )}
        </Fact>
        <Fact label="Created">{formatDateTime(sweep.createdAt)}</Fact>
        <Fact label="Duration">
          {formatDuration((sweep.endedAt ?? now) - sweep.createdAt)}
          {sweep.endedAt !== null && <Muted> · ended {formatDateTime(sweep.endedAt)}</Muted>}
        </Fact>
      </dl>
    </Card>
  );
}

/** What each trial runs: the template (or command) and the values every trial shares. */
function TrialJobSummary({ sweep }: { sweep: Sweep }) {
  const { template, job } = sweep.spec;
  const fixed = Object.entries(template?.params ?? {});
  const datasets = Object.entries(template?.datasets ?? {});
  return (
    <Card title="Each trial">
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1.5">
        {template && (
          <>
            <Fact label="Template">
              <span className="font-mono text-[12px]">{template.template}</span>
            </Fact>
            <Fact label="Fixed">
              {fixed.length === 0 ? (
                <Muted>nothing: every parameter not searched takes its default</Muted>
              ) : (
                <span className="flex flex-wrap gap-1">
                  {fixed.map(([name, value]) => (
                    <Chip key={name}>
                      {name} = {String(value)}
                    </Chip>
                  ))}
                </span>
              )}
            </Fact>
            {datasets.length > 0 && (
              <Fact label="Datasets">
                <span className="flex flex-wrap gap-1">
                  {datasets.map(([as, { dataset, version }]) => (
                    <Chip key={as}>
                      {as}: {dataset} {/^\d+$/.test(version) ? `v${version}` : version}
                    </Chip>
                  ))}
                </span>
              </Fact>
            )}
          </>
        )}
        {job?.command && (
          <Fact label="Command">
            <code className="font-mono text-[12px] break-all">{job.command.map(quoteArgument).join(' ')}</code>
          </Fact>
        )}
        {job?.trainer && (
          <Fact label="Trainer">
            <code className="font-mono text-[12px] break-all">{trainerSummary(job.trainer)}</code>
          </Fact>
        )}
        <Fact label="Searched">
          <span className="flex flex-wrap gap-1">
            {Object.entries(sweep.spec.space).map(([name, param]) => (
              <Chip key={name}>
                {name}:{' '}
                {param.type === 'choice'
                  ? param.values.map((v) => formatValue(v)).join(', ')
                  : `${param.type} ${formatValue(param.min)}…${formatValue(param.max)}` +
                    ('step' in param && param.step !== 1 ? ` by ${formatValue(param.step)}` : '')}
              </Chip>
            ))}
          </span>
        </Fact>
        <Fact label="Experiment">{template?.experiment ?? job?.experiment}</Fact>
      </dl>
    </Card>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="min-w-0">{children}</dd>
    </>
  );
}

const TRIAL_STATE: Record<SweepTrial['state'], string> = {
  queued: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  running: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  completed:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  failed: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  pruned: 'bg-violet-50 text-violet-700 ring-violet-200 dark:bg-violet-950 dark:text-violet-300 dark:ring-violet-800',
  cancelled: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
};

function TrialStateBadge({ state }: { state: SweepTrial['state'] }) {
  return (
    <span
      data-testid="trial-state"
      className={cx(
        'inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium whitespace-nowrap ring-1 ring-inset',
        TRIAL_STATE[state],
      )}
    >
      {state === 'running' && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
      {state}
    </span>
  );
}

const linkClass = 'font-mono text-[12px] text-indigo-600 hover:underline dark:text-indigo-400';

/** A header that sorts the table by its column: the arrow shows the order it is in, when it is the one. */
function SortHeader({
  label,
  active,
  note,
  onClick,
  ariaSort,
}: {
  label: ReactNode;
  active: boolean;
  note: string;
  onClick: () => void;
  ariaSort: 'ascending' | 'descending' | 'none';
}) {
  return (
    <th className="px-3 py-2 font-medium" aria-sort={ariaSort}>
      <button
        type="button"
        onClick={onClick}
        className={cx(
          'inline-flex items-center gap-1 tracking-wide uppercase hover:text-zinc-900 dark:hover:text-zinc-100',
          active && 'text-zinc-900 dark:text-zinc-100',
        )}
        title={note}
      >
        {label}
      </button>
    </th>
  );
}

function TrialsTable({
  sweep,
  selected,
  onSelect,
  rowRef,
}: {
  sweep: Sweep;
  selected: number | null;
  onSelect: (number: number) => void;
  rowRef: (number: number, row: HTMLTableRowElement | null) => void;
}) {
  const [sort, setSort] = useState<TrialSort>({ key: 'number', bestFirst: true });
  const { objective } = sweep.spec;
  const params = Object.keys(sweep.spec.space);
  const trials = sortTrials(sweep.trials, sort, objective.goal);
  // Minimizing, best first is ascending.
  const objectiveAscending = sort.bestFirst === (objective.goal === 'minimize');
  return (
    <Card title="Trials" bodyClassName="overflow-x-auto p-0" data-testid="sweep-trials">
      {trials.length === 0 ? (
        <p className="px-4 py-6 text-center text-zinc-500 dark:text-zinc-400">No trials yet.</p>
      ) : (
        <table className="w-full text-left" aria-label="Trials">
          <thead className="text-[11px] text-zinc-500 dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <SortHeader
                label={<>#{sort.key === 'number' && ' ↑'}</>}
                active={sort.key === 'number'}
                note="Sort by trial number"
                ariaSort={sort.key === 'number' ? 'ascending' : 'none'}
                onClick={() => setSort({ key: 'number', bestFirst: true })}
              />
              <th className="px-3 py-2 font-medium tracking-wide uppercase">State</th>
              <SortHeader
                label={
                  <>
                    <span className="font-mono normal-case">{objective.metric}</span>
                    {sort.key === 'objective' && (objectiveAscending ? ' ↑' : ' ↓')}
                  </>
                }
                active={sort.key === 'objective'}
                note={
                  sort.key === 'objective' && sort.bestFirst
                    ? `Sorted best first (${objective.goal}); click for worst first`
                    : `Sort by ${objective.metric}, best first`
                }
                ariaSort={sort.key === 'objective' ? (objectiveAscending ? 'ascending' : 'descending') : 'none'}
                onClick={() =>
                  setSort((s) => ({ key: 'objective', bestFirst: s.key === 'objective' ? !s.bestFirst : true }))
                }
              />
              {params.map((name) => (
                <th key={name} className="px-3 py-2 font-mono font-medium">
                  {name}
                </th>
              ))}
              <th className="px-3 py-2 font-medium tracking-wide uppercase">Job</th>
              <th className="px-3 py-2 font-medium tracking-wide uppercase">Run</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {trials.map((trial) => (
              <TrialRow
                key={trial.number}
                trial={trial}
                params={params}
                best={trial.number === sweep.bestTrial}
                selected={trial.number === selected}
                onSelect={() => onSelect(trial.number)}
                rowRef={(row) => rowRef(trial.number, row)}
              />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function TrialRow({
  trial,
  params,
  best,
  selected,
  onSelect,
  rowRef,
}: {
  trial: SweepTrial;
  params: readonly string[];
  best: boolean;
  selected: boolean;
  onSelect: () => void;
  rowRef: (row: HTMLTableRowElement | null) => void;
}) {
  return (
    <tr
      ref={rowRef}
      data-testid="sweep-trial-row"
      data-number={trial.number}
      data-state={trial.state}
      data-best={best || undefined}
      aria-selected={selected}
      onClick={onSelect}
      className={cx(
        'cursor-pointer align-top',
        selected
          ? 'bg-indigo-50 outline-2 -outline-offset-2 outline-indigo-500 dark:bg-indigo-950/40'
          : best
            ? 'bg-emerald-50/60 hover:bg-emerald-50 dark:bg-emerald-950/20 dark:hover:bg-emerald-950/30'
            : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
      )}
    >
      <td className="px-3 py-2 whitespace-nowrap">
        <button
          type="button"
          aria-pressed={selected}
          aria-label={`Select trial ${trialLabel(trial.number)}`}
          className="font-medium tabular-nums"
        >
          {trialLabel(trial.number)}
        </button>
        {best && (
          <span
            data-testid="best-trial"
            className="ml-2 rounded bg-emerald-600 px-1.5 py-0.5 text-[10px] font-semibold tracking-wide text-white uppercase"
          >
            best
          </span>
        )}
      </td>
      <td className="max-w-64 px-3 py-2">
        <TrialStateBadge state={trial.state} />
        {trial.reason && (
          <p
            className={cx(
              'mt-1 text-[11px]',
              trial.state === 'failed' ? 'text-red-700 dark:text-red-400' : 'text-zinc-500 dark:text-zinc-400',
            )}
            data-testid="trial-reason"
          >
            {trial.reason}
          </p>
        )}
      </td>
      <td className="px-3 py-2 whitespace-nowrap" data-testid="trial-value">
        <span className="font-mono tabular-nums">{formatValue(trial.value)}</span>
        {trial.step !== null && (
          <>
            {' '}
            <Muted className="text-[11px]">at step {trial.step}</Muted>
          </>
        )}
      </td>
      {params.map((name) => (
        <td key={name} className="px-3 py-2 font-mono whitespace-nowrap tabular-nums" data-param={name}>
          {formatValue(trial.params[name] ?? null)}
        </td>
      ))}
      <td className="px-3 py-2 whitespace-nowrap">
        <Link to={trainingJobPath(trial.jobId)} className={linkClass} title={`Job ${trial.jobId}`}>
          {shortId(trial.jobId)}
        </Link>
      </td>
      <td className="px-3 py-2 whitespace-nowrap">
        {trial.runId ? (
          <Link to={runPath(trial.runId)} className={linkClass} title={`Run ${trial.runId}`}>
            {shortId(trial.runId)}
          </Link>
        ) : (
          <Muted>—</Muted>
        )}
      </td>
    </tr>
  );
}
