import {
  trainerSummary,
  type BuiltinTrainerKind,
  type BuiltinTrainerParamsInput,
} from '#shared/contracts/builtin-trainer';
import type { TrainingJob, TrainingJobInput } from '#shared/contracts/trainos';
import { serverFieldErrors } from './command';
import { numberOrDefault } from './form-fields';
import type { DatasetChoice } from './template-job';

type TrainerKey = keyof BuiltinTrainerParamsInput;

/** The settings every trainer reads. */
const COMMON: readonly TrainerKey[] = [
  'file',
  'epochs',
  'batchSize',
  'learningRate',
  'validationSplit',
  'earlyStoppingPatience',
  'hiddenUnits',
  'maxSamples',
  'seed',
];

/** The settings each kind of trainer reads, besides the common ones (the spec holds every default). */
const BY_KIND: Record<BuiltinTrainerKind, readonly TrainerKey[]> = {
  'tabular-classifier': ['target', 'features', 'splitColumn', 'maxCategories'],
  'tabular-regressor': ['target', 'features', 'splitColumn', 'maxCategories'],
  'text-classifier': ['target', 'textColumn', 'splitColumn', 'embeddingDim', 'minTokenCount', 'maxVocabulary'],
  'image-classifier': ['convFilters', 'imageSize'],
};

/**
 * A trainer's settings with those its kind does not read left out: a parsed spec holds every default, so a
 * tabular job's also says `embeddingDim=32` and `convFilters=[16,32]`, which would only puzzle. The column types
 * are left out too (long, and shown on the dataset's page).
 */
export function trainerSettings(trainer: BuiltinTrainerParamsInput): BuiltinTrainerParamsInput {
  const read = new Set<string>([...BY_KIND[trainer.kind], ...COMMON]);
  const kept: Record<string, unknown> = { kind: trainer.kind };
  for (const [key, value] of Object.entries(trainer)) {
    if (read.has(key) && value !== undefined) kept[key] = value;
  }
  return kept as BuiltinTrainerParamsInput;
}

/** "tabular-classifier target=species epochs=3 …", with only the settings its kind reads. */
export function trainerText(trainer: BuiltinTrainerParamsInput): string {
  return trainerSummary(trainerSettings(trainer));
}

/**
 * Whether a built-in trainer's metric is one it logs once at the end (`best_epoch`, the best epoch's values as
 * `best_<name>`, the test set's as `test_<name>`) rather than a series over the epochs: a chart of one point says
 * less than the number.
 */
export function isFinalMetric(key: string): boolean {
  return key.startsWith('best_') || key.startsWith('test_');
}

/** What a job trains on, for the queue: "tabular-classifier on iris v1". */
export function builtinJobSubtitle(job: TrainingJob): string | null {
  const { trainer, datasets } = job.spec;
  if (job.spec.kind !== 'builtin' || !trainer) return null;
  const data = datasets[0];
  if (!data) return trainer.kind;
  return `${trainer.kind} on ${data.dataset} ${/^\d+$/.test(data.version) ? `v${data.version}` : data.version}`;
}

/** The trainer settings the clone form has a field for; the rest of the trainer is sent as it was. */
export const BUILTIN_FIELDS = [
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
] as const;
export type BuiltinField = (typeof BUILTIN_FIELDS)[number];

/** Whether the clone form shows a setting for this kind of trainer. */
export function hasField(kind: BuiltinTrainerKind, field: BuiltinField): boolean {
  if (field === 'target') return kind !== 'image-classifier';
  if (field === 'textColumn' || field === 'embeddingDim') return kind === 'text-classifier';
  return true;
}

/** A built-in job's clone form: text as typed, so that an emptied field means "the trainer's default". */
export interface BuiltinDraft {
  name: string;
  /** The trainer's kind is the job's: the form changes its settings, not which trainer runs. */
  kind: BuiltinTrainerKind;
  /** By setting: `hiddenUnits` as "64, 32". */
  settings: Record<BuiltinField, string>;
  /** The one dataset version it trains on; '' for the newest. */
  dataset: DatasetChoice;
  /** Its `as` in the spec (the template's slot), kept. */
  datasetAs: string | undefined;
  registerModel: string;
  experiment: string;
  cpuThreads: string;
  ramMb: string;
  priority: string;
  retries: string;
  keepCheckpoints: string;
  maxRuntimeSeconds: string;
  /**
   * What the spec sets that the form has no field for, sent as it was: the trainer's other settings (features,
   * column types, convolution filters…), its GPU choice (none or 'any'), env and preemption settings.
   */
  carried: {
    trainer: Omit<BuiltinTrainerParamsInput, 'kind' | BuiltinField>;
    gpus: number | 'any';
  } & Pick<TrainingJobInput, 'env' | 'preemptible' | 'parkIdleModels'>;
}

