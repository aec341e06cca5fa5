import { describe, expect, it } from 'vitest';
import { formatSort, nextSort, normalizeFilter, orderByOf, parseSort } from './filter';

describe('sorting and the filter bar', () => {
  it('cycles a column through descending, ascending and the default order', () => {
    const first = nextSort(null, 'metrics.acc');
    expect(first).toEqual({ field: 'metrics.acc', direction: 'DESC' });
    const second = nextSort(first, 'metrics.acc');
    expect(second).toEqual({ field: 'metrics.acc', direction: 'ASC' });
    expect(nextSort(second, 'metrics.acc')).toBeNull();
    expect(nextSort(second, 'params.lr')).toEqual({ field: 'params.lr', direction: 'DESC' });
  });

  it('round-trips a sort through the URL', () => {
    expect(parseSort('metrics.acc desc')).toEqual({ field: 'metrics.acc', direction: 'DESC' });
    expect(parseSort('params.`learning rate` ASC')).toEqual({ field: 'params.`learning rate`', direction: 'ASC' });
    expect(parseSort('')).toBeNull();
    expect(formatSort({ field: 'metrics.acc', direction: 'DESC' })).toBe('metrics.acc DESC');
  });

  it('breaks ties by start time and run id so that pages never overlap', () => {
    expect(orderByOf(null)).toEqual(['attributes.start_time DESC', 'attributes.run_id ASC']);
    expect(orderByOf({ field: 'metrics.acc', direction: 'ASC' })).toEqual([
      'metrics.acc ASC',
      'attributes.start_time DESC',
      'attributes.run_id ASC',
    ]);
  });

  it('sends a filter without the dangling AND left while typing', () => {
    expect(normalizeFilter('  metrics.acc > 0.9 and ')).toBe('metrics.acc > 0.9');
    expect(normalizeFilter('metrics.acc > 0.9 AND')).toBe('metrics.acc > 0.9');
  });
});
