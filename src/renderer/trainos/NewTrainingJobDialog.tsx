import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { TrainingJobInput } from '#shared/contracts/trainos';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, inputClass } from '../components/ui';
import { queryKeys, useApi } from '../lib/api';
import { shortId } from '../lib/format';
import { useToasts } from '../lib/toasts';
import { fieldErrorsOf, parseEnvLines, splitCommand, type FieldError, type SpecField } from './command';

const GPU_CHOICES = ['0', '1', '2', '3', '4', '8', 'any'] as const;
type GpuChoice = (typeof GPU_CHOICES)[number];

/** What the form holds: text as typed, so that an emptied number field means "the server's default". */
interface Draft {
  name: string;
  command: string;
  workingDir: string;
  experiment: string;
  gpus: GpuChoice;
  gpuMemoryMb: string;
  cpuThreads: string;
  ramMb: string;
  priority: string;
  maxRuntimeSeconds: string;
  retries: string;
  env: string;
}

const EMPTY: Draft = {
  name: '',
  command: '',
  workingDir: '',
  experiment: 'Default',
  gpus: '0',
  gpuMemoryMb: '',
  cpuThreads: '1',
  ramMb: '512',
  priority: '0',
  maxRuntimeSeconds: '',
  retries: '0',
  env: '',
};

