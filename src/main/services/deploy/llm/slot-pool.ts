import { AppError } from '#shared/errors';

/** A slot held by one request; `release` gives it back (idempotent). */
export interface SlotLease<S> {
  readonly slot: S;
  /** How long the request waited for the slot, in ms. */
  readonly waitedMs: number;
  release(): void;
}

interface Waiter<S> {
  score: (slot: S) => number;
  since: number;
  resolve: (lease: SlotLease<S>) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

/** The error a queued request gets when its signal aborts: the client is gone (nginx's 499). */
export function cancelledError(): AppError {
  return new AppError('FAILED_PRECONDITION', 'the request was cancelled', { reason: 'cancelled' }, 499);
}

/**
 * A fixed set of slots (a model's context sequences) shared by requests. A request takes the free slot that
 * scores highest for it (the longest prompt prefix already evaluated there; ties go to the slot free the longest)
 * or waits in a FIFO queue of at most `maxQueue`; beyond that it is refused with a 429. Waiters are served in
 * arrival order, never overtaken.
 */
export class SlotPool<S> {
  private readonly free: S[];
  private readonly waiters: Waiter<S>[] = [];
  private closedError: AppError | null = null;
  /** The number of slots. */
  readonly total: number;

  constructor(
    slots: readonly S[],
    private readonly maxQueue: number,
    private readonly describe: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (slots.length === 0) throw new Error('a slot pool needs at least one slot');
    this.free = [...slots];
    this.total = slots.length;
  }

  /** Requests holding a slot. */
  get inFlight(): number {
    return this.total - this.free.length;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Takes the best free slot, or waits for one; rejects with a 429 when the queue is full. */
  acquire(score: (slot: S) => number, signal?: AbortSignal): Promise<SlotLease<S>> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (signal?.aborted) return Promise.reject(cancelledError());
    const since = this.now();
    if (this.free.length > 0 && this.waiters.length === 0) return Promise.resolve(this.take(score, since));
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(
        new AppError(
          'RESOURCE_EXHAUSTED',
          `${this.describe} is busy: ${this.total} request(s) running and ${this.waiters.length} waiting (the most ` +
            `allowed); retry later`,
          { reason: 'queue_full', code: 'rate_limit_exceeded', inFlight: this.inFlight, queued: this.queued },
          429,
        ),
      );
    }
    return new Promise<SlotLease<S>>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(cancelledError());
      };
      const waiter: Waiter<S> = {
        score,
        since,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Refuses new requests and rejects the waiting ones with `error`. */
  close(error: AppError): void {
    this.closedError = error;
    for (const waiter of this.waiters.splice(0)) {
      waiter.detach();
      waiter.reject(error);
    }
  }

  /** The free slots, for maintenance (clearing caches) while no request holds them. */
  freeSlots(): readonly S[] {
    return this.free;
  }

  private take(score: (slot: S) => number, since: number): SlotLease<S> {
    // `free` is kept in release order, so the first of equal scores is the one free the longest.
    let best = 0;
    let bestScore = -Infinity;
    this.free.forEach((slot, index) => {
      const value = score(slot);
      if (value > bestScore) {
        best = index;
        bestScore = value;
      }
    });
    const [slot] = this.free.splice(best, 1) as [S];
    let released = false;
    return {
      slot,
      waitedMs: this.now() - since,
      release: () => {
        if (released) return;
        released = true;
        this.free.push(slot);
        this.dispatch();
      },
    };
  }

  private dispatch(): void {
    while (this.free.length > 0 && this.waiters.length > 0) {
      const waiter = this.waiters.shift() as Waiter<S>;
      waiter.detach();
      waiter.resolve(this.take(waiter.score, waiter.since));
    }
  }
}
