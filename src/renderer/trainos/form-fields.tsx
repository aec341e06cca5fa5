import type { ReactNode } from 'react';
import type { JobResources, TemplateParam, TrainingJobInput } from '#shared/contracts/trainos';
import { inputClass } from '../components/ui';

/** A labelled field of the new-job forms: its server error, when it has one, in place of its hint. */
export function Field({
  id,
  label,
  required,
  hint,
  error,
  children,
}: {
  id: string;
  label: ReactNode;
  required?: boolean;
  hint?: ReactNode;
  error: string | undefined;
  children: ReactNode;
}) {
  return (
    <div className="min-w-0" data-field={id}>
      <label htmlFor={id} className="mb-1 block font-medium">
        {label}
        {required && (
          <span className="ml-0.5 text-red-600 dark:text-red-400" title="required">
            *
          </span>
        )}
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

export function NumberInput({
  id,
  value,
  onChange,
  integer = true,
  disabled,
  placeholder,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** Whole numbers only (the browser's stepper); the server still checks. */
  integer?: boolean;
  disabled?: boolean;
  placeholder?: string;
}) {
  return (
    <input
      id={id}
      type="number"
      inputMode={integer ? 'numeric' : 'decimal'}
      step={integer ? 1 : 'any'}
      value={value}
      disabled={disabled}
      placeholder={placeholder}
      onChange={(e) => onChange(e.target.value)}
      className={`${inputClass} tabular-nums disabled:opacity-50`}
    />
  );
}

/** The fields every new-job form has for where its run goes and how it is queued. */
export function ExperimentField(props: {
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  return (
    <Field
      id="tj-experiment"
      label="Experiment"
      hint="Its run goes into this ModelHub experiment (made when missing)."
      error={props.error}
    >
      <input
        id="tj-experiment"
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        className={inputClass}
      />
    </Field>
  );
}

export function PriorityField(props: { value: string; onChange: (value: string) => void; error: string | undefined }) {
  return (
    <Field id="tj-priority" label="Priority" hint="-100 to 100; higher first." error={props.error}>
      <NumberInput id="tj-priority" value={props.value} onChange={props.onChange} />
    </Field>
  );
}

export function RetriesField(props: { value: string; onChange: (value: string) => void; error: string | undefined }) {
  return (
    <Field id="tj-retries" label="Retries" hint="After a failure." error={props.error}>
      <NumberInput id="tj-retries" value={props.value} onChange={props.onChange} />
    </Field>
  );
}

export function KeepCheckpointsField(props: {
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  return (
    <Field id="tj-keep-checkpoints" label="Keep checkpoints" hint="The newest n. Empty: all." error={props.error}>
      <NumberInput id="tj-keep-checkpoints" value={props.value} onChange={props.onChange} placeholder="all" />
    </Field>
  );
}

/** A number field's value for the request: undefined when empty (the server's default applies). */
export function numberOrDefault(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/** What the resource fields hold: text as typed, so that an emptied field means "the server's default". */
export interface ResourceDraft {
  /** A count of GPUs, or 'any'. */
  gpus: string;
  gpuMemoryMb: string;
  cpuThreads: string;
  ramMb: string;
}

export const RESOURCE_FIELDS = ['gpus', 'gpuMemoryMb', 'cpuThreads', 'ramMb'] as const;

export function resourceDraftOf(resources: JobResources): ResourceDraft {
  return {
    gpus: String(resources.gpus),
    gpuMemoryMb: resources.gpuMemoryMb === undefined ? '' : String(resources.gpuMemoryMb),
    cpuThreads: String(resources.cpuThreads),
    ramMb: String(resources.ramMb),
  };
}

export function resourcesInput(draft: ResourceDraft): NonNullable<TrainingJobInput['resources']> {
  return {
    gpus: draft.gpus === 'any' ? 'any' : Number(draft.gpus),
    gpuMemoryMb: draft.gpus === '1' ? numberOrDefault(draft.gpuMemoryMb) : undefined,
    cpuThreads: numberOrDefault(draft.cpuThreads),
    ramMb: numberOrDefault(draft.ramMb),
  };
}

const GPU_CHOICES = ['0', '1', '2', '3', '4', '8', 'any'];

/**
 * GPUs, GPU memory, CPU threads and RAM, as the job asks for them; `cpuOnly` (a built-in trainer, which runs on the
 * CPU here): CPU threads and RAM only, the GPUs left as the draft has them.
 */
export function ResourceFields({
  draft,
  onChange,
  errorOf,
  cpuOnly = false,
}: {
  draft: ResourceDraft;
  onChange: (draft: ResourceDraft) => void;
  errorOf: (field: (typeof RESOURCE_FIELDS)[number]) => string | undefined;
  cpuOnly?: boolean;
}) {
  const set = (key: keyof ResourceDraft, value: string) => onChange({ ...draft, [key]: value });
  // A cloned job or a template may ask for a count the menu does not list.
  const choices = GPU_CHOICES.includes(draft.gpus) ? GPU_CHOICES : [...GPU_CHOICES, draft.gpus];
  const cpuFields = (
    <>
      <Field id="tj-cpu-threads" label="CPU threads" error={errorOf('cpuThreads')}>
        <NumberInput id="tj-cpu-threads" value={draft.cpuThreads} onChange={(v) => set('cpuThreads', v)} />
      </Field>
      <Field id="tj-ram" label="RAM (MiB)" error={errorOf('ramMb')}>
        <NumberInput id="tj-ram" value={draft.ramMb} onChange={(v) => set('ramMb', v)} />
      </Field>
    </>
  );
  if (cpuOnly) return cpuFields;
  return (
    <>
      <Field id="tj-gpus" label="GPUs" error={errorOf('gpus')}>
        <select id="tj-gpus" value={draft.gpus} onChange={(e) => set('gpus', e.target.value)} className={inputClass}>
          {choices.map((choice) => (
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
      {cpuFields}
    </>
  );
}

/** A template parameter's value, typed as the parameter is: a menu for a choice or a boolean, a number field for numbers. */
export function TemplateParamInput({
  id,
  param,
  value,
  onChange,
}: {
  id: string;
  param: TemplateParam;
  value: string | boolean;
  onChange: (value: string | boolean) => void;
}) {
  if (param.type === 'boolean') {
    return (
      <select
        id={id}
        value={String(value === true)}
        onChange={(e) => onChange(e.target.value === 'true')}
        className={inputClass}
      >
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  const text = typeof value === 'string' ? value : String(value);
  if (param.type === 'choice') {
    return (
      <select id={id} value={text} onChange={(e) => onChange(e.target.value)} className={inputClass}>
        {!param.choices?.includes(text) && (
          <option value={text} disabled>
            Choose…
          </option>
        )}
        {(param.choices ?? []).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  }
  if (param.type === 'int' || param.type === 'number') {
    return <NumberInput id={id} value={text} onChange={onChange} integer={param.type === 'int'} />;
  }
  return (
    <input id={id} value={text} onChange={(e) => onChange(e.target.value)} spellCheck={false} className={inputClass} />
  );
}
