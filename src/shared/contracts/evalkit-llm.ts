import { z } from 'zod';
import { endpoint } from '../api/endpoint';
import { Id, Ok, Timestamp } from './common';

/**
 * EvalKit's LLM evals: a suite holds prompt templates (`{{variable}}` placeholders in a system and a user message),
 * cases (the variables, an expected output, their own assertions) and default assertions; a run asks every prompt ×
 * model (a GGUF chat deployment) × case through the core's OpenAI API and checks each answer.
 */

const DeploymentName = z.string().min(1).max(128);

/**
 * The JSON Schema subset a `json-schema` assertion understands (anything else is refused when the suite is saved):
 * `type` (string, number, integer, boolean, object, array, null, or a list of them), `properties`, `required`,
 * `additionalProperties` (boolean), `items`, `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`,
 * `minItems`/`maxItems`; `$schema`, `title` and `description` are allowed and ignored.
 */
export const JSON_SCHEMA_KEYWORDS = [
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  '$schema',
  'title',
  'description',
] as const;
export const JSON_SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first reason `schema` is outside the supported subset, with the path to it (`properties.age.type`). */
export function jsonSchemaProblem(schema: unknown, at: string[] = []): { path: string[]; message: string } | null {
  const fail = (key: string, message: string) => ({ path: [...at, key], message });
  if (!isPlainObject(schema)) return { path: at, message: 'must be a JSON Schema object' };
  for (const [key, value] of Object.entries(schema)) {
    if (!(JSON_SCHEMA_KEYWORDS as readonly string[]).includes(key))
      return fail(key, `unsupported JSON Schema keyword (supported: ${JSON_SCHEMA_KEYWORDS.join(', ')})`);
    const types = key === 'type' ? (Array.isArray(value) ? value : [value]) : [];
    if (key === 'type' && !types.every((t) => (JSON_SCHEMA_TYPES as readonly unknown[]).includes(t)))
      return fail(key, `must be one of ${JSON_SCHEMA_TYPES.join(', ')} (or a list of them)`);
    if (key === 'properties') {
      if (!isPlainObject(value)) return fail(key, 'must be an object of schemas');
      for (const [name, sub] of Object.entries(value)) {
        const problem = jsonSchemaProblem(sub, [...at, key, name]);
        if (problem) return problem;
      }
    }
    if (key === 'items') {
      const problem = jsonSchemaProblem(value, [...at, key]);
      if (problem) return problem;
    }
    if (key === 'required' && !(Array.isArray(value) && value.every((v) => typeof v === 'string')))
      return fail(key, 'must be a list of property names');
    if (key === 'enum' && !Array.isArray(value)) return fail(key, 'must be a list of values');
    if (key === 'additionalProperties' && typeof value !== 'boolean') return fail(key, 'must be true or false');
    if (['minimum', 'maximum'].includes(key) && typeof value !== 'number') return fail(key, 'must be a number');
    if (
      ['minLength', 'maxLength', 'minItems', 'maxItems'].includes(key) &&
      !(typeof value === 'number' && Number.isInteger(value) && value >= 0)
    )
      return fail(key, 'must be a non-negative integer');
  }
  return null;
}

/**
 * The first `enum` or `const` value in `schema` that is not a string, number, boolean or null (a grammar cannot
 * produce one), with the path to it.
 */
function nonScalarLiteral(
  schema: Record<string, unknown>,
  at: string[] = [],
): { path: string[]; message: string } | null {
  const scalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (Array.isArray(schema.enum) && !schema.enum.every(scalar))
    return { path: [...at, 'enum'], message: 'values must be strings, numbers, booleans or null' };
  if ('const' in schema && !scalar(schema.const))
    return { path: [...at, 'const'], message: 'must be a string, number, boolean or null' };
  for (const [name, sub] of Object.entries((schema.properties as Record<string, Record<string, unknown>>) ?? {})) {
    const problem = nonScalarLiteral(sub, [...at, 'properties', name]);
    if (problem) return problem;
  }
  return isPlainObject(schema.items) ? nonScalarLiteral(schema.items, [...at, 'items']) : null;
}

