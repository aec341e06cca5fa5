import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Deployment, DeploymentSource, DeploymentStats } from '#shared/contracts/deploy';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, cx, inputClasses, Muted, Spinner } from '../components/ui';
import { modelPath } from '../experiments/paths';
import { useApi } from '../lib/api';
import { formatBytes, formatDateTime, formatRelative, formatTime } from '../lib/format';
import { useNow } from '../lib/hooks';
import { toastError, useToasts } from '../lib/toasts';
import { isTensorRuntime } from './deploy-form';
import { SourceLink } from './DeploymentsPage';
import { DeploymentStateBadge } from './DeploymentStateBadge';
import { PlayIcon, StopIcon } from './icons';
import { DEPLOYMENTS_PATH, DEPLOYMENT_TABS, deploymentPath, type DeploymentTab } from './paths';
import { Playground } from './Playground';
import { deployKeys, useDeploymentUpdates } from './queries';
import { RequestLog } from './RequestLog';
import { sampleRateText } from './request-log';
import { Snippets } from './Snippets';
import { StatsCharts } from './StatsCharts';
import { TrafficCard } from './TrafficCard';
import {
  appendSample,
  capacityLabel,
  formatCount,
  formatMs,
  idleLabel,
  sampleOf,
  sourceLabel,
  type StatsSample,
} from './stats';

/** The stats are polled this often for the live charts. */
const STATS_POLL_MS = 2_000;

const TAB_LABEL: Record<DeploymentTab, string> = {
  overview: 'Overview',
  playground: 'Playground',
  requests: 'Requests',
  code: 'Code',
};

/**
 * One deployment: its state and settings with start, stop, roll back and delete; live charts of its traffic from
 * the stats polled every 2 s; the events timeline; the request log; a playground and client snippets.
 */
export function DeploymentPage({ name, tab }: { name: string; tab: DeploymentTab }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [deleted, setDeleted] = useState(false);
  const deployment = useQuery({
    queryKey: deployKeys.one(name),
    queryFn: () => api.call('deployments.get', { deployment: name }),
    staleTime: 0,
    // Events bring changes at once; this catches one missed while the event stream reconnected.
    refetchInterval: 15_000,
    enabled: !deleted,
  });
  useDeploymentUpdates((d, gone) => {
    if (gone && d.name === name) setDeleted(true);
  });
  const stats = useQuery({
    queryKey: deployKeys.stats(name),
    queryFn: () => api.call('deployments.stats', { deployment: name }),
    refetchInterval: STATS_POLL_MS,
    staleTime: 0,
    enabled: deployment.isSuccess && !deleted,
  });
  const history = useStatsHistory(stats.data, stats.dataUpdatedAt);
  // Requests send no event (one per request would flood the stream): a moved counter means new log entries and
  // a new `lastRequestAt`.
  const total = stats.data?.requests.total;
  useEffect(() => {
    if (total === undefined) return;
    void queryClient.invalidateQueries({ queryKey: deployKeys.logs(name) });
    void queryClient.invalidateQueries({ queryKey: deployKeys.one(name) });
  }, [total, name, queryClient]);

  const d = deployment.data;
  return (
    <div data-testid="deployment-page" data-name={name} data-state={d?.state}>
      <nav className="mb-2 text-[12px]">
        <Link to={DEPLOYMENTS_PATH} className="text-indigo-600 hover:underline dark:text-indigo-400">
          ← Deployments
        </Link>
      </nav>
      {deleted && (
        <p role="status" className="mb-4 text-zinc-600 dark:text-zinc-400">
          {name} was deleted.{' '}
          <Link to={DEPLOYMENTS_PATH} className="text-indigo-600 hover:underline dark:text-indigo-400">
            Back to the deployments
          </Link>
        </p>
      )}
      {deployment.isError && !deleted && (
        <ErrorBanner className="mb-4" error={deployment.error} onRetry={() => void deployment.refetch()} />
      )}
      {deployment.isPending && !deleted && (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Loading the deployment…
        </div>
      )}
      {d && !deleted && (
        <>
          <Header deployment={d} stats={stats.data} onDeleted={() => void navigate(DEPLOYMENTS_PATH)} />
          <Tabs name={name} tab={tab} />
          {tab === 'overview' && (
            <Overview deployment={d} stats={stats.data} history={history} statsError={stats.error} />
          )}
          {tab === 'playground' && <Playground deployment={d} />}
          {tab === 'requests' && <RequestLog name={name} sampleRate={d.requestLog.sampleRate} />}
          {tab === 'code' && <Snippets deployment={d} />}
        </>
      )}
    </div>
  );
}

