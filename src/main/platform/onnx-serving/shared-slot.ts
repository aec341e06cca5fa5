import type { FromReplica, ReplicaRun } from './protocol';
import { allocateValues, TENSOR_DTYPES, type TensorData, type TensorDtype, type TensorValues } from './tensors';

/**
 * A faster road than `postMessage` for small batches between the core's thread and one replica thread: one
 * SharedArrayBuffer per replica, into which the core writes a batch's tensors and the replica its outputs, each
 * side woken by `Atomics.notify` (and waiting with `Atomics.waitAsync`, so neither thread blocks and the replica's
 * message loop goes on as before). A `postMessage` round trip costs several times a small model's run (structured
 * clone, a message event on each side); this costs a copy into and out of shared memory. What does not fit (string
 * tensors, more than the slot holds, errors) goes by message, as it always did.
 *
 * Layout: Int32 words REQUEST (the core's request count), REPLY (the request count the replica last answered),
 * ANSWER (how: in the slot, or by message), RUN_ID (the pool's id of the run, for an answer by message); a Float64 with the run's time; then one frame (a request's feeds, or
 * a reply's outputs): a header of Int32 words and the tensors' bytes, each 8-aligned.
 */
export const SLOT_BYTES = 64 * 1024;

const REQUEST = 0;
const REPLY = 1;
const ANSWER = 2;
const RUN_ID = 3;
/** Bytes of the control words and the Float64 (run time). */
const CONTROL_BYTES = 16;
const HEADER_WORDS = 1024;
const DATA_START = CONTROL_BYTES + 8 + HEADER_WORDS * 4;

/** How the replica answered the last request. */
const IN_SLOT = 1;
const BY_MESSAGE = 2;

/** A frame: tensors by name, and (requests only) the outputs asked for, null for all. */
interface Frame {
  tensors: Record<string, TensorData>;
  outputs: string[] | null;
}

class SlotView {
  readonly control: Int32Array;
  readonly runMs: Float64Array;
  readonly header: Int32Array;
  readonly bytes: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.runMs = new Float64Array(buffer, CONTROL_BYTES, 1);
    this.header = new Int32Array(buffer, CONTROL_BYTES + 8, HEADER_WORDS);
    this.bytes = new Uint8Array(buffer);
  }

  /** Writes a frame; false (nothing usable written) when it does not fit. */
  write(frame: Frame): boolean {
    const { header, bytes } = this;
    let word = 0;
    let byte = DATA_START;
    const put = (value: number): boolean => {
      if (word >= HEADER_WORDS) return false;
      header[word++] = value;
      return true;
    };
    const putName = (name: string): boolean => {
      if (!put(name.length)) return false;
      for (let i = 0; i < name.length; i++) if (!put(name.charCodeAt(i))) return false;
      return true;
    };
    const entries = Object.entries(frame.tensors);
    put(entries.length);
    for (const [name, t] of entries) {
      if (t.dtype === 'string') return false;
      const data = t.data as Exclude<TensorValues, string[]>;
      const start = (byte + 7) & ~7;
      if (start + data.byteLength > SLOT_BYTES) return false;
      if (!putName(name) || !put(TENSOR_DTYPES.indexOf(t.dtype)) || !put(t.dims.length)) return false;
      for (const d of t.dims) if (!put(d)) return false;
      if (!put(start) || !put(data.length)) return false;
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start);
      byte = start + data.byteLength;
    }
    if (!put(frame.outputs ? frame.outputs.length : -1)) return false;
    for (const name of frame.outputs ?? []) if (!putName(name)) return false;
    return true;
  }

  /** Reads the frame written last, copying the tensors out of shared memory. */
  read(): Frame {
    const { header, buffer } = this;
    let word = 0;
    const next = () => header[word++] as number;
    const nextName = (): string => {
      const length = next();
      let name = '';
      for (let i = 0; i < length; i++) name += String.fromCharCode(next());
      return name;
    };
    const tensors: Record<string, TensorData> = {};
    for (let count = next(); count > 0; count--) {
      const name = nextName();
      const dtype = TENSOR_DTYPES[next()] as TensorDtype;
      const dims: number[] = [];
      for (let n = next(); n > 0; n--) dims.push(next());
      const start = next();
      const data = allocateValues(dtype, next()) as Exclude<TensorValues, string[]>;
      new Uint8Array(data.buffer).set(new Uint8Array(buffer, start, data.byteLength));
      tensors[name] = { dtype, dims, data };
    }
    const outputCount = next();
    const outputs = outputCount < 0 ? null : Array.from({ length: outputCount }, nextName);
    return { tensors, outputs };
  }
}

