import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { DatasetVersion } from '#shared/contracts/dataforge';
import type { TemplateParam, TrainingTemplate } from '#shared/contracts/trainos';
import { cx, inputClass, Muted } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { formatBytes, formatDateTime } from '../lib/format';
import {
  ExperimentField,
  Field,
  PriorityField,
  ResourceFields,
  KeepCheckpointsField,
  RetriesField,
  TemplateParamInput,
} from './form-fields';
import { switchTemplate, type DatasetChoice, type TemplateDraft } from './template-job';

/** As many datasets as the menu lists (the upload and import dialogs ask for the same). */
const DATASETS_LISTED = 200;
const VERSIONS_LISTED = 100;

/**
 * The template form: which template, a dataset version for each dataset it reads, one typed field per parameter
 * (defaults filled in), and the job's name, experiment, priority and resources (the template's, to begin with).
 */
export function TemplateJobFields({
  templates,
  template,
  draft,
  onChange,
  errorOf,
}: {
  templates: readonly TrainingTemplate[];
  template: TrainingTemplate;
  draft: TemplateDraft;
  onChange: (draft: TemplateDraft) => void;
  /** The server's complaint about a field: `params.<name>`, `datasets.<as>`, `experiment`, `gpus`… */
  errorOf: (field: string) => string | undefined;
}) {
  const set = <K extends keyof TemplateDraft>(key: K, value: TemplateDraft[K]) => onChange({ ...draft, [key]: value });
  return (
    <>
      <Section title="Template">
        <TemplatePicker
          templates={templates}
          chosen={template.id}
          onChoose={(t) => onChange(switchTemplate(draft, t))}
        />
      </Section>
      {template.datasets.length > 0 && (
        <Section title="Data">
          {template.datasets.map((slot) => (
            <DatasetVersionField
              key={slot.as}
              as={slot.as}
              help={slot.help}
              choice={draft.datasets[slot.as] ?? { dataset: '', version: '' }}
              onChange={(choice) => set('datasets', { ...draft.datasets, [slot.as]: choice })}
              error={errorOf(`datasets.${slot.as}`)}
            />
          ))}
        </Section>
      )}
      {template.params.length > 0 && (
        <Section title="Parameters">
          <div className="grid grid-cols-1 gap-x-4 gap-y-3 sm:grid-cols-2">
            {template.params.map((param) => (
              <ParamField
                key={param.name}
                param={param}
                value={draft.params[param.name] ?? ''}
                onChange={(value) => set('params', { ...draft.params, [param.name]: value })}
                error={errorOf(`params.${param.name}`)}
              />
            ))}
          </div>
        </Section>
      )}
      <Section title="Job">
        <div className="grid grid-cols-2 gap-x-4 gap-y-3">
          <Field id="tj-name" label="Name" hint={`Optional: “${template.title}” otherwise.`} error={errorOf('name')}>
            <input
              id="tj-name"
              value={draft.name}
              onChange={(e) => set('name', e.target.value)}
              className={inputClass}
            />
          </Field>
          <ExperimentField
            value={draft.experiment}
            onChange={(v) => set('experiment', v)}
            error={errorOf('experiment')}
          />
          <PriorityField value={draft.priority} onChange={(v) => set('priority', v)} error={errorOf('priority')} />
          <RetriesField value={draft.retries} onChange={(v) => set('retries', v)} error={errorOf('retries')} />
          <KeepCheckpointsField
            value={draft.keepCheckpoints}
            onChange={(v) => set('keepCheckpoints', v)}
            error={errorOf('keepCheckpoints')}
          />
        </div>
      </Section>
      <Section title="Resources">
        <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-4">
          <ResourceFields
            draft={draft.resources}
            onChange={(r) => set('resources', r)}
            errorOf={errorOf}
            cpuOnly={template.kind === 'builtin'}
          />
        </div>
        {template.kind === 'builtin' && (
          <p className="text-[12px] text-zinc-500 dark:text-zinc-400">
            A built-in trainer runs in the app, on the CPU (TF.js&apos;s wasm backend).
          </p>
        )}
      </Section>
    </>
  );
}

