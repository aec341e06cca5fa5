import { describe, expect, it } from 'vitest';
import type { TensorData } from '#platform/onnx-serving/tensors';
import { V2InferRequest, V2InferResponse, V2ModelMetadata } from '#shared/contracts/deploy-v2';
import { servingSignatureOf } from './signature';
import { parseV2InferRequest, tensorsFromV2, v2ModelMetadata, v2Response } from './v2';

const SIG = servingSignatureOf(
  {
    inputs: [
      { name: 'x', dtype: 'float32', shape: ['n', 2] },
      { name: 'mask', dtype: 'bool', shape: ['n'] },
    ],
    outputs: [
      { name: 'logits', dtype: 'float32', shape: ['n', 3] },
      { name: 'label', dtype: 'int64', shape: [null] },
    ],
    metadata: {},
  },
  'm.onnx',
);

const parse = (body: unknown) => V2InferRequest.parse(body);

describe('tensorsFromV2', () => {
  it('reads flat and nested data of each datatype into typed arrays', () => {
    const { inputs, outputs } = tensorsFromV2(
      parse({
        id: 'r1',
        inputs: [
          {
            name: 'x',
            shape: [2, 2],
            datatype: 'FP32',
            data: [
              [1, 2],
              [3, 4.5],
            ],
          },
          { name: 'mask', shape: [2], datatype: 'BOOL', data: [true, false] },
        ],
        outputs: [{ name: 'label' }],
      }),
      SIG,
    );
    expect(inputs.x).toEqual({ dtype: 'float32', dims: [2, 2], data: Float32Array.from([1, 2, 3, 4.5]) });
    expect(inputs.mask).toEqual({ dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0]) });
    expect(outputs).toEqual(['label']);

    const more = tensorsFromV2(
      parse({
        inputs: [
          { name: 'i64', shape: [2], datatype: 'INT64', data: [-3, 9007199254740991] },
          { name: 'u8', shape: [1, 2], datatype: 'UINT8', data: [0, 255] },
          { name: 'h', shape: [1], datatype: 'FP16', data: [1.5] },
          { name: 's', shape: [1], datatype: 'BYTES', data: ['hi'] },
        ],
      }),
      SIG,
    ).inputs;
    expect(Array.from(more.i64?.data as BigInt64Array)).toEqual([-3n, 9007199254740991n]);
    expect(more.u8?.data).toEqual(Uint8Array.from([0, 255]));
    expect(more.h?.data).toEqual(Uint16Array.from([0x3e00]));
    expect(more.s?.data).toEqual(['hi']);
  });

  it('names the input and element that does not fit its datatype or shape', () => {
    const bad = (input: object) => () => tensorsFromV2(parse({ inputs: [{ name: 'x', ...input }] }), SIG);
    expect(bad({ shape: [3], datatype: 'FP32', data: [1, 'a', 3] })).toThrow(
      'inputs.x.data[1]: expected a number for FP32, got "a"',
    );
    // Nested deeper than the shape (thousands of levels would overflow the stack).
    let deep: unknown = 0.5;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    expect(bad({ shape: [1], datatype: 'FP32', data: deep })).toThrow(
      "inputs.x.data: nested deeper than its shape's 1 dimensions",
    );
    // Beyond float32's range (1e400 is Infinity once parsed): it would be stored as infinity.
    expect(bad({ shape: [3], datatype: 'FP32', data: [1, 2, 1e39] })).toThrow(
      'inputs.x.data[2]: expected a number within ±3.4028234663852886e+38 for FP32, got 1e+39',
    );
    expect(bad({ shape: [3, 1], datatype: 'FP32', data: [[1], [JSON.parse('-1e400') as number], [3]] })).toThrow(
      /inputs\.x\.data\[1\]: expected a number within .* for FP32, got -Infinity/,
    );
    expect(bad({ shape: [2], datatype: 'INT32', data: [1, 2.5] })).toThrow(
      'inputs.x.data[1]: expected an integer from -2147483648 to 2147483647 for INT32, got 2.5',
    );
    expect(bad({ shape: [1], datatype: 'UINT8', data: [256] })).toThrow(
      /inputs.x.data\[0\]: expected an integer from 0 to 255/,
    );
    expect(bad({ shape: [1], datatype: 'UINT64', data: [-1] })).toThrow(/expected a non-negative integer for UINT64/);
    // 2^53 + 1 reaches the server as 2^53: refused, not passed on changed.
    expect(bad({ shape: [1], datatype: 'INT64', data: [JSON.parse('9007199254740993') as number] })).toThrow(
      'inputs.x.data[0]: 9007199254740992 is beyond ±(2^53 − 1), where JSON numbers stop being exact: INT64 values past it cannot be sent as JSON',
    );
    expect(bad({ shape: [1], datatype: 'BOOL', data: [1] })).toThrow(
      'inputs.x.data[0]: expected true or false for BOOL, got 1',
    );
    expect(bad({ shape: [1], datatype: 'BYTES', data: [1] })).toThrow(/expected a string for BYTES/);
    expect(bad({ shape: [2, 2], datatype: 'FP32', data: [1, 2, 3] })).toThrow(
      'inputs.x.data: shape [2, 2] needs 4 elements, got 3',
    );
    expect(bad({ shape: [1, 1], datatype: 'FP32', data: [[1], [2]] })).toThrow(
      'inputs.x.data: holds 2 arrays where dimension 0 of the shape is 1',
    );
    // Nested data follows the shape: no ragged rows, no mixed levels.
    const ragged = [new Array(3).fill(0), new Array(5).fill(0)];
    expect(bad({ shape: [2, 4], datatype: 'FP32', data: ragged })).toThrow(
      "inputs.x.data at depth 2: holds 3 values where the shape's last dimensions hold 4",
    );
    expect(bad({ shape: [2, 2], datatype: 'FP32', data: [[1, 2], 3] })).toThrow(/mixes arrays and values/);
  });

  it('refuses a repeated input, an unknown output and a repeated output', () => {
    const x = { name: 'x', shape: [1], datatype: 'FP32', data: [1] };
    expect(() => tensorsFromV2(parse({ inputs: [x, x] }), SIG)).toThrow('inputs.x: given more than once');
    expect(() => tensorsFromV2(parse({ inputs: [x], outputs: [] }), SIG)).toThrow('outputs: names no output');
    expect(() => tensorsFromV2(parse({ inputs: [x], outputs: [{ name: 'nope' }] }), SIG)).toThrow(
      "outputs.nope: the model has no output 'nope' (its outputs: logits, label)",
    );
    expect(() => tensorsFromV2(parse({ inputs: [x], outputs: [{ name: 'label' }, { name: 'label' }] }), SIG)).toThrow(
      'outputs.label: requested more than once',
    );
  });

  it('leaves unknown datatypes and missing fields to the contract schema', () => {
    expect(
      V2InferRequest.safeParse({ inputs: [{ name: 'x', shape: [1], datatype: 'FLOAT', data: [1] }] }).success,
    ).toBe(false);
    expect(V2InferRequest.safeParse({ inputs: [] }).success).toBe(false);
    expect(
      V2InferRequest.safeParse({ inputs: [{ name: 'x', shape: [-1], datatype: 'FP32', data: [1] }] }).success,
    ).toBe(false);
  });
});

