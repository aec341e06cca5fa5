import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Sweep, SweepInput, TemplateParam, TrainingTemplate } from '#shared/contracts/trainos';
import type { SweepAlgorithm, SweepGoal } from '#shared/sweep-space';
import { Dialog } from '../components/Dialog';
import { ErrorBanner } from '../components/ErrorBanner';
import { Button, cx, EmptyState, inputClass, inputClasses, Spinner } from '../components/ui';
import { useApi } from '../lib/api';
import { shortId } from '../lib/format';
import { useToasts } from '../lib/toasts';
import { Field, NumberInput, ResourceFields, TemplateParamInput } from './form-fields';
import {
  placeServerErrors,
  searchDraftOf,
  searchKindsOf,
  switchSweepTemplate,
  sweepDraftOf,
  sweepRequest,
  type ParamMode,
  type SearchDraft,
  type SearchKind,
  type StoppingDraft,
  type StoppingType,
  type SweepDraft,
} from './sweep-form';
import { sweepQueryKeys } from './sweeps';
import { TEMPLATES_QUERY_KEY } from './template-job';
import { DatasetVersionField } from './TemplateJobFields';

export interface NewSweepDialogProps {
  open: boolean;
  onClose: () => void;
  /** After the sweep was started (and the dialog closed). */
  onCreated?: (sweep: Sweep) => void;
}

/**
 * Starts a sweep over a training template: its dataset versions, each parameter fixed or searched, the metric to
 * judge trials by, the search and its early stopping. The form starts afresh each time it opens.
 */
export function NewSweepDialog({ open, ...props }: NewSweepDialogProps) {
  return open ? <NewSweepForm {...props} /> : null;
}

function NewSweepForm({ onClose, onCreated }: Omit<NewSweepDialogProps, 'open'>) {
  const api = useApi();
  const queryClient = useQueryClient();
  const push = useToasts((s) => s.push);
  const templates = useQuery({
    queryKey: TEMPLATES_QUERY_KEY,
    queryFn: () => api.call('trainingTemplates.list'),
    staleTime: 60_000,
  });
  const templateList = templates.data?.templates ?? [];
  const [typedDraft, setDraft] = useState<SweepDraft | null>(null);
  // Until the user changes something: the first template, as it comes.
  const firstTemplate = templateList[0];
  const draft = typedDraft ?? (firstTemplate ? sweepDraftOf(firstTemplate) : null);
  const template = templateList.find((t) => t.id === draft?.job.template);

  const create = useMutation({
    mutationFn: (input: SweepInput) => api.call('trainingSweeps.create', input),
    onSuccess: (sweep) => {
      void queryClient.invalidateQueries({ queryKey: sweepQueryKeys.lists });
      push({ tone: 'success', title: `Started sweep ${sweep.name} (${shortId(sweep.id)})` });
      onClose();
      onCreated?.(sweep);
    },
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (template && draft) create.mutate(sweepRequest(template, draft));
  };

  return (
    <Dialog
      open
      onClose={onClose}
      title="New sweep"
      testId="new-sweep-dialog"
      size="lg"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="new-sweep-form" disabled={create.isPending || !template}>
            {create.isPending ? 'Starting…' : 'Start sweep'}
          </Button>
        </>
      }
    >
      {templates.isError ? (
        <ErrorBanner
          error={templates.error}
          title="Could not list the templates"
          onRetry={() => void templates.refetch()}
        />
      ) : templates.isSuccess && templateList.length === 0 ? (
        <EmptyState title="No training templates are installed">
          The form sweeps over a template&apos;s parameters; a sweep over a command of your own is started through the
          API (<code className="font-mono">trainingSweeps.create</code> with a <code className="font-mono">job</code>
          ).
        </EmptyState>
      ) : !template || !draft ? (
        <p className="flex items-center gap-2 py-4 text-zinc-500">
          <Spinner /> Loading templates…
        </p>
      ) : (
        <form id="new-sweep-form" onSubmit={onSubmit} className="space-y-5" noValidate>
          <SweepFields
            templates={templateList}
            template={template}
            draft={draft}
            onChange={setDraft}
            error={create.error}
          />
        </form>
      )}
    </Dialog>
  );
}

