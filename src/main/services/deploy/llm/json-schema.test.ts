import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { grammarSchemaOf } from './json-schema';

const FIELD = 'response_format.json_schema.schema';

function refusal(schema: unknown): AppError {
  try {
    grammarSchemaOf(schema, FIELD);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error(`${JSON.stringify(schema)} was accepted`);
}

describe('grammarSchemaOf', () => {
  it('follows references to $defs, and refuses a schema thousands of levels deep', () => {
    const schema = { $defs: { n: { type: 'number' } }, type: 'array', items: { $ref: '#/$defs/n' } };
    expect(grammarSchemaOf(schema, FIELD)).toEqual(schema);
    let deep: unknown = { type: 'number' };
    for (let i = 0; i < 10_000; i++) deep = { type: 'array', items: deep };
    expect(refusal(deep).message).toMatch(/nested deeper than 64 levels/);
  });

  it('passes the subset node-llama-cpp reads, dropping annotations', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Answer',
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 20, description: 'who' },
        when: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
        score: { type: ['number', 'null'], default: 0 },
      },
      required: ['name'],
      additionalProperties: false,
    };
    expect(grammarSchemaOf(schema, FIELD)).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 20, description: 'who' },
        when: { type: 'string', format: 'date' },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
        score: { type: ['number', 'null'] },
      },
      required: ['name'],
      additionalProperties: false,
    });
  });

  it('turns what node-llama-cpp would take for null into its terms', () => {
    // anyOf (what OpenAI's structured outputs use for optional values) is oneOf for a grammar.
    expect(grammarSchemaOf({ anyOf: [{ type: 'string' }, { type: 'null' }] }, FIELD)).toEqual({
      oneOf: [{ type: 'string' }, { type: 'null' }],
    });
    // {} allows any JSON value.
    const any = grammarSchemaOf({}, FIELD) as { oneOf: unknown[] };
    expect(any.oneOf).toContainEqual({ type: 'object', additionalProperties: true });
    expect(grammarSchemaOf({ type: 'object', properties: { a: {} } }, FIELD)).toMatchObject({
      properties: { a: { oneOf: expect.any(Array) as unknown } },
    });
    // A type list with object or array in it: one option per type.
    expect(grammarSchemaOf({ type: ['object', 'null'], properties: { a: { type: 'integer' } } }, FIELD)).toEqual({
      oneOf: [
        { type: 'object', properties: { a: { type: 'integer' } } },
        { type: 'null', properties: { a: { type: 'integer' } } },
      ],
    });
    // No type, but keywords that only apply to one: that type.
    expect(grammarSchemaOf({ properties: { ok: { type: 'boolean' } }, required: ['ok'] }, FIELD)).toEqual({
      type: 'object',
      properties: { ok: { type: 'boolean' } },
      required: ['ok'],
    });
    // A tuple: no items beyond prefixItems.
    expect(
      grammarSchemaOf({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false }, FIELD),
    ).toEqual({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], maxItems: 2 });
  });

  it('refuses what a grammar cannot hold to, naming the keyword', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ type: 'banana' }, `${FIELD}.type`, /"banana" is not one of string, number, integer/],
      [{ type: 'string', pattern: '^[a-z]{3}$' }, `${FIELD}.pattern`, /not supported: .*built from type, const/],
      [
        { type: 'object', properties: { n: { type: 'integer', minimum: 5, maximum: 7 } } },
        `${FIELD}.properties.n.minimum`,
        /not supported/,
      ],
      [{ allOf: [{ type: 'string' }] }, `${FIELD}.allOf`, /not supported/],
      [{ type: 'string', format: 'email' }, `${FIELD}.format`, /only date-time, date, time/],
      [{ $ref: '#/definitions/x' }, `${FIELD}.$ref`, /only references to this schema's \$defs/],
      [{ enum: [{ a: 1 }] }, `${FIELD}.enum`, /strings, numbers, booleans or nulls/],
      [{ anyOf: [] }, `${FIELD}.anyOf`, /non-empty list/],
      [{ type: 'array', maxItems: -1 }, `${FIELD}.maxItems`, /whole number/],
      ['object', FIELD, /must be a JSON schema/],
      [{ type: 'object', properties: { a: false } }, `${FIELD}.properties.a`, /false allows no value/],
      // Schemas a grammar would write wrong answers for, or none can satisfy.
      [{ $ref: '#/$defs/nope' }, `${FIELD}.$ref`, /'#\/\$defs\/nope' is not defined/],
      [
        { type: 'object', properties: { a: { type: 'string' } }, required: ['b'] },
        `${FIELD}.required`,
        /names 'b', which properties does not define/,
      ],
      [{ type: 'string', minLength: 5, maxLength: 2 }, `${FIELD}.minLength`, /5 is more than maxLength \(2\)/],
      [{ type: 'array', minItems: 3, maxItems: 1 }, `${FIELD}.minItems`, /3 is more than maxItems/],
      [{ type: 'string', const: 5 }, `${FIELD}.const`, /5 is not of type string/],
      [{ type: 'integer', enum: ['a', 'b'] }, `${FIELD}.enum`, /"a" is not of type integer/],
      [
        { $defs: { n: { type: 'number' } }, type: 'string', $ref: '#/$defs/n' },
        `${FIELD}.type`,
        /beside \$ref is not supported/,
      ],
    ];
    for (const [schema, field, message] of cases) {
      const error = refusal(schema);
      expect(error.code, JSON.stringify(schema)).toBe('INVALID_ARGUMENT');
      expect(error.details, JSON.stringify(schema)).toMatchObject({ field });
      expect(error.message, JSON.stringify(schema)).toMatch(message);
    }
  });
});
