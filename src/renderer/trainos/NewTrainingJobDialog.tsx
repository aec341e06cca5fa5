import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { TrainingJob, TrainingJobInput } from '#shared/contracts/trainos';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, cx, inputClass, inputClasses, Muted, Spinner } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { shortId } from '../lib/format';
import { useToasts } from '../lib/toasts';
import {
  fieldErrorsOf,
  parseEnvLines,
  quoteArgument,
  serverFieldErrors,
  splitCommand,
  type FieldError,
  type SpecField,
} from './command';
import {
  builtinDraftOf,
  builtinFieldErrors,
  builtinJobSpec,
  builtinUnchangedSince,
  type BuiltinDraft,
} from './builtin-job';
import { BuiltinJobFields } from './BuiltinJobFields';
import {
  ExperimentField,
  Field,
  NumberInput,
  numberOrDefault,
  PriorityField,
  resourceDraftOf,
  ResourceFields,
  resourcesInput,
  KeepCheckpointsField,
  RetriesField,
} from './form-fields';
import {
  TEMPLATES_QUERY_KEY,
  templateDraftOf,
  templateFieldOf,
  templateJobRequest,
  unchangedSince,
  type DatasetChoice,
  type TemplateDraft,
  type TemplateJobRequest,
} from './template-job';
import { TemplateJobFields } from './TemplateJobFields';

/** 'builtin': the clone of a built-in trainer's job (a form of its own; it has no other mode to switch to). */
type Mode = 'template' | 'command' | 'builtin';

/** What the command form holds: text as typed, so that an emptied number field means "the server's default". */
interface CommandDraft {
  name: string;
  command: string;
  workingDir: string;
  experiment: string;
  resources: ReturnType<typeof resourceDraftOf>;
  priority: string;
  maxRuntimeSeconds: string;
  retries: string;
  keepCheckpoints: string;
  env: string;
  /**
   * What a cloned job's spec sets that the form has no field for, sent as it was (not a sweep trial's parent run:
   * a clone is a job of its own).
   */
  carried: Pick<TrainingJobInput, 'datasets' | 'params' | 'preemptible' | 'executor'>;
}

const EMPTY_COMMAND: CommandDraft = {
  name: '',
  command: '',
  workingDir: '',
  experiment: 'Default',
  resources: { gpus: '0', gpuMemoryMb: '', cpuThreads: '1', ramMb: '512' },
  priority: '0',
  maxRuntimeSeconds: '',
  retries: '0',
  keepCheckpoints: '',
  env: '',
  carried: {},
};

/** The command form filled with a job's spec, to submit it again with changes. */
function commandDraftOf(job: TrainingJob): CommandDraft {
  const { spec } = job;
  return {
    name: job.name,
    // Only script jobs are cloned into this form (a built-in trainer's job has a clone form of its own).
    command: (spec.command ?? []).map(quoteArgument).join(' '),
    workingDir: spec.workingDir ?? '',
    experiment: spec.experiment,
    resources: resourceDraftOf(spec.resources),
    priority: String(spec.priority),
    maxRuntimeSeconds: spec.maxRuntimeSeconds === undefined ? '' : String(spec.maxRuntimeSeconds),
    retries: String(spec.retries),
    keepCheckpoints: spec.keepCheckpoints === undefined ? '' : String(spec.keepCheckpoints),
    env: Object.entries(spec.env)
      .map(([name, value]) => `${name}=${value}`)
      .join('\n'),
    carried: { datasets: spec.datasets, params: spec.params, preemptible: spec.preemptible, executor: spec.executor },
  };
}

export interface NewTrainingJobDialogProps {
  open: boolean;
  onClose: () => void;
  /** Opens on the command form filled in with this job's spec (a built-in job: on its trainer's settings). */
  cloneOf?: TrainingJob;
  /** Opens on the template form with this dataset version chosen (for the first template that reads one). */
  dataset?: DatasetChoice;
  /** After the job was submitted (and the dialog closed). */
  onSubmitted?: (job: TrainingJob) => void;
}

/**
 * Submits a training job, from a template (its parameters and dataset versions; the default when there are
 * templates) or as a command run without a shell in a working dir. The form starts afresh each time it opens.
 */
export function NewTrainingJobDialog({ open, ...props }: NewTrainingJobDialogProps) {
  return open ? <NewTrainingJobForm {...props} /> : null;
}

