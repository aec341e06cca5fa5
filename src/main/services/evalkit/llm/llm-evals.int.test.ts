import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import type { LlmRun, LlmSuiteInput } from '#shared/contracts/evalkit-llm';
import { AppError } from '#shared/errors';

// The memoriser (test-fixtures/README.md) answers its three sentences exactly at temperature 0; the BERT embedder
// gives the similarity assertions real vectors. `threads: 1` on these 2-core machines.
const LLAMA = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');
const BERT = fixturePath('models', 'tiny-bert-embed.gguf');
const FOX = ' fox jumps over the lazy dog.';
const RUBRIC = 'The answer must name an animal that jumps.';
/** What the `schema` case asks for, by grammar, and checks. */
const ANIMAL = {
  type: 'object',
  properties: { animal: { type: 'string', maxLength: 20 }, jumps: { type: 'boolean' } },
  required: ['animal', 'jumps'],
  additionalProperties: false,
};

let data: { dir: string; remove: () => void };
let t: TestCore;

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/**
 * Two prompts that send the same text (the memoriser has no chat template: its messages are concatenated), so
 * both columns must agree; case `fox` passes every assertion type, case `node` fails each, case `story` is judged
 * by the grader.
 */
const suite: LlmSuiteInput = {
  name: 'memoriser',
  description: 'The memorised sentences',
  prompts: [
    { name: 'whole', user: '{{start}}{{rest}}' },
    { name: 'split', system: '{{start}}', user: '{{rest}}' },
  ],
  cases: [
    {
      name: 'fox',
      vars: { start: 'The quick', rest: ' brown' },
      expected: FOX,
      assertions: [
        { type: 'equals' },
        { type: 'contains', value: 'LAZY DOG', ignoreCase: true },
        { type: 'not-contains', value: 'cat' },
        { type: 'regex', pattern: '^ fox \\w+ over' },
        { type: 'length', min: 10, max: 40 },
        { type: 'latency', maxMs: 120_000 },
        { type: 'similarity', embedder: 'bert', threshold: 0.99 },
      ],
    },
    {
      name: 'node',
      vars: { start: 'Node.js', rest: ' runs' },
      expected: ' Python in the browser.',
      assertions: [
        { type: 'equals' },
        { type: 'contains', value: 'browser' },
        { type: 'not-contains', value: 'JavaScript' },
        { type: 'regex', pattern: '^\\d+$' },
        { type: 'is-json' },
        { type: 'json-schema', schema: { type: 'object', required: ['answer'] } },
        { type: 'length', max: 5 },
        { type: 'latency', maxMs: 0.001 },
        { type: 'similarity', embedder: 'bert', threshold: 0.9999 },
      ],
    },
    {
      name: 'story',
      vars: { start: 'Once upon', rest: ' a time' },
      assertions: [{ type: 'rubric', grader: 'tiny', rubric: RUBRIC }],
    },
  ],
  generation: { temperature: 0, seed: 7, maxTokens: 40 },
};

beforeAll(async () => {
  data = tempDir('aidos-llm-evals-');
  t = await startTestCore({ dataDir: data.dir });
  await t.client.call('deployments.create', { file: LLAMA, name: 'tiny', threads: 1 });
  await t.client.call('deployments.create', { file: LLAMA, name: 'doomed', threads: 1 });
  await t.client.call('deployments.create', { file: BERT, name: 'bert', threads: 1 });
}, 120_000);

afterAll(async () => {
  await t?.close();
  data?.remove();
});

