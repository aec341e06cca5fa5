import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { create } from 'zustand';
import { EVENTS_WS_PATH } from '#shared/contracts/index';
import type { EventEnvelope } from '#shared/contracts/system';
import { queryKeys, type Api } from './api';

const KEEP = 200;
const WS_PROTOCOL = 'aidos.v1';
const MAX_BACKOFF_MS = 15_000;

export type ConnectionState =
  | { state: 'connecting' }
  | { state: 'open'; since: number }
  | { state: 'reconnecting'; retryAt: number; attempt: number };

interface EventsState {
  /** Newest first, at most KEEP, each once. */
  events: EventEnvelope[];
  connection: ConnectionState;
  add(events: readonly EventEnvelope[]): void;
  setConnection(connection: ConnectionState): void;
  reset(): void;
}

export const useEvents = create<EventsState>()((set, get) => ({
  events: [],
  connection: { state: 'connecting' },
  add(incoming) {
    if (incoming.length === 0) return;
    const byId = new Map(get().events.map((e) => [e.id, e]));
    for (const e of incoming) byId.set(e.id, e);
    // Ids are ULIDs: sorting them sorts by time.
    const events = [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, KEEP);
    set({ events });
  },
  setConnection: (connection) => set({ connection }),
  reset: () => set({ events: [], connection: { state: 'connecting' } }),
}));

/**
 * Keeps one progress line per job: the newest, and only while nothing newer was said about that job. A running
 * job then shows where it is, and a finished one its milestones (queued, started, succeeded).
 */
export function collapseProgress(events: readonly EventEnvelope[]): EventEnvelope[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    const id = event.name.startsWith('job.') ? (event.data as { job?: { id?: string } } | null)?.job?.id : undefined;
    if (!id) return true;
    const keep = event.name !== 'job.progress' || !seen.has(id);
    seen.add(id);
    return keep;
  });
}

/** What a live event makes stale; job events also move the dashboard's queue figures. */
function keysFor(name: string): (readonly unknown[])[] {
  if (name.startsWith('job.')) return [queryKeys.jobs, queryKeys.stats];
  if (name.startsWith('apikey.')) return [queryKeys.keysAll];
  if (name === 'dataset.created' || name === 'dataset.version.created')
    return [queryKeys.datasetsList, queryKeys.datasetDetails];
  if (name === 'dataset.version.profiled') return [queryKeys.datasetProfiles];
  if (name === 'dataset.version.checked') return [queryKeys.datasetQualities];
  if (name === 'experiment.created') return [queryKeys.experiments];
  // Every model event changes the list and that model's page (versions, aliases, history).
  if (name.startsWith('model.')) return [queryKeys.models];
  return [];
}

/** Backoff before reconnect attempt n (0-based): 0.5 s, 1 s, 2 s ... 15 s, with ±20 % jitter. */
export function backoffMs(attempt: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function wsUrl(baseUrl: string): string {
  const url = new URL(EVENTS_WS_PATH, baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * Keeps one WebSocket to the core's event stream while the app is signed in: seeds the list from `events.recent`,
 * appends live events, invalidates the queries an event changes (batched, so a burst of progress events costs one
 * refetch), and reconnects with exponential backoff when the socket drops, re-seeding to fill the gap.
 */
export function useEventStream(api: Api, token: string): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const { add, setConnection, reset } = useEvents.getState();
    reset();
    let socket: WebSocket | null = null;
    let stopped = false;
    let attempt = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    const stale = new Map<string, readonly unknown[]>();

    const flush = () => {
      flushTimer = undefined;
      for (const key of stale.values()) void queryClient.invalidateQueries({ queryKey: key });
      stale.clear();
    };
    const markStale = (keys: (readonly unknown[])[]) => {
      for (const key of keys) stale.set(JSON.stringify(key), key);
      flushTimer ??= setTimeout(flush, 60);
    };

    const seed = async () => {
      try {
        const recent = await queryClient.fetchQuery({
          queryKey: queryKeys.recentEvents,
          queryFn: () => api.call('events.recent', { limit: 100 }),
          staleTime: 0,
        });
        if (!stopped) add(recent.items);
      } catch {
        // The query cache reports the error (a 401 signs out); live events still arrive.
      }
    };

    const connect = () => {
      if (stopped) return;
      setConnection({ state: 'connecting' });
      const ws = new WebSocket(wsUrl(api.baseUrl), [WS_PROTOCOL, `bearer.${token}`]);
      socket = ws;
      ws.onmessage = (message) => {
        let parsed: { type?: string; event?: EventEnvelope };
        try {
          parsed = JSON.parse(String(message.data)) as typeof parsed;
        } catch {
          return;
        }
        if (parsed.type === 'hello') {
          const reconnected = attempt > 0;
          attempt = 0;
          setConnection({ state: 'open', since: Date.now() });
          void seed();
          // Events were missed while the socket was down: refresh everything on screen.
          if (reconnected) void queryClient.invalidateQueries();
        } else if (parsed.type === 'event' && parsed.event) {
          add([parsed.event]);
          markStale(keysFor(parsed.event.name));
        }
      };
      ws.onclose = () => {
        if (stopped || socket !== ws) return;
        const delay = backoffMs(attempt);
        attempt++;
        setConnection({ state: 'reconnecting', retryAt: Date.now() + delay, attempt });
        retryTimer = setTimeout(connect, delay);
      };
    };

    connect();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(flushTimer);
      socket?.close(1000, 'signed out');
    };
  }, [api, token, queryClient]);
}
