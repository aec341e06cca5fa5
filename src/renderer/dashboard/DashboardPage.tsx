import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { Gpu, SystemStats } from '#shared/contracts/system';
import { ErrorBanner } from '../components/ErrorBanner';
import { EventList } from '../components/EventList';
import { ActivityIcon, CpuIcon, GpuIcon, JobsIcon, MemoryIcon, QueueIcon } from '../components/icons';
import { Card, EmptyState, loadTone, Muted, PageHeader, ProgressBar, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { collapseProgress, useEvents } from '../lib/events';
import { formatBytes, formatDuration, formatMb, formatPercent, formatTime, ratio, shortId } from '../lib/format';
import { useNow } from '../lib/hooks';
import { useMemo, type ReactNode } from 'react';

const POLL_MS = 2_000;

export function DashboardPage() {
  const api = useApi();
  const stats = useQuery({
    queryKey: queryKeys.stats,
    queryFn: () => api.call('system.stats'),
    refetchInterval: POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  const s = stats.data;

  return (
    <div data-testid="dashboard">
      <PageHeader
        title="Dashboard"
        description="This machine, its queue and what just happened."
        actions={
          s && (
            <Muted className="text-[12px] tabular-nums">
              {stats.isFetching ? <Spinner small className="mr-1.5 align-[-2px]" /> : null}
              Updated {formatTime(s.at)}
            </Muted>
          )
        }
      />
      {stats.isError && (
        <ErrorBanner
          className="mb-4"
          title={s ? 'Live figures are not updating' : undefined}
          error={stats.error}
          onRetry={() => void stats.refetch()}
        />
      )}
      {!s && stats.isPending && (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Reading system figures…
        </div>
      )}
      {s && (
        <div className="space-y-4">
          <div className="grid grid-cols-1 gap-4 sm:grid-cols-2 xl:grid-cols-4">
            <CpuCard cpu={s.cpu} />
            <MemoryCard memory={s.memory} />
            <QueueCard queue={s.queue} />
            <GpuSummaryCard gpus={s.gpus} />
          </div>
          <GpuSection gpus={s.gpus} />
          <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
            <RunningJobs jobs={s.runningJobs} queued={s.queue.queued} />
            <RecentEvents />
          </div>
        </div>
      )}
    </div>
  );
}

function Stat({
  label,
  icon,
  value,
  detail,
  children,
  testId,
}: {
  label: string;
  icon: ReactNode;
  value: ReactNode;
  detail?: ReactNode;
  children?: ReactNode;
  testId: string;
}) {
  return (
    <section
      data-testid={testId}
      aria-label={label}
      className="rounded-lg border border-zinc-200 bg-white p-4 shadow-xs dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex items-center justify-between text-[12px] font-medium text-zinc-500 dark:text-zinc-400">
        <span>{label}</span>
        <span className="text-zinc-400 dark:text-zinc-500">{icon}</span>
      </div>
      <p
        className="mt-2 text-2xl font-semibold tracking-tight text-zinc-900 tabular-nums dark:text-zinc-50"
        data-testid={`${testId}-value`}
      >
        {value}
      </p>
      {children && <div className="mt-3">{children}</div>}
      {detail && <p className="mt-2 truncate text-[12px] text-zinc-500 dark:text-zinc-400">{detail}</p>}
    </section>
  );
}

function CpuCard({ cpu }: { cpu: SystemStats['cpu'] }) {
  const load = cpu.loadPercent / 100;
  return (
    <Stat
      testId="cpu"
      label="CPU load"
      icon={<CpuIcon />}
      value={`${cpu.loadPercent.toFixed(1)}%`}
      detail={
        <span title={cpu.model}>
          {cpu.cores} cores · {cpu.model}
        </span>
      }
    >
      <ProgressBar value={load} tone={loadTone(load)} label="CPU load" />
    </Stat>
  );
}

function MemoryCard({ memory }: { memory: SystemStats['memory'] }) {
  const used = ratio(memory.usedBytes, memory.totalBytes);
  return (
    <Stat
      testId="memory"
      label="Memory"
      icon={<MemoryIcon />}
      value={
        <>
          {formatBytes(memory.usedBytes)}
          <span className="text-base font-normal text-zinc-400 dark:text-zinc-500">
            {' '}
            / {formatBytes(memory.totalBytes)}
          </span>
        </>
      }
      detail={`${formatPercent(used)} used · ${formatBytes(memory.totalBytes - memory.usedBytes)} free`}
    >
      <ProgressBar value={used} tone={loadTone(used)} label="Memory used" />
    </Stat>
  );
}

function QueueCard({ queue }: { queue: SystemStats['queue'] }) {
  return (
    <Stat
      testId="queue"
      label="Job queue"
      icon={<QueueIcon />}
      value={
        <span className="flex items-baseline gap-4">
          <span>
            {queue.running}
            <span className="ml-1 text-[13px] font-normal text-zinc-500 dark:text-zinc-400">running</span>
          </span>
          <span>
            {queue.queued}
            <span className="ml-1 text-[13px] font-normal text-zinc-500 dark:text-zinc-400">queued</span>
          </span>
        </span>
      }
      detail={
        <Link to="/jobs" className="text-indigo-600 hover:underline dark:text-indigo-400">
          All jobs →
        </Link>
      }
    />
  );
}

function GpuSummaryCard({ gpus }: { gpus: Gpu[] }) {
  const first = gpus[0];
  return (
    <Stat
      testId="gpus"
      label="GPUs"
      icon={<GpuIcon />}
      value={gpus.length === 0 ? 'None' : gpus.length}
      detail={first ? (gpus.length > 1 ? `${first.name} and ${gpus.length - 1} more` : first.name) : 'CPU-only mode'}
    />
  );
}

function GpuSection({ gpus }: { gpus: Gpu[] }) {
  return (
    <Card title="GPUs" icon={<GpuIcon />} data-testid="gpu-section" bodyClassName={gpus.length ? 'p-0' : 'p-4'}>
      {gpus.length === 0 ? (
        <div className="flex items-start gap-3">
          <div className="rounded-md bg-zinc-100 p-2 text-zinc-500 dark:bg-zinc-800 dark:text-zinc-400">
            <GpuIcon />
          </div>
          <div>
            <p className="font-medium text-zinc-900 dark:text-zinc-100">No GPU found — CPU-only mode</p>
            <p className="text-zinc-500 dark:text-zinc-400">
              Training and inference run on the CPU. NVIDIA GPUs are found through nvidia-smi; AMD, Intel Arc and Apple
              GPUs through the system's graphics information.
            </p>
          </div>
        </div>
      ) : (
        <table className="w-full text-left">
          <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="px-4 py-2 font-medium">#</th>
              <th className="px-4 py-2 font-medium">Name</th>
              <th className="w-1/4 px-4 py-2 font-medium">Memory</th>
              <th className="w-1/5 px-4 py-2 font-medium">Utilisation</th>
              <th className="px-4 py-2 text-right font-medium">Temp.</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {gpus.map((gpu) => {
              const mem = ratio(gpu.memoryUsedMb, gpu.memoryTotalMb);
              const util = gpu.utilizationPercent === null ? null : gpu.utilizationPercent / 100;
              return (
                <tr key={gpu.index} data-testid="gpu">
                  <td className="px-4 py-2.5 font-mono text-zinc-500">{gpu.index}</td>
                  <td className="px-4 py-2.5">
                    <p className="font-medium text-zinc-900 dark:text-zinc-100">{gpu.name}</p>
                    <p className="text-[12px] text-zinc-500">{gpu.vendor}</p>
                  </td>
                  <td className="px-4 py-2.5">
                    <p className="mb-1 tabular-nums">
                      {formatMb(gpu.memoryUsedMb)} <Muted>/ {formatMb(gpu.memoryTotalMb)}</Muted>
                    </p>
                    <ProgressBar value={mem} tone={loadTone(mem)} label={`GPU ${gpu.index} memory`} />
                  </td>
                  <td className="px-4 py-2.5">
                    <p className="mb-1 tabular-nums">{formatPercent(util)}</p>
                    <ProgressBar value={util} tone="sky" label={`GPU ${gpu.index} utilisation`} />
                  </td>
                  <td className="px-4 py-2.5 text-right tabular-nums">
                    {gpu.temperatureC === null ? '—' : `${gpu.temperatureC} °C`}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Card>
  );
}

function RunningJobs({ jobs, queued }: { jobs: SystemStats['runningJobs']; queued: number }) {
  const now = useNow(1000);
  return (
    <Card
      title="Background tasks"
      icon={<JobsIcon />}
      data-testid="running-jobs"
      bodyClassName="p-0"
      actions={
        <Link to="/tasks" className="text-[12px] text-indigo-600 hover:underline dark:text-indigo-400">
          View all
        </Link>
      }
    >
      {jobs.length === 0 ? (
        <EmptyState title="Nothing running">
          {queued > 0 ? `${queued} queued, waiting for a slot.` : 'The queue is idle.'}
        </EmptyState>
      ) : (
        <ul className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
          {jobs.map((job) => (
            <li key={job.id} data-testid="running-job" data-job-id={job.id} className="px-4 py-3">
              <div className="flex items-baseline justify-between gap-3">
                <p className="min-w-0 truncate">
                  <span className="font-medium text-zinc-900 dark:text-zinc-100">{job.type}</span>
                  <span className="ml-2 font-mono text-[11px] text-zinc-500">{shortId(job.id)}</span>
                </p>
                <span className="shrink-0 text-[12px] text-zinc-500 tabular-nums dark:text-zinc-400">
                  {formatPercent(job.progress)} · {job.startedAt ? formatDuration(now - job.startedAt) : '—'}
                </span>
              </div>
              <ProgressBar className="mt-2" value={job.progress} label={`Progress of ${job.type}`} />
              {job.progressMessage && (
                <p className="mt-1 truncate text-[12px] text-zinc-500 dark:text-zinc-400">{job.progressMessage}</p>
              )}
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function RecentEvents() {
  const all = useEvents((s) => s.events);
  const events = useMemo(() => collapseProgress(all), [all]);
  return (
    <Card
      title="Recent events"
      icon={<ActivityIcon />}
      data-testid="recent-events"
      bodyClassName="max-h-96 overflow-y-auto py-1"
    >
      {events.length === 0 ? (
        <EmptyState title="No events yet">Events appear here as they happen: jobs, keys, maintenance.</EmptyState>
      ) : (
        <EventList events={events.slice(0, 50)} />
      )}
    </Card>
  );
}
