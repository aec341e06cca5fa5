import { useQuery, useQueryClient } from '@tanstack/react-query';
import { memo, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { DatasetName } from '#shared/contracts/dataforge';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, cx, inputClass, inputClasses, Muted, ProgressBar } from '../components/ui';
import { queryKeys, useApi, type Out } from '../lib/api';
import { describeError } from '../lib/errors';
import { formatBytes, formatPercent } from '../lib/format';
import { useToasts } from '../lib/toasts';
import { versionLabel } from './model';
import {
  commonRoot,
  datasetNameFrom,
  eachLimited,
  fileSource,
  folderPrefix,
  isRetryable,
  isSafeRelativePath,
  MAX_RETRIES,
  mergePicked,
  PauseGate,
  pickedFromInput,
  targetPath,
  uploadClientOf,
  uploadFile,
  type PickedFile,
  type UploadPhase,
} from './upload';

/** Files sent side by side: several small files go faster than one at a time; a large one still goes in chunks. */
const PARALLEL_FILES = 3;
const EXISTING_LIMIT = 5000;

export type CommitResult = Out<'datasets.commit'>;

type Stage = 'select' | 'uploading' | 'failed' | 'committing' | 'commitFailed' | 'done';

interface FileState {
  phase: UploadPhase | 'waiting' | 'failed';
  sent: number;
  uploadId?: string;
  attempt?: number;
  error?: unknown;
}

interface PlanItem {
  path: string;
  file: File;
}

const WAITING: FileState = { phase: 'waiting', sent: 0 };
const FLUSH_MS = 100;
/** Rows listed at most (the totals count them all). */
const ROWS_SHOWN = 500;

/** Why an upload stopped: the file and the error of its last try. */
class FileFailure extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(describeError(cause).message);
  }
}

const PHASE_RANK: Record<FileState['phase'], number> = {
  failed: 0,
  retrying: 1,
  uploading: 2,
  hashing: 2,
  paused: 2,
  waiting: 3,
  done: 4,
};

/** The rows of a running upload in the order shown: trouble first, then files under way, waiting, done. */
function progressOrder(states: readonly FileState[], count: number): number[] {
  const rank = (i: number) => PHASE_RANK[(states[i] ?? WAITING).phase];
  return Array.from({ length: count }, (_, i) => i).sort((a, b) => rank(a) - rank(b) || a - b);
}

function MoreRows({ count }: { count: number }) {
  return (
    <li className="px-2.5 py-1.5 text-[12px] text-zinc-500 dark:text-zinc-400">
      and {count.toLocaleString('en-US')} more
    </li>
  );
}

/**
 * Uploads files from this computer as a new version: picked with the file or folder choosers or dropped (here or
 * anywhere on the page), sent in resumable chunks with per-file and total progress, Pause/Resume and automatic
 * retries, then committed with `datasets.commit`. Without `dataset` it makes a dataset (its files exactly those
 * uploaded); with one, the files are added to (or replace those of) the latest version under an optional folder.
 */
