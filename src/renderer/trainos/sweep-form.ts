import type { SweepInput, TemplateParam, TemplateParamValue, TrainingTemplate } from '#shared/contracts/trainos';
import type {
  EarlyStoppingInput,
  SweepAlgorithm,
  SweepGoal,
  SweepParameterInput,
  SweepSpaceInput,
} from '#shared/sweep-space';
import { serverFieldErrors } from './command';
import { numberOrDefault } from './form-fields';
import {
  switchTemplate,
  templateDraftOf,
  templateFieldOf,
  templateJobRequest,
  type TemplateDraft,
} from './template-job';

/** Whether a template parameter keeps one value in every trial, or is searched over. */
export type ParamMode = 'fixed' | 'search';

/** The searches the form offers (the space's stepped real range, quniform, is left to the API). */
export type SearchKind = 'choice' | 'uniform' | 'loguniform' | 'int';

/** One searched parameter as typed: every kind's fields, so that switching kinds back and forth loses nothing. */
export interface SearchDraft {
  kind: SearchKind;
  /** choice: the values, comma-separated. */
  values: string;
  min: string;
  max: string;
  /** int: the step. */
  step: string;
}

export type StoppingType = EarlyStoppingInput['type'];

/** The early-stopping fields of every rule as typed. */
export interface StoppingDraft {
  type: StoppingType;
  minResource: string;
  reductionFactor: string;
  maxResource: string;
  warmupSteps: string;
  minTrials: string;
}

/** What the new-sweep form holds: numbers as typed, so that an emptied field means "the server's default". */
export interface SweepDraft {
  name: string;
  /**
   * The trials' job as the template job form holds it: the template, the fixed parameters' values, dataset versions,
   * experiment, priority, retries and resources. Its `name` is unused: the sweep names its trials.
   */
  job: TemplateDraft;
  /** By template parameter name. */
  modes: Record<string, ParamMode>;
  search: Record<string, SearchDraft>;
  metric: string;
  goal: SweepGoal;
  algorithm: SweepAlgorithm;
  maxTrials: string;
  parallel: string;
  gridPoints: string;
  seed: string;
  stopping: StoppingDraft;
}

/**
 * The searches that make values a parameter of this type accepts: a real range only for a real number, whole
 * numbers for a number or an int, a list of values for anything.
 */
export function searchKindsOf(param: TemplateParam): SearchKind[] {
  switch (param.type) {
    case 'number':
      return ['uniform', 'loguniform', 'int', 'choice'];
    case 'int':
      return ['int', 'choice'];
    default:
      return ['choice'];
  }
}

/** A parameter's search to begin with: its first kind; for a list, the values it can take, else its default. */
export function searchDraftOf(param: TemplateParam): SearchDraft {
  const values =
    param.type === 'choice'
      ? (param.choices ?? []).join(', ')
      : param.type === 'boolean'
        ? 'true, false'
        : param.default === undefined
          ? ''
          : String(param.default);
  return { kind: searchKindsOf(param)[0] ?? 'choice', values, min: '', max: '', step: '1' };
}

/** The settings of a sweep that do not depend on the template, as the form starts them. */
const FRESH_SETTINGS: Omit<SweepDraft, 'job' | 'modes' | 'search'> = {
  name: '',
  metric: 'loss',
  goal: 'minimize',
  algorithm: 'random',
  maxTrials: '20',
  parallel: '2',
  gridPoints: '',
  seed: '0',
  stopping: { type: 'none', minResource: '', reductionFactor: '3', maxResource: '', warmupSteps: '', minTrials: '5' },
};

function templateParts(template: TrainingTemplate): Pick<SweepDraft, 'modes' | 'search'> {
  return {
    modes: Object.fromEntries(template.params.map((p) => [p.name, 'fixed' as const])),
    search: Object.fromEntries(template.params.map((p) => [p.name, searchDraftOf(p)])),
  };
}

/** The form on a template: every parameter fixed at its default, searching nothing yet. */
export function sweepDraftOf(template: TrainingTemplate): SweepDraft {
  return { ...FRESH_SETTINGS, job: templateDraftOf(template), ...templateParts(template) };
}

/** Another template picked: its parameters and datasets afresh, the sweep's own settings kept. */
export function switchSweepTemplate(draft: SweepDraft, template: TrainingTemplate): SweepDraft {
  return { ...draft, job: switchTemplate(draft.job, template), ...templateParts(template) };
}

/**
 * A number field's value where the request must have a number: an empty field goes as NaN, which JSON sends as
 * null, so that the server names the field ("expected number") rather than the form guessing a value.
 */
function requiredNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

/** A listed value as the parameter's type takes it; text that is not one goes as typed, for the server to name. */
function listedValue(text: string, type: TemplateParam['type']): TemplateParamValue {
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  if (type === 'int' || type === 'number') {
    const n = Number(text);
    return Number.isFinite(n) ? n : text;
  }
  return text;
}

/** Comma-separated values, blanks dropped. */
export function splitValues(text: string, type: TemplateParam['type']): TemplateParamValue[] {
  return text
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
    .map((v) => listedValue(v, type));
}