/**
 * What the model is asked to answer with, as `response_format` on `/v1/chat/completions`: free `text` (the
 * default), any JSON (`json`, the deployment's JSON mode) or JSON of a `schema` (`json-schema`, the subset above;
 * `enum` and `const` values scalar). JSON is enforced by a grammar while the model generates, which holds it to the
 * schema's structure, types, enums and lengths, not to `minimum`/`maximum` (a `json-schema` assertion checks those).
 */
export const LlmResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json') }),
  z.object({ type: z.literal('json-schema'), schema: z.record(z.string(), z.unknown()) }).superRefine((format, ctx) => {
    const problem = jsonSchemaProblem(format.schema) ?? nonScalarLiteral(format.schema);
    if (problem) ctx.addIssue({ code: 'custom', path: ['schema', ...problem.path], message: problem.message });
  }),
]);
export type LlmResponseFormat = z.infer<typeof LlmResponseFormat>;

/**
 * What is checked of each answer. `equals` and `similarity` compare with `value`, or the case's `expected` output
 * when absent. `similarity` is the cosine of the two texts' embeddings from an embedding deployment; `rubric` asks
 * a local chat deployment (`grader`, always named: there is no default, and never a cloud one) whether the answer
 * meets the rubric. The grader's answer is held by a JSON schema grammar to `{"pass": boolean, "score": 0-10,
 * "reason": string}`, so that even a small model's verdict parses; `pass` decides.
 */
