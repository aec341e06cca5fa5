import { describe, expect, test } from 'vitest';
import type { QualityFinding } from '#shared/contracts/dataforge';
import { findingGroups, scoreBand } from './quality';

const finding = (
  check: QualityFinding['check'],
  severity: QualityFinding['severity'],
  count: number,
): QualityFinding => ({
  check,
  severity,
  table: 't.csv',
  column: null,
  message: `${check} ${severity} ${count}`,
  count,
  lines: [],
});

describe('quality report display', () => {
  test('scores fall into bands at 90 and 70', () => {
    expect(scoreBand(100)).toBe('good');
    expect(scoreBand(90)).toBe('good');
    expect(scoreBand(89.9)).toBe('fair');
    expect(scoreBand(70)).toBe('fair');
    expect(scoreBand(69.9)).toBe('poor');
    expect(scoreBand(0)).toBe('poor');
  });

  test('findings are grouped by check, worst groups first, worst and largest findings first within a group', () => {
    const groups = findingGroups([
      finding('missing', 'info', 3),
      finding('missing', 'warning', 1),
      finding('missing', 'warning', 9),
      finding('pii', 'error', 2),
      finding('duplicates', 'warning', 4),
      finding('constant', 'info', 1),
    ]);
    expect(groups.map((g) => g.check)).toEqual(['pii', 'missing', 'duplicates', 'constant']);
    expect(groups[1]?.findings.map((f) => f.message)).toEqual([
      'missing warning 9',
      'missing warning 1',
      'missing info 3',
    ]);
    expect(findingGroups([])).toEqual([]);
  });
});
