import { useEffect, useRef } from 'react';
import type { EventEnvelope } from '#shared/contracts/system';
import { useEvents } from '../lib/events';

/** Events older than this when a page mounts (the stream's seed of recent events) are not news to it. */
const SEED_SLACK_MS = 2_000;

/**
 * Calls `handler` for each live event whose name `wanted` accepts, as it arrives, oldest first. The events store
 * already holds the stream; this only watches what is added to it after the component mounted.
 */
export function useLiveEvents(wanted: (name: string) => boolean, handler: (event: EventEnvelope) => void): void {
  const latest = useRef({ wanted, handler });
  useEffect(() => {
    latest.current = { wanted, handler };
  });
  useEffect(() => {
    const mountedAt = Date.now() - SEED_SLACK_MS;
    let newest = useEvents.getState().events[0]?.id ?? '';
    return useEvents.subscribe((state) => {
      const fresh: EventEnvelope[] = [];
      // Newest first: stop at the first event seen before.
      for (const event of state.events) {
        if (event.id <= newest) break;
        fresh.push(event);
      }
      if (fresh.length === 0) return;
      newest = (fresh[0] as EventEnvelope).id;
      for (const event of fresh.reverse()) {
        if (event.at >= mountedAt && latest.current.wanted(event.name)) latest.current.handler(event);
      }
    });
  }, []);
}

/**
 * A function that runs `fn` at most once per `ms` (the first call at once, later ones collapsed into one call at
 * the end of the window): live charts refetch a few times a second at most, whatever the event rate.
 */
export function useThrottled(fn: () => void, ms: number): () => void {
  const state = useRef<{ fn: () => void; last: number; timer: ReturnType<typeof setTimeout> | null }>({
    fn,
    last: 0,
    timer: null,
  });
  useEffect(() => {
    state.current.fn = fn;
  });
  useEffect(() => {
    const s = state.current;
    return () => {
      if (s.timer) clearTimeout(s.timer);
    };
  }, []);
  const ref = useRef<() => void>(null);
  ref.current ??= () => {
    const s = state.current;
    if (s.timer) return;
    const wait = Math.max(0, s.last + ms - Date.now());
    s.timer = setTimeout(() => {
      s.timer = null;
      s.last = Date.now();
      s.fn();
    }, wait);
  };
  return ref.current;
}