/** `Atomics.waitAsync` (Node ≥ 16), which TypeScript's lib declares only from es2024, later than this project's. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: false } | { async: true; value: Promise<unknown> };
  }
).waitAsync;

/** Resolves once `control[index]` is no longer `value` (undefined when it already is not). */
function changed(control: Int32Array, index: number, value: number): Promise<unknown> | undefined {
  const wait = waitAsync(control, index, value);
  return wait.async ? wait.value : undefined;
}

/** The core's end of a replica's slot: one request at a time, as the replica pool runs them. */
export class SharedSlot {
  private readonly view: SlotView;
  private requests = 0;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(SLOT_BYTES)) {
    this.view = new SlotView(buffer);
  }

  /**
   * Hands a batch to the replica: false when it does not fit (send it by message). Otherwise `reply` is called,
   * after this returns, with the outputs once the replica wrote them here, or with null when it answers by message
   * instead. With `spinMs`, this thread busy-waits up to that long for the answer before it returns (see
   * `TensorModelRuntime`'s spin budget): a thread that sleeps until the replica's notify wakes it pays that wake-up,
   * ~0.1 ms on a VM's vCPU, several times a small model's run. Only for a caller with nothing else to do meanwhile.
   */
  send(
    { id, feeds, outputs }: Omit<ReplicaRun, 'kind'>,
    reply: (result: { outputs: Record<string, TensorData>; inferenceMs: number } | null) => void,
    spinMs = 0,
  ): boolean {
    if (!this.view.write({ tensors: feeds, outputs })) return false;
    const { control } = this.view;
    const asked = ++this.requests;
    control[RUN_ID] = id;
    Atomics.store(control, REQUEST, asked);
    Atomics.notify(control, REQUEST);
    if (spinMs > 0) {
      const until = performance.now() + spinMs;
      while (Atomics.load(control, REPLY) !== asked && performance.now() < until) {
        // Busy: the answer is expected within microseconds.
      }
    }
    // Waits for REPLY to reach this request, not merely to move: after an answer by message the pool may send the
    // next request before the replica has announced that answer in REPLY, which then moves first for the old one.
    // A request that a later one followed was answered by message: the slot already holds the later one's frames.
    const answered = (): void => {
      if (this.requests !== asked) return reply(null);
      const replied = Atomics.load(control, REPLY);
      if (replied !== asked) {
        const wait = changed(control, REPLY, replied);
        if (wait) void wait.then(answered);
        else answered();
        return;
      }
      if (Atomics.load(control, ANSWER) !== IN_SLOT) return reply(null);
      const inferenceMs = this.view.runMs[0] as number;
      reply({ outputs: this.view.read().tensors, inferenceMs });
    };
    // Never before send returns, even when the replica was quicker than this thread: the pool's callers count on
    // a run that settles later (a replica busy until then), as it does by message.
    queueMicrotask(answered);
    return true;
  }
}

/**
 * The replica's end: runs each request written to the slot with `run`, and answers in the slot, or by message
 * (`send`, with the run's id) when it failed or its outputs do not fit. Runs until the thread ends.
 */
export async function serveSharedSlot(
  buffer: SharedArrayBuffer,
  run: (request: ReplicaRun) => Promise<FromReplica>,
  send: (answer: FromReplica) => void,
): Promise<void> {
  const view = new SlotView(buffer);
  const { control } = view;
  let seen = 0;
  for (;;) {
    await changed(control, REQUEST, seen);
    // Woken, the count is read again and only a new request is run. A notify can come late: the core stores the
    // count, then notifies; preempted between the two, its notify for a request this loop has already run (and
    // answered in the slot) wakes the next wait, and the slot then holds that answer's outputs, not a request.
    const asked = Atomics.load(control, REQUEST);
    if (asked === seen) continue;
    seen = asked;
    const { tensors, outputs } = view.read();
    const answer = await run({ kind: 'run', id: control[RUN_ID] as number, feeds: tensors, outputs });
    const inSlot = answer.kind === 'result' && view.write({ tensors: answer.outputs, outputs: null });
    if (inSlot) view.runMs[0] = answer.inferenceMs;
    Atomics.store(control, ANSWER, inSlot ? IN_SLOT : BY_MESSAGE);
    // Posted before the reply is announced, so that the core finds its request still waiting for the message.
    if (!inSlot) send(answer);
    Atomics.store(control, REPLY, seen);
    Atomics.notify(control, REPLY);
  }
}
