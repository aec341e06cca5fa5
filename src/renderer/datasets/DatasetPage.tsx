import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { TagName, type DatasetVersion } from '#shared/contracts/dataforge';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, cx, EmptyState, Muted, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { fieldClass } from './field';
import { formatBytes, formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';
import { TagChip } from './DatasetsPage';
import { DiffTab } from './DiffTab';
import { DropOverlay, useFileDrop } from './drop';
import { ExportDialog } from './ExportDialog';
import { FilesTab } from './FilesTab';
import { ImportDialog } from './ImportDialog';
import { LabelingTab } from '../labeling/LabelingTab';
import { normalizePrefix, versionLabel } from './model';
import { ProfileTab } from './ProfileTab';
import { QualityTab } from './QualityTab';
import { RowsTab } from './RowsTab';
import { parseLine, parseLines, rowsSearch } from './row-links';
import type { PickedFile } from './upload';
import { UploadDialog } from './UploadDialog';
import { TrainFromDatasetButton } from '../trainos/TrainFromDatasetButton';

const VERSIONS_PAGE = 100;
const TABS = ['files', 'diff', 'profile', 'quality', 'rows', 'labeling'] as const;
type Tab = (typeof TABS)[number];
const TAB_LABELS: Record<Tab, string> = {
  files: 'Files',
  diff: 'Diff',
  profile: 'Profile',
  quality: 'Quality',
  rows: 'Rows',
  labeling: 'Labeling',
};

function isTab(value: string | null): value is Tab {
  return value !== null && (TABS as readonly string[]).includes(value);
}

/**
 * One dataset: its versions (with tags), and for the selected version its files, a diff against another
 * version, the profile of its tables and their rows. Where you are (version, tab, folder, table, and a line or
 * lines of it) lives in the URL.
 */
export function DatasetPage() {
  const name = useParams().name ?? '';
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [importing, setImporting] = useState(false);
  const [exporting, setExporting] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [dropped, setDropped] = useState<{ id: number; files: PickedFile[] } | null>(null);
  const dragging = useFileDrop((files) => {
    setDropped({ id: Date.now(), files });
    setUploading(true);
  });

  const dataset = useQuery({
    queryKey: queryKeys.dataset(name),
    queryFn: () => api.call('datasets.get', { dataset: name }),
  });
  const versions = useInfiniteQuery({
    queryKey: queryKeys.datasetVersions(name),
    queryFn: ({ pageParam }) =>
      api.call('datasets.versions', { dataset: name, limit: VERSIONS_PAGE, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: dataset.isSuccess,
  });
  const list = versions.data?.pages.flatMap((p) => p.items) ?? [];

  const vParam = params.get('v');
  const wanted = vParam && /^\d+$/.test(vParam) ? Number(vParam) : null;
  const inList = wanted === null ? list[0] : list.find((v) => v.number === wanted);
  // A version older than the loaded pages (a shared link to v3 of 500): ask for it by number.
  const single = useQuery({
    queryKey: [...queryKeys.dataset(name), 'version', wanted],
    queryFn: () => api.call('datasets.version', { dataset: name, version: String(wanted) }),
    enabled: wanted !== null && versions.isSuccess && !inList,
  });
  const selected = inList ?? single.data;

  const rawTab = params.get('tab');
  const tab: Tab = isTab(rawTab) ? rawTab : 'files';
  const update = (changes: Record<string, string | null>) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );
  };
  const selectVersion = (number: number) => update({ v: String(number), prefix: null, line: null, lines: null });
  // A table opens at its first page: no line, no lines.
  const openTable = (path: string) => update({ tab: 'rows', table: path, line: null, lines: null });

  if (dataset.isError) {
    return (
      <div className="space-y-3">
        <Breadcrumb name={name} />
        <ErrorBanner
          error={dataset.error}
          title={`Cannot open dataset ${name}`}
          onRetry={() => void dataset.refetch()}
        />
      </div>
    );
  }
  const d = dataset.data;

  return (
    <div data-testid="dataset-page" data-name={name}>
      <Breadcrumb name={name} />
      <PageHeader
        title={name}
        description={
          d ? (
            <>
              {d.description && `${d.description} · `}
              {d.versionCount} {d.versionCount === 1 ? 'version' : 'versions'} · updated {formatRelative(d.updatedAt)}
            </>
          ) : (
            'Loading…'
          )
        }
        actions={
          <>
            <Button onClick={() => setUploading(true)} disabled={!d}>
              Upload files…
            </Button>
            <Button onClick={() => setImporting(true)} disabled={!d}>
              Import a new version…
            </Button>
            {selected && <Button onClick={() => setExporting(true)}>Export {versionLabel(selected)}…</Button>}
            {selected && <TrainFromDatasetButton dataset={name} version={selected.number} />}
          </>
        }
      />
      {versions.isError && (
        <ErrorBanner className="mb-3" error={versions.error} onRetry={() => void versions.refetch()} />
      )}
      {single.isError && <ErrorBanner className="mb-3" error={single.error} title={`Cannot show v${wanted}`} />}

      {(dataset.isPending || versions.isPending) && !versions.isError ? (
        <div className="flex items-center gap-2 py-10 text-zinc-500">
          <Spinner /> Loading {name}…
        </div>
      ) : list.length === 0 && versions.isSuccess ? (
        <Card>
          <EmptyState title="No versions yet">
            Import a folder to make version 1, or drop files here.
            <div className="mt-3">
              <Button variant="primary" onClick={() => setImporting(true)}>
                Import from a folder…
              </Button>
            </div>
          </EmptyState>
        </Card>
      ) : (
        <div className="space-y-4">
          <VersionsCard
            dataset={name}
            versions={list}
            selected={selected}
            onSelect={selectVersion}
            more={versions.hasNextPage ? () => void versions.fetchNextPage() : undefined}
            loadingMore={versions.isFetchingNextPage}
          />
          {selected && (
            <section className="space-y-3">
              <VersionBar dataset={name} versions={list} selected={selected} onSelect={selectVersion} />
              <div
                role="tablist"
                aria-label="Version views"
                className="flex gap-1 border-b border-zinc-200 dark:border-zinc-800"
              >
                {TABS.map((t) => (
                  <button
                    key={t}
                    type="button"
                    role="tab"
                    id={`tab-${t}`}
                    aria-selected={tab === t}
                    aria-controls={`panel-${t}`}
                    onClick={() => update({ tab: t })}
                    className={cx(
                      '-mb-px border-b-2 px-3 py-2 text-[13px] font-medium transition-colors',
                      tab === t
                        ? 'border-indigo-500 text-zinc-900 dark:text-zinc-50'
                        : 'border-transparent text-zinc-500 hover:text-zinc-800 dark:text-zinc-400 dark:hover:text-zinc-200',
                    )}
                  >
                    {TAB_LABELS[t]}
                  </button>
                ))}
              </div>
              <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
                {tab === 'files' && (
                  <FilesTab
                    dataset={name}
                    version={selected}
                    prefix={normalizePrefix(params.get('prefix'))}
                    onPrefix={(prefix) => update({ prefix })}
                    onOpenTable={openTable}
                  />
                )}
                {tab === 'diff' && (
                  <DiffTab
                    dataset={name}
                    versions={list}
                    selected={selected}
                    from={params.get('from')}
                    to={params.get('to')}
                    onChange={(from, to) => update({ from, to })}
                  />
                )}
                {tab === 'profile' && <ProfileTab dataset={name} version={selected} onOpenTable={openTable} />}
                {tab === 'quality' && (
                  <QualityTab
                    dataset={name}
                    version={selected}
                    onOpenTable={openTable}
                    rowsLink={(target) => rowsSearch(params, target)}
                  />
                )}
                {tab === 'rows' && (
                  <RowsTab
                    dataset={name}
                    version={selected}
                    table={params.get('table')}
                    onTable={(table) => update({ table, line: null, lines: null })}
                    line={parseLine(params.get('line'))}
                    lines={parseLines(params.get('lines'))}
                    onLine={(line) => update({ line: line === null ? null : String(line) })}
                    onClearLines={() => update({ lines: null })}
                  />
                )}
                {tab === 'labeling' && <LabelingTab dataset={name} version={selected} versions={list} />}
              </div>
            </section>
          )}
        </div>
      )}
      <ImportDialog
        open={importing}
        onClose={() => setImporting(false)}
        dataset={name}
        onImported={(result) => result.created && selectVersion(result.version.number)}
      />
      <UploadDialog
        open={uploading}
        onClose={() => setUploading(false)}
        dataset={name}
        incoming={dropped}
        onCommitted={(result) => result.created && selectVersion(result.version.number)}
      />
      <DropOverlay
        show={dragging && !uploading && d !== undefined}
        label={`Drop files or a folder to add them to ${name}`}
      />
      {selected && (
        <ExportDialog open={exporting} onClose={() => setExporting(false)} dataset={name} version={selected} />
      )}
    </div>
  );
}

function Breadcrumb({ name }: { name: string }) {
  return (
    <nav aria-label="Breadcrumb" className="mb-1 text-[12px] text-zinc-500 dark:text-zinc-400">
      <Link to="/datasets" className="hover:text-zinc-900 hover:underline dark:hover:text-zinc-100">
        Datasets
      </Link>
      <span className="mx-1.5">/</span>
      <span className="text-zinc-700 dark:text-zinc-300">{name}</span>
    </nav>
  );
}

function useUntag(dataset: string) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (tag: string) => api.call('datasets.untag', { dataset, tag }),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.dataset(dataset) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
    },
  });
}