/** A titled group of the new-job forms' fields. */
export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="min-w-0 space-y-3">
      <legend className="mb-2 text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {title}
      </legend>
      {children}
    </fieldset>
  );
}

/** The templates as radio cards: title and description; the chosen one's description in full. */
function TemplatePicker({
  templates,
  chosen,
  onChoose,
}: {
  templates: readonly TrainingTemplate[];
  chosen: string;
  onChoose: (template: TrainingTemplate) => void;
}) {
  return (
    <div role="radiogroup" aria-label="Template" className="max-h-72 space-y-1.5 overflow-y-auto">
      {templates.map((t) => {
        const selected = t.id === chosen;
        return (
          <label
            key={t.id}
            data-testid="template-choice"
            data-template={t.id}
            className={cx(
              'flex cursor-pointer gap-2.5 rounded-md border px-3 py-2',
              selected
                ? 'border-indigo-500 bg-indigo-50/60 dark:border-indigo-500 dark:bg-indigo-950/30'
                : 'border-zinc-200 hover:bg-zinc-50 dark:border-zinc-800 dark:hover:bg-zinc-800/40',
            )}
          >
            <input
              type="radio"
              name="tj-template"
              value={t.id}
              checked={selected}
              onChange={() => onChoose(t)}
              className="mt-0.5 accent-indigo-600"
            />
            <span className="min-w-0">
              <span className="block font-medium text-zinc-900 dark:text-zinc-100">{t.title}</span>
              {t.description && (
                <span
                  className={cx('text-[12px] text-zinc-500 dark:text-zinc-400', selected ? 'block' : 'line-clamp-1')}
                >
                  {t.description}
                </span>
              )}
            </span>
          </label>
        );
      })}
    </div>
  );
}

/** A dataset, then one of its versions (the newest unless another is picked), for one dataset the template reads. */
export function DatasetVersionField({
  as,
  help,
  choice,
  onChange,
  error,
}: {
  as: string;
  help: string;
  choice: DatasetChoice;
  onChange: (choice: DatasetChoice) => void;
  error: string | undefined;
}) {
  const api = useApi();
  const datasets = useQuery({
    queryKey: queryKeys.datasetNames,
    queryFn: () => api.call('datasets.list', { limit: DATASETS_LISTED }),
    staleTime: 30_000,
  });
  const versions = useQuery({
    // Under the dataset's key: a new version invalidates it.
    queryKey: [...queryKeys.dataset(choice.dataset), 'version-choices'],
    queryFn: () => api.call('datasets.versions', { dataset: choice.dataset, limit: VERSIONS_LISTED }),
    enabled: choice.dataset !== '',
    staleTime: 30_000,
  });
  const listed = datasets.data?.items ?? [];
  // A dataset chosen elsewhere (the dataset page) may be beyond the listed ones.
  const unlisted = listed.some((d) => d.name === choice.dataset) || choice.dataset === '' ? null : choice.dataset;
  const id = `tj-dataset-${as}`;
  const items = versions.data?.items;
  const shown = choice.version === '' ? items?.[0] : items?.find((v) => String(v.number) === choice.version);
  return (
    <Field
      id={id}
      label={<span className="font-mono text-[12px]">{as}</span>}
      required
      hint={help || undefined}
      error={error ?? datasets.error?.message ?? versions.error?.message}
    >
      <div className="grid grid-cols-[minmax(0,1fr)_14rem] gap-2">
        <select
          id={id}
          value={choice.dataset}
          onChange={(e) => onChange({ dataset: e.target.value, version: '' })}
          className={inputClass}
        >
          <option value="" disabled>
            {datasets.isPending ? 'Loading datasets…' : listed.length === 0 ? 'No datasets yet' : 'Choose a dataset…'}
          </option>
          {unlisted && <option value={unlisted}>{unlisted}</option>}
          {listed.map((d) => (
            <option key={d.id} value={d.name} disabled={d.latest === null}>
              {d.latest === null ? `${d.name} (no versions)` : d.name}
            </option>
          ))}
        </select>
        <select
          aria-label={`Version of ${as}`}
          data-testid="dataset-version"
          value={versionValue(choice.version, items)}
          onChange={(e) => onChange({ ...choice, version: e.target.value })}
          disabled={choice.dataset === '' || !versions.data}
          className={cx(inputClass, 'disabled:opacity-50')}
        >
          {choice.dataset === '' ? (
            <option value="">Version</option>
          ) : !items ? (
            <option value="">Loading versions…</option>
          ) : (
            <VersionOptions versions={items} chosen={choice.version} />
          )}
        </select>
      </div>
      {shown && (
        <p className="mt-1 truncate text-[12px] text-zinc-600 dark:text-zinc-300" data-testid="dataset-version-details">
          v{shown.number}: {shown.fileCount.toLocaleString('en-US')} {shown.fileCount === 1 ? 'file' : 'files'},{' '}
          {formatBytes(shown.totalBytes)}, {formatDateTime(shown.createdAt)}
          {shown.message && <Muted> · {shown.message}</Muted>}
        </p>
      )}
    </Field>
  );
}

