import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { GpuStatus, VramGpu, VramHolder, VramWaiting } from '#shared/contracts/trainos';
import { ErrorBanner } from '../components/ErrorBanner';
import { CpuIcon, GpuIcon } from '../components/icons';
import { Card, Chip, cx, loadTone, Muted, PageHeader, ProgressBar, Spinner } from '../components/ui';
import { useLiveEvents, useThrottled } from '../experiments/live';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes, formatDateTime, formatRelative, formatTime, ratio } from '../lib/format';
import { useNow } from '../lib/hooks';
import {
  formatCelsius,
  formatMib,
  formatWatts,
  heldByKind,
  KIND_LABEL,
  memorySegments,
  type MemorySegment,
  type SegmentKind,
} from './board';
import type { ReactNode } from 'react';

/** The server caches GPU readings for 2 s: polling faster would show the same figures. */
const POLL_MS = 2_000;
/** A burst of VRAM events (a model parked, another loaded) costs one refetch. */
const EVENT_REFRESH_MS = 250;

const SWATCH: Record<SegmentKind, string> = {
  model: 'bg-violet-500',
  job: 'bg-sky-500',
  external: 'bg-amber-400 dark:bg-amber-500',
  // The bar's track: free memory is what is left of it.
  free: 'bg-zinc-200 dark:bg-zinc-800',
};

/** The GPU board: what the app holds on each GPU, what else uses it, and how hard it works. */
export function GpusPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const gpus = useQuery({
    queryKey: queryKeys.gpus,
    queryFn: () => api.call('gpus.list'),
    refetchInterval: POLL_MS,
    refetchIntervalInBackground: false,
    staleTime: 0,
  });
  const refresh = useThrottled(
    () => void queryClient.invalidateQueries({ queryKey: queryKeys.gpus }),
    EVENT_REFRESH_MS,
  );
  useLiveEvents((name) => name.startsWith('vram.'), refresh);
  const list = gpus.data;

  return (
    <div data-testid="gpus-page">
      <PageHeader
        title="GPUs"
        description="What the app holds on each GPU, what else uses it, and how hard it works."
        actions={
          list && (
            <Muted className="text-[12px] tabular-nums">
              <Spinner small className={cx('mr-1.5 align-[-2px]', !gpus.isFetching && 'invisible')} />
              Updated {formatTime(gpus.dataUpdatedAt)}
            </Muted>
          )
        }
      />
      {gpus.isError && (
        <ErrorBanner
          className="mb-4"
          title={list ? 'GPU readings are not updating' : undefined}
          error={gpus.error}
          onRetry={() => void gpus.refetch()}
        />
      )}
      {!list && gpus.isPending && (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Reading the GPUs…
        </div>
      )}
      {list &&
        (list.cpuOnly ? (
          <CpuOnly />
        ) : (
          <div className="space-y-4">
            {list.items.map((gpu) => (
              <GpuCard key={gpu.index} gpu={gpu} />
            ))}
          </div>
        ))}
    </div>
  );
}

function CpuOnly() {
  const api = useApi();
  const stats = useQuery({
    queryKey: queryKeys.stats,
    queryFn: () => api.call('system.stats'),
    staleTime: 60_000,
  });
  const s = stats.data;
  return (
    <Card data-testid="cpu-only">
      <div className="flex items-start gap-3">
        <div className="rounded-md bg-zinc-100 p-2 text-zinc-500 dark:bg-zinc-800 dark:text-zinc-400">
          <GpuIcon />
        </div>
        <div className="min-w-0 space-y-1">
          <h2 className="font-medium text-zinc-900 dark:text-zinc-100">No GPU found — training jobs run on the CPU</h2>
          <p className="text-zinc-500 dark:text-zinc-400">
            NVIDIA GPUs are found through nvidia-smi; AMD, Intel Arc and Apple GPUs through the system&apos;s graphics
            information. Served models and training jobs share the CPU and memory below.
          </p>
          {/* One line, reserved before the figures arrive, so nothing moves when they do. */}
          <p
            className="flex min-h-6 items-center gap-2 text-zinc-700 tabular-nums dark:text-zinc-300"
            data-testid="cpu-figures"
          >
            <CpuIcon className="shrink-0 text-zinc-400 dark:text-zinc-500" />
            {s ? (
              <span className="truncate" title={s.cpu.model}>
                {s.cpu.cores} CPU cores · {formatBytes(s.memory.totalBytes)} memory · {s.cpu.model}
              </span>
            ) : (
              <Muted>Reading this machine…</Muted>
            )}
          </p>
          <p>
            <Link to="/training/jobs" className="text-indigo-600 hover:underline dark:text-indigo-400">
              The job queue →
            </Link>
          </p>
        </div>
      </div>
    </Card>
  );
}

