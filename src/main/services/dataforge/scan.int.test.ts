import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, runMigrations } from '#platform/db';
import { tempDir } from '#platform/testing';
import { scanPath } from './scan';
import { dataforgeMigrations } from './schema';
import { statCacheLine, type StatCacheEntry } from './store';
import { SqliteDataforgeStore } from './store.sqlite';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

function write(rel: string, content = rel): string {
  const file = path.join(tmp.dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

describe('scanning a folder', () => {
  it('lists regular files in path order with their stats, and skips links and names a manifest cannot hold', async () => {
    write('b/z.txt');
    write('b/a/deep.txt');
    write('a.txt');
    write('odd\nname/inside.txt');
    write('back\\slash.txt');
    write('C:drive.txt');
    write('sub/C:fine.txt');
    symlinkSync('/etc/passwd', path.join(tmp.dir, 'passwd'));
    const { files, skipped } = await scanPath(tmp.dir);
    expect(files.map((f) => f.rel)).toEqual(['a.txt', 'b/a/deep.txt', 'b/z.txt', 'sub/C:fine.txt']);
    expect(files[0]).toMatchObject({ abs: path.join(tmp.dir, 'a.txt'), size: 5 });
    expect(files[0]?.mtimeNs).toMatch(/^\d+$/);
    expect(skipped).toEqual([
      { path: 'C:drive.txt', reason: 'file name holds a newline or backslash' },
      { path: 'back\\slash.txt', reason: 'file name holds a newline or backslash' },
      { path: 'odd\nname/inside.txt', reason: 'file name holds a newline or backslash' },
      { path: 'passwd', reason: 'symbolic link (not followed)' },
    ]);
  });

  it('scans a single file as itself', async () => {
    const file = write('only.csv');
    expect((await scanPath(file)).files.map((f) => [f.rel, f.abs])).toEqual([['only.csv', file]]);
  });
});

describe('the stat cache', () => {
  const entry = (p: string, sha: string): StatCacheEntry => ({
    path: p,
    size: 1,
    mtimeNs: '10',
    ctimeNs: '20',
    ino: '30',
    sha256: sha.repeat(64),
  });

  it('gives the entries of a folder in path order as one text, without its neighbours, and forgets paths', () => {
    const db = openDatabase(path.join(tmp.dir, 'aidos.db'));
    try {
      runMigrations(db, [dataforgeMigrations]);
      const store = new SqliteDataforgeStore(db);
      const root = path.join(tmp.dir, 'data');
      const inside = [entry(`${root}/b`, 'b'), entry(`${root}/a/x`, 'a'), entry(`${root}/a.txt`, 'c')];
      const neighbours = [entry(`${root}-old/a`, 'd'), entry(`${root}.txt`, 'e'), entry(root.slice(0, -1), 'f')];
      store.saveStatCache([...inside, ...neighbours], 1);
      const sorted = [...inside].sort((x, y) => (x.path < y.path ? -1 : 1));
      expect(store.statCacheSnapshot(root)).toEqual({
        stats: sorted.map((e) => statCacheLine(e.path, e)).join('\n'),
        hashes: sorted.map((e) => e.sha256).join(''),
      });
      expect([...store.statCacheUnder(root).keys()].sort()).toEqual(sorted.map((e) => e.path));
      expect(store.statCacheSnapshot(`${root}.txt`).hashes).toBe('e'.repeat(64)); // a file imported by itself

      store.saveStatCache([], 2, [`${root}/b`]);
      expect(store.statCacheSnapshot(root).hashes).toBe('c'.repeat(64) + 'a'.repeat(64)); // a.txt, a/x
    } finally {
      db.close();
    }
  });
});
