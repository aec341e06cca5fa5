import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { ColumnProfile, DatasetVersion, TableProfile } from '#shared/contracts/dataforge';
import { AppError } from '#shared/errors';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { ImagesSummary } from './ImagesSummary';
import { isFinished, JobProgress, useJob } from './jobs';
import { formatStat, versionLabel } from './model';

const TOP_SHOWN = 5;
const PROFILE_JOB = 'dataforge.profile';
const QUANTILES = ['p5', 'p25', 'p50', 'p75', 'p95'];

function isNotFound(error: unknown): boolean {
  return error instanceof AppError && error.code === 'NOT_FOUND';
}

/**
 * The profile of a version's tables (CSV, TSV, JSONL): rows and unreadable rows per table, and per column a card
 * with its type, missing values, distinct count, summary statistics, quantiles, top values and a histogram.
 * A version without a profile offers to make one (a job, followed here).
 */
export function ProfileTab({
  dataset,
  version,
  onOpenTable,
}: {
  dataset: string;
  version: DatasetVersion;
  onOpenTable: (path: string) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const profile = useQuery({
    queryKey: queryKeys.datasetProfile(dataset, version.id),
    queryFn: () => api.call('datasets.profile', { dataset, version: version.id }),
    staleTime: Infinity,
  });
  const [startedId, setJobId] = useState<string | null>(null);
  useEffect(() => setJobId(null), [version.id]);
  // Imports start a profile job by themselves: follow that one too while the profile is missing.
  const pending = useQuery({
    queryKey: queryKeys.jobsOfType(PROFILE_JOB),
    queryFn: () => api.call('jobs.list', { type: PROFILE_JOB, limit: 50 }),
    enabled: profile.isError && startedId === null,
    select: (page) =>
      page.items.find((j) => !isFinished(j) && (j.payload as { versionId?: unknown } | null)?.versionId === version.id),
  });
  const jobId = startedId ?? pending.data?.id ?? null;
  const job = useJob(jobId);
  const run = useMutation({
    mutationFn: () => api.call('datasets.profileRun', { dataset, version: version.id }),
    onSuccess: (started) => setJobId(started.id),
  });
  const done = isFinished(job);
  useEffect(() => {
    if (done) void queryClient.invalidateQueries({ queryKey: queryKeys.datasetProfile(dataset, version.id) });
  }, [done, dataset, version.id, queryClient]);

  if (profile.isPending) {
    return (
      <div className="flex items-center gap-2 py-6 text-zinc-500">
        <Spinner /> Loading the profile…
      </div>
    );
  }
  if (profile.isError) {
    if (!isNotFound(profile.error)) return <ErrorBanner error={profile.error} onRetry={() => void profile.refetch()} />;
    return (
      <Card data-testid="profile-missing">
        <EmptyState title={`${versionLabel(version)} has no profile yet`}>
          <p>
            A profile reads every table (CSV, TSV, JSONL) of the version once and keeps per-column statistics. Imports
            start one by themselves; it appears here when it is done.
          </p>
          <div className="mt-3 flex justify-center">
            <Button
              variant="primary"
              onClick={() => run.mutate()}
              disabled={run.isPending || (jobId !== null && !done)}
            >
              {run.isPending ? 'Starting…' : 'Profile this version'}
            </Button>
          </div>
        </EmptyState>
        {run.isError && <ErrorBanner className="mt-2" error={run.error} title="The profile did not start" />}
        {jobId && (
          <div className="mx-auto mt-2 max-w-md">
            <JobProgress job={job} label="Profile progress" />
          </div>
        )}
      </Card>
    );
  }

  const p = profile.data;
  return (
    <div className="space-y-4" data-testid="profile-tab">
      <div className="flex items-center justify-between gap-3">
        <Muted className="text-[12px]">
          {p.tables.length} {p.tables.length === 1 ? 'table' : 'tables'}
          {p.images
            ? ` · ${p.images.count.toLocaleString('en-US')} ${p.images.count === 1 ? 'image' : 'images'}`
            : ''}{' '}
          · profiled {formatDateTime(p.createdAt)}
        </Muted>
        <Button size="sm" onClick={() => run.mutate()} disabled={run.isPending || (jobId !== null && !done)}>
          Profile again
        </Button>
      </div>
      {run.isError && <ErrorBanner error={run.error} title="The profile did not start" />}
      {jobId && !done && <JobProgress job={job} label="Profile progress" />}
      {p.images && <ImagesSummary images={p.images} />}
      {p.tables.length === 0
        ? !p.images && (
            <Card>
              <EmptyState title="No tables in this version">Profiles cover CSV, TSV and JSONL files.</EmptyState>
            </Card>
          )
        : p.tables.map((t) => <TableCard key={t.path} table={t} onOpenTable={onOpenTable} />)}
    </div>
  );
}

function TableCard({ table, onOpenTable }: { table: TableProfile; onOpenTable: (path: string) => void }) {
  return (
    <Card
      data-testid="table-profile"
      title={
        <span className="flex flex-wrap items-center gap-2">
          <span className="font-mono">{table.path}</span>
          <Chip>{table.format}</Chip>
          <span className="font-normal text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="table-rows">
            {table.rows.toLocaleString('en-US')} rows · {table.columns.length} columns
          </span>
          {table.badRowCount > 0 && (
            <span className="font-medium text-red-700 tabular-nums dark:text-red-400" data-testid="bad-rows">
              {table.badRowCount.toLocaleString('en-US')} bad {table.badRowCount === 1 ? 'row' : 'rows'}
            </span>
          )}
        </span>
      }
      actions={
        <Button size="sm" variant="ghost" onClick={() => onOpenTable(table.path)}>
          View rows
        </Button>
      }
    >
      {table.badRows.length > 0 && (
        <details className="mb-3 text-[12px]">
          <summary className="cursor-pointer text-red-700 dark:text-red-400">
            Rows that could not be read
            {table.badRowCount > table.badRows.length ? ` (the first ${table.badRows.length})` : ''}
          </summary>
          <ul className="mt-1 max-h-40 space-y-0.5 overflow-y-auto font-mono text-[11px]">
            {table.badRows.map((b) => (
              <li key={b.line}>
                line {b.line}: <Muted>{b.reason}</Muted>
              </li>
            ))}
          </ul>
        </details>
      )}
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3 xl:grid-cols-4">
        {table.columns.map((c) => (
          <ColumnCard key={c.name} column={c} rows={table.rows} />
        ))}
      </div>
    </Card>
  );
}

const TYPE_TONE: Record<ColumnProfile['type'], string> = {
  integer: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  number: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  boolean: 'bg-violet-50 text-violet-700 ring-violet-200 dark:bg-violet-950 dark:text-violet-300 dark:ring-violet-800',
  datetime: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
  string:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  empty: 'bg-zinc-100 text-zinc-600 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-400 dark:ring-zinc-700',
};

function ColumnCard({ column: c, rows }: { column: ColumnProfile; rows: number }) {
  // `count` includes the missing values.
  const total = c.count > 0 ? c.count : rows;
  const missingFraction = total > 0 ? c.missing / total : 0;
  const numeric = c.type === 'integer' || c.type === 'number';
  return (
    <div
      className="flex flex-col gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800"
      data-testid="column-profile"
      data-column={c.name}
      data-type={c.type}
      data-missing={c.missing}
    >
      <div className="flex items-center justify-between gap-2">
        <span className="truncate font-mono text-[12px] font-semibold text-zinc-900 dark:text-zinc-100" title={c.name}>
          {c.name}
        </span>
        <span
          className={cx(
            'shrink-0 rounded px-1.5 py-0.5 text-[10px] font-medium uppercase ring-1 ring-inset',
            TYPE_TONE[c.type],
          )}
        >
          {c.type}
        </span>
      </div>
      <div className="flex flex-wrap justify-between gap-x-3 text-[12px]">
        <span className="whitespace-nowrap">
          <span className="text-zinc-500 dark:text-zinc-400">missing </span>
          <span
            className={cx(
              'font-medium tabular-nums',
              c.missing > 0 ? 'text-amber-700 dark:text-amber-400' : 'text-zinc-900 dark:text-zinc-100',
            )}
            data-testid="column-missing"
          >
            {c.missing.toLocaleString('en-US')} ({formatMissing(missingFraction)})
          </span>
        </span>
        <span className="whitespace-nowrap">
          <span className="text-zinc-500 dark:text-zinc-400">distinct </span>
          <span className="font-medium text-zinc-900 tabular-nums dark:text-zinc-100">
            {c.distinctCapped ? '≥' : ''}
            {c.distinct.toLocaleString('en-US')}
          </span>
        </span>
      </div>
      <div
        className="h-1 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-700"
        role="img"
        aria-label={`${formatMissing(missingFraction)} missing`}
        title={`${(c.count - c.missing).toLocaleString('en-US')} present, ${c.missing.toLocaleString('en-US')} missing`}
      >
        <div className="h-full bg-amber-500" style={{ width: `${missingFraction * 100}%` }} />
      </div>
      {(c.min !== null || c.max !== null || c.mean !== null) && (
        <dl className="grid grid-cols-2 gap-x-3 gap-y-0.5 text-[12px]">
          <Stat label="min" value={c.min} />
          <Stat label="max" value={c.max} />
          {c.mean !== null && <Stat label="mean" value={c.mean} />}
          {c.std !== null && <Stat label="std" value={c.std} />}
        </dl>
      )}
      {c.quantiles && Object.keys(c.quantiles).length > 0 && <Quantiles quantiles={c.quantiles} />}
      {c.histogram && c.histogram.counts.length > 0 && (
        <Histogram edges={c.histogram.edges} counts={c.histogram.counts} />
      )}
      {!numeric && c.top.length > 0 && <TopValues top={c.top} total={c.count - c.missing} />}
    </div>
  );
}

/** "0%", "0.58%", "12.5%": small shares keep two decimals so that a few blanks never read as none. */
function formatMissing(fraction: number): string {
  if (fraction === 0) return '0%';
  const pct = fraction * 100;
  return `${pct < 1 ? pct.toFixed(2) : pct.toFixed(1)}%`;
}

function Stat({ label, value }: { label: string; value: number | string | null }) {
  return (
    <div className="flex min-w-0 justify-between gap-2">
      <dt className="text-zinc-500 dark:text-zinc-400">{label}</dt>
      <dd
        className="truncate font-medium text-zinc-900 tabular-nums dark:text-zinc-100"
        title={value === null ? undefined : String(value)}
      >
        {formatStat(value)}
      </dd>
    </div>
  );
}

function Quantiles({ quantiles }: { quantiles: Record<string, number> }) {
  const keys = [
    ...QUANTILES.filter((k) => k in quantiles),
    ...Object.keys(quantiles).filter((k) => !QUANTILES.includes(k)),
  ];
  return (
    <div
      className="grid text-center text-[11px]"
      style={{ gridTemplateColumns: `repeat(${keys.length}, minmax(0, 1fr))` }}
      aria-label="Quantiles"
    >
      {keys.map((k) => (
        <div key={k} className="min-w-0">
          <div className="text-zinc-500 dark:text-zinc-400">{k}</div>
          <div
            className="truncate font-medium text-zinc-800 tabular-nums dark:text-zinc-200"
            title={String(quantiles[k])}
          >
            {formatStat(quantiles[k])}
          </div>
        </div>
      ))}
    </div>
  );
}

/** Bars as plain divs: height by count, a tooltip with the bin's range. */
function Histogram({ edges, counts }: { edges: number[]; counts: number[] }) {
  const max = Math.max(1, ...counts);
  const lo = edges[0];
  const hi = edges.at(-1);
  return (
    <div aria-label="Histogram" role="img" data-testid="histogram">
      <div className="flex h-12 items-end gap-px border-b border-zinc-300 dark:border-zinc-700">
        {counts.map((n, i) => (
          <div
            key={i}
            className="min-w-0 flex-1 rounded-t-[1px] bg-indigo-400 hover:bg-indigo-600 dark:bg-indigo-500/80 dark:hover:bg-indigo-300"
            style={{ height: `${n === 0 ? 0 : Math.max(4, (n / max) * 100)}%` }}
            title={`${formatStat(edges[i] ?? null)} – ${formatStat(edges[i + 1] ?? null)}: ${n.toLocaleString('en-US')}`}
          />
        ))}
      </div>
      <div className="mt-0.5 flex justify-between text-[10px] text-zinc-500 tabular-nums dark:text-zinc-400">
        <span>{formatStat(lo ?? null)}</span>
        <span>{formatStat(hi ?? null)}</span>
      </div>
    </div>
  );
}

function TopValues({ top, total }: { top: { value: string; count: number }[]; total: number }) {
  const max = Math.max(1, ...top.map((t) => t.count));
  return (
    <ul className="space-y-0.5 text-[11px]" aria-label="Top values">
      {top.slice(0, TOP_SHOWN).map((t) => (
        <li
          key={t.value}
          className="relative flex items-center justify-between gap-2 overflow-hidden rounded-sm px-1.5 py-0.5"
        >
          <span
            className="absolute inset-y-0 left-0 bg-emerald-500/15 dark:bg-emerald-400/15"
            style={{ width: `${(t.count / max) * 100}%` }}
          />
          <span className="relative truncate text-zinc-800 dark:text-zinc-200" title={t.value}>
            {t.value === '' ? <Muted>(empty)</Muted> : t.value}
          </span>
          <span className="relative shrink-0 text-zinc-500 tabular-nums dark:text-zinc-400">
            {t.count.toLocaleString('en-US')}
            {total > 0 && <span className="ml-1 opacity-70">{Math.round((t.count / total) * 100)}%</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}
