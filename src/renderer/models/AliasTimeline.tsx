import { useQuery } from '@tanstack/react-query';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, Muted, Spinner } from '../components/ui';
import { runColor } from '../experiments/charts';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';
import { aliasTimeline, describeMove, spanBox } from './timeline';

/**
 * Which version held which alias when: one lane per alias with a bar per holder, and below it every move,
 * newest first, with who made it.
 */
export function AliasTimeline({ name, versions }: { name: string; versions: readonly number[] }) {
  const api = useApi();
  const now = useNow(30_000);
  const history = useQuery({
    queryKey: [...queryKeys.model(name), 'history'],
    queryFn: () => api.call('models.history', { name }),
  });
  const moves = history.data?.items ?? [];
  const lanes = aliasTimeline(moves);
  const start = moves[0]?.at ?? now;
  const end = Math.max(now, moves.at(-1)?.at ?? now);
  const colorOf = (version: number) => runColor(Math.max(0, [...versions].sort((a, b) => a - b).indexOf(version)));

  return (
    <Card title="Alias timeline" data-testid="alias-timeline">
      {history.isError && <ErrorBanner error={history.error} />}
      {history.isPending ? (
        <div className="flex items-center gap-2 text-zinc-500">
          <Spinner /> Loading the history…
        </div>
      ) : moves.length === 0 ? (
        <Muted>No alias has been set yet.</Muted>
      ) : (
        <div className="space-y-4">
          {lanes.size > 0 && (
            <div className="space-y-1.5" aria-hidden="true">
              {[...lanes].map(([alias, spans]) => (
                <div key={alias} className="flex items-center gap-3">
                  <span className="w-28 shrink-0 truncate text-right text-[12px] font-medium text-violet-700 dark:text-violet-300">
                    @{alias}
                  </span>
                  <div className="relative h-5 flex-1 overflow-hidden rounded bg-zinc-100 dark:bg-zinc-800/70">
                    {spans.map((span) => {
                      const box = spanBox(span, start, end);
                      return (
                        <div
                          key={`${span.version}:${span.from}`}
                          className="absolute inset-y-0 flex items-center overflow-hidden rounded px-1 text-[10px] font-semibold text-white"
                          style={{
                            // At least wide enough for its label, kept inside the lane when it starts near now.
                            left: `min(${box.left * 100}%, 100% - 1.75rem)`,
                            width: `max(${box.width * 100}%, 1.75rem)`,
                            background: colorOf(span.version),
                          }}
                          title={`v${span.version}: ${formatDateTime(span.from)} – ${span.to ? formatDateTime(span.to) : 'now'}`}
                        >
                          v{span.version}
                        </div>
                      );
                    })}
                  </div>
                </div>
              ))}
              <div className="flex justify-between pl-31 text-[11px] text-zinc-500 dark:text-zinc-400">
                <span>{formatDateTime(start)}</span>
                <span>now</span>
              </div>
            </div>
          )}
          <ol aria-label="Alias moves" className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {[...moves].reverse().map((move, i) => (
              <li
                key={`${move.at}:${i}`}
                data-testid="alias-move"
                data-alias={move.name}
                data-version={move.version ?? ''}
                className="flex flex-wrap items-baseline justify-between gap-2 py-1.5"
              >
                <span>
                  <span className="font-medium">{describeMove(move)}</span>
                  {move.kind === 'stage' && <Muted> (stage)</Muted>}
                  <Muted> · by </Muted>
                  <span data-testid="alias-move-actor" className="font-mono text-[12px]">
                    {move.actor}
                  </span>
                </span>
                <Muted className="text-[12px]">
                  <span title={formatDateTime(move.at)}>{formatRelative(move.at, now)}</span>
                </Muted>
              </li>
            ))}
          </ol>
        </div>
      )}
    </Card>
  );
}
