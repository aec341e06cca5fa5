/** What the queue needs to know of a request. */
export interface Queued {
  /** Rows along dim 0 (1 for a model that does not batch). */
  rows: number;
  /** Only requests with the same key are concatenated. */
  key: string;
  /** `performance.now()` when it was queued. */
  enqueuedAt: number;
  /** Runs alone (a model without a batch dimension, or a retry after its batch failed). */
  solo: boolean;
}

export interface BatchPolicy {
  /** At most this many rows in one batch; 0 turns dynamic batching off (each request runs alone). */
  maxBatchSize: number;
  /** How long the oldest request may wait for others to join its batch. */
  maxQueueDelayMs: number;
}

/** What `take` decided: a batch to run now, or how long to wait before asking again. */
export type Take<T> = { batch: T[] } | { waitMs: number } | null;

/**
 * The dynamic batcher's queue, as Triton's: requests wait in arrival order; a free replica takes the oldest
 * request together with the following ones of the same key, in order, while they fit in `maxBatchSize` rows. The
 * batch goes when it is full (the next same-key request would not fit, or the rows reach the maximum) or when the
 * oldest has waited `maxQueueDelayMs`; otherwise the caller waits the time left and asks again. A request that
 * is bigger than `maxBatchSize` is refused before it is queued, by the runtime.
 */
export class BatchQueue<T extends Queued> {
  private items: T[] = [];
  private rowCount = 0;

  constructor(private readonly policy: BatchPolicy) {}

  get length(): number {
    return this.items.length;
  }

  /** Rows waiting in all requests. */
  get rows(): number {
    return this.rowCount;
  }

  push(item: T): void {
    this.items.push(item);
    this.rowCount += item.rows;
  }

  /** Puts requests back at the head, in the order given (a failed batch retried one by one). */
  unshift(items: T[]): void {
    this.items.unshift(...items);
    for (const item of items) this.rowCount += item.rows;
  }

  /** Removes a request (cancelled while it waited); false when it is not queued any more. */
  remove(item: T): boolean {
    const i = this.items.indexOf(item);
    if (i < 0) return false;
    this.items.splice(i, 1);
    this.rowCount -= item.rows;
    return true;
  }

  /** Empties the queue, returning what was in it. */
  drain(): T[] {
    const all = this.items;
    this.items = [];
    this.rowCount = 0;
    return all;
  }

  /**
   * The next batch for a free replica at time `now`, or how long to wait, or null when nothing waits. `flush`
   * sends the batch as it stands without waiting (the caller saw that no more requests are arriving).
   */
  take(now: number, flush = false): Take<T> {
    const oldest = this.items[0];
    if (!oldest) return null;
    const { maxBatchSize, maxQueueDelayMs } = this.policy;
    if (oldest.solo || maxBatchSize <= 0) return { batch: this.splice([0]) };
    const picked = [0];
    let rows = oldest.rows;
    let full = rows >= maxBatchSize;
    for (let i = 1; i < this.items.length && !full; i++) {
      const item = this.items[i] as T;
      if (item.solo || item.key !== oldest.key) continue;
      if (rows + item.rows > maxBatchSize) {
        full = true;
        break;
      }
      picked.push(i);
      rows += item.rows;
      full = rows >= maxBatchSize;
    }
    const waited = now - oldest.enqueuedAt;
    if (full || flush || waited >= maxQueueDelayMs) return { batch: this.splice(picked) };
    return { waitMs: maxQueueDelayMs - waited };
  }

  /** Removes the items at `indices` (ascending) and returns them. */
  private splice(indices: number[]): T[] {
    let batch: T[];
    if (indices[indices.length - 1] === indices.length - 1) batch = this.items.splice(0, indices.length);
    else {
      batch = indices.map((i) => this.items[i] as T);
      const taken = new Set(indices);
      this.items = this.items.filter((_, i) => !taken.has(i));
    }
    for (const item of batch) this.rowCount -= item.rows;
    return batch;
  }
}