/** The stats read while the page is open, oldest first: what the live charts draw. */
function useStatsHistory(stats: DeploymentStats | undefined, at: number): StatsSample[] {
  const [history, setHistory] = useState<StatsSample[]>([]);
  const lastAt = useRef(0);
  useEffect(() => {
    if (!stats || at === 0 || at === lastAt.current) return;
    lastAt.current = at;
    setHistory((h) => appendSample(h, sampleOf(stats, at)));
  }, [stats, at]);
  return history;
}

function Header({
  deployment: d,
  stats,
  onDeleted,
}: {
  deployment: Deployment;
  stats: DeploymentStats | undefined;
  onDeleted: () => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<'delete' | 'rollback' | null>(null);
  const action = useMutation({
    mutationFn: (what: 'start' | 'stop' | 'rollback' | 'delete') => {
      const ref = { deployment: d.name };
      if (what === 'delete') return api.call('deployments.delete', ref).then(() => null);
      return api.call(`deployments.${what}`, ref);
    },
    onSuccess: (out, what) => {
      setConfirming(null);
      if (what === 'delete') {
        void queryClient.invalidateQueries({ queryKey: deployKeys.list });
        onDeleted();
        return;
      }
      if (out) queryClient.setQueryData(deployKeys.one(d.name), out);
      // Starting a deployment that cannot load ends in `failed` with a 200: say so where the click was.
      if (what === 'start' && out?.state === 'failed') {
        useToasts.getState().push({
          tone: 'error',
          title: `${d.name} did not start`,
          message: out.reason ?? 'it failed to load',
        });
      }
    },
    onError: (error, what) => {
      setConfirming(null);
      toastError(error, `Could not ${what === 'rollback' ? 'roll back' : what} ${d.name}`);
    },
  });
  const busy = action.isPending ? action.variables : null;
  const canStart =
    d.state === 'stopped' || d.state === 'failed' || d.state === 'idle-unloaded' || d.state === 'pending';
  const canStop = d.state !== 'stopped' && d.state !== 'failed';
  return (
    <div className="mb-4 flex flex-wrap items-start justify-between gap-3">
      <div className="min-w-0">
        <h1 className="flex items-center gap-2 text-lg font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">
          <span className="truncate">{d.name}</span>
          <DeploymentStateBadge state={d.state} />
        </h1>
        <p className="mt-0.5 text-zinc-500 dark:text-zinc-400">
          <SourceLink deployment={d} inline /> · {d.runtime.toUpperCase()}
          {d.modelKind && ` ${d.modelKind}`}
          {d.placement && ` on ${d.placement}`}
          {stats && (
            <span data-testid="deployment-request-count">
              {' '}
              · {formatCount(stats.requests.total)} {stats.requests.total === 1 ? 'request' : 'requests'}
            </span>
          )}
        </p>
      </div>
      <div className="flex items-center gap-2">
        {canStart && (
          <Button variant="primary" onClick={() => action.mutate('start')} disabled={busy !== null}>
            <PlayIcon width={13} height={13} /> {busy === 'start' ? 'Starting…' : 'Start'}
          </Button>
        )}
        {canStop && (
          <Button onClick={() => action.mutate('stop')} disabled={busy !== null}>
            <StopIcon width={13} height={13} /> {busy === 'stop' ? 'Stopping…' : 'Stop'}
          </Button>
        )}
        <Button
          onClick={() => setConfirming('rollback')}
          disabled={busy !== null || d.previousSource === null}
          title={
            d.previousSource
              ? `Serve ${sourceLabel(d.previousSource)} again`
              : 'There is no previous version to roll back to'
          }
        >
          Roll back…
        </Button>
        <Button variant="danger" onClick={() => setConfirming('delete')} disabled={busy !== null}>
          Delete…
        </Button>
      </div>
      <Dialog
        open={confirming !== null}
        onClose={() => setConfirming(null)}
        title={confirming === 'delete' ? `Delete ${d.name}?` : `Roll ${d.name} back?`}
        testId="confirm-deployment-action"
        footer={
          <>
            <Button onClick={() => setConfirming(null)}>Cancel</Button>
            <Button
              variant={confirming === 'delete' ? 'danger' : 'primary'}
              onClick={() => confirming && action.mutate(confirming)}
              disabled={busy !== null}
            >
              {confirming === 'delete' ? (busy ? 'Deleting…' : 'Delete') : busy ? 'Rolling back…' : 'Roll back'}
            </Button>
          </>
        }
      >
        {confirming === 'delete' ? (
          <p>
            The model is unloaded and the deployment is deleted with its events and request log. Clients calling{' '}
            <code className="font-mono">{d.name}</code> get a 404. The registered model is kept.
          </p>
        ) : (
          d.previousSource && (
            <p>
              {d.name} serves <strong>{sourceLabel(d.previousSource)}</strong> again instead of{' '}
              <strong>{sourceLabel(d.source)}</strong> (which becomes the one to roll back to).
            </p>
          )
        )}
      </Dialog>
    </div>
  );
}

function Tabs({ name, tab }: { name: string; tab: DeploymentTab }) {
  return (
    <div
      role="tablist"
      aria-label="Deployment"
      className="mb-4 flex gap-1 border-b border-zinc-200 dark:border-zinc-800"
    >
      {DEPLOYMENT_TABS.map((t) => (
        <Link
          key={t}
          role="tab"
          aria-selected={t === tab}
          to={deploymentPath(name, t)}
          replace
          className={cx(
            '-mb-px border-b-2 px-3 py-2 text-[13px] font-medium',
            t === tab
              ? 'border-indigo-600 text-zinc-900 dark:border-indigo-400 dark:text-zinc-50'
              : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:text-zinc-400 dark:hover:text-zinc-200',
          )}
        >
          {TAB_LABEL[t]}
        </Link>
      ))}
    </div>
  );
}

function Overview({
  deployment: d,
  stats,
  history,
  statsError,
}: {
  deployment: Deployment;
  stats: DeploymentStats | undefined;
  history: StatsSample[];
  statsError: unknown;
}) {
  return (
    <div className="space-y-4">
      {statsError ? <ErrorBanner error={statsError} title="The figures are not updating" /> : null}
      <StatTiles stats={stats} onnx={isTensorRuntime(d.runtime)} />
      <StatsCharts history={history} deployment={d} />
      <TrafficCard key={JSON.stringify(d.traffic)} deployment={d} stats={stats} />
      <div className="grid grid-cols-1 gap-4 xl:grid-cols-2">
        <StateCard deployment={d} />
        <SettingsCard deployment={d} />
      </div>
      <EventsTimeline name={d.name} />
    </div>
  );
}

function StatTiles({ stats, onnx }: { stats: DeploymentStats | undefined; onnx: boolean }) {
  const tiles: { label: string; value: string; testId: string; note?: string }[] = [
    {
      label: 'Requests',
      value: stats ? formatCount(stats.requests.total) : '—',
      testId: 'stat-requests',
      note:
        stats && stats.requests.errors + stats.requests.cancelled > 0
          ? `${stats.requests.errors} failed · ${stats.requests.cancelled} cancelled`
          : 'since the app started',
    },
    { label: 'Latency p50', value: formatMs(stats?.latencyMs.p50), testId: 'stat-p50', note: 'last 1,000' },
    {
      label: 'Latency p95',
      value: formatMs(stats?.latencyMs.p95),
      testId: 'stat-p95',
      note: `p99 ${formatMs(stats?.latencyMs.p99)}`,
    },
    ...(onnx
      ? [
          {
            label: 'Replicas',
            value: stats ? String(stats.replicas) : '—',
            testId: 'stat-replicas',
            note: 'running now',
          },
          {
            label: 'Batch rows',
            value: stats?.batches.meanRows == null ? '—' : stats.batches.meanRows.toFixed(1),
            testId: 'stat-batch',
            note: stats ? `mean of ${formatCount(stats.batches.total)} runs` : undefined,
          },
        ]
      : [
          { label: 'First token p50', value: formatMs(stats?.timeToFirstTokenMs.p50), testId: 'stat-ttft' },
          {
            label: 'Decoding',
            value: stats?.lastTokensPerSecond == null ? '—' : `${stats.lastTokensPerSecond.toFixed(1)} tok/s`,
            testId: 'stat-tps',
            note: 'of the last answer',
          },
        ]),
    {
      label: 'In flight',
      value: stats ? String(stats.inFlight) : '—',
      testId: 'stat-inflight',
      note: stats ? `${stats.queued} queued` : undefined,
    },
  ];
  return (
    <div className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
      {tiles.map((t) => (
        <div
          key={t.label}
          className="rounded-lg border border-zinc-200 bg-white px-3 py-2.5 shadow-xs dark:border-zinc-800 dark:bg-zinc-900"
        >
          <p className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">{t.label}</p>
          <p
            className="mt-0.5 text-lg font-semibold text-zinc-900 tabular-nums dark:text-zinc-50"
            data-testid={t.testId}
          >
            {t.value}
          </p>
          {t.note && <p className="truncate text-[11px] text-zinc-500 dark:text-zinc-400">{t.note}</p>}
        </div>
      ))}
    </div>
  );
}

function StateCard({ deployment: d }: { deployment: Deployment }) {
  const now = useNow(5_000);
  return (
    <Card title="State">
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1.5" data-testid="deployment-state-facts">
        <Fact label="State">
          <DeploymentStateBadge state={d.state} />
          {d.reason && (
            <span
              className={cx(
                'ml-2 [overflow-wrap:anywhere]',
                d.state === 'failed' ? 'text-red-700 dark:text-red-400' : 'text-zinc-500 dark:text-zinc-400',
              )}
              data-testid="deployment-reason"
            >
              {d.reason}
            </span>
          )}
        </Fact>
        <Fact label="Placement">{d.placement ?? <Muted>not loaded</Muted>}</Fact>
        <Fact label="Memory">
          {d.estimate ? (
            <>
              {formatBytes(d.estimate.ramBytes)} RAM
              {d.estimate.vramBytes > 0 && ` · ${formatBytes(d.estimate.vramBytes)} VRAM`}
              <Muted>
                {' '}
                {/* Only GGUF models have a context; ONNX and TF.js estimates are per replica. */}
                {d.runtime === 'gguf'
                  ? `· estimated for ${formatCount(d.estimate.contextSize)} tokens of context`
                  : `· estimated for ${d.maxReplicas} ${d.maxReplicas === 1 ? 'replica' : 'replicas'}`}
                {d.estimate.gpuLayers > 0 && `, ${d.estimate.gpuLayers} layers on the GPU`}
              </Muted>
            </>
          ) : (
            <Muted>estimated when it loads</Muted>
          )}
        </Fact>
        <Fact label="Loaded">
          {d.loadedAt === null ? (
            <Muted>—</Muted>
          ) : d.placement === null ? (
            <Muted>
              not now (last <When at={d.loadedAt} now={now} />)
            </Muted>
          ) : (
            <When at={d.loadedAt} now={now} />
          )}
        </Fact>
        <Fact label="Last request">
          {d.lastRequestAt === null ? <Muted>never</Muted> : <When at={d.lastRequestAt} now={now} />}
        </Fact>
        <Fact label="Created">{formatDateTime(d.createdAt)}</Fact>
        <Fact label="Id">
          <span className="font-mono text-[12px]">{d.id}</span>
        </Fact>
      </dl>
    </Card>
  );
}

function SettingsCard({ deployment: d }: { deployment: Deployment }) {
  return (
    <Card title="Settings">
      <dl className="grid grid-cols-[9rem_1fr] gap-x-4 gap-y-1.5" data-testid="deployment-settings">
        <Fact label="Serves">
          <SourceLink deployment={d} /> <Chip>{d.source.format}</Chip>
        </Fact>
        <Fact label="Previous">
          {d.previousSource ? <PreviousSource source={d.previousSource} /> : <Muted>none</Muted>}
        </Fact>
        <Fact label="Capacity">
          {capacityLabel(d)} <Muted>· queue up to {d.maxQueue}</Muted>
          {isTensorRuntime(d.runtime) && <ScaleControl deployment={d} />}
        </Fact>
        <Fact label="Loads">{d.minReplicas >= 1 ? 'at start' : 'on its first request'}</Fact>
        <Fact label="Idle unload">{idleLabel(d.idleUnloadSeconds)}</Fact>
        <Fact label="Device">
          {d.device}
          {d.threads !== undefined && (
            <Muted>
              {' '}
              · {d.threads} CPU {d.threads === 1 ? 'thread' : 'threads'}
            </Muted>
          )}
        </Fact>
        {isTensorRuntime(d.runtime) && (
          <>
            <Fact label="Batching">
              {d.maxBatchSize === 0 ? (
                'off'
              ) : (
                <>
                  up to {d.maxBatchSize} rows <Muted>· waits at most {d.maxQueueDelayMs} ms</Muted>
                </>
              )}
            </Fact>
            <Fact label="Autoscaling">
              {d.minReplicas === d.maxReplicas ? (
                <Muted>fixed at {d.maxReplicas}</Muted>
              ) : (
                <>
                  up at a queue of {d.autoscaling.scaleUpQueueDepth}
                  {d.autoscaling.scaleUpP95Ms !== null && ` or p95 ≥ ${formatMs(d.autoscaling.scaleUpP95Ms)}`}, down
                  under {Math.round(d.autoscaling.scaleDownUtilization * 100)}% busy{' '}
                  <Muted>· every {formatMs(d.autoscaling.intervalMs)}</Muted>
                </>
              )}
            </Fact>
          </>
        )}
        {d.runtime === 'gguf' && (
          <>
            <Fact label="Context">
              {d.contextSize === undefined ? (
                <Muted>the model’s (≤ 4096)</Muted>
              ) : (
                `${formatCount(d.contextSize)} tokens`
              )}
            </Fact>
            <Fact label="Chat prompts">{d.chatFormat === 'auto' ? 'chat template' : 'raw'}</Fact>
          </>
        )}
        <Fact label="Request log">
          {sampleRateText(d.requestLog.sampleRate)}{' '}
          {d.requestLog.sampleRate > 0 && <Muted>· up to {formatCount(d.requestLog.maxChars)} characters each</Muted>}
        </Fact>
      </dl>
    </Card>
  );
}

/**
 * The replicas an ONNX or TF.js deployment runs between (what `aidos deployments scale` sets): applied to a loaded
 * model at once; the autoscaler moves within them.
 */
function ScaleControl({ deployment: d }: { deployment: Deployment }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [min, setMin] = useState(String(d.minReplicas));
  const [max, setMax] = useState(String(d.maxReplicas));
  const scale = useMutation({
    mutationFn: () =>
      api.call('deployments.update', { deployment: d.name, minReplicas: Number(min), maxReplicas: Number(max) }),
    onSuccess: (out) => {
      queryClient.setQueryData(deployKeys.one(d.name), out);
      setEditing(false);
    },
  });
  if (!editing) {
    return (
      <Button
        size="sm"
        variant="ghost"
        className="ml-1"
        onClick={() => {
          setMin(String(d.minReplicas));
          setMax(String(d.maxReplicas));
          scale.reset();
          setEditing(true);
        }}
      >
        Scale…
      </Button>
    );
  }
  return (
    <form
      className="mt-1.5 space-y-1.5"
      data-testid="scale-form"
      onSubmit={(e) => {
        e.preventDefault();
        scale.mutate();
      }}
    >
      <div className="flex flex-wrap items-center gap-2">
        <ReplicaBound bound="min" lowest={0} value={min} onChange={setMin} />
        <ReplicaBound bound="max" lowest={1} value={max} onChange={setMax} />
        <Button size="sm" variant="primary" type="submit" disabled={scale.isPending}>
          {scale.isPending ? 'Applying…' : 'Apply'}
        </Button>
        <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
          Cancel
        </Button>
      </div>
      {Number(min) === 0 && d.idleUnloadSeconds === null && (
        <Muted className="block text-[12px]">
          With min 0 it scales to zero only after an idle timeout; it has none.
        </Muted>
      )}
      {scale.error && <ErrorBanner error={scale.error} title="Not scaled" />}
    </form>
  );
}

/** One bound of the replica range in `ScaleControl`. */
function ReplicaBound(props: { bound: 'min' | 'max'; lowest: number; value: string; onChange: (v: string) => void }) {
  return (
    <label className="flex items-center gap-1">
      {props.bound}
      <input
        type="number"
        min={props.lowest}
        aria-label={`${props.bound === 'min' ? 'Min' : 'Max'} replicas`}
        className={inputClasses({ width: 'w-16' })}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </label>
  );
}

function PreviousSource({ source }: { source: DeploymentSource }) {
  if (source.kind === 'file') return <span className="font-mono text-[12px]">{sourceLabel(source)}</span>;
  return (
    <Link to={modelPath(source.model, source.version)} className="text-indigo-600 hover:underline dark:text-indigo-400">
      {sourceLabel(source)}
    </Link>
  );
}

function EventsTimeline({ name }: { name: string }) {
  const api = useApi();
  const events = useQuery({
    queryKey: deployKeys.events(name),
    queryFn: () => api.call('deployments.events', { deployment: name, limit: 50 }),
    staleTime: 0,
  });
  const items = events.data?.items ?? [];
  return (
    <Card title="Events" bodyClassName="p-0" data-testid="deployment-events">
      {events.isError && <ErrorBanner className="m-3" error={events.error} onRetry={() => void events.refetch()} />}
      {events.isPending ? (
        <div className="flex items-center gap-2 p-4 text-zinc-500">
          <Spinner /> Loading events…
        </div>
      ) : items.length === 0 ? (
        <p className="px-4 py-3 text-zinc-500 dark:text-zinc-400">No events yet.</p>
      ) : (
        <ol className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
          {items.map((e) => (
            <li
              key={e.id}
              className="flex items-baseline gap-3 px-4 py-1.5"
              data-testid="deployment-event"
              data-state={e.state}
            >
              <span
                className="w-32 shrink-0 font-mono text-[11px] text-zinc-500 tabular-nums"
                title={formatDateTime(e.at)}
              >
                {formatTime(e.at)}
              </span>
              <span className="w-28 shrink-0">
                <DeploymentStateBadge state={e.state} />
              </span>
              <span className="min-w-0 flex-1 text-zinc-700 dark:text-zinc-300">{e.message}</span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

function When({ at, now }: { at: number; now: number }) {
  return <span title={formatDateTime(at)}>{formatRelative(at, now)}</span>;
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt className="text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd className="min-w-0 text-zinc-900 dark:text-zinc-100">{children}</dd>
    </>
  );
}
