import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint, type CheckpointHeader } from './checkpoint';
import { PREPROCESSING_FORMAT } from './preprocessing';

const header: CheckpointHeader = {
  format: CHECKPOINT_FORMAT,
  kind: 'text-classifier',
  epoch: 3,
  fingerprint: { seed: 1, architecture: { network: 'embedding-bag' } },
  preprocessing: {
    format: PREPROCESSING_FORMAT,
    kind: 'text-classifier',
    input: { name: 'tokens', dtype: 'int64', shape: ['batch', 'tokens'] },
    output: { name: 'probabilities', dtype: 'float32', shape: ['batch', 2] },
    labels: ['a', 'b'],
    textColumn: 'text',
    tokenizer: { lowercase: true, splitPattern: 'x' },
    vocabulary: ['é', 'b'],
  },
  optimizerStep: 12,
  earlyStopping: { bestLoss: 0.5, bestEpoch: 2, bestMetrics: { loss: 0.5 }, epochsWithoutImprovement: 1 },
};

describe('checkpoints', () => {
  it('round-trips the header and the tensors exactly', () => {
    const tensors = new Map([
      ['weights/w', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Math.PI, 1e-30, -0]) }],
      ['adam_m/w', { shape: [1], data: Float32Array.from([7]) }],
      ['empty', { shape: [0], data: new Float32Array(0) }],
    ]);
    const decoded = decodeCheckpoint(encodeCheckpoint(header, tensors));
    expect(decoded.header).toEqual(header);
    expect(decoded.tensors).toEqual(tensors);
  });

  it('reads a checkpoint that is a view into a larger buffer', () => {
    const bytes = encodeCheckpoint(header, new Map([['t', { shape: [2], data: Float32Array.from([1, 2]) }]]));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeCheckpoint(shifted.subarray(3)).tensors.get('t')?.data).toEqual(Float32Array.from([1, 2]));
  });

  it('refuses what is not a checkpoint, or a truncated one', () => {
    expect(() => decodeCheckpoint(new TextEncoder().encode('{"epoch": 1}'))).toThrow(
      'the resume state is not a built-in trainer checkpoint: wrong magic',
    );
    const bytes = encodeCheckpoint(header, new Map([['t', { shape: [4], data: new Float32Array(4) }]]));
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 1))).toThrow("tensor 't' is truncated");
  });
});
