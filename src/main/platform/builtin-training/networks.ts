import type * as tfjs from '@tensorflow/tfjs';
import type { GraphBuilder } from './onnx';
import { batchNormTraining, conv3x3, dense, linear, type Gradients } from './ops';
import type { Random } from './rng';

type Tf = typeof tfjs;

/**
 * How a parameter starts: kernels Glorot uniform (Keras's default; He normal was tried and trained the MLP
 * slower: a final loss of 0.27 against 0.17 in bench/trainos-mlp.ts at batch 512), embeddings small uniform.
 */
export type Init = 'glorot-uniform' | 'embedding-uniform' | 'zeros' | 'ones';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
  /** False for batch-norm moving statistics: updated by the forward pass, not by the optimizer. */
  trainable: boolean;
}

/** The moments of one batch-norm layer in a training step, applied to its moving statistics afterwards. */
export interface BatchMoments {
  layer: string;
  mean: tfjs.Tensor;
  variance: tfjs.Tensor;
}

export type ForwardMode = { training: false } | { training: true; moments: BatchMoments[] };

export interface Network {
  params: ParamSpec[];
  /** The shape of one example as the TF.js graph takes it. */
  exampleShape: number[];
  /** Logits (classifiers) or the standardised value (regressor), [batch, outputs]. */
  forward(tf: Tf, weights: Record<string, tfjs.Tensor>, x: tfjs.Tensor, mode: ForwardMode): tfjs.Tensor;
  /** Adds the same computation to an ONNX graph (from the graph's input as that network expects it). */
  toOnnx(g: GraphBuilder, weights: Record<string, Float32Array>, input: string): string;
}

const BATCH_NORM_EPSILON = 1e-3;
const BATCH_NORM_MOMENTUM = 0.9;

export function initialValues(spec: ParamSpec, random: Random): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  // Kernels are [..., in, out] (dense [in, out], convolution [3, 3, in, out]); fans count the receptive field.
  const dims = spec.shape.length;
  const receptive = spec.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = dims > 1 ? receptive * (spec.shape[dims - 2] as number) : size;
  const fanOut = dims > 1 ? receptive * (spec.shape[dims - 1] as number) : size;
  switch (spec.init) {
    case 'glorot-uniform': {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (random() * 2 - 1) * limit;
      break;
    }
    case 'embedding-uniform':
      for (let i = 0; i < size; i++) values[i] = (random() * 2 - 1) * 0.05;
      break;
    case 'ones':
      values.fill(1);
      break;
    case 'zeros':
      break;
  }
  return values;
}

function param(weights: Record<string, tfjs.Tensor>, name: string): tfjs.Tensor {
  const w = weights[name];
  if (!w) throw new Error(`network parameter '${name}' is missing`);
  return w;
}

function array(weights: Record<string, Float32Array>, name: string): Float32Array {
  const w = weights[name];
  if (!w) throw new Error(`network parameter '${name}' is missing`);
  return w;
}

/** Dense layers: ReLU hidden layers, then a linear output layer. */
function denseStack(prefix: string, inputSize: number, hidden: number[], outputs: number): ParamSpec[] {
  const sizes = [inputSize, ...hidden, outputs];
  return sizes.slice(1).flatMap(
    (units, i) =>
      [
        { name: `${prefix}${i}/kernel`, shape: [sizes[i] as number, units], init: 'glorot-uniform', trainable: true },
        { name: `${prefix}${i}/bias`, shape: [units], init: 'zeros', trainable: true },
      ] satisfies ParamSpec[],
  );
}

/** Which gradients a layer needs in this pass: none when not training, no input gradient for the network's input. */
function gradientsOf(mode: ForwardMode, inputIsData: boolean): Gradients {
  return !mode.training ? 'none' : inputIsData ? 'weights' : 'all';
}

/** Dense layers on `x`; `inputIsData` when `x` is the network's input. */
function denseForward(
  tf: Tf,
  weights: Record<string, tfjs.Tensor>,
  prefix: string,
  layers: number,
  x: tfjs.Tensor,
  mode: ForwardMode,
  inputIsData: boolean,
): tfjs.Tensor {
  let h = x as tfjs.Tensor2D;
  for (let i = 0; i < layers; i++) {
    const kernel = param(weights, `${prefix}${i}/kernel`) as tfjs.Tensor2D;
    const bias = param(weights, `${prefix}${i}/bias`) as tfjs.Tensor1D;
    h = dense(tf, h, kernel, bias, i < layers - 1, gradientsOf(mode, inputIsData && i === 0));
  }
  return h;
}

