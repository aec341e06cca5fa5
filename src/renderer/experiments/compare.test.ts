import { describe, expect, it } from 'vitest';
import type { Run } from '#shared/contracts/modelhub';
import { axisOf, metricRows, parallelData, paramRows, positionOn } from './compare';

function run(id: string, params: Record<string, string>, metrics: Record<string, number | 'NaN'>): Run {
  return {
    info: {
      id: id.padStart(32, '0'),
      experimentId: '1',
      name: id,
      userId: 'u',
      status: 'FINISHED',
      startTime: 1,
      endTime: 2,
      lifecycleStage: 'active',
      artifactUri: '',
    },
    params: Object.entries(params).map(([key, value]) => ({ key, value })),
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0, timestamp: 0 })),
    tags: [],
    inputs: [],
  };
}

describe('comparing runs', () => {
  const runs = [
    run('a', { lr: '0.1', opt: 'adam', seed: '1' }, { acc: 0.8 }),
    run('b', { lr: '0.01', opt: 'adam', seed: '1', extra: 'x' }, { acc: 0.9, loss: 'NaN' }),
  ];

  it('marks the params whose values differ, a missing one included', () => {
    expect(paramRows(runs)).toEqual([
      { key: 'extra', values: [null, 'x'], differs: true },
      { key: 'lr', values: ['0.1', '0.01'], differs: true },
      { key: 'opt', values: ['adam', 'adam'], differs: false },
      { key: 'seed', values: ['1', '1'], differs: false },
    ]);
    expect(metricRows(runs).map((r) => [r.key, r.values])).toEqual([
      ['acc', ['0.8', '0.9']],
      ['loss', [null, 'NaN']],
    ]);
  });

  it('makes numeric axes for numbers and categorical ones for anything else', () => {
    const lr = axisOf('lr', ['0.1', '0.01', null]);
    expect(lr).toMatchObject({ kind: 'numeric', min: 0.01, max: 0.1 });
    expect(positionOn(lr, '0.1')).toBe(1);
    expect(positionOn(lr, null)).toBeNull();
    const opt = axisOf('opt', ['sgd', 'adam', 'sgd']);
    expect(opt).toMatchObject({ kind: 'categorical', categories: ['adam', 'sgd'] });
    expect(positionOn(opt, 'sgd')).toBe(1);
    expect(positionOn(axisOf('one', ['x']), 'x')).toBe(0.5);
  });

  it('draws the varying params and the chosen metric last, one line per run', () => {
    const data = parallelData(runs, 'acc');
    expect(data.axes.map((a) => a.key)).toEqual(['extra', 'lr', 'acc']);
    expect(data.lines).toEqual([
      { runId: runs[0]!.info.id, positions: [null, 1, 0], metric: 0.8 },
      { runId: runs[1]!.info.id, positions: [0.5, 0, 1], metric: 0.9 },
    ]);
  });
});
