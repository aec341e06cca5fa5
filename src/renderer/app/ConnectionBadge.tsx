import { useEvents } from '../lib/events';
import { useNow } from '../lib/hooks';
import { cx } from '../components/ui';

/** The live-event socket's state: green when events stream, amber with a countdown while it reconnects. */
export function ConnectionBadge() {
  const connection = useEvents((s) => s.connection);
  const now = useNow(500);
  let dot = 'bg-zinc-400';
  let text = 'Connecting…';
  if (connection.state === 'open') {
    dot = 'bg-emerald-500';
    text = 'Live';
  } else if (connection.state === 'reconnecting') {
    dot = 'bg-amber-500';
    const s = Math.max(0, Math.ceil((connection.retryAt - now) / 1000));
    text = s > 0 ? `Disconnected · retrying in ${s}s` : 'Reconnecting…';
  }
  return (
    <p
      className="flex items-center gap-2 text-[12px] text-zinc-500 dark:text-zinc-400"
      data-testid="connection"
      data-state={connection.state}
    >
      <span
        className={cx(
          'size-2 rounded-full',
          dot,
          connection.state === 'open' && 'shadow-[0_0_0_3px] shadow-emerald-500/20',
        )}
      />
      {text}
    </p>
  );
}
