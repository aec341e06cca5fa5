import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { SlotPool } from './slot-pool';

interface FakeSlot {
  name: string;
  history: string;
}

const slots = (...names: string[]): FakeSlot[] => names.map((name) => ({ name, history: '' }));
const prefixScore = (prompt: string) => (slot: FakeSlot) => {
  let i = 0;
  while (i < slot.history.length && slot.history[i] === prompt[i]) i++;
  return i;
};

describe('SlotPool', () => {
  it('gives the free slot that holds the longest prefix of the prompt', async () => {
    const pool = new SlotPool(slots('a', 'b', 'c'), 4, 'model m');
    const [a, b, c] = pool.freeSlots() as FakeSlot[];
    a!.history = 'hello';
    b!.history = 'The quick brown';
    c!.history = 'The quick';
    const lease = await pool.acquire(prefixScore('The quick brown fox'));
    expect(lease.slot.name).toBe('b');
    expect(pool.inFlight).toBe(1);
    lease.release();
    lease.release();
    expect(pool.inFlight).toBe(0);
  });

  it('breaks ties in favour of the slot free the longest', async () => {
    const pool = new SlotPool(slots('a', 'b'), 4, 'model m');
    const first = await pool.acquire(() => 0);
    const second = await pool.acquire(() => 0);
    second.release();
    first.release();
    expect((await pool.acquire(() => 0)).slot.name).toBe(second.slot.name);
  });

  it('queues requests first in, first out and hands a released slot to the oldest', async () => {
    const pool = new SlotPool(slots('a'), 4, 'model m');
    const running = await pool.acquire(() => 0);
    const order: string[] = [];
    const waiting = ['1', '2', '3'].map((id) =>
      pool
        .acquire(() => 0)
        .then((lease) => {
          order.push(id);
          lease.release();
        }),
    );
    expect(pool.queued).toBe(3);
    running.release();
    await Promise.all(waiting);
    expect(order).toEqual(['1', '2', '3']);
    expect(pool.queued).toBe(0);
    expect(pool.inFlight).toBe(0);
  });

  it('refuses a request beyond the queue bound with a 429', async () => {
    const pool = new SlotPool(slots('a'), 1, "model 'tiny'");
    await pool.acquire(() => 0);
    void pool.acquire(() => 0);
    const refused = await pool.acquire(() => 0).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('RESOURCE_EXHAUSTED');
    expect((refused as AppError).httpStatus).toBe(429);
    expect((refused as AppError).message).toContain("model 'tiny' is busy");
  });

  it('takes an aborted waiter out of the queue', async () => {
    const pool = new SlotPool(slots('a'), 2, 'model m');
    const running = await pool.acquire(() => 0);
    const controller = new AbortController();
    const aborted = pool.acquire(() => 0, controller.signal).catch((error: unknown) => error);
    const next = pool.acquire(() => 0);
    controller.abort();
    expect(((await aborted) as AppError).details).toEqual({ reason: 'cancelled' });
    expect(pool.queued).toBe(1);
    running.release();
    expect((await next).slot.name).toBe('a');
  });

  it('rejects waiting and new requests once closed', async () => {
    const pool = new SlotPool(slots('a'), 2, 'model m');
    await pool.acquire(() => 0);
    const waiting = pool.acquire(() => 0).catch((error: unknown) => error);
    const gone = new AppError('FAILED_PRECONDITION', 'unloading');
    pool.close(gone);
    expect(await waiting).toBe(gone);
    await expect(pool.acquire(() => 0)).rejects.toBe(gone);
  });
});
