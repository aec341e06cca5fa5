import { describe, expect, it } from 'vitest';
import type { Run } from '#shared/contracts/modelhub';
import {
  cellText,
  columnOf,
  columnsStorageKey,
  defaultColumnIds,
  discoverKeys,
  parseStoredColumns,
  quoteKey,
  runDuration,
  visibleColumns,
} from './columns';

function run(partial: {
  params?: [string, string][];
  metrics?: [string, number | 'NaN'][];
  tags?: [string, string][];
}): Run {
  return {
    info: {
      id: '0'.repeat(32),
      experimentId: '1',
      name: 'r',
      userId: 'u',
      status: 'FINISHED',
      startTime: 1000,
      endTime: 4000,
      lifecycleStage: 'active',
      artifactUri: '',
    },
    params: (partial.params ?? []).map(([key, value]) => ({ key, value })),
    metrics: (partial.metrics ?? []).map(([key, value]) => ({ key, value, step: 0, timestamp: 0 })),
    tags: (partial.tags ?? []).map(([key, value]) => ({ key, value })),
    inputs: [],
  };
}

describe('runs table columns', () => {
  it('discovers every param, metric and user tag key among the loaded runs, sorted', () => {
    const found = discoverKeys([
      run({ params: [['lr', '0.1']], metrics: [['loss', 1]], tags: [['mlflow.runName', 'x']] }),
      run({ params: [['batch', '32']], metrics: [['acc', 0.5]], tags: [['team', 'ml']] }),
    ]);
    expect(found).toEqual({ params: ['batch', 'lr'], metrics: ['acc', 'loss'], tags: ['team'] });
  });

  it('shows the attributes and the first three metrics until someone chooses', () => {
    const found = { params: ['lr'], metrics: ['a', 'b', 'c', 'd'], tags: [] };
    expect(defaultColumnIds(found)).toEqual([
      'attr:status',
      'attr:name',
      'attr:start',
      'attr:duration',
      'metric:a',
      'metric:b',
      'metric:c',
    ]);
    expect(visibleColumns(['param:lr', 'bogus', 'metric:x'], found).map((c) => c.id)).toEqual(['param:lr', 'metric:x']);
  });

  it('derives the server order-by field, quoting keys the grammar cannot read bare', () => {
    expect(columnOf('metric:acc')?.sortField).toBe('metrics.acc');
    expect(columnOf('metric:train/loss')?.sortField).toBe('metrics.train/loss');
    expect(columnOf('param:learning rate')?.sortField).toBe('params.`learning rate`');
    expect(columnOf('attr:duration')?.sortField).toBeNull();
    expect(columnOf('attr:nope')).toBeNull();
    expect(quoteKey('a`b c')).toBe('"a`b c"');
  });

  it('reads a stored choice only when it is a list of known column ids', () => {
    expect(parseStoredColumns('["attr:name","param:lr"]')).toEqual(['attr:name', 'param:lr']);
    expect(parseStoredColumns('["attr:name","zzz"]')).toBeNull();
    expect(parseStoredColumns('{')).toBeNull();
    expect(parseStoredColumns(null)).toBeNull();
    expect(columnsStorageKey(['2', '1'])).toBe('aidos.runs.columns.1,2');
  });

  it('gives cell text per column kind', () => {
    const r = run({
      params: [['lr', '0.1']],
      metrics: [
        ['acc', 0.91234],
        ['bad', 'NaN'],
      ],
    });
    expect(cellText(r, columnOf('param:lr')!)).toBe('0.1');
    expect(cellText(r, columnOf('metric:acc')!)).toBe('0.9123');
    expect(cellText(r, columnOf('metric:bad')!)).toBe('NaN');
    expect(cellText(r, columnOf('metric:none')!)).toBe('');
    expect(cellText(r, columnOf('attr:duration')!)).toBe('3000');
  });

  it('times a running run up to now and a run without an end as unknown', () => {
    expect(runDuration({ startTime: 1000, endTime: null, status: 'RUNNING' }, 5000)).toBe(4000);
    expect(runDuration({ startTime: 1000, endTime: null, status: 'KILLED' }, 5000)).toBeNull();
  });
});
