import type { EventData, EventName } from '#shared/contracts/index';
import type { EventEnvelope } from '#shared/contracts/system';
import { newId } from '#shared/ids';
import type { Logger } from './logger';

export type EventListener = (event: EventEnvelope) => void;

/** `job.*` matches every job event, `*` everything, anything else one name exactly. */
export function eventMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * The typed in-process event bus. Events announce facts that already happened (ARCHITECTURE.md §4); a listener
 * that throws is logged and never breaks the emitter or other listeners. The last `keep` events stay in memory
 * for clients that connect late.
 */
export class EventBus {
  private readonly listeners = new Set<{ pattern: string; listener: EventListener }>();
  private readonly history: EventEnvelope[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly keep = 500,
  ) {}

  emit<N extends EventName>(name: N, data: EventData<N>): EventEnvelope {
    const event: EventEnvelope = { id: newId(), name, at: Date.now(), data };
    this.history.push(event);
    if (this.history.length > this.keep) this.history.splice(0, this.history.length - this.keep);
    for (const { pattern, listener } of this.listeners) {
      if (!eventMatches(pattern, name)) continue;
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: name }, 'event listener failed');
      }
    }
    return event;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on(pattern: EventName | `${string}.*` | '*', listener: EventListener): () => void {
    const entry = { pattern, listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  recent(limit: number): EventEnvelope[] {
    return this.history.slice(-limit);
  }
}