describe('LLM eval suites and matrix runs through the REST API', () => {
  it('refuses bad suites with a 400 naming the field, and stores none of them', async () => {
    const bad = async (patch: Partial<LlmSuiteInput>) =>
      (await rejection(t.client.call('llmSuites.create', { ...suite, ...patch }))).message;
    expect(await bad({ assertions: [{ type: 'regex', pattern: '([a-z' }] })).toMatch(
      /^body\.assertions\.0\.pattern: not a valid regular expression/,
    );
    expect(await bad({ assertions: [{ type: 'json-schema', schema: { type: 'obj' } }] })).toMatch(
      /^body\.assertions\.0\.schema\.type: must be one of string, number/,
    );
    expect(await bad({ assertions: [{ type: 'toxicity' } as never] })).toMatch(/^body\.assertions\.0\.type: /);
    expect(await bad({ prompts: [{ name: 'p', user: 'Tell me about {{topic}}' }] })).toBe(
      'body.prompts.0.user: unknown variable {{topic}}: case 0 (fox) does not define it',
    );
    expect(await bad({ assertions: [{ type: 'length' }] })).toBe('body.assertions.0.min: needs min or max');
    // A grader is always a named local deployment: there is no default to fall back on.
    expect(await bad({ assertions: [{ type: 'rubric', rubric: 'polite' } as never] })).toMatch(
      /^body\.assertions\.0\.grader: /,
    );
    expect((await t.client.call('llmSuites.list', {})).items).toEqual([]);
  });

  it('creates, reads by name, renames and refuses a taken name', async () => {
    const created = await t.client.call('llmSuites.create', { ...suite, name: 'draft' });
    expect(created).toMatchObject({ name: 'draft', prompts: [{ name: 'whole', system: '' }, { name: 'split' }] });
    const renamed = await t.client.call('llmSuites.update', { ...suite, suite: 'draft' });
    expect(renamed).toMatchObject({ id: created.id, name: 'memoriser' });
    expect((await t.client.call('llmSuites.get', { suite: 'memoriser' })).cases).toHaveLength(3);
    const taken = await rejection(t.client.call('llmSuites.create', suite));
    expect([taken.code, taken.message]).toEqual(['CONFLICT', 'name: a suite named memoriser exists']);
    expect((await t.client.call('llmSuites.list', {})).items).toMatchObject([
      { name: 'memoriser', prompts: 2, cases: 3 },
    ]);
  });

  it('refuses a run naming a deployment that does not exist or is not a chat model, and queues nothing', async () => {
    const refused = async (models: string[]) =>
      (await rejection(t.client.call('llmRuns.create', { suite: 'memoriser', models }))).message;
    expect(await refused(['tiny', 'ghost'])).toBe('models[1]: no deployment named ghost');
    expect(await refused(['bert'])).toBe('models[0]: deployment bert serves a gguf embedding, not a GGUF chat model');
    await t.client.call('llmSuites.create', {
      ...suite,
      name: 'bad-grader',
      assertions: [{ type: 'rubric', grader: 'cloud-gpt', rubric: 'x' }],
    });
    expect(
      await (async () =>
        (await rejection(t.client.call('llmRuns.create', { suite: 'bad-grader', models: ['tiny'] }))).message)(),
    ).toBe('assertions[0].grader: no deployment named cloud-gpt');
    await t.client.call('llmSuites.delete', { suite: 'bad-grader' });
    expect((await t.client.call('llmRuns.list', {})).items).toEqual([]);
  });

  let run: LlmRun;

  it('runs prompts × models × cases as a job: every assertion type passes and fails, a lost deployment is a cell error', async () => {
    const queued = await t.client.call('llmRuns.create', { suite: 'memoriser', models: ['tiny', 'doomed'] });
    expect(queued).toMatchObject({ state: 'queued', cellCount: 12, models: ['tiny', 'doomed'] });
    // Removed before the job reaches its column: those cells fail with the API's error, the run goes on.
    await t.client.call('deployments.delete', { deployment: 'doomed' });
    run = await waitFor(
      async () => {
        const current = await t.client.call('llmRuns.get', { id: queued.id });
        return current.state === 'succeeded' || current.state === 'failed' ? current : undefined;
      },
      240_000,
      'the run to end',
    );
    expect(run).toMatchObject({ state: 'succeeded', done: 12, passed: 2 });
    const job = await t.client.call('jobs.get', { id: run.jobId });
    expect(job).toMatchObject({ status: 'succeeded', progress: 1 });

    const cell = (prompt: string, model: string, name: string) => {
      const index = run.cases.findIndex((c) => c.name === name);
      const found = run.cells.find((c) => c.prompt === prompt && c.model === model && c.case === index);
      if (!found) throw new Error(`no cell ${prompt}/${model}/${name}`);
      return found;
    };
    for (const prompt of ['whole', 'split']) {
      const fox = cell(prompt, 'tiny', 'fox');
      expect(fox).toMatchObject({ output: FOX, error: null, passed: true, diff: [{ op: 'same', text: FOX }] });
      expect(fox.latencyMs).toBeGreaterThan(0);
      expect(fox.completionTokens).toBeGreaterThan(0);
      expect(fox.assertions.map((a) => [a.type, a.passed])).toEqual([
        ['equals', true],
        ['contains', true],
        ['not-contains', true],
        ['regex', true],
        ['length', true],
        ['latency', true],
        ['similarity', true],
      ]);
      expect(fox.assertions.find((a) => a.type === 'similarity')?.score).toBeGreaterThanOrEqual(0.9999);

      const node = cell(prompt, 'tiny', 'node');
      expect(node).toMatchObject({ output: ' JavaScript on the server.', passed: false });
      expect(node.assertions.map((a) => [a.type, a.passed])).toEqual([
        ['equals', false],
        ['contains', false],
        ['not-contains', false],
        ['regex', false],
        ['is-json', false],
        ['json-schema', false],
        ['length', false],
        ['latency', false],
        ['similarity', false],
      ]);
      expect(node.assertions[0]?.reason).toBe('expected " Python in the browser.", got " JavaScript on the server."');
      expect(node.assertions[6]?.reason).toBe('26 characters, more than 5');
      expect(node.diff).toEqual([
        { op: 'same', text: ' ' },
        { op: 'removed', text: 'Python in' },
        { op: 'added', text: 'JavaScript on' },
        { op: 'same', text: ' the ' },
        { op: 'removed', text: 'browser.' },
        { op: 'added', text: 'server.' },
      ]);

      const story = cell(prompt, 'tiny', 'story');
      expect(story.output).toBe(' there was a little robot who loved to count: one, two, three, four, five.');
      // The story leaves the tiny grader (128 tokens of context) too little room to close its verdict: the cut
      // answer is shown as the reason for failing.
      expect(story.assertions).toMatchObject([{ type: 'rubric', passed: false }]);
      expect(story.assertions[0]?.reason).toMatch(
        /^the grader's verdict was cut short: the grader ran out of tokens or context: \{ ?"pass"/,
      );

      for (const name of ['fox', 'node', 'story']) {
        const lost = cell(prompt, 'doomed', name);
        expect(lost).toMatchObject({ output: null, passed: false, assertions: [] });
        expect(lost.error).toMatch(/^HTTP 404: /);
      }
    }
    expect(run.totals).toEqual([
      { prompt: 'whole', model: 'tiny', passed: 1, failed: 2, errors: 0 },
      { prompt: 'whole', model: 'doomed', passed: 0, failed: 3, errors: 3 },
      { prompt: 'split', model: 'tiny', passed: 1, failed: 2, errors: 0 },
      { prompt: 'split', model: 'doomed', passed: 0, failed: 3, errors: 3 },
    ]);
  }, 300_000);

  it('asked the named grader with the rubric and the answer', async () => {
    const { items } = await t.client.call('deployments.logs', { deployment: 'tiny', limit: 50 });
    const graded = items.filter((entry) => entry.input.includes(RUBRIC));
    expect(graded).toHaveLength(2);
    expect(graded[0]?.input).toContain('there was a little robot who loved to count');
  });

  let cancelled: string;

  it('marks a run whose job is cancelled as failed: cancelled', async () => {
    const queued = await t.client.call('llmRuns.create', { suite: 'memoriser', models: ['tiny'] });
    cancelled = queued.id;
    await t.client.call('jobs.cancel', { id: queued.jobId });
    const ended = await waitFor(
      async () => {
        const current = await t.client.call('llmRuns.get', { id: queued.id });
        return current.state === 'failed' ? current : undefined;
      },
      60_000,
      'the run to fail',
    );
    expect(ended.reason).toBe('cancelled');
    expect(ended.done).toBeLessThan(ended.cellCount);
  });

  it('lists runs by suite, and deleting the suite deletes its runs', async () => {
    expect((await t.client.call('llmRuns.list', { suite: 'memoriser' })).items.map((r) => r.id)).toEqual([
      cancelled,
      run.id,
    ]);
    await t.client.call('llmSuites.delete', { suite: 'memoriser' });
    expect((await rejection(t.client.call('llmRuns.get', { id: run.id }))).code).toBe('NOT_FOUND');
    expect((await rejection(t.client.call('llmSuites.get', { suite: 'memoriser' }))).code).toBe('NOT_FOUND');
  });
});

