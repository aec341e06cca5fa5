import type { LabelProject } from '#shared/contracts/labeling';
import { cx } from '../components/ui';
import { statusShares, type StatusShare } from './model';

const TONE: Record<StatusShare['status'], string> = {
  reviewed: 'bg-emerald-500',
  annotated: 'bg-indigo-500',
  in_progress: 'bg-sky-400',
  open: 'bg-zinc-200 dark:bg-zinc-700',
};

/** One bar with the project's tasks by status (reviewed, annotated, in progress, open) and its legend. */
export function ProjectProgress({ stats, className }: { stats: LabelProject['stats']; className?: string }) {
  const shares = statusShares(stats);
  const done = stats.annotated + stats.reviewed;
  return (
    <div className={className}>
      <div
        role="img"
        aria-label={`${done} of ${stats.tasks} tasks annotated or reviewed`}
        className="flex h-2 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        {shares
          .filter((s) => s.status !== 'open' && s.count > 0)
          .map((s) => (
            <div key={s.status} className={cx('h-full', TONE[s.status])} style={{ width: `${s.fraction * 100}%` }} />
          ))}
      </div>
      <ul className="mt-1.5 flex flex-wrap gap-x-4 gap-y-1 text-[12px] text-zinc-600 dark:text-zinc-400">
        {shares.map((s) => (
          <li key={s.status} className="flex items-center gap-1.5" data-testid={`progress-${s.status}`}>
            <span className={cx('size-2 rounded-full', TONE[s.status])} aria-hidden="true" />
            <span className="font-medium text-zinc-900 tabular-nums dark:text-zinc-100">
              {s.count.toLocaleString('en-US')}
            </span>
            {s.label}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Who answered how many tasks (and skipped how many). */
export function AnnotatorCounts({ stats }: { stats: LabelProject['stats'] }) {
  if (stats.annotators.length === 0) return <p className="text-[12px] text-zinc-500">No answers yet.</p>;
  return (
    <ul className="flex flex-wrap gap-1.5" aria-label="Answers per annotator">
      {stats.annotators.map((a) => (
        <li
          key={a.name}
          className="rounded-full bg-zinc-100 px-2 py-0.5 text-[12px] text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
        >
          <span className="font-medium">{a.name}</span> {a.submitted}
          {a.skipped > 0 && <span className="text-zinc-500 dark:text-zinc-400"> · {a.skipped} skipped</span>}
        </li>
      ))}
    </ul>
  );
}