export function UploadDialog({
  open,
  onClose,
  dataset,
  incoming,
  onCommitted,
}: {
  open: boolean;
  onClose: () => void;
  dataset?: string;
  /** Files dropped on the page (a new `id` each drop): added to the list while it can still change. */
  incoming?: { id: number; files: PickedFile[] } | null;
  onCommitted?: (result: CommitResult) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [name, setName] = useState(dataset ?? '');
  const [nameTouched, setNameTouched] = useState(false);
  const [folder, setFolder] = useState('');
  const [message, setMessage] = useState('');
  const [keepRoot, setKeepRoot] = useState(dataset !== undefined);
  const [stage, setStage] = useState<Stage>('select');
  const [states, setStates] = useState<FileState[]>([]);
  const statesRef = useRef<FileState[]>([]);
  const [plan, setPlan] = useState<PlanItem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [paused, setPaused] = useState(false);
  const [result, setResult] = useState<CommitResult | null>(null);
  const gate = useRef(new PauseGate());
  const abort = useRef<AbortController | null>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const root = useMemo(() => commonRoot(files.map((f) => f.path)), [files]);
  const strip = root !== null && !keepRoot ? root : null;
  const prefix = dataset === undefined ? '' : folderPrefix(folder);
  const prefixOk = prefix === '' || isSafeRelativePath(`${prefix}x`);
  const targets = useMemo(() => files.map((f) => targetPath(f.path, prefix, strip)), [files, prefix, strip]);
  const badPaths = targets.filter((p) => !isSafeRelativePath(p));
  const totalBytes = files.reduce((n, f) => n + f.file.size, 0);

  // A dropped folder names the dataset, as `aidos datasets import <folder>` does, until a name is typed.
  useEffect(() => {
    if (dataset === undefined && !nameTouched && root !== null) setName(datasetNameFrom(root));
  }, [dataset, nameTouched, root]);

  const existing = useQuery({
    queryKey: queryKeys.datasetNames,
    queryFn: () => api.call('datasets.list', { limit: 200 }),
    enabled: open && dataset === undefined,
  });
  // On a dataset: which of the files replace ones of the latest version.
  const latestFiles = useQuery({
    // Under the dataset's details, which every new version invalidates: "latest" moves.
    queryKey: [...queryKeys.dataset(dataset ?? ''), 'latest-files', prefix],
    queryFn: () =>
      api.call('datasets.files', { dataset: dataset ?? '', version: 'latest', prefix, limit: EXISTING_LIMIT }),
    enabled: open && dataset !== undefined && prefixOk && stage === 'select',
    retry: false,
  });
  const replaced = useMemo(() => new Set((latestFiles.data?.items ?? []).map((e) => e.path)), [latestFiles.data]);

  const target = dataset ?? name.trim();
  const nameCheck = DatasetName.safeParse(name.trim());
  const nameError =
    dataset === undefined && name.trim() !== '' && !nameCheck.success ? nameCheck.error.issues[0]?.message : undefined;
  const nameExists = dataset === undefined && (existing.data?.items ?? []).some((d) => d.name === name.trim());
  const canUpload =
    stage === 'select' &&
    files.length > 0 &&
    badPaths.length === 0 &&
    prefixOk &&
    (dataset !== undefined || nameCheck.success);

  // Progress lands in the ref at once and on screen at most every FLUSH_MS: thousands of small files would
  // otherwise copy the whole list for every event.
  const flushTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const update = (index: number, state: FileState) => {
    statesRef.current[index] = state;
    flushTimer.current ??= setTimeout(() => {
      flushTimer.current = null;
      setStates(statesRef.current.slice());
    }, FLUSH_MS);
  };
  useEffect(() => () => clearTimeout(flushTimer.current ?? undefined), []);

  async function commit(items: PlanItem[]) {
    setStates(statesRef.current.slice());
    setStage('committing');
    setError(null);
    try {
      const made = await api.call('datasets.commit', {
        dataset: target,
        files: items.map((item, i) => ({ path: item.path, uploadId: statesRef.current[i]?.uploadId ?? '' })),
        remove: [],
        message: message.trim(),
        base: dataset === undefined ? 'empty' : 'latest',
        create: dataset === undefined,
      });
      setResult(made);
      setStage('done');
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetsList });
      void queryClient.invalidateQueries({ queryKey: queryKeys.datasetDetails });
      onCommitted?.(made);
    } catch (e) {
      setError(e);
      setStage('commitFailed');
    }
  }

  /** Sends every file not yet done (resuming those under way), then commits. */
  async function run(items: PlanItem[]) {
    const controller = new AbortController();
    abort.current = controller;
    setStage('uploading');
    setError(null);
    const client = uploadClientOf(api);
    const pending = items.flatMap((_, i) => (statesRef.current[i]?.phase === 'done' ? [] : [i]));
    try {
      await eachLimited(pending, PARALLEL_FILES, async (i) => {
        const item = items[i] as PlanItem;
        try {
          const upload = await uploadFile(fileSource(item.path, item.file), client, {
            gate: gate.current,
            signal: controller.signal,
            resumeId: statesRef.current[i]?.uploadId,
            onProgress: (p) =>
              update(i, {
                phase: p.phase,
                sent: p.sent,
                uploadId: p.uploadId ?? statesRef.current[i]?.uploadId,
                attempt: p.attempt,
                error: p.error,
              }),
          });
          update(i, { phase: 'done', sent: item.file.size, uploadId: upload.id });
        } catch (e) {
          if (controller.signal.aborted) throw e;
          update(i, { ...(statesRef.current[i] ?? WAITING), phase: 'failed', error: e });
          throw new FileFailure(item.path, e);
        }
      });
    } catch (e) {
      if (controller.signal.aborted) return;
      setStates(statesRef.current.slice());
      setError(e instanceof FileFailure ? e : new FileFailure('', e));
      setStage('failed');
      return;
    }
    if (!controller.signal.aborted) await commit(items);
  }

  function start(e?: FormEvent) {
    e?.preventDefault();
    if (!canUpload) return;
    const items = files.map((f, i) => ({ path: targets[i] as string, file: f.file }));
    statesRef.current = items.map(() => WAITING);
    setStates(statesRef.current.slice());
    setPlan(items);
    gate.current.resume();
    setPaused(false);
    void run(items);
  }

  function togglePause() {
    if (gate.current.isPaused) gate.current.resume();
    else gate.current.pause();
    setPaused(gate.current.isPaused);
  }

  /** Stops sending and drops what the server holds of these files (it would expire in a day anyway). */
  function cancelUploads() {
    abort.current?.abort();
    gate.current.resume();
    const ids = statesRef.current.flatMap((s) => (s.uploadId ? [s.uploadId] : []));
    for (const id of ids) void api.call('uploads.cancel', { id }).catch(() => undefined);
  }

  function reset() {
    statesRef.current = [];
    setStates([]);
    setPlan([]);
    setStage('select');
    setError(null);
    setResult(null);
    setPaused(false);
    setMessage('');
    setNameTouched(false);
    if (dataset === undefined) setName('');
    gate.current.resume();
    setFiles([]);
  }

  function close() {
    const sending = stage === 'uploading' || stage === 'committing' || stage === 'failed' || stage === 'commitFailed';
    if (sending) {
      if (!window.confirm('Stop this upload? The files sent so far are dropped and no version is made.')) return;
      cancelUploads();
    }
    reset();
    onClose();
  }

  const add = (picked: PickedFile[]) => {
    if (picked.length === 0) return;
    if (stage === 'select') setFiles((current) => mergePicked(current, picked));
    else
      useToasts
        .getState()
        .push({ tone: 'info', title: 'Finish this upload first', message: 'Files dropped now are not added to it.' });
  };
  const seen = useRef<number | null>(null);
  useEffect(() => {
    if (!incoming || seen.current === incoming.id) return;
    seen.current = incoming.id;
    add(incoming.files);
  });

  const shown = stage === 'select' ? null : plan;
  const sentBytes = states.reduce((n, s) => n + s.sent, 0);
  const planBytes = plan.reduce((n, p) => n + p.file.size, 0);
  const doneFiles = states.filter((s) => s.phase === 'done').length;
  const totalFraction = planBytes > 0 ? sentBytes / planBytes : plan.length > 0 ? doneFiles / plan.length : 0;

  return (
    <Dialog
      open={open}
      onClose={close}
      title={dataset ? `Upload files to ${dataset}` : 'Upload files as a new dataset'}
      testId="upload-dialog"
      footer={
        stage === 'select' ? (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="primary" type="submit" form="upload-form" disabled={!canUpload}>
              Upload{files.length > 0 ? ` ${files.length} ${files.length === 1 ? 'file' : 'files'}` : ''}
            </Button>
          </>
        ) : stage === 'done' ? (
          <>
            <Button onClick={reset}>Upload more</Button>
            <Button variant="primary" onClick={close}>
              Done
            </Button>
          </>
        ) : (
          <>
            <Button onClick={close}>Cancel upload</Button>
            {stage === 'uploading' && (
              <Button onClick={togglePause} aria-pressed={paused}>
                {paused ? 'Resume' : 'Pause'}
              </Button>
            )}
            {stage === 'failed' && (
              <Button variant="primary" onClick={() => void run(plan)}>
                Retry
              </Button>
            )}
            {stage === 'commitFailed' && (
              <Button variant="primary" onClick={() => void commit(plan)}>
                Retry
              </Button>
            )}
          </>
        )
      }
    >
      {stage === 'select' && (
        <form id="upload-form" onSubmit={start} className="space-y-3" aria-label="Upload files">
          {dataset === undefined && (
            <div>
              <label htmlFor="upload-name" className="mb-1 block font-medium">
                Dataset
              </label>
              <input
                id="upload-name"
                value={name}
                onChange={(e) => {
                  setName(e.target.value);
                  setNameTouched(true);
                }}
                placeholder="flowers"
                spellCheck={false}
                autoComplete="off"
                aria-invalid={nameError ? true : undefined}
                aria-describedby="upload-name-hint"
                className={inputClass}
              />
              <p
                id="upload-name-hint"
                className={cx(
                  'mt-1 text-[12px]',
                  nameError ? 'text-red-700 dark:text-red-400' : 'text-zinc-500 dark:text-zinc-400',
                )}
              >
                {nameError
                  ? `The name ${nameError}.`
                  : nameExists
                    ? 'An existing dataset: the new version holds exactly these files (to add files, upload on its page).'
                    : 'A new dataset, made with these files as version 1.'}
              </p>
            </div>
          )}
          {dataset !== undefined && (
            <div>
              <label htmlFor="upload-folder" className="mb-1 block font-medium">
                Folder in the dataset <Muted className="font-normal">(optional)</Muted>
              </label>
              <input
                id="upload-folder"
                value={folder}
                onChange={(e) => setFolder(e.target.value)}
                placeholder="images/new"
                spellCheck={false}
                autoComplete="off"
                aria-invalid={prefixOk ? undefined : true}
                aria-describedby="upload-folder-hint"
                className={inputClasses({ mono: true })}
              />
              <p
                id="upload-folder-hint"
                className={cx(
                  'mt-1 text-[12px]',
                  prefixOk ? 'text-zinc-500 dark:text-zinc-400' : 'text-red-700 dark:text-red-400',
                )}
              >
                {prefixOk
                  ? 'Added on top of the latest version; a file at a path that exists replaces it.'
                  : 'A folder is a relative path without empty, "." or ".." parts.'}
              </p>
            </div>
          )}
          <DropArea
            onChooseFiles={() => filesInput.current?.click()}
            onChooseFolder={() => folderInput.current?.click()}
          />
          <input
            ref={filesInput}
            type="file"
            multiple
            hidden
            data-testid="upload-files-input"
            aria-label="Choose files"
            onChange={(e) => {
              add(pickedFromInput(e.target.files ?? []));
              e.target.value = '';
            }}
          />
          <input
            ref={(el) => {
              folderInput.current = el;
              el?.setAttribute('webkitdirectory', '');
            }}
            type="file"
            multiple
            hidden
            data-testid="upload-folder-input"
            aria-label="Choose a folder"
            onChange={(e) => {
              add(pickedFromInput(e.target.files ?? []));
              e.target.value = '';
            }}
          />
          {files.length > 0 && (
            <>
              <div className="flex items-center justify-between text-[12px]">
                <span className="font-medium" data-testid="upload-summary">
                  {files.length} {files.length === 1 ? 'file' : 'files'} · {formatBytes(totalBytes)}
                </span>
                <Button size="sm" variant="ghost" onClick={() => setFiles([])}>
                  Clear
                </Button>
              </div>
              {root !== null && (
                <label className="flex items-center gap-2 text-[12px]">
                  <input type="checkbox" checked={keepRoot} onChange={(e) => setKeepRoot(e.target.checked)} />
                  Keep the folder <code className="font-mono">{root}/</code> in the paths
                </label>
              )}
              <ul
                className="max-h-56 divide-y divide-zinc-100 overflow-y-auto rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
                aria-label="Files to upload"
              >
                {files.slice(0, ROWS_SHOWN).map((f, i) => {
                  const path = targets[i] ?? f.path;
                  const bad = !isSafeRelativePath(path);
                  return (
                    <li
                      key={f.path}
                      data-testid="upload-file"
                      data-path={path}
                      className="flex items-center gap-2 px-2.5 py-1.5 text-[12px]"
                    >
                      <span
                        className={cx('min-w-0 flex-1 truncate font-mono', bad && 'text-red-700 dark:text-red-400')}
                        title={path}
                      >
                        {path}
                      </span>
                      {bad && <span className="shrink-0 text-red-700 dark:text-red-400">not a valid path</span>}
                      {!bad && replaced.has(path) && (
                        <span className="shrink-0 rounded bg-amber-50 px-1.5 text-[11px] text-amber-800 ring-1 ring-amber-200 ring-inset dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800">
                          replaces
                        </span>
                      )}
                      <span className="shrink-0 text-zinc-500 tabular-nums dark:text-zinc-400">
                        {formatBytes(f.file.size)}
                      </span>
                      <button
                        type="button"
                        onClick={() => setFiles(files.filter((x) => x !== f))}
                        aria-label={`Remove ${path}`}
                        title="Remove from the upload"
                        className="shrink-0 rounded px-1 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-zinc-100"
                      >
                        ×
                      </button>
                    </li>
                  );
                })}
                {files.length > ROWS_SHOWN && <MoreRows count={files.length - ROWS_SHOWN} />}
              </ul>
              {badPaths.length > 0 && (
                <p className="text-[12px] text-red-700 dark:text-red-400">
                  {badPaths.length} {badPaths.length === 1 ? 'path is' : 'paths are'} not valid in a dataset (for
                  example <code className="font-mono">{badPaths[0]}</code>): remove{' '}
                  {badPaths.length === 1 ? 'it' : 'them'} or rename the file.
                </p>
              )}
            </>
          )}
          <div>
            <label htmlFor="upload-message" className="mb-1 block font-medium">
              Message <Muted className="font-normal">(optional)</Muted>
            </label>
            <input
              id="upload-message"
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              placeholder="What changed in this version"
              maxLength={2000}
              className={inputClass}
            />
          </div>
        </form>
      )}

      {shown && (
        <div className="space-y-3" data-testid="upload-progress" data-stage={stage}>
          <div className="space-y-1.5">
            <div className="flex items-center justify-between gap-2 text-[12px]">
              <span className="font-medium">
                {stage === 'committing'
                  ? 'Making the version…'
                  : stage === 'done'
                    ? 'Uploaded'
                    : paused
                      ? 'Paused'
                      : stage === 'uploading'
                        ? `Uploading to ${target}`
                        : 'Stopped'}
              </span>
              <span className="text-zinc-500 tabular-nums dark:text-zinc-400" data-testid="upload-total">
                {doneFiles} of {plan.length} {plan.length === 1 ? 'file' : 'files'} · {formatBytes(sentBytes)} of{' '}
                {formatBytes(planBytes)} · {formatPercent(totalFraction)}
              </span>
            </div>
            <ProgressBar
              value={totalFraction}
              label="Total upload progress"
              tone={
                stage === 'failed' || stage === 'commitFailed'
                  ? 'red'
                  : stage === 'done'
                    ? 'emerald'
                    : paused
                      ? 'amber'
                      : 'indigo'
              }
            />
          </div>
          <ul
            className="max-h-56 divide-y divide-zinc-100 overflow-y-auto rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
            aria-label="Files being uploaded"
          >
            {progressOrder(states, shown.length)
              .slice(0, ROWS_SHOWN)
              .map((i) => {
                const item = shown[i] as PlanItem;
                return (
                  <ProgressRow
                    key={item.path}
                    path={item.path}
                    size={item.file.size}
                    state={states[i] ?? WAITING}
                    paused={paused}
                  />
                );
              })}
            {shown.length > ROWS_SHOWN && <MoreRows count={shown.length - ROWS_SHOWN} />}
          </ul>
          {stage === 'failed' && error instanceof FileFailure && (
            <ErrorBanner
              error={error.cause}
              title={
                isRetryable(error.cause)
                  ? `${error.path || 'A file'} could not be sent: ${MAX_RETRIES + 1} tries in a row failed. Retry goes on from where it stopped.`
                  : `${error.path || 'A file'} was refused`
              }
            />
          )}
          {stage === 'commitFailed' && error !== null && (
            <ErrorBanner error={error} title="The files arrived, but the version was not made" />
          )}
          {stage === 'done' && result && <Outcome result={result} dataset={target} onOpen={close} />}
        </div>
      )}
    </Dialog>
  );
}