export const LlmAssertion = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('equals'),
    value: z.string().max(100_000).optional(),
    ignoreCase: z.boolean().optional(),
  }),
  z.object({ type: z.literal('contains'), value: z.string().min(1).max(100_000), ignoreCase: z.boolean().optional() }),
  z.object({
    type: z.literal('not-contains'),
    value: z.string().min(1).max(100_000),
    ignoreCase: z.boolean().optional(),
  }),
  z
    .object({
      type: z.literal('regex'),
      pattern: z.string().min(1).max(10_000),
      flags: z
        .string()
        .regex(/^[imsu]*$/, 'must be made of the flags i, m, s, u')
        .optional(),
    })
    .superRefine((assertion, ctx) => {
      try {
        new RegExp(assertion.pattern, assertion.flags);
      } catch (err) {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${String(err)}` });
      }
    }),
  z.object({ type: z.literal('is-json') }),
  z
    .object({ type: z.literal('json-schema'), schema: z.record(z.string(), z.unknown()) })
    .superRefine((assertion, ctx) => {
      const problem = jsonSchemaProblem(assertion.schema);
      if (problem) ctx.addIssue({ code: 'custom', path: ['schema', ...problem.path], message: problem.message });
    }),
  z.object({
    type: z.literal('similarity'),
    /** An embedding deployment (`/v1/embeddings`). */
    embedder: DeploymentName,
    threshold: z.number().min(-1).max(1),
    value: z.string().max(100_000).optional(),
  }),
  z
    .object({
      type: z.literal('length'),
      min: z.number().int().min(0).optional(),
      max: z.number().int().min(0).optional(),
    })
    .refine((a) => a.min !== undefined || a.max !== undefined, { message: 'needs min or max', path: ['min'] })
    .refine((a) => a.min === undefined || a.max === undefined || a.min <= a.max, {
      message: 'must not be above max',
      path: ['min'],
    }),
  z.object({ type: z.literal('latency'), maxMs: z.number().positive().max(3_600_000) }),
  z.object({
    type: z.literal('rubric'),
    /** A deployed local chat model that judges. */
    grader: DeploymentName,
    rubric: z.string().min(1).max(20_000),
  }),
]);
export type LlmAssertion = z.infer<typeof LlmAssertion>;
export type LlmAssertionType = LlmAssertion['type'];

export const LlmPrompt = z.object({
  name: z.string().min(1).max(128),
  /** Sent first as a system message unless empty. */
  system: z.string().max(100_000).default(''),
  user: z.string().min(1).max(100_000),
  /** How every case is answered with this prompt, unless the case says otherwise; default free text. */
  responseFormat: LlmResponseFormat.optional(),
});
export type LlmPrompt = z.infer<typeof LlmPrompt>;

const VariableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name: letters, digits and _, not starting with a digit');

export const LlmCase = z.object({
  name: z.string().min(1).max(128).optional(),
  vars: z.record(VariableName, z.string().max(100_000)).default({}),
  expected: z.string().max(100_000).optional(),
  /** Checked besides the suite's default assertions. */
  assertions: z.array(LlmAssertion).max(50).default([]),
  /** How this case is answered, with every prompt (wins over the prompt's `responseFormat`). */
  responseFormat: LlmResponseFormat.optional(),
});
export type LlmCase = z.infer<typeof LlmCase>;

export const LlmGeneration = z.object({
  temperature: z.number().min(0).max(2).default(0),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  maxTokens: z.number().int().min(1).max(8192).default(128),
});
export type LlmGeneration = z.infer<typeof LlmGeneration>;

/** The `{{name}}` placeholders of a template, in order of first use. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)].map((m) => m[1] as string))];
}

export const LlmSuiteInput = z
  .object({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be letters, digits, '.', '_' or '-'"),
    description: z.string().max(2000).default(''),
    prompts: z.array(LlmPrompt).min(1).max(20),
    cases: z.array(LlmCase).min(1).max(500),
    /** Checked on every case. */
    assertions: z.array(LlmAssertion).max(50).default([]),
    generation: LlmGeneration.default({ temperature: 0, maxTokens: 128 }),
  })
  .superRefine((suite, ctx) => {
    const names = new Set<string>();
    suite.prompts.forEach((prompt, i) => {
      if (names.has(prompt.name))
        ctx.addIssue({ code: 'custom', path: ['prompts', i, 'name'], message: `a second prompt named ${prompt.name}` });
      names.add(prompt.name);
      for (const field of ['system', 'user'] as const) {
        for (const variable of templateVariables(prompt[field])) {
          const without = suite.cases.findIndex((c) => !(variable in c.vars));
          if (without >= 0)
            ctx.addIssue({
              code: 'custom',
              path: ['prompts', i, field],
              message: `unknown variable {{${variable}}}: case ${without} (${suite.cases[without]?.name ?? 'unnamed'}) does not define it`,
            });
        }
      }
    });
    suite.cases.forEach((c, i) => {
      if (c.expected !== undefined) return;
      const needing = [...suite.assertions, ...c.assertions].find(
        (a) => (a.type === 'equals' || a.type === 'similarity') && a.value === undefined,
      );
      if (needing)
        ctx.addIssue({
          code: 'custom',
          path: ['cases', i, 'expected'],
          message: `needed by the ${needing.type} assertion, which has no value of its own`,
        });
    });
  });
export type LlmSuiteInput = z.input<typeof LlmSuiteInput>;

export const LlmSuite = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  prompts: z.array(LlmPrompt),
  cases: z.array(LlmCase),
  assertions: z.array(LlmAssertion),
  generation: LlmGeneration,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type LlmSuite = z.infer<typeof LlmSuite>;

export const LlmSuiteSummary = LlmSuite.pick({
  id: true,
  name: true,
  description: true,
  createdAt: true,
  updatedAt: true,
}).extend({
  prompts: z.number().int(),
  cases: z.number().int(),
});
export type LlmSuiteSummary = z.infer<typeof LlmSuiteSummary>;

export const LlmAssertionResult = z.object({
  type: z.string(),
  /** Where it came from: the suite's defaults or the case's own. */
  source: z.enum(['suite', 'case']),
  passed: z.boolean(),
  reason: z.string(),
  /** The measured value (cosine, length, ms, the grader's 0-10 score), where there is one. */
  score: z.number().nullable(),
});
export type LlmAssertionResult = z.infer<typeof LlmAssertionResult>;

/** One piece of the word diff of the expected output (`removed`) against the answer (`added`). */
export const DiffPart = z.object({ op: z.enum(['same', 'added', 'removed']), text: z.string() });
export type DiffPart = z.infer<typeof DiffPart>;

export const LlmCell = z.object({
  prompt: z.string(),
  model: z.string(),
  /** Index into the run's cases. */
  case: z.number().int(),
  output: z.string().nullable(),
  /** Why the model could not be asked (the cell then fails). */
  error: z.string().nullable(),
  latencyMs: z.number().nullable(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  passed: z.boolean(),
  assertions: z.array(LlmAssertionResult),
  /** Null when the case has no expected output or there is no answer. */
  diff: z.array(DiffPart).nullable(),
});
export type LlmCell = z.infer<typeof LlmCell>;

export const LlmRunState = z.enum(['queued', 'running', 'succeeded', 'failed']);
export type LlmRunState = z.infer<typeof LlmRunState>;

export const LlmTotal = z.object({
  prompt: z.string(),
  model: z.string(),
  passed: z.number().int(),
  failed: z.number().int(),
  errors: z.number().int(),
});
export type LlmTotal = z.infer<typeof LlmTotal>;

export const LlmRunSummary = z.object({
  id: Id,
  suiteId: Id,
  suite: z.string(),
  models: z.array(z.string()),
  state: LlmRunState,
  reason: z.string().nullable(),
  jobId: Id,
  /** Cells done of `cellCount`. */
  done: z.number().int(),
  cellCount: z.number().int(),
  passed: z.number().int(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type LlmRunSummary = z.infer<typeof LlmRunSummary>;

export const LlmRun = LlmRunSummary.extend({
  /** The suite as it was when the run was submitted. */
  prompts: z.array(LlmPrompt),
  cases: z.array(LlmCase),
  generation: LlmGeneration,
  totals: z.array(LlmTotal),
  cells: z.array(LlmCell),
});
export type LlmRun = z.infer<typeof LlmRun>;

export const LlmRunInput = z.object({
  /** A suite's id or name. */
  suite: z.string().min(1).max(128),
  /** GGUF chat deployments (names or ids), each one column of the matrix. */
  models: z.array(DeploymentName).min(1).max(20),
});
export type LlmRunInput = z.input<typeof LlmRunInput>;

const suitePath = '/api/v1/llm-evals/suites';
const runPath = '/api/v1/llm-evals/runs';
const SuiteRef = z.object({ suite: z.string().min(1).max(128) });

export const llmEvalEndpoints = {
  'llmSuites.list': endpoint({
    method: 'GET',
    path: suitePath,
    summary: 'LLM eval suites, by name',
    scope: 'read',
    input: z.object({}),
    output: z.object({ items: z.array(LlmSuiteSummary) }),
  }),
  'llmSuites.get': endpoint({
    method: 'GET',
    path: `${suitePath}/:suite`,
    summary: 'An LLM eval suite (by id or name) with its prompts, cases and assertions',
    scope: 'read',
    input: SuiteRef,
    output: LlmSuite,
  }),
  'llmSuites.create': endpoint({
    method: 'POST',
    path: suitePath,
    summary: 'Create an LLM eval suite: prompt templates, cases and assertions (400 naming the field at fault)',
    scope: 'write',
    input: LlmSuiteInput,
    output: LlmSuite,
    status: 201,
  }),
  'llmSuites.update': endpoint({
    method: 'PUT',
    path: `${suitePath}/:suite`,
    summary: "Replace a suite's prompts, cases, assertions and settings (its runs keep the copy they ran)",
    scope: 'write',
    input: LlmSuiteInput.safeExtend(SuiteRef.shape),
    output: LlmSuite,
  }),
  'llmSuites.delete': endpoint({
    method: 'DELETE',
    path: `${suitePath}/:suite`,
    summary: 'Delete a suite and its runs',
    scope: 'write',
    input: SuiteRef,
    output: Ok,
  }),
  'llmRuns.create': endpoint({
    method: 'POST',
    path: runPath,
    summary:
      "Run a suite's prompts × the named chat deployments × its cases, as a queued job (400 for a deployment that does not exist or is not a chat model)",
    scope: 'write',
    input: LlmRunInput,
    output: LlmRunSummary,
    status: 201,
  }),
  'llmRuns.list': endpoint({
    method: 'GET',
    path: runPath,
    summary: 'LLM eval runs, newest first, optionally of one suite',
    scope: 'read',
    input: z.object({
      suite: z.string().min(1).max(128).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    output: z.object({ items: z.array(LlmRunSummary) }),
  }),
  'llmRuns.get': endpoint({
    method: 'GET',
    path: `${runPath}/:id`,
    summary: 'A run with every cell (answer, latency, tokens, assertion results, diff) and totals per prompt × model',
    scope: 'read',
    input: z.object({ id: Id }),
    output: LlmRun,
  }),
} as const;

export const llmEvalEvents = {
  /** A run was created, advanced a cell, or ended. */
  'evalkit.llm-run.updated': z.object({ run: LlmRunSummary }),
} as const;
