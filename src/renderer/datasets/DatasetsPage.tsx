import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import type { Dataset } from '#shared/contracts/dataforge';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import { Button, Card, Chip, EmptyState, Muted, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';
import { DropOverlay, useFileDrop } from './drop';
import { ImportDialog } from './ImportDialog';
import { versionLabel } from './model';
import type { PickedFile } from './upload';
import { UploadDialog } from './UploadDialog';

const PAGE_SIZE = 100;

/** Every dataset, newest first, with its latest version; live through dataset events. */
export function DatasetsPage() {
  const api = useApi();
  const [importing, setImporting] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [dropped, setDropped] = useState<{ id: number; files: PickedFile[] } | null>(null);
  const dragging = useFileDrop((files) => {
    setDropped({ id: Date.now(), files });
    setUploading(true);
  });
  const datasets = useInfiniteQuery({
    queryKey: queryKeys.datasetsList,
    queryFn: ({ pageParam }) => api.call('datasets.list', { limit: PAGE_SIZE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = datasets.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div data-testid="datasets-page">
      <PageHeader
        title="Datasets"
        description="Versioned data: every import is an immutable version; identical files are stored once."
        actions={
          <>
            <Button onClick={() => setUploading(true)}>Upload files…</Button>
            <Button variant="primary" onClick={() => setImporting(true)}>
              <PlusIcon width={14} height={14} /> Import from a folder…
            </Button>
          </>
        }
      />
      {datasets.isError && (
        <ErrorBanner className="mb-3" error={datasets.error} onRetry={() => void datasets.refetch()} />
      )}
      <Card bodyClassName="overflow-x-auto p-0">
        {datasets.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading datasets…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title="No datasets yet">
            <p>
              Import a folder of files (CSV, JSONL, images, anything) and it becomes version 1; import it again after a
              change and you get version 2, with a diff. From a terminal:
            </p>
            <pre className="mt-2 rounded-md bg-zinc-100 px-3 py-2 text-left font-mono text-[12px] text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
              aidos datasets import &lt;path&gt;
            </pre>
            <p className="mt-1 text-[12px]">
              The dataset is named after the folder unless you pass <code className="font-mono">--name</code>.
            </p>
            <p className="mt-2">Or drop files or a folder from this computer anywhere on this page.</p>
            <Button className="mt-3" variant="primary" onClick={() => setImporting(true)}>
              Import from a folder…
            </Button>
          </EmptyState>
        ) : (
          <DatasetsTable datasets={items} />
        )}
      </Card>
      {datasets.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <Button onClick={() => void datasets.fetchNextPage()} disabled={datasets.isFetchingNextPage}>
            {datasets.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        </div>
      )}
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
      <UploadDialog open={uploading} onClose={() => setUploading(false)} incoming={dropped} />
      <DropOverlay show={dragging && !uploading} label="Drop files or a folder to upload them as a new dataset" />
    </div>
  );
}

function DatasetsTable({ datasets }: { datasets: Dataset[] }) {
  const now = useNow(15_000);
  return (
    <table className="w-full text-left" aria-label="Datasets">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Name</th>
          <th className="px-4 py-2 text-right font-medium">Versions</th>
          <th className="px-4 py-2 font-medium">Latest version</th>
          <th className="px-4 py-2 text-right font-medium">Files</th>
          <th className="px-4 py-2 text-right font-medium">Size</th>
          <th className="px-4 py-2 font-medium">Updated</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {datasets.map((d) => (
          <tr
            key={d.id}
            data-testid="dataset-row"
            data-name={d.name}
            className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
          >
            <td className="px-4 py-2.5">
              <Link
                to={`/datasets/${encodeURIComponent(d.name)}`}
                className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
              >
                {d.name}
              </Link>
              {d.description && (
                <p className="max-w-md truncate text-[12px] text-zinc-500 dark:text-zinc-400">{d.description}</p>
              )}
            </td>
            <td className="px-4 py-2.5 text-right tabular-nums" data-testid="dataset-versions">
              {d.versionCount}
            </td>
            <td className="px-4 py-2.5" data-testid="dataset-latest">
              {d.latest ? (
                <span className="inline-flex items-center gap-1.5">
                  <span className="font-medium tabular-nums">{versionLabel(d.latest)}</span>
                  <Chip>{d.latest.kind}</Chip>
                  {d.latest.tags.map((t) => (
                    <TagChip key={t} tag={t} />
                  ))}
                </span>
              ) : (
                <Muted>no versions</Muted>
              )}
            </td>
            <td className="px-4 py-2.5 text-right tabular-nums">
              {d.latest ? d.latest.fileCount.toLocaleString('en-US') : <Muted>—</Muted>}
            </td>
            <td className="px-4 py-2.5 text-right whitespace-nowrap tabular-nums">
              {d.latest ? formatBytes(d.latest.totalBytes) : <Muted>—</Muted>}
            </td>
            <td className="px-4 py-2.5 whitespace-nowrap" title={new Date(d.updatedAt).toISOString()}>
              {formatRelative(d.updatedAt, now)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A version tag ("golden"): indigo, to stand apart from the grey kind chips. */
export function TagChip({ tag, onRemove, removing }: { tag: string; onRemove?: () => void; removing?: boolean }) {
  return (
    <span
      data-testid="tag-chip"
      data-tag={tag}
      className="inline-flex items-center gap-0.5 rounded-full bg-indigo-50 py-0.5 pr-1.5 pl-2 text-[11px] font-medium text-indigo-700 ring-1 ring-indigo-200 ring-inset dark:bg-indigo-950 dark:text-indigo-300 dark:ring-indigo-800"
    >
      {tag}
      {onRemove && (
        <button
          type="button"
          onClick={onRemove}
          disabled={removing}
          aria-label={`Remove tag ${tag}`}
          title={`Remove tag ${tag}`}
          className="ml-0.5 rounded-full px-0.5 leading-none text-indigo-500 hover:bg-indigo-100 hover:text-indigo-900 disabled:opacity-50 dark:text-indigo-400 dark:hover:bg-indigo-900 dark:hover:text-indigo-100"
        >
          ×
        </button>
      )}
    </span>
  );
}
