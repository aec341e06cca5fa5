import { cnnNetwork, embeddingBagNetwork, mlpNetwork, type Network } from './networks';
import type { NamedTensor } from './checkpoint';
import { DataType, encodeModel, GraphBuilder } from './onnx';
import type { BuiltinTrainerParams } from './params';
import { PREPROCESSING_METADATA_KEY, type Preprocessing } from './preprocessing';
import { scalingVectors, standardiseInPlace } from './tabular';
import { fillBags } from './text';

/** The network's shape, kept in checkpoints so that a checkpoint alone rebuilds the model. */
export type Architecture =
  | { network: 'mlp'; inputSize: number; hidden: number[]; outputs: number }
  | {
      network: 'cnn';
      height: number;
      width: number;
      channels: number;
      filters: number[];
      hidden: number[];
      outputs: number;
    }
  | { network: 'embedding-bag'; vocabulary: number; dim: number; hidden: number[]; outputs: number };

export const DEFAULT_TABULAR_HIDDEN_UNITS = [64, 32];

export function architectureFor(params: BuiltinTrainerParams, pre: Preprocessing): Architecture {
  const outputs = pre.labels?.length ?? 1;
  switch (pre.kind) {
    case 'tabular-classifier':
    case 'tabular-regressor':
      return {
        network: 'mlp',
        inputSize: pre.inputSize,
        hidden: params.hiddenUnits ?? DEFAULT_TABULAR_HIDDEN_UNITS,
        outputs,
      };
    case 'image-classifier':
      return {
        network: 'cnn',
        height: pre.height,
        width: pre.width,
        channels: pre.channels,
        filters: params.convFilters,
        hidden: params.hiddenUnits ?? [],
        outputs,
      };
    case 'text-classifier':
      return {
        network: 'embedding-bag',
        vocabulary: pre.vocabulary.length,
        dim: params.embeddingDim,
        hidden: params.hiddenUnits ?? [],
        outputs,
      };
  }
}

export function networkOf(a: Architecture): Network {
  switch (a.network) {
    case 'mlp':
      return mlpNetwork(a.inputSize, a.hidden, a.outputs);
    case 'cnn':
      return cnnNetwork(a.height, a.width, a.channels, a.filters, a.hidden, a.outputs);
    case 'embedding-bag':
      return embeddingBagNetwork(a.vocabulary, a.dim, a.hidden, a.outputs);
  }
}

/**
 * The ONNX model: the preprocessing's input, the steps the server would otherwise have to repeat (tabular
 * imputation and scaling), the network, and the output (softmax probabilities, or the de-standardised value).
 */
export function exportOnnx(network: Network, pre: Preprocessing, weights: Map<string, NamedTensor>): Uint8Array {
  const g = new GraphBuilder();
  const arrays = Object.fromEntries([...weights].map(([name, t]) => [name, t.data]));
  let x = pre.input.name;
  if (pre.kind === 'tabular-classifier' || pre.kind === 'tabular-regressor') {
    const { mean, std } = scalingVectors(pre);
    const meanName = g.constant('feature_mean', [pre.inputSize], mean);
    const imputed = g.op('Where', [g.op('IsNaN', [x]), meanName, x]);
    x = g.op('Div', [g.op('Sub', [imputed, meanName]), g.constant('feature_std', [pre.inputSize], std)]);
  }
  const body = network.toOnnx(g, arrays, x);
  const out = pre.output.name;
  if (pre.labels) g.op('Softmax', [body], { axis: 1 }, out);
  else {
    const scaling = pre.kind === 'tabular-regressor' ? pre.targetScaling : null;
    const scaled = g.op('Mul', [body, g.constant('target_std', [1], Float32Array.from([scaling?.std ?? 1]))]);
    g.op('Add', [scaled, g.constant('target_mean', [1], Float32Array.from([scaling?.mean ?? 0]))], undefined, out);
  }
  const dtype = (d: 'float32' | 'int64') => (d === 'float32' ? DataType.FLOAT : DataType.INT64);
  return encodeModel(
    {
      name: pre.kind,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: pre.input.name, elemType: dtype(pre.input.dtype), shape: pre.input.shape }],
      outputs: [{ name: out, elemType: dtype(pre.output.dtype), shape: pre.output.shape }],
    },
    {
      producerVersion: '1',
      docString: `AI-DOS built-in ${pre.kind}`,
      metadata: { [PREPROCESSING_METADATA_KEY]: JSON.stringify(pre) },
    },
  );
}

/** The TF.js network's input for a batch of ONNX inputs (to compare the two on the same examples). */
export function tfjsInputFromOnnx(
  pre: Preprocessing,
  data: Float32Array | BigInt64Array,
  dims: number[],
): Float32Array {
  const count = dims[0] as number;
  switch (pre.kind) {
    case 'tabular-classifier':
    case 'tabular-regressor': {
      const copy = Float32Array.from(data as Float32Array);
      standardiseInPlace(pre, copy);
      return copy;
    }
    case 'image-classifier': {
      const plane = pre.height * pre.width;
      const out = new Float32Array(data.length);
      for (let n = 0; n < count; n++)
        for (let c = 0; c < pre.channels; c++)
          for (let p = 0; p < plane; p++)
            out[(n * plane + p) * pre.channels + c] = (data as Float32Array)[
              (n * pre.channels + c) * plane + p
            ] as number;
      return out;
    }
    case 'text-classifier': {
      const width = dims[1] as number;
      const rows = Array.from({ length: count }, (_, r) =>
        Array.from((data as BigInt64Array).subarray(r * width, (r + 1) * width), Number).filter((id) => id > 0),
      );
      const out = new Float32Array(count * pre.vocabulary.length);
      fillBags(rows, pre.vocabulary.length, out);
      return out;
    }
  }
}
