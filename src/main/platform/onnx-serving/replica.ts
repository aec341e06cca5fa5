import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromReplica, ReplicaInit, ToReplica } from './protocol';
import { serveSharedSlot } from './shared-slot';
import {
  allocateValues,
  elementCount,
  isTensorDtype,
  type TensorData,
  type TensorDtype,
  type TensorValues,
} from './tensors';

/**
 * The loop of one ONNX replica thread: creates the `InferenceSession` named by `workerData` (CPU, or CUDA when
 * the device is 'gpu'), says 'ready' (or 'load-failed' and exits), then runs each batch it is sent, one at a time
 * (the core sends the next only after the answer), by message or through its shared slot (small batches).
 */
export async function serveOnnxReplica(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('an ONNX replica runs in a worker thread');
  const init = workerData as ReplicaInit;
  const send = (message: FromReplica) => port.postMessage(message);
  let session: ort.InferenceSession;
  const started = performance.now();
  try {
    session = await createSession(init);
  } catch (err) {
    send({ kind: 'load-failed', ...loadError(init, err) });
    port.close();
    return;
  }
  await warmUp(session);
  send({
    kind: 'ready',
    loadMs: performance.now() - started,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
  });
  port.on('message', (message: ToReplica) => {
    void run(session, message).then(send);
  });
  if (init.slot) void serveSharedSlot(init.slot, (request) => run(session, request), send);
}

function createSession(init: ReplicaInit): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(init.file, {
    executionProviders: [init.device === 'gpu' ? 'cuda' : 'cpu'],
    intraOpNumThreads: init.intraOpNumThreads,
    interOpNumThreads: init.interOpNumThreads,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Fatal only: a failed run is answered to its client (and logged by the service), not written to stderr.
    logSeverityLevel: 4,
  });
}

/**
 * One run on zeros (dynamic dimensions as 1) before the replica says it is ready, so the first request does not pay
 * for onnxruntime's first-run allocations (several ms). Skipped when an input's shape is not fully known; a model
 * that refuses zeros simply starts cold.
 */
async function warmUp(session: ort.InferenceSession): Promise<void> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor || meta.shape.length === 0 || !isTensorDtype(meta.type)) return;
    const dims = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    feeds[meta.name] = new ort.Tensor(
      meta.type,
      allocateValues(meta.type, elementCount(dims)) as ort.Tensor.DataType,
      dims,
    );
  }
  try {
    await session.run(feeds);
  } catch {
    // Started cold: the first request will tell the client what the model thinks of its inputs.
  }
}

function loadError(init: ReplicaInit, err: unknown): { code: string; message: string } {
  const text = err instanceof Error ? err.message : String(err);
  if (init.device === 'gpu' && /cuda|providers_shared|shared library/i.test(text))
    return {
      code: 'FAILED_PRECONDITION',
      message:
        `device 'gpu': onnxruntime's CUDA execution provider could not be loaded (${text}); onnxruntime-node ` +
        'needs its CUDA binaries (installed without ONNXRUNTIME_NODE_INSTALL_CUDA=skip) and CUDA 12 with cuDNN 9. ' +
        "Use device 'cpu'",
    };
  return { code: 'FAILED_PRECONDITION', message: `onnxruntime cannot load '${init.file}': ${text}` };
}

async function run(session: ort.InferenceSession, message: ToReplica): Promise<FromReplica> {
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(message.feeds))
      feeds[name] = new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.dims);
    const started = performance.now();
    const results = message.outputs ? await session.run(feeds, message.outputs) : await session.run(feeds);
    const inferenceMs = performance.now() - started;
    const outputs: Record<string, TensorData> = {};
    for (const [name, value] of Object.entries(results))
      outputs[name] = { dtype: value.type as TensorDtype, dims: [...value.dims], data: value.data as TensorValues };
    return { kind: 'result', id: message.id, outputs, inferenceMs };
  } catch (err) {
    return {
      kind: 'error',
      id: message.id,
      code: 'INVALID_ARGUMENT',
      message: `onnxruntime could not run the model on these inputs: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
