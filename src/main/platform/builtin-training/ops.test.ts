import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from './backend';
import { batchNormTraining, conv3x3, dense, linear, softmaxCrossEntropy } from './ops';

/**
 * The hand-written gradients against TF.js's own, computed on the CPU backend (which has every gradient
 * kernel), for the same random inputs.
 */

function random(shape: number[], seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  });
}

/** Gradients of sum(f(inputs) * weights) w.r.t. every input, as arrays, on the given backend. */
async function gradients(
  backend: string,
  shapes: number[][],
  f: (...inputs: tf.Tensor[]) => tf.Tensor,
): Promise<{ value: Float32Array; grads: Float32Array[] }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const inputs = shapes.map((shape, i) => tf.tensor(random(shape, i + 1), shape));
    const output = f(...inputs);
    const weights = tf.tensor(random(output.shape, 99), output.shape);
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
    return { value: value.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

async function expectSameGradients(
  shapes: number[][],
  ours: (...inputs: tf.Tensor[]) => tf.Tensor,
  reference: (...inputs: tf.Tensor[]) => tf.Tensor,
): Promise<void> {
  const a = await gradients('wasm', shapes, ours);
  const b = await gradients('cpu', shapes, reference);
  expect(a.value[0]).toBeCloseTo(b.value[0] as number, 3);
  expect(a.grads).toHaveLength(b.grads.length);
  a.grads.forEach((g, i) => {
    const r = b.grads[i] as Float32Array;
    const scale = Math.max(...r.map(Math.abs));
    expect(Math.max(...g.map((v, j) => Math.abs(v - (r[j] as number)))) / scale).toBeLessThan(1e-4);
  });
}

beforeAll(async () => {
  await loadTf();
});
afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('hand-written gradients', () => {
  it('linear: x · w', async () => {
    const shapes = [
      [5, 4],
      [4, 3],
    ];
    await expectSameGradients(
      shapes,
      (x, w) => linear(tf, x as tf.Tensor2D, w as tf.Tensor2D, 'all'),
      (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    );
  });

  it('dense: x · w + b, with and without ReLU', async () => {
    const shapes = [[6, 4], [4, 3], [3]];
    for (const relu of [true, false])
      await expectSameGradients(
        shapes,
        (x, w, b) => dense(tf, x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D, relu, 'all'),
        (x, w, b) => {
          const z = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
          return relu ? tf.relu(z) : z;
        },
      );
  });

  it('softmax cross-entropy', async () => {
    // Made on the backend in use: tensors moved between backends are not what is tested here.
    const target = () => tf.oneHot(tf.tensor1d([2, 0, 1, 2], 'int32'), 3).toFloat() as tf.Tensor2D;
    await expectSameGradients(
      [[4, 3]],
      (z) => softmaxCrossEntropy(tf, z as tf.Tensor2D, target()),
      (z) => tf.losses.softmaxCrossEntropy(target(), z),
    );
  });

  it('conv3x3: same-padded 3x3 convolution', async () => {
    const shapes = [
      [2, 5, 4, 3],
      [3, 3, 3, 2],
    ];
    await expectSameGradients(
      shapes,
      (x, k) => conv3x3(tf, x as tf.Tensor4D, k as tf.Tensor4D, 'all'),
      (x, k) => tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'),
    );
  });

  it('batch norm with the batch moments', async () => {
    const shapes = [[3, 4, 2, 5], [5], [5]];
    await expectSameGradients(
      shapes,
      (x, g, b) => batchNormTraining(tf, x as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3).y,
      (x, g, b) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.batchNorm(x as tf.Tensor4D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-3);
      },
    );
  });

  it('conv3x3 without the input gradient, the first layer', async () => {
    const x = () => tf.tensor(random([2, 4, 4, 1], 3), [2, 4, 4, 1]) as tf.Tensor4D;
    await expectSameGradients(
      [[3, 3, 1, 2]],
      (k) => conv3x3(tf, x(), k as tf.Tensor4D, 'weights'),
      (k) => tf.conv2d(x(), k as tf.Tensor4D, 1, 'same'),
    );
  });

  it('skips the gradient of an input that needs none', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(random([2, 3], 1), [2, 3]) as tf.Tensor2D;
    const w = tf.tensor(random([3, 2], 2), [3, 2]);
    const grads = tf.grads((weight: tf.Tensor) => tf.sum(linear(tf, x, weight as tf.Tensor2D, 'weights')))([w]);
    expect(Array.from(grads[0]?.dataSync() ?? [])).toEqual(
      Array.from(tf.matMul(tf.transpose(x), tf.ones([2, 2])).dataSync()),
    );
  });
});
