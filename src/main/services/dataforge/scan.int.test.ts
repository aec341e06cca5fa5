import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, runMigrations } from '#platform/db';
import { tempDir } from '#platform/testing';
import { scanPath } from './scan';
import { dataforgeMigrations } from './schema';
import type { StatCacheEntry } from './store';
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
    const scan = await scanPath(tmp.dir);
    const { skipped } = scan;
    const files = scan.files();
    expect(files.map((f) => f.rel)).toEqual(['a.txt', 'b/a/deep.txt', 'b/z.txt', 'sub/C:fine.txt']);
    expect([scan.fileCount, scan.totalBytes, scan.largest]).toEqual([
      4,
      5 + 12 + 7 + 14,
      { rel: 'sub/C:fine.txt', size: 14 },
    ]);
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
    expect((await scanPath(file)).files().map((f) => [f.rel, f.abs])).toEqual([['only.csv', file]]);
  });

  it('gives the same digest while nothing changes, and another once a file is added, written or removed', async () => {
    // Over 4,000 files the stat walk is split between two threads.
    for (let i = 0; i < 4500; i++) write(`d${i % 7}/f${i}.txt`, `file ${i}`);
    write('d3/big.bin', 'x'.repeat(5000));
    const first = await scanPath(tmp.dir);
    expect([first.fileCount, first.largest]).toEqual([4501, { rel: 'd3/big.bin', size: 5000 }]);
    expect(first.files()).toHaveLength(4501);
    expect((await scanPath(tmp.dir)).digest).toBe(first.digest);
    const added = write('d1/new.txt');
    const withNew = await scanPath(tmp.dir);
    expect(withNew.digest).not.toBe(first.digest);
    rmSync(added);
    expect((await scanPath(tmp.dir)).digest).toBe(first.digest);
    // Same size, same content even: the write changes mtime and ctime.
    write('d2/f2.txt', 'file 2');
    expect((await scanPath(tmp.dir)).digest).not.toBe(first.digest);
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

  it('gives the entries of a folder without its neighbours, and forgets paths', () => {
    const db = openDatabase(path.join(tmp.dir, 'aidos.db'));
    try {
      runMigrations(db, [dataforgeMigrations]);
      const store = new SqliteDataforgeStore(db);
      const root = path.join(tmp.dir, 'data');
      const inside = [entry(`${root}/b`, 'b'), entry(`${root}/a/x`, 'a'), entry(`${root}/a.txt`, 'c')];
      const neighbours = [entry(`${root}-old/a`, 'd'), entry(`${root}.txt`, 'e'), entry(root.slice(0, -1), 'f')];
      store.saveStatCache([...inside, ...neighbours], 1);
      expect([...store.statCacheUnder(root).keys()].sort()).toEqual(inside.map((e) => e.path).sort());
      expect(store.statCacheUnder(`${root}.txt`).get(`${root}.txt`)?.sha256).toBe('e'.repeat(64));
      store.saveStatCache([], 2, [`${root}/b`]);
      expect([...store.statCacheUnder(root).keys()].sort()).toEqual([`${root}/a.txt`, `${root}/a/x`]);
    } finally {
      db.close();
    }
  });
});