function GpuCard({ gpu }: { gpu: GpuStatus }) {
  return (
    <Card
      data-testid={`gpu-${gpu.index}`}
      icon={<GpuIcon />}
      title={
        <span className="flex items-baseline gap-2">
          {gpu.name}
          <span className="font-normal text-zinc-500 dark:text-zinc-400">GPU {gpu.index}</span>
        </span>
      }
      actions={
        <span
          className="max-w-80 truncate font-mono text-[11px] text-zinc-500 select-all dark:text-zinc-400"
          title="The driver's id of this GPU"
          data-testid="gpu-uuid"
        >
          {gpu.uuid ?? 'no uuid'}
        </span>
      }
      bodyClassName="divide-y divide-zinc-100 dark:divide-zinc-800/80"
    >
      <div className="grid grid-cols-1 gap-6 p-4 xl:grid-cols-2">
        <MemoryPanel index={gpu.index} vram={gpu.vram} />
        <Readings gpu={gpu} />
      </div>
      <Holders index={gpu.index} holders={gpu.vram.holders} />
      {gpu.vram.waiting.length > 0 && <Waiting waiting={gpu.vram.waiting} holders={gpu.vram.holders} />}
    </Card>
  );
}

function MemoryPanel({ index, vram }: { index: number; vram: VramGpu }) {
  const segments = memorySegments(vram);
  const held = heldByKind(vram.holders);
  const known = vram.totalMb > 0;
  const summary = known
    ? `${formatMib(vram.reservedMb)} held by the app, ${formatMib(vram.externalMb)} used outside it, ${formatMib(vram.freeMb)} free of ${formatMib(vram.totalMb)}`
    : 'memory size unknown';
  return (
    <section aria-label={`GPU ${index} memory`} data-testid="gpu-memory">
      <div className="flex items-baseline justify-between gap-3">
        <h3 className="text-[12px] font-medium text-zinc-500 dark:text-zinc-400">Memory</h3>
        <p className="text-zinc-900 tabular-nums dark:text-zinc-100" data-testid="gpu-memory-used">
          {known ? (
            <>
              {formatMib(vram.reservedMb + vram.externalMb)} <Muted>used of {formatMib(vram.totalMb)}</Muted>
            </>
          ) : (
            <Muted>Size unknown: nothing is placed on this GPU</Muted>
          )}
        </p>
      </div>
      <div
        role="img"
        aria-label={`GPU ${index} memory: ${summary}`}
        data-testid="gpu-memory-bar"
        className={cx('mt-2 flex h-3 w-full overflow-hidden rounded-full', SWATCH.free)}
      >
        {segments.map((segment) => (
          <Segment key={segment.key} segment={segment} />
        ))}
      </div>
      <dl className="mt-3 grid grid-cols-2 gap-x-4 gap-y-1.5 text-[12px] sm:grid-cols-4">
        <Legend kind="model" label="Served models" mb={held.model} />
        <Legend kind="job" label="Training jobs" mb={held.job} />
        <Legend kind="external" label="Outside the app" mb={vram.externalMb} />
        <Legend kind="free" label="Free" mb={vram.freeMb} />
      </dl>
    </section>
  );
}

function Segment({ segment }: { segment: MemorySegment }) {
  const what = segment.kind === 'model' || segment.kind === 'job' ? `${KIND_LABEL[segment.kind]}: ` : '';
  return (
    <div
      data-segment={segment.kind}
      title={`${what}${segment.label} · ${formatMib(segment.mb)}`}
      // Holders side by side stay apart by a hairline in the card's colour.
      className={cx(
        'h-full min-w-0.5 border-r border-white transition-[width] duration-500 last:border-r-0 dark:border-zinc-900',
        SWATCH[segment.kind],
      )}
      style={{ width: `${(segment.fraction * 100).toFixed(2)}%` }}
    />
  );
}

function Legend({ kind, label, mb }: { kind: SegmentKind; label: string; mb: number }) {
  return (
    <div className="min-w-0" data-legend={kind}>
      <dt className="flex items-center gap-1.5 text-zinc-500 dark:text-zinc-400">
        <span
          aria-hidden="true"
          className={cx(
            'size-2.5 shrink-0 rounded-sm',
            SWATCH[kind],
            kind === 'free' && 'ring-1 ring-zinc-300 ring-inset dark:ring-zinc-600',
          )}
        />
        <span className="truncate">{label}</span>
      </dt>
      <dd className="pl-4 font-medium text-zinc-900 tabular-nums dark:text-zinc-100" title={`${mb} MiB`}>
        {formatMib(mb)}
      </dd>
    </div>
  );
}