function SweepFields({
  templates,
  template,
  draft,
  onChange,
  error,
}: {
  templates: readonly TrainingTemplate[];
  template: TrainingTemplate;
  draft: SweepDraft;
  onChange: (draft: SweepDraft) => void;
  error: Error | null;
}) {
  const set = <K extends keyof SweepDraft>(key: K, value: SweepDraft[K]) => onChange({ ...draft, [key]: value });
  const setJob = <K extends keyof SweepDraft['job']>(key: K, value: SweepDraft['job'][K]) =>
    set('job', { ...draft.job, [key]: value });
  const placed = placeServerErrors(error, template, draft);
  const errorOf = (field: string) => placed.byField.get(field);
  return (
    <>
      <div className="grid grid-cols-1 gap-x-4 gap-y-3 sm:grid-cols-2">
        <Field id="sw-name" label="Name" required error={errorOf('name')} hint="Its trials are named after it.">
          <input
            id="sw-name"
            value={draft.name}
            onChange={(e) => set('name', e.target.value)}
            placeholder="lr and batch size for resnet"
            className={inputClass}
          />
        </Field>
        <Field
          id="sw-template"
          label="Template"
          error={undefined}
          hint={template.description ? <span className="line-clamp-2">{template.description}</span> : undefined}
        >
          <select
            id="sw-template"
            value={template.id}
            onChange={(e) => {
              const chosen = templates.find((t) => t.id === e.target.value);
              if (chosen) onChange(switchSweepTemplate(draft, chosen));
            }}
            className={inputClass}
          >
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.title}
              </option>
            ))}
          </select>
        </Field>
      </div>

      {template.datasets.length > 0 && (
        <Section title="Data">
          {template.datasets.map((slot) => (
            <DatasetVersionField
              key={slot.as}
              as={slot.as}
              help={slot.help}
              choice={draft.job.datasets[slot.as] ?? { dataset: '', version: '' }}
              onChange={(choice) => setJob('datasets', { ...draft.job.datasets, [slot.as]: choice })}
              error={errorOf(`datasets.${slot.as}`)}
            />
          ))}
        </Section>
      )}

      <Section
        title="Parameters"
        note="Fix a parameter for every trial, or search over it: the searched ones make the sweep's space."
      >
        {errorOf('space') && <FieldErrorText id="sw-space">{errorOf('space')}</FieldErrorText>}
        {template.params.length === 0 ? (
          <p className="text-zinc-500 dark:text-zinc-400">This template has no parameters to search over.</p>
        ) : (
          <div className="divide-y divide-zinc-200 rounded-md border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
            {template.params.map((param) => (
              <ParamRow
                key={param.name}
                param={param}
                mode={draft.modes[param.name] ?? 'fixed'}
                onMode={(mode) => set('modes', { ...draft.modes, [param.name]: mode })}
                value={draft.job.params[param.name] ?? ''}
                onValue={(value) => setJob('params', { ...draft.job.params, [param.name]: value })}
                search={draft.search[param.name] ?? searchDraftOf(param)}
                onSearch={(search) => set('search', { ...draft.search, [param.name]: search })}
                errorOf={errorOf}
              />
            ))}
          </div>
        )}
      </Section>

      <Section title="Objective">
        <div className="grid grid-cols-2 gap-x-4 gap-y-3">
          <Field
            id="sw-metric"
            label="Metric"
            required
            hint="The last value each trial's run logs under this key."
            error={errorOf('objective.metric')}
          >
            <input
              id="sw-metric"
              value={draft.metric}
              onChange={(e) => set('metric', e.target.value)}
              spellCheck={false}
              className={inputClasses({ mono: true })}
            />
          </Field>
          <Field id="sw-goal" label="Goal" error={errorOf('objective.goal')}>
            <select
              id="sw-goal"
              value={draft.goal}
              onChange={(e) => set('goal', e.target.value as SweepGoal)}
              className={inputClass}
            >
              <option value="minimize">Minimize (a loss, an error)</option>
              <option value="maximize">Maximize (an accuracy, a score)</option>
            </select>
          </Field>
        </div>
      </Section>

      <Section title="Search">
        <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-4">
          <Field
            id="sw-algorithm"
            label="Algorithm"
            hint={ALGORITHM_HINTS[draft.algorithm]}
            error={errorOf('algorithm')}
          >
            <select
              id="sw-algorithm"
              value={draft.algorithm}
              onChange={(e) => set('algorithm', e.target.value as SweepAlgorithm)}
              className={inputClass}
            >
              <option value="grid">Grid</option>
              <option value="random">Random</option>
              <option value="tpe">TPE (Bayesian)</option>
            </select>
          </Field>
          <Field
            id="sw-max-trials"
            label="Max trials"
            error={errorOf('maxTrials')}
            hint={draft.algorithm === 'grid' ? 'Fewer when the grid is smaller.' : undefined}
          >
            <NumberInput id="sw-max-trials" value={draft.maxTrials} onChange={(v) => set('maxTrials', v)} />
          </Field>
          <Field id="sw-parallel" label="Parallel" hint="Trials at once." error={errorOf('parallel')}>
            <NumberInput id="sw-parallel" value={draft.parallel} onChange={(v) => set('parallel', v)} />
          </Field>
          {draft.algorithm === 'grid' ? (
            <Field
              id="sw-grid-points"
              label="Grid points"
              hint="On each continuous range."
              error={errorOf('gridPoints')}
            >
              <NumberInput
                id="sw-grid-points"
                value={draft.gridPoints}
                onChange={(v) => set('gridPoints', v)}
                placeholder="default"
              />
            </Field>
          ) : (
            <Field id="sw-seed" label="Seed" hint="The same seed draws the same trials." error={errorOf('seed')}>
              <NumberInput id="sw-seed" value={draft.seed} onChange={(v) => set('seed', v)} />
            </Field>
          )}
        </div>
      </Section>

      <Section title="Early stopping">
        <EarlyStoppingFields draft={draft.stopping} onChange={(s) => set('stopping', s)} errorOf={errorOf} />
      </Section>

      <Section title="Trial jobs">
        <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-4">
          <div className="col-span-2">
            <Field
              id="sw-experiment"
              label="Experiment"
              hint="The sweep's run and its trials' runs go into this ModelHub experiment."
              error={errorOf('experiment')}
            >
              <input
                id="sw-experiment"
                value={draft.job.experiment}
                onChange={(e) => setJob('experiment', e.target.value)}
                className={inputClass}
              />
            </Field>
          </div>
          <Field id="sw-priority" label="Priority" hint="-100 to 100." error={errorOf('priority')}>
            <NumberInput id="sw-priority" value={draft.job.priority} onChange={(v) => setJob('priority', v)} />
          </Field>
          <Field id="sw-retries" label="Retries" hint="After a failure." error={errorOf('retries')}>
            <NumberInput id="sw-retries" value={draft.job.retries} onChange={(v) => setJob('retries', v)} />
          </Field>
          <Field
            id="sw-keep-checkpoints"
            label="Keep checkpoints"
            hint="Per trial, the newest n. Empty: all."
            error={errorOf('keepCheckpoints')}
          >
            <NumberInput
              id="sw-keep-checkpoints"
              value={draft.job.keepCheckpoints}
              onChange={(v) => setJob('keepCheckpoints', v)}
              placeholder="all"
            />
          </Field>
          <ResourceFields draft={draft.job.resources} onChange={(r) => setJob('resources', r)} errorOf={errorOf} />
        </div>
      </Section>

      {error && placed.unplaced.length > 0 && (
        <ErrorBanner error={new Error(placed.unplaced.join('; '))} title="The sweep was not started" />
      )}
      {error && placed.unplaced.length === 0 && placed.byField.size === 0 && (
        <ErrorBanner error={error} title="The sweep was not started" />
      )}
    </>
  );
}

