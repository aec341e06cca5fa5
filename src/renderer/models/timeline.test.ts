import { describe, expect, it } from 'vitest';
import type { AliasMove } from '#shared/contracts/modelhub';
import { aliasTimeline, describeMove, spanBox } from './timeline';

const move = (
  name: string,
  version: number | null,
  previousVersion: number | null,
  at: number,
  actor = 'local',
): AliasMove => ({
  kind: 'alias',
  name,
  version,
  previousVersion,
  actor,
  at,
});

describe('the alias timeline', () => {
  it('turns moves into spans: who gave each version the alias, and who moved it on', () => {
    const timeline = aliasTimeline([
      move('champion', 1, null, 100, 'alice'),
      move('challenger', 2, null, 150),
      move('champion', 2, 1, 200, 'bob'),
      move('challenger', null, 2, 250, 'carol'),
      { ...move('Production', 1, null, 120), kind: 'stage' },
    ]);
    expect([...timeline.keys()]).toEqual(['champion', 'challenger']);
    expect(timeline.get('champion')).toEqual([
      { alias: 'champion', version: 1, from: 100, to: 200, movedBy: 'alice', endedBy: 'bob' },
      { alias: 'champion', version: 2, from: 200, to: null, movedBy: 'bob', endedBy: null },
    ]);
    expect(timeline.get('challenger')).toEqual([
      { alias: 'challenger', version: 2, from: 150, to: 250, movedBy: 'local', endedBy: 'carol' },
    ]);
  });

  it('describes each move in words', () => {
    expect(describeMove(move('champion', 1, null, 0))).toBe('champion set to v1');
    expect(describeMove(move('champion', 2, 1, 0))).toBe('champion moved v1 → v2');
    expect(describeMove(move('champion', null, 2, 0))).toBe('champion removed from v2');
  });

  it('places a span on a drawn range, an open one reaching the end', () => {
    const span = { alias: 'a', version: 1, from: 150, to: null, movedBy: 'x', endedBy: null };
    expect(spanBox(span, 100, 200)).toEqual({ left: 0.5, width: 0.5 });
    expect(spanBox({ ...span, to: 175 }, 100, 200)).toEqual({ left: 0.5, width: 0.25 });
  });
});
