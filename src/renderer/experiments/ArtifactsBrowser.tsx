import { useQuery } from '@tanstack/react-query';
import { ErrorBanner } from '../components/ErrorBanner';
import { Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { FileIcon, FolderIcon } from '../datasets/icons';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes } from '../lib/format';
import { baseName, folderCrumbs, prettyJson, previewKind, previewRows, readHead, PREVIEW_BYTES } from './artifacts';

/**
 * A run's artifacts: the folders and files in `folder` (sizes from the store), with a preview of the chosen
 * file beside them: images inline, text, JSON and CSV shown (their first 200 KB), anything else to download.
 */
export function ArtifactsBrowser({
  runId,
  folder,
  file,
  onOpen,
}: {
  runId: string;
  folder: string;
  file: string | null;
  onOpen: (place: { folder: string; file: string | null }) => void;
}) {
  const api = useApi();
  const listing = useQuery({
    queryKey: queryKeys.runArtifacts(runId, folder),
    queryFn: () => api.call('runs.artifacts', { run: runId, path: folder }),
  });
  const entries = [...(listing.data?.items ?? [])].sort(
    (a, b) => Number(b.isDir) - Number(a.isDir) || a.path.localeCompare(b.path),
  );
  const chosen = entries.find((e) => e.path === file && !e.isDir);

  return (
    <div className="grid grid-cols-1 gap-3 lg:grid-cols-[minmax(260px,2fr)_3fr]">
      <Card bodyClassName="p-0" data-testid="artifacts">
        <div className="flex min-h-10 items-center border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
          <nav aria-label="Artifact folder" className="flex flex-wrap items-center gap-1 text-[13px]">
            <button
              type="button"
              onClick={() => onOpen({ folder: '', file: null })}
              className="font-semibold text-zinc-900 hover:underline dark:text-zinc-100"
            >
              artifacts
            </button>
            {folderCrumbs(folder).map((crumb) => (
              <span key={crumb.path} className="flex items-center gap-1">
                <span className="text-zinc-400 dark:text-zinc-600">/</span>
                <button
                  type="button"
                  onClick={() => onOpen({ folder: crumb.path, file: null })}
                  className="text-zinc-800 hover:underline dark:text-zinc-200"
                >
                  {crumb.name}
                </button>
              </span>
            ))}
          </nav>
        </div>
        {listing.isError && <ErrorBanner className="m-3" error={listing.error} />}
        {listing.isPending ? (
          <div className="flex items-center gap-2 p-4 text-zinc-500">
            <Spinner /> Listing artifacts…
          </div>
        ) : entries.length === 0 && !listing.isError ? (
          <EmptyState title={folder ? `Nothing in ${folder}` : 'This run has no artifacts'} />
        ) : (
          <table className="w-full text-left" aria-label="Artifacts">
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
              {entries.map((entry) => (
                <tr
                  key={entry.path}
                  data-testid="artifact-row"
                  data-path={entry.path}
                  aria-selected={entry.path === file}
                  className={cx(
                    entry.path === file
                      ? 'bg-indigo-50 dark:bg-indigo-950/40'
                      : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
                  )}
                >
                  <td className="px-4 py-1.5">
                    <button
                      type="button"
                      onClick={() =>
                        onOpen(entry.isDir ? { folder: entry.path, file: null } : { folder, file: entry.path })
                      }
                      className="flex items-center gap-2 text-left text-zinc-800 hover:underline dark:text-zinc-200"
                    >
                      {entry.isDir ? (
                        <FolderIcon className="shrink-0 text-amber-500 dark:text-amber-400" />
                      ) : (
                        <FileIcon className="shrink-0 text-zinc-400" />
                      )}
                      <span className="break-all">
                        {baseName(entry.path)}
                        {entry.isDir ? '/' : ''}
                      </span>
                    </button>
                  </td>
                  <td className="px-4 py-1.5 text-right whitespace-nowrap text-zinc-500 tabular-nums dark:text-zinc-400">
                    {entry.size === null ? '' : formatBytes(entry.size)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card
        title={chosen ? <span className="break-all">{chosen.path}</span> : 'Preview'}
        actions={
          chosen && (
            <a
              href={api.url('runs.artifact', { run: runId, path: chosen.path })}
              download={baseName(chosen.path)}
              className="text-[12px] font-medium text-indigo-700 hover:underline dark:text-indigo-400"
            >
              Download
            </a>
          )
        }
        data-testid="artifact-preview"
        bodyClassName="p-0"
      >
        {chosen ? (
          <Preview runId={runId} path={chosen.path} size={chosen.size} />
        ) : (
          <EmptyState title="Choose a file to preview it" />
        )}
      </Card>
    </div>
  );
}

function Preview({ runId, path, size }: { runId: string; path: string; size: number | null }) {
  const api = useApi();
  const kind = previewKind(path);
  const url = api.url('runs.artifact', { run: runId, path });
  const head = useQuery({
    queryKey: [...queryKeys.runArtifacts(runId, path), 'head'],
    queryFn: () => readHead(url),
    enabled: kind !== 'image' && kind !== 'other',
    staleTime: 60_000,
  });
  if (kind === 'image') {
    return (
      <div className="flex justify-center bg-[repeating-conic-gradient(#f4f4f5_0_25%,#fff_0_50%)] bg-[length:16px_16px] p-3 dark:bg-[repeating-conic-gradient(#18181b_0_25%,#27272a_0_50%)]">
        <img src={url} alt={path} data-testid="artifact-image" className="max-h-[60vh] max-w-full object-contain" />
      </div>
    );
  }
  if (kind === 'other') {
    return (
      <EmptyState title="No preview for this kind of file">
        {size !== null && `${formatBytes(size)} · `}
        <a href={url} download={baseName(path)} className="text-indigo-700 hover:underline dark:text-indigo-400">
          Download it
        </a>
      </EmptyState>
    );
  }
  if (head.isError) return <ErrorBanner className="m-3" error={head.error} title="Cannot read this file" />;
  if (!head.data) {
    return (
      <div className="flex items-center gap-2 p-4 text-zinc-500">
        <Spinner /> Reading…
      </div>
    );
  }
  const { text, complete } = head.data;
  const cut = !complete && (
    <p className="border-t border-zinc-200 px-4 py-2 text-[12px] text-zinc-500 dark:border-zinc-800 dark:text-zinc-400">
      The first {formatBytes(PREVIEW_BYTES)}
      {size !== null && ` of ${formatBytes(size)}`} are shown; download the file for the rest.
    </p>
  );
  if (kind === 'table') {
    const rows = previewRows(text, path.toLowerCase().endsWith('.tsv'), complete);
    const [header = [], ...body] = rows;
    return (
      <div data-testid="artifact-text">
        <div className="max-h-[60vh] overflow-auto">
          <table className="w-full text-left font-mono text-[12px]" aria-label={`Rows of ${baseName(path)}`}>
            <thead className="sticky top-0 bg-zinc-50 dark:bg-zinc-900">
              <tr>
                {header.map((h, i) => (
                  <th key={i} className="border-b border-zinc-200 px-3 py-1.5 font-semibold dark:border-zinc-800">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
              {body.map((row, r) => (
                <tr key={r}>
                  {row.map((cell, c) => (
                    <td key={c} className="px-3 py-1 whitespace-nowrap">
                      {cell}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {body.length >= 199 && <Muted className="block px-4 py-2 text-[12px]">The first 200 rows are shown.</Muted>}
        {cut}
      </div>
    );
  }
  return (
    <div>
      <pre
        data-testid="artifact-text"
        className="max-h-[60vh] overflow-auto px-4 py-3 font-mono text-[12px] leading-relaxed whitespace-pre-wrap text-zinc-800 dark:text-zinc-200"
      >
        {kind === 'json' ? prettyJson(text, complete) : text}
      </pre>
      {cut}
    </div>
  );
}
