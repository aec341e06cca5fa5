import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import type { ModelVersion } from '#shared/contracts/modelhub';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, cx, EmptyState, inputClass, Muted, PageHeader, Spinner } from '../components/ui';
import { runPath } from '../experiments/paths';
import { KeyValueChip, KeyValueTable } from '../experiments/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatDateTime, formatRelative } from '../lib/format';
import { AliasChip } from './AliasChip';
import { AliasTimeline } from './AliasTimeline';
import { Lineage } from './Lineage';
import { DeployButton } from '../deploy/DeployButton';
import { GatesCard } from '../evalkit/GatesCard';
import { signatureOf } from './signature';
import { UploadVersionDialog } from './UploadVersionDialog';

/**
 * One registered model: its aliases (each movable to another version), its versions with the chosen one's
 * signature, source and lineage, and the timeline of alias moves. The chosen version is `?v=` in the URL.
 */
export function ModelPage() {
  const name = useParams().name ?? '';
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [uploading, setUploading] = useState(false);
  const [moving, setMoving] = useState<string | null>(null);
  const model = useQuery({
    queryKey: queryKeys.model(name),
    queryFn: () => api.call('models.get', { name }),
  });
  const versions = useQuery({
    queryKey: [...queryKeys.model(name), 'versions'],
    queryFn: () => api.call('models.versions', { name, limit: 10_000 }),
    enabled: model.isSuccess,
  });
  const list = [...(versions.data?.items ?? [])].sort((a, b) => b.version - a.version);
  const wanted = Number(params.get('v'));
  const selected = list.find((v) => v.version === wanted) ?? list[0];
  const select = (version: number) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        next.set('v', String(version));
        return next;
      },
      { replace: true },
    );

  if (model.isError) {
    return (
      <div className="space-y-3">
        <Breadcrumb name={name} />
        <ErrorBanner error={model.error} title={`Cannot open model ${name}`} onRetry={() => void model.refetch()} />
      </div>
    );
  }
  const m = model.data;
  return (
    <div data-testid="model-page" data-name={name}>
      <Breadcrumb name={name} />
      <PageHeader
        title={name}
        description={
          m ? (
            <>
              {m.description && `${m.description} · `}
              {list.length} {list.length === 1 ? 'version' : 'versions'} · updated {formatRelative(m.updatedAt)}
            </>
          ) : (
            'Loading…'
          )
        }
        actions={
          <Button variant="primary" onClick={() => setUploading(true)} disabled={!m}>
            Upload a new version…
          </Button>
        }
      />
      {!m ? (
        <div className="flex items-center gap-2 p-6 text-zinc-500">
          <Spinner /> Loading…
        </div>
      ) : (
        <div className="space-y-4">
          <Card title="Aliases" data-testid="aliases">
            <div className="flex flex-wrap items-center gap-2">
              {m.aliases.length === 0 && <Muted>No aliases yet.</Muted>}
              {m.aliases.map((a) => (
                <AliasChip key={a.alias} alias={a.alias} version={a.version}>
                  <button
                    type="button"
                    onClick={() => setMoving(a.alias)}
                    className="ml-1 rounded px-1 text-[11px] font-medium text-violet-700 underline-offset-2 hover:underline dark:text-violet-300"
                    aria-label={`Move alias ${a.alias}`}
                  >
                    move
                  </button>
                </AliasChip>
              ))}
              <Button size="sm" variant="ghost" onClick={() => setMoving('')} disabled={list.length === 0}>
                Add an alias…
              </Button>
            </div>
          </Card>
          <div className="grid grid-cols-1 gap-4 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
            <Card title="Versions" bodyClassName="p-0">
              {versions.isError && <ErrorBanner className="m-3" error={versions.error} />}
              {versions.isPending ? (
                <div className="flex items-center gap-2 p-4 text-zinc-500">
                  <Spinner /> Loading versions…
                </div>
              ) : list.length === 0 ? (
                <EmptyState title="No versions yet">Upload a model file to make version 1.</EmptyState>
              ) : (
                <VersionsTable versions={list} selected={selected?.version} onSelect={select} />
              )}
            </Card>
            {selected ? <VersionDetails name={name} version={selected} /> : <div />}
          </div>
          <AliasTimeline name={name} versions={list.map((v) => v.version)} />
        </div>
      )}
      {m && (
        <MoveAliasDialog
          name={name}
          alias={moving}
          current={m.aliases.find((a) => a.alias === moving)?.version ?? selected?.version}
          versions={list}
          onClose={() => setMoving(null)}
        />
      )}
      <UploadVersionDialog
        name={name}
        open={uploading}
        onClose={() => setUploading(false)}
        onCreated={(v) => select(v.version)}
      />
    </div>
  );
}