function denseOnnx(
  g: GraphBuilder,
  weights: Record<string, Float32Array>,
  specs: ParamSpec[],
  prefix: string,
  layers: number,
  input: string,
): string {
  let h = input;
  for (let i = 0; i < layers; i++) {
    const kernel = specs.find((s) => s.name === `${prefix}${i}/kernel`) as ParamSpec;
    const w = g.constant(`${prefix}${i}.kernel`, kernel.shape, array(weights, kernel.name));
    const b = g.constant(`${prefix}${i}.bias`, [kernel.shape[1] as number], array(weights, `${prefix}${i}/bias`));
    h = g.op('Gemm', [h, w, b]);
    if (i < layers - 1) h = g.op('Relu', [h]);
  }
  return h;
}

/** An MLP over a feature vector that is already imputed and standardised. */
export function mlpNetwork(inputSize: number, hidden: number[], outputs: number): Network {
  const params = denseStack('dense', inputSize, hidden, outputs);
  const layers = hidden.length + 1;
  return {
    params,
    exampleShape: [inputSize],
    forward: (tf, weights, x, mode) => denseForward(tf, weights, 'dense', layers, x, mode, true),
    toOnnx: (g, weights, input) => denseOnnx(g, weights, params, 'dense', layers, input),
  };
}

/**
 * An embedding bag: the input is a bag of words [batch, vocabulary] whose row holds, for each known token, its
 * count divided by the row's number of known tokens; times the embedding table that is the mean of the tokens'
 * embeddings. (A gather would need UnsortedSegmentSum for its gradient, which the wasm backend lacks.) The ONNX
 * graph takes token ids instead and gathers: the same mean.
 */
export function embeddingBagNetwork(vocabulary: number, dim: number, hidden: number[], outputs: number): Network {
  const params: ParamSpec[] = [
    { name: 'embedding', shape: [vocabulary, dim], init: 'embedding-uniform', trainable: true },
    ...denseStack('dense', dim, hidden, outputs),
  ];
  const layers = hidden.length + 1;
  return {
    params,
    exampleShape: [vocabulary],
    forward: (tf, weights, x, mode) => {
      const embedding = param(weights, 'embedding') as tfjs.Tensor2D;
      const bag = linear(tf, x as tfjs.Tensor2D, embedding, gradientsOf(mode, true));
      return denseForward(tf, weights, 'dense', layers, bag, mode, false);
    },
    toOnnx: (g, weights, tokens) => {
      // Row 0 is the padding / unknown token: zeros, and not counted in the mean.
      const table = new Float32Array((vocabulary + 1) * dim);
      table.set(array(weights, 'embedding'), dim);
      const embeddings = g.op('Gather', [g.constant('embedding', [vocabulary + 1, dim], table), tokens], { axis: 0 });
      const axisOne = g.constant('axis_1', [1], BigInt64Array.from([1n]));
      const sum = g.op('ReduceSum', [embeddings, axisOne], { keepdims: 0 });
      const known = g.op('Cast', [g.op('Greater', [tokens, g.constant('pad_id', [], BigInt64Array.from([0n]))])], {
        to: 1,
      });
      const count = g.op('ReduceSum', [known, axisOne], { keepdims: 1 });
      const mean = g.op('Div', [sum, g.op('Max', [count, g.constant('one', [], Float32Array.from([1]))])]);
      return denseOnnx(g, weights, params, 'dense', layers, mean);
    },
  };
}

/**
 * A small CNN on NHWC images: blocks of 3x3 convolution (same padding, no bias: batch norm's offset is one),
 * batch norm, ReLU and 2x2 max pooling, then dense layers.
 */
