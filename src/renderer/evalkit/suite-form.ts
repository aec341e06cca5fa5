import type { LlmAssertion, LlmSuite, LlmSuiteInput } from '#shared/contracts/evalkit-llm';

/**
 * The suite editor's state: prompts and cases as fields, assertions as JSON text (they have ten shapes; the server
 * names the field at fault when one is wrong).
 */
export interface SuiteForm {
  name: string;
  description: string;
  prompts: { name: string; system: string; user: string }[];
  cases: { name: string; vars: string; expected: string; assertions: string }[];
  assertions: string;
  temperature: string;
  seed: string;
  maxTokens: string;
}

export const NEW_SUITE: SuiteForm = {
  name: '',
  description: '',
  prompts: [{ name: 'default', system: '', user: '{{question}}' }],
  cases: [{ name: 'first', vars: '{ "question": "" }', expected: '', assertions: '[]' }],
  assertions: '[\n  { "type": "equals" }\n]',
  temperature: '0',
  seed: '',
  maxTokens: '128',
};

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

export function formOf(suite: LlmSuite): SuiteForm {
  return {
    name: suite.name,
    description: suite.description,
    prompts: suite.prompts.map((p) => ({ ...p })),
    cases: suite.cases.map((c) => ({
      name: c.name ?? '',
      vars: pretty(c.vars),
      expected: c.expected ?? '',
      assertions: pretty(c.assertions),
    })),
    assertions: pretty(suite.assertions),
    temperature: String(suite.generation.temperature),
    seed: suite.generation.seed === undefined ? '' : String(suite.generation.seed),
    maxTokens: String(suite.generation.maxTokens),
  };
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${field}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** The request body; throws an Error naming the field whose JSON text does not parse. */
export function inputOf(form: SuiteForm): LlmSuiteInput {
  return {
    name: form.name.trim(),
    description: form.description,
    prompts: form.prompts,
    cases: form.cases.map((c, i) => ({
      ...(c.name.trim() ? { name: c.name.trim() } : {}),
      vars: parseJson(c.vars || '{}', `cases.${i}.vars`) as Record<string, string>,
      ...(c.expected ? { expected: c.expected } : {}),
      assertions: parseJson(c.assertions || '[]', `cases.${i}.assertions`) as LlmAssertion[],
    })),
    assertions: parseJson(form.assertions || '[]', 'assertions') as LlmAssertion[],
    generation: {
      temperature: Number(form.temperature),
      maxTokens: Number(form.maxTokens),
      ...(form.seed.trim() ? { seed: Number(form.seed) } : {}),
    },
  };
}
