import { useRef, useState, type Ref } from 'react';
import { useImperativeHandle } from 'react';
import type { LabelProject, LabelTask, LabelValue } from '#shared/contracts/labeling';
import { Button, Muted } from '../components/ui';
import { BoxCanvas } from './BoxCanvas';
import { LabelButtons } from './LabelButtons';
import { toggleLabel } from './model';
import { clearSelection, selectionOffsets } from './selection';
import { SpanText } from './SpanText';
import { addSpan, removeSpan, trimRange } from './spans';
import { TaskContent, useImageUrl } from './TaskContent';

/** What the workspace's keyboard asks of the editor. */
export interface EditorHandle {
  /** A label's hotkey: multilabel toggles it, NER marks the selected text with it, boxes draw (or relabel) with it. */
  label(name: string): void;
  /** Delete/Backspace: removes the selected box; false when there was nothing to remove. */
  remove(): boolean;
}

/**
 * Edits one answer to a task, by the project's kind: label buttons (classification, multilabel), spans over the
 * text (NER), boxes over the image. Used by the workspace and by a reviewer fixing an answer.
 */
export function ValueEditor({
  project,
  task,
  value,
  onChange,
  onPick,
  handleRef,
  maxImageHeight = 560,
}: {
  project: LabelProject;
  task: LabelTask;
  value: LabelValue;
  onChange: (value: LabelValue) => void;
  /** Classification: a label was picked (the workspace submits at once); else `onChange` gets it. */
  onPick?: (label: string) => void;
  handleRef?: Ref<EditorHandle>;
  maxImageHeight?: number;
}) {
  const textRoot = useRef<HTMLDivElement>(null);
  const [boxLabel, setBoxLabel] = useState<string | null>(project.labels[0]?.name ?? null);
  const [selectedBox, setSelectedBox] = useState<number | null>(null);
  const src = useImageUrl(project, task);
  const order = project.labels.map((l) => l.name);
  const text = task.data.text ?? '';

  const markSelection = (label: string) => {
    const root = textRoot.current;
    const range = root ? selectionOffsets(root) : null;
    const span = range && trimRange(text, range.start, range.end);
    if (!span) return;
    onChange({ spans: addSpan(value.spans ?? [], { ...span, label }) });
    clearSelection();
  };
  const chooseBoxLabel = (label: string) => {
    if (selectedBox !== null && value.boxes?.[selectedBox]) {
      onChange({ boxes: (value.boxes ?? []).map((b, i) => (i === selectedBox ? { ...b, label } : b)) });
    }
    setBoxLabel(label);
  };
  const removeBox = (index: number) => {
    onChange({ boxes: (value.boxes ?? []).filter((_, i) => i !== index) });
    setSelectedBox(null);
  };
  const press = (label: string) => {
    switch (project.kind) {
      case 'classification':
        if (onPick) onPick(label);
        else onChange({ labels: [label] });
        return;
      case 'multilabel':
        onChange({ labels: toggleLabel(value.labels ?? [], label, order) });
        return;
      case 'ner':
        markSelection(label);
        return;
      case 'boxes':
        chooseBoxLabel(label);
    }
  };

  useImperativeHandle(handleRef, () => ({
    label: press,
    remove: () => {
      if (project.kind !== 'boxes' || selectedBox === null) return false;
      removeBox(selectedBox);
      return true;
    },
  }));

  switch (project.kind) {
    case 'classification':
    case 'multilabel':
      return (
        <div className="space-y-4">
          <TaskContent project={project} task={task} />
          <LabelButtons
            labels={project.labels}
            pressed={(l) => (value.labels ?? []).includes(l)}
            onPress={press}
            groupLabel="Labels"
          />
        </div>
      );
    case 'ner':
      return (
        <div className="space-y-4">
          <LabelButtons
            labels={project.labels}
            pressed={() => false}
            onPress={press}
            keepSelection
            groupLabel="Mark the selected text as"
          />
          <SpanText
            text={text}
            spans={value.spans ?? []}
            labels={project.labels}
            onRemove={(s) => onChange({ spans: removeSpan(value.spans ?? [], s) })}
            rootRef={textRoot}
          />
          <ItemList
            empty="No entities yet: select text, then press a label’s key or click the label."
            items={(value.spans ?? []).map((s) => ({
              key: `${s.start}-${s.end}`,
              label: s.label,
              text: `“${text.slice(s.start, s.end)}”`,
              detail: `${s.start}–${s.end}`,
              remove: () => onChange({ spans: removeSpan(value.spans ?? [], s) }),
            }))}
            project={project}
          />
        </div>
      );
    case 'boxes':
      return (
        <div className="space-y-3">
          <LabelButtons
            labels={project.labels}
            pressed={(l) => l === boxLabel}
            onPress={press}
            groupLabel="Label for new boxes"
          />
          {src && task.data.image ? (
            <BoxCanvas
              src={src}
              image={task.data.image}
              boxes={value.boxes ?? []}
              labels={project.labels}
              selected={selectedBox}
              onSelect={setSelectedBox}
              drawLabel={boxLabel}
              onDraw={(box) => onChange({ boxes: [...(value.boxes ?? []), box] })}
              maxHeight={maxImageHeight}
            />
          ) : (
            <Muted>This task has no image.</Muted>
          )}
          <ItemList
            empty="No boxes: drag on the image to draw one (submitting none says there is nothing to box)."
            items={(value.boxes ?? []).map((b, i) => ({
              key: String(i),
              label: b.label,
              text: `${b.width}×${b.height} at ${b.x}, ${b.y}`,
              detail: null,
              selected: i === selectedBox,
              select: () => setSelectedBox(i === selectedBox ? null : i),
              remove: () => removeBox(i),
            }))}
            project={project}
          />
        </div>
      );
  }
}

/** The spans or boxes of an answer as a list, each removable without a mouse. */
function ItemList({
  items,
  empty,
  project,
}: {
  items: {
    key: string;
    label: string;
    text: string;
    detail: string | null;
    selected?: boolean;
    select?: () => void;
    remove: () => void;
  }[];
  empty: string;
  project: LabelProject;
}) {
  if (items.length === 0) return <p className="text-[12px] text-zinc-500 dark:text-zinc-400">{empty}</p>;
  const colour = (label: string) => project.labels.find((l) => l.name === label)?.color ?? '#71717a';
  return (
    <ul className="flex flex-wrap gap-1.5" aria-label="Answer parts" data-testid="answer-items">
      {items.map((item) => (
        <li
          key={item.key}
          className="flex items-center gap-1.5 rounded-md border border-zinc-200 py-0.5 pr-0.5 pl-2 text-[12px] dark:border-zinc-700"
          style={{ borderColor: item.selected ? colour(item.label) : undefined }}
        >
          <span className="size-2 rounded-full" style={{ backgroundColor: colour(item.label) }} aria-hidden="true" />
          {item.select ? (
            <button type="button" onClick={item.select} aria-pressed={item.selected} className="hover:underline">
              <span className="font-medium">{item.label}</span> {item.text}
            </button>
          ) : (
            <span>
              <span className="font-medium">{item.label}</span> {item.text}
            </span>
          )}
          {item.detail && <span className="font-mono text-[11px] text-zinc-500">{item.detail}</span>}
          <Button size="xs" variant="ghost" onClick={item.remove} aria-label={`Remove ${item.label} ${item.text}`}>
            ×
          </Button>
        </li>
      ))}
    </ul>
  );
}