function Section({ title, note, children }: { title: string; note?: string; children: ReactNode }) {
  return (
    <fieldset className="min-w-0 space-y-3">
      <legend className="mb-2 text-[11px] font-semibold tracking-wide text-zinc-500 uppercase dark:text-zinc-400">
        {title}
      </legend>
      {note && <p className="-mt-1 text-[12px] text-zinc-500 dark:text-zinc-400">{note}</p>}
      {children}
    </fieldset>
  );
}

/** A server complaint with no input of its own (the space as a whole, a parameter's search as a whole). */
function FieldErrorText({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p role="alert" data-field={id} className="text-[12px] text-red-700 dark:text-red-400">
      <span data-testid="field-error">{children}</span>
    </p>
  );
}

const ALGORITHM_HINTS: Record<SweepAlgorithm, string> = {
  grid: 'Every combination, in order.',
  random: 'Independent draws.',
  tpe: 'Draws near the best trials so far.',
};

const SEARCH_KIND_NAMES: Record<SearchKind, string> = {
  choice: 'Values',
  uniform: 'Uniform range',
  loguniform: 'Log-uniform range',
  int: 'Whole numbers',
};

/** One template parameter: fixed at a value, or searched (a list of values or a range). */
function ParamRow({
  param,
  mode,
  onMode,
  value,
  onValue,
  search,
  onSearch,
  errorOf,
}: {
  param: TemplateParam;
  mode: ParamMode;
  onMode: (mode: ParamMode) => void;
  value: string | boolean;
  onValue: (value: string | boolean) => void;
  search: SearchDraft;
  onSearch: (search: SearchDraft) => void;
  errorOf: (field: string) => string | undefined;
}) {
  const id = `sw-param-${param.name}`;
  const field = `param.${param.name}`;
  const kinds = searchKindsOf(param);
  const setSearch = <K extends keyof SearchDraft>(key: K, v: SearchDraft[K]) => onSearch({ ...search, [key]: v });
  const rowError = errorOf(field);
  return (
    <div className="space-y-2 px-3 py-2.5" data-testid="sweep-param" data-param={param.name} data-mode={mode}>
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <p>
            <span className="font-mono text-[12px] font-medium">{param.name}</span>
            <span className="ml-1.5 text-[11px] text-zinc-400 dark:text-zinc-500">{param.type}</span>
            {param.required && (
              <span className="ml-0.5 text-red-600 dark:text-red-400" title="required">
                *
              </span>
            )}
          </p>
          {param.help && <p className="text-[12px] text-zinc-500 dark:text-zinc-400">{param.help}</p>}
        </div>
        <ModeSwitch name={param.name} mode={mode} onChange={onMode} />
      </div>
      {mode === 'fixed' ? (
        <div className="grid grid-cols-2 gap-x-3 sm:grid-cols-4">
          <div className="col-span-2">
            <Field id={`${id}-value`} label="Value" error={errorOf(`${field}.value`)}>
              <TemplateParamInput id={`${id}-value`} param={param} value={value} onChange={onValue} />
            </Field>
          </div>
        </div>
      ) : (
        <div className="grid grid-cols-2 gap-x-3 gap-y-2 sm:grid-cols-4">
          <Field id={`${id}-kind`} label="Search" error={undefined}>
            <select
              id={`${id}-kind`}
              value={search.kind}
              onChange={(e) => setSearch('kind', e.target.value as SearchKind)}
              disabled={kinds.length === 1}
              className={cx(inputClass, 'disabled:opacity-70')}
            >
              {kinds.map((kind) => (
                <option key={kind} value={kind}>
                  {SEARCH_KIND_NAMES[kind]}
                </option>
              ))}
            </select>
          </Field>
          {search.kind === 'choice' ? (
            <div className="col-span-1 sm:col-span-3">
              <Field
                id={`${id}-values`}
                label="Values"
                hint="Comma-separated, in the order a grid goes through them."
                error={errorOf(`${field}.values`)}
              >
                <input
                  id={`${id}-values`}
                  value={search.values}
                  onChange={(e) => setSearch('values', e.target.value)}
                  placeholder={param.type === 'string' ? 'adam, sgd' : '0.1, 0.01, 0.001'}
                  spellCheck={false}
                  className={inputClasses({ mono: true })}
                />
              </Field>
            </div>
          ) : (
            <>
              <Field id={`${id}-min`} label="Min" error={errorOf(`${field}.min`)}>
                <NumberInput
                  id={`${id}-min`}
                  value={search.min}
                  onChange={(v) => setSearch('min', v)}
                  integer={search.kind === 'int'}
                />
              </Field>
              <Field id={`${id}-max`} label="Max" error={errorOf(`${field}.max`)}>
                <NumberInput
                  id={`${id}-max`}
                  value={search.max}
                  onChange={(v) => setSearch('max', v)}
                  integer={search.kind === 'int'}
                />
              </Field>
              {search.kind === 'int' && (
                <Field id={`${id}-step`} label="Step" error={errorOf(`${field}.step`)}>
                  <NumberInput id={`${id}-step`} value={search.step} onChange={(v) => setSearch('step', v)} />
                </Field>
              )}
            </>
          )}
        </div>
      )}
      {rowError && <FieldErrorText id={id}>{rowError}</FieldErrorText>}
    </div>
  );
}

