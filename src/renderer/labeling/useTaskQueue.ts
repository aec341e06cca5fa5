import { useCallback, useEffect, useRef, useState } from 'react';
import type { LabelProject, LabelTask, LabelValue } from '#shared/contracts/labeling';
import { useApi } from '../lib/api';
import { startingValue } from './model';

/** An answer given in this session, kept so that undo can take it back and show it again. */
interface Given {
  task: LabelTask;
  value: LabelValue | null;
}

export interface QueueState {
  /** null once the annotator has nothing left. */
  task: LabelTask | null;
  remaining: number;
  /** The answer being edited. */
  value: LabelValue;
  /** The value is the model's suggestion, untouched. */
  suggested: boolean;
  /** The task came back by undo: its earlier answer is in `value`. */
  undone: boolean;
  /** Bumped for each task shown, so editors start fresh. */
  round: number;
}

/**
 * The annotator's queue: `labeling.next` hands out one task at a time (held for them), answers and skips move on,
 * and undo withdraws the last answer of this session and shows that task again with its answer. One request at a
 * time: keys pressed while one is out are ignored.
 */
export function useTaskQueue(
  project: LabelProject,
  annotator: string | null,
  onAnnotator: (name: string) => void,
  /** False until the annotator has said who they are: asking for a task holds it for them. */
  enabled: boolean,
) {
  const api = useApi();
  const dataset = project.datasetName;
  const projectId = project.id;
  const [state, setState] = useState<QueueState | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const busyRef = useRef(false);
  const history = useRef<Given[]>([]);
  const shownAt = useRef(Date.now());
  const kind = project.kind;
  // Called with the server's name for the caller; kept in a ref so a new callback each render does not reload.
  const named = useRef(onAnnotator);
  named.current = onAnnotator;

  const show = useCallback(
    (task: LabelTask | null, remaining: number, who: string, given?: LabelValue | null) => {
      shownAt.current = Date.now();
      setState((prev) => {
        const start = task ? startingValue(kind, task, who) : { value: {}, suggested: false };
        return {
          task,
          remaining,
          value: given ?? start.value,
          suggested: given === undefined && start.suggested,
          undone: given !== undefined,
          round: (prev?.round ?? 0) + 1,
        };
      });
    },
    [kind],
  );

  /** Runs one request at a time; its failure is shown and the task stays. */
  const run = useCallback(async (work: () => Promise<void>) => {
    if (busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      busyRef.current = false;
      setBusy(false);
    }
  }, []);

  const loadNext = useCallback(async () => {
    const next = await api.call('labeling.next', { dataset, project: projectId, annotator: annotator ?? undefined });
    if (annotator === null) named.current(next.annotator);
    show(next.task, next.remaining, next.annotator);
  }, [api, dataset, projectId, annotator, show]);

  // A new annotator starts a new session: their own queue, nothing to undo.
  useEffect(() => {
    history.current = [];
    if (enabled) void run(loadNext);
  }, [loadNext, run, enabled]);

  const answer = (value: LabelValue | null) =>
    run(async () => {
      const task = state?.task;
      if (!task || annotator === null) return;
      await api.call('labeling.annotate', {
        dataset,
        project: projectId,
        task: task.id,
        annotator,
        ...(value ? { value } : { skip: true }),
        durationMs: Math.min(86_400_000, Date.now() - shownAt.current),
      });
      history.current.push({ task, value });
      await loadNext();
    });

  const undo = () =>
    run(async () => {
      const last = history.current.at(-1);
      if (!last || annotator === null) return;
      const task = await api.call('labeling.unannotate', {
        dataset,
        project: projectId,
        task: last.task.id,
        annotator,
      });
      history.current.pop();
      show(task, (state?.remaining ?? 0) + 1, annotator, last.value ?? startingValue(kind, task, annotator).value);
    });

  return {
    state,
    error,
    busy,
    canUndo: history.current.length > 0,
    setValue: (value: LabelValue) => setState((s) => (s ? { ...s, value, suggested: false } : s)),
    submit: (value: LabelValue) => answer(value),
    skip: () => answer(null),
    undo,
  };
}