/** Where files are dropped or chosen inside the dialog (drops anywhere on the page land here too). */
function DropArea({ onChooseFiles, onChooseFolder }: { onChooseFiles: () => void; onChooseFolder: () => void }) {
  const [over, setOver] = useState(false);
  return (
    <div
      data-testid="upload-drop"
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      // The page's drop handler (on the window) reads what is dropped and hands it to the dialog.
      onDrop={() => setOver(false)}
      className={cx(
        'flex flex-col items-center gap-2 rounded-lg border-2 border-dashed px-4 py-5 text-center transition-colors',
        over
          ? 'border-indigo-400 bg-indigo-50 dark:border-indigo-500 dark:bg-indigo-950/40'
          : 'border-zinc-300 dark:border-zinc-700',
      )}
    >
      <UploadIcon className="text-zinc-400 dark:text-zinc-500" />
      <p className="text-zinc-600 dark:text-zinc-300">Drop files or a folder here</p>
      <div className="flex gap-2">
        <Button size="sm" onClick={onChooseFiles}>
          Choose files…
        </Button>
        <Button size="sm" onClick={onChooseFolder}>
          Choose a folder…
        </Button>
      </div>
    </div>
  );
}

function UploadIcon({ className }: { className?: string }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width={22}
      height={22}
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      className={className}
    >
      <path d="M12 16V4" />
      <path d="m7 9 5-5 5 5" />
      <path d="M4 16v2.5A1.5 1.5 0 0 0 5.5 20h13a1.5 1.5 0 0 0 1.5-1.5V16" />
    </svg>
  );
}