function settingText(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The clone form filled with a built-in job's spec. Null for a script job (the command form clones those). */
export function builtinDraftOf(job: TrainingJob): BuiltinDraft | null {
  const { spec } = job;
  if (spec.kind !== 'builtin' || !spec.trainer) return null;
  const { kind, ...trainer } = spec.trainer;
  const settings = Object.fromEntries(
    BUILTIN_FIELDS.map((field) => [field, hasField(kind, field) ? settingText(trainer[field]) : '']),
  ) as Record<BuiltinField, string>;
  const rest: Record<string, unknown> = { ...trainer };
  for (const field of BUILTIN_FIELDS) delete rest[field];
  const data = spec.datasets[0];
  return {
    name: job.name,
    kind,
    settings,
    dataset: { dataset: data?.dataset ?? '', version: data?.version === 'latest' ? '' : (data?.version ?? '') },
    datasetAs: data?.as,
    registerModel: spec.registerModel ?? '',
    experiment: spec.experiment,
    cpuThreads: String(spec.resources.cpuThreads),
    ramMb: String(spec.resources.ramMb),
    priority: String(spec.priority),
    retries: String(spec.retries),
    keepCheckpoints: spec.keepCheckpoints === undefined ? '' : String(spec.keepCheckpoints),
    maxRuntimeSeconds: spec.maxRuntimeSeconds === undefined ? '' : String(spec.maxRuntimeSeconds),
    carried: {
      trainer: rest,
      gpus: spec.resources.gpus === 'any' ? 'any' : 0,
      env: spec.env,
      preemptible: spec.preemptible,
      parkIdleModels: spec.parkIdleModels,
    },
  };
}

/** "64, 32" as [64, 32]; empty for the default; what is not a list of numbers goes as typed, for the server. */
function numberList(text: string): number[] | undefined | string {
  if (text.trim() === '') return undefined;
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  const numbers = parts.map(Number);
  return numbers.every((n) => Number.isFinite(n)) ? numbers : text;
}

/** A number setting: empty for the default; text that is not a number goes as typed, for the server to name. */
function numberSetting(text: string): number | string | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/**
 * The spec the clone form submits: a built-in job with the form's settings. The template's parameters the cloned
 * job was made with are not sent: the trainer's settings are logged as its run's parameters, and the template's
 * (`epochs`, `learning_rate`…) would no longer say what ran.
 */
export function builtinJobSpec(draft: BuiltinDraft): TrainingJobInput {
  const trainer: Record<string, unknown> = { ...draft.carried.trainer, kind: draft.kind };
  for (const field of BUILTIN_FIELDS) {
    if (!hasField(draft.kind, field)) continue;
    const text = draft.settings[field];
    const value =
      field === 'target' || field === 'textColumn' || field === 'file'
        ? text.trim() || undefined
        : field === 'hiddenUnits'
          ? numberList(text)
          : numberSetting(text);
    if (value !== undefined) trainer[field] = value;
  }
  return {
    kind: 'builtin',
    name: draft.name.trim() || undefined,
    // Typed wrong ("ten" epochs), a setting goes as typed: the server's 400 names it, and the form shows it there.
    trainer: trainer as BuiltinTrainerParamsInput,
    registerModel: draft.registerModel.trim() || undefined,
    datasets: [
      {
        dataset: draft.dataset.dataset,
        version: draft.dataset.version || 'latest',
        ...(draft.datasetAs === undefined ? {} : { as: draft.datasetAs }),
      },
    ],
    experiment: draft.experiment.trim() || undefined,
    resources: {
      gpus: draft.carried.gpus,
      cpuThreads: numberOrDefault(draft.cpuThreads),
      ramMb: numberOrDefault(draft.ramMb),
    },
    priority: numberOrDefault(draft.priority),
    retries: numberOrDefault(draft.retries),
    keepCheckpoints: numberOrDefault(draft.keepCheckpoints),
    maxRuntimeSeconds: numberOrDefault(draft.maxRuntimeSeconds),
    env: draft.carried.env,
    preemptible: draft.carried.preemptible,
    parkIdleModels: draft.carried.parkIdleModels,
    executor: 'local',
  };
}

/** The clone form's own fields, besides one per trainer setting (`trainer.<name>`). */
const FORM_FIELDS: readonly string[] = [
  'name',
  'registerModel',
  'experiment',
  'datasets',
  'cpuThreads',
  'ramMb',
  'priority',
  'retries',
  'keepCheckpoints',
  'maxRuntimeSeconds',
];

/**
 * The clone form's field a server error's path names, or null when it has none: `trainer.epochs` →
 * `trainer.epochs`, `trainer.hiddenUnits.0` → `trainer.hiddenUnits`, `datasets.0.version` → `datasets`,
 * `resources.ramMb` → `ramMb`.
 */
export function builtinFieldOf(path: string | null, kind: BuiltinTrainerKind): string | null {
  if (path === null) return null;
  const [head, second] = path.split('.');
  if (head === 'trainer') {
    const field = BUILTIN_FIELDS.find((f) => f === second);
    return field !== undefined && hasField(kind, field) ? `trainer.${field}` : null;
  }
  const field = head === 'resources' ? second : head;
  return field !== undefined && FORM_FIELDS.includes(field) ? field : null;
}

/** A rejected submit's complaints, each with the clone form's field it belongs to (null: none of them). */
export function builtinFieldErrors(
  error: unknown,
  kind: BuiltinTrainerKind,
): { field: string | null; message: string }[] {
  return serverFieldErrors(error).map((e) => ({ field: builtinFieldOf(e.path, kind), message: e.message }));
}

/** A field's value in a spec the clone form made: `trainer.<setting>`, a resource field, or a field of the job. */
function specValue(spec: TrainingJobInput, field: string): unknown {
  const [head = '', key = ''] = field.split('.');
  if (head === 'trainer') return (spec.trainer as Record<string, unknown> | undefined)?.[key];
  if (head === 'cpuThreads' || head === 'ramMb') return spec.resources?.[head];
  return (spec as Record<string, unknown>)[head];
}

/** Whether a field of the clone form still asks what the rejected spec asked: its complaint shows until then. */
export function builtinUnchangedSince(field: string, submitted: TrainingJobInput, current: TrainingJobInput): boolean {
  return JSON.stringify(specValue(submitted, field)) === JSON.stringify(specValue(current, field));
}