/**
 * JSON answers by grammar, per prompt and per case, and rubrics judged by the real tiny model, whose verdict the
 * grammar holds to JSON. The memoriser cannot write JSON by itself: without a grammar it tells its sentence.
 */
const structured: LlmSuiteInput = {
  name: 'structured',
  prompts: [
    { name: 'free', user: '{{start}}' },
    { name: 'json', user: '{{start}}', responseFormat: { type: 'json' } },
  ],
  cases: [
    { name: 'json', vars: { start: 'The quick brown' }, assertions: [{ type: 'is-json' }] },
    {
      name: 'schema',
      vars: { start: 'The quick brown' },
      responseFormat: { type: 'json-schema', schema: ANIMAL },
      assertions: [{ type: 'json-schema', schema: ANIMAL }],
    },
    {
      name: 'graded',
      vars: { start: 'The quick brown' },
      responseFormat: { type: 'text' },
      assertions: [
        { type: 'rubric', grader: 'tiny', rubric: RUBRIC },
        // Leaves the grader's 128-token context too little room to finish its verdict.
        { type: 'rubric', grader: 'tiny', rubric: `Be polite.${' Be kind.'.repeat(12)}` },
        // Longer than the grader's context: the API refuses it.
        { type: 'rubric', grader: 'tiny', rubric: `Be polite.${' Be kind.'.repeat(40)}` },
        { type: 'rubric', grader: 'judge', rubric: RUBRIC },
      ],
    },
  ],
  generation: { temperature: 0, maxTokens: 40 },
};

