import { describe, expect, it } from 'vitest';
import { PREPROCESSING_FORMAT, type TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import { encodeTabularRecords } from '#platform/builtin-training/tabular';
import { servingSignatureOf } from './signature';
import { checkTabularModel, parseTabularPreprocessing, tabularInputFromRows, tabularPredictions } from './tabular';

const PRE: TabularPreprocessing = {
  format: PREPROCESSING_FORMAT,
  kind: 'tabular-classifier',
  input: { name: 'features', dtype: 'float32', shape: ['batch', 5] },
  output: { name: 'probabilities', dtype: 'float32', shape: ['batch', 2] },
  labels: ['no', 'yes'],
  target: 'bought',
  inputSize: 5,
  features: [
    { column: 'age', encoding: 'numeric', index: 0, mean: 40, std: 10 },
    { column: 'seen', encoding: 'datetime', index: 1, mean: 19000, std: 100 },
    { column: 'colour', encoding: 'one-hot', index: 2, categories: ['red', 'blue', null] },
  ],
  targetScaling: null,
};

describe('tabularInputFromRows', () => {
  it('encodes rows as the trainer does, numbers and decimal text alike, null and blank as missing', () => {
    const rows = [
      { age: 31, seen: '2024-01-02', colour: 'blue', bought: 'yes' },
      { age: '45.5', seen: null, colour: null },
      { age: '', seen: '2023-06-30T12:00:00Z', colour: 'green' },
    ];
    const input = tabularInputFromRows(PRE, rows);
    expect(input.dims).toEqual([3, 5]);
    expect(input.data).toEqual(encodeTabularRecords(PRE, rows));
    const d = input.data as Float32Array;
    expect(Array.from(d.subarray(0, 5))).toEqual([31, Math.fround(Date.parse('2024-01-02') / 86_400_000), 0, 1, 0]);
    expect(Number.isNaN(d[6])).toBe(true);
    expect(Array.from(d.subarray(7, 10))).toEqual([0, 0, 1]);
    expect(Array.from(d.subarray(12, 15))).toEqual([0, 0, 0]);
  });

  it('names the row and column of a missing, extra or unparseable value', () => {
    const ok = { age: 1, seen: '2024-01-01', colour: 'red' };
    const rows = (bad: object) => () => tabularInputFromRows(PRE, [ok, bad]);
    expect(rows({ seen: null, colour: 'red' })).toThrow(
      'rows[1].age: missing; give null for a value that is not known',
    );
    expect(rows({ ...ok, size: 3 })).toThrow(
      'rows[1].size: not a column of this model (its columns: age, seen, colour)',
    );
    expect(rows({ ...ok, age: 'forty' })).toThrow('rows[1].age: expected a number, got "forty"');
    expect(rows({ ...ok, age: true })).toThrow('rows[1].age: expected a number, got true');
    expect(rows({ ...ok, seen: 'yesterday-ish' })).toThrow(
      'rows[1].seen: expected a date or date-time, got "yesterday-ish"',
    );
    expect(rows({ ...ok, colour: ['red'] })).toThrow(
      'rows[1].colour: expected a number, text, boolean or null, got ["red"]',
    );
    expect(() => tabularInputFromRows(PRE, [ok, 7])).toThrow('rows[1]: must be an object of column values');
    expect(() => tabularInputFromRows(PRE, [])).toThrow('rows: no rows given');
  });
});

describe('tabularPredictions', () => {
  it('gives classifiers the most probable label with every probability, regressors the value', () => {
    const out = { dtype: 'float32' as const, dims: [2, 2], data: Float32Array.from([0.25, 0.75, 0.5, 0.5]) };
    expect(tabularPredictions(PRE, out)).toEqual([
      { label: 'yes', probabilities: { no: 0.25, yes: 0.75 } },
      { label: 'no', probabilities: { no: 0.5, yes: 0.5 } },
    ]);
    const regressor: TabularPreprocessing = {
      ...PRE,
      kind: 'tabular-regressor',
      labels: null,
      targetScaling: { mean: 1, std: 2 },
    };
    expect(
      tabularPredictions(regressor, { dtype: 'float32', dims: [2, 1], data: Float32Array.from([1.5, -2]) }),
    ).toEqual([{ value: 1.5 }, { value: -2 }]);
  });
});

describe('parseTabularPreprocessing and checkTabularModel', () => {
  it('accepts the trainer’s preprocessing.json and refuses others, naming the file', () => {
    expect(parseTabularPreprocessing(JSON.parse(JSON.stringify(PRE)), 'p.json')).toEqual(PRE);
    expect(() => parseTabularPreprocessing({ ...PRE, format: 'x' }, 'p.json')).toThrow(
      /preprocessing 'p.json': format is "x"/,
    );
    expect(() => parseTabularPreprocessing({ ...PRE, kind: 'image-classifier' }, 'p.json')).toThrow(
      /not a tabular model/,
    );
    expect(() => parseTabularPreprocessing({ ...PRE, labels: null }, 'p.json')).toThrow(/a classifier without labels/);
  });

  it('refuses a model whose input is not the preprocessing’s', () => {
    const sig = (width: number) =>
      servingSignatureOf(
        {
          inputs: [{ name: 'features', dtype: 'float32', shape: ['batch', width] }],
          outputs: [{ name: 'probabilities', dtype: 'float32', shape: ['batch', 2] }],
          metadata: {},
        },
        'm.onnx',
      );
    expect(() => checkTabularModel(PRE, sig(5), 'm.onnx')).not.toThrow();
    expect(() => checkTabularModel(PRE, sig(4), 'm.onnx')).toThrow(
      "model 'm.onnx' does not take the preprocessing's input 'features' float32 [batch, 5]",
    );
  });
});
