import { parentPort, workerData } from 'node:worker_threads';
import type * as tfjs from '@tensorflow/tfjs';
import { loadTf } from '#platform/builtin-training/backend';
import { isTensorDtype, type TensorData, type TensorValues } from '#platform/onnx-serving/tensors';
import { AppError } from '#shared/errors';
import { loadHandler } from './io';
import { readTfjsModelFiles } from './model-files';
import type { ReplicaRun } from '#platform/onnx-serving/protocol';
import type { FromTfjsReplica, TfjsReplicaInit, TfjsTensorSpec } from './protocol';

type Tf = typeof tfjs;

/** A loaded model as a replica serves it: its signature, and one run on tensors in its inputs' order. */
interface ServedModel {
  inputs: TfjsTensorSpec[];
  outputs: TfjsTensorSpec[];
  /** The outputs in `outputs` order. */
  run(feeds: tfjs.Tensor[]): Promise<tfjs.Tensor[]>;
}

/**
 * The loop of one TF.js replica thread: loads the `model.json` named by `workerData` from disk (a layers or a
 * graph model) on the best backend (#platform/builtin-training's: tfjs-node when installed, else wasm; cpu when
 * wasm cannot start), says 'ready' with the model's signature (or 'load-failed' and exits), then runs each batch
 * it is sent, one at a time (the core sends the next only after the answer).
 */
export async function serveTfjsReplica(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('a TF.js replica runs in a worker thread');
  const init = workerData as TfjsReplicaInit;
  const send = (message: FromTfjsReplica) => port.postMessage(message);
  const started = performance.now();
  let tf: Tf;
  let backend: string;
  let model: ServedModel;
  try {
    ({ tf, backend } = await startTf());
    const { kind } = await readTfjsModelFiles(init.file);
    model = kind === 'graph-model' ? await loadGraph(tf, init.file) : await loadLayers(tf, init.file);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    send({
      kind: 'load-failed',
      code: err instanceof AppError ? err.code : 'FAILED_PRECONDITION',
      message: err instanceof AppError ? text : `TF.js cannot load '${init.file}': ${text}`,
    });
    port.close();
    return;
  }
  await warmUp(tf, model);
  const { inputs, outputs } = model;
  send({ kind: 'ready', loadMs: performance.now() - started, backend, inputs, outputs });
  port.on('message', (message: ReplicaRun) => {
    void run(tf, model, message).then(send);
  });
}

/**
 * One run on zeros (dynamic dims as 1) before the replica says it is ready, so the first request does not pay for
 * the backend's first use of each kernel (about 100 ms on wasm). A model that refuses zeros simply starts cold.
 */
async function warmUp(tf: Tf, model: ServedModel): Promise<void> {
  const feeds: tfjs.Tensor[] = [];
  try {
    for (const s of model.inputs)
      feeds.push(
        tf.zeros(
          s.shape.map((d) => d ?? 1),
          s.dtype as tfjs.DataType,
        ),
      );
    const results = await model.run(feeds);
    await Promise.all(results.map((r) => r.data()));
    tf.dispose(results);
  } catch {
    // Started cold: the first request will tell the client what the model thinks of its inputs.
  } finally {
    tf.dispose(feeds);
  }
}

/** TF.js on the best backend; the cpu backend when wasm (and tfjs-node) cannot start. */
async function startTf(): Promise<{ tf: Tf; backend: string }> {
  try {
    return await loadTf();
  } catch {
    const tf = await import('@tensorflow/tfjs');
    if (!(await tf.setBackend('cpu'))) throw new Error('neither the wasm nor the cpu backend of TF.js starts');
    return { tf, backend: 'cpu' };
  }
}

/**
 * A tf.LayersModel. Its inputs and outputs are served by their layers' names (a Sequential's `dense_input` and
 * `dense_2`), stable across loads unlike the symbolic tensors' own (`dense_2/dense_2`, uniquified per load); by the
 * tensor's name where one layer gives several of them.
 */
async function loadLayers(tf: Tf, file: string): Promise<ServedModel> {
  const model = await tf.loadLayersModel(loadHandler(tf, file));
  const specs = (role: 'input' | 'output', tensors: readonly tfjs.SymbolicTensor[]) => {
    const layers = tensors.map((t) => t.sourceLayer.name);
    return tensors.map((t, i) => {
      const layer = layers[i] as string;
      const name = layers.indexOf(layer) === layers.lastIndexOf(layer) ? layer : t.name;
      return spec(file, role, name, t.dtype, t.shape);
    });
  };
  return {
    inputs: specs('input', model.inputs),
    outputs: specs('output', model.outputs),
    run: (feeds) => {
      const predicted = model.predict(feeds.length === 1 ? (feeds[0] as tfjs.Tensor) : feeds);
      return Promise.resolve(Array.isArray(predicted) ? predicted : [predicted]);
    },
  };
}

