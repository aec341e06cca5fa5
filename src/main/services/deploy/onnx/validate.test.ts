import { describe, expect, it } from 'vitest';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { AppError } from '#shared/errors';
import { servingSignatureOf, type ServingSignature } from './signature';
import { validateInputs } from './validate';

const signature = (inputs: ServingSignature['inputs'], outputs = [{ name: 'y', dtype: 'float32', shape: ['n', 2] }]) =>
  servingSignatureOf({ inputs, outputs, metadata: {} }, 'm.onnx');

const MLP = signature([{ name: 'x', dtype: 'float32', shape: ['n', 4] }]);
const x = (dims: number[], length = dims.reduce((a, b) => a * b, 1)): TensorData => ({
  dtype: 'float32',
  dims,
  data: new Float32Array(length),
});

function invalid(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_ARGUMENT');
    return err as AppError;
  }
  throw new Error('did not throw');
}

describe('validateInputs', () => {
  it('accepts a well-formed request and reports its rows and batching key', () => {
    expect(validateInputs(MLP, { x: x([3, 4]) })).toEqual({ rows: 3, key: 'x:float32:4' });
  });

  it('names a missing input and what the model expects', () => {
    expect(invalid(() => validateInputs(MLP, {})).message).toBe(
      'inputs.x: missing; the model needs a float32 [n, 4] tensor',
    );
  });

  it('names an unknown input and lists the known ones', () => {
    const err = invalid(() => validateInputs(MLP, { x: x([1, 4]), z: x([1]) }));
    expect(err.message).toBe("inputs.z: the model has no input 'z' (its inputs: x)");
    expect(err.details).toEqual({ field: 'inputs.z' });
  });

  it('refuses a wrong dtype', () => {
    const t: TensorData = { dtype: 'float64', dims: [1, 4], data: new Float64Array(4) };
    expect(invalid(() => validateInputs(MLP, { x: t })).message).toBe('inputs.x: expected dtype float32, got float64');
  });

  it('refuses a wrong rank and a fixed dimension that does not match', () => {
    expect(invalid(() => validateInputs(MLP, { x: x([4]) })).message).toBe(
      'inputs.x: expected rank 2 [n, 4], got rank 1 [4]',
    );
    expect(invalid(() => validateInputs(MLP, { x: x([2, 5]) })).message).toBe(
      'inputs.x: dimension 1 must be 4 (shape [n, 4]), got 5 (shape [2, 5])',
    );
  });

  it('refuses data whose length is not the product of the dims, or of the wrong storage', () => {
    expect(invalid(() => validateInputs(MLP, { x: x([2, 4], 7) })).message).toBe(
      'inputs.x: shape [2, 4] needs 8 values, got 7',
    );
    const wrong = { dtype: 'float32', dims: [1, 4], data: [1, 2, 3, 4] } as unknown as TensorData;
    expect(invalid(() => validateInputs(MLP, { x: wrong })).message).toMatch(/inputs.x: data is not the storage/);
    expect(invalid(() => validateInputs(MLP, { x: x([-1, 4], 4) })).message).toMatch(/inputs.x: dims must be/);
  });

  it('requires a symbolic dimension to agree across inputs', () => {
    const two = signature([
      { name: 'a', dtype: 'float32', shape: ['n', 2] },
      { name: 'b', dtype: 'int64', shape: ['n'] },
    ]);
    const b: TensorData = { dtype: 'int64', dims: [3], data: new BigInt64Array(3) };
    expect(invalid(() => validateInputs(two, { a: x([2, 2]), b })).message).toBe(
      "inputs.b: dimension 0 ('n') is 3, but it is 2 in input 'a'; they must agree",
    );
    expect(validateInputs(two, { a: x([3, 2]), b }).key).toBe('a:float32:2|b:int64:');
  });

  it('refuses an empty batch', () => {
    expect(invalid(() => validateInputs(MLP, { x: x([0, 4]) })).message).toBe('inputs.x: has no rows (dim 0 is 0)');
  });

  it('runs a model without a batch dimension one request at a time, keyed by its whole shape', () => {
    const fixed = signature(
      [{ name: 'x', dtype: 'float32', shape: [1, 4] }],
      [{ name: 'y', dtype: 'float32', shape: [1, 2] }],
    );
    expect(fixed.batchable).toBe(false);
    expect(validateInputs(fixed, { x: x([1, 4]) })).toEqual({ rows: 1, key: 'x:float32:1x4' });
  });
});

describe('servingSignatureOf', () => {
  it('batches only when every input and output has a dynamic dim 0 of one symbol', () => {
    expect(MLP.batchable).toBe(true);
    expect(signature([{ name: 'x', dtype: 'float32', shape: [null, 4] }]).batchable).toBe(true);
    expect(
      signature([{ name: 'x', dtype: 'float32', shape: ['n', 4] }], [{ name: 'y', dtype: 'float32', shape: [1] }])
        .batchable,
    ).toBe(false);
    expect(
      signature([
        { name: 'a', dtype: 'float32', shape: ['n', 4] },
        { name: 'b', dtype: 'float32', shape: ['m', 4] },
      ]).batchable,
    ).toBe(false);
    // Unknown rank.
    expect(signature([{ name: 'x', dtype: 'float32', shape: [] }]).batchable).toBe(false);
  });

  it('refuses inputs or outputs that are not plain tensors, naming the file', () => {
    expect(() =>
      servingSignatureOf(
        {
          inputs: [{ name: 'x', dtype: 'float32', shape: ['n'] }],
          outputs: [{ name: 'probs', dtype: 'sequence<map<int64,float32>>', shape: [] }],
          metadata: {},
        },
        'zipmap.onnx',
      ),
    ).toThrow(/model file 'zipmap.onnx': output 'probs' is of type sequence<map<int64,float32>>/);
  });
});
