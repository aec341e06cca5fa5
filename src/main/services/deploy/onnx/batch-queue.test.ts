import { describe, expect, it } from 'vitest';
import { BatchQueue, type Queued } from './batch-queue';

interface Item extends Queued {
  name: string;
}

const item = (name: string, rows: number, enqueuedAt: number, key = 'k', solo = false): Item => ({
  name,
  rows,
  key,
  enqueuedAt,
  solo,
});
const names = (take: ReturnType<BatchQueue<Item>['take']>) =>
  take && 'batch' in take ? take.batch.map((i) => i.name) : take;

describe('BatchQueue', () => {
  it('waits for more requests until the oldest has waited maxQueueDelayMs', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 8, maxQueueDelayMs: 2 });
    q.push(item('a', 1, 100));
    q.push(item('b', 2, 100.5));
    expect(q.take(101)).toEqual({ waitMs: 1 });
    expect(q.rows).toBe(3);
    expect(names(q.take(102))).toEqual(['a', 'b']);
    expect(q.length).toBe(0);
    expect(q.rows).toBe(0);
    expect(q.take(102)).toBeNull();
  });

  it('sends the batch as it stands when flushed', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 8, maxQueueDelayMs: 1000 });
    q.push(item('a', 1, 0));
    q.push(item('b', 1, 0));
    expect(q.take(1)).toEqual({ waitMs: 999 });
    expect(names(q.take(1, true))).toEqual(['a', 'b']);
  });

  it('sends a full batch at once and leaves the rest for the next', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 4, maxQueueDelayMs: 1000 });
    for (const [i, rows] of [1, 2, 1, 3, 1].entries()) q.push(item(`r${i}`, rows, 0));
    expect(names(q.take(0))).toEqual(['r0', 'r1', 'r2']);
    // 3 + 1 = 4 rows: full again.
    expect(names(q.take(0))).toEqual(['r3', 'r4']);
  });

  it('counts a batch as full when the next request of its key would not fit', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 4, maxQueueDelayMs: 1000 });
    q.push(item('a', 3, 0));
    q.push(item('b', 2, 0));
    expect(names(q.take(0))).toEqual(['a']);
    expect(q.take(0)).toEqual({ waitMs: 1000 });
  });

  it('batches only requests of the same key, skipping others in between', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    q.push(item('a', 1, 0, 'x'));
    q.push(item('b', 1, 0, 'y'));
    q.push(item('c', 1, 0, 'x'));
    expect(names(q.take(0))).toEqual(['a', 'c']);
    expect(names(q.take(0))).toEqual(['b']);
  });

  it('runs solo requests alone, and every request alone when batching is off', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 8, maxQueueDelayMs: 5 });
    q.push(item('solo', 1, 0, 'k', true));
    q.push(item('a', 1, 0));
    q.push(item('b', 1, 0, 'k', true));
    q.push(item('c', 1, 0));
    expect(names(q.take(0))).toEqual(['solo']);
    expect(q.take(1)).toEqual({ waitMs: 4 });
    expect(names(q.take(5))).toEqual(['a', 'c']);
    expect(names(q.take(5))).toEqual(['b']);

    const off = new BatchQueue<Item>({ maxBatchSize: 0, maxQueueDelayMs: 5 });
    off.push(item('a', 100, 0));
    off.push(item('b', 1, 0));
    expect(names(off.take(0))).toEqual(['a']);
    expect(names(off.take(0))).toEqual(['b']);
  });

  it('removes cancelled requests, puts retried ones back at the head and drains on close', () => {
    const q = new BatchQueue<Item>({ maxBatchSize: 8, maxQueueDelayMs: 0 });
    const a = item('a', 2, 0);
    const b = item('b', 3, 0);
    q.push(a);
    q.push(b);
    expect(q.remove(a)).toBe(true);
    expect(q.remove(a)).toBe(false);
    expect(q.rows).toBe(3);
    q.unshift([item('x', 1, 0, 'k', true), item('y', 1, 0, 'k', true)]);
    expect(names(q.take(0))).toEqual(['x']);
    expect(q.drain().map((i) => i.name)).toEqual(['y', 'b']);
    expect(q.rows).toBe(0);
  });
});
