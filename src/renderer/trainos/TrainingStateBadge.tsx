import type { TrainingJobState } from '#shared/contracts/trainos';
import { cx } from '../components/ui';

const STATE: Record<TrainingJobState, string> = {
  queued: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  running: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  succeeded:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  failed: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  cancelled: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
  'timed-out':
    'bg-orange-50 text-orange-800 ring-orange-200 dark:bg-orange-950 dark:text-orange-300 dark:ring-orange-800',
};

/** A training job's state as a small pill, like the task queue's; a running job's dot pulses. */
export function TrainingStateBadge({ state }: { state: TrainingJobState }) {
  return (
    <span
      data-testid="training-job-state"
      data-state={state}
      className={cx(
        'inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium whitespace-nowrap ring-1 ring-inset',
        STATE[state],
      )}
    >
      {state === 'running' && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
      {state}
    </span>
  );
}