function ModeSwitch({ name, mode, onChange }: { name: string; mode: ParamMode; onChange: (mode: ParamMode) => void }) {
  return (
    <div
      role="group"
      aria-label={`How ${name} is set`}
      className="inline-flex shrink-0 overflow-hidden rounded-md border border-zinc-300 dark:border-zinc-700"
    >
      {(['fixed', 'search'] as const).map((value) => (
        <button
          key={value}
          type="button"
          aria-pressed={mode === value}
          onClick={() => onChange(value)}
          className={cx(
            'h-6 px-2.5 text-[12px] font-medium',
            mode === value
              ? 'bg-zinc-800 text-white dark:bg-zinc-200 dark:text-zinc-900'
              : 'bg-white text-zinc-700 hover:bg-zinc-50 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800',
          )}
        >
          {value === 'fixed' ? 'Fixed' : 'Search'}
        </button>
      ))}
    </div>
  );
}

const STOPPING_NAMES: Record<StoppingType, string> = {
  none: 'None: every trial runs to its end',
  asha: 'ASHA (successive halving)',
  median: 'Median rule',
};

function EarlyStoppingFields({
  draft,
  onChange,
  errorOf,
}: {
  draft: StoppingDraft;
  onChange: (draft: StoppingDraft) => void;
  errorOf: (field: string) => string | undefined;
}) {
  const set = <K extends keyof StoppingDraft>(key: K, value: StoppingDraft[K]) => onChange({ ...draft, [key]: value });
  return (
    <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-4">
      <div className="col-span-2">
        <Field id="sw-stopping" label="Rule" error={undefined}>
          <select
            id="sw-stopping"
            value={draft.type}
            onChange={(e) => set('type', e.target.value as StoppingType)}
            className={inputClass}
          >
            {(Object.keys(STOPPING_NAMES) as StoppingType[]).map((type) => (
              <option key={type} value={type}>
                {STOPPING_NAMES[type]}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {draft.type === 'asha' && (
        <>
          <Field
            id="sw-asha-min"
            label="Min resource"
            required
            hint="The step of the first rung."
            error={errorOf('earlyStopping.minResource')}
          >
            <NumberInput id="sw-asha-min" value={draft.minResource} onChange={(v) => set('minResource', v)} />
          </Field>
          <Field
            id="sw-asha-factor"
            label="Reduction factor"
            hint="Keeps the best 1/factor at a rung."
            error={errorOf('earlyStopping.reductionFactor')}
          >
            <NumberInput
              id="sw-asha-factor"
              value={draft.reductionFactor}
              onChange={(v) => set('reductionFactor', v)}
            />
          </Field>
          <div className="col-span-2 sm:col-start-3">
            <Field
              id="sw-asha-max"
              label="Max resource"
              hint="Optional: the step where trials end; no rung at or past it."
              error={errorOf('earlyStopping.maxResource')}
            >
              <NumberInput
                id="sw-asha-max"
                value={draft.maxResource}
                onChange={(v) => set('maxResource', v)}
                placeholder="none"
              />
            </Field>
          </div>
        </>
      )}
      {draft.type === 'median' && (
        <>
          <Field
            id="sw-median-warmup"
            label="Warm-up steps"
            required
            hint="No trial is stopped before."
            error={errorOf('earlyStopping.warmupSteps')}
          >
            <NumberInput id="sw-median-warmup" value={draft.warmupSteps} onChange={(v) => set('warmupSteps', v)} />
          </Field>
          <Field
            id="sw-median-min-trials"
            label="Min trials"
            hint="Others that reached the step."
            error={errorOf('earlyStopping.minTrials')}
          >
            <NumberInput id="sw-median-min-trials" value={draft.minTrials} onChange={(v) => set('minTrials', v)} />
          </Field>
        </>
      )}
    </div>
  );
}
