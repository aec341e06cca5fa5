import { useInfiniteQuery } from '@tanstack/react-query';
import type { DatasetVersion } from '#shared/contracts/dataforge';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, EmptyState, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes } from '../lib/format';
import { FileIcon, FolderIcon, TableIcon } from './icons';
import { breadcrumbs, isTablePath, listFolder, versionLabel } from './model';

const PAGE_SIZE = 1000;

/**
 * A version's files as a file browser: the folders and files inside `prefix`, with breadcrumbs. The API lists
 * every file below the prefix in path order, a page at a time; folders are summed from the pages loaded so far.
 */
export function FilesTab({
  dataset,
  version,
  prefix,
  onPrefix,
  onOpenTable,
}: {
  dataset: string;
  version: DatasetVersion;
  prefix: string;
  onPrefix: (prefix: string) => void;
  onOpenTable: (path: string) => void;
}) {
  const api = useApi();
  const files = useInfiniteQuery({
    queryKey: queryKeys.datasetFiles(dataset, version.id, prefix),
    queryFn: ({ pageParam }) =>
      api.call('datasets.files', { dataset, version: version.id, prefix, limit: PAGE_SIZE, after: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
    staleTime: Infinity,
  });
  const entries = files.data?.pages.flatMap((p) => p.items) ?? [];
  const { folders, files: here } = listFolder(entries, prefix);
  const partial = files.hasNextPage;

  return (
    <Card data-testid="files-tab" bodyClassName="p-0">
      <div className="flex min-h-10 items-center justify-between gap-3 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
        <nav aria-label="Folder" className="flex flex-wrap items-center gap-1 text-[13px]">
          <button
            type="button"
            onClick={() => onPrefix('')}
            className="font-semibold text-zinc-900 hover:underline dark:text-zinc-100"
          >
            {dataset} {versionLabel(version)}
          </button>
          {breadcrumbs(prefix).map((crumb) => (
            <span key={crumb.prefix} className="flex items-center gap-1">
              <span className="text-zinc-400 dark:text-zinc-600">/</span>
              <button
                type="button"
                onClick={() => onPrefix(crumb.prefix)}
                className="text-zinc-800 hover:underline dark:text-zinc-200"
                data-testid="crumb"
              >
                {crumb.name}
              </button>
            </span>
          ))}
        </nav>
        {files.data && (
          <Muted className="text-[12px] tabular-nums">
            {entries.length.toLocaleString('en-US')}
            {partial ? '+' : ''} {entries.length === 1 ? 'file' : 'files'}{' '}
            {prefix ? 'in this folder' : 'in this version'}
          </Muted>
        )}
      </div>
      {files.isError && <ErrorBanner className="m-3" error={files.error} onRetry={() => void files.refetch()} />}
      {files.isPending ? (
        <div className="flex items-center gap-2 p-6 text-zinc-500">
          <Spinner /> Listing files…
        </div>
      ) : entries.length === 0 && !files.isError ? (
        <EmptyState title={prefix ? `Nothing in ${prefix}` : 'This version has no files'} />
      ) : (
        <table className="w-full text-left" aria-label="Files">
          <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="px-4 py-2 font-medium">Name</th>
              <th className="px-4 py-2 text-right font-medium">Size</th>
              <th className="px-4 py-2 font-medium">SHA-256</th>
              <th className="px-4 py-2">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {prefix && (
              <tr className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30">
                <td className="px-4 py-1.5" colSpan={4}>
                  <button
                    type="button"
                    onClick={() => onPrefix(breadcrumbs(prefix).at(-2)?.prefix ?? '')}
                    className="flex items-center gap-2 text-zinc-600 hover:underline dark:text-zinc-400"
                  >
                    <FolderIcon className="text-zinc-400" /> ..
                  </button>
                </td>
              </tr>
            )}
            {folders.map((f) => (
              <tr
                key={f.prefix}
                data-testid="folder-row"
                data-name={f.name}
                className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
              >
                <td className="px-4 py-1.5">
                  <button
                    type="button"
                    onClick={() => onPrefix(f.prefix)}
                    className="flex items-center gap-2 font-medium text-zinc-900 hover:underline dark:text-zinc-100"
                  >
                    <FolderIcon className="text-amber-500 dark:text-amber-400" />
                    {f.name}/
                  </button>
                </td>
                <td className="px-4 py-1.5 text-right whitespace-nowrap tabular-nums">
                  {formatBytes(f.bytes)}
                  {partial ? '+' : ''}
                </td>
                <td className="px-4 py-1.5" colSpan={2}>
                  <Muted className="text-[12px]">
                    {f.files.toLocaleString('en-US')}
                    {partial ? '+' : ''} {f.files === 1 ? 'file' : 'files'}
                  </Muted>
                </td>
              </tr>
            ))}
            {here.map(({ name, entry }) => (
              <tr
                key={entry.path}
                data-testid="file-row"
                data-path={entry.path}
                className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
              >
                <td className="px-4 py-1.5">
                  <span className="flex items-center gap-2 text-zinc-800 dark:text-zinc-200">
                    {isTablePath(entry.path) ? (
                      <TableIcon className="text-emerald-600 dark:text-emerald-400" />
                    ) : (
                      <FileIcon className="text-zinc-400" />
                    )}
                    {name}
                  </span>
                </td>
                <td className="px-4 py-1.5 text-right whitespace-nowrap tabular-nums">{formatBytes(entry.size)}</td>
                <td className="px-4 py-1.5 font-mono text-[11px] text-zinc-500 dark:text-zinc-400" title={entry.sha256}>
                  {entry.sha256.slice(0, 12)}
                </td>
                <td className="px-4 py-1.5 text-right">
                  {isTablePath(entry.path) && (
                    <button
                      type="button"
                      onClick={() => onOpenTable(entry.path)}
                      aria-label={`View rows of ${entry.path}`}
                      className="text-[12px] font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                    >
                      View rows
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {files.hasNextPage && (
        <div className="flex items-center justify-center gap-3 border-t border-zinc-200 py-2 dark:border-zinc-800">
          <Muted className="text-[12px]">Folder sizes and counts cover the files loaded so far.</Muted>
          <Button size="sm" onClick={() => void files.fetchNextPage()} disabled={files.isFetchingNextPage}>
            {files.isFetchingNextPage ? 'Loading…' : 'Load more files'}
          </Button>
        </div>
      )}
    </Card>
  );
}