describe('v2Response and v2ModelMetadata', () => {
  it('writes outputs flat, in the order asked, with the request id echoed', () => {
    const outputs: Record<string, TensorData> = {
      logits: { dtype: 'float32', dims: [1, 3], data: Float32Array.from([0.5, -1, 2]) },
      label: { dtype: 'int64', dims: [1], data: BigInt64Array.from([2n]) },
    };
    const body = v2Response({ modelName: 'digits', modelVersion: '3', id: 'r1', outputs, order: ['label', 'logits'] });
    expect(body).toEqual({
      model_name: 'digits',
      model_version: '3',
      id: 'r1',
      outputs: [
        { name: 'label', shape: [1], datatype: 'INT64', data: [2] },
        { name: 'logits', shape: [1, 3], datatype: 'FP32', data: [0.5, -1, 2] },
      ],
    });
    expect(V2InferResponse.parse(body)).toEqual(body);
    const plain = v2Response({
      modelName: 'm',
      outputs: {
        b: { dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
        h: { dtype: 'float16', dims: [1], data: Uint16Array.from([0x3c00]) },
      },
    });
    expect(plain).toEqual({
      model_name: 'm',
      outputs: [
        { name: 'b', shape: [2], datatype: 'BOOL', data: [true, false] },
        { name: 'h', shape: [1], datatype: 'FP16', data: [1] },
      ],
    });
  });

  it('describes the model with -1 for variable dimensions and the platform given', () => {
    const meta = v2ModelMetadata({
      name: 'digits',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      signature: SIG,
    });
    expect(meta).toEqual({
      name: 'digits',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 2] },
        { name: 'mask', datatype: 'BOOL', shape: [-1] },
      ],
      outputs: [
        { name: 'logits', datatype: 'FP32', shape: [-1, 3] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
      ],
    });
    expect(V2ModelMetadata.parse(meta)).toEqual(meta);
  });
});

describe('parseV2InferRequest', () => {
  const input = { name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] };

  it('gives the same request as the contract schema, for plain bodies and for ones the schema reshapes', () => {
    for (const body of [
      { inputs: [input] },
      {
        id: 'r1',
        parameters: { priority: 1, tag: 'a', fast: true },
        inputs: [{ ...input, parameters: { content_type: 'np' } }],
        outputs: [{ name: 'logits' }, { name: 'label', parameters: { binary_data: false } }],
      },
      // Keys the protocol does not define are dropped, as the schema drops them.
      { inputs: [{ ...input, extra: 1 }], extra: { nested: true } },
    ]) {
      expect(parseV2InferRequest(body)).toEqual(V2InferRequest.parse(body));
    }
  });

  it('refuses what the schema refuses with a 400 naming the field', () => {
    const fails = (body: unknown) => {
      try {
        parseV2InferRequest(body);
      } catch (err) {
        return err as { code: string; message: string };
      }
      throw new Error('accepted');
    };
    expect(fails({ inputs: [] })).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^inputs: /),
    });
    expect(fails({ inputs: [{ ...input, datatype: 'FLOAT' }] }).message).toMatch(/^inputs\.0\.datatype: /);
    expect(fails({ inputs: [{ ...input, shape: [-1, 2] }] }).message).toMatch(/^inputs\.0\.shape\.0: /);
    expect(fails({ inputs: [{ ...input, shape: [1.5] }] }).message).toMatch(/^inputs\.0\.shape\.0: /);
    expect(fails({ inputs: [{ ...input, name: '' }] }).message).toMatch(/^inputs\.0\.name: /);
    expect(fails({ inputs: [{ ...input, data: 'abc' }] }).message).toMatch(/^inputs\.0\.data: /);
    expect(fails({ id: 7, inputs: [input] }).message).toMatch(/^id: /);
    expect(fails({ inputs: [input], outputs: [{ name: '' }] }).message).toMatch(/^outputs\.0\.name: /);
    expect(fails({ inputs: [input], parameters: { nested: {} } }).message).toMatch(/^parameters\.nested: /);
    expect(fails([input]).code).toBe('INVALID_ARGUMENT');
  });
});