export function sweepParameterOf(param: TemplateParam, search: SearchDraft): SweepParameterInput {
  switch (search.kind) {
    case 'choice':
      return { type: 'choice', values: splitValues(search.values, param.type) };
    case 'uniform':
    case 'loguniform':
      return { type: search.kind, min: requiredNumber(search.min), max: requiredNumber(search.max) };
    case 'int':
      return {
        type: 'int',
        min: requiredNumber(search.min),
        max: requiredNumber(search.max),
        step: numberOrDefault(search.step),
      };
  }
}

function earlyStoppingOf(draft: StoppingDraft): EarlyStoppingInput {
  switch (draft.type) {
    case 'none':
      return { type: 'none' };
    case 'asha':
      return {
        type: 'asha',
        minResource: requiredNumber(draft.minResource),
        reductionFactor: numberOrDefault(draft.reductionFactor),
        maxResource: numberOrDefault(draft.maxResource),
      };
    case 'median':
      return {
        type: 'median',
        warmupSteps: requiredNumber(draft.warmupSteps),
        minTrials: numberOrDefault(draft.minTrials),
      };
  }
}

/** The searched parameters of the template, in its order (the order of the space, the grid and the chart's axes). */
export function searchedParams(template: TrainingTemplate, draft: SweepDraft): TemplateParam[] {
  return template.params.filter((p) => draft.modes[p.name] === 'search');
}

/** The request the form makes: searched parameters go into the space and out of the template's fixed values. */
export function sweepRequest(template: TrainingTemplate, draft: SweepDraft): SweepInput {
  const job = templateJobRequest(template, draft.job);
  const searched = searchedParams(template, draft);
  const searchedNames = new Set(searched.map((p) => p.name));
  const fixed = Object.fromEntries(Object.entries(job.params ?? {}).filter(([name]) => !searchedNames.has(name)));
  const space: SweepSpaceInput = Object.fromEntries(
    searched.map((p) => [p.name, sweepParameterOf(p, draft.search[p.name] ?? searchDraftOf(p))]),
  );
  return {
    name: draft.name.trim(),
    template: { ...job, params: fixed },
    space,
    objective: { metric: draft.metric.trim(), goal: draft.goal },
    algorithm: draft.algorithm,
    maxTrials: numberOrDefault(draft.maxTrials),
    parallel: numberOrDefault(draft.parallel),
    gridPoints: draft.algorithm === 'grid' ? numberOrDefault(draft.gridPoints) : undefined,
    seed: numberOrDefault(draft.seed),
    earlyStopping: earlyStoppingOf(draft.stopping),
  };
}

/** The sweep's own fields that the form has, by the name the request gives them. */
const SWEEP_FIELDS: readonly string[] = [
  'name',
  'algorithm',
  'maxTrials',
  'parallel',
  'gridPoints',
  'seed',
  'objective.metric',
  'objective.goal',
  'earlyStopping.minResource',
  'earlyStopping.reductionFactor',
  'earlyStopping.maxResource',
  'earlyStopping.warmupSteps',
  'earlyStopping.minTrials',
];

const SEARCH_FIELDS: readonly string[] = ['values', 'min', 'max', 'step'];

/**
 * The form field a server error's path names, or null when the form has none for it. Fields are named as the
 * request names them, but a parameter's are `param.<name>` (its row: a search the template refuses), with
 * `.value` (its fixed value) or `.values`, `.min`, `.max`, `.step` (its search's). The request schema names
 * `space.lr.max`, `template.datasets.TRAIN.version`, `earlyStopping.minResource`; the service names `space.lr`,
 * and the template's own checks `params.lr` and `datasets.TRAIN`.
 */
export function sweepFieldOf(path: string | null, template: TrainingTemplate, draft: SweepDraft): string | null {
  if (path === null) return null;
  if (SWEEP_FIELDS.includes(path)) return path;
  const segments = path.split('.');
  const [head, name, part] = segments;
  if (head === 'space') {
    if (name === undefined || !template.params.some((p) => p.name === name)) return 'space';
    return part !== undefined && SEARCH_FIELDS.includes(part) ? `param.${name}.${part}` : `param.${name}`;
  }
  if (head === 'earlyStopping' || head === 'objective') return null;
  const templatePath = head === 'template' ? segments.slice(1).join('.') : path;
  if (templatePath === 'name') return null;
  const field = templateFieldOf(templatePath, template);
  if (field?.startsWith('params.')) {
    const param = field.slice('params.'.length);
    return draft.modes[param] === 'search' ? `param.${param}` : `param.${param}.value`;
  }
  return field;
}

/** A rejected submit's complaints: by form field, and those no field shows (or the error itself, when not a 400). */
export interface PlacedErrors {
  byField: ReadonlyMap<string, string>;
  unplaced: readonly string[];
}

export function placeServerErrors(error: unknown, template: TrainingTemplate, draft: SweepDraft): PlacedErrors {
  const byField = new Map<string, string>();
  const unplaced: string[] = [];
  for (const { path, message } of serverFieldErrors(error)) {
    const field = sweepFieldOf(path, template, draft);
    if (field === null) unplaced.push(path === null ? message : `${path}: ${message}`);
    else byField.set(field, byField.has(field) ? `${byField.get(field)}; ${message}` : message);
  }
  return { byField, unplaced };
}
