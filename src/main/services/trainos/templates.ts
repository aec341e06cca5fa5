import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '#platform/logger';
import {
  TrainingTemplate,
  type TemplateJobInput,
  type TemplateParamValue,
  type TrainingJobInput,
} from '#shared/contracts/trainos';
import type { BuiltinTrainerParamsInput } from '#shared/contracts/builtin-trainer';
import { AppError } from '#shared/errors';

/**
 * Where the shipped templates are: `resources/templates` at the project root, found by walking up from this
 * module (from source, from the build in out/main, or beside an Electron app's resources).
 */
export function shippedTemplatesDir(): string | null {
  const electronResources = (process as { resourcesPath?: string }).resourcesPath;
  if (electronResources && existsSync(path.join(electronResources, 'templates'))) {
    return path.join(electronResources, 'templates');
  }
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'resources', 'templates');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return null;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Training templates read from folders of `<id>/template.json`; a job from one runs in its folder. */
export class TrainingTemplates {
  constructor(
    private readonly roots: readonly string[],
    private readonly logger: Logger,
  ) {}

  /** Every valid template, by id; a folder whose manifest does not parse is logged and left out. */
  list(): { template: TrainingTemplate; dir: string }[] {
    const found = new Map<string, { template: TrainingTemplate; dir: string }>();
    for (const root of this.roots) {
      if (!existsSync(root)) continue;
      for (const entry of readdirSync(root, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const dir = path.join(root, entry.name);
        const manifest = path.join(dir, 'template.json');
        if (!existsSync(manifest)) continue;
        try {
          const template = TrainingTemplate.parse(JSON.parse(readFileSync(manifest, 'utf8')));
          const unknown = this.placeholders(template).filter((p) => !template.params.some((q) => q.name === p));
          if (unknown.length > 0) throw new Error(`its command names undeclared parameters: ${unknown.join(', ')}`);
          if (!found.has(template.id)) found.set(template.id, { template, dir });
        } catch (err) {
          this.logger.warn({ err, manifest }, 'skipping a training template that does not parse');
        }
      }
    }
    return [...found.values()].sort((a, b) => a.template.title.localeCompare(b.template.title));
  }

  private placeholders(template: TrainingTemplate): string[] {
    const texts =
      template.kind === 'script'
        ? template.command
        : Object.values(template.trainer).filter((v): v is string => typeof v === 'string');
    return texts.flatMap((text) => [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string));
  }

  /** The job spec a template gives with these parameters and datasets; mistakes are 400s naming the field. */
  jobSpec(input: TemplateJobInput): TrainingJobInput {
    const found = this.list().find((t) => t.template.id === input.template);
    if (!found) throw new AppError('NOT_FOUND', `training template '${input.template}' does not exist`);
    const { template, dir } = found;
    const values = new Map<string, TemplateParamValue>();
    for (const name of Object.keys(input.params)) {
      if (!template.params.some((p) => p.name === name)) {
        throw AppError.invalid(`params.${name}`, `template '${template.id}' has no parameter '${name}'`);
      }
    }
    for (const param of template.params) {
      const given = input.params[param.name];
      const value = given ?? param.default;
      if (value === undefined || (param.required && value === '')) {
        if (param.required) throw AppError.invalid(`params.${param.name}`, 'is required');
        continue;
      }
      values.set(param.name, checkValue(param.name, param.type, param.choices, value));
    }
    for (const as of Object.keys(input.datasets)) {
      if (!template.datasets.some((d) => d.as === as)) {
        throw AppError.invalid(`datasets.${as}`, `template '${template.id}' reads no dataset '${as}'`);
      }
    }
    const datasets = template.datasets.map((d) => {
      const chosen = input.datasets[d.as];
      if (!chosen) throw AppError.invalid(`datasets.${d.as}`, `is required: ${d.help || 'a dataset version'}`);
      return { dataset: chosen.dataset, version: chosen.version, as: d.as };
    });
    const fill = (text: string) =>
      text.replace(PLACEHOLDER, (_, name: string) => {
        const value = values.get(name);
        return value === undefined ? '' : String(value);
      });
    const job =
      template.kind === 'script'
        ? { kind: 'script' as const, command: template.command.map(fill), workingDir: dir }
        : {
            kind: 'builtin' as const,
            // Checked with the rest of the spec when it is parsed: a wrong setting is a 400 naming `trainer.<field>`.
            trainer: fillTrainer(template.trainer, values, fill) as BuiltinTrainerParamsInput,
          };
    return {
      name: input.name ?? template.title,
      ...job,
      resources: input.resources ?? template.resources,
      priority: input.priority,
      experiment: input.experiment,
      retries: input.retries,
      ...(input.keepCheckpoints === undefined ? {} : { keepCheckpoints: input.keepCheckpoints }),
      executor: input.executor,
      datasets,
      params: Object.fromEntries([...values].map(([k, v]) => [k, String(v)])),
    };
  }
}

/**
 * A built-in template's trainer settings with parameters put in: a value that is exactly `{name}` takes the typed
 * value (and is left out when the parameter is unset), so numbers stay numbers; other strings are filled as text.
 */
function fillTrainer(
  trainer: Readonly<Record<string, unknown>>,
  values: ReadonlyMap<string, TemplateParamValue>,
  fill: (text: string) => string,
): Record<string, unknown> {
  const filled: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(trainer)) {
    if (typeof value !== 'string') {
      filled[key] = value;
      continue;
    }
    const whole = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
    if (whole) {
      const typed = values.get(whole[1] as string);
      if (typed !== undefined && typed !== '') filled[key] = typed;
    } else {
      filled[key] = fill(value);
    }
  }
  return filled;
}

function checkValue(
  name: string,
  type: TrainingTemplate['params'][number]['type'],
  choices: readonly string[] | undefined,
  value: TemplateParamValue,
): TemplateParamValue {
  const field = `params.${name}`;
  switch (type) {
    case 'string':
      return String(value);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw AppError.invalid(field, `must be true or false (got ${JSON.stringify(value)})`);
    case 'int':
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value);
      if (typeof value === 'boolean' || value === '' || !Number.isFinite(n)) {
        throw AppError.invalid(field, `must be a number (got ${JSON.stringify(value)})`);
      }
      if (type === 'int' && !Number.isInteger(n)) throw AppError.invalid(field, `must be a whole number (got ${n})`);
      return n;
    }
    case 'choice':
      if (!choices?.includes(String(value))) {
        throw AppError.invalid(field, `must be one of ${(choices ?? []).join(', ')} (got ${JSON.stringify(value)})`);
      }
      return String(value);
  }
}
