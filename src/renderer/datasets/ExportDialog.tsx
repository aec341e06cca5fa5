import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { DatasetVersion } from '#shared/contracts/dataforge';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button } from '../components/ui';
import { useApi } from '../lib/api';
import { formatBytes } from '../lib/format';
import { FolderField } from './FolderField';
import { isFinished, JobProgress, useJob } from './jobs';
import { exportResultOf, isAbsolutePath, versionLabel } from './model';

/** Writes a version into a new or empty folder on the core's machine, following the export job. */
export function ExportDialog({
  open,
  onClose,
  dataset,
  version,
}: {
  open: boolean;
  onClose: () => void;
  dataset: string;
  version: DatasetVersion;
}) {
  const api = useApi();
  const [path, setPath] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob(jobId);
  const start = useMutation({
    mutationFn: (target: string) => api.call('datasets.export', { dataset, version: version.id, path: target }),
    onSuccess: (started) => setJobId(started.id),
  });

  function close() {
    setJobId(null);
    setPath('');
    start.reset();
    onClose();
  }
  const canSubmit = isAbsolutePath(path.trim()) && !start.isPending && jobId === null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (canSubmit) start.mutate(path.trim());
  };
  const result = job?.status === 'succeeded' ? exportResultOf(job.result) : null;
  const finished = isFinished(job);

  return (
    <Dialog
      open={open}
      onClose={close}
      title={`Export ${dataset} ${versionLabel(version)}`}
      testId="export-dialog"
      footer={
        jobId ? (
          <Button variant="primary" onClick={close}>
            {finished ? 'Done' : 'Close (keeps running)'}
          </Button>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="primary" type="submit" form="export-form" disabled={!canSubmit}>
              {start.isPending ? 'Starting…' : 'Export'}
            </Button>
          </>
        )
      }
    >
      <p className="text-zinc-600 dark:text-zinc-400">
        Writes the {version.fileCount} files ({formatBytes(version.totalBytes)}) of {versionLabel(version)} into a
        folder, checking every file against its hash. Nothing appears there until all files are written.
      </p>
      <form id="export-form" onSubmit={submit} aria-label="Export a version">
        <FolderField
          id="export-path"
          label="Target folder on the server"
          value={path}
          onChange={setPath}
          disabled={jobId !== null}
          hint="A new or empty folder; its parent must exist."
        />
      </form>
      {start.isError && <ErrorBanner error={start.error} title="The export did not start" />}
      {jobId && (
        <div className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
          <JobProgress job={job} label="Export progress" />
          {result && (
            <p className="mt-3 font-medium text-emerald-700 dark:text-emerald-400" data-testid="export-result">
              Wrote {result.files} files ({formatBytes(result.bytes)}) to{' '}
              <span className="font-mono text-[12px]">{result.path}</span>
            </p>
          )}
        </div>
      )}
    </Dialog>
  );
}