function NewTrainingJobForm({ onClose, cloneOf, dataset, onSubmitted }: Omit<NewTrainingJobDialogProps, 'open'>) {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const templates = useQuery({
    queryKey: TEMPLATES_QUERY_KEY,
    queryFn: () => api.call('trainingTemplates.list'),
    staleTime: 60_000,
  });
  const templateList = templates.data?.templates ?? [];
  const [builtinDraft, setBuiltinDraft] = useState<BuiltinDraft | null>(() =>
    cloneOf ? builtinDraftOf(cloneOf) : null,
  );
  // Chosen by the user, else: a clone's command (or trainer), a template when there is one, the command form when
  // there is none.
  const [chosenMode, setMode] = useState<Mode | null>(cloneOf ? (builtinDraft ? 'builtin' : 'command') : null);
  const mode: Mode = chosenMode ?? (templates.isPending || templateList.length > 0 ? 'template' : 'command');

  const [commandDraft, setCommandDraft] = useState<CommandDraft>(() =>
    cloneOf ? commandDraftOf(cloneOf) : EMPTY_COMMAND,
  );
  const [typedTemplateDraft, setTemplateDraft] = useState<TemplateDraft | null>(null);
  // Until the user changes something: the first template (that reads a dataset, when one is given), as it comes.
  const firstTemplate = (dataset && templateList.find((t) => t.datasets.length > 0)) || templateList[0];
  const templateDraft = typedTemplateDraft ?? (firstTemplate ? templateDraftOf(firstTemplate, dataset) : null);
  const template = templateList.find((t) => t.id === templateDraft?.template);

  const submitted = (job: TrainingJob) => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.trainingJobLists });
    push({ tone: 'success', title: `Submitted ${job.name} (${shortId(job.id)})` });
    onClose();
    onSubmitted?.(job);
  };
  const submitSpec = useMutation({
    mutationFn: (spec: TrainingJobInput) => api.call('trainingJobs.submit', spec),
    onSuccess: submitted,
  });
  const submitTemplate = useMutation({
    mutationFn: (request: TemplateJobRequest) => api.call('trainingTemplates.submit', request),
    onSuccess: submitted,
  });

  const split = splitCommand(commandDraft.command);
  const env = parseEnvLines(commandDraft.env);
  const typed = commandDraft.command.trim() !== '';
  const commandReady = typed && !('error' in split) && !('error' in env);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (mode === 'builtin') {
      if (builtinDraft) submitSpec.mutate(builtinJobSpec(builtinDraft));
      return;
    }
    if (mode === 'template') {
      if (template && templateDraft) submitTemplate.mutate(templateJobRequest(template, templateDraft));
      return;
    }
    if ('error' in split || 'error' in env) return;
    submitSpec.mutate({
      ...commandDraft.carried,
      name: commandDraft.name.trim() || undefined,
      command: split.argv,
      workingDir: commandDraft.workingDir.trim(),
      env: env.env,
      resources: resourcesInput(commandDraft.resources),
      priority: numberOrDefault(commandDraft.priority),
      maxRuntimeSeconds: numberOrDefault(commandDraft.maxRuntimeSeconds),
      retries: numberOrDefault(commandDraft.retries),
      keepCheckpoints: numberOrDefault(commandDraft.keepCheckpoints),
      experiment: commandDraft.experiment.trim() || undefined,
    });
  };

  const pending = submitSpec.isPending || submitTemplate.isPending;
  const ready =
    mode === 'template'
      ? template !== undefined
      : mode === 'builtin'
        ? builtinDraft !== null && builtinDraft.dataset.dataset !== ''
        : commandReady;
  return (
    <Dialog
      open
      onClose={onClose}
      title="New training job"
      testId="new-training-job-dialog"
      size="lg"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="new-training-job-form" disabled={pending || !ready}>
            {pending ? 'Submitting…' : 'Submit'}
          </Button>
        </>
      }
    >
      {cloneOf && (
        <p className="text-[12px] text-zinc-500 dark:text-zinc-400" data-testid="clone-note">
          Filled in from job <span className="font-mono">{shortId(cloneOf.id)}</span> ({cloneOf.name}): change what you
          need, then submit it as a new job.
        </p>
      )}
      {mode !== 'builtin' && (
        <ModeSwitch
          mode={mode}
          onChange={setMode}
          templatesDisabled={templates.isSuccess && templateList.length === 0}
        />
      )}
      <form id="new-training-job-form" onSubmit={onSubmit} className="space-y-4" noValidate>
        {mode === 'builtin' && builtinDraft ? (
          <BuiltinFormWithErrors
            draft={builtinDraft}
            onChange={setBuiltinDraft}
            error={submitSpec.error}
            submitted={submitSpec.variables}
          />
        ) : mode === 'command' ? (
          <CommandJobFields draft={commandDraft} onChange={setCommandDraft} error={submitSpec.error} />
        ) : templates.isError ? (
          <ErrorBanner
            error={templates.error}
            title="Could not list the templates"
            onRetry={() => void templates.refetch()}
          />
        ) : !template || !templateDraft ? (
          <p className="flex items-center gap-2 py-4 text-zinc-500">
            <Spinner /> Loading templates…
          </p>
        ) : (
          <TemplateFormWithErrors
            templates={templateList}
            template={template}
            draft={templateDraft}
            onChange={setTemplateDraft}
            error={submitTemplate.error}
            submitted={submitTemplate.variables}
          />
        )}
      </form>
    </Dialog>
  );
}

