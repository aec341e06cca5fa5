import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { LabelProject, LabelTask, LabelValue } from '#shared/contracts/labeling';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, cx, EmptyState, Muted, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { formatRelative } from '../lib/format';
import { useAnnotatorName } from './annotator';
import { formatAgreement, isComplete } from './model';
import { labelingKeys } from './queries';
import { TaskContent } from './TaskContent';
import { ValueEditor } from './ValueEditor';
import { ValueView } from './ValueView';

const PAGE = 10;
type Show = 'annotated' | 'reviewed';

/**
 * Review: the annotated tasks, least agreed first, each with every annotator's answer side by side; accept one,
 * or fix it and submit the reviewer's own. Reviewed tasks are listed too, and can be un-reviewed.
 */
export function ReviewView({ project, focus }: { project: LabelProject; focus: string | null }) {
  const api = useApi();
  const [show, setShow] = useState<Show>('annotated');
  const [offset, setOffset] = useState(0);
  const query = { status: show, sort: show === 'annotated' ? 'agreement' : 'position', offset, limit: PAGE } as const;
  const tasks = useQuery({
    queryKey: labelingKeys.tasks(project.datasetName, project.id, query),
    queryFn: () => api.call('labeling.tasks', { dataset: project.datasetName, project: project.id, ...query }),
  });
  const focused = useQuery({
    queryKey: labelingKeys.task(project.datasetName, project.id, focus ?? ''),
    queryFn: () =>
      api.call('labeling.task', { dataset: project.datasetName, project: project.id, task: focus as string }),
    enabled: focus !== null,
  });
  const items = (tasks.data?.items ?? []).filter((t) => t.id !== focus);
  const total = tasks.data?.total ?? 0;

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center gap-3">
        <div role="radiogroup" aria-label="Tasks to show" className="inline-flex rounded-md shadow-xs">
          {(['annotated', 'reviewed'] as const).map((s, i) => (
            <button
              key={s}
              type="button"
              role="radio"
              aria-checked={show === s}
              onClick={() => {
                setShow(s);
                setOffset(0);
              }}
              className={cx(
                'h-8 border border-zinc-300 px-3 text-[13px] font-medium dark:border-zinc-700',
                i === 0 ? 'rounded-l-md' : '-ml-px rounded-r-md',
                show === s
                  ? 'bg-zinc-900 text-white dark:bg-zinc-100 dark:text-zinc-900'
                  : 'bg-white text-zinc-700 hover:bg-zinc-50 dark:bg-zinc-800 dark:text-zinc-200',
              )}
            >
              {s === 'annotated' ? `To review (${project.stats.annotated})` : `Reviewed (${project.stats.reviewed})`}
            </button>
          ))}
        </div>
        <Muted className="text-[12px]">
          {show === 'annotated'
            ? 'Tasks with all their answers, least agreed first.'
            : 'Final labels; un-review one to change it.'}
        </Muted>
        {total > PAGE && (
          <div className="ml-auto flex items-center gap-2">
            <Muted className="text-[12px] tabular-nums">
              {offset + 1}–{Math.min(total, offset + PAGE)} of {total}
            </Muted>
            <Button size="sm" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </Button>
            <Button size="sm" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
              Next
            </Button>
          </div>
        )}
      </div>
      {tasks.isError && <ErrorBanner error={tasks.error} onRetry={() => void tasks.refetch()} />}
      {focused.isError && <ErrorBanner error={focused.error} title="Cannot show that task" />}
      {focused.data && <ReviewCard project={project} task={focused.data} highlighted />}
      {tasks.isPending ? (
        <div className="flex items-center gap-2 py-6 text-zinc-500">
          <Spinner /> Loading tasks…
        </div>
      ) : items.length === 0 && !focused.data ? (
        <Card>
          <EmptyState title={show === 'annotated' ? 'Nothing to review yet' : 'No task is reviewed yet'}>
            {show === 'annotated'
              ? `A task comes here once it has ${project.overlap} ${project.overlap === 1 ? 'answer' : 'answers'}.`
              : 'Accept or fix an answer under “To review”.'}
          </EmptyState>
        </Card>
      ) : (
        items.map((t) => <ReviewCard key={t.id} project={project} task={t} />)
      )}
    </div>
  );
}

