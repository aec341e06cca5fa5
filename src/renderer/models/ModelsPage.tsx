import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { RegisteredModelName, type RegisteredModel } from '#shared/contracts/modelhub';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import { Button, Card, Chip, EmptyState, inputClass, inputClasses, Muted, PageHeader, Spinner } from '../components/ui';
import { modelPath } from '../experiments/paths';
import { queryKeys, useApi } from '../lib/api';
import { formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';
import { AliasChip } from './AliasChip';

const PAGE_SIZE = 100;

/** Registered models with their aliases and latest version; live through model events. */
export function ModelsPage() {
  const api = useApi();
  const [creating, setCreating] = useState(false);
  const models = useInfiniteQuery({
    queryKey: [...queryKeys.models, 'list'],
    queryFn: ({ pageParam }) => api.call('models.list', { limit: PAGE_SIZE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken ?? undefined,
  });
  const items = models.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div data-testid="models-page">
      <PageHeader
        title="Models"
        description="The model registry: versions from runs or uploads, with aliases such as champion."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <PlusIcon width={14} height={14} /> Register a model…
          </Button>
        }
      />
      {models.isError && <ErrorBanner className="mb-3" error={models.error} onRetry={() => void models.refetch()} />}
      <Card bodyClassName="overflow-x-auto p-0">
        {models.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading models…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title="No models registered yet">
            Register a name here, then add versions by uploading a file, from a run’s artifacts, or with an MLflow
            client’s <code className="font-mono">mlflow.register_model</code>.
          </EmptyState>
        ) : (
          <ModelsTable models={items} />
        )}
      </Card>
      {models.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <Button onClick={() => void models.fetchNextPage()} disabled={models.isFetchingNextPage}>
            {models.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        </div>
      )}
      <NewModelDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function ModelsTable({ models }: { models: RegisteredModel[] }) {
  const now = useNow(15_000);
  return (
    <table className="w-full text-left" aria-label="Models">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="px-4 py-2 font-medium">Name</th>
          <th className="px-4 py-2 font-medium">Aliases</th>
          <th className="px-4 py-2 font-medium">Latest version</th>
          <th className="px-4 py-2 font-medium">Updated</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {models.map((m) => {
          const latest = [...m.latestVersions].sort((a, b) => b.version - a.version)[0];
          return (
            <tr
              key={m.name}
              data-testid="model-row"
              data-name={m.name}
              className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
            >
              <td className="px-4 py-2.5">
                <Link
                  to={modelPath(m.name)}
                  className="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
                >
                  {m.name}
                </Link>
                {m.description && (
                  <p className="max-w-md truncate text-[12px] text-zinc-500 dark:text-zinc-400">{m.description}</p>
                )}
              </td>
              <td className="px-4 py-2.5">
                <span className="flex flex-wrap gap-1">
                  {m.aliases.length === 0 ? (
                    <Muted>—</Muted>
                  ) : (
                    m.aliases.map((a) => <AliasChip key={a.alias} alias={a.alias} version={a.version} />)
                  )}
                </span>
              </td>
              <td className="px-4 py-2.5" data-testid="model-latest">
                {latest ? (
                  <span className="inline-flex items-center gap-1.5">
                    <span className="font-medium tabular-nums">v{latest.version}</span>
                    <Chip>{latest.format}</Chip>
                  </span>
                ) : (
                  <Muted>no versions</Muted>
                )}
              </td>
              <td className="px-4 py-2.5 whitespace-nowrap" title={new Date(m.updatedAt).toISOString()}>
                {formatRelative(m.updatedAt, now)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function NewModelDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const check = RegisteredModelName.safeParse(name);
  const create = useMutation({
    mutationFn: () => api.call('models.create', { name, description: description.trim() }),
    onSuccess: (model) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.models });
      setName('');
      setDescription('');
      onClose();
      navigate(modelPath(model.name));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (check.success) create.mutate();
  };
  return (
    <Dialog open={open} onClose={onClose} title="Register a model" testId="new-model-dialog">
      <form onSubmit={submit} className="space-y-3">
        <label className="block">
          <span className="mb-1 block font-medium">Name</span>
          <input className={inputClass} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </label>
        {name !== '' && !check.success && (
          <p role="alert" className="text-[12px] text-red-600 dark:text-red-400">
            {check.error.issues[0]?.message}
          </p>
        )}
        <label className="block">
          <span className="mb-1 block font-medium">
            Description <Muted className="font-normal">(optional)</Muted>
          </span>
          <textarea
            className={inputClasses({ multiline: true, height: 'h-20' })}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        {create.isError && <ErrorBanner error={create.error} title="The model was not registered" />}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" disabled={!check.success || create.isPending}>
            {create.isPending ? 'Registering…' : 'Register'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
