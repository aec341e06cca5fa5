import { describe, expect, it } from 'vitest';
import { LlmSuiteInput } from '#shared/contracts/evalkit-llm';
import { checkLocally, fillTemplate, parseGraderVerdict, schemaViolation, wordDiff } from './checks';

const answer = (output: string) => ({ output, latencyMs: 12, expected: undefined });

describe('LLM eval checks', () => {
  it('accepts JSON that matches the schema subset and names the first violation otherwise', () => {
    const schema = {
      type: 'object',
      required: ['name', 'tags'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 2 },
        age: { type: 'integer', minimum: 0, maximum: 150 },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 2 },
      },
    };
    expect(checkLocally({ type: 'json-schema', schema }, answer('{"name":"Al","age":3,"tags":["a"]}'))).toMatchObject({
      passed: true,
    });
    expect(schemaViolation({ name: 'Al', tags: ['c'] }, schema, '$')).toBe('$.tags[0]: "c" is not one of ["a","b"]');
    expect(schemaViolation({ name: 'Al', tags: [], x: 1 }, schema, '$')).toBe('$: property "x" is not allowed');
    expect(schemaViolation({ name: 'Al', tags: [], age: 1.5 }, schema, '$')).toBe(
      '$.age: expected integer, got number',
    );
    expect(schemaViolation({ tags: [] }, schema, '$')).toBe('$: missing required property "name"');
    expect(checkLocally({ type: 'is-json' }, answer('[1, 2]')).passed).toBe(true);
    expect(checkLocally({ type: 'is-json' }, answer('{nope')).reason).toMatch(/^not valid JSON/);
  });

  it('reads a grader verdict from its JSON: pass decides, the score is kept; an unusable one fails, quoted', () => {
    expect(parseGraderVerdict('{"pass": true, "score": 9, "reason": "It names the fox."}', 'stop')).toEqual({
      passed: true,
      reason: 'grader: PASS (score 9/10): It names the fox.',
      score: 9,
    });
    expect(parseGraderVerdict('{"pass":false,"score":2,"reason":""}', 'stop')).toEqual({
      passed: false,
      reason: 'grader: FAIL (score 2/10)',
      score: 2,
    });
    expect(parseGraderVerdict('{"pass":true,"score":10,"reason":"to to', 'length')).toEqual({
      passed: false,
      reason:
        'the grader\'s verdict was cut short: the grader ran out of tokens or context: {"pass":true,"score":10,"reason":"to to',
      score: null,
    });
    expect(parseGraderVerdict('PASS: it names the fox.', 'stop').reason).toMatch(
      /^the grader's verdict is not valid JSON \(Unexpected token .*\): PASS: it names the fox\.$/,
    );
    expect(parseGraderVerdict('{"pass": "yes", "score": 3, "reason": "ok"}', 'stop')).toMatchObject({
      passed: false,
      reason:
        'the grader\'s verdict is not {pass, score, reason}: $.pass: expected boolean, got string: {"pass": "yes", "score": 3, "reason": "ok"}',
    });
  });

  it('diffs words, keeping what is common', () => {
    expect(wordDiff('the lazy dog', 'the sleepy dog')).toEqual([
      { op: 'same', text: 'the ' },
      { op: 'removed', text: 'lazy' },
      { op: 'added', text: 'sleepy' },
      { op: 'same', text: ' dog' },
    ]);
  });

  it('joins changes separated by whitespace only, each side still spelling its text', () => {
    const parts = wordDiff(' Python in the browser.', ' JavaScript on the server.');
    expect(parts.filter((p) => p.op !== 'same').map((p) => p.text)).toEqual([
      'Python in',
      'JavaScript on',
      'browser.',
      'server.',
    ]);
    expect(
      parts
        .filter((p) => p.op !== 'added')
        .map((p) => p.text)
        .join(''),
    ).toBe(' Python in the browser.');
    expect(
      parts
        .filter((p) => p.op !== 'removed')
        .map((p) => p.text)
        .join(''),
    ).toBe(' JavaScript on the server.');
  });

  it('fills templates from the case variables', () => {
    expect(fillTemplate('Say {{ word }} to {{who}}', { word: 'hi', who: 'Al' })).toBe('Say hi to Al');
  });
});

describe('LLM suite validation', () => {
  const base = { name: 's', prompts: [{ name: 'p', user: '{{q}}' }], cases: [{ vars: { q: 'x' }, expected: 'y' }] };
  const problem = (input: unknown) => {
    const result = LlmSuiteInput.safeParse(input);
    return result.success
      ? null
      : { path: result.error.issues[0]?.path.join('.'), message: result.error.issues[0]?.message };
  };

  it('names the field of a bad regex, a bad JSON schema, an unknown type and an unknown variable', () => {
    expect(problem(base)).toBeNull();
    expect(problem({ ...base, assertions: [{ type: 'regex', pattern: '(' }] })).toMatchObject({
      path: 'assertions.0.pattern',
    });
    expect(
      problem({ ...base, assertions: [{ type: 'json-schema', schema: { properties: { a: { type: 'text' } } } }] }),
    ).toMatchObject({ path: 'assertions.0.schema.properties.a.type' });
    expect(problem({ ...base, assertions: [{ type: 'json-schema', schema: { oneOf: [] } }] })).toMatchObject({
      path: 'assertions.0.schema.oneOf',
    });
    expect(problem({ ...base, assertions: [{ type: 'sentiment' }] })).toMatchObject({ path: 'assertions.0.type' });
    expect(problem({ ...base, prompts: [{ name: 'p', user: '{{q}} {{topic}}' }] })).toMatchObject({
      path: 'prompts.0.user',
      message: 'unknown variable {{topic}}: case 0 (unnamed) does not define it',
    });
    expect(problem({ ...base, cases: [{ vars: { q: 'x' } }], assertions: [{ type: 'equals' }] })).toMatchObject({
      path: 'cases.0.expected',
    });
  });
});
