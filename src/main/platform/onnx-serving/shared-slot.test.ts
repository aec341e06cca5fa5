import { describe, expect, it } from 'vitest';
import type { FromReplica, ReplicaRun } from './protocol';
import { serveSharedSlot, SharedSlot, SLOT_BYTES } from './shared-slot';
import type { TensorData } from './tensors';

// Both ends in one thread: Atomics.waitAsync is woken by a notify from the same thread too, and one thread lets a
// test choose exactly when the core acts between the replica's steps.

type SlotReply = { outputs: Record<string, TensorData>; inferenceMs: number } | null;

const f32 = (values: number[]): TensorData => ({
  dtype: 'float32',
  dims: [1, values.length],
  data: Float32Array.from(values),
});

/** A replica that doubles `x` into `y`, or fails on a negative first value. */
async function doubling(request: ReplicaRun): Promise<FromReplica> {
  const x = request.feeds.x?.data as Float32Array;
  if ((x[0] as number) < 0) return { kind: 'error', id: request.id, code: 'INVALID_ARGUMENT', message: 'negative' };
  return { kind: 'result', id: request.id, outputs: { y: f32(Array.from(x, (v) => v * 2)) }, inferenceMs: 0.25 };
}

function answerOf(slot: SharedSlot, request: Omit<ReplicaRun, 'kind'>): Promise<SlotReply> {
  return new Promise((resolve) => expect(slot.send(request, resolve)).toBe(true));
}

const valuesOf = (reply: SlotReply) => Array.from(reply?.outputs.y?.data as Float32Array);

describe('SharedSlot', () => {
  it("carries a batch to the replica and its outputs back, with the replica's run time", async () => {
    const slot = new SharedSlot();
    void serveSharedSlot(slot.buffer, doubling, () => undefined);
    const first = await answerOf(slot, { id: 7, feeds: { x: f32([1, 2, 3]) }, outputs: null });
    expect(valuesOf(first)).toEqual([2, 4, 6]);
    expect(first?.outputs.y?.dims).toEqual([1, 3]);
    expect(first?.inferenceMs).toBe(0.25);
    expect(valuesOf(await answerOf(slot, { id: 8, feeds: { x: f32([5]) }, outputs: ['y'] }))).toEqual([10]);
  });

  it('still answers when a busy-wait ends before the replica has answered', async () => {
    // The replica runs on this thread, so it cannot answer while send busy-waits: the wait runs out, and the
    // answer comes as it does without one.
    const slot = new SharedSlot();
    void serveSharedSlot(slot.buffer, doubling, () => undefined);
    const reply = new Promise<SlotReply>((resolve) =>
      expect(slot.send({ id: 1, feeds: { x: f32([1.5]) }, outputs: null }, resolve, 2)).toBe(true),
    );
    expect(valuesOf(await reply)).toEqual([3]);
  });

  it('refuses what does not fit, so that it goes by message', () => {
    const slot = new SharedSlot();
    const big: TensorData = { dtype: 'float32', dims: [1, SLOT_BYTES / 4], data: new Float32Array(SLOT_BYTES / 4) };
    expect(slot.send({ id: 1, feeds: { x: big }, outputs: null }, () => undefined)).toBe(false);
    const text: TensorData = { dtype: 'string', dims: [1], data: ['a'] };
    expect(slot.send({ id: 2, feeds: { x: text }, outputs: null }, () => undefined)).toBe(false);
  });

  it('answers a failed run by message with its id, and the slot by null', async () => {
    const slot = new SharedSlot();
    const messages: FromReplica[] = [];
    void serveSharedSlot(slot.buffer, doubling, (answer) => messages.push(answer));
    expect(await answerOf(slot, { id: 3, feeds: { x: f32([-1]) }, outputs: null })).toBeNull();
    expect(messages).toEqual([{ kind: 'error', id: 3, code: 'INVALID_ARGUMENT', message: 'negative' }]);
  });

  it('answers the next request in the slot when it is sent on the failure message, before the replica is done', async () => {
    // The pool takes the message as the end of the run and may hand the replica its next batch at once, while the
    // replica has not yet announced its answer by message: that announcement must not be taken for the next answer.
    const slot = new SharedSlot();
    let next: Promise<SlotReply> | undefined;
    void serveSharedSlot(slot.buffer, doubling, () => {
      next = answerOf(slot, { id: 2, feeds: { x: f32([4]) }, outputs: null });
    });
    expect(await answerOf(slot, { id: 1, feeds: { x: f32([-1]) }, outputs: null })).toBeNull();
    expect(next).toBeDefined();
    expect(valuesOf(await next!)).toEqual([8]);
  });

  it('runs nothing when woken with no new request, and the next request as usual', async () => {
    const slot = new SharedSlot();
    const runs: number[] = [];
    void serveSharedSlot(
      slot.buffer,
      (request) => {
        runs.push(request.id);
        return doubling(request);
      },
      () => undefined,
    );
    expect(valuesOf(await answerOf(slot, { id: 1, feeds: { x: f32([2]) }, outputs: null }))).toEqual([4]);
    // A late notify (the core preempted between storing the request count and notifying) wakes the replica's next
    // wait with no new request: the slot then holds the last answer's outputs, which must not be run as a request
    // (onnxruntime then said "input 'features' is missing in 'feeds'" for a request that had it, in a CI run).
    Atomics.notify(new Int32Array(slot.buffer, 0, 4), 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toEqual([1]);
    expect(valuesOf(await answerOf(slot, { id: 2, feeds: { x: f32([3]) }, outputs: null }))).toEqual([6]);
    expect(runs).toEqual([1, 2]);
  });
});