describe('answer formats and model-graded rubrics with a real model', () => {
  it('refuses a bad answer format with a 400 naming the field', async () => {
    const bad = async (patch: Partial<LlmSuiteInput>) =>
      (await rejection(t.client.call('llmSuites.create', { ...structured, ...patch }))).message;
    expect(
      await bad({ prompts: [{ name: 'p', user: '{{start}}', responseFormat: { type: 'yaml' } as never }] }),
    ).toMatch(/^body\.prompts\.0\.responseFormat\.type: /);
    const cases = (responseFormat: unknown) => [{ vars: { start: 'x' }, responseFormat }] as LlmSuiteInput['cases'];
    expect(await bad({ cases: cases({ type: 'json-schema', schema: { type: 'obj' } }) })).toMatch(
      /^body\.cases\.0\.responseFormat\.schema\.type: must be one of string, number/,
    );
    expect(await bad({ cases: cases({ type: 'json-schema' }) })).toMatch(/^body\.cases\.0\.responseFormat\.schema: /);
    expect(
      await bad({ cases: cases({ type: 'json-schema', schema: { properties: { a: { enum: [{ b: 1 }] } } } }) }),
    ).toBe('body.cases.0.responseFormat.schema.properties.a.enum: values must be strings, numbers, booleans or null');
    expect((await t.client.call('llmSuites.list', {})).items.map((s) => s.name)).not.toContain('structured');
  });

  it("gets valid JSON by grammar where asked, records the real grader's verdict, and fails unusable ones clearly", async () => {
    await t.client.call('llmSuites.create', structured);
    await t.client.call('deployments.create', { file: LLAMA, name: 'judge', threads: 1 });
    const queued = await t.client.call('llmRuns.create', { suite: 'structured', models: ['tiny'] });
    // The grader goes away before the job asks it: its assertions fail with the API's error, the run goes on.
    await t.client.call('deployments.delete', { deployment: 'judge' });
    const run = await waitFor(
      async () => {
        const current = await t.client.call('llmRuns.get', { id: queued.id });
        return current.state === 'succeeded' || current.state === 'failed' ? current : undefined;
      },
      240_000,
      'the run to end',
    );
    expect(run).toMatchObject({ state: 'succeeded', done: 6 });
    const cell = (prompt: string, name: string) => {
      const found = run.cells.find((c) => c.prompt === prompt && run.cases[c.case]?.name === name);
      if (!found) throw new Error(`no cell ${prompt}/${name}`);
      return found;
    };

    // Free text is not JSON; the prompt's JSON mode makes it so.
    const free = cell('free', 'json');
    expect(free).toMatchObject({ output: FOX, passed: false, assertions: [{ type: 'is-json', passed: false }] });
    expect(free.assertions[0]?.reason).toMatch(/^not valid JSON: /);
    const json = cell('json', 'json');
    expect(json).toMatchObject({ error: null, passed: true, assertions: [{ type: 'is-json', passed: true }] });
    expect(() => JSON.parse(json.output ?? '') as unknown).not.toThrow();

    // The case's schema wins over either prompt's format, and the answer matches it.
    for (const prompt of ['free', 'json']) {
      const schema = cell(prompt, 'schema');
      expect(schema).toMatchObject({ passed: true, assertions: [{ type: 'json-schema', passed: true }] });
      const answer = JSON.parse(schema.output ?? '') as { animal: unknown; jumps: unknown };
      expect([typeof answer.animal, typeof answer.jumps]).toEqual(['string', 'boolean']);
    }

    const verdicts = ['free', 'json'].map((prompt) => {
      const graded = cell(prompt, 'graded');
      expect(graded).toMatchObject({ output: FOX, passed: false });
      const [judged, cut, tooLong, gone] = graded.assertions;
      // Whatever the tiny grader thinks, its verdict parsed: PASS or FAIL decides the assertion, the score is kept.
      expect(judged?.reason).toMatch(/^grader: (PASS|FAIL) \(score (\d|10)\/10\)/);
      expect(judged?.passed).toBe(judged?.reason.startsWith('grader: PASS'));
      expect(Number.isInteger(judged?.score)).toBe(true);
      expect(cut).toMatchObject({ passed: false, score: null });
      expect(cut?.reason).toMatch(
        /^the grader's verdict was cut short: the grader ran out of tokens or context: \{ ?"pass"/,
      );
      expect(tooLong).toMatchObject({ passed: false, score: null });
      expect(tooLong?.reason).toMatch(/^could not check: HTTP 400: .*maximum context length is 128 tokens/);
      expect(gone).toMatchObject({ passed: false, score: null });
      expect(gone?.reason).toMatch(/^could not check: HTTP 404: /);
      return judged;
    });
    // At temperature 0 the grader judges the same answer the same way.
    expect(verdicts[1]).toEqual(verdicts[0]);
  }, 300_000);
});
