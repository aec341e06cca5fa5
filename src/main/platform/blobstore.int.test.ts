import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { BlobStore, blobMigrations } from './blobstore';
import { openDatabase, runMigrations, type Db } from './db';
import { tempDir } from './testing';

let tmp: ReturnType<typeof tempDir>;
let db: Db;
let blobs: BlobStore;

function open(): void {
  db = openDatabase(path.join(tmp.dir, 'aidos.db'));
  runMigrations(db, [blobMigrations]);
  blobs = new BlobStore(db, tmp.dir);
}

beforeEach(() => {
  tmp = tempDir();
  open();
});
afterEach(() => {
  db.close();
  tmp.remove();
});

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const ref = { owner: 'dataforge', ref: 'version-1' };

describe('blob store', () => {
  it('names a blob by the sha256 of its content and stores identical content once', async () => {
    const a = await blobs.put('hello world', ref);
    const b = await blobs.put(Buffer.from('hello world'), { owner: 'modelhub', ref: 'run-1' });
    expect(a).toEqual({ sha256: sha('hello world'), size: 11 });
    expect(b.sha256).toBe(a.sha256);
    expect(blobs.stats()).toEqual({ blobs: 1, bytes: 11, unreferenced: 0 });
    expect(blobs.refsOf(a.sha256)).toEqual([
      { owner: 'dataforge', ref: 'version-1' },
      { owner: 'modelhub', ref: 'run-1' },
    ]);
    expect((await blobs.read(a.sha256)).toString()).toBe('hello world');
  });

  it('streams large content without holding it whole and hashes it correctly', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    const expected = createHash('sha256');
    for (let i = 0; i < 20; i++) expected.update(chunk);
    const info = await blobs.put(
      Readable.from(
        (function* () {
          for (let i = 0; i < 20; i++) yield chunk;
        })(),
      ),
    );
    expect(info).toEqual({ sha256: expected.digest('hex'), size: 20 * 1024 * 1024 });
  });

  it('leaves no partial blob and no reference when the source fails mid-write', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000, 1));
        this.destroy(new Error('connection dropped'));
      },
    });
    await expect(blobs.put(failing, ref)).rejects.toThrow('connection dropped');
    expect(blobs.stats().blobs).toBe(0);
    expect(db.prepare('SELECT COUNT(*) AS n FROM platform_blob_refs').get()).toEqual({ n: 0 });
    expect(readdirSync(path.join(tmp.dir, 'blobs', 'tmp'))).toEqual([]);
    expect([...blobs.files()]).toEqual([]);
  });

  it('leaves no partial blob and no dangling reference when the process is killed mid-write', async () => {
    db.close();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./test-children/slow-blob-writer.ts', import.meta.url)), tmp.dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve()),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(readdirSync(path.join(tmp.dir, 'blobs', 'tmp')).length).toBe(1); // the partial write
    open(); // the next start
    expect(readdirSync(path.join(tmp.dir, 'blobs', 'tmp'))).toEqual([]);
    expect(blobs.stats().blobs).toBe(0);
    expect(db.prepare('SELECT COUNT(*) AS n FROM platform_blob_refs').get()).toEqual({ n: 0 });
    expect([...blobs.files()]).toEqual([]);
  });

  it('stores many small files in one batch, once per content, with their references', async () => {
    const dir = path.join(tmp.dir, 'src');
    mkdirSync(dir);
    const names = ['a', 'b', 'c', 'd'];
    names.forEach((n, i) => writeFileSync(path.join(dir, n), i < 2 ? 'same' : `content ${n}`));
    await blobs.put('content c'); // already stored: not written again
    const infos = await blobs.putFiles(
      names.map((n) => path.join(dir, n)),
      ref,
    );
    expect(infos.map((i) => i.sha256)).toEqual([sha('same'), sha('same'), sha('content c'), sha('content d')]);
    expect(blobs.stats()).toEqual({ blobs: 3, bytes: 4 + 9 + 9, unreferenced: 0 });
    expect(readdirSync(path.join(tmp.dir, 'blobs', 'tmp'))).toEqual([]);
    for (const info of infos) expect((await blobs.read(info.sha256, { verify: true })).length).toBe(info.size);
    expect(blobs.addRefs([sha('same'), sha('never stored')], { owner: 'x', ref: 'y' })).toEqual([sha('never stored')]);
    expect(blobs.refsOf(sha('same'))).toEqual([ref, { owner: 'x', ref: 'y' }]);
  });

  it('detects a corrupted blob when reading with verify', async () => {
    const { sha256 } = await blobs.put('precious model weights', ref);
    writeFileSync(blobs.pathOf(sha256), 'precious model weighTs');
    expect((await blobs.read(sha256)).toString()).toBe('precious model weighTs'); // without verify: raw bytes
    await expect(blobs.read(sha256, { verify: true })).rejects.toThrow(/is corrupted/);
  });

  it('collects unreferenced blobs older than the grace period and keeps referenced or recent ones', async () => {
    const kept = await blobs.put('kept', ref);
    const orphan = await blobs.put('orphan');
    const fresh = await blobs.put('fresh');
    const old = Date.now() - 2 * 3600_000;
    db.prepare('UPDATE platform_blobs SET last_put_at = ? WHERE sha256 IN (?, ?)').run(old, kept.sha256, orphan.sha256);
    expect(blobs.gc({ graceMs: 3600_000 })).toEqual({ removed: 1, bytes: 6 });
    expect(blobs.has(orphan.sha256)).toBe(false);
    expect(existsSync(blobs.pathOf(orphan.sha256))).toBe(false);
    expect(blobs.has(kept.sha256)).toBe(true);
    expect(blobs.has(fresh.sha256)).toBe(true);

    blobs.removeRef(kept.sha256, ref);
    expect(blobs.gc({ graceMs: 3600_000 }).removed).toBe(1);
    expect(blobs.stats()).toEqual({ blobs: 1, bytes: 5, unreferenced: 1 });
  });

  it('collects files a crash left without a database row', async () => {
    const stray = sha('stray');
    const file = blobs.pathOf(stray);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'stray');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(file, old, old);
    expect(blobs.gc({ graceMs: 3600_000 })).toEqual({ removed: 1, bytes: 5 });
    expect(existsSync(file)).toBe(false);
  });

  it('stores content again after gc collected an identical blob', async () => {
    const first = await blobs.put('shared content');
    db.prepare('UPDATE platform_blobs SET last_put_at = 0 WHERE sha256 = ?').run(first.sha256);
    expect(blobs.gc({ graceMs: 1000 }).removed).toBe(1);
    const again = await blobs.put('shared content', ref);
    expect(again.sha256).toBe(first.sha256);
    expect((await blobs.read(again.sha256, { verify: true })).toString()).toBe('shared content');
  });

  it('rejects hashes that are not 64 hex characters, so a name can never escape the store', async () => {
    for (const bad of ['../../etc/passwd', '..%2f..%2fetc', 'A'.repeat(64), 'ab/../../cd', '']) {
      expect(() => blobs.pathOf(bad)).toThrow(AppError);
      expect(() => blobs.stat(bad)).toThrow(/64 lowercase hex/);
    }
  });

  it('refuses a reference to a blob it does not hold', () => {
    expect(() => blobs.addRef(sha('missing'), ref)).toThrow(/does not exist/);
  });
});
