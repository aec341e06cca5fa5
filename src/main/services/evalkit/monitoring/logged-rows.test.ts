import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PREPROCESSING_FORMAT, type TabularPreprocessing } from '#platform/builtin-training/preprocessing';
import { tempDir } from '#platform/testing';
import type { DeploymentSource, RequestLogEntry } from '#shared/contracts/deploy';
import { LoggedRows, OTHER_CATEGORY } from './logged-rows';

const work = tempDir();
afterAll(() => work.remove());

/** A classifier of `size` (numeric), `colour` (one-hot: red, blue, missing) and `seen` (datetime). */
const pre: TabularPreprocessing = {
  format: PREPROCESSING_FORMAT,
  kind: 'tabular-classifier',
  input: { name: 'features', dtype: 'float32', shape: ['batch', 5] },
  output: { name: 'probabilities', dtype: 'float32', shape: ['batch', 2] },
  labels: ['no', 'yes'],
  target: 'bought',
  inputSize: 5,
  features: [
    { column: 'size', encoding: 'numeric', index: 0, mean: 0, std: 1 },
    { column: 'colour', encoding: 'one-hot', index: 1, categories: ['red', 'blue', null] },
    { column: 'seen', encoding: 'datetime', index: 4, mean: 0, std: 1 },
  ],
  targetScaling: null,
};
const regressor: TabularPreprocessing = {
  ...pre,
  kind: 'tabular-regressor',
  output: { name: 'value', dtype: 'float32', shape: ['batch', 1] },
  labels: null,
  inputSize: 1,
  features: [{ column: 'size', encoding: 'numeric', index: 0, mean: 0, std: 1 }],
};

function version(n: number, preprocessing: TabularPreprocessing): DeploymentSource {
  const file = path.join(work.dir, `v${n}.json`);
  writeFileSync(file, JSON.stringify(preprocessing));
  return {
    kind: 'model-version',
    model: 'shop',
    version: n,
    alias: null,
    format: 'onnx',
    path: path.join(work.dir, 'model.onnx'),
    sha256: null,
    preprocessing: { path: file, sha256: null },
  };
}

function entry(
  over: Partial<RequestLogEntry> & Pick<RequestLogEntry, 'endpoint' | 'input' | 'output'>,
): RequestLogEntry {
  return {
    id: '01JAAAAAAAAAAAAAAAAAAAAAAA',
    deploymentId: '01JBBBBBBBBBBBBBBBBBBBBBBB',
    at: 0,
    modelVersion: 1,
    status: 'ok',
    httpStatus: 200,
    durationMs: 1,
    promptTokens: null,
    completionTokens: null,
    error: null,
    truncated: false,
    ...over,
  };
}

// A canary (version 2, a regressor here, to tell the two apart) beside the main version 1.
const read = new LoggedRows().reader({
  source: version(1, pre),
  traffic: { mode: 'canary', percent: 50, source: version(2, regressor) },
  previousSource: null,
});

describe('rows of logged requests', () => {
  it('decodes a v2 tensor with the preprocessing: numbers, categories, missing and unseen values', () => {
    const rows = [
      [Math.fround(5.1), 1, 0, 0, 19000],
      [null, 0, 1, 0, 19001],
      [2, 0, 0, 1, 19002],
      [3, 0, 0, 0, 19003],
    ];
    const request = read(
      entry({
        endpoint: 'infer',
        input: JSON.stringify([{ name: 'features', shape: [4, 5], datatype: 'FP32', data: rows }]),
        output: JSON.stringify([
          { name: 'probabilities', shape: [4, 2], datatype: 'FP32', data: [0.9, 0.1, 0.2, 0.8, 0.5, 0.5, 0.3, 0.7] },
        ]),
      }),
    );
    // float32 5.1 reads as 5.1; NaN (JSON null) as missing; no category marked as a value the model never saw;
    // datetime days are not the reference's text: left out.
    expect(request?.rows).toEqual([
      { size: 5.1, colour: 'red' },
      { size: null, colour: 'blue' },
      { size: 2, colour: null },
      { size: 3, colour: OTHER_CATEGORY },
    ]);
    expect(request?.predictions).toEqual([{ label: 'no' }, { label: 'yes' }, { label: 'no' }, { label: 'yes' }]);
  });

  it('decodes predict with the input tensor, each version with its own preprocessing', () => {
    const request = read(
      entry({
        endpoint: 'predict',
        modelVersion: 2,
        input: JSON.stringify({ features: { shape: [2, 1], data: [1.5, 2.5] } }),
        output: JSON.stringify({ value: { shape: [2, 1], datatype: 'FP32', data: [10, 20] } }),
      }),
    );
    expect(request).toEqual({ rows: [{ size: 1.5 }, { size: 2.5 }], predictions: [{ value: 10 }, { value: 20 }] });
  });

  it('keeps the rows of a request that did not ask for the prediction output, without predictions', () => {
    const request = read(
      entry({
        endpoint: 'infer',
        input: JSON.stringify([{ name: 'features', shape: [1, 5], data: [1, 1, 0, 0, 0] }]),
        output: JSON.stringify([]),
      }),
    );
    expect(request).toEqual({ rows: [{ size: 1, colour: 'red' }], predictions: [null] });
  });

  it('reads predict rows as sent, and nothing from failed, cut, foreign or undecodable requests', () => {
    const rows = [{ size: 4, colour: 'blue' }];
    expect(
      read(entry({ endpoint: 'predict', input: JSON.stringify(rows), output: JSON.stringify([{ label: 'yes' }]) })),
    ).toEqual({ rows, predictions: [{ label: 'yes' }] });
    const tensor = JSON.stringify([{ name: 'features', shape: [1, 5], data: [1, 1, 0, 0, 0] }]);
    for (const bad of [
      entry({ endpoint: 'infer', input: tensor, output: null, status: 'error' }),
      entry({ endpoint: 'infer', input: tensor, output: '[]', truncated: true }),
      entry({ endpoint: 'chat', input: '{"messages":[]}', output: 'hi' }),
      // A version the deployment no longer serves: its preprocessing is not known.
      entry({ endpoint: 'infer', input: tensor, output: '[]', modelVersion: 7 }),
      // Not the model's input width.
      entry({
        endpoint: 'infer',
        input: JSON.stringify([{ name: 'features', shape: [1, 2], data: [1, 2] }]),
        output: '[]',
      }),
    ]) {
      expect(read(bad), bad.input).toBeNull();
    }
  });
});
