import { useQueries, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import type { Deployment, DeploymentStats } from '#shared/contracts/deploy';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import { Button, Card, Chip, cx, EmptyState, Muted, PageHeader, Spinner } from '../components/ui';
import { modelPath } from '../experiments/paths';
import { useApi } from '../lib/api';
import { formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';
import { DeployDialog } from './DeployDialog';
import { DeploymentPage } from './DeploymentPage';
import { DeploymentStateBadge } from './DeploymentStateBadge';
import { deploymentPath, isDeploymentTab } from './paths';
import { deployKeys, useDeploymentUpdates } from './queries';
import { capacityLabel, formatCount, formatMs, sourceLabel } from './stats';

/** The list's request counts and p95 are read this often (the page of one deployment polls faster). */
const LIST_STATS_MS = 5_000;

/** The deployments, or one deployment's page when the URL names it (`?deployment=<name>`). */
export function DeploymentsPage() {
  const [params] = useSearchParams();
  const name = params.get('deployment');
  const tab = params.get('tab');
  return name ? (
    <DeploymentPage key={name} name={name} tab={isDeploymentTab(tab) ? tab : 'overview'} />
  ) : (
    <DeploymentList />
  );
}

/** Every deployment by name, live through `deploy.deployment.updated`, with its traffic from its stats. */
function DeploymentList() {
  const api = useApi();
  const navigate = useNavigate();
  const [deploying, setDeploying] = useState(false);
  const list = useQuery({
    queryKey: deployKeys.list,
    queryFn: () => api.call('deployments.list'),
    staleTime: 0,
    // Events bring state changes at once; requests send none, so this brings each one's `lastRequestAt`.
    refetchInterval: 15_000,
  });
  useDeploymentUpdates();
  const items = list.data?.items ?? [];
  const stats = useQueries({
    queries: items.map((d) => ({
      queryKey: deployKeys.stats(d.name),
      queryFn: () => api.call('deployments.stats', { deployment: d.name }),
      refetchInterval: LIST_STATS_MS,
      staleTime: 0,
    })),
  });

  return (
    <div data-testid="deployments-page">
      <PageHeader
        title="Deployments"
        description={
          <>
            Served on this machine: OpenAI&apos;s API at{' '}
            <code className="font-mono text-[12px]">{new URL('/v1', api.baseUrl).toString()}</code> (GGUF), KServe v2 at{' '}
            <code className="font-mono text-[12px]">{new URL('/v2', api.baseUrl).toString()}</code> (ONNX, TF.js).
          </>
        }
        actions={
          <Button variant="primary" onClick={() => setDeploying(true)}>
            <PlusIcon width={14} height={14} /> Deploy a model…
          </Button>
        }
      />
      {list.isError && <ErrorBanner className="mb-3" error={list.error} onRetry={() => void list.refetch()} />}
      <Card bodyClassName="overflow-x-auto p-0">
        {list.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading deployments…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title="Nothing deployed yet">
            Deploy a registered model version with “Deploy a model…” (or from its page under Models), or{' '}
            <code className="font-mono">aidos deploy &lt;model&gt;</code> in a terminal.
          </EmptyState>
        ) : (
          <DeploymentsTable deployments={items} stats={stats.map((s) => s.data)} />
        )}
      </Card>
      <DeployDialog
        open={deploying}
        onClose={() => setDeploying(false)}
        onDeployed={(d) => void navigate(deploymentPath(d.name))}
      />
    </div>
  );
}

function DeploymentsTable({
  deployments,
  stats,
}: {
  deployments: readonly Deployment[];
  stats: readonly (DeploymentStats | undefined)[];
}) {
  const now = useNow(5_000);
  return (
    <table className="w-full text-left" aria-label="Deployments">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Name</th>
          <th className="px-4 py-2 font-medium">Model</th>
          <th className="px-4 py-2 font-medium">Runtime</th>
          <th className="px-4 py-2 font-medium">State</th>
          <th className="px-4 py-2 font-medium">Capacity</th>
          <th className="px-4 py-2 text-right font-medium">Requests</th>
          <th className="px-4 py-2 text-right font-medium">p95</th>
          <th className="px-4 py-2 font-medium">Last request</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {deployments.map((d, i) => (
          <DeploymentRow key={d.id} deployment={d} stats={stats[i]} now={now} />
        ))}
      </tbody>
    </table>
  );
}

function DeploymentRow({
  deployment: d,
  stats,
  now,
}: {
  deployment: Deployment;
  stats: DeploymentStats | undefined;
  now: number;
}) {
  return (
    <tr
      data-testid="deployment-row"
      data-name={d.name}
      data-state={d.state}
      className="align-top hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
    >
      <td className="max-w-56 px-4 py-2.5">
        <Link
          to={deploymentPath(d.name)}
          className="block truncate font-medium text-zinc-900 hover:text-indigo-600 hover:underline dark:text-zinc-100 dark:hover:text-indigo-400"
        >
          {d.name}
        </Link>
        {d.modelKind && <p className="text-[12px] text-zinc-500 dark:text-zinc-400">{d.modelKind}</p>}
      </td>
      <td className="max-w-64 px-4 py-2.5">
        <SourceLink deployment={d} />
      </td>
      <td className="px-4 py-2.5">
        <Chip>{d.runtime}</Chip>
        {d.placement && <p className="mt-0.5 text-[12px] text-zinc-500 dark:text-zinc-400">{d.placement}</p>}
      </td>
      <td className="max-w-72 px-4 py-2.5">
        <DeploymentStateBadge state={d.state} />
        {d.reason && (
          <p
            className={
              d.state === 'failed'
                ? 'mt-0.5 line-clamp-2 text-[12px] text-red-700 dark:text-red-400'
                : 'mt-0.5 line-clamp-2 text-[12px] text-zinc-500 dark:text-zinc-400'
            }
            title={d.reason}
            data-testid="deployment-reason"
          >
            {d.reason}
          </p>
        )}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">{capacityLabel(d)}</td>
      <td className="px-4 py-2.5 text-right whitespace-nowrap tabular-nums" data-testid="deployment-requests">
        {stats ? (
          <>
            {formatCount(stats.requests.total)}
            {stats.requests.errors > 0 && (
              <span className="block text-[12px] text-red-700 dark:text-red-400">
                {formatCount(stats.requests.errors)} failed
              </span>
            )}
          </>
        ) : (
          <Muted>—</Muted>
        )}
      </td>
      <td className="px-4 py-2.5 text-right whitespace-nowrap tabular-nums">
        {stats ? formatMs(stats.latencyMs.p95) : <Muted>—</Muted>}
      </td>
      <td className="px-4 py-2.5 whitespace-nowrap">
        {d.lastRequestAt === null ? (
          <Muted>never</Muted>
        ) : (
          <span title={formatDateTime(d.lastRequestAt)}>{formatRelative(d.lastRequestAt, now)}</span>
        )}
      </td>
    </tr>
  );
}

/** The model version a deployment serves, linked to its page in the registry; a file by its name. */
/** What a deployment serves: its model version (a link) or its file; `inline` within a line of text. */
export function SourceLink({ deployment: d, inline = false }: { deployment: Deployment; inline?: boolean }) {
  const s = d.source;
  if (s.kind === 'file') {
    return (
      <span
        className={cx('truncate font-mono text-[12px]', inline ? 'inline-block max-w-[28rem] align-bottom' : 'block')}
        title={s.path}
      >
        {sourceLabel(s)}
      </span>
    );
  }
  return (
    <Link
      to={modelPath(s.model, s.version)}
      className="text-indigo-600 hover:underline dark:text-indigo-400"
      data-testid="deployment-model"
    >
      {s.model} <span className="tabular-nums">v{s.version}</span>
      {s.alias && <span className="text-zinc-500 dark:text-zinc-400"> @{s.alias}</span>}
    </Link>
  );
}