/** The newest version is the '' choice ("latest"): one chosen by number that is the newest shows as it. */
function versionValue(chosen: string, versions: readonly DatasetVersion[] | undefined): string {
  const newest = versions?.[0];
  return newest && chosen === String(newest.number) ? '' : chosen;
}

function VersionOptions({ versions, chosen }: { versions: readonly DatasetVersion[]; chosen: string }) {
  const [newest, ...older] = versions;
  if (!newest) return <option value="">No versions</option>;
  const listed = chosen === '' || versions.some((v) => String(v.number) === chosen);
  return (
    <>
      <option value="">{versionLabel(newest, true)}</option>
      {older.map((v) => (
        <option key={v.id} value={String(v.number)}>
          {versionLabel(v, false)}
        </option>
      ))}
      {!listed && <option value={chosen}>v{chosen}</option>}
    </>
  );
}

function versionLabel(version: DatasetVersion, newest: boolean): string {
  const tags = version.tags.length > 0 ? ` [${version.tags.join(', ')}]` : '';
  return `v${version.number}${newest ? ' (latest)' : ''}${tags}`;
}

function ParamField({
  param,
  value,
  onChange,
  error,
}: {
  param: TemplateParam;
  value: string | boolean;
  onChange: (value: string | boolean) => void;
  error: string | undefined;
}) {
  const id = `tj-param-${param.name}`;
  if (param.type === 'boolean') {
    return (
      <div className="min-w-0" data-field={id}>
        <label className="flex items-center gap-2 font-medium">
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
            className="accent-indigo-600"
          />
          <span className="font-mono text-[12px]">{param.name}</span>
        </label>
        {error ? (
          <p role="alert" className="mt-1 text-[12px] text-red-700 dark:text-red-400" data-testid="field-error">
            {error}
          </p>
        ) : (
          param.help && <p className="mt-1 text-[12px] text-zinc-500 dark:text-zinc-400">{param.help}</p>
        )}
      </div>
    );
  }
  const text = typeof value === 'string' ? value : String(value);
  return (
    <Field
      id={id}
      label={
        <>
          <span className="font-mono text-[12px]">{param.name}</span>
          {param.type !== 'string' && (
            <span className="ml-1.5 text-[11px] font-normal text-zinc-400 dark:text-zinc-500">{param.type}</span>
          )}
        </>
      }
      required={param.required}
      hint={param.help || undefined}
      error={error}
    >
      <TemplateParamInput id={id} param={param} value={text} onChange={onChange} />
    </Field>
  );
}
