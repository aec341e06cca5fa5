import { useInfiniteQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import type { RequestLogEntry } from '#shared/contracts/deploy';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { formatDateTime, formatTime } from '../lib/format';
import { deployKeys } from './queries';
import { inputPreview, sampleRateText } from './request-log';
import { formatMs } from './stats';

const PAGE_SIZE = 25;

const STATUS: Record<RequestLogEntry['status'], string> = {
  ok: 'text-emerald-700 dark:text-emerald-400',
  error: 'text-red-700 dark:text-red-400',
  cancelled: 'text-amber-700 dark:text-amber-400',
};

/**
 * The deployment's request log, newest first, a page at a time; a row opens to show the whole input and output.
 * The page refreshes it when the request counter moves (there is no event per request).
 */
export function RequestLog({ name, sampleRate }: { name: string; sampleRate: number }) {
  const api = useApi();
  const [open, setOpen] = useState<string | null>(null);
  const logs = useInfiniteQuery({
    queryKey: deployKeys.logs(name),
    queryFn: ({ pageParam }) => api.call('deployments.logs', { deployment: name, limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 0,
  });
  const items = logs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card
      title="Request log"
      bodyClassName="overflow-x-auto p-0"
      data-testid="request-log"
      actions={<Muted className="text-[12px]">Keeps {sampleRateText(sampleRate)}</Muted>}
    >
      {logs.isError && <ErrorBanner className="m-3" error={logs.error} onRetry={() => void logs.refetch()} />}
      {logs.isPending ? (
        <div className="flex items-center gap-2 p-6 text-zinc-500">
          <Spinner /> Loading the request log…
        </div>
      ) : items.length === 0 ? (
        <EmptyState title="No requests logged yet">Try the playground, or one of the snippets.</EmptyState>
      ) : (
        <table className="w-full table-fixed text-left" aria-label="Request log">
          <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="w-24 px-4 py-2 font-medium">Time</th>
              <th className="w-24 px-4 py-2 font-medium">Endpoint</th>
              <th className="w-24 px-4 py-2 font-medium">Status</th>
              <th className="w-24 px-4 py-2 text-right font-medium">Duration</th>
              <th className="w-28 px-4 py-2 text-right font-medium">Tokens</th>
              <th className="px-4 py-2 font-medium">Input</th>
              <th className="px-4 py-2 font-medium">Output</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {items.map((entry) => (
              <Fragment key={entry.id}>
                <tr
                  data-testid="request-row"
                  data-status={entry.status}
                  aria-expanded={open === entry.id}
                  onClick={() => setOpen(open === entry.id ? null : entry.id)}
                  className={cx(
                    'cursor-pointer align-top',
                    open === entry.id ? 'bg-zinc-50 dark:bg-zinc-800/40' : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
                  )}
                >
                  <td className="px-4 py-2 whitespace-nowrap tabular-nums" title={formatDateTime(entry.at)}>
                    {formatTime(entry.at)}
                  </td>
                  <td className="px-4 py-2 font-mono text-[12px]">{entry.endpoint}</td>
                  <td className={cx('px-4 py-2 whitespace-nowrap', STATUS[entry.status])}>
                    {entry.status}
                    {entry.httpStatus !== 200 && <span className="ml-1 tabular-nums">{entry.httpStatus}</span>}
                  </td>
                  <td className="px-4 py-2 text-right whitespace-nowrap tabular-nums">{formatMs(entry.durationMs)}</td>
                  <td className="px-4 py-2 text-right whitespace-nowrap tabular-nums">
                    {entry.promptTokens === null ? (
                      <Muted>—</Muted>
                    ) : (
                      <span title="prompt → completion">
                        {entry.promptTokens} → {entry.completionTokens ?? 0}
                      </span>
                    )}
                  </td>
                  <td className="truncate px-4 py-2 font-mono text-[12px]" data-testid="request-input">
                    {inputPreview(entry.input).replace(/\n/g, ' · ')}
                  </td>
                  <td className="truncate px-4 py-2 font-mono text-[12px]" data-testid="request-output">
                    {entry.error ? (
                      <span className="text-red-700 dark:text-red-400">{entry.error}</span>
                    ) : (
                      (entry.output ?? <Muted>—</Muted>)
                    )}
                  </td>
                </tr>
                {open === entry.id && (
                  <tr className="bg-zinc-50 dark:bg-zinc-800/40">
                    <td colSpan={7} className="px-4 pb-3">
                      <div className="grid grid-cols-1 gap-3 lg:grid-cols-2">
                        <LogText label="Input" text={inputPreview(entry.input)} />
                        <LogText label={entry.error ? 'Error' : 'Output'} text={entry.error ?? entry.output ?? ''} />
                      </div>
                      {entry.truncated && (
                        <Muted className="mt-1 block text-[12px]">Cut to the deployment’s request log size.</Muted>
                      )}
                      {/* What its ground-truth label refers to (POST …/labels), as the client got it in x-aidos-request-id. */}
                      <Muted className="mt-1 block text-[12px]">
                        Request id{' '}
                        <span className="font-mono select-all" data-testid="request-id">
                          {entry.id}
                        </span>
                        {entry.modelVersion !== null && ` · answered by v${entry.modelVersion}`}
                      </Muted>
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
      {logs.hasNextPage && (
        <div className="flex justify-center border-t border-zinc-200 p-2 dark:border-zinc-800">
          <Button size="sm" onClick={() => void logs.fetchNextPage()} disabled={logs.isFetchingNextPage}>
            {logs.isFetchingNextPage ? 'Loading…' : 'Older requests'}
          </Button>
        </div>
      )}
    </Card>
  );
}

function LogText({ label, text }: { label: string; text: string }) {
  return (
    <div className="min-w-0">
      <p className="mb-1 text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">{label}</p>
      <pre className="max-h-64 overflow-auto rounded-md border border-zinc-200 bg-white p-2 font-mono text-[12px] whitespace-pre-wrap text-zinc-800 [overflow-wrap:anywhere] dark:border-zinc-800 dark:bg-zinc-950 dark:text-zinc-200">
        {text}
      </pre>
    </div>
  );
}