export function cnnNetwork(
  height: number,
  width: number,
  channels: number,
  filters: number[],
  hidden: number[],
  outputs: number,
): Network {
  const blocks: { h: number; w: number; cin: number; cout: number }[] = [];
  let [h, w, c] = [height, width, channels];
  for (const f of filters) {
    blocks.push({ h, w, cin: c, cout: f });
    [h, w, c] = [Math.floor(h / 2), Math.floor(w / 2), f];
  }
  if (h < 1 || w < 1)
    throw new Error(`images of ${height}x${width} are too small for ${filters.length} pooling blocks`);
  const flat = h * w * c;
  const params: ParamSpec[] = [
    ...blocks.flatMap((b, k) => [
      { name: `conv${k}/kernel`, shape: [3, 3, b.cin, b.cout], init: 'glorot-uniform' as const, trainable: true },
      { name: `bn${k}/gamma`, shape: [b.cout], init: 'ones' as const, trainable: true },
      { name: `bn${k}/beta`, shape: [b.cout], init: 'zeros' as const, trainable: true },
      { name: `bn${k}/moving_mean`, shape: [b.cout], init: 'zeros' as const, trainable: false },
      { name: `bn${k}/moving_variance`, shape: [b.cout], init: 'ones' as const, trainable: false },
    ]),
    ...denseStack('dense', flat, hidden, outputs),
  ];
  const layers = hidden.length + 1;
  return {
    params,
    exampleShape: [height, width, channels],
    forward: (tf, weights, x, mode) => {
      let y = x as tfjs.Tensor4D;
      blocks.forEach((b, k) => {
        const conv = conv3x3(tf, y, param(weights, `conv${k}/kernel`) as tfjs.Tensor4D, gradientsOf(mode, k === 0));
        const gamma = param(weights, `bn${k}/gamma`) as tfjs.Tensor1D;
        const beta = param(weights, `bn${k}/beta`) as tfjs.Tensor1D;
        let normed: tfjs.Tensor4D;
        if (mode.training) {
          const bn = batchNormTraining(tf, conv, gamma, beta, BATCH_NORM_EPSILON);
          mode.moments.push({ layer: `bn${k}`, mean: tf.keep(bn.mean), variance: tf.keep(bn.variance) });
          normed = bn.y;
        } else {
          normed = tf.batchNorm(
            conv,
            param(weights, `bn${k}/moving_mean`) as tfjs.Tensor1D,
            param(weights, `bn${k}/moving_variance`) as tfjs.Tensor1D,
            beta,
            gamma,
            BATCH_NORM_EPSILON,
          );
        }
        y = tf.maxPool(tf.relu(normed) as tfjs.Tensor4D, 2, 2, 'valid') as tfjs.Tensor4D;
      });
      return denseForward(tf, weights, 'dense', layers, tf.reshape(y, [y.shape[0], flat]), mode, false);
    },
    toOnnx: (g, weights, image) => {
      let y = image;
      blocks.forEach((b, k) => {
        // TF.js kernels are [dy, dx, in, out]; ONNX wants [out, in, dy, dx].
        const kernel = array(weights, `conv${k}/kernel`);
        const onnxKernel = new Float32Array(kernel.length);
        for (let dy = 0; dy < 3; dy++)
          for (let dx = 0; dx < 3; dx++)
            for (let c = 0; c < b.cin; c++)
              for (let f = 0; f < b.cout; f++)
                onnxKernel[((f * b.cin + c) * 3 + dy) * 3 + dx] = kernel[
                  ((dy * 3 + dx) * b.cin + c) * b.cout + f
                ] as number;
        y = g.op('Conv', [y, g.constant(`conv${k}.kernel`, [b.cout, b.cin, 3, 3], onnxKernel)], {
          kernel_shape: [3, 3],
          pads: [1, 1, 1, 1],
          strides: [1, 1],
        });
        const bn = (name: string) => g.constant(`bn${k}.${name}`, [b.cout], array(weights, `bn${k}/${name}`));
        y = g.op('BatchNormalization', [y, bn('gamma'), bn('beta'), bn('moving_mean'), bn('moving_variance')], {
          epsilon: { float: BATCH_NORM_EPSILON },
        });
        y = g.op('MaxPool', [g.op('Relu', [y])], { kernel_shape: [2, 2], strides: [2, 2] });
      });
      // Flattened in TF.js's NHWC order, which the dense kernel was trained on.
      const nhwc = g.op('Transpose', [y], { perm: [0, 2, 3, 1] });
      return denseOnnx(g, weights, params, 'dense', layers, g.op('Flatten', [nhwc], { axis: 1 }));
    },
  };
}

/** Moves the moving statistics towards a training batch's moments (Keras's momentum convention). */
export function updateMovingStatistics(tf: Tf, weights: Record<string, tfjs.Variable>, moments: BatchMoments[]): void {
  tf.tidy(() => {
    for (const m of moments) {
      const mean = weights[`${m.layer}/moving_mean`] as tfjs.Variable;
      const variance = weights[`${m.layer}/moving_variance`] as tfjs.Variable;
      mean.assign(tf.add(tf.mul(mean, BATCH_NORM_MOMENTUM), tf.mul(m.mean, 1 - BATCH_NORM_MOMENTUM)));
      variance.assign(tf.add(tf.mul(variance, BATCH_NORM_MOMENTUM), tf.mul(m.variance, 1 - BATCH_NORM_MOMENTUM)));
    }
  });
  for (const m of moments) {
    m.mean.dispose();
    m.variance.dispose();
  }
}
