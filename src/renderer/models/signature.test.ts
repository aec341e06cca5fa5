import { describe, expect, it } from 'vitest';
import { formatShape, signatureOf } from './signature';

describe('model signatures', () => {
  it('reads inputs, outputs and facts, writing shapes with ? for unknown sizes', () => {
    expect(
      signatureOf({
        format: 'onnx',
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 64] }],
        outputs: [{ name: 'logits', dtype: 'float32', shape: [null, 10] }],
        metadata: { ir_version: 8, producer_name: 'pytorch' },
      }),
    ).toEqual({
      inputs: [{ name: 'x', dtype: 'float32', shape: '[batch, 64]' }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: '[?, 10]' }],
      metadata: [
        { key: 'ir_version', value: '8' },
        { key: 'producer_name', value: 'pytorch' },
      ],
    });
  });

  it('has no signature for other formats or odd data', () => {
    expect(signatureOf(null)).toBeNull();
    expect(signatureOf({})).toBeNull();
    expect(signatureOf('x')).toBeNull();
    expect(formatShape([])).toBe('[]');
  });
});
