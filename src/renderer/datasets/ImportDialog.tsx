import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { DatasetName, type ImportResult } from '#shared/contracts/dataforge';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass, Muted } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes } from '../lib/format';
import { FolderField } from './FolderField';
import { isFinished, JobProgress, useJob } from './jobs';
import { importResultOf, isAbsolutePath } from './model';

const SKIPPED_SHOWN = 20;

/**
 * Imports a folder (or file) on the core's machine as a new version: creates the dataset when the name is new,
 * then follows the import job live and says what came of it.
 */
export function ImportDialog({
  open,
  onClose,
  dataset,
  onImported,
}: {
  open: boolean;
  onClose: () => void;
  /** Import into this dataset (the name field is then hidden). */
  dataset?: string;
  /** Called once when the import job succeeds. */
  onImported?: (result: ImportResult) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState(dataset ?? '');
  const [path, setPath] = useState('');
  const [message, setMessage] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob(jobId);

  useEffect(() => {
    if (open) setName(dataset ?? '');
  }, [open, dataset]);

  const existing = useQuery({
    queryKey: queryKeys.datasetNames,
    queryFn: () => api.call('datasets.list', { limit: 200 }),
    enabled: open && dataset === undefined,
  });

  const start = useMutation({
    mutationFn: (input: { dataset: string; path: string; message: string }) =>
      api.call('datasets.import', { ...input, create: true }),
    onSuccess: (started) => {
      setJobId(started.id);
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
    },
  });

  const finished = isFinished(job);
  const result = job?.status === 'succeeded' ? importResultOf(job.result) : null;
  const reported = useRef<string | null>(null);
  useEffect(() => {
    if (!finished || !job || reported.current === job.id) return;
    reported.current = job.id;
    void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
    void queryClient.invalidateQueries({ queryKey: queryKeys.datasetDetails });
    if (result) onImported?.(result);
  }, [finished, job, result, onImported, queryClient]);

  function reset() {
    setJobId(null);
    setPath('');
    setMessage('');
    start.reset();
  }
  function close() {
    reset();
    onClose();
  }

  const nameCheck = DatasetName.safeParse(name.trim());
  const nameError = name.trim() !== '' && !nameCheck.success ? nameCheck.error.issues[0]?.message : undefined;
  const canSubmit = nameCheck.success && isAbsolutePath(path.trim()) && !start.isPending && jobId === null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!canSubmit) return;
    start.mutate({ dataset: name.trim(), path: path.trim(), message: message.trim() });
  };
  const busy = jobId !== null;
  const isNew =
    dataset === undefined &&
    nameCheck.success &&
    existing.data &&
    !existing.data.items.some((d) => d.name === name.trim());

  return (
    <Dialog
      open={open}
      onClose={close}
      title={dataset ? `Import a new version of ${dataset}` : 'Import from a folder'}
      testId="import-dialog"
      footer={
        busy ? (
          <>
            {finished && (
              <Button onClick={reset} disabled={!finished}>
                Import another
              </Button>
            )}
            {result && dataset === undefined && (
              <Link
                to={`/datasets/${encodeURIComponent(name.trim())}`}
                onClick={close}
                className="inline-flex h-8 items-center rounded-md bg-indigo-600 px-3 text-[13px] font-medium text-white shadow-sm hover:bg-indigo-500"
              >
                Open {name.trim()}
              </Link>
            )}
            <Button variant={result && dataset === undefined ? 'secondary' : 'primary'} onClick={close}>
              {finished ? 'Done' : 'Close (keeps running)'}
            </Button>
          </>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="primary" type="submit" form="import-form" disabled={!canSubmit}>
              {start.isPending ? 'Starting…' : 'Import'}
            </Button>
          </>
        )
      }
    >
      <form id="import-form" onSubmit={submit} className="space-y-3" aria-label="Import a dataset">
        {dataset === undefined && (
          <div>
            <label htmlFor="import-name" className="mb-1 block font-medium">
              Dataset
            </label>
            <input
              id="import-name"
              list="import-name-options"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="flowers"
              spellCheck={false}
              autoComplete="off"
              disabled={busy}
              aria-invalid={nameError ? true : undefined}
              aria-describedby="import-name-hint"
              className={inputClass}
            />
            <datalist id="import-name-options">
              {(existing.data?.items ?? []).map((d) => (
                <option key={d.id} value={d.name} />
              ))}
            </datalist>
            <p
              id="import-name-hint"
              className={
                nameError
                  ? 'mt-1 text-[12px] text-red-700 dark:text-red-400'
                  : 'mt-1 text-[12px] text-zinc-500 dark:text-zinc-400'
              }
            >
              {nameError
                ? `The name ${nameError}.`
                : isNew
                  ? 'A new dataset: it is created with this import.'
                  : 'A new name creates the dataset; an existing one gets a new version.'}
            </p>
          </div>
        )}
        <FolderField
          id="import-path"
          label="Folder or file on the server"
          value={path}
          onChange={setPath}
          disabled={busy}
          hint="An absolute path on the machine running the AI-DOS core. Symbolic links are not followed."
        />
        <div>
          <label htmlFor="import-message" className="mb-1 block font-medium">
            Message <Muted className="font-normal">(optional)</Muted>
          </label>
          <input
            id="import-message"
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            placeholder="What changed in this version"
            disabled={busy}
            maxLength={2000}
            className={inputClass}
          />
        </div>
      </form>
      {start.isError && <ErrorBanner error={start.error} title="The import did not start" />}
      {busy && (
        <div className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
          <JobProgress job={job} label="Import progress" />
          {result && <ImportOutcome result={result} />}
          {job?.status === 'succeeded' && !result && <Muted>The import finished.</Muted>}
        </div>
      )}
    </Dialog>
  );
}

function ImportOutcome({ result }: { result: ImportResult }) {
  const known = result.files - result.hashedFiles;
  return (
    <div className="mt-3 space-y-1.5" data-testid="import-result" data-created={result.created}>
      {result.created ? (
        <p className="font-medium text-emerald-700 dark:text-emerald-400">
          Created v{result.version.number}: {result.files} {result.files === 1 ? 'file' : 'files'},{' '}
          {formatBytes(result.bytes)}
        </p>
      ) : (
        <p className="font-medium text-zinc-800 dark:text-zinc-200">
          Unchanged, no new version: the content equals v{result.version.number}.
        </p>
      )}
      <p className="text-[12px] text-zinc-600 dark:text-zinc-400" data-testid="import-read">
        Read {result.hashedFiles} of {result.files} files ({formatBytes(result.hashedBytes)});{' '}
        {known === 0
          ? 'none was known from an earlier import.'
          : `${known} known unchanged from an earlier import, not read again.`}
      </p>
      {result.skipped.length > 0 && (
        <details className="text-[12px]">
          <summary className="cursor-pointer text-amber-700 dark:text-amber-400">
            Skipped {result.skipped.length} {result.skipped.length === 1 ? 'entry' : 'entries'}
          </summary>
          <ul className="mt-1 max-h-40 space-y-0.5 overflow-y-auto font-mono text-[11px]">
            {result.skipped.slice(0, SKIPPED_SHOWN).map((s) => (
              <li key={s.path}>
                {s.path} <Muted>— {s.reason}</Muted>
              </li>
            ))}
            {result.skipped.length > SKIPPED_SHOWN && (
              <li>
                <Muted>and {result.skipped.length - SKIPPED_SHOWN} more</Muted>
              </li>
            )}
          </ul>
        </details>
      )}
    </div>
  );
}
