import type { BuiltinTrainerKind } from '#shared/contracts/builtin-trainer';
import { inputClass, Muted } from '../components/ui';
import { hasField, type BuiltinDraft, type BuiltinField } from './builtin-job';
import { ExperimentField, Field, NumberInput, PriorityField, KeepCheckpointsField, RetriesField } from './form-fields';
import { DatasetVersionField, Section } from './TemplateJobFields';

/** How each trainer setting of the clone form is labelled, typed and explained. */
const SETTINGS: Record<BuiltinField, { label: string; type: 'text' | 'int' | 'number'; hint: string }> = {
  target: { label: 'Target column', type: 'text', hint: 'The label column to predict.' },
  textColumn: { label: 'Text column', type: 'text', hint: 'The column holding the text.' },
  file: { label: 'File', type: 'text', hint: 'Inside the dataset; empty: the first one found.' },
  epochs: { label: 'Epochs', type: 'int', hint: 'At most; a checkpoint after each.' },
  learningRate: { label: 'Learning rate', type: 'number', hint: "Adam's." },
  batchSize: { label: 'Batch size', type: 'int', hint: 'Examples per gradient step.' },
  validationSplit: {
    label: 'Validation split',
    type: 'number',
    hint: 'Share of the training rows held out; 0: none.',
  },
  earlyStoppingPatience: {
    label: 'Early-stopping patience',
    type: 'int',
    hint: 'Epochs without a better validation loss; 0: off.',
  },
  hiddenUnits: { label: 'Hidden units', type: 'text', hint: "Dense layers, as 64, 32; empty: the trainer's default." },
  embeddingDim: { label: 'Embedding size', type: 'int', hint: 'Size of the word embeddings.' },
  maxSamples: { label: 'Max samples', type: 'int', hint: 'Per split, for quick runs; empty: all.' },
  seed: { label: 'Seed', type: 'int', hint: 'Seeds the split, the shuffles and the weights.' },
};

const ORDER: readonly BuiltinField[] = [
  'target',
  'textColumn',
  'file',
  'epochs',
  'learningRate',
  'batchSize',
  'validationSplit',
  'earlyStoppingPatience',
  'hiddenUnits',
  'embeddingDim',
  'maxSamples',
  'seed',
];

/**
 * The clone form of a built-in trainer's job: its trainer's settings, the dataset version it trains on, the model
 * its export registers as, and the job's own fields. Which trainer runs stays the cloned job's.
 */
export function BuiltinJobFields({
  draft,
  onChange,
  errorOf,
}: {
  draft: BuiltinDraft;
  onChange: (draft: BuiltinDraft) => void;
  /** The server's complaint about a field: `trainer.<setting>`, `datasets`, `registerModel`, `ramMb`… */
  errorOf: (field: string) => string | undefined;
}) {
  const set = <K extends keyof BuiltinDraft>(key: K, value: BuiltinDraft[K]) => onChange({ ...draft, [key]: value });
  const setSetting = (field: BuiltinField, value: string) =>
    onChange({ ...draft, settings: { ...draft.settings, [field]: value } });
  return (
    <>
      <Section title="Trainer">
        <p data-testid="builtin-trainer-kind">
          <code className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-[12px] text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
            {draft.kind}
          </code>{' '}
          <Muted>runs in the app, on the CPU; its other settings are kept as the cloned job had them.</Muted>
        </p>
      </Section>
      <Section title="Data">
        <DatasetVersionField
          as={draft.datasetAs ?? 'TRAIN'}
          help="The dataset version it trains on."
          choice={draft.dataset}
          onChange={(choice) => set('dataset', choice)}
          error={errorOf('datasets')}
        />
      </Section>
      <Section title="Settings">
        <div className="grid grid-cols-1 gap-x-4 gap-y-3 sm:grid-cols-2">
          {ORDER.filter((field) => hasField(draft.kind, field)).map((field) => (
            <SettingField
              key={field}
              kind={draft.kind}
              field={field}
              value={draft.settings[field]}
              onChange={(value) => setSetting(field, value)}
              error={errorOf(`trainer.${field}`)}
            />
          ))}
        </div>
      </Section>
      <Section title="Job">
        <div className="grid grid-cols-2 gap-x-4 gap-y-3">
          <Field id="tj-name" label="Name" hint="Optional: the trainer and dataset otherwise." error={errorOf('name')}>
            <input
              id="tj-name"
              value={draft.name}
              onChange={(e) => set('name', e.target.value)}
              className={inputClass}
            />
          </Field>
          <Field
            id="tj-register-model"
            label="Registers model"
            hint="Its ONNX export becomes a new version of this model (made when missing)."
            error={errorOf('registerModel')}
          >
            <input
              id="tj-register-model"
              value={draft.registerModel}
              onChange={(e) => set('registerModel', e.target.value)}
              placeholder={`${draft.dataset.dataset || '<dataset>'}-${draft.kind}`}
              spellCheck={false}
              className={inputClass}
            />
          </Field>
          <ExperimentField
            value={draft.experiment}
            onChange={(v) => set('experiment', v)}
            error={errorOf('experiment')}
          />
          <PriorityField value={draft.priority} onChange={(v) => set('priority', v)} error={errorOf('priority')} />
        </div>
        <div className="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-4">
          <Field id="tj-cpu-threads" label="CPU threads" error={errorOf('cpuThreads')}>
            <NumberInput id="tj-cpu-threads" value={draft.cpuThreads} onChange={(v) => set('cpuThreads', v)} />
          </Field>
          <Field id="tj-ram" label="RAM (MiB)" error={errorOf('ramMb')}>
            <NumberInput id="tj-ram" value={draft.ramMb} onChange={(v) => set('ramMb', v)} />
          </Field>
          <RetriesField value={draft.retries} onChange={(v) => set('retries', v)} error={errorOf('retries')} />
          <KeepCheckpointsField
            value={draft.keepCheckpoints}
            onChange={(v) => set('keepCheckpoints', v)}
            error={errorOf('keepCheckpoints')}
          />
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
      </Section>
    </>
  );
}

function SettingField({
  kind,
  field,
  value,
  onChange,
  error,
}: {
  kind: BuiltinTrainerKind;
  field: BuiltinField;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  const { label, type, hint } = SETTINGS[field];
  const id = `tj-trainer-${field}`;
  return (
    <Field id={id} label={label} required={field === 'target'} hint={hint} error={error}>
      {type === 'text' ? (
        <input
          id={id}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          placeholder={field === 'hiddenUnits' ? (kind.startsWith('tabular-') ? '64, 32' : 'none') : undefined}
          spellCheck={false}
          className={inputClass}
        />
      ) : (
        <NumberInput
          id={id}
          value={value}
          onChange={onChange}
          integer={type === 'int'}
          placeholder={field === 'maxSamples' ? 'all' : 'default'}
        />
      )}
    </Field>
  );
}
