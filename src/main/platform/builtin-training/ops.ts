import type * as tfjs from '@tensorflow/tfjs';

type Tf = typeof tfjs;

/**
 * Layers with hand-written gradients, for the wasm backend: its matMul with a transposed operand (what TF.js's
 * own gradients use) takes a slow path, about 9 times slower than an explicit transpose and a plain matMul, and it
 * has no Conv2DBackpropFilter kernel at all.
 */

type Save = (tensors: tfjs.Tensor[]) => void;

/**
 * Which gradients a layer computes: none (inference: plain ops, nothing saved for a backward pass that never
 * comes), its weights' only (its input is the network's input), or all.
 */
export type Gradients = 'none' | 'weights' | 'all';

/** `x · w`. */
export function linear(tf: Tf, x: tfjs.Tensor2D, w: tfjs.Tensor2D, gradients: Gradients): tfjs.Tensor2D {
  if (gradients === 'none') return tf.matMul(x, w);
  // What the backward pass reads must be saved: the forward pass's intermediate tensors are gone by then.
  if (gradients === 'weights') {
    return tf.customGrad((weight, save) => {
      (save as Save)([x]);
      return {
        value: tf.matMul(x, weight as tfjs.Tensor2D),
        gradFunc: (dy, [input]) => tf.matMul(tf.transpose(input as tfjs.Tensor2D), dy as tfjs.Tensor2D),
      };
    })(w) as tfjs.Tensor2D;
  }
  return tf.customGrad((input, weight, save) => {
    (save as Save)([input as tfjs.Tensor, weight as tfjs.Tensor]);
    return {
      value: tf.matMul(input as tfjs.Tensor2D, weight as tfjs.Tensor2D),
      gradFunc: (dy, [a, b]) => [
        tf.matMul(dy as tfjs.Tensor2D, tf.transpose(b as tfjs.Tensor2D)),
        tf.matMul(tf.transpose(a as tfjs.Tensor2D), dy as tfjs.Tensor2D),
      ],
    };
  })(x, w) as tfjs.Tensor2D;
}

/**
 * A dense layer, `x · w + b` with an optional ReLU, as one fused kernel forward and a hand-written backward pass
 * (three kernels forward and their gradients otherwise).
 */
export function dense(
  tf: Tf,
  x: tfjs.Tensor2D,
  w: tfjs.Tensor2D,
  b: tfjs.Tensor1D,
  relu: boolean,
  gradients: Gradients,
): tfjs.Tensor2D {
  const activation = relu ? 'relu' : 'linear';
  if (gradients === 'none') return tf.fused.matMul({ a: x, b: w, bias: b, activation }) as tfjs.Tensor2D;
  const backward = (dy: tfjs.Tensor2D, input: tfjs.Tensor2D, weight: tfjs.Tensor2D, output: tfjs.Tensor2D) => {
    // Through the ReLU: where it passed the value on.
    const dz: tfjs.Tensor2D = relu ? tf.mul(dy, tf.step(output)) : dy;
    return {
      dx: tf.matMul(dz, tf.transpose(weight)),
      dw: tf.matMul(tf.transpose(input), dz),
      db: columnSums(tf, dz),
    };
  };
  if (gradients === 'weights') {
    return tf.customGrad((weight, bias, save) => {
      const value = tf.fused.matMul({ a: x, b: weight as tfjs.Tensor2D, bias: bias as tfjs.Tensor, activation });
      (save as Save)([x, weight as tfjs.Tensor, value]);
      return {
        value,
        gradFunc: (dy, [input, wt, out]) => {
          const { dw, db } = backward(
            dy as tfjs.Tensor2D,
            input as tfjs.Tensor2D,
            wt as tfjs.Tensor2D,
            out as tfjs.Tensor2D,
          );
          return [dw, db];
        },
      };
    })(w, b) as tfjs.Tensor2D;
  }
  return tf.customGrad((input, weight, bias, save) => {
    const value = tf.fused.matMul({
      a: input as tfjs.Tensor2D,
      b: weight as tfjs.Tensor2D,
      bias: bias as tfjs.Tensor,
      activation,
    });
    (save as Save)([input as tfjs.Tensor, weight as tfjs.Tensor, value]);
    return {
      value,
      gradFunc: (dy, [inp, wt, out]) => {
        const { dx, dw, db } = backward(
          dy as tfjs.Tensor2D,
          inp as tfjs.Tensor2D,
          wt as tfjs.Tensor2D,
          out as tfjs.Tensor2D,
        );
        return [dx, dw, db];
      },
    };
  })(x, w, b) as tfjs.Tensor2D;
}

/**
 * Mean softmax cross-entropy of logits [batch, classes] against one-hot targets, with the gradient in closed form
 * ((softmax - target) / batch) instead of through logSoftmax's parts.
 */
export function softmaxCrossEntropy(tf: Tf, logits: tfjs.Tensor2D, oneHot: tfjs.Tensor2D): tfjs.Scalar {
  const batch = logits.shape[0];
  return tf.customGrad((z, save) => {
    (save as Save)([z as tfjs.Tensor, oneHot]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(z as tfjs.Tensor2D)))), batch) as tfjs.Scalar,
      gradFunc: (dy, [logitsSaved, target]) =>
        tf.mul(tf.sub(tf.softmax(logitsSaved as tfjs.Tensor2D), target as tfjs.Tensor), tf.div(dy, batch)),
    };
  })(logits) as tfjs.Scalar;
}

