import type { ButtonHTMLAttributes, ReactNode } from 'react';
import type { JobStatus } from '#shared/contracts/jobs';

/** Joins class names, skipping the falsy ones. */
export function cx(...parts: (string | false | null | undefined)[]): string {
  return parts.filter(Boolean).join(' ');
}

type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost' | 'ghost-danger';

const BUTTON: Record<ButtonVariant, string> = {
  primary: 'bg-indigo-600 text-white shadow-sm hover:bg-indigo-500 disabled:hover:bg-indigo-600',
  secondary:
    'border border-zinc-300 bg-white text-zinc-800 shadow-sm hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-800 dark:text-zinc-100 dark:hover:bg-zinc-700',
  danger: 'bg-red-600 text-white shadow-sm hover:bg-red-500 disabled:hover:bg-red-600',
  ghost:
    'text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100',
  /** A ghost button on a red (error) background. */
  'ghost-danger': 'text-red-800 hover:bg-red-100 dark:text-red-200 dark:hover:bg-red-900/40',
};

const BUTTON_SIZE = {
  xs: 'h-5 px-1 text-xs',
  sm: 'h-7 px-2.5 text-xs',
  md: 'h-8 px-3 text-[13px]',
};

export function Button({
  variant = 'secondary',
  size = 'md',
  className,
  type = 'button',
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: ButtonVariant;
  size?: keyof typeof BUTTON_SIZE;
  /** Placement only (margins, width): size and colours come from `size` and `variant`. */
  className?: string;
}) {
  return (
    <button
      type={type}
      className={cx(
        'inline-flex shrink-0 items-center justify-center gap-1.5 rounded-md font-medium whitespace-nowrap transition-colors disabled:cursor-not-allowed disabled:opacity-50',
        BUTTON_SIZE[size],
        BUTTON[variant],
        className,
      )}
      {...props}
    />
  );
}

export function Card({
  title,
  icon,
  actions,
  children,
  className,
  bodyClassName,
  ...rest
}: {
  title?: ReactNode;
  icon?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  bodyClassName?: string;
  id?: string;
  'data-testid'?: string;
}) {
  return (
    <section
      className={cx(
        'rounded-lg border border-zinc-200 bg-white shadow-xs dark:border-zinc-800 dark:bg-zinc-900',
        className,
      )}
      {...rest}
    >
      {(title || actions) && (
        <header className="flex min-h-10 items-center justify-between gap-3 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
          <h2 className="flex items-center gap-2 text-[13px] font-semibold text-zinc-900 dark:text-zinc-100">
            {icon && <span className="text-zinc-400 dark:text-zinc-500">{icon}</span>}
            {title}
          </h2>
          {actions && <div className="flex items-center gap-2">{actions}</div>}
        </header>
      )}
      <div className={bodyClassName ?? 'p-4'}>{children}</div>
    </section>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="mb-5 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-lg font-semibold tracking-tight text-zinc-900 dark:text-zinc-50">{title}</h1>
        {description && <p className="mt-0.5 text-zinc-500 dark:text-zinc-400">{description}</p>}
      </div>
      {actions && <div className="flex items-center gap-2">{actions}</div>}
    </div>
  );
}

type Tone = 'indigo' | 'emerald' | 'amber' | 'red' | 'sky';
const BAR: Record<Tone, string> = {
  indigo: 'bg-indigo-500',
  emerald: 'bg-emerald-500',
  amber: 'bg-amber-500',
  red: 'bg-red-500',
  sky: 'bg-sky-500',
};

/** A thin bar for a fraction 0..1; null draws an empty track (unknown). */
export function ProgressBar({
  value,
  tone = 'indigo',
  label,
  className,
}: {
  value: number | null;
  tone?: Tone;
  label: string;
  className?: string;
}) {
  const pct = value === null ? 0 : Math.round(Math.min(1, Math.max(0, value)) * 1000) / 10;
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === null ? undefined : pct}
      className={cx('h-1.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800', className)}
    >
      <div
        className={cx('h-full rounded-full transition-[width] duration-500', BAR[tone])}
        style={{ width: `${pct}%` }}
      />
    </div>
  );
}

/** Green under 70 %, amber under 90 %, red above: for load and memory. */
export function loadTone(fraction: number | null): Tone {
  if (fraction === null || fraction < 0.7) return 'emerald';
  return fraction < 0.9 ? 'amber' : 'red';
}

