import { describe, expect, it } from 'vitest';
import { BuiltinTrainerParams, type BuiltinTrainerParamsInput } from './params';
import {
  encodeTabularRecords,
  encodeTableRows,
  fitTabular,
  parseDecimal,
  scalingVectors,
  sortLabels,
  standardiseInPlace,
} from './tabular';
import type { Table } from './tables';

const table: Table = {
  columns: ['size', 'colour', 'when', 'id', 'label'],
  rows: [
    ['1', 'red', '2024-01-01', '10', 'yes'],
    ['3', 'blue', '2024-01-03', '11', 'no'],
    [null, 'red', null, '12', 'yes'],
    ['5', null, '2024-01-05', '13', 'no'],
  ],
};

function fit(params: Partial<BuiltinTrainerParamsInput>, rows = table.rows) {
  const parsed = BuiltinTrainerParams.parse({ kind: 'tabular-classifier', target: 'label', ...params });
  const logs: string[] = [];
  // As the trainer does: only rows with a target value take part.
  const target = table.columns.indexOf(parsed.target as string);
  const labelled = table.rows.filter((row) => row[target] !== null);
  const training = rows.filter((row) => row[target] !== null);
  return { pre: fitTabular(table, parsed, training, labelled, (m) => logs.push(m)), logs };
}

describe('tabular preprocessing', () => {
  it('reads decimal numbers only', () => {
    expect([parseDecimal('1.5'), parseDecimal(' -2e3 '), parseDecimal('.5')]).toEqual([1.5, -2000, 0.5]);
    expect([parseDecimal('0x10'), parseDecimal('Infinity'), parseDecimal('1,5'), parseDecimal(null)]).toEqual([
      NaN,
      NaN,
      NaN,
      NaN,
    ]);
  });

  it('infers numeric and categorical columns, or follows the declared schema', () => {
    const inferred = fit({}).pre;
    expect(inferred.features.map((f) => [f.column, f.encoding])).toEqual([
      ['size', 'numeric'],
      ['colour', 'one-hot'],
      ['when', 'one-hot'],
      ['id', 'numeric'],
    ]);
    const declared = fit({
      schema: [
        { name: 'when', type: 'datetime' },
        { name: 'id', type: 'string' },
        { name: 'size', type: 'empty' },
      ],
    });
    expect(declared.pre.features.map((f) => [f.column, f.encoding])).toEqual([
      ['colour', 'one-hot'],
      ['when', 'datetime'],
      ['id', 'one-hot'],
    ]);
    expect(declared.logs).toContain("column 'size' left out: it has no values");
  });

  it('fits means, spreads and vocabularies on the training rows only, missing values a category of their own', () => {
    const { pre } = fit({ features: ['size', 'colour'] }, table.rows.slice(0, 3));
    expect(pre.features).toEqual([
      { column: 'size', encoding: 'numeric', index: 0, mean: 2, std: 1 },
      { column: 'colour', encoding: 'one-hot', index: 1, categories: ['red', 'blue'] },
    ]);
    expect(pre.labels).toEqual(['no', 'yes']);
    const all = fit({ features: ['colour'] }).pre;
    expect(all.features[0]).toMatchObject({ categories: ['red', null, 'blue'] });
  });

  it('keeps the most frequent categories only', () => {
    const { pre, logs } = fit({ features: ['colour'], maxCategories: 1 });
    expect(pre.features[0]).toMatchObject({ categories: ['red'] });
    expect(logs).toContain("column 'colour': the 1 most frequent of 3 values one-hot encoded");
  });

  it('encodes rows for the graph (NaN for missing, unknown categories as zeros) and standardises like it', () => {
    const { pre } = fit({ features: ['size', 'colour'] }, table.rows.slice(0, 3));
    const encoded = encodeTableRows(pre, table, table.rows);
    expect(Array.from(encoded)).toEqual([1, 1, 0, 3, 0, 1, NaN, 1, 0, 5, 0, 0]);
    expect(Array.from(encodeTabularRecords(pre, [{ size: 4, colour: 'green' }, {}]))).toEqual([4, 0, 0, NaN, 0, 0]);
    standardiseInPlace(pre, encoded);
    expect(Array.from(encoded)).toEqual([-1, 1, 0, 1, 0, 1, 0, 1, 0, 3, 0, 0]);
    expect(scalingVectors(pre)).toEqual({ mean: Float32Array.from([2, 0, 0]), std: Float32Array.from([1, 1, 1]) });
  });

  it('standardises a regression target and refuses a non-numeric one', () => {
    const regression = fit({ kind: 'tabular-regressor', target: 'size', features: ['id'] }, table.rows.slice(0, 2));
    expect(regression.pre.targetScaling).toEqual({ mean: 2, std: 1 });
    expect(regression.pre.output).toEqual({ name: 'value', dtype: 'float32', shape: ['batch', 1] });
    expect(() => fit({ kind: 'tabular-regressor', target: 'colour', features: ['id'] })).toThrow(
      "the regression target 'colour' has a non-numeric value 'red'",
    );
  });

  it('needs two classes, a usable feature, and a target that is not a feature', () => {
    expect(() => fit({ target: 'label', features: ['size'] }, table.rows).pre).not.toThrow();
    const oneClass: Table = {
      columns: ['x', 'y'],
      rows: [
        ['1', 'a'],
        ['2', 'a'],
      ],
    };
    const params = BuiltinTrainerParams.parse({ kind: 'tabular-classifier', target: 'y' });
    expect(() => fitTabular(oneClass, params, oneClass.rows, oneClass.rows, () => {})).toThrow(
      "the target 'y' has only one class ('a'); a classifier needs at least two",
    );
    expect(() => fit({ features: ['label'] })).toThrow("the target 'label' cannot also be a feature");
    expect(() => fit({ features: ['nope'] })).toThrow("the feature column 'nope' is not in the table");
  });

  it('orders numeric labels by value and others by text', () => {
    expect(sortLabels(['10', '9', '1.5'])).toEqual(['1.5', '9', '10']);
    expect(sortLabels(['b', 'B', 'a'])).toEqual(['B', 'a', 'b']);
  });
});
