import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import type { LabelProject, LabelValue } from '#shared/contracts/labeling';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, Card, Chip, EmptyState, Muted, Spinner } from '../components/ui';
import { fieldClass } from '../datasets/field';
import { useAnnotatorName } from './annotator';
import { shortcutFor, skipShortcut, undoShortcut } from './hotkeys';
import { annotatorError, isComplete } from './model';
import { projectPath } from './paths';
import { isTypingTarget } from './selection';
import { useTaskQueue } from './useTaskQueue';
import { ValueEditor, type EditorHandle } from './ValueEditor';

/**
 * The annotator's workspace: one task at a time from their queue, the editor for the project's kind, and the
 * keyboard (label hotkeys, Enter, S, Ctrl/Cmd+Z) so that labeling needs no mouse except to draw boxes.
 */
export function Workspace({ project }: { project: LabelProject }) {
  const stored = useAnnotatorName();
  const [annotator, setAnnotator] = useState<string | null>(stored.name);
  // Asking for a task holds it for whoever asks, so nothing is asked until the annotator says who they are.
  const [started, setStarted] = useState(stored.name !== null);
  const remember = (name: string) => {
    stored.setName(name);
    setAnnotator(name);
  };
  const queue = useTaskQueue(project, annotator, remember, started);
  const editor = useRef<EditorHandle>(null);
  const { state } = queue;
  const task = state?.task ?? null;

  const submit = (value: LabelValue) => {
    if (task && isComplete(project.kind, value)) void queue.submit(value);
  };

  // The keyboard, for the whole page while no field has focus and no dialog is open.
  const keys = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keys.current = (e: KeyboardEvent) => {
    if (isTypingTarget(e.target) || document.querySelector('dialog[open]')) return;
    const action = shortcutFor(e, project.labels);
    if (!action) return;
    if (action.type === 'undo') {
      e.preventDefault();
      if (queue.canUndo) void queue.undo();
      return;
    }
    if (!task || !state || e.repeat) return;
    switch (action.type) {
      case 'label':
        e.preventDefault();
        if (project.kind === 'classification') submit({ labels: [action.label] });
        else editor.current?.label(action.label);
        return;
      case 'submit':
        // Enter on another button or a link does what it says; on a label button it submits.
        if (e.target instanceof HTMLAnchorElement) return;
        if (e.target instanceof HTMLButtonElement && !e.target.dataset.labelButton) return;
        e.preventDefault();
        submit(state.value);
        return;
      case 'skip':
        e.preventDefault();
        void queue.skip();
        return;
      case 'delete':
        if (editor.current?.remove()) e.preventDefault();
        return;
      case 'escape':
        return;
    }
  };
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keys.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  return (
    <div className="grid items-start gap-4 lg:grid-cols-[minmax(0,1fr)_17rem]">
      <div className="space-y-3">
        {queue.error !== null && <ErrorBanner error={queue.error} title="That did not go through" />}
        {!started ? (
          <StartCard
            onStart={(name) => {
              if (name !== null) remember(name);
              setStarted(true);
            }}
          />
        ) : state === null ? (
          <Card>
            <div className="flex items-center gap-2 py-6 text-zinc-500">
              <Spinner /> Finding your next task…
            </div>
          </Card>
        ) : task === null ? (
          <Card data-testid="queue-done">
            <EmptyState title={`Nothing left for ${annotator ?? 'you'}`}>
              Every task has its answers (or is held by another annotator for now).{' '}
              <Link
                to={projectPath(project.datasetName, project.name, { mode: 'review' })}
                className="text-indigo-600 hover:underline dark:text-indigo-400"
              >
                Review the answers
              </Link>
              {queue.canUndo && <> or press {undoShortcut(navigator.platform)} to change your last answer.</>}
            </EmptyState>
          </Card>
        ) : (
          <div
            data-testid="task"
            data-task={task.id}
            data-position={task.position}
            data-round={state.round}
            data-busy={queue.busy}
          >
            <Card
              title={
                <span className="flex items-center gap-2">
                  Task {task.position + 1}
                  <span className="font-normal text-zinc-500 dark:text-zinc-400">of {project.stats.tasks}</span>
                  <span className="max-w-72 truncate font-mono text-[11px] font-normal text-zinc-500" title={task.item}>
                    {task.item}
                  </span>
                </span>
              }
              actions={
                <>
                  {state.undone && <Chip>your earlier answer: edit it and submit</Chip>}
                  {state.suggested && task.prediction && (
                    <span
                      data-testid="suggestion"
                      className="rounded-full bg-amber-50 px-2 py-0.5 text-[11px] font-medium text-amber-800 ring-1 ring-amber-200 ring-inset dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800"
                    >
                      Suggested by {task.prediction.model}
                      {task.prediction.score !== null && ` (${Math.round(task.prediction.score * 100)} %)`}
                    </span>
                  )}
                </>
              }
            >
              <div className={queue.busy ? 'pointer-events-none opacity-60 transition-opacity' : undefined}>
                <ValueEditor
                  key={`${task.id}-${state.round}`}
                  project={project}
                  task={task}
                  value={state.value}
                  onChange={queue.setValue}
                  onPick={(label) => submit({ labels: [label] })}
                  handleRef={editor}
                  maxImageHeight={Math.max(240, Math.round(window.innerHeight - 440))}
                />
              </div>
              <div className="mt-4 flex flex-wrap items-center gap-2 border-t border-zinc-200 pt-3 dark:border-zinc-800">
                {project.kind !== 'classification' && (
                  <Button
                    variant="primary"
                    onClick={() => submit(state.value)}
                    disabled={queue.busy || !isComplete(project.kind, state.value)}
                    aria-keyshortcuts="Enter"
                  >
                    Submit <Kbd>Enter</Kbd>
                  </Button>
                )}
                <Button onClick={() => void queue.skip()} disabled={queue.busy} aria-keyshortcuts="S">
                  Skip <Kbd>{skipShortcut(project.labels)}</Kbd>
                </Button>
                <Button onClick={() => void queue.undo()} disabled={queue.busy || !queue.canUndo}>
                  Undo last answer <Kbd>{undoShortcut(navigator.platform)}</Kbd>
                </Button>
                {queue.busy && <Spinner className="ml-1" />}
              </div>
            </Card>
          </div>
        )}
      </div>
      <aside className="space-y-3">
        {started && <AnnotatorField annotator={annotator} onChange={remember} />}
        <Card bodyClassName="p-3">
          <p className="text-[12px] text-zinc-500 dark:text-zinc-400">Left for {annotator ?? 'you'}</p>
          <p className="text-2xl font-semibold text-zinc-900 tabular-nums dark:text-zinc-50" data-testid="remaining">
            {state ? state.remaining.toLocaleString('en-US') : '…'}
          </p>
        </Card>
        <Shortcuts project={project} />
        {project.instructions && (
          <Card title="Instructions" bodyClassName="p-3">
            <p className="whitespace-pre-wrap text-zinc-700 dark:text-zinc-300">{project.instructions}</p>
          </Card>
        )}
      </aside>
    </div>
  );
}