function Readings({ gpu }: { gpu: GpuStatus }) {
  const utilization = gpu.utilizationPercent === null ? null : gpu.utilizationPercent / 100;
  const power = ratio(gpu.powerW, gpu.powerLimitW);
  return (
    <dl className="grid grid-cols-3 gap-3" aria-label={`GPU ${gpu.index} readings`}>
      <Reading
        label="Utilisation"
        testId="gpu-utilization"
        value={gpu.utilizationPercent === null ? '—' : `${gpu.utilizationPercent}%`}
      >
        <ProgressBar value={utilization} tone="sky" label={`GPU ${gpu.index} utilisation`} />
      </Reading>
      <Reading label="Temperature" testId="gpu-temperature" value={formatCelsius(gpu.temperatureC)} />
      <Reading
        label="Power"
        testId="gpu-power"
        value={
          <>
            {formatWatts(gpu.powerW)}
            <span className="text-[12px] font-normal text-zinc-500 dark:text-zinc-400">
              {' '}
              / {formatWatts(gpu.powerLimitW)}
            </span>
          </>
        }
      >
        <ProgressBar value={power} tone={loadTone(power)} label={`GPU ${gpu.index} power draw of its limit`} />
      </Reading>
    </dl>
  );
}

function Reading({
  label,
  value,
  testId,
  children,
}: {
  label: string;
  value: ReactNode;
  testId: string;
  children?: ReactNode;
}) {
  return (
    <div className="rounded-md border border-zinc-200 px-3 py-2.5 dark:border-zinc-800">
      <dt className="text-[12px] font-medium text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd
        className="mt-1 truncate text-lg font-semibold text-zinc-900 tabular-nums dark:text-zinc-50"
        data-testid={testId}
      >
        {value}
      </dd>
      {children && <dd className="mt-2">{children}</dd>}
    </div>
  );
}

function Holders({ index, holders }: { index: number; holders: readonly VramHolder[] }) {
  const now = useNow(5_000);
  if (holders.length === 0) {
    return (
      <p className="px-4 py-3 text-zinc-500 dark:text-zinc-400" data-testid="gpu-holders-empty">
        Nothing the app runs holds memory on this GPU.
      </p>
    );
  }
  const rows = [...holders].sort((a, b) => b.mb - a.mb || a.id.localeCompare(b.id));
  return (
    <table className="w-full text-left" aria-label={`Memory held on GPU ${index}`} data-testid="gpu-holders">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-100 dark:border-zinc-800/80">
          <th className="px-4 py-2 font-medium">Held by</th>
          <th className="px-4 py-2 font-medium">Kind</th>
          <th className="px-4 py-2 font-medium">Owner</th>
          <th className="px-4 py-2 text-right font-medium">Memory</th>
          <th className="px-4 py-2 font-medium">Since</th>
          <th className="px-4 py-2 font-medium">Parkable</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {rows.map((holder) => (
          <tr key={holder.id} data-testid="gpu-holder" data-holder-id={holder.id}>
            <td className="max-w-72 px-4 py-2">
              <span className="flex items-center gap-2">
                <span aria-hidden="true" className={cx('size-2.5 shrink-0 rounded-sm', SWATCH[holder.kind])} />
                <span className="truncate font-medium text-zinc-900 dark:text-zinc-100" title={holder.id}>
                  {holder.label}
                </span>
              </span>
            </td>
            <td className="px-4 py-2 whitespace-nowrap">{KIND_LABEL[holder.kind]}</td>
            <td className="px-4 py-2">
              <Chip>{holder.owner}</Chip>
            </td>
            <td className="px-4 py-2 text-right tabular-nums" title={`${holder.mb} MiB`}>
              {formatMib(holder.mb)}
            </td>
            <td className="px-4 py-2 whitespace-nowrap tabular-nums" title={formatDateTime(holder.since)}>
              {formatRelative(holder.since, now)}
            </td>
            <td className="px-4 py-2 whitespace-nowrap">
              {holder.parkable ? (
                <span title={`Idle since ${formatDateTime(holder.lastUsedAt)}: may be asked to give its memory back`}>
                  Yes <Muted>· used {formatRelative(holder.lastUsedAt, now)}</Muted>
                </span>
              ) : (
                <Muted>No</Muted>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Waiting({ waiting, holders }: { waiting: readonly VramWaiting[]; holders: readonly VramHolder[] }) {
  const now = useNow(5_000);
  const labelOf = (id: string) => holders.find((h) => h.id === id)?.label ?? id;
  return (
    <section
      aria-label="Waiting for memory"
      data-testid="gpu-waiting"
      className="bg-amber-50/60 px-4 py-3 dark:bg-amber-950/20"
    >
      <h3 className="text-[12px] font-medium text-amber-800 dark:text-amber-300">Waiting for parked models</h3>
      <ul className="mt-1.5 space-y-1">
        {waiting.map((request) => (
          <li key={request.id} data-testid="gpu-waiting-request" className="text-zinc-700 dark:text-zinc-300">
            <span className="font-medium text-zinc-900 dark:text-zinc-100">{request.label}</span>{' '}
            <Chip>{request.owner}</Chip> needs <span className="tabular-nums">{formatMib(request.mb)}</span>
            <Muted>
              {' '}
              · asked {formatRelative(request.since, now)}
              {request.waitingFor.length > 0 && ` for ${request.waitingFor.map(labelOf).join(', ')} to park`}
            </Muted>
          </li>
        ))}
      </ul>
    </section>
  );
}
