import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '#shared/contracts/system';
import { EventBus, eventMatches } from './events';
import { silentLogger } from './logger';

const key = {
  id: '01J0000000000000000000000Z',
  name: 'k',
  prefix: 'p',
  scopes: ['read' as const],
  createdAt: 1,
  lastUsedAt: null,
  revokedAt: null,
};

describe('event bus', () => {
  it('matches exact names, prefixes with .* and everything with *', () => {
    expect(eventMatches('job.*', 'job.started')).toBe(true);
    expect(eventMatches('job.*', 'jobs.started')).toBe(false);
    expect(eventMatches('job.started', 'job.started')).toBe(true);
    expect(eventMatches('job.started', 'job.failed')).toBe(false);
    expect(eventMatches('*', 'anything')).toBe(true);
  });

  it('delivers to matching listeners, survives a throwing one, and unsubscribes', () => {
    const bus = new EventBus(silentLogger());
    const got: string[] = [];
    bus.on('apikey.*', () => {
      throw new Error('listener bug');
    });
    const off = bus.on('apikey.created', (e) => got.push(e.name));
    bus.on('job.*', (e) => got.push(`other ${e.name}`));
    bus.emit('apikey.created', { key });
    off();
    bus.emit('apikey.created', { key });
    expect(got).toEqual(['apikey.created']);
  });

  it('keeps the most recent events for late subscribers', () => {
    const bus = new EventBus(silentLogger(), 3);
    const emitted: EventEnvelope[] = [];
    for (let i = 0; i < 5; i++) emitted.push(bus.emit('apikey.revoked', { key }));
    expect(bus.recent(10)).toEqual(emitted.slice(2));
    expect(bus.recent(1)).toEqual(emitted.slice(4));
  });
});
