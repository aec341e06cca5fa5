import { useInfiniteQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { trainosEvents, type Sweep } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { Icon, PlusIcon, type IconProps } from '../components/icons';
import { Button, Card, EmptyState, Muted, PageHeader, ProgressBar, Spinner } from '../components/ui';
import { useLiveEvents, useThrottled } from '../experiments/live';
import { useApi, type Out } from '../lib/api';
import { formatDateTime, formatRelative, shortId } from '../lib/format';
import { useNow } from '../lib/hooks';
import { NewSweepDialog } from './NewSweepDialog';
import { formatValue } from './parallel-coordinates';
import { SweepPage } from './SweepPage';
import {
  ALGORITHM_NAMES,
  bestTrialOf,
  objectiveText,
  sweepPath,
  sweepProgress,
  sweepQueryKeys,
  trialLabel,
} from './sweeps';
import { TrainingStateBadge } from './TrainingStateBadge';

const PAGE_SIZE = 50;
/** New sweeps (not yet in the loaded pages) cost one refetch per burst. */
const EVENT_REFRESH_MS = 250;

const SweepUpdatedEvent = trainosEvents['training.sweep.updated'];

type SweepPages = InfiniteData<Out<'trainingSweeps.list'>, string | undefined>;

/** The sidebar's icon for sweeps: lines across parallel axes, as the sweep page draws its trials. */
export const SweepsIcon = (p: IconProps) => (
  <Icon {...p}>
    <path d="M4 4v16M12 4v16M20 4v16" />
    <path d="m4 9 8 6 8-10M4 17l8-9 8 6" strokeOpacity={0.6} />
  </Icon>
);

/** The hyper-parameter sweeps, or one sweep's page when the URL names it (`?sweep=<id>`). */
export function SweepsPage() {
  const [params] = useSearchParams();
  const sweepId = params.get('sweep');
  return sweepId ? <SweepPage key={sweepId} sweepId={sweepId} /> : <SweepList />;
}

/** Every sweep, newest first, its progress and best value live through `training.sweep.updated`. */
function SweepList() {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);

  const sweeps = useInfiniteQuery({
    queryKey: sweepQueryKeys.lists,
    queryFn: ({ pageParam }) => api.call('trainingSweeps.list', { limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 0,
  });
  const refresh = useThrottled(
    () => void queryClient.invalidateQueries({ queryKey: sweepQueryKeys.lists }),
    EVENT_REFRESH_MS,
  );
  // Every trial's metric report is an event: a sweep already listed is patched from the event's copy of it.
  useLiveEvents(
    (name) => name === 'training.sweep.updated',
    (event) => {
      const parsed = SweepUpdatedEvent.safeParse(event.data);
      if (!parsed.success) return;
      const { sweep } = parsed.data;
      const listed = queryClient
        .getQueryData<SweepPages>(sweepQueryKeys.lists)
        ?.pages.some((page) => page.items.some((s) => s.id === sweep.id));
      if (!listed) return refresh();
      queryClient.setQueryData<SweepPages>(
        sweepQueryKeys.lists,
        (data) =>
          data && {
            ...data,
            pages: data.pages.map((page) => ({
              ...page,
              items: page.items.map((s) => (s.id === sweep.id ? sweep : s)),
            })),
          },
      );
    },
  );
  const items = sweeps.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div data-testid="sweeps-page">
      <PageHeader
        title="Sweeps"
        description="Hyper-parameter searches: trials of a training template, each a child run of the sweep's run, judged by one metric."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <PlusIcon width={14} height={14} /> New sweep
          </Button>
        }
      />
      {sweeps.isError && <ErrorBanner className="mb-3" error={sweeps.error} onRetry={() => void sweeps.refetch()} />}
      <Card bodyClassName="overflow-x-auto p-0">
        {sweeps.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading sweeps…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title="No sweeps yet">
            Start one with “New sweep”: pick a template, the parameters to search over and the metric to judge by.
          </EmptyState>
        ) : (
          <SweepsTable sweeps={items} />
        )}
      </Card>
      {sweeps.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <Button onClick={() => void sweeps.fetchNextPage()} disabled={sweeps.isFetchingNextPage}>
            {sweeps.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        </div>
      )}
      <NewSweepDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(sweep) => void navigate(sweepPath(sweep.id))}
      />
    </div>
  );
}