const STATUS: Record<JobStatus, string> = {
  queued: 'bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-700',
  running: 'bg-sky-50 text-sky-700 ring-sky-200 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-800',
  succeeded:
    'bg-emerald-50 text-emerald-700 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800',
  failed: 'bg-red-50 text-red-700 ring-red-200 dark:bg-red-950 dark:text-red-300 dark:ring-red-800',
  cancelled: 'bg-amber-50 text-amber-800 ring-amber-200 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800',
};

export function StatusBadge({ status }: { status: JobStatus }) {
  return (
    <span
      data-testid="job-status"
      className={cx(
        'inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium ring-1 ring-inset',
        STATUS[status],
      )}
    >
      {status === 'running' && <span className="size-1.5 animate-pulse rounded-full bg-current" />}
      {status}
    </span>
  );
}

export function Chip({ children }: { children: ReactNode }) {
  return (
    <span className="inline-flex items-center rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[11px] text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
      {children}
    </span>
  );
}

/**
 * A spinning ring: `small` beside a line of small text, `inverted` on a coloured button. Size and colours are props,
 * not classes to add: two Tailwind classes for one property would be settled by the stylesheet's order.
 */
export function Spinner({
  small = false,
  inverted = false,
  className,
}: {
  small?: boolean;
  inverted?: boolean;
  /** Placement only (margins, alignment, visibility). */
  className?: string;
}) {
  return (
    <span
      aria-hidden="true"
      className={cx(
        'inline-block animate-spin rounded-full border-2',
        small ? 'size-3' : 'size-4',
        inverted ? 'border-white/40 border-t-white' : 'border-zinc-300 border-t-indigo-500 dark:border-zinc-700',
        className,
      )}
    />
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center px-4 py-8 text-center">
      <p className="font-medium text-zinc-700 dark:text-zinc-300">{title}</p>
      {children && <div className="mt-1 max-w-md text-zinc-500 dark:text-zinc-400">{children}</div>}
    </div>
  );
}

export function Muted({ children, className }: { children: ReactNode; className?: string }) {
  return <span className={cx('text-zinc-500 dark:text-zinc-400', className)}>{children}</span>;
}

const INPUT =
  'rounded-md border border-zinc-300 bg-white px-2.5 text-zinc-900 shadow-xs placeholder:text-zinc-400 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100 dark:placeholder:text-zinc-600';

/**
 * A form field's classes. Its size and type are options, not classes added after: two Tailwind classes for one
 * property are settled by the stylesheet's order (w-full beat an added w-28, text-[13px] an added text-[12px]).
 * `width` and `height` are w-* and h-* classes (default w-full and h-8; h-auto when `multiline`), `multiline` a
 * textarea that grows and resizes vertically, `mono` code and JSON in 12 px monospace.
 */
export function inputClasses({
  width = 'w-full',
  height,
  multiline = false,
  mono = false,
}: { width?: string; height?: string; multiline?: boolean; mono?: boolean } = {}): string {
  return cx(
    INPUT,
    width,
    height ?? (multiline ? 'h-auto' : 'h-8'),
    multiline && 'resize-y py-1.5',
    mono ? 'font-mono text-[12px]' : 'text-[13px]',
  );
}

export const inputClass = inputClasses();

/** A row of toggle buttons that filter a list by one value; "All" clears the filter. */
export function FilterButtons<T extends string>({
  label,
  values,
  value,
  onChange,
}: {
  label: string;
  values: readonly T[];
  value: T | undefined;
  onChange: (value: T | undefined) => void;
}) {
  return (
    <div role="group" aria-label={label} className="mb-3 flex flex-wrap gap-1">
      {[undefined, ...values].map((v) => (
        <button
          key={v ?? 'all'}
          type="button"
          aria-pressed={value === v}
          onClick={() => onChange(v)}
          className={cx(
            'h-7 rounded-md px-2.5 text-[12px] font-medium transition-colors first-letter:uppercase',
            value === v
              ? 'bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900'
              : 'text-zinc-600 hover:bg-zinc-200/60 dark:text-zinc-400 dark:hover:bg-zinc-800',
          )}
        >
          {v ?? 'All'}
        </button>
      ))}
    </div>
  );
}
