import { describe, expect, test } from 'vitest';
import { breadcrumbs, formatStat, importResultOf, isTablePath, listFolder, normalizePrefix } from './model';

const sha = 'a'.repeat(64);
const entry = (path: string, size = 10) => ({ path, sha256: sha, size });

describe('dataset file browser', () => {
  test('a folder lists its sub-folders with file counts and sizes, then its own files', () => {
    const entries = [
      entry('images/cat/1.png', 5),
      entry('images/cat/2.png', 7),
      entry('images/dog.png', 3),
      entry('readme.md', 1),
    ];
    const root = listFolder(entries, '');
    expect(root.folders).toEqual([{ name: 'images', prefix: 'images/', files: 3, bytes: 15 }]);
    expect(root.files.map((f) => f.name)).toEqual(['readme.md']);
    const images = listFolder(entries.slice(0, 3), 'images/');
    expect(images.folders).toEqual([{ name: 'cat', prefix: 'images/cat/', files: 2, bytes: 12 }]);
    expect(images.files.map((f) => f.name)).toEqual(['dog.png']);
  });

  test('breadcrumbs lead to every folder above, and prefixes from the URL always end with a slash', () => {
    expect(breadcrumbs('')).toEqual([]);
    expect(breadcrumbs('a/b/')).toEqual([
      { name: 'a', prefix: 'a/' },
      { name: 'b', prefix: 'a/b/' },
    ]);
    expect(normalizePrefix(null)).toBe('');
    expect(normalizePrefix('/a/b')).toBe('a/b/');
    expect(normalizePrefix('a/')).toBe('a/');
  });

  test('only csv, tsv and jsonl files count as tables', () => {
    expect(isTablePath('data/iris.CSV')).toBe(true);
    expect(isTablePath('x.jsonl')).toBe(true);
    expect(isTablePath('x.json')).toBe(false);
  });

  test('an import result is read only when it has the contract shape', () => {
    expect(importResultOf({ nope: true })).toBeNull();
    expect(importResultOf(null)).toBeNull();
  });

  test('profile figures are short: integers in full, fractions to four significant digits', () => {
    expect(formatStat(1234)).toBe('1,234');
    expect(formatStat(3.14159265)).toBe('3.142');
    expect(formatStat(0.00001234)).toBe('1.23e-5');
    expect(formatStat(null)).toBe('—');
    expect(formatStat('2024-01-01')).toBe('2024-01-01');
  });
});
