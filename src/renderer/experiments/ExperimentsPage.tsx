import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Experiment } from '#shared/contracts/modelhub';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import { Button, Card, EmptyState, inputClass, Muted, PageHeader, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';
import { runsPath } from './paths';
import { parseTagList } from './tags';
import { KeyValueChip } from './ui';

const PAGE_SIZE = 500;

/** Every experiment (MLflow's and ours), newest first; tick several to see their runs in one table. */
export function ExperimentsPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const experiments = useInfiniteQuery({
    queryKey: queryKeys.experiments,
    queryFn: ({ pageParam }) => api.call('experiments.list', { limit: PAGE_SIZE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken ?? undefined,
  });
  const items = experiments.data?.pages.flatMap((p) => p.items) ?? [];
  const toggle = (id: string) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <div data-testid="experiments-page">
      <PageHeader
        title="Experiments"
        description="Training runs logged by MLflow clients or AI-DOS jobs, grouped by experiment."
        actions={
          <>
            <Button disabled={selected.size === 0} onClick={() => navigate(runsPath([...selected]))}>
              Show runs of {selected.size || ''} selected
            </Button>
            <Button variant="primary" onClick={() => setCreating(true)}>
              <PlusIcon width={14} height={14} /> New experiment…
            </Button>
          </>
        }
      />
      {experiments.isError && (
        <ErrorBanner className="mb-3" error={experiments.error} onRetry={() => void experiments.refetch()} />
      )}
      <Card bodyClassName="overflow-x-auto p-0">
        {experiments.isPending ? (
          <div className="flex items-center gap-2 p-6 text-zinc-500">
            <Spinner /> Loading experiments…
          </div>
        ) : items.length === 0 ? (
          <EmptyState title="No experiments yet">
            <p>Point an MLflow client at this core and its runs appear here:</p>
            <pre className="mt-2 rounded-md bg-zinc-100 px-3 py-2 text-left font-mono text-[12px] text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
              export MLFLOW_TRACKING_URI={window.location.origin}
            </pre>
          </EmptyState>
        ) : (
          <ExperimentsTable experiments={items} selected={selected} onToggle={toggle} />
        )}
      </Card>
      {experiments.hasNextPage && (
        <div className="mt-3 flex justify-center">
          <Button onClick={() => void experiments.fetchNextPage()} disabled={experiments.isFetchingNextPage}>
            {experiments.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </Button>
        </div>
      )}
      <NewExperimentDialog open={creating} onClose={() => setCreating(false)} />
    </div>
  );
}

function ExperimentsTable({
  experiments,
  selected,
  onToggle,
}: {
  experiments: Experiment[];
  selected: ReadonlySet<string>;
  onToggle: (id: string) => void;
}) {
  const now = useNow(15_000);
  return (
    <table className="w-full text-left" aria-label="Experiments">
      <thead className="text-[11px] font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="w-8 py-2 pl-4">
            <span className="sr-only">Select</span>
          </th>
          <th className="px-4 py-2 font-medium">Name</th>
          <th className="px-4 py-2 text-right font-medium">ID</th>
          <th className="px-4 py-2 font-medium">Tags</th>
          <th className="px-4 py-2 font-medium">Created</th>
          <th className="px-4 py-2 font-medium">Last update</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800/80">
        {experiments.map((e) => (
          <tr
            key={e.id}
            data-testid="experiment-row"
            data-name={e.name}
            className="hover:bg-zinc-50 dark:hover:bg-zinc-800/30"
          >
            <td className="py-2.5 pl-4">
              <input
                type="checkbox"
                aria-label={`Select ${e.name}`}
                checked={selected.has(e.id)}
                onChange={() => onToggle(e.id)}
                className="accent-indigo-600"
              />
            </td>
            <td className="px-4 py-2.5">
              <Link to={runsPath([e.id])} className="font-medium text-indigo-700 hover:underline dark:text-indigo-400">
                {e.name}
              </Link>
            </td>
            <td className="px-4 py-2.5 text-right font-mono text-[12px] text-zinc-500 tabular-nums dark:text-zinc-400">
              {e.id}
            </td>
            <td className="px-4 py-2.5">
              <span className="flex flex-wrap gap-1">
                {e.tags.filter((t) => !t.key.startsWith('mlflow.')).length === 0 ? (
                  <Muted>—</Muted>
                ) : (
                  e.tags
                    .filter((t) => !t.key.startsWith('mlflow.'))
                    .map((t) => <KeyValueChip key={t.key} k={t.key} v={t.value} />)
                )}
              </span>
            </td>
            <td className="px-4 py-2.5 whitespace-nowrap" title={new Date(e.createdAt).toISOString()}>
              {formatRelative(e.createdAt, now)}
            </td>
            <td className="px-4 py-2.5 whitespace-nowrap" title={new Date(e.updatedAt).toISOString()}>
              {formatRelative(e.updatedAt, now)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewExperimentDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [tagText, setTagText] = useState('');
  const parsed = parseTagList(tagText);
  const create = useMutation({
    mutationFn: () => api.call('experiments.create', { name: name.trim(), tags: parsed.tags }),
    onSuccess: (experiment) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.experiments });
      setName('');
      setTagText('');
      onClose();
      navigate(runsPath([experiment.id]));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() !== '' && !parsed.error) create.mutate();
  };
  return (
    <Dialog open={open} onClose={onClose} title="New experiment" testId="new-experiment-dialog">
      <form id="new-experiment" onSubmit={submit} className="space-y-3">
        <label className="block">
          <span className="mb-1 block font-medium">Name</span>
          <input className={inputClass} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </label>
        <label className="block">
          <span className="mb-1 block font-medium">
            Tags <Muted className="font-normal">(optional: team=vision, owner=ana)</Muted>
          </span>
          <input className={inputClass} value={tagText} onChange={(e) => setTagText(e.target.value)} />
        </label>
        {parsed.error && (
          <p role="alert" className="text-[12px] text-red-600 dark:text-red-400">
            {parsed.error}
          </p>
        )}
        {create.isError && <ErrorBanner error={create.error} title="The experiment was not created" />}
      </form>
      <div className="flex justify-end gap-2 pt-1">
        <Button onClick={onClose}>Cancel</Button>
        <Button
          variant="primary"
          type="submit"
          form="new-experiment"
          disabled={name.trim() === '' || parsed.error !== null || create.isPending}
        >
          {create.isPending ? 'Creating…' : 'Create'}
        </Button>
      </div>
    </Dialog>
  );
}
