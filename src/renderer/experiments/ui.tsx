import type { ReactNode } from 'react';
import type { RunStatus } from '#shared/contracts/modelhub';
import { cx } from '../components/ui';

const RUN_STATUS: Record<RunStatus, string> = {
  RUNNING: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  SCHEDULED: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  FINISHED:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  FAILED: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  KILLED: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
};

/** A run's status as a small pill; a running run's dot pulses. */
export function RunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <span
      data-testid="run-status"
      className={cx(
        'inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium ring-1 ring-inset',
        RUN_STATUS[status],
      )}
    >
      {status === 'RUNNING' && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
      {status.toLowerCase()}
    </span>
  );
}

/** A key = value tag, grey. */
export function KeyValueChip({ k, v }: { k: string; v: string }) {
  return (
    <span className="inline-flex max-w-full items-center rounded bg-zinc-100 px-1.5 py-0.5 text-[11px] text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
      <span className="font-medium">{k}</span>
      {v !== '' && <span className="truncate text-zinc-500 dark:text-zinc-400">={v}</span>}
    </span>
  );
}

/** A two-column key/value table (params, tags, facts). */
export function KeyValueTable({
  rows,
  label,
  empty,
  mono = true,
}: {
  rows: readonly { key: string; value: ReactNode }[];
  label: string;
  empty: string;
  mono?: boolean;
}) {
  if (rows.length === 0) return <p className="px-4 py-3 text-zinc-500 dark:text-zinc-400">{empty}</p>;
  return (
    <table className="w-full text-left" aria-label={label}>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {rows.map((r) => (
          <tr key={r.key}>
            <th scope="row" className="w-2/5 px-4 py-1.5 align-top font-medium text-zinc-600 dark:text-zinc-400">
              <span className="break-all">{r.key}</span>
            </th>
            <td
              className={cx('px-4 py-1.5 break-all text-zinc-900 dark:text-zinc-100', mono && 'font-mono text-[12px]')}
            >
              {r.value}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
