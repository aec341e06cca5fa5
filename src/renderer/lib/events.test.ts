import { describe, expect, test } from 'vitest';
import type { EventEnvelope } from '#shared/contracts/system';
import { backoffMs, collapseProgress, useEvents } from './events';

let seq = 0;
function event(name: string, jobId?: string): EventEnvelope {
  seq++;
  // ULID-like ids that sort by creation.
  const id = `01J00000000000000000${String(seq).padStart(6, '0')}`;
  return { id, name, at: 1_700_000_000_000 + seq, data: jobId ? { job: { id: jobId } } : {} };
}

describe('live events', () => {
  test('reconnect delays grow exponentially from half a second and stop growing at 15 s', () => {
    for (let i = 0; i < 50; i++) {
      expect(backoffMs(0)).toBeGreaterThanOrEqual(400);
      expect(backoffMs(0)).toBeLessThanOrEqual(600);
      expect(backoffMs(3)).toBeGreaterThanOrEqual(3_200);
      expect(backoffMs(3)).toBeLessThanOrEqual(4_800);
      expect(backoffMs(30)).toBeLessThanOrEqual(18_000);
      expect(backoffMs(30)).toBeGreaterThanOrEqual(12_000);
    }
  });

  test('the list keeps each event once, newest first, whether it came from the seed or the socket', () => {
    useEvents.getState().reset();
    const [a, b, c] = [event('job.queued', 'J1'), event('job.started', 'J1'), event('apikey.created')];
    useEvents.getState().add([c]);
    useEvents.getState().add([a, b, c]);
    expect(useEvents.getState().events.map((e) => e.name)).toEqual(['apikey.created', 'job.started', 'job.queued']);
  });

  test('only the newest progress of a job is shown, and none once the job has moved on', () => {
    const oldest = [
      event('job.queued', 'A'),
      event('job.started', 'A'),
      event('job.progress', 'A'),
      event('job.progress', 'A'),
      event('job.succeeded', 'A'),
      event('job.started', 'B'),
      event('job.progress', 'B'),
      event('job.progress', 'B'),
    ];
    const shown = collapseProgress([...oldest].reverse()).map(
      (e) => `${e.name}:${(e.data as { job: { id: string } }).job.id}`,
    );
    expect(shown).toEqual(['job.progress:B', 'job.started:B', 'job.succeeded:A', 'job.started:A', 'job.queued:A']);
  });
});
