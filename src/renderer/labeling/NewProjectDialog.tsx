import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import type { DatasetVersion } from '#shared/contracts/dataforge';
import { LABEL_KINDS, ProjectName, type LabelKind, type LabelSource } from '#shared/contracts/labeling';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass, Muted } from '../components/ui';
import { fieldClass } from '../datasets/field';
import { isTablePath, versionLabel } from '../datasets/model';
import { queryKeys, useApi } from '../lib/api';
import { LabelSchemaEditor } from './LabelSchemaEditor';
import { checkLabels, KIND_LABELS, KIND_SOURCES, SOURCE_LABELS, toLabelDef, type LabelDraft } from './model';
import { labelingKeys } from './queries';
import { projectPath } from './paths';

const IMAGE = /\.(png|jpe?g|gif|bmp|webp)$/i;
const TEXT = /\.txt$/i;
const FILES_LIMIT = 5000;

/**
 * Makes a labeling project: what to label (kind), from which version and files (source), with which labels
 * (schema), how many answers per task and whether a review step follows. The server's refusal (a name taken, a
 * column missing) is shown here; on success the project's workspace opens.
 */
export function NewProjectDialog({
  open,
  onClose,
  dataset,
  versions,
  initialVersion,
}: {
  open: boolean;
  onClose: () => void;
  dataset: string;
  versions: DatasetVersion[];
  initialVersion: DatasetVersion;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [versionNumber, setVersionNumber] = useState(initialVersion.number);
  const [kind, setKind] = useState<LabelKind>('classification');
  const [sourceType, setSourceType] = useState<LabelSource['type']>('table');
  const [table, setTable] = useState('');
  const [textColumn, setTextColumn] = useState('');
  const [prefix, setPrefix] = useState('');
  const [labels, setLabels] = useState<LabelDraft[]>([]);
  const [overlap, setOverlap] = useState(1);
  const [review, setReview] = useState(false);
  const [instructions, setInstructions] = useState('');

  useEffect(() => {
    if (open) setVersionNumber(initialVersion.number);
  }, [open, initialVersion.number]);

  const version = versions.find((v) => v.number === versionNumber) ?? initialVersion;
  const files = useQuery({
    queryKey: [...labelingKeys.dataset(dataset), 'files', version.id],
    queryFn: () => api.call('datasets.files', { dataset, version: version.id, limit: FILES_LIMIT }),
    enabled: open,
    staleTime: Infinity,
  });
  const profile = useQuery({
    queryKey: queryKeys.datasetProfile(dataset, version.id),
    queryFn: () => api.call('datasets.profile', { dataset, version: version.id }),
    enabled: open,
    staleTime: Infinity,
    retry: false,
  });

  const paths = (files.data?.items ?? []).map((f) => f.path);
  const tables = paths.filter(isTablePath);
  const columns = profile.data?.tables.find((t) => t.path === table)?.columns.map((c) => c.name) ?? null;
  const folders = [...new Set(paths.flatMap((p) => folderPrefixes(p)))].sort();
  const matching = paths.filter((p) => p.startsWith(prefix) && (sourceType === 'images' ? IMAGE : TEXT).test(p));

  // Keep the source consistent with the kind and the files: the first table, a source the kind takes.
  useEffect(() => {
    if (!KIND_SOURCES[kind].includes(sourceType)) setSourceType(KIND_SOURCES[kind][0] as LabelSource['type']);
  }, [kind, sourceType]);
  useEffect(() => {
    if (!tables.includes(table)) setTable(tables[0] ?? '');
  }, [tables, table]);
  useEffect(() => {
    if (columns && textColumn !== '' && !columns.includes(textColumn)) setTextColumn('');
    if (columns && textColumn === '') {
      const guess = columns.find((c) => /^(text|sentence|content|body|review|comment)$/i.test(c));
      if (guess) setTextColumn(guess);
    }
  }, [columns, textColumn]);

  const create = useMutation({
    mutationFn: () =>
      api.call('labeling.create', {
        dataset,
        name: name.trim(),
        version: version.id,
        kind,
        labels: labels.map(toLabelDef),
        source: sourceOf(),
        overlap,
        review,
        instructions: instructions.trim(),
      }),
    onSuccess: (project) => {
      void queryClient.invalidateQueries({ queryKey: labelingKeys.dataset(dataset) });
      close();
      void navigate(projectPath(dataset, project.name));
    },
  });

  function sourceOf(): LabelSource {
    if (sourceType === 'table') return { type: 'table', path: table, ...(textColumn ? { textColumn } : {}) };
    return { type: sourceType, prefix };
  }

  function close() {
    setName('');
    setLabels([]);
    setInstructions('');
    setPrefix('');
    create.reset();
    onClose();
  }

  const nameCheck = ProjectName.safeParse(name.trim());
  const nameError = name.trim() !== '' && !nameCheck.success ? nameCheck.error.issues[0]?.message : undefined;
  const labelProblems = checkLabels(labels);
  const sourceReady = sourceType === 'table' ? table !== '' : true;
  const canSubmit =
    nameCheck.success && labelProblems.rows.size === 0 && labels.length > 0 && sourceReady && !create.isPending;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (canSubmit) create.mutate();
  };

  return (
    <Dialog
      open={open}
      onClose={close}
      title={`New labeling project on ${dataset}`}
      testId="new-project-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button variant="primary" type="submit" form="new-project-form" disabled={!canSubmit}>
            {create.isPending ? 'Creating…' : 'Create project'}
          </Button>
        </>
      }
    >
      <form id="new-project-form" onSubmit={submit} className="space-y-3" aria-label="New labeling project">
        <div className="grid grid-cols-[minmax(0,1fr)_7rem] gap-3">
          <Field id="project-name" label="Name" hint={nameError ? `A name ${nameError}.` : undefined} error>
            <input
              id="project-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="sentiment"
              spellCheck={false}
              autoComplete="off"
              aria-invalid={nameError ? true : undefined}
              className={inputClass}
            />
          </Field>
          <Field id="project-version" label="Version">
            <select
              id="project-version"
              value={versionNumber}
              onChange={(e) => setVersionNumber(Number(e.target.value))}
              className={inputClass}
            >
              {(versions.some((v) => v.id === initialVersion.id) ? versions : [initialVersion, ...versions]).map(
                (v) => (
                  <option key={v.id} value={v.number}>
                    {versionLabel(v)}
                  </option>
                ),
              )}
            </select>
          </Field>
        </div>
        <Field id="project-kind" label="Kind">
          <select
            id="project-kind"
            value={kind}
            onChange={(e) => setKind(e.target.value as LabelKind)}
            className={inputClass}
          >
            {LABEL_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </Field>
        <div className="space-y-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
          <Field id="project-source" label="Tasks from">
            <select
              id="project-source"
              value={sourceType}
              onChange={(e) => setSourceType(e.target.value as LabelSource['type'])}
              className={inputClass}
            >
              {KIND_SOURCES[kind].map((s) => (
                <option key={s} value={s}>
                  {SOURCE_LABELS[s]}
                </option>
              ))}
            </select>
          </Field>
          {files.isError && <ErrorBanner error={files.error} title="Cannot list the version's files" />}
          {sourceType === 'table' ? (
            <div className="grid grid-cols-2 gap-3">
              <Field id="project-table" label="Table">
                <select
                  id="project-table"
                  value={table}
                  onChange={(e) => setTable(e.target.value)}
                  className={inputClass}
                  disabled={tables.length === 0}
                >
                  {tables.length === 0 && <option value="">{files.isPending ? 'Loading…' : 'no tables'}</option>}
                  {tables.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </Field>
              <Field
                id="project-text-column"
                label="Text column"
                hint={kind === 'ner' ? 'the text to mark entities in' : 'shown first; every column is shown'}
              >
                {columns ? (
                  <select
                    id="project-text-column"
                    value={textColumn}
                    onChange={(e) => setTextColumn(e.target.value)}
                    className={inputClass}
                  >
                    <option value="">{kind === 'ner' ? 'choose a column' : 'none'}</option>
                    {columns.map((c) => (
                      <option key={c} value={c}>
                        {c}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    id="project-text-column"
                    value={textColumn}
                    onChange={(e) => setTextColumn(e.target.value)}
                    placeholder="text"
                    spellCheck={false}
                    className={inputClass}
                  />
                )}
              </Field>
            </div>
          ) : (
            <Field
              id="project-prefix"
              label="Folder"
              hint={
                files.isSuccess
                  ? `${matching.length}${files.data.next ? '+' : ''} ${sourceType === 'images' ? 'images' : '.txt files'} ${prefix ? `under ${prefix}` : 'in this version'}`
                  : undefined
              }
            >
              <input
                id="project-prefix"
                list="project-prefix-options"
                value={prefix}
                onChange={(e) => setPrefix(e.target.value)}
                placeholder="all files (or a folder such as images/)"
                spellCheck={false}
                autoComplete="off"
                className={inputClass}
              />
              <datalist id="project-prefix-options">
                {folders.map((f) => (
                  <option key={f} value={f} />
                ))}
              </datalist>
            </Field>
          )}
        </div>
        <div>
          <p className="mb-1 font-medium">Labels</p>
          <LabelSchemaEditor labels={labels} onChange={setLabels} />
        </div>
        <div className="flex flex-wrap items-end gap-x-5 gap-y-2">
          <Field id="project-overlap" label="Answers per task">
            <input
              id="project-overlap"
              type="number"
              min={1}
              max={20}
              value={overlap}
              onChange={(e) => setOverlap(Math.min(20, Math.max(1, Number(e.target.value) || 1)))}
              className={fieldClass({ width: 'w-24' })}
            />
          </Field>
          <label className="flex h-8 items-center gap-2">
            <input type="checkbox" checked={review} onChange={(e) => setReview(e.target.checked)} />
            Review step (a reviewer makes each label final)
          </label>
        </div>
        <Field id="project-instructions" label="Instructions" hint="shown to annotators beside each task">
          <textarea
            id="project-instructions"
            value={instructions}
            onChange={(e) => setInstructions(e.target.value)}
            rows={3}
            className={fieldClass({ height: 'h-auto', extra: 'py-1.5' })}
          />
        </Field>
      </form>
      {create.isError && <ErrorBanner error={create.error} title="The project was not created" />}
    </Dialog>
  );
}

function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string | undefined;
  /** The hint is a problem (shown in red). */
  error?: boolean;
  children: ReactNode;
}) {
  return (
    <div className="min-w-0">
      <label htmlFor={id} className="mb-1 block font-medium">
        {label}
      </label>
      {children}
      {hint &&
        (error ? (
          <p className="mt-1 text-[12px] text-red-700 dark:text-red-400">{hint}</p>
        ) : (
          <Muted className="mt-1 block text-[12px]">{hint}</Muted>
        ))}
    </div>
  );
}

/** "a/b/c.png" → ["a/", "a/b/"]. */
function folderPrefixes(path: string): string[] {
  const parts = path.split('/').slice(0, -1);
  return parts.map((_, i) => `${parts.slice(0, i + 1).join('/')}/`);
}
