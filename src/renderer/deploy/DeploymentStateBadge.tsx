import type { DeploymentState } from '#shared/contracts/deploy';
import { cx } from '../components/ui';

const STATE: Record<DeploymentState, string> = {
  pending: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  loading: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  ready:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  'idle-unloaded':
    'bg-violet-50 text-violet-700 ring-violet-200 dark:bg-violet-950 dark:text-violet-300 dark:ring-violet-800',
  stopped: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
  failed: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
};

/** A deployment's state as a small pill; a loading one's dot pulses, a ready one's glows steady. */
export function DeploymentStateBadge({ state }: { state: DeploymentState }) {
  return (
    <span
      data-testid="deployment-state"
      data-state={state}
      className={cx(
        'inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium whitespace-nowrap ring-1 ring-inset',
        STATE[state],
      )}
    >
      {(state === 'loading' || state === 'ready') && (
        <span className={cx('size-1.5 rounded-full bg-current', state === 'loading' && 'animate-pulse')} />
      )}
      {state === 'idle-unloaded' ? 'idle (unloaded)' : state}
    </span>
  );
}