/** The first visit on this browser: who is annotating (a name, or the signed-in user as the server knows them). */
function StartCard({ onStart }: { onStart: (name: string | null) => void }) {
  const [name, setName] = useState('');
  const problem = annotatorError(name);
  return (
    <Card title="Who is annotating?" data-testid="start">
      <form
        aria-label="Start annotating"
        className="max-w-md space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem) onStart(name);
        }}
      >
        <p className="text-zinc-600 dark:text-zinc-400">
          Answers are saved under this name, and tasks are handed out per name: each task goes to as many different
          annotators as the project asks. The name is remembered on this browser.
        </p>
        <div>
          <label htmlFor="start-annotator" className="mb-1 block font-medium">
            Annotating as
          </label>
          <input
            id="start-annotator"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="your name"
            spellCheck={false}
            autoComplete="off"
            autoFocus
            className={fieldClass({})}
          />
          {problem && name !== '' && <p className="mt-1 text-[12px] text-red-700 dark:text-red-400">{problem}</p>}
        </div>
        <div className="flex flex-wrap gap-2">
          <Button variant="primary" type="submit" disabled={problem !== null}>
            Start annotating
          </Button>
          <Button onClick={() => onStart(null)}>Continue as the signed-in user</Button>
        </div>
      </form>
    </Card>
  );
}