function VersionsCard({
  dataset,
  versions,
  selected,
  onSelect,
  more,
  loadingMore,
}: {
  dataset: string;
  versions: DatasetVersion[];
  selected: DatasetVersion | undefined;
  onSelect: (number: number) => void;
  more: (() => void) | undefined;
  loadingMore: boolean;
}) {
  const now = useNow(15_000);
  const untag = useUntag(dataset);
  return (
    <Card title="Versions" bodyClassName="p-0">
      {untag.isError && <ErrorBanner className="m-3" error={untag.error} title="The tag was not removed" />}
      <div className="max-h-80 overflow-auto">
        <table className="w-full text-left" aria-label="Versions">
          <thead className="sticky top-0 bg-white text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:bg-zinc-900 dark:text-zinc-400">
            <tr className="border-b border-zinc-200 dark:border-zinc-800">
              <th className="px-4 py-2 font-medium">Version</th>
              <th className="px-4 py-2 font-medium">Tags</th>
              <th className="px-4 py-2 text-right font-medium">Files</th>
              <th className="px-4 py-2 text-right font-medium">Size</th>
              <th className="px-4 py-2 font-medium">Kind</th>
              <th className="px-4 py-2 font-medium">Author</th>
              <th className="px-4 py-2 font-medium">Created</th>
              <th className="px-4 py-2 font-medium">Message</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
            {versions.map((v) => {
              const isSelected = selected?.id === v.id;
              return (
                <tr
                  key={v.id}
                  data-testid="version-row"
                  data-version={v.number}
                  aria-selected={isSelected}
                  onClick={() => onSelect(v.number)}
                  className={cx(
                    'cursor-pointer',
                    isSelected ? 'bg-indigo-50/70 dark:bg-indigo-950/40' : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
                  )}
                >
                  <td className="px-4 py-2">
                    <button
                      type="button"
                      onClick={(e) => {
                        e.stopPropagation();
                        onSelect(v.number);
                      }}
                      className={cx(
                        'font-medium tabular-nums hover:underline',
                        isSelected ? 'text-indigo-700 dark:text-indigo-300' : 'text-zinc-900 dark:text-zinc-100',
                      )}
                    >
                      {versionLabel(v)}
                    </button>
                  </td>
                  <td className="px-4 py-2" onClick={(e) => e.stopPropagation()}>
                    <span className="flex flex-wrap gap-1">
                      {v.tags.map((t) => (
                        <TagChip key={t} tag={t} onRemove={() => untag.mutate(t)} removing={untag.isPending} />
                      ))}
                    </span>
                  </td>
                  <td className="px-4 py-2 text-right tabular-nums">{v.fileCount.toLocaleString('en-US')}</td>
                  <td className="px-4 py-2 text-right whitespace-nowrap tabular-nums">{formatBytes(v.totalBytes)}</td>
                  <td className="px-4 py-2">
                    <Chip>{v.kind}</Chip>
                  </td>
                  <td className="max-w-40 truncate px-4 py-2" title={v.author}>
                    {v.author || <Muted>—</Muted>}
                  </td>
                  <td className="px-4 py-2 whitespace-nowrap" title={formatDateTime(v.createdAt)}>
                    {formatRelative(v.createdAt, now)}
                  </td>
                  <td className="max-w-xs truncate px-4 py-2" title={v.message}>
                    {v.message || <Muted>—</Muted>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {more && (
        <div className="flex justify-center border-t border-zinc-200 py-2 dark:border-zinc-800">
          <Button size="sm" onClick={more} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load older versions'}
          </Button>
        </div>
      )}
    </Card>
  );
}

/** The selected version: a selector, its figures, and its tags (add one, remove one). */
function VersionBar({
  dataset,
  versions,
  selected,
  onSelect,
}: {
  dataset: string;
  versions: DatasetVersion[];
  selected: DatasetVersion;
  onSelect: (number: number) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [tag, setTag] = useState('');
  const untag = useUntag(dataset);
  const addTag = useMutation({
    mutationFn: (t: string) => api.call('datasets.tag', { dataset, version: selected.id, tag: t }),
    onSuccess: () => setTag(''),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.dataset(dataset) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
    },
  });
  const check = TagName.safeParse(tag.trim());
  const tagError = tag.trim() !== '' && !check.success ? check.error.issues[0]?.message : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (check.success) addTag.mutate(check.data);
  };
  const options = versions.some((v) => v.id === selected.id) ? versions : [selected, ...versions];
  return (
    <Card bodyClassName="p-3">
      <div className="flex flex-wrap items-center gap-x-5 gap-y-2">
        <div className="flex items-center gap-2">
          <label htmlFor="version-select" className="font-medium">
            Version
          </label>
          <select
            id="version-select"
            value={selected.number}
            onChange={(e) => onSelect(Number(e.target.value))}
            className={fieldClass({ width: 'w-auto', extra: 'min-w-24' })}
          >
            {options.map((v) => (
              <option key={v.id} value={v.number}>
                {versionLabel(v)}
                {v.tags.length ? ` (${v.tags.join(', ')})` : ''}
              </option>
            ))}
          </select>
        </div>
        <Fact label="files">{selected.fileCount.toLocaleString('en-US')}</Fact>
        <Fact label="size">{formatBytes(selected.totalBytes)}</Fact>
        <Fact label="kind">{selected.kind}</Fact>
        <Fact label="created">{formatDateTime(selected.createdAt)}</Fact>
        <span
          className="font-mono text-[11px] text-zinc-500 dark:text-zinc-400"
          title={`manifest sha256 ${selected.manifestSha256}`}
        >
          {selected.manifestSha256.slice(0, 12)}
        </span>
        <div className="ml-auto flex flex-wrap items-center gap-2" data-testid="selected-tags">
          {selected.tags.map((t) => (
            <TagChip key={t} tag={t} onRemove={() => untag.mutate(t)} removing={untag.isPending} />
          ))}
          <form onSubmit={submit} className="flex items-center gap-1.5" aria-label={`Tag ${versionLabel(selected)}`}>
            <input
              value={tag}
              onChange={(e) => setTag(e.target.value)}
              placeholder="new tag"
              aria-label={`New tag for ${versionLabel(selected)}`}
              aria-invalid={tagError ? true : undefined}
              title={tagError ? `A tag ${tagError}` : 'Tagging again moves the tag to this version'}
              spellCheck={false}
              className={fieldClass({ width: 'w-32', height: 'h-7', text: 'text-[12px]' })}
            />
            <Button size="sm" type="submit" disabled={!check.success || addTag.isPending}>
              Add tag
            </Button>
          </form>
        </div>
      </div>
      {tagError && <p className="mt-2 text-[12px] text-red-700 dark:text-red-400">A tag {tagError}.</p>}
      {addTag.isError && <ErrorBanner className="mt-2" error={addTag.error} title="The tag was not added" />}
      {untag.isError && <ErrorBanner className="mt-2" error={untag.error} title="The tag was not removed" />}
      {selected.message && <p className="mt-2 text-zinc-600 dark:text-zinc-400">{selected.message}</p>}
    </Card>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <span className="whitespace-nowrap">
      <span className="text-zinc-500 dark:text-zinc-400">{label} </span>
      <span className="font-medium tabular-nums text-zinc-900 dark:text-zinc-100">{children}</span>
    </span>
  );
}
