import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors';
import { BlobStore, PACKED_BLOB_MAX_BYTES, blobMigrations, packEntries } from './blobstore';
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

  it('reads a byte range of a blob, cut to its size', async () => {
    const { sha256 } = await blobs.put('0123456789', ref);
    expect((await blobs.readRange(sha256, 2, 5)).toString()).toBe('234');
    expect((await blobs.readRange(sha256, 6, 100)).toString()).toBe('6789');
    expect((await blobs.readRange(sha256, 12, 20)).length).toBe(0);
    await expect(blobs.readRange(sha('missing'), 0, 1)).rejects.toThrow(/does not exist/);
  });
});

describe('packed blobs', () => {
  const packDir = () => path.join(tmp.dir, 'blobs', 'packs');
  const hoursAgo = (h: number) => Date.now() - h * 3600_000;
  function writeSources(contents: (string | Buffer)[]): string[] {
    const dir = path.join(tmp.dir, 'src');
    mkdirSync(dir, { recursive: true });
    return contents.map((c, i) => {
      const file = path.join(dir, `f${i}`);
      writeFileSync(file, c);
      return file;
    });
  }
  function age(file: string, ms: number): void {
    const t = new Date(ms);
    utimesSync(file, t, t);
  }

  it('packs small files into one pack that reads, verifies and survives a restart like blob files', async () => {
    const big = Buffer.alloc(PACKED_BLOB_MAX_BYTES + 1, 3);
    const files = writeSources(['alpha', 'beta', 'alpha', big, '']);
    const infos = await blobs.putFiles(files, ref);
    expect(infos.map((i) => i.sha256)).toEqual([sha('alpha'), sha('beta'), sha('alpha'), sha(big), sha('')]);
    expect(readdirSync(packDir())).toHaveLength(1);
    expect([...blobs.files()].map((f) => f.sha256).sort()).toEqual([sha(big), sha('')].sort()); // too large, empty
    expect(readdirSync(path.join(tmp.dir, 'blobs', 'tmp'))).toEqual([]);
    db.close();
    open();
    expect(blobs.stats()).toEqual({ blobs: 4, bytes: 5 + 4 + big.length, unreferenced: 0 });
    expect((await blobs.read(sha('beta'), { verify: true })).toString()).toBe('beta');
    expect((await blobs.readHead(sha('alpha'), 3)).toString()).toBe('alp');
    expect((await blobs.readRange(sha('alpha'), 1, 100)).toString()).toBe('lpha');
    expect((await blobs.read(sha(''), { verify: true })).length).toBe(0);
    const [pack] = blobs.packFiles();
    expect([...packEntries(pack as string)].map((e) => e.sha256)).toEqual([sha('alpha'), sha('beta')]);
  });

  it('detects a corrupted packed blob when reading with verify', async () => {
    const [file] = writeSources(['precious label']);
    await blobs.putFiles([file as string], ref);
    const { file: pack, offset } = blobs.locate(sha('precious label'));
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(pack, 'r+');
    writeSync(fd, 'P', offset);
    closeSync(fd);
    await expect(blobs.read(sha('precious label'), { verify: true })).rejects.toThrow(/is corrupted/);
    const [entry] = [...packEntries(pack)];
    expect(entry?.sha256).toBe(sha('precious label')); // what the verify worker compares the bytes with
  });

  it('rewrites a pack once less than half of it is in use, and deletes one nothing uses', async () => {
    const kept = 'k'.repeat(1000);
    const dropped = Array.from({ length: 5 }, (_, i) => String(i).repeat(1000));
    await blobs.putFiles(writeSources([kept, ...dropped]), ref);
    const onlyDropped = Array.from({ length: 3 }, (_, i) => `x${i}`.repeat(500));
    await blobs.putFiles(writeSources(onlyDropped), { owner: 'dataforge', ref: 'version-2' });
    const [firstPack, secondPack] = [blobs.locate(sha(kept)).file, blobs.locate(sha(onlyDropped[0] as string)).file];
    for (const c of [...dropped, ...onlyDropped])
      blobs.removeRef(sha(c), c.startsWith('x') ? { owner: 'dataforge', ref: 'version-2' } : ref);
    db.prepare('UPDATE platform_blobs SET last_put_at = ?').run(hoursAgo(2));
    for (const p of [firstPack, secondPack]) age(p, hoursAgo(2));

    expect(blobs.gc({ graceMs: 3600_000 })).toEqual({ removed: 8, bytes: 5000 + 3000 });
    expect(existsSync(firstPack)).toBe(false);
    expect(existsSync(secondPack)).toBe(false);
    const moved = blobs.locate(sha(kept));
    expect(moved.file).not.toBe(firstPack);
    expect(statSync(moved.file).size).toBeLessThan(1100);
    expect((await blobs.read(sha(kept), { verify: true })).toString()).toBe(kept);
    expect(blobs.packFiles()).toEqual([moved.file]);
    db.close();
    open();
    expect((await blobs.read(sha(kept), { verify: true })).toString()).toBe(kept);
  });

  it('keeps a pack whose import has not committed yet, and collects one a crash left behind once it is old', async () => {
    await blobs.putFiles(writeSources(['committed']), ref);
    db.prepare('DELETE FROM platform_blob_refs').run();
    db.prepare('DELETE FROM platform_blobs').run(); // as if the process died before the transaction
    const [pack] = blobs.packFiles();
    expect(blobs.gc({ graceMs: 3600_000 })).toEqual({ removed: 0, bytes: 0 });
    expect(existsSync(pack as string)).toBe(true); // too recent: an import may be about to commit it
    age(pack as string, hoursAgo(2));
    blobs.gc({ graceMs: 3600_000 });
    expect(existsSync(pack as string)).toBe(false);
    expect(blobs.has(sha('committed'))).toBe(false);
  });

  it('stores content again, in a new place, when its pack has gone missing', async () => {
    const [file] = writeSources(['fragile']);
    await blobs.putFiles([file as string], ref);
    const lost = blobs.locate(sha('fragile')).file;
    const { rmSync } = await import('node:fs');
    rmSync(lost);
    expect(blobs.addRefs([sha('fragile')], { owner: 'x', ref: 'y' })).toEqual([sha('fragile')]);
    await blobs.putFiles([file as string], ref);
    expect(blobs.locate(sha('fragile')).file).not.toBe(lost);
    expect((await blobs.read(sha('fragile'), { verify: true })).toString()).toBe('fragile');
  });

  it('points a packed blob at its own file when put() stores the same content', async () => {
    const [file] = writeSources(['twice']);
    await blobs.putFiles([file as string], ref);
    await blobs.put('twice', ref);
    expect(blobs.locate(sha('twice'))).toEqual({ file: blobs.pathOf(sha('twice')), offset: 0, size: 5 });
    expect((await blobs.read(sha('twice'), { verify: true })).toString()).toBe('twice');
  });
});
