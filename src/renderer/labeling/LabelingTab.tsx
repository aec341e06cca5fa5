import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import type { DatasetVersion } from '#shared/contracts/dataforge';
import type { LabelProject } from '#shared/contracts/labeling';
import { ErrorBanner } from '../components/ErrorBanner';
import { PlusIcon } from '../components/icons';
import { Button, Card, Chip, EmptyState, Muted, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { formatRelative } from '../lib/format';
import { describeSource } from './model';
import { NewProjectDialog } from './NewProjectDialog';
import { projectPath } from './paths';
import { AnnotatorCounts, ProjectProgress } from './ProjectProgress';
import { labelingKeys, useLabelingLiveRefresh } from './queries';

const linkClass =
  'inline-flex h-7 items-center rounded-md border border-zinc-300 bg-white px-2.5 text-xs font-medium text-zinc-800 shadow-sm hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-800 dark:text-zinc-100 dark:hover:bg-zinc-700';

/** A dataset's labeling projects with their progress, and the way to start a new one. */
export function LabelingTab({
  dataset,
  version,
  versions,
}: {
  dataset: string;
  version: DatasetVersion;
  versions: DatasetVersion[];
}) {
  const api = useApi();
  const [creating, setCreating] = useState(false);
  useLabelingLiveRefresh();
  const projects = useQuery({
    queryKey: labelingKeys.projects(dataset),
    queryFn: () => api.call('labeling.list', { dataset }),
  });

  return (
    <div className="space-y-3">
      <div className="flex items-center justify-between gap-3">
        <p className="text-zinc-600 dark:text-zinc-400">
          Label rows, images or texts of a version; the labels become a new dataset version when exported.
        </p>
        <Button variant="primary" onClick={() => setCreating(true)}>
          <PlusIcon /> New project
        </Button>
      </div>
      {projects.isError && <ErrorBanner error={projects.error} onRetry={() => void projects.refetch()} />}
      {projects.isPending ? (
        <div className="flex items-center gap-2 py-6 text-zinc-500">
          <Spinner /> Loading projects…
        </div>
      ) : projects.data?.items.length === 0 ? (
        <Card>
          <EmptyState title="No labeling projects yet">
            A project turns each table row, image or text file of a version into a task to label.
          </EmptyState>
        </Card>
      ) : (
        <div className="grid gap-3 lg:grid-cols-2">
          {projects.data?.items.map((p) => (
            <ProjectCard key={p.id} project={p} />
          ))}
        </div>
      )}
      <NewProjectDialog
        open={creating}
        onClose={() => setCreating(false)}
        dataset={dataset}
        versions={versions}
        initialVersion={version}
      />
    </div>
  );
}

function ProjectCard({ project: p }: { project: LabelProject }) {
  return (
    <Card bodyClassName="space-y-3 p-4" data-testid="label-project">
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <Link
            to={projectPath(p.datasetName, p.name)}
            className="text-[14px] font-semibold text-zinc-900 hover:underline dark:text-zinc-50"
          >
            {p.name}
          </Link>
          <p className="mt-0.5 truncate text-[12px] text-zinc-500 dark:text-zinc-400" title={describeSource(p.source)}>
            v{p.versionNumber} · {describeSource(p.source)} · {p.overlap} {p.overlap === 1 ? 'answer' : 'answers'} per
            task{p.review ? ' · review step' : ''} · {formatRelative(p.createdAt)}
          </p>
        </div>
        <Chip>{p.kind}</Chip>
      </div>
      <ProjectProgress stats={p.stats} />
      <AnnotatorCounts stats={p.stats} />
      <div className="flex flex-wrap items-center gap-2">
        <Link to={projectPath(p.datasetName, p.name)} className={linkClass}>
          Annotate
        </Link>
        <Link to={projectPath(p.datasetName, p.name, { mode: 'review' })} className={linkClass}>
          Review
        </Link>
        <Link to={projectPath(p.datasetName, p.name, { mode: 'agreement' })} className={linkClass}>
          Agreement
        </Link>
        <Muted className="ml-auto text-[12px]">
          {p.labels.length} {p.labels.length === 1 ? 'label' : 'labels'}
        </Muted>
      </div>
    </Card>
  );
}
