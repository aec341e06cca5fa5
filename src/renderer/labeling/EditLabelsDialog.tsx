import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import type { LabelProject } from '#shared/contracts/labeling';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button } from '../components/ui';
import { fieldClass } from '../datasets/field';
import { useApi } from '../lib/api';
import { labelDraft, LabelSchemaEditor } from './LabelSchemaEditor';
import { checkLabels, renamesOf, toLabelDef, type LabelDraft } from './model';
import { labelingKeys } from './queries';

/**
 * Edits a project's labels and instructions. A renamed label rewrites every answer that uses it; removing a label
 * that answers use is refused by the server (the message says which).
 */
export function EditLabelsDialog({
  open,
  onClose,
  project,
}: {
  open: boolean;
  onClose: () => void;
  project: LabelProject;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [labels, setLabels] = useState<LabelDraft[]>([]);
  const [instructions, setInstructions] = useState('');
  useEffect(() => {
    if (!open) return;
    setLabels(project.labels.map((l, i) => labelDraft(l.name, i, l)));
    setInstructions(project.instructions);
  }, [open, project]);
  const save = useMutation({
    mutationFn: () =>
      api.call('labeling.update', {
        dataset: project.datasetName,
        project: project.id,
        labels: labels.map(toLabelDef),
        renames: renamesOf(labels),
        instructions,
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: labelingKeys.dataset(project.datasetName) });
      close();
    },
  });
  function close() {
    save.reset();
    onClose();
  }
  const problems = checkLabels(labels);
  const canSave = problems.rows.size === 0 && labels.length > 0 && !save.isPending;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (canSave) save.mutate();
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title={`Labels of ${project.name}`}
      testId="edit-labels-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" form="edit-labels-form" disabled={!canSave}>
            {save.isPending ? 'Saving…' : 'Save'}
          </Button>
        </>
      }
    >
      <form id="edit-labels-form" onSubmit={submit} className="space-y-3" aria-label="Edit labels">
        <p className="text-zinc-600 dark:text-zinc-400">
          Renaming a label renames it in every answer; a label in use cannot be removed.
        </p>
        <LabelSchemaEditor labels={labels} onChange={setLabels} />
        <div>
          <label htmlFor="edit-instructions" className="mb-1 block font-medium">
            Instructions
          </label>
          <textarea
            id="edit-instructions"
            value={instructions}
            onChange={(e) => setInstructions(e.target.value)}
            rows={3}
            className={fieldClass({ height: 'h-auto', extra: 'py-1.5' })}
          />
        </div>
      </form>
      {save.isError && <ErrorBanner error={save.error} title="The labels were not saved" />}
    </Dialog>
  );
}
