import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppError } from '#shared/errors';
import {
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseModelFilter,
  parseModelOrderBy,
  parseRunFilter,
  parseRunOrderBy,
} from './search-filter';

/** The message of the AppError that `fn` throws, which must be a 400. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('INVALID_ARGUMENT');
    return (error as AppError).message;
  }
  throw new Error('expected an error');
}

describe('run filters', () => {
  it('gives no clauses for an empty or blank filter', () => {
    expect(parseRunFilter('')).toEqual([]);
    expect(parseRunFilter('   \n\t')).toEqual([]);
  });

  it('parses metrics, params, tags and attributes joined by AND', () => {
    expect(
      parseRunFilter(
        "metrics.acc > 0.9 and params.lr = '0.01' AND tags.team != \"ml\" AND attributes.status = 'FINISHED'",
      ),
    ).toEqual([
      { entity: 'metric', key: 'acc', comparator: '>', value: 0.9 },
      { entity: 'param', key: 'lr', comparator: '=', value: '0.01' },
      { entity: 'tag', key: 'team', comparator: '!=', value: 'ml' },
      { entity: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' },
    ]);
  });

  it('accepts every entity prefix MLflow does', () => {
    const prefixes: [string, string][] = [
      ['metric.x', 'metric'],
      ['metrics.x', 'metric'],
      ['param.x', 'param'],
      ['params.x', 'param'],
      ['parameter.x', 'param'],
      ['parameters.x', 'param'],
      ['tag.x', 'tag'],
      ['tags.x', 'tag'],
    ];
    for (const [identifier, entity] of prefixes) {
      const value = entity === 'metric' ? '1' : "'v'";
      expect(parseRunFilter(`${identifier} = ${value}`)[0]?.entity).toBe(entity);
    }
    for (const prefix of ['attribute', 'attributes', 'attr', 'run']) {
      expect(parseRunFilter(`${prefix}.run_name = 'a'`)).toEqual([
        { entity: 'attribute', key: 'run_name', comparator: '=', value: 'a' },
      ]);
    }
  });

  it('reads bare attribute names and resolves the aliases', () => {
    expect(parseRunFilter("status = 'RUNNING' AND run_name LIKE 'bert-%'")).toEqual([
      { entity: 'attribute', key: 'status', comparator: '=', value: 'RUNNING' },
      { entity: 'attribute', key: 'run_name', comparator: 'LIKE', value: 'bert-%' },
    ]);
    expect(parseRunFilter('created >= 1700000000000')).toEqual([
      { entity: 'attribute', key: 'start_time', comparator: '>=', value: 1700000000000 },
    ]);
    expect(parseRunFilter("`Run name` = 'x'")[0]?.key).toBe('run_name');
    expect(parseRunFilter("attributes.`Run Name` = 'x'")[0]?.key).toBe('run_name');
    expect(parseRunFilter('end_time < 5 AND user_id = "me" AND artifact_uri ILIKE \'%s3%\'')).toHaveLength(3);
  });

  it('reads quoted keys with spaces and dots, and unquoted keys with dots and slashes', () => {
    expect(parseRunFilter('metrics.`f1 score` >= 0.5')[0]?.key).toBe('f1 score');
    expect(parseRunFilter('metrics."f1 score" >= 0.5')[0]?.key).toBe('f1 score');
    expect(parseRunFilter('tags."mlflow.runName" = \'x\'')[0]?.key).toBe('mlflow.runName');
    expect(parseRunFilter("tags.mlflow.runName = 'x'")[0]?.key).toBe('mlflow.runName');
    expect(parseRunFilter('metrics.train/loss<1')[0]).toEqual({
      entity: 'metric',
      key: 'train/loss',
      comparator: '<',
      value: 1,
    });
    expect(parseRunFilter("`params`.`batch size` = '32'")[0]).toEqual({
      entity: 'param',
      key: 'batch size',
      comparator: '=',
      value: '32',
    });
    expect(parseRunFilter("params.'learning rate' = '1'")[0]?.key).toBe('learning rate');
  });

  it('reads numbers in every form and keeps metric values numeric', () => {
    const values = ['1', '-1', '+2.5', '.5', '3.', '1e-3', '-2.5E+10'].map(
      (v) => parseRunFilter(`metrics.m = ${v}`)[0]?.value,
    );
    expect(values).toEqual([1, -1, 2.5, 0.5, 3, 0.001, -2.5e10]);
    expect(parseRunFilter('metrics.m>=-1')[0]?.comparator).toBe('>=');
  });

  it('unescapes quotes inside strings and leaves other backslashes alone', () => {
    expect(parseRunFilter("tags.note = 'it''s'")[0]?.value).toBe("it's");
    expect(parseRunFilter("tags.note = 'it\\'s'")[0]?.value).toBe("it's");
    expect(parseRunFilter('tags.note = "say ""hi"""')[0]?.value).toBe('say "hi"');
    expect(parseRunFilter("tags.path = 'C:\\data\\x'")[0]?.value).toBe('C:\\data\\x');
    expect(parseRunFilter("tags.path = 'ends\\\\'")[0]?.value).toBe('ends\\');
    expect(parseRunFilter("tags.t = 'a AND b' AND tags.u = ''")).toEqual([
      { entity: 'tag', key: 't', comparator: '=', value: 'a AND b' },
      { entity: 'tag', key: 'u', comparator: '=', value: '' },
    ]);
  });

  it('upper-cases keyword comparators', () => {
    expect(parseRunFilter("params.a like 'x%' AND tags.b iLike 'Y%'").map((c) => c.comparator)).toEqual([
      'LIKE',
      'ILIKE',
    ]);
  });

  it('reads IN and NOT IN lists for run_id and datasets', () => {
    expect(parseRunFilter('attributes.run_id IN (\'a1\', "b2")')).toEqual([
      { entity: 'attribute', key: 'run_id', comparator: 'IN', value: ['a1', 'b2'] },
    ]);
    expect(parseRunFilter("run_id not  in ('a')")[0]).toMatchObject({ comparator: 'NOT IN', value: ['a'] });
    expect(
      parseRunFilter("datasets.name IN ('train','eval') AND datasets.digest = 'abc' AND dataset.context LIKE 'tr%'"),
    ).toEqual([
      { entity: 'dataset', key: 'name', comparator: 'IN', value: ['train', 'eval'] },
      { entity: 'dataset', key: 'digest', comparator: '=', value: 'abc' },
      { entity: 'dataset', key: 'context', comparator: 'LIKE', value: 'tr%' },
    ]);
  });

  it('rejects OR, NOT, parentheses and stray tokens, naming the offending clause', () => {
    expect(errorOf(() => parseRunFilter('metrics.a > 1 OR metrics.b < 2'))).toBe(
      "filter: Invalid clause(s) in filter string: 'OR metrics.b < 2'. " +
        'Clauses may only be joined with AND (no OR, NOT or parentheses).',
    );
    expect(errorOf(() => parseRunFilter('(metrics.a > 1)'))).toMatch(
      /^filter: Invalid clause\(s\) in filter string: '\(metrics.a > 1\)'/,
    );
    expect(errorOf(() => parseRunFilter('NOT metrics.a > 1'))).toMatch(/Invalid clause\(s\).*'NOT metrics.a > 1'/);
    expect(errorOf(() => parseRunFilter('metrics.a > 1 2'))).toMatch(/Invalid clause\(s\) in filter string: '2'/);
    expect(errorOf(() => parseRunFilter('metrics.a > 1 AND'))).toMatch(/a clause must follow the last AND/);
    expect(errorOf(() => parseRunFilter('metrics.a > 1; metrics.b > 2'))).toMatch(/Invalid clause\(s\).*'; metrics/);
  });

  it('rejects a comparator the entity does not take, listing the valid ones', () => {
    expect(errorOf(() => parseRunFilter('metrics.loss <<< 1'))).toBe(
      "filter: Invalid comparator '<<<' not one of '{'=', '!=', '>', '>=', '<', '<='}'",
    );
    expect(errorOf(() => parseRunFilter("metrics.loss LIKE '1'"))).toMatch(/Invalid comparator 'LIKE'/);
    expect(errorOf(() => parseRunFilter("params.lr > '1'"))).toBe(
      "filter: Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE'}'",
    );
    expect(errorOf(() => parseRunFilter("tags.x IS 'a'"))).toMatch(/Invalid comparator 'IS'/);
    expect(errorOf(() => parseRunFilter("tags.x NOT LIKE 'a'"))).toMatch(/Invalid comparator 'NOT LIKE'/);
    expect(errorOf(() => parseRunFilter("start_time LIKE '1'"))).toMatch(/Invalid comparator 'LIKE'/);
    expect(errorOf(() => parseRunFilter('metrics.a'))).toMatch(/expected a comparator after 'metrics.a'/);
    expect(errorOf(() => parseRunFilter('metrics.a >'))).toMatch(/expected a value after 'metrics.a >'/);
  });

  it('rejects values of the wrong type', () => {
    expect(errorOf(() => parseRunFilter("metrics.acc > '0.9'"))).toBe(
      "filter: Expected numeric value type for metric. Found '0.9'",
    );
    expect(errorOf(() => parseRunFilter('metrics.acc > 1abc'))).toMatch(/Found 1abc/);
    expect(errorOf(() => parseRunFilter("start_time > 'yesterday'"))).toBe(
      "filter: Expected numeric value type for numeric attribute: start_time. Found 'yesterday'",
    );
    expect(errorOf(() => parseRunFilter('params.lr = 0.1'))).toBe(
      "filter: Expected a quoted string value for param (e.g. 'my-value'). Got value 0.1",
    );
    expect(errorOf(() => parseRunFilter('status = FINISHED'))).toMatch(
      /not quoted .* string value FINISHED\. Use either single or double quotes/,
    );
    expect(errorOf(() => parseRunFilter("tags.x = 'open"))).toMatch(/Unterminated string starting at position 9/);
    expect(errorOf(() => parseRunFilter("tags.`x = 'a'"))).toMatch(/Unterminated quoted key/);
  });

  it('allows lists only where MLflow does', () => {
    expect(errorOf(() => parseRunFilter("status IN ('A')"))).toBe(
      "filter: Only the 'run_id' attribute supports comparison with a list of quoted string values.",
    );
    expect(errorOf(() => parseRunFilter("run_id IN 'a'"))).toMatch(
      /Comparator 'IN' expects a parenthesised list of quoted strings/,
    );
    expect(errorOf(() => parseRunFilter("run_id = ('a')"))).toMatch(/only be compared with IN or NOT IN/);
    expect(errorOf(() => parseRunFilter('run_id IN ()'))).toMatch(/non-empty list of string values, but got empty/);
    expect(errorOf(() => parseRunFilter("run_id IN ('a', 1)"))).toMatch(/ill-formed list/);
    expect(errorOf(() => parseRunFilter("run_id IN ('a',)"))).toMatch(/ill-formed list/);
    expect(errorOf(() => parseRunFilter("run_id IN ('a'"))).toMatch(/ill-formed list/);
    expect(errorOf(() => parseRunFilter('metrics.a IN (1)'))).toMatch(/Invalid comparator 'IN'/);
  });

  it('names the valid entity types, attribute keys and dataset keys', () => {
    expect(errorOf(() => parseRunFilter("foo.bar = 'x'"))).toMatch(
      /^filter: Invalid entity type 'foo'\. Valid entity types are \{'metric', 'metrics', .*'datasets'\}$/,
    );
    expect(errorOf(() => parseRunFilter("color = 'red'"))).toBe(
      "filter: Invalid attribute key 'color' specified. Valid keys are " +
        "'{'run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'start_time', 'end_time'}'",
    );
    expect(errorOf(() => parseRunFilter("datasets.size = '1'"))).toBe(
      "filter: Invalid dataset key 'size' specified. Valid keys are '{'name', 'digest', 'context'}'",
    );
    expect(errorOf(() => parseRunFilter("metrics. = 'x'"))).toMatch(/expected a key after 'metrics\.'/);
  });
});

describe('experiment filters', () => {
  it('parses name, times and tags', () => {
    expect(
      parseExperimentFilter(
        "name LIKE 'exp%' AND creation_time > 1 AND attribute.last_update_time <= 2 AND tags.owner = 'me'",
      ),
    ).toEqual([
      { entity: 'attribute', key: 'name', comparator: 'LIKE', value: 'exp%' },
      { entity: 'attribute', key: 'creation_time', comparator: '>', value: 1 },
      { entity: 'attribute', key: 'last_update_time', comparator: '<=', value: 2 },
      { entity: 'tag', key: 'owner', comparator: '=', value: 'me' },
    ]);
  });

  it('rejects run-only entities and keys', () => {
    expect(errorOf(() => parseExperimentFilter('metrics.a > 1'))).toMatch(
      /Invalid entity type 'metrics'\. Valid entity types are \{'attribute', 'attributes', 'attr', 'tag', 'tags'\}/,
    );
    expect(errorOf(() => parseExperimentFilter("status = 'x'"))).toBe(
      "filter: Invalid attribute key 'status' specified. Valid keys are " +
        "'{'name', 'creation_time', 'last_update_time'}'",
    );
    expect(errorOf(() => parseExperimentFilter("name IN ('a')"))).toMatch(/do not support comparison with a list/);
    expect(errorOf(() => parseExperimentFilter("creation_time = 'x'"))).toMatch(/numeric attribute: creation_time/);
  });
});

describe('model filters', () => {
  it('parses registered model names and tags', () => {
    expect(parseModelFilter("name ILIKE '%bert%' AND tags.`task` = 'nlp'", 'registered_model')).toEqual([
      { entity: 'attribute', key: 'name', comparator: 'ILIKE', value: '%bert%' },
      { entity: 'tag', key: 'task', comparator: '=', value: 'nlp' },
    ]);
    expect(errorOf(() => parseModelFilter("run_id = 'x'", 'registered_model'))).toBe(
      "filter: Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'",
    );
  });

  it('parses model version names, run ids, sources and version numbers', () => {
    expect(
      parseModelFilter(
        "name = 'm' AND run_id IN ('r1', 'r2') AND source_path LIKE 's3://%' AND version_number >= 3",
        'model_version',
      ),
    ).toEqual([
      { entity: 'attribute', key: 'name', comparator: '=', value: 'm' },
      { entity: 'attribute', key: 'run_id', comparator: 'IN', value: ['r1', 'r2'] },
      { entity: 'attribute', key: 'source_path', comparator: 'LIKE', value: 's3://%' },
      { entity: 'attribute', key: 'version_number', comparator: '>=', value: 3 },
    ]);
    expect(errorOf(() => parseModelFilter("run_id NOT IN ('a')", 'model_version'))).toBe(
      "filter: Invalid comparator 'NOT IN' not one of '{'=', '!=', 'LIKE', 'ILIKE', 'IN'}'",
    );
    expect(errorOf(() => parseModelFilter("name IN ('a')", 'model_version'))).toMatch(/Only the 'run_id' attribute/);
    expect(errorOf(() => parseModelFilter("version_number = '3'", 'model_version'))).toMatch(
      /numeric attribute: version_number/,
    );
  });
});

describe('order-by clauses', () => {
  it('parses run order-bys with an optional direction', () => {
    expect(parseRunOrderBy('metrics.acc DESC')).toEqual({ entity: 'metric', key: 'acc', ascending: false });
    expect(parseRunOrderBy('attributes.start_time')).toEqual({
      entity: 'attribute',
      key: 'start_time',
      ascending: true,
    });
    expect(parseRunOrderBy('params.lr asc')).toEqual({ entity: 'param', key: 'lr', ascending: true });
    expect(parseRunOrderBy('`metrics`.`my key`')).toEqual({ entity: 'metric', key: 'my key', ascending: true });
    expect(parseRunOrderBy('  tags."mlflow.runName"   Desc ')).toEqual({
      entity: 'tag',
      key: 'mlflow.runName',
      ascending: false,
    });
    expect(parseRunOrderBy('created DESC')).toEqual({ entity: 'attribute', key: 'start_time', ascending: false });
    expect(parseRunOrderBy('run_name')).toEqual({ entity: 'attribute', key: 'run_name', ascending: true });
  });

  it('rejects a bad run order-by, saying why', () => {
    expect(errorOf(() => parseRunOrderBy(''))).toBe("order_by: Invalid order_by clause ''. Could not be parsed.");
    expect(errorOf(() => parseRunOrderBy('metrics.acc DOWN'))).toBe(
      "order_by: Invalid ordering key in order_by clause 'metrics.acc DOWN'. Expected ASC or DESC.",
    );
    expect(errorOf(() => parseRunOrderBy('metrics.acc DESC extra'))).toMatch(/Could not be parsed/);
    expect(errorOf(() => parseRunOrderBy('datasets.name'))).toBe('order_by: Invalid order_by entity: dataset');
    expect(errorOf(() => parseRunOrderBy('colour'))).toMatch(/Invalid attribute key 'colour' specified/);
  });

  it('parses experiment order-bys on attributes only', () => {
    expect(parseExperimentOrderBy('last_update_time DESC')).toEqual({
      entity: 'attribute',
      key: 'last_update_time',
      ascending: false,
    });
    expect(parseExperimentOrderBy('experiment_id')).toMatchObject({ key: 'experiment_id' });
    expect(errorOf(() => parseExperimentOrderBy('tags.x'))).toBe('order_by: Invalid order_by entity: tag');
    expect(errorOf(() => parseExperimentOrderBy('start_time'))).toMatch(/Valid keys are '\{'name', 'experiment_id'/);
  });

  it('parses model order-bys, per kind or for either', () => {
    expect(parseModelOrderBy('name')).toEqual({ entity: 'attribute', key: 'name', ascending: true });
    expect(parseModelOrderBy('timestamp DESC')).toEqual({
      entity: 'attribute',
      key: 'creation_timestamp',
      ascending: false,
    });
    expect(parseModelOrderBy('version_number DESC', 'model_version')).toMatchObject({ key: 'version_number' });
    expect(errorOf(() => parseModelOrderBy('version_number', 'registered_model'))).toMatch(
      /Invalid attribute key 'version_number'/,
    );
    expect(errorOf(() => parseModelOrderBy('tags.x'))).toBe('order_by: Invalid order_by entity: tag');
  });
});

describe('filter robustness', () => {
  /** How a client quotes any string: backslashes and quotes doubled. */
  const quote = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

  it('reads back any AND-ed list of rendered clauses', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_ ./-]{0,11}$/);
    const clause = fc.oneof(
      fc.record({
        entity: fc.constant('metric' as const),
        key,
        comparator: fc.constantFrom(
          '=' as const,
          '!=' as const,
          '>' as const,
          '>=' as const,
          '<' as const,
          '<=' as const,
        ),
        value: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v)),
      }),
      fc.record({
        entity: fc.constantFrom('param' as const, 'tag' as const),
        key,
        comparator: fc.constantFrom('=' as const, '!=' as const, 'LIKE' as const, 'ILIKE' as const),
        value: fc.string({ unit: 'grapheme', maxLength: 12 }),
      }),
      fc.record({
        entity: fc.constant('attribute' as const),
        key: fc.constant('run_id'),
        comparator: fc.constantFrom('IN' as const, 'NOT IN' as const),
        value: fc.array(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 4 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(clause, { maxLength: 5 }), (clauses) => {
        const text = clauses
          .map((c) => {
            const id = c.entity === 'attribute' ? c.key : `${c.entity}s.\`${c.key}\``;
            const value = Array.isArray(c.value)
              ? `(${c.value.map(quote).join(', ')})`
              : typeof c.value === 'number'
                ? String(c.value)
                : quote(c.value);
            return `${id} ${c.comparator} ${value}`;
          })
          .join(' AND ');
        expect(parseRunFilter(text)).toEqual(clauses);
      }),
    );
  });

  it('throws only 400s, whatever the input', () => {
    const alphabet = fc.constantFrom(...'metrics.tags"\'`()<>=! ,AND OR IN NOT LIKE 01.5-eE\\'.split(''));
    const inputs = fc.oneof(fc.string(), fc.string({ unit: alphabet, maxLength: 40 }));
    fc.assert(
      fc.property(inputs, (text) => {
        for (const parse of [
          () => parseRunFilter(text),
          () => parseExperimentFilter(text),
          () => parseModelFilter(text, 'model_version'),
          () => parseRunOrderBy(text),
        ]) {
          try {
            parse();
          } catch (error) {
            expect(error).toBeInstanceOf(AppError);
            expect((error as AppError).code).toBe('INVALID_ARGUMENT');
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
