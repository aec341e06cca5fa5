import { describe, expect, it } from 'vitest';
import type { LlmSuite } from '#shared/contracts/evalkit-llm';
import { NEW_SUITE, formOf, inputOf } from './suite-form';

const suite: LlmSuite = {
  id: '01JB0000000000000000000000',
  name: 'greetings',
  description: '',
  prompts: [{ name: 'p', system: 'Be brief.', user: 'Greet {{who}}' }],
  cases: [
    { name: 'al', vars: { who: 'Al' }, expected: 'Hi Al', assertions: [{ type: 'contains', value: 'Al' }] },
    { vars: { who: 'Bo' }, assertions: [] },
  ],
  assertions: [{ type: 'length', max: 20 }],
  generation: { temperature: 0.5, seed: 3, maxTokens: 16 },
  createdAt: 1,
  updatedAt: 1,
};

describe('the suite editor form', () => {
  it('round-trips a suite through its form', () => {
    const { id: _id, createdAt: _c, updatedAt: _u, ...input } = suite;
    expect(inputOf(formOf(suite))).toEqual(input);
  });

  it('names the case whose JSON does not parse', () => {
    const form = { ...NEW_SUITE, cases: [{ name: '', vars: '{ who: 1 }', expected: '', assertions: '[]' }] };
    expect(() => inputOf(form)).toThrow(/^cases\.0\.vars: not valid JSON/);
  });
});