function SweepsTable({ sweeps }: { sweeps: readonly Sweep[] }) {
  const now = useNow(5000);
  return (
    <table className="w-full text-left" aria-label="Sweeps">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Sweep</th>
          <th className="px-4 py-2 font-medium">State</th>
          <th className="px-4 py-2 font-medium">Algorithm</th>
          <th className="px-4 py-2 font-medium">Objective</th>
          <th className="px-4 py-2 font-medium">Trials</th>
          <th className="px-4 py-2 font-medium">Best</th>
          <th className="px-4 py-2 font-medium">Created</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {sweeps.map((sweep) => (
          <SweepRow key={sweep.id} sweep={sweep} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function SweepRow({ sweep, now }: { sweep: Sweep; now: number }) {
  const progress = sweepProgress(sweep);
  const best = bestTrialOf(sweep);
  const params = Object.keys(sweep.spec.space);
  return (
    <tr
      data-testid="sweep-row"
      data-sweep-id={sweep.id}
      data-state={sweep.state}
      className="align-top hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
    >
      <td className="max-w-72 px-4 py-2.5">
        <Link
          to={sweepPath(sweep.id)}
          className="block truncate font-medium text-zinc-900 hover:text-indigo-600 hover:underline dark:text-zinc-100 dark:hover:text-indigo-400"
        >
          {sweep.name}
        </Link>
        <p className="truncate font-mono text-[11px] text-zinc-500" title={`${sweep.id}: over ${params.join(', ')}`}>
          {shortId(sweep.id)} · {params.join(', ')}
        </p>
      </td>
      <td className="px-4 py-2.5">
        <TrainingStateBadge state={sweep.state} />
        {/* A cancel's reason is its state again: only a reason that says more is shown. */}
        {sweep.reason && sweep.reason !== sweep.state && (
          <p className="mt-1 max-w-56 text-[11px] text-red-700 dark:text-red-400">{sweep.reason}</p>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">{ALGORITHM_NAMES[sweep.spec.algorithm]}</td>
      <td className="px-4 py-2.5 whitespace-nowrap">
        <Muted>{sweep.spec.objective.goal}</Muted>{' '}
        <span className="font-mono text-[12px]">{sweep.spec.objective.metric}</span>
      </td>
      <td className="w-44 px-4 py-2.5" data-testid="sweep-progress">
        <p className="tabular-nums">
          {progress.ended} / {progress.planned}
          <Muted> ended</Muted>
        </p>
        <ProgressBar
          value={progress.planned === 0 ? null : progress.ended / progress.planned}
          tone={sweep.state === 'failed' ? 'red' : sweep.state === 'running' ? 'sky' : 'emerald'}
          label={`${sweep.name}: ${progress.ended} of ${progress.planned} trials ended`}
          className="my-1"
        />
        {(progress.running > 0 || progress.queued > 0) && (
          <p className="text-[11px] text-zinc-500 tabular-nums dark:text-zinc-400">
            {progress.running} running{progress.queued > 0 && ` · ${progress.queued} queued`}
          </p>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap" data-testid="sweep-best">
        {best ? (
          <span title={`${objectiveText(sweep.spec.objective)}: trial ${trialLabel(best.number)}`}>
            <span className="font-mono tabular-nums">{formatValue(best.value)}</span>{' '}
            <Muted>{trialLabel(best.number)}</Muted>
          </span>
        ) : (
          <Muted>—</Muted>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">
        <span title={formatDateTime(sweep.createdAt)}>{formatRelative(sweep.createdAt, now)}</span>
      </td>
    </tr>
  );
}