function Breadcrumb({ name }: { name: string }) {
  return (
    <nav aria-label="Breadcrumb" className="mb-2 text-[12px] text-zinc-500 dark:text-zinc-400">
      <Link to="/models" className="hover:underline">
        Models
      </Link>{' '}
      / {name}
    </nav>
  );
}

function VersionsTable({
  versions,
  selected,
  onSelect,
}: {
  versions: ModelVersion[];
  selected: number | undefined;
  onSelect: (version: number) => void;
}) {
  return (
    <table className="w-full text-left" aria-label="Versions">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Version</th>
          <th className="px-4 py-2 font-medium">Format</th>
          <th className="px-4 py-2 font-medium">Aliases</th>
          <th className="px-4 py-2 font-medium">Created</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {versions.map((v) => (
          <tr
            key={v.version}
            data-testid="version-row"
            data-version={v.version}
            aria-selected={v.version === selected}
            className={cx(
              v.version === selected
                ? 'bg-indigo-50 dark:bg-indigo-950/40'
                : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/30',
            )}
          >
            <td className="px-4 py-2">
              <button
                type="button"
                onClick={() => onSelect(v.version)}
                className="font-medium text-indigo-700 tabular-nums hover:underline dark:text-indigo-400"
              >
                v{v.version}
              </button>
            </td>
            <td className="px-4 py-2">
              <Chip>{v.format}</Chip>
            </td>
            <td className="px-4 py-2">
              <span className="flex flex-wrap gap-1">
                {v.aliases.map((a) => (
                  <AliasChip key={a} alias={a} />
                ))}
              </span>
            </td>
            <td className="px-4 py-2 whitespace-nowrap" title={new Date(v.createdAt).toISOString()}>
              {formatRelative(v.createdAt)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function VersionDetails({ name, version: v }: { name: string; version: ModelVersion }) {
  const signature = signatureOf(v.signature);
  return (
    <div className="space-y-4" data-testid="version-details" data-version={v.version}>
      <Card
        title={`Version ${v.version}`}
        bodyClassName="p-0"
        actions={
          <>
            {v.format === 'onnx' && (
              <Link
                to={`/evaluations?model=${encodeURIComponent(name)}&version=${v.version}`}
                className="inline-flex h-8 items-center rounded-md border border-zinc-200 px-3 text-[13px] font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
              >
                Evaluate
              </Link>
            )}
            <DeployButton model={name} version={v.version} format={v.format} />
          </>
        }
      >
        <KeyValueTable
          label={`About version ${v.version}`}
          mono={false}
          empty=""
          rows={[
            { key: 'Format', value: <Chip>{v.format}</Chip> },
            { key: 'Status', value: v.status.toLowerCase().replace(/_/g, ' ') },
            {
              key: 'Source run',
              value: v.runId ? (
                <Link
                  to={runPath(v.runId)}
                  className="font-mono text-[12px] text-indigo-700 hover:underline dark:text-indigo-400"
                >
                  {v.runId}
                </Link>
              ) : (
                <Muted>uploaded</Muted>
              ),
            },
            { key: 'Files', value: <span className="font-mono text-[12px] break-all">{v.source}</span> },
            { key: 'Description', value: v.description || <Muted>—</Muted> },
            {
              key: 'Tags',
              value:
                v.tags.length === 0 ? (
                  <Muted>—</Muted>
                ) : (
                  <span className="flex flex-wrap gap-1">
                    {v.tags.map((t) => (
                      <KeyValueChip key={t.key} k={t.key} v={t.value} />
                    ))}
                  </span>
                ),
            },
            { key: 'Created', value: `${formatDateTime(v.createdAt)}${v.userId ? ` by ${v.userId}` : ''}` },
          ]}
        />
      </Card>
      <Card title="Signature" bodyClassName="overflow-x-auto p-0" data-testid="signature">
        {!signature ? (
          <p className="px-4 py-3 text-zinc-500 dark:text-zinc-400">
            No signature: only ONNX and GGUF files have theirs read.
          </p>
        ) : (
          <>
            <table className="w-full text-left" aria-label="Signature">
              <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
                <tr className="border-b border-zinc-200 dark:border-zinc-800">
                  <th className="px-4 py-2 font-medium">Direction</th>
                  <th className="px-4 py-2 font-medium">Name</th>
                  <th className="px-4 py-2 font-medium">Type</th>
                  <th className="px-4 py-2 font-medium">Shape</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
                {[
                  ...signature.inputs.map((t) => ({ dir: 'input', ...t })),
                  ...signature.outputs.map((t) => ({ dir: 'output', ...t })),
                ].map((t) => (
                  <tr key={`${t.dir}:${t.name}`} data-testid="signature-row" data-direction={t.dir} data-name={t.name}>
                    <td className="px-4 py-1.5 text-zinc-500 dark:text-zinc-400">{t.dir}</td>
                    <td className="px-4 py-1.5 font-mono text-[12px]">{t.name}</td>
                    <td className="px-4 py-1.5 font-mono text-[12px]">{t.dtype}</td>
                    <td className="px-4 py-1.5 font-mono text-[12px]">{t.shape}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {signature.metadata.length > 0 && (
              <details className="border-t border-zinc-200 dark:border-zinc-800">
                <summary className="cursor-pointer px-4 py-2 text-[12px] text-zinc-600 dark:text-zinc-400">
                  {signature.metadata.length} facts from the file
                </summary>
                <KeyValueTable label="Facts from the file" empty="" rows={signature.metadata} />
              </details>
            )}
          </>
        )}
      </Card>
      {v.format === 'onnx' && <GatesCard model={name} version={v.version} />}
      <Lineage name={name} version={v.version} />
    </div>
  );
}

function MoveAliasDialog({
  name,
  alias,
  current,
  versions,
  onClose,
}: {
  name: string;
  /** The alias to move; '' to add one; null when closed. */
  alias: string | null;
  current: number | undefined;
  versions: readonly ModelVersion[];
  onClose: () => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [newAlias, setNewAlias] = useState('');
  const [target, setTarget] = useState<number | null>(null);
  const adding = alias === '';
  const aliasName = adding ? newAlias.trim() : (alias ?? '');
  const version = target ?? current ?? versions[0]?.version ?? 1;
  const close = () => {
    setTarget(null);
    setNewAlias('');
    onClose();
  };
  const move = useMutation({
    mutationFn: () => api.call('models.setAlias', { name, alias: aliasName, version }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.model(name) });
      close();
    },
  });
  const remove = useMutation({
    mutationFn: () => api.call('models.deleteAlias', { name, alias: aliasName }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.model(name) });
      close();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (aliasName !== '') move.mutate();
  };
  return (
    <Dialog
      open={alias !== null}
      onClose={close}
      title={adding ? 'Add an alias' : `Move @${alias}`}
      testId="move-alias-dialog"
    >
      <form onSubmit={submit} className="space-y-3">
        {adding ? (
          <label className="block">
            <span className="mb-1 block font-medium">Alias</span>
            <input
              className={inputClass}
              value={newAlias}
              onChange={(e) => setNewAlias(e.target.value)}
              placeholder="champion"
              autoFocus
            />
          </label>
        ) : (
          <p>
            <Muted>Now on</Muted> v{current}. Anything that loads{' '}
            <code className="font-mono">
              {name}@{alias}
            </code>{' '}
            gets the version chosen here from now on; the move is kept in the timeline.
          </p>
        )}
        <label className="block">
          <span className="mb-1 block font-medium">Version</span>
          <select className={inputClass} value={version} onChange={(e) => setTarget(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
                {v.description ? ` · ${v.description.slice(0, 60)}` : ''}
              </option>
            ))}
          </select>
        </label>
        {(move.isError || remove.isError) && (
          <ErrorBanner error={move.error ?? remove.error} title="The alias was not changed" />
        )}
        <div className="flex justify-between gap-2">
          <div>
            {!adding && (
              <Button variant="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
                Remove alias
              </Button>
            )}
          </div>
          <div className="flex gap-2">
            <Button onClick={close}>Cancel</Button>
            <Button
              variant="primary"
              type="submit"
              disabled={aliasName === '' || move.isPending || (!adding && version === current)}
            >
              {adding ? 'Add alias' : 'Move alias'}
            </Button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}