function ModeSwitch({
  mode,
  onChange,
  templatesDisabled,
}: {
  mode: Mode;
  onChange: (mode: Mode) => void;
  templatesDisabled: boolean;
}) {
  const modes: { value: Exclude<Mode, 'builtin'>; label: string; title?: string }[] = [
    {
      value: 'template',
      label: 'From a template',
      title: templatesDisabled ? 'No training templates are installed' : undefined,
    },
    { value: 'command', label: 'Command' },
  ];
  return (
    <div
      role="group"
      aria-label="Start from"
      className="inline-flex overflow-hidden rounded-md border border-zinc-300 dark:border-zinc-700"
    >
      {modes.map(({ value, label, title }) => (
        <button
          key={value}
          type="button"
          aria-pressed={mode === value}
          disabled={value === 'template' && templatesDisabled}
          title={title}
          onClick={() => onChange(value)}
          className={cx(
            'h-7 px-3 text-[12px] font-medium disabled:cursor-not-allowed disabled:opacity-50',
            mode === value
              ? 'bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900'
              : 'bg-white text-zinc-700 hover:bg-zinc-50 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800',
          )}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/**
 * The template form, with a rejected submit's complaints under the fields they name (the rest below), each until
 * its field is changed.
 */
function TemplateFormWithErrors({
  error,
  submitted,
  ...props
}: Omit<Parameters<typeof TemplateJobFields>[0], 'errorOf'> & {
  error: Error | null;
  submitted: TemplateJobRequest | undefined;
}) {
  const errors = serverFieldErrors(error).map((e) => ({ field: templateFieldOf(e.path, props.template), ...e }));
  const current = templateJobRequest(props.template, props.draft);
  const errorOf = (field: string): string | undefined =>
    errors
      .filter((e) => e.field === field && (!submitted || unchangedSince(field, submitted, current)))
      .map((e) => e.message)
      .join('; ') || undefined;
  const unplaced = errors.filter((e) => e.field === null);
  return (
    <>
      <TemplateJobFields {...props} errorOf={errorOf} />
      <NotSubmitted error={error} unplaced={unplaced} placed={errors.length - unplaced.length} />
    </>
  );
}

/**
 * The clone form of a built-in job, with a rejected submit's complaints under the fields they name (the rest
 * below), each until its field is changed.
 */
function BuiltinFormWithErrors({
  error,
  submitted,
  ...props
}: Omit<Parameters<typeof BuiltinJobFields>[0], 'errorOf'> & {
  error: Error | null;
  submitted: TrainingJobInput | undefined;
}) {
  const errors = builtinFieldErrors(error, props.draft.kind);
  const current = builtinJobSpec(props.draft);
  const errorOf = (field: string): string | undefined =>
    errors
      .filter((e) => e.field === field && (!submitted || builtinUnchangedSince(field, submitted, current)))
      .map((e) => e.message)
      .join('; ') || undefined;
  const unplaced = errors.filter((e) => e.field === null);
  return (
    <>
      <BuiltinJobFields {...props} errorOf={errorOf} />
      <NotSubmitted error={error} unplaced={unplaced} placed={errors.length - unplaced.length} />
    </>
  );
}

/** Why a submit failed, where no field shows it: errors naming no field of the form, or not about input at all. */
function NotSubmitted({
  error,
  unplaced,
  placed,
}: {
  error: Error | null;
  unplaced: readonly { message: string }[];
  placed: number;
}) {
  if (!error) return null;
  if (unplaced.length > 0) {
    return (
      <ErrorBanner error={new Error(unplaced.map((e) => e.message).join('; '))} title="The job was not submitted" />
    );
  }
  return placed === 0 ? <ErrorBanner error={error} title="The job was not submitted" /> : null;
}

/** The command form: a command run without a shell in a working dir, with its resources and env. */
function CommandJobFields({
  draft,
  onChange,
  error,
}: {
  draft: CommandDraft;
  onChange: (draft: CommandDraft) => void;
  error: Error | null;
}) {
  const set = <K extends keyof CommandDraft>(key: K, value: CommandDraft[K]) => onChange({ ...draft, [key]: value });
  const split = splitCommand(draft.command);
  const env = parseEnvLines(draft.env);
  const serverErrors = fieldErrorsOf(error);
  const errorOf = (field: SpecField): string | undefined =>
    serverErrors
      .filter((e) => e.field === field)
      .map((e) => e.message)
      .join('; ') || undefined;
  const unplaced: FieldError[] = serverErrors.filter((e) => e.field === null);
  const typed = draft.command.trim() !== '';
  const datasets = draft.carried.datasets ?? [];
  return (
    <>
      <Field id="tj-name" label="Name" hint="Optional: the command's first words otherwise." error={errorOf('name')}>
        <input
          id="tj-name"
          value={draft.name}
          onChange={(e) => set('name', e.target.value)}
          placeholder="resnet-50 on imagenette"
          className={inputClass}
        />
      </Field>
      <Field
        id="tj-command"
        label="Command"
        hint="Split like a shell splits it (quotes and backslashes), but run without one: no pipes, $VARS or globs."
        error={errorOf('command') ?? (typed && 'error' in split ? split.error : undefined)}
      >
        <textarea
          id="tj-command"
          rows={2}
          spellCheck={false}
          value={draft.command}
          onChange={(e) => set('command', e.target.value)}
          placeholder="python3 train.py --lr 0.01"
          className={inputClasses({ multiline: true, mono: true })}
        />
        {'argv' in split && <ArgvPreview argv={split.argv} />}
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field
          id="tj-working-dir"
          label="Working dir"
          hint="An absolute path on this machine."
          error={errorOf('workingDir')}
        >
          <input
            id="tj-working-dir"
            value={draft.workingDir}
            onChange={(e) => set('workingDir', e.target.value)}
            placeholder="/home/me/project"
            spellCheck={false}
            className={inputClasses({ mono: true })}
          />
        </Field>
        <ExperimentField
          value={draft.experiment}
          onChange={(v) => set('experiment', v)}
          error={errorOf('experiment')}
        />
      </div>
      {datasets.length > 0 && (
        <div data-testid="carried-datasets">
          <p className="mb-1 font-medium">Datasets</p>
          <ul className="flex flex-wrap gap-1.5">
            {datasets.map((d) => (
              <li
                key={`${d.dataset}@${d.version ?? 'latest'}`}
                className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[11px] text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
              >
                {d.dataset} {versionName(d.version)}
                {d.as && ` as ${d.as}`}
              </li>
            ))}
          </ul>
          <p className="mt-1 text-[12px]">
            <Muted>Read as the cloned job read them.</Muted>
          </p>
        </div>
      )}
      <div className="grid grid-cols-4 gap-3">
        <ResourceFields draft={draft.resources} onChange={(r) => set('resources', r)} errorOf={errorOf} />
        <PriorityField value={draft.priority} onChange={(v) => set('priority', v)} error={errorOf('priority')} />
        <RetriesField value={draft.retries} onChange={(v) => set('retries', v)} error={errorOf('retries')} />
        <KeepCheckpointsField
          value={draft.keepCheckpoints}
          onChange={(v) => set('keepCheckpoints', v)}
          error={errorOf('keepCheckpoints')}
        />
        <Field id="tj-max-runtime" label="Max runtime (s)" hint="Empty: no limit." error={errorOf('maxRuntimeSeconds')}>
          <NumberInput
            id="tj-max-runtime"
            value={draft.maxRuntimeSeconds}
            onChange={(v) => set('maxRuntimeSeconds', v)}
            placeholder="no limit"
          />
        </Field>
      </div>
      <Field
        id="tj-env"
        label="Environment"
        hint="KEY=VALUE, one a line. AIDOS_URL, AIDOS_TOKEN, AIDOS_RUN_ID and CUDA_VISIBLE_DEVICES are set for you."
        error={errorOf('env') ?? ('error' in env ? env.error : undefined)}
      >
        <textarea
          id="tj-env"
          rows={3}
          spellCheck={false}
          value={draft.env}
          onChange={(e) => set('env', e.target.value)}
          placeholder="EPOCHS=10"
          className={inputClasses({ multiline: true, mono: true })}
        />
      </Field>
      <NotSubmitted error={error} unplaced={unplaced} placed={serverErrors.length - unplaced.length} />
    </>
  );
}

/** "v3" for a version number, else the tag or "latest" a spec names. */
function versionName(version: string | undefined): string {
  if (version === undefined) return 'latest';
  return /^\d+$/.test(version) ? `v${version}` : version;
}

/** The argv the command will run as: one chip per argument, so that quoting mistakes show before submitting. */
function ArgvPreview({ argv }: { argv: readonly string[] }) {
  return (
    <ol className="mt-1.5 flex flex-wrap gap-1" aria-label="Arguments it will run with" data-testid="argv-preview">
      {argv.map((argument, index) => (
        <li
          // Arguments repeat ("-v -v"); their position is what they are.
          key={index}
          data-testid="argv-item"
          className="max-w-full truncate rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[11px] whitespace-pre text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
          title={argument}
        >
          {argument === '' ? <span className="text-zinc-400 italic">(empty)</span> : argument}
        </li>
      ))}
    </ol>
  );
}
