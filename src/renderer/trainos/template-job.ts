import type { InputOf } from '#shared/api/endpoint';
import type { ApiEndpoints } from '#shared/contracts/index';
import type { TemplateParam, TemplateParamValue, TrainingTemplate } from '#shared/contracts/trainos';
import { RESOURCE_FIELDS, numberOrDefault, resourceDraftOf, resourcesInput, type ResourceDraft } from './form-fields';

/** The installed templates: they change only when the app's files do. */
export const TEMPLATES_QUERY_KEY = ['trainos', 'templates'] as const;

export type TemplateJobRequest = InputOf<ApiEndpoints['trainingTemplates.submit']>;

/** A dataset version the job reads; `version` '' means the newest (what the version menu shows first). */
export interface DatasetChoice {
  dataset: string;
  version: string;
}

/** What the template form holds: numbers as typed, so that an emptied field means "the template's default". */
export interface TemplateDraft {
  template: string;
  name: string;
  /** By parameter name: text as typed, or a checkbox's state for a boolean. */
  params: Record<string, string | boolean>;
  /** By the template's `as`. */
  datasets: Record<string, DatasetChoice>;
  resources: ResourceDraft;
  experiment: string;
  priority: string;
  retries: string;
  keepCheckpoints: string;
}

/** What carries over when another template is picked: what is not the template's own. */
type Carried = Pick<TemplateDraft, 'name' | 'experiment' | 'priority' | 'retries' | 'keepCheckpoints'>;

const FRESH: Carried = { name: '', experiment: 'Default', priority: '0', retries: '0', keepCheckpoints: '' };

function paramDraftOf(param: TemplateParam): string | boolean {
  if (param.type === 'boolean') return param.default === true || param.default === 'true';
  return param.default === undefined ? '' : String(param.default);
}

/**
 * A template's form filled with its defaults. `dataset`, when given (the dataset page's "Train a model"), goes
 * into the template's first dataset slot.
 */
export function templateDraftOf(
  template: TrainingTemplate,
  dataset?: DatasetChoice,
  carried: Carried = FRESH,
): TemplateDraft {
  const first = template.datasets[0];
  return {
    ...carried,
    template: template.id,
    params: Object.fromEntries(template.params.map((p) => [p.name, paramDraftOf(p)])),
    datasets: Object.fromEntries(
      template.datasets.map((d) => [d.as, d === first && dataset ? dataset : { dataset: '', version: '' }]),
    ),
    resources: resourceDraftOf(template.resources),
  };
}

/**
 * Another template picked: its defaults, keeping the name, experiment, priority, retries and checkpoints to keep
 * typed so far, and the
 * dataset versions chosen so far: by their `as` when the new template reads datasets of the same names, else the
 * first one chosen goes into its first slot (the dataset page's version stays chosen whichever template is picked).
 */
export function switchTemplate(draft: TemplateDraft, template: TrainingTemplate): TemplateDraft {
  const { name, experiment, priority, retries, keepCheckpoints } = draft;
  const carried = { name, experiment, priority, retries, keepCheckpoints };
  if (!template.datasets.some((d) => d.as in draft.datasets)) {
    return templateDraftOf(
      template,
      Object.values(draft.datasets).find((d) => d.dataset !== ''),
      carried,
    );
  }
  const next = templateDraftOf(template, undefined, carried);
  for (const { as } of template.datasets) next.datasets[as] = draft.datasets[as] ?? { dataset: '', version: '' };
  return next;
}

/**
 * A parameter's value for the request, or undefined to leave it to the template's default. Typed numbers go as
 * numbers; text that is not one goes as typed, for the server to name the field.
 */
function paramValue(param: TemplateParam, value: string | boolean): TemplateParamValue | undefined {
  if (typeof value === 'boolean') return value;
  if (param.type === 'int' || param.type === 'number') {
    if (value.trim() === '') return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : value;
  }
  if (param.type === 'choice' && value === '') return undefined;
  return value;
}

/** The request the form makes: unchosen datasets are left out, for the server to say they are required. */
export function templateJobRequest(template: TrainingTemplate, draft: TemplateDraft): TemplateJobRequest {
  const params: Record<string, TemplateParamValue> = {};
  for (const param of template.params) {
    const value = paramValue(param, draft.params[param.name] ?? '');
    if (value !== undefined) params[param.name] = value;
  }
  const datasets: Record<string, { dataset: string; version: string }> = {};
  for (const { as } of template.datasets) {
    const chosen = draft.datasets[as];
    if (chosen && chosen.dataset !== '') {
      datasets[as] = { dataset: chosen.dataset, version: chosen.version || 'latest' };
    }
  }
  return {
    template: template.id,
    name: draft.name.trim() || undefined,
    params,
    datasets,
    resources: resourcesInput(draft.resources),
    experiment: draft.experiment.trim() || undefined,
    priority: numberOrDefault(draft.priority),
    retries: numberOrDefault(draft.retries),
    keepCheckpoints: numberOrDefault(draft.keepCheckpoints),
  };
}

/** The template form's own fields, besides one per parameter (`params.<name>`) and dataset (`datasets.<as>`). */
const FORM_FIELDS: readonly string[] = [
  'name',
  'experiment',
  'priority',
  'retries',
  'keepCheckpoints',
  ...RESOURCE_FIELDS,
];

/**
 * The template form's field a server error names, or null when the form has none for it. The template's own
 * checks name `params.<name>` and `datasets.<as>`; the job's dataset checks name `datasets.<index>`, in the
 * template's order; the request schema names `resources.gpus`, `datasets.<as>.version`…
 */
export function templateFieldOf(path: string | null, template: TrainingTemplate): string | null {
  if (path === null) return null;
  const [head, second] = path.split('.');
  if (head === 'params' && second !== undefined && template.params.some((p) => p.name === second)) {
    return `params.${second}`;
  }
  if (head === 'datasets' && second !== undefined) {
    const as = /^\d+$/.test(second) ? template.datasets[Number(second)]?.as : second;
    return as !== undefined && template.datasets.some((d) => d.as === as) ? `datasets.${as}` : null;
  }
  const field = head === 'resources' ? second : head;
  return field !== undefined && FORM_FIELDS.includes(field) ? field : null;
}

/** A field's value in a request: `params.<name>`, `datasets.<as>`, a resource field, or a field of the job. */
function requestValue(request: TemplateJobRequest, field: string): unknown {
  const [head = '', key = ''] = field.split('.');
  if (head === 'params') return request.params?.[key];
  if (head === 'datasets') return request.datasets?.[key];
  if ((RESOURCE_FIELDS as readonly string[]).includes(head)) {
    return (request.resources as Record<string, unknown> | undefined)?.[head];
  }
  return (request as Record<string, unknown>)[head];
}

/**
 * Whether a field of the form still asks what the rejected request asked: its complaint shows only until it is
 * changed (a typed target no longer says "is required").
 */
export function unchangedSince(field: string, submitted: TemplateJobRequest, current: TemplateJobRequest): boolean {
  return JSON.stringify(requestValue(submitted, field)) === JSON.stringify(requestValue(current, field));
}
