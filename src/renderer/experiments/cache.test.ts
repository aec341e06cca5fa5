import { describe, expect, it } from 'vitest';
import type { Run } from '#shared/contracts/modelhub';
import { patchRun, withInfo, type RunPages } from './cache';

const run = (id: string): Run => ({
  info: {
    id,
    experimentId: '1',
    name: id,
    userId: 'u',
    status: 'RUNNING',
    startTime: 1,
    endTime: null,
    lifecycleStage: 'active',
    artifactUri: '',
  },
  metrics: [],
  params: [],
  tags: [],
  inputs: [],
});

describe('patching loaded runs from live events', () => {
  const data: RunPages = {
    pages: [
      { items: [run('a'), run('b')], nextPageToken: 'x' },
      { items: [run('c')], nextPageToken: null },
    ],
    pageParams: [undefined, 'x'],
  };

  it('changes only the page that holds the run', () => {
    const patched = patchRun(data, 'c', withInfo({ ...run('c').info, status: 'FINISHED', endTime: 5 }));
    expect(patched?.pages[1]?.items[0]?.info.status).toBe('FINISHED');
    expect(patched?.pages[0]).toBe(data.pages[0]);
  });

  it('returns the same object for a run that is not loaded', () => {
    expect(patchRun(data, 'zzz', withInfo(run('zzz').info))).toBe(data);
    expect(patchRun(undefined, 'a', withInfo(run('a').info))).toBeUndefined();
  });
});
