import { AppError } from '#shared/errors';
import type { BuiltinTrainerKind } from './params';
import type { Preprocessing } from './preprocessing';

const MAGIC = 'AIDOSCK1';
export const CHECKPOINT_FORMAT = 'aidos.builtin-checkpoint/1';

/** Early stopping's memory: the best epoch so far (its weights are the checkpoint's `best/*` tensors). */
export interface EarlyStoppingState {
  /** Null before the first epoch. */
  bestLoss: number | null;
  bestEpoch: number;
  bestMetrics: Record<string, number>;
  epochsWithoutImprovement: number;
}

/** Everything a resumed run needs besides the tensors. */
export interface CheckpointHeader {
  format: typeof CHECKPOINT_FORMAT;
  kind: BuiltinTrainerKind;
  epoch: number;
  /** The parameters that shape the model and the data it saw; a resume with other values is refused. */
  fingerprint: Record<string, unknown>;
  /** Fitted on the first run's training split, reused as is. */
  preprocessing: Preprocessing;
  /** Adam's step count (its moments are the `adam_m/*`, `adam_v/*` tensors). */
  optimizerStep: number;
  earlyStopping: EarlyStoppingState;
}

interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements from the start of the data section. */
  offset: number;
}

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * A checkpoint: `AIDOSCK1`, the header's byte length (uint32 LE), the header as JSON (with the tensor table),
 * padding to 4 bytes, then the tensors as float32 little-endian.
 */
export function encodeCheckpoint(header: CheckpointHeader, tensors: Map<string, NamedTensor>): Uint8Array {
  const table: TensorEntry[] = [];
  let elements = 0;
  for (const [name, t] of tensors) {
    table.push({ name, shape: t.shape, offset: elements });
    elements += t.data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...header, tensors: table }));
  const dataStart = Math.ceil((MAGIC.length + 4 + json.length) / 4) * 4;
  const out = new Uint8Array(dataStart + elements * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(MAGIC.length, json.length, true);
  out.set(json, MAGIC.length + 4);
  let at = dataStart;
  for (const t of tensors.values()) {
    for (const v of t.data) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): { header: CheckpointHeader; tensors: Map<string, NamedTensor> } {
  const bad = (why: string) =>
    new AppError('INVALID_ARGUMENT', `the resume state is not a built-in trainer checkpoint: ${why}`);
  if (bytes.length < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC)
    throw bad('wrong magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + jsonLength > bytes.length) throw bad('truncated header');
  let parsed: CheckpointHeader & { tensors: TensorEntry[] };
  try {
    parsed = JSON.parse(
      new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + jsonLength)),
    ) as CheckpointHeader & {
      tensors: TensorEntry[];
    };
  } catch {
    throw bad('unreadable header');
  }
  if (parsed.format !== CHECKPOINT_FORMAT) throw bad(`format '${String(parsed.format)}'`);
  const dataStart = Math.ceil((MAGIC.length + 4 + jsonLength) / 4) * 4;
  const tensors = new Map<string, NamedTensor>();
  for (const entry of parsed.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const start = dataStart + entry.offset * 4;
    if (start + size * 4 > bytes.length) throw bad(`tensor '${entry.name}' is truncated`);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = view.getFloat32(start + i * 4, true);
    tensors.set(entry.name, { shape: entry.shape, data });
  }
  const { tensors: _table, ...header } = parsed;
  return { header, tensors };
}
