import type { LabelProject, LabelTask } from '#shared/contracts/labeling';
import { cx } from '../components/ui';
import { useApi } from '../lib/api';

/** Where a task's image is served from: the project's version, read by the browser with the session cookie. */
export function useImageUrl(project: LabelProject, task: LabelTask): string | null {
  const api = useApi();
  const image = task.data.image;
  if (!image) return null;
  return api.url('datasets.content', { dataset: project.datasetName, version: project.versionId, path: image.path });
}

/** What the annotator reads or looks at (classification, multilabel): the text, the row's other fields, the image. */
export function TaskContent({ project, task, compact }: { project: LabelProject; task: LabelTask; compact?: boolean }) {
  const src = useImageUrl(project, task);
  const textColumn = project.source.type === 'table' ? project.source.textColumn : undefined;
  const fields = Object.entries(task.data.fields ?? {}).filter(([k]) => k !== textColumn);
  return (
    <div className="space-y-3">
      {task.data.text !== null && (
        <p
          data-testid="task-text"
          className={cx(
            'whitespace-pre-wrap text-zinc-900 dark:text-zinc-100',
            compact ? 'text-[13px]' : 'text-[15px] leading-7',
          )}
        >
          {task.data.text}
        </p>
      )}
      {src && task.data.image && (
        <div className="flex justify-center rounded-md bg-zinc-100 p-2 dark:bg-zinc-950">
          <img
            src={src}
            alt={task.data.image.path}
            className={cx('object-contain', compact ? 'max-h-48' : 'max-h-[60vh]')}
            style={{ imageRendering: task.data.image.width < 200 ? 'pixelated' : undefined }}
          />
        </div>
      )}
      {fields.length > 0 && (
        <dl className="grid grid-cols-[max-content_minmax(0,1fr)] gap-x-4 gap-y-0.5 text-[12px]">
          {fields.map(([k, v]) => (
            <div key={k} className="contents">
              <dt className="font-medium text-zinc-500 dark:text-zinc-400">{k}</dt>
              <dd className="break-words text-zinc-800 dark:text-zinc-200">{v ?? '—'}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