const ProgressRow = memo(function ProgressRow({
  path,
  size,
  state,
  paused,
}: {
  path: string;
  size: number;
  state: FileState;
  paused: boolean;
}) {
  const fraction = size > 0 ? state.sent / size : state.phase === 'done' ? 1 : 0;
  const status =
    state.phase === 'done'
      ? 'done'
      : state.phase === 'failed'
        ? describeError(state.error).message
        : state.phase === 'retrying'
          ? `retrying (${state.attempt ?? 1}/${MAX_RETRIES}) after ${describeError(state.error).message}`
          : state.phase === 'hashing'
            ? 'hashing…'
            : state.phase === 'waiting'
              ? 'waiting'
              : state.phase === 'paused'
                ? `paused at ${formatPercent(fraction)}`
                : paused
                  ? `${formatPercent(fraction)}, pausing after this chunk…`
                  : formatPercent(fraction);
  const tone =
    state.phase === 'done'
      ? 'emerald'
      : state.phase === 'failed'
        ? 'red'
        : state.phase === 'retrying' || state.phase === 'paused'
          ? 'amber'
          : 'indigo';
  return (
    <li
      className="space-y-1 px-2.5 py-1.5 text-[12px]"
      data-testid="upload-row"
      data-path={path}
      data-phase={state.phase}
    >
      <div className="flex items-center gap-2">
        <span className="min-w-0 flex-1 truncate font-mono" title={path}>
          {path}
        </span>
        <span className="shrink-0 text-zinc-500 tabular-nums dark:text-zinc-400">{formatBytes(size)}</span>
      </div>
      <ProgressBar value={state.phase === 'waiting' ? 0 : fraction} tone={tone} label={`Upload of ${path}`} />
      <p
        className={cx(
          'truncate text-[11px]',
          state.phase === 'failed'
            ? 'text-red-700 dark:text-red-400'
            : state.phase === 'retrying'
              ? 'text-amber-700 dark:text-amber-400'
              : 'text-zinc-500 dark:text-zinc-400',
        )}
        title={status}
      >
        {status}
      </p>
    </li>
  );
});

function Outcome({ result, dataset, onOpen }: { result: CommitResult; dataset: string; onOpen: () => void }) {
  const v = result.version;
  const to = `/datasets/${encodeURIComponent(dataset)}?v=${v.number}`;
  return (
    <div className="space-y-1" data-testid="upload-result" data-created={result.created} data-version={v.number}>
      {result.created ? (
        <p className="font-medium text-emerald-700 dark:text-emerald-400">
          Created{' '}
          <Link to={to} onClick={onOpen} className="underline hover:text-emerald-900 dark:hover:text-emerald-200">
            {versionLabel(v)}
          </Link>{' '}
          of {dataset}: {v.fileCount} {v.fileCount === 1 ? 'file' : 'files'}, {formatBytes(v.totalBytes)}
        </p>
      ) : (
        <p className="font-medium text-zinc-800 dark:text-zinc-200">
          Unchanged, no new version: the content equals{' '}
          <Link to={to} onClick={onOpen} className="underline">
            {versionLabel(v)}
          </Link>
          .
        </p>
      )}
    </div>
  );
}
