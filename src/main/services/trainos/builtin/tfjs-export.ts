import type { Graph, Initializer, Node } from '#platform/builtin-training/onnx';
import { PREPROCESSING_METADATA_KEY } from '#platform/builtin-training/preprocessing';
import { AppError } from '#shared/errors';
import { decodeBuiltinGraph } from './onnx-read';

/** The files of a TF.js graph model, as `tensorflowjs_converter` writes them: `model.json` and one weight shard. */
export interface TfjsModelFiles {
  modelJson: string;
  /** `group1-shard1of1.bin`: every constant of the graph, in the manifest's order. */
  weights: Uint8Array;
}

export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';

type TfDtype = 'DT_FLOAT' | 'DT_INT32';
type Attr =
  | { type: TfDtype }
  | { shape: TfShape }
  | { list: { i: string[] } }
  | { s: string }
  | { f: number }
  | { b: boolean }
  | { i: string }
  | { tensor: { dtype: TfDtype; tensorShape: TfShape } };
interface TfShape {
  dim?: { size: string }[];
}
interface TfNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, Attr>;
}

const tfShape = (dims: readonly (number | string)[]): TfShape =>
  dims.length === 0 ? {} : { dim: dims.map((d) => ({ size: String(typeof d === 'number' ? d : -1) })) };
const ints = (values: number[]): Attr => ({ list: { i: values.map(String) } });
const text = (value: string): Attr => ({ s: Buffer.from(value).toString('base64') });

/**
 * The built-in trainer's ONNX model as a TF.js graph model that computes the same: the same input and output
 * names, dtypes and shapes (token ids as int32: TF.js has no int64), the same preprocessing steps inside the graph
 * (tabular imputation and scaling), the same weights. Image models take NCHW like the ONNX model; the graph moves
 * them to NHWC once (TF.js's convolutions are NHWC) and the ONNX graph's own NCHW→NHWC transpose before its
 * dense layers becomes a no-op. Refuses (INVALID_ARGUMENT) an operator the built-in trainers do not write.
 */
export function tfjsGraphModelFromOnnx(onnx: Uint8Array, preprocessing: unknown): TfjsModelFiles {
  const graph = decodeBuiltinGraph(onnx);
  const out = new GraphWriter(graph);
  for (const input of graph.inputs) out.input(input.name, input.elemType === 7 ? 'DT_INT32' : 'DT_FLOAT', input.shape);
  for (const node of graph.nodes) out.node(node);
  const signature = (infos: Graph['inputs']) =>
    Object.fromEntries(
      infos.map((i) => [
        i.name,
        { name: `${i.name}:0`, dtype: i.elemType === 7 ? 'DT_INT32' : 'DT_FLOAT', tensorShape: tfShape(i.shape) },
      ]),
    );
  const model = {
    format: 'graph-model',
    generatedBy: 'aidos-builtin-trainer',
    convertedBy: 'AI-DOS TrainOS (from its ONNX export)',
    modelTopology: { node: out.nodes, library: {}, versions: { producer: 1 } },
    signature: { inputs: signature(graph.inputs), outputs: signature(graph.outputs) },
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: out.manifest }],
    // The same preprocessing the ONNX model carries in its metadata: how to feed it from rows, images or text.
    userDefinedMetadata: { [PREPROCESSING_METADATA_KEY]: preprocessing },
  };
  return { modelJson: `${JSON.stringify(model)}\n`, weights: out.weights() };
}

class GraphWriter {
  readonly nodes: TfNode[] = [];
  readonly manifest: { name: string; shape: number[]; dtype: 'float32' | 'int32' }[] = [];
  private readonly chunks: Uint8Array[] = [];
  private readonly initializers: Map<string, Initializer>;
  /** ONNX values held as NHWC in the TF graph (their ONNX layout is NCHW): the name they have there. */
  private readonly nhwc = new Map<string, string>();
  /** ONNX value → TF node name (the same, but for values held in another layout). */
  private readonly names = new Map<string, string>();
  private counter = 0;

  constructor(private readonly graph: Graph) {
    this.initializers = new Map(graph.initializers.map((i) => [i.name, i]));
  }