/** A number field's value for the request: undefined when empty (the server's default applies). */
function numberOrDefault(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/** Submits a script job (it then shows at the top of the queue): a command run without a shell in a working dir, with its resources and env. */
export function NewTrainingJobDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  const split = splitCommand(draft.command);
  const env = parseEnvLines(draft.env);

  const submit = useMutation({
    mutationFn: (spec: TrainingJobInput) => api.call('trainingJobs.submit', spec),
    onSuccess: (job) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.trainingJobLists });
      push({ tone: 'success', title: `Submitted ${job.name} (${shortId(job.id)})` });
      close();
    },
  });
  const serverErrors = fieldErrorsOf(submit.error);
  const errorOf = (field: SpecField): string | undefined =>
    serverErrors
      .filter((e) => e.field === field)
      .map((e) => e.message)
      .join('; ') || undefined;
  const unplaced: FieldError[] = serverErrors.filter((e) => e.field === null);

  function close() {
    submit.reset();
    setDraft(EMPTY);
    onClose();
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if ('error' in split || 'error' in env) return;
    submit.mutate({
      name: draft.name.trim() || undefined,
      command: split.argv,
      workingDir: draft.workingDir.trim(),
      env: env.env,
      resources: {
        gpus: draft.gpus === 'any' ? 'any' : Number(draft.gpus),
        gpuMemoryMb: draft.gpus === '1' ? numberOrDefault(draft.gpuMemoryMb) : undefined,
        cpuThreads: numberOrDefault(draft.cpuThreads),
        ramMb: numberOrDefault(draft.ramMb),
      },
      priority: numberOrDefault(draft.priority),
      maxRuntimeSeconds: numberOrDefault(draft.maxRuntimeSeconds),
      retries: numberOrDefault(draft.retries),
      experiment: draft.experiment.trim() || undefined,
    });
  };

  const typed = draft.command.trim() !== '';
  return (
    <Dialog
      open={open}
      onClose={close}
      title="New training job"
      testId="new-training-job-dialog"
      footer={
        <>
          <Button onClick={close}>Cancel</Button>
          <Button
            variant="primary"
            type="submit"
            form="new-training-job-form"
            disabled={submit.isPending || !typed || 'error' in split || 'error' in env}
          >
            {submit.isPending ? 'Submitting…' : 'Submit'}
          </Button>
        </>
      }
    >
      <form id="new-training-job-form" onSubmit={onSubmit} className="space-y-3" noValidate>
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
            className={`${inputClass} h-auto py-1.5 font-mono text-[12px]`}
          />
          {'argv' in split && <ArgvPreview argv={split.argv} />}
        </Field>
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
            className={`${inputClass} font-mono text-[12px]`}
          />
        </Field>
        <Field
          id="tj-experiment"
          label="Experiment"
          hint="Its run goes into this ModelHub experiment (made when missing)."
          error={errorOf('experiment')}
        >
          <input
            id="tj-experiment"
            value={draft.experiment}
            onChange={(e) => set('experiment', e.target.value)}
            className={inputClass}
          />
        </Field>
        <div className="grid grid-cols-3 gap-3">
          <Field id="tj-gpus" label="GPUs" error={errorOf('gpus')}>
            <select
              id="tj-gpus"
              value={draft.gpus}
              onChange={(e) => set('gpus', e.target.value as GpuChoice)}
              className={inputClass}
            >
              {GPU_CHOICES.map((choice) => (
                <option key={choice} value={choice}>
                  {choice === '0' ? 'None (CPU)' : choice === 'any' ? 'Any (one if free)' : choice}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="tj-gpu-memory"
            label="GPU memory (MiB)"
            hint={draft.gpus === '1' ? 'Lets small jobs share a GPU.' : 'With one GPU only.'}
            error={errorOf('gpuMemoryMb')}
          >
            <NumberInput
              id="tj-gpu-memory"
              value={draft.gpuMemoryMb}
              onChange={(v) => set('gpuMemoryMb', v)}
              disabled={draft.gpus !== '1'}
              placeholder="whole GPU"
            />
          </Field>
          <Field id="tj-cpu-threads" label="CPU threads" error={errorOf('cpuThreads')}>
            <NumberInput id="tj-cpu-threads" value={draft.cpuThreads} onChange={(v) => set('cpuThreads', v)} />
          </Field>
          <Field id="tj-ram" label="RAM (MiB)" error={errorOf('ramMb')}>
            <NumberInput id="tj-ram" value={draft.ramMb} onChange={(v) => set('ramMb', v)} />
          </Field>
          <Field id="tj-priority" label="Priority" hint="-100 to 100; higher first." error={errorOf('priority')}>
            <NumberInput id="tj-priority" value={draft.priority} onChange={(v) => set('priority', v)} />
          </Field>
          <Field id="tj-retries" label="Retries" hint="After a failure." error={errorOf('retries')}>
            <NumberInput id="tj-retries" value={draft.retries} onChange={(v) => set('retries', v)} />
          </Field>
          <Field
            id="tj-max-runtime"
            label="Max runtime (s)"
            hint="Empty: no limit."
            error={errorOf('maxRuntimeSeconds')}
          >
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
            className={`${inputClass} h-auto py-1.5 font-mono text-[12px]`}
          />
        </Field>
      </form>
      {unplaced.length > 0 ? (
        <ErrorBanner error={new Error(unplaced.map((e) => e.message).join('; '))} title="The job was not submitted" />
      ) : (
        submit.isError &&
        serverErrors.length === 0 && <ErrorBanner error={submit.error} title="The job was not submitted" />
      )}
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
  hint?: string;
  error: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className="min-w-0" data-field={id}>
      <label htmlFor={id} className="mb-1 block font-medium">
        {label}
      </label>
      {children}
      {error ? (
        <p role="alert" className="mt-1 text-[12px] text-red-700 dark:text-red-400" data-testid="field-error">
          {error}
        </p>
      ) : (
        hint && <p className="mt-1 text-[12px] text-zinc-500 dark:text-zinc-400">{hint}</p>
      )}
    </div>
  );
}

function NumberInput({
  id,
  value,
  onChange,
  disabled,
  placeholder,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  disabled?: boolean;
  placeholder?: string;
}) {
  return (
    <input
      id={id}
      type="number"
      inputMode="numeric"
      step={1}
      value={value}
      disabled={disabled}
      placeholder={placeholder}
      onChange={(e) => onChange(e.target.value)}
      className={`${inputClass} tabular-nums disabled:opacity-50`}
    />
  );
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
