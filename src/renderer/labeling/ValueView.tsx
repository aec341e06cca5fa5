import type { LabelProject, LabelTask, LabelValue } from '#shared/contracts/labeling';
import { Muted } from '../components/ui';
import { BoxCanvas } from './BoxCanvas';
import { SpanText } from './SpanText';
import { useImageUrl } from './TaskContent';

/** One answer, read-only: label chips, the text with its spans, or the image with its boxes. */
export function ValueView({ project, task, value }: { project: LabelProject; task: LabelTask; value: LabelValue }) {
  const src = useImageUrl(project, task);
  switch (project.kind) {
    case 'classification':
    case 'multilabel':
      return (value.labels ?? []).length === 0 ? (
        <Muted>no label</Muted>
      ) : (
        <span className="flex flex-wrap gap-1">
          {(value.labels ?? []).map((l) => (
            <LabelChip key={l} project={project} label={l} />
          ))}
        </span>
      );
    case 'ner':
      return <SpanText text={task.data.text ?? ''} spans={value.spans ?? []} labels={project.labels} compact />;
    case 'boxes':
      return src && task.data.image ? (
        <div className="space-y-1">
          <BoxCanvas
            src={src}
            image={task.data.image}
            boxes={value.boxes ?? []}
            labels={project.labels}
            maxHeight={220}
          />
          <Muted className="text-[12px]">
            {(value.boxes ?? []).length} {(value.boxes ?? []).length === 1 ? 'box' : 'boxes'}
          </Muted>
        </div>
      ) : (
        <Muted>{(value.boxes ?? []).length} boxes</Muted>
      );
  }
}

export function LabelChip({ project, label }: { project: LabelProject; label: string }) {
  const colour = project.labels.find((l) => l.name === label)?.color ?? '#71717a';
  return (
    <span
      className="inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[12px] font-medium"
      style={{ backgroundColor: `${colour}24`, color: 'inherit', boxShadow: `inset 0 0 0 1px ${colour}66` }}
      data-testid="label-chip"
    >
      <span className="size-2 rounded-full" style={{ backgroundColor: colour }} aria-hidden="true" />
      {label}
    </span>
  );
}