/** "Annotating as": the name answers are saved under, kept for next time on this browser. */
function AnnotatorField({ annotator, onChange }: { annotator: string | null; onChange: (name: string) => void }) {
  const [draft, setDraft] = useState(annotator ?? '');
  useEffect(() => setDraft(annotator ?? ''), [annotator]);
  const problem = annotatorError(draft);
  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    if (!problem && draft !== annotator) onChange(draft);
    // Back to the keyboard shortcuts, which stay quiet while the field has focus.
    if (e && document.activeElement instanceof HTMLElement) document.activeElement.blur();
  };
  return (
    <Card bodyClassName="p-3">
      <form onSubmit={apply} aria-label="Annotator">
        <label htmlFor="annotator" className="mb-1 block text-[12px] text-zinc-500 dark:text-zinc-400">
          Annotating as
        </label>
        <div className="flex gap-1.5">
          <input
            id="annotator"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={() => apply()}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                setDraft(annotator ?? '');
                e.currentTarget.blur();
              }
            }}
            aria-invalid={problem ? true : undefined}
            spellCheck={false}
            autoComplete="off"
            className={fieldClass({ height: 'h-7' })}
          />
          <Button size="sm" type="submit" disabled={problem !== null || draft === annotator}>
            Switch
          </Button>
        </div>
        {problem && draft !== '' && <p className="mt-1 text-[12px] text-red-700 dark:text-red-400">{problem}</p>}
      </form>
    </Card>
  );
}

function Shortcuts({ project }: { project: LabelProject }) {
  const rows: [string, string][] = [
    ...project.labels.flatMap((l): [string, string][] => (l.hotkey ? [[l.hotkey, l.name]] : [])),
    ...(
      {
        classification: [],
        multilabel: [['Enter', 'submit the checked labels']],
        ner: [['Enter', 'submit the entities']],
        boxes: [
          ['drag', 'draw a box'],
          ['Delete', 'remove the selected box'],
          ['Enter', 'submit the boxes'],
        ],
      } satisfies Record<LabelProject['kind'], [string, string][]>
    )[project.kind],
    [skipShortcut(project.labels), 'skip this task'],
    [undoShortcut(navigator.platform), 'undo your last answer'],
  ];
  const hint = {
    classification: 'A label’s key picks it and moves on.',
    multilabel: 'A label’s key turns it on or off.',
    ner: 'Select text, then press a label’s key. Click an entity to remove it.',
    boxes: 'A label’s key sets the label of new boxes (or of the selected box).',
  }[project.kind];
  return (
    <Card title="Keyboard" bodyClassName="p-3">
      <p className="mb-2 text-[12px] text-zinc-500 dark:text-zinc-400">{hint}</p>
      <dl className="grid grid-cols-[max-content_minmax(0,1fr)] items-center gap-x-3 gap-y-1" data-testid="shortcuts">
        {rows.map(([key, what]) => (
          <div key={`${key}-${what}`} className="contents">
            <dt>
              <Kbd>{key}</Kbd>
            </dt>
            <dd className="truncate text-zinc-700 dark:text-zinc-300">{what}</dd>
          </div>
        ))}
      </dl>
      <Muted className="mt-2 block text-[11px]">Keys do nothing while a text field has focus.</Muted>
    </Card>
  );
}

function Kbd({ children }: { children: string }) {
  return (
    <kbd className="inline-flex min-w-5 items-center justify-center rounded border border-zinc-300 bg-zinc-50 px-1 font-mono text-[11px] leading-4 font-normal text-zinc-600 dark:border-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">
      {children}
    </kbd>
  );
}
