import { describe, expect, it } from 'vitest';
import { detectKind, diffManifests, isSafeRelativePath, parseManifest, serializeManifest } from './manifest';

const sha = (c: string) => c.repeat(64);
const e = (path: string, c: string, size = 1) => ({ path, sha256: sha(c), size });

describe('manifests', () => {
  it('serialise sorted by path and parse back, paths with spaces included', () => {
    const entries = [e('b/x y.csv', 'b', 10), e('a.txt', 'a', 3)];
    const text = serializeManifest(entries);
    expect(text).toBe(`${sha('a')} 3 a.txt\n${sha('b')} 10 b/x y.csv\n`);
    expect(parseManifest(text)).toEqual([entries[1], entries[0]]);
  });

  it('diff into added, removed, changed and unchanged', () => {
    const before = [e('a', '1'), e('b', '2'), e('c', '3')];
    const after = [e('b', '2'), e('c', '4'), e('d', '5')];
    expect(diffManifests(before, after)).toEqual({
      added: [e('d', '5')],
      removed: [e('a', '1')],
      changed: [{ path: 'c', before: e('c', '3'), after: e('c', '4') }],
      unchanged: 1,
    });
  });

  it('tell the kind from file names', () => {
    expect(detectKind([])).toBe('empty');
    expect(detectKind([e('iris.csv', 'a')])).toBe('tabular');
    expect(detectKind([e('cat/1.png', 'a'), e('dog/2.JPG', 'b')])).toBe('images');
    expect(detectKind([e('a.csv', 'a'), e('b.png', 'b')])).toBe('mixed');
    expect(detectKind([e('model.bin', 'a')])).toBe('files');
  });

  it('accept only relative paths that stay inside their folder', () => {
    for (const ok of ['a.csv', 'a/b/c.txt', 'with space/ü.png', '.hidden'])
      expect(isSafeRelativePath(ok), ok).toBe(true);
    for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', './a', 'C:/x', 'a\\b', 'a\nb', 'a/..']) {
      expect(isSafeRelativePath(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