/**
 * A tf.GraphModel (tensorflowjs_converter's output): inputs and outputs by its signature's names (node names
 * without one), -1 dims dynamic. A model converted without a signature does not say its outputs' dtypes and
 * shapes: they are found by running it on zeros twice, dynamic dims as 1 and as 2 (a dim that follows is dynamic).
 * It runs with `execute`, or `executeAsync` once `execute` says the graph needs it (control flow, dynamic shapes).
 */
async function loadGraph(tf: Tf, file: string): Promise<ServedModel> {
  const model = await tf.loadGraphModel(loadHandler(tf, file));
  const inputs = model.inputs.map((info) =>
    spec(
      file,
      'input',
      info.name,
      info.dtype,
      (info.shape ?? []).map((d) => (d < 0 ? null : d)),
    ),
  );
  const outputNames = model.outputs.map((o) => o.name);
  let sync = true;
  const execute = async (feeds: tfjs.Tensor[]): Promise<tfjs.Tensor[]> => {
    const named: tfjs.NamedTensorMap = {};
    inputs.forEach((s, i) => (named[s.name] = feeds[i] as tfjs.Tensor));
    let result: tfjs.Tensor | tfjs.Tensor[] | undefined;
    if (sync) {
      try {
        result = model.execute(named, outputNames);
      } catch (err) {
        if (!/executeAsync/.test(err instanceof Error ? err.message : String(err))) throw err;
        sync = false;
      }
    }
    result ??= await model.executeAsync(named, outputNames);
    return Array.isArray(result) ? result : [result];
  };
  let outputs: TfjsTensorSpec[];
  if (model.outputs.every((o) => o.dtype && o.shape)) {
    outputs = model.outputs.map((o) =>
      spec(
        file,
        'output',
        o.name,
        o.dtype,
        (o.shape ?? []).map((d) => (d < 0 ? null : d)),
      ),
    );
  } else {
    const probe = async (rows: number) => {
      const feeds = inputs.map((s) =>
        tf.zeros(
          s.shape.map((d) => d ?? rows),
          s.dtype as tfjs.DataType,
        ),
      );
      const results = await execute(feeds);
      const found = results.map((r) => ({ dtype: r.dtype as string, shape: [...r.shape] }));
      tf.dispose([...feeds, ...results]);
      return found;
    };
    const [one, two] = [await probe(1), await probe(2)];
    outputs = outputNames.map((name, i) => {
      const a = one[i] as { dtype: string; shape: number[] };
      const b = two[i] as { dtype: string; shape: number[] };
      return spec(
        file,
        'output',
        name,
        a.dtype,
        a.shape.map((d, k) => (d === b.shape[k] ? d : null)),
      );
    });
  }
  return { inputs, outputs, run: execute };
}

/** A model input or output as served: TF.js's dtype (float32, int32, bool, string) and shape, null dims dynamic. */
function spec(
  file: string,
  role: 'input' | 'output',
  name: string,
  dtype: string,
  shape: (number | null)[],
): TfjsTensorSpec {
  if (!isTensorDtype(dtype))
    throw new AppError(
      'FAILED_PRECONDITION',
      `TF.js model '${file}': ${role} '${name}' is of type ${dtype}; float32, int32, bool and string tensors are served`,
    );
  return { name, dtype, shape: [...shape] };
}

async function run(tf: Tf, model: ServedModel, message: ReplicaRun): Promise<FromTfjsReplica> {
  const created: tfjs.Tensor[] = [];
  try {
    const feeds = model.inputs.map((s) => {
      const t = message.feeds[s.name] as TensorData;
      const tensor = tf.tensor(t.data as Float32Array, t.dims, t.dtype as tfjs.DataType);
      created.push(tensor);
      return tensor;
    });
    const started = performance.now();
    const results = await model.run(feeds);
    created.push(...results);
    const values = await Promise.all(results.map((r) => r.data()));
    const inferenceMs = performance.now() - started;
    const wanted = new Set(message.outputs ?? model.outputs.map((o) => o.name));
    const outputs: Record<string, TensorData> = {};
    model.outputs.forEach((o, i) => {
      const result = results[i];
      if (!result || !wanted.has(o.name)) return;
      outputs[o.name] = { dtype: o.dtype, dims: [...result.shape], data: values[i] as TensorValues };
    });
    return { kind: 'result', id: message.id, outputs, inferenceMs };
  } catch (err) {
    return {
      kind: 'error',
      id: message.id,
      code: 'INVALID_ARGUMENT',
      message: `TF.js could not run the model on these inputs: ${err instanceof Error ? err.message : String(err)}`,
    };
  } finally {
    for (const t of created) t.dispose();
  }
}
