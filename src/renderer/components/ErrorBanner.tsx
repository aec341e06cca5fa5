import { describeError } from '../lib/errors';
import { AlertIcon } from './icons';
import { Button, cx } from './ui';

/** Shows an API error (code title + the server's message) where the failed data would have been. */
export function ErrorBanner({
  error,
  title,
  onRetry,
  className,
}: {
  error: unknown;
  /** Replaces the title derived from the error code, when the context says more. */
  title?: string;
  onRetry?: () => void;
  className?: string;
}) {
  const d = describeError(error);
  return (
    <div
      role="alert"
      className={cx(
        'flex items-start gap-3 rounded-md border border-red-200 bg-red-50 px-3 py-2.5 text-red-800 dark:border-red-900/70 dark:bg-red-950/50 dark:text-red-200',
        className,
      )}
    >
      <AlertIcon className="mt-0.5 shrink-0" />
      <div className="min-w-0 flex-1">
        <p className="font-medium">
          {title ?? d.title}
          {d.code && <span className="ml-2 font-mono text-[11px] font-normal opacity-70">{d.code}</span>}
        </p>
        <p className="break-words opacity-90">{d.message}</p>
      </div>
      {onRetry && (
        <Button size="sm" variant="ghost-danger" onClick={onRetry}>
          Retry
        </Button>
      )}
    </div>
  );
}
