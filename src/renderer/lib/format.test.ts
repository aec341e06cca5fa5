import { describe, expect, test } from 'vitest';
import { formatBytes, formatDuration, formatPercent, ratio, shortId } from './format';

describe('format', () => {
  test('shows bytes in binary units with one decimal below 100', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(24 * 1024 ** 3)).toBe('24.0 GiB');
    expect(formatBytes(150 * 1024 ** 2)).toBe('150 MiB');
  });

  test('a ratio is clamped to 0..1 and unknown when the total is', () => {
    expect(ratio(5, 10)).toBe(0.5);
    expect(ratio(12, 10)).toBe(1);
    expect(ratio(null, 10)).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(0.256)).toBe('26%');
  });

  test('durations read naturally from milliseconds to hours', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(3_400)).toBe('3.4 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(2 * 3_600_000 + 60_000)).toBe('2 h 1 min');
  });

  test('a short id is the last eight characters, lower case', () => {
    expect(shortId('01J9Z3Q7Y8ABCDEFGHJKMNPQRS')).toBe('jkmnpqrs');
  });
});