  weights(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  private add(name: string, op: string, input: string[], attr: Record<string, Attr> = {}): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  private fresh(base: string): string {
    return `${base}/aidos_${this.counter++}`;
  }

  /** A constant from the weight shard. */
  private constant(name: string, dims: number[], data: Float32Array | Int32Array): string {
    const dtype: TfDtype = data instanceof Float32Array ? 'DT_FLOAT' : 'DT_INT32';
    this.manifest.push({ name, shape: dims, dtype: dtype === 'DT_FLOAT' ? 'float32' : 'int32' });
    this.chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return this.add(name, 'Const', [], {
      value: { tensor: { dtype, tensorShape: tfShape(dims) } },
      dtype: { type: dtype },
    });
  }

  private ints(values: number[]): string {
    return this.constant(this.fresh('const'), [values.length], Int32Array.from(values));
  }

  input(name: string, dtype: TfDtype, shape: (number | string)[]): void {
    this.add(name, 'Placeholder', [], { dtype: { type: dtype }, shape: { shape: tfShape(shape) } });
    if (shape.length === 4)
      this.nhwc.set(name, this.add(this.fresh(name), 'Transpose', [name, this.ints([0, 2, 3, 1])]));
  }

  /** The TF node for an ONNX value (an initializer becomes a constant on first use). */
  private value(name: string): string {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    const init = this.initializers.get(name);
    if (init) {
      const data = init.data instanceof BigInt64Array ? Int32Array.from(init.data, Number) : init.data;
      this.names.set(name, this.constant(name, init.dims, data));
      return name;
    }
    return name;
  }

  private layoutOf(name: string): string {
    const held = this.nhwc.get(name);
    if (held === undefined) throw unsupported(`'${name}' is expected in the NHWC layout here`);
    return held;
  }

  private initializer(name: string | undefined): Initializer {
    const init = name === undefined ? undefined : this.initializers.get(name);
    if (!init) throw unsupported(`'${name}' is expected to be a constant`);
    return init;
  }

  node(n: Node): void {
    const [a, b] = n.inputs;
    const output = n.outputs[0] as string;
    const attrs = n.attributes ?? {};
    const binary: Record<string, string> = {
      Sub: 'Sub',
      Div: 'RealDiv',
      Mul: 'Mul',
      Add: 'AddV2',
      Max: 'Maximum',
      Greater: 'Greater',
    };
    const nchw = (op: string, input: string[], attr: Record<string, Attr>) =>
      this.nhwc.set(output, this.add(output, op, input, attr));
    switch (n.op) {
      case 'IsNaN':
        this.add(output, 'IsNan', [this.value(a as string)]);
        return;
      case 'Where':
        this.add(
          output,
          'SelectV2',
          n.inputs.map((i) => this.value(i)),
        );
        return;
      case 'Relu':
        if (this.nhwc.has(a as string)) nchw('Relu', [this.layoutOf(a as string)], {});
        else this.add(output, 'Relu', [this.value(a as string)]);
        return;
      case 'Gemm': {
        const product = this.add(this.fresh(output), 'MatMul', [this.value(a as string), this.value(b as string)], {
          transpose_a: { b: false },
          transpose_b: { b: false },
        });
        this.add(output, 'AddV2', [product, this.value(n.inputs[2] as string)]);
        return;
      }
      case 'Softmax':
        this.add(output, 'Softmax', [this.value(a as string)]);
        return;
      case 'Gather':
        this.add(output, 'GatherV2', [this.value(a as string), this.value(b as string), this.ints([0])], {
          batch_dims: { i: '0' },
        });
        return;
      case 'ReduceSum':
        this.add(output, 'Sum', [this.value(a as string), this.value(b as string)], {
          keep_dims: { b: attrs.keepdims !== 0 },
        });
        return;
      case 'Cast':
        this.add(output, 'Cast', [this.value(a as string)], { DstT: { type: 'DT_FLOAT' } });
        return;
      case 'Conv': {
        // ONNX kernels are [out, in, dy, dx]; TF's [dy, dx, in, out].
        const kernel = this.initializer(b);
        const [cout, cin, kh, kw] = kernel.dims as [number, number, number, number];
        const src = kernel.data as Float32Array;
        const hwio = new Float32Array(src.length);
        for (let f = 0; f < cout; f++)
          for (let c = 0; c < cin; c++)
            for (let dy = 0; dy < kh; dy++)
              for (let dx = 0; dx < kw; dx++)
                hwio[((dy * kw + dx) * cin + c) * cout + f] = src[((f * cin + c) * kh + dy) * kw + dx] as number;
        const pads = attrs.pads as number[] | undefined;
        if (kh !== 3 || kw !== 3 || pads?.some((p) => p !== 1)) throw unsupported('a Conv other than 3x3 "same"');
        const k = this.constant(`${b}/hwio`, [kh, kw, cin, cout], hwio);
        nchw('Conv2D', [this.layoutOf(a as string), k], {
          strides: ints([1, 1, 1, 1]),
          dilations: ints([1, 1, 1, 1]),
          padding: text('SAME'),
          data_format: text('NHWC'),
        });
        return;
      }
      case 'BatchNormalization':
        nchw('FusedBatchNormV3', [this.layoutOf(a as string), ...n.inputs.slice(1).map((i) => this.value(i))], {
          epsilon: { f: (attrs.epsilon as { float: number } | undefined)?.float ?? 1e-5 },
          data_format: text('NHWC'),
        });
        return;
      case 'MaxPool': {
        const [kh, kw] = attrs.kernel_shape as [number, number];
        const [sh, sw] = attrs.strides as [number, number];
        nchw('MaxPool', [this.layoutOf(a as string)], {
          ksize: ints([1, kh, kw, 1]),
          strides: ints([1, sh, sw, 1]),
          padding: text('VALID'),
          data_format: text('NHWC'),
        });
        return;
      }
      case 'Transpose': {
        // NCHW → NHWC: what the TF graph holds already.
        if ((attrs.perm as number[]).join() !== '0,2,3,1') throw unsupported('a Transpose other than NCHW → NHWC');
        this.names.set(output, this.layoutOf(a as string));
        return;
      }
      case 'Flatten': {
        // Into the dense layer that reads it: its kernel's rows are the flattened size.
        const reader = this.graph.nodes.find((m) => m.op === 'Gemm' && m.inputs[0] === output);
        const rows = this.initializer(reader?.inputs[1]).dims[0] as number;
        this.add(output, 'Reshape', [this.value(a as string), this.ints([-1, rows])]);
        return;
      }
      default: {
        const op = binary[n.op];
        if (!op) throw unsupported(`the ONNX operator ${n.op}`);
        this.add(output, op, [this.value(a as string), this.value(b as string)]);
      }
    }
  }
}

function unsupported(what: string): AppError {
  return new AppError('INVALID_ARGUMENT', `the TF.js export does not handle ${what}`);
}
