import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { DatasetName } from '#shared/contracts/dataforge';
import type { LabelProject } from '#shared/contracts/labeling';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { exportFormats, type ExportFormat } from './model';

const FORMAT_LABELS: Record<ExportFormat, string> = {
  csv: 'CSV (the rows or files with a label column)',
  jsonl: 'JSON lines',
  coco: 'COCO (annotations.json with the images)',
  yolo: 'YOLO (a .txt per image, data.yaml, the images)',
};

/** Exports the final labels as a new version of a dataset (`<project>-labels` unless told), and says what came of it. */
export function LabelExportDialog({
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
  const formats = exportFormats(project.kind);
  const [format, setFormat] = useState<ExportFormat>(formats[0] as ExportFormat);
  const [target, setTarget] = useState(`${project.name}-labels`);
  const [include, setInclude] = useState<'reviewed' | 'final'>(project.review ? 'reviewed' : 'final');
  const run = useMutation({
    mutationFn: () =>
      api.call('labeling.export', {
        dataset: project.datasetName,
        project: project.id,
        format,
        target: target.trim(),
        include,
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetDetails });
    },
  });
  const close = () => {
    run.reset();
    onClose();
  };
  const targetCheck = DatasetName.safeParse(target.trim());
  const targetError = !targetCheck.success ? targetCheck.error.issues[0]?.message : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (targetCheck.success && !run.isPending) run.mutate();
  };
  const result = run.data;

  return (
    <Dialog
      open={open}
      onClose={close}
      title={`Export the labels of ${project.name}`}
      testId="label-export-dialog"
      footer={
        result ? (
          <>
            <Link
              to={`/datasets/${encodeURIComponent(result.dataset)}?v=${result.version.number}`}
              onClick={close}
              className="inline-flex h-8 items-center rounded-md bg-indigo-600 px-3 text-[13px] font-medium text-white shadow-sm hover:bg-indigo-500"
            >
              Open {result.dataset}
            </Link>
            <Button onClick={close}>Done</Button>
          </>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button
              variant="primary"
              type="submit"
              form="label-export-form"
              disabled={!targetCheck.success || run.isPending}
            >
              {run.isPending ? 'Exporting…' : 'Export'}
            </Button>
          </>
        )
      }
    >
      <form id="label-export-form" onSubmit={submit} className="space-y-3" aria-label="Export labels">
        <div>
          <label htmlFor="export-format" className="mb-1 block font-medium">
            Format
          </label>
          <select
            id="export-format"
            value={format}
            onChange={(e) => setFormat(e.target.value as ExportFormat)}
            className={inputClass}
            disabled={result !== undefined}
          >
            {formats.map((f) => (
              <option key={f} value={f}>
                {FORMAT_LABELS[f]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="export-target" className="mb-1 block font-medium">
            Into dataset
          </label>
          <input
            id="export-target"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={targetError ? true : undefined}
            className={inputClass}
            disabled={result !== undefined}
          />
          <p className="mt-1 text-[12px] text-zinc-500 dark:text-zinc-400">
            {targetError ? (
              <span className="text-red-700 dark:text-red-400">A dataset name {targetError}.</span>
            ) : (
              'Made when missing; the labels become its next version.'
            )}
          </p>
        </div>
        <fieldset className="space-y-1">
          <legend className="mb-1 font-medium">Tasks to include</legend>
          <label className="flex items-start gap-2">
            <input
              type="radio"
              name="include"
              checked={include === 'reviewed'}
              onChange={() => setInclude('reviewed')}
              disabled={result !== undefined}
              className="mt-1"
            />
            <span>Reviewed only: the labels a reviewer accepted or fixed</span>
          </label>
          <label className="flex items-start gap-2">
            <input
              type="radio"
              name="include"
              checked={include === 'final'}
              onChange={() => setInclude('final')}
              disabled={result !== undefined}
              className="mt-1"
            />
            <span>Final: reviewed tasks, and fully answered ones by the majority of their answers</span>
          </label>
        </fieldset>
      </form>
      {run.isError && <ErrorBanner error={run.error} title="Nothing was exported" />}
      {result && (
        <div
          className="rounded-md border border-emerald-200 bg-emerald-50 p-3 text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950/50 dark:text-emerald-200"
          data-testid="label-export-result"
          data-version={result.version.number}
          data-created={result.created}
        >
          <p className="font-medium">
            {result.created
              ? `Created v${result.version.number} of ${result.dataset}`
              : `Unchanged: v${result.version.number} of ${result.dataset} already holds these labels`}
          </p>
          <p className="mt-1">
            {result.exported} {result.exported === 1 ? 'task' : 'tasks'} exported
            {result.unresolved > 0 &&
              `; ${result.unresolved} left out where annotators disagree with no majority (review them)`}
            . Files: {result.files.join(', ')}
          </p>
        </div>
      )}
    </Dialog>
  );
}
