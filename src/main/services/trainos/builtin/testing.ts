import * as ort from 'onnxruntime-node';
import { encodeTableRows } from '#platform/builtin-training/tabular';
import { readTableFile } from '#platform/builtin-training/tables';
import { loadCheckpointModel } from '#platform/builtin-training/train';
import { fixturePath } from '#platform/testing';
import type { Preprocessing, TabularPreprocessing, TrainerIo, TrainerResult } from './trainer';

// Helpers of the built-in trainers' tests: recording a run's io, and checking an ONNX export against TF.js.

/** What a run reported through its io. */
export interface Recorded {
  io: TrainerIo;
  epochs: { epoch: number; metrics: Record<string, number> }[];
  checkpoints: Map<number, Uint8Array>;
  logs: string[];
}

export function recorder(): Recorded {
  const recorded: Recorded = {
    epochs: [],
    checkpoints: new Map(),
    logs: [],
    io: {
      log: (message) => recorded.logs.push(message),
      epochEnd: async (epoch, metrics) => {
        recorded.epochs.push({ epoch, metrics });
      },
      checkpoint: async (epoch, state) => {
        recorded.checkpoints.set(epoch, state);
      },
    },
  };
  return recorded;
}

/** The ONNX model's output in onnxruntime for one input tensor. */
export async function runOnnx(
  onnx: Uint8Array,
  pre: Preprocessing,
  data: Float32Array | BigInt64Array,
  dims: number[],
): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx);
  try {
    const input = new ort.Tensor(pre.input.dtype, data, dims);
    const outputs = await session.run({ [pre.input.name]: input });
    return outputs[pre.output.name]?.data as Float32Array;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`outputs of ${a.length} and ${b.length} values`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/**
 * Runs the same input through the ONNX export (onnxruntime) and the trained TF.js network (the last checkpoint's
 * best weights, which the export was made from); returns both outputs and their largest difference.
 */
export async function compareExport(
  result: TrainerResult,
  recorded: Recorded,
  data: Float32Array | BigInt64Array,
  dims: number[],
): Promise<{ onnx: Float32Array; tfjs: Float32Array; diff: number }> {
  const onnx = await runOnnx(result.onnx, result.preprocessing, data, dims);
  const last = recorded.checkpoints.get(Math.max(...recorded.checkpoints.keys())) as Uint8Array;
  const model = await loadCheckpointModel(last);
  try {
    const tfjs = await model.predict(data, dims);
    return { onnx, tfjs, diff: maxAbsDiff(onnx, tfjs) };
  } finally {
    model.dispose();
  }
}

export function argMaxRows(values: Float32Array, columns: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / columns; r++) {
    let best = 0;
    for (let c = 1; c < columns; c++)
      if ((values[r * columns + c] as number) > (values[r * columns + best] as number)) best = c;
    out.push(best);
  }
  return out;
}

export function tableInput(
  pre: TabularPreprocessing,
  file: string,
): { data: Float32Array; dims: number[]; labels: string[] } {
  const table = readTableFile(fixturePath('data', file));
  const target = table.columns.indexOf(pre.target);
  return {
    data: encodeTableRows(pre, table, table.rows),
    dims: [table.rows.length, pre.inputSize],
    labels: table.rows.map((r) => r[target] as string),
  };
}