/** The gradient of a 3x3 same-padded convolution's kernel [3, 3, in, out], as one convolution over the batch. */
function kernelGrad(tf: Tf, x: tfjs.Tensor4D, dy: tfjs.Tensor4D): tfjs.Tensor4D {
  // dK[a, b, i, o] = Σ_n,y,x xpad[n, y + a, x + b, i] · dy[n, y, x, o]: a valid convolution of the padded input
  // with batch and channels swapped, by dy as the kernel.
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const swapped = tf.transpose(padded, [3, 1, 2, 0]);
  const filter = tf.transpose(dy, [1, 2, 0, 3]);
  return tf.transpose(tf.conv2d(swapped, filter, 1, 'valid'), [1, 2, 0, 3]);
}

/** The gradient of the input: the same convolution of dy with the kernel rotated by 180° and in/out swapped. */
function inputGrad(tf: Tf, kernel: tfjs.Tensor4D, dy: tfjs.Tensor4D): tfjs.Tensor4D {
  return tf.conv2d(dy, tf.reverse(tf.transpose(kernel, [0, 1, 3, 2]), [0, 1]), 1, 'same');
}

/** A 3x3 convolution, stride 1, same padding, NHWC, kernel [3, 3, in, out]. */
export function conv3x3(tf: Tf, x: tfjs.Tensor4D, kernel: tfjs.Tensor4D, gradients: Gradients): tfjs.Tensor4D {
  if (gradients === 'none') return tf.conv2d(x, kernel, 1, 'same');
  if (gradients === 'weights') {
    return tf.customGrad((k, save) => {
      (save as Save)([x]);
      return {
        value: tf.conv2d(x, k as tfjs.Tensor4D, 1, 'same'),
        gradFunc: (dy, [input]) => kernelGrad(tf, input as tfjs.Tensor4D, dy as tfjs.Tensor4D),
      };
    })(kernel) as tfjs.Tensor4D;
  }
  return tf.customGrad((input, k, save) => {
    (save as Save)([input as tfjs.Tensor, k as tfjs.Tensor]);
    return {
      value: tf.conv2d(input as tfjs.Tensor4D, k as tfjs.Tensor4D, 1, 'same'),
      gradFunc: (dy, [a, b]) => [
        inputGrad(tf, b as tfjs.Tensor4D, dy as tfjs.Tensor4D),
        kernelGrad(tf, a as tfjs.Tensor4D, dy as tfjs.Tensor4D),
      ],
    };
  })(x, kernel) as tfjs.Tensor4D;
}

/** Sums over the rows of [rows, columns] as a matMul with ones: the wasm backend's reductions over a leading axis transpose first and are much slower. */
function columnSums(tf: Tf, m: tfjs.Tensor2D): tfjs.Tensor1D {
  return tf.reshape(tf.matMul(tf.ones([1, m.shape[0]]), m), [m.shape[1]]);
}

/**
 * Batch normalisation with the batch's own moments (training mode) over NHWC, per channel, with the textbook
 * gradient: TF.js's own (through moments and batchNorm) tiles, broadcasts and reduces over leading axes, several
 * times slower. Returns the output and the batch's mean and (biased) variance.
 */
export function batchNormTraining(
  tf: Tf,
  x: tfjs.Tensor4D,
  gamma: tfjs.Tensor1D,
  beta: tfjs.Tensor1D,
  epsilon: number,
): { y: tfjs.Tensor4D; mean: tfjs.Tensor1D; variance: tfjs.Tensor1D } {
  const channels = x.shape[3];
  const count = x.size / channels;
  const flat = tf.reshape(x, [count, channels]) as tfjs.Tensor2D;
  const mean = tf.div(columnSums(tf, flat), count) as tfjs.Tensor1D;
  const centred = tf.sub(flat, mean) as tfjs.Tensor2D;
  const variance = tf.div(columnSums(tf, tf.square(centred)), count) as tfjs.Tensor1D;
  const y = tf.customGrad((_input, g, b, save) => {
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalised = tf.mul(centred, inverseStd);
    (save as Save)([normalised, inverseStd, g as tfjs.Tensor]);
    return {
      value: tf.reshape(tf.add(tf.mul(normalised, g as tfjs.Tensor), b as tfjs.Tensor), x.shape),
      gradFunc: (dy, [xhat, inv, scale]) => {
        const d = tf.reshape(dy, [count, channels]) as tfjs.Tensor2D;
        const sumDy = columnSums(tf, d);
        const sumDyXhat = columnSums(tf, tf.mul(d, xhat as tfjs.Tensor2D));
        // dx = γ / (m σ) · (m dy − Σdy − x̂ Σ(dy x̂))
        const dx = tf.mul(
          tf.sub(tf.sub(tf.mul(d, count), sumDy), tf.mul(xhat as tfjs.Tensor, sumDyXhat)),
          tf.div(tf.mul(scale as tfjs.Tensor, inv as tfjs.Tensor), count),
        );
        return [tf.reshape(dx, x.shape), sumDyXhat, sumDy];
      },
    };
  })(x, gamma, beta) as tfjs.Tensor4D;
  return { y, mean, variance };
}