function ReviewCard({ project, task, highlighted }: { project: LabelProject; task: LabelTask; highlighted?: boolean }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const reviewer = useAnnotatorName().name ?? undefined;
  const [fixing, setFixing] = useState<LabelValue | null>(null);
  const ref = { dataset: project.datasetName, project: project.id, task: task.id };
  const done = () => {
    setFixing(null);
    void queryClient.invalidateQueries({ queryKey: labelingKeys.dataset(project.datasetName) });
  };
  const review = useMutation({
    mutationFn: (input: { accept: string } | { value: LabelValue }) =>
      api.call('labeling.review', { ...ref, reviewer, ...input }),
    onSuccess: done,
  });
  const unreview = useMutation({ mutationFn: () => api.call('labeling.unreview', ref), onSuccess: done });
  const answers = task.annotations.filter((a) => !a.skipped && a.value);
  const showsContent = project.kind === 'classification' || project.kind === 'multilabel';
  const busy = review.isPending || unreview.isPending;

  return (
    <Card
      data-testid="review-task"
      className={highlighted ? 'ring-2 ring-indigo-500/50' : undefined}
      title={
        <span className="flex items-center gap-2">
          Task {task.position + 1}
          <span className="max-w-80 truncate font-mono text-[11px] font-normal text-zinc-500" title={task.item}>
            {task.item}
          </span>
        </span>
      }
      actions={
        <span className="text-[12px] text-zinc-500 dark:text-zinc-400" data-testid="task-agreement">
          agreement{' '}
          <span className="font-medium text-zinc-900 tabular-nums dark:text-zinc-100">
            {formatAgreement(task.agreement)}
          </span>
        </span>
      }
    >
      <div className="space-y-3">
        {showsContent && <TaskContent project={project} task={task} compact />}
        {task.review ? (
          <div className="flex flex-wrap items-start justify-between gap-3 rounded-md bg-emerald-50 p-3 dark:bg-emerald-950/40">
            <div className="min-w-0 flex-1 space-y-1.5">
              <p className="text-[12px] text-emerald-800 dark:text-emerald-300" data-testid="review-decision">
                {task.review.decision === 'accepted' ? 'Accepted' : 'Fixed'} by {task.review.reviewer}{' '}
                {formatRelative(task.review.createdAt)}
              </p>
              <ValueView project={project} task={task} value={task.review.value} />
            </div>
            <Button size="sm" onClick={() => unreview.mutate()} disabled={busy}>
              Un-review
            </Button>
          </div>
        ) : (
          <div className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
            {task.annotations.map((a) => (
              <div
                key={a.id}
                data-testid="answer"
                data-annotator={a.annotator}
                className="flex flex-col gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800"
              >
                <p className="text-[12px] font-medium text-zinc-600 dark:text-zinc-400">{a.annotator}</p>
                <div className="flex-1">
                  {a.value ? <ValueView project={project} task={task} value={a.value} /> : <Muted>skipped</Muted>}
                </div>
                {a.value && (
                  <div className="flex gap-1.5">
                    <Button
                      size="sm"
                      variant="primary"
                      onClick={() => review.mutate({ accept: a.id })}
                      disabled={busy}
                      aria-label={`Accept ${a.annotator}'s answer`}
                    >
                      Accept
                    </Button>
                    <Button size="sm" onClick={() => setFixing(a.value)} disabled={busy}>
                      Fix…
                    </Button>
                  </div>
                )}
              </div>
            ))}
          </div>
        )}
        {!task.review && answers.length === 0 && (
          <Button size="sm" onClick={() => setFixing({})}>
            Label it yourself…
          </Button>
        )}
        {fixing && (
          <div className="space-y-3 rounded-md border border-indigo-200 p-3 dark:border-indigo-900" data-testid="fix">
            <p className="text-[12px] font-medium text-indigo-700 dark:text-indigo-300">
              Your answer as the reviewer{reviewer ? ` (${reviewer})` : ''}
            </p>
            <ValueEditor project={project} task={task} value={fixing} onChange={setFixing} maxImageHeight={360} />
            <div className="flex gap-2">
              <Button
                variant="primary"
                size="sm"
                onClick={() => review.mutate({ value: fixing })}
                disabled={busy || !isComplete(project.kind, fixing)}
              >
                Save fix
              </Button>
              <Button size="sm" onClick={() => setFixing(null)}>
                Cancel
              </Button>
            </div>
          </div>
        )}
        {review.isError && <ErrorBanner error={review.error} title="The review was not saved" />}
        {unreview.isError && <ErrorBanner error={unreview.error} title="The review was not withdrawn" />}
      </div>
    </Card>
  );
}
