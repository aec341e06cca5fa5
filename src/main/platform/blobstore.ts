import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  readFileSync as readFileSyncOf,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open as openFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { Db, MigrationSet } from './db';

export const blobMigrations: MigrationSet = {
  owner: 'platform.blobs',
  tablePrefix: 'platform',
  migrations: [
    {
      version: 1,
      name: 'blobs and references',
      sql: `
CREATE TABLE platform_blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_put_at INTEGER NOT NULL
) STRICT;
CREATE TABLE platform_blob_refs (
  sha256 TEXT NOT NULL REFERENCES platform_blobs(sha256) ON DELETE RESTRICT,
  owner TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, ref, sha256)
) STRICT;
CREATE INDEX platform_blob_refs_sha256 ON platform_blob_refs(sha256);`,
    },
  ],
};

export interface BlobInfo {
  sha256: string;
  size: number;
}

export interface BlobRef {
  /** Who holds the reference: a service name ("dataforge"). */
  owner: string;
  /** What in that service holds it: a dataset version id, a run id… */
  ref: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function assertSha256(value: string): void {
  if (!SHA256.test(value)) throw AppError.invalid('sha256', 'must be 64 lowercase hex characters');
}

export type BlobSource = Readable | AsyncIterable<Uint8Array> | Uint8Array | string;

/**
 * Content-addressed storage: a blob's name is the sha256 of its bytes, so identical content is stored once.
 *
 * Writes stream to `tmp/`, are fsynced, then hard-linked into place; the database row and any reference are
 * written in one transaction after the file is in place, so a crash leaves at worst an unreferenced file
 * (collected by `gc`) and never a reference to a missing or partial blob. `gc` and `put` take SQLite's write
 * lock around their file operations, so collecting can never remove a blob that a concurrent put just claimed.
 */
export class BlobStore {
  readonly root: string;
  private readonly tmpDir: string;

  constructor(
    private readonly db: Db,
    dataDir: string,
  ) {
    this.root = path.join(dataDir, 'blobs');
    this.tmpDir = path.join(this.root, 'tmp');
    // Leftovers of writes interrupted by a crash: never visible as blobs, safe to drop at open.
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  pathOf(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2));
  }

  /** Stores bytes; returns their hash and size. With `ref`, also records that reference atomically. */
  async put(source: BlobSource, ref?: BlobRef): Promise<BlobInfo> {
    const tmp = path.join(this.tmpDir, newId());
    const hash = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const input = typeof source === 'string' || source instanceof Uint8Array ? Readable.from([source]) : source;
    try {
      const out = createWriteStream(tmp, { mode: 0o600 });
      await pipeline(input, counter, out);
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      mkdirSync(path.dirname(final), { recursive: true });
      this.linkIfMissing(tmp, final);
      const now = Date.now();
      this.db
        .transaction(() => {
          // A gc that ran between the link and this transaction may have removed the file: put it back.
          this.linkIfMissing(tmp, final);
          this.db
            .prepare(
              `INSERT INTO platform_blobs (sha256, size, created_at, last_put_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(sha256) DO UPDATE SET last_put_at = excluded.last_put_at`,
            )
            .run(sha256, size, now, now);
          if (ref) this.insertRef(sha256, ref, now);
        })
        .immediate();
      return { sha256, size };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /**
   * Stores many small files in one go (an import of thousands of files): each is read whole and hashed,
   * only content the store lacks is written (to tmp, fsynced, in parallel), each touched folder is fsynced
   * once, and all rows and references are written in one transaction. Same crash guarantees as `put`.
   * Returns the blob of each path, in order. Files should be small (they are held in memory).
   */
  async putFiles(files: readonly string[], ref: BlobRef, parallel = 16): Promise<BlobInfo[]> {
    const results: (BlobInfo & { tmp?: string })[] = new Array(files.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < files.length; i = next++) {
        const content = await readFile(files[i] as string);
        const sha256 = createHash('sha256').update(content).digest('hex');
        const entry: BlobInfo & { tmp?: string } = { sha256, size: content.length };
        if (!existsSync(this.pathOf(sha256))) {
          const tmp = path.join(this.tmpDir, newId());
          const handle = await openFile(tmp, 'wx', 0o600);
          try {
            await handle.writeFile(content);
            await handle.sync();
          } finally {
            await handle.close();
          }
          entry.tmp = tmp;
        }
        results[i] = entry;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(parallel, files.length) }, worker));
      const dirs = new Set<string>();
      for (const r of results) {
        if (!r.tmp) continue;
        const final = this.pathOf(r.sha256);
        const dir = path.dirname(final);
        if (!existsSync(dir)) {
          mkdirSync(dir, { recursive: true });
          dirs.add(this.root);
        }
        try {
          linkSync(r.tmp, final);
          dirs.add(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      for (const dir of dirs) {
        const fd = openSync(dir, 'r');
        fsyncSync(fd);
        closeSync(fd);
      }
      const now = Date.now();
      const upsert = this.db.prepare(
        `INSERT INTO platform_blobs (sha256, size, created_at, last_put_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(sha256) DO UPDATE SET last_put_at = excluded.last_put_at`,
      );
      this.db
        .transaction(() => {
          for (const [i, r] of results.entries()) {
            const final = this.pathOf(r.sha256);
            // A gc between the existence check and this transaction may have removed an old copy: write it back.
            if (!existsSync(final)) {
              if (r.tmp) this.linkIfMissing(r.tmp, final);
              else this.writeSyncDurably(final, readFileSyncOf(files[i] as string));
            }
            upsert.run(r.sha256, r.size, now, now);
            this.insertRef(r.sha256, ref, now);
          }
        })
        .immediate();
      return results.map((r) => ({ sha256: r.sha256, size: r.size }));
    } finally {
      for (const r of results) if (r?.tmp) rmSync(r.tmp, { force: true });
    }
  }

  private writeSyncDurably(final: string, content: Buffer): void {
    mkdirSync(path.dirname(final), { recursive: true });
    const tmp = path.join(this.tmpDir, newId());
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.linkIfMissing(tmp, final);
    rmSync(tmp, { force: true });
  }

  /** References blobs the store already holds, in one transaction; returns the hashes it does not hold. */
  addRefs(hashes: readonly string[], ref: BlobRef): string[] {
    const missing: string[] = [];
    const now = Date.now();
    const exists = this.db.prepare('SELECT 1 FROM platform_blobs WHERE sha256 = ?');
    this.db.transaction(() => {
      for (const sha256 of hashes) {
        assertSha256(sha256);
        if (exists.get(sha256) === undefined || !existsSync(this.pathOf(sha256))) missing.push(sha256);
        else this.insertRef(sha256, ref, now);
      }
    })();
    return missing;
  }

  private linkIfMissing(tmp: string, final: string): void {
    if (existsSync(final)) return;
    try {
      linkSync(tmp, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const dirFd = openSync(path.dirname(final), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  }

  private insertRef(sha256: string, ref: BlobRef, now: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO platform_blob_refs (sha256, owner, ref, created_at) VALUES (?, ?, ?, ?)')
      .run(sha256, ref.owner, ref.ref, now);
  }

  has(sha256: string): boolean {
    assertSha256(sha256);
    return this.db.prepare('SELECT 1 FROM platform_blobs WHERE sha256 = ?').get(sha256) !== undefined;
  }

  stat(sha256: string): BlobInfo {
    assertSha256(sha256);
    const row = this.db.prepare('SELECT sha256, size FROM platform_blobs WHERE sha256 = ?').get(sha256) as
      BlobInfo | undefined;
    if (!row) throw AppError.notFound('blob', sha256);
    return row;
  }

  /** References an existing blob; fails with NOT_FOUND when the store does not hold it. */
  addRef(sha256: string, ref: BlobRef): void {
    this.stat(sha256);
    this.insertRef(sha256, ref, Date.now());
  }

  removeRef(sha256: string, ref: BlobRef): void {
    assertSha256(sha256);
    this.db
      .prepare('DELETE FROM platform_blob_refs WHERE sha256 = ? AND owner = ? AND ref = ?')
      .run(sha256, ref.owner, ref.ref);
  }

  /** Drops every reference a holder has (a deleted dataset version, a deleted run). */
  removeRefsOf(ref: BlobRef): number {
    return this.db.prepare('DELETE FROM platform_blob_refs WHERE owner = ? AND ref = ?').run(ref.owner, ref.ref)
      .changes;
  }

  /** The distinct `ref`s an owner holds references under (for repairing references of interrupted work). */
  refHolders(owner: string): string[] {
    return (
      this.db.prepare('SELECT DISTINCT ref FROM platform_blob_refs WHERE owner = ?').all(owner) as { ref: string }[]
    ).map((r) => r.ref);
  }

  refsOf(sha256: string): BlobRef[] {
    assertSha256(sha256);
    return this.db
      .prepare('SELECT owner, ref FROM platform_blob_refs WHERE sha256 = ? ORDER BY owner, ref')
      .all(sha256) as BlobRef[];
  }

  /**
   * Streams a blob. With `verify`, the bytes are hashed as they pass and the stream fails at the end with
   * INTERNAL "corrupted" when they do not match the name, so a reader never silently uses damaged data.
   */
  open(sha256: string, options: { verify?: boolean } = {}): Readable {
    const { size } = this.stat(sha256);
    const file = this.pathOf(sha256);
    if (!existsSync(file)) throw new AppError('INTERNAL', `blob ${sha256} is missing from ${this.root}`);
    const stream = createReadStream(file);
    if (!options.verify) return stream;
    const hash = createHash('sha256');
    let seen = 0;
    const checker = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        seen += chunk.length;
        done(null, chunk);
      },
      flush(done) {
        const actual = hash.digest('hex');
        if (actual !== sha256 || seen !== size) {
          done(new AppError('INTERNAL', `blob ${sha256} is corrupted: its content hashes to ${actual}`, { sha256 }));
        } else done();
      },
    });
    stream.on('error', (err) => checker.destroy(err));
    return stream.pipe(checker);
  }

  /** The first `bytes` bytes of a blob (fewer if it is shorter), e.g. to read a file header. */
  async readHead(sha256: string, bytes: number): Promise<Buffer> {
    const handle = await openFile(this.pathOf(sha256), 'r');
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async read(sha256: string, options: { verify?: boolean } = {}): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.open(sha256, options)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  stats(): { blobs: number; bytes: number; unreferenced: number } {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS blobs, COALESCE(SUM(size), 0) AS bytes,
                SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM platform_blob_refs r WHERE r.sha256 = b.sha256) THEN 1 ELSE 0 END) AS unreferenced
         FROM platform_blobs b`,
      )
      .get() as { blobs: number; bytes: number; unreferenced: number | null };
    return { blobs: row.blobs, bytes: row.bytes, unreferenced: row.unreferenced ?? 0 };
  }

  /**
   * Removes blobs nothing references and that were not written within `graceMs` (so an upload that has not yet
   * recorded its reference survives), plus files left without a row by a crash.
   */
  gc(options: { graceMs: number; now?: number }): { removed: number; bytes: number } {
    const cutoff = (options.now ?? Date.now()) - options.graceMs;
    const candidates = this.db
      .prepare(
        `SELECT sha256 FROM platform_blobs b
         WHERE last_put_at < ? AND NOT EXISTS (SELECT 1 FROM platform_blob_refs r WHERE r.sha256 = b.sha256)`,
      )
      .all(cutoff) as { sha256: string }[];
    let removed = 0;
    let bytes = 0;
    const removeOne = this.db.transaction((sha256: string) => {
      const row = this.db
        .prepare(
          `SELECT size FROM platform_blobs b WHERE sha256 = ? AND last_put_at < ?
           AND NOT EXISTS (SELECT 1 FROM platform_blob_refs r WHERE r.sha256 = b.sha256)`,
        )
        .get(sha256, cutoff) as { size: number } | undefined;
      if (!row) return;
      this.db.prepare('DELETE FROM platform_blobs WHERE sha256 = ?').run(sha256);
      rmSync(this.pathOf(sha256), { force: true });
      removed++;
      bytes += row.size;
    });
    for (const { sha256 } of candidates) removeOne.immediate(sha256);

    const removeOrphan = this.db.transaction((sha256: string, file: string) => {
      if (this.db.prepare('SELECT 1 FROM platform_blobs WHERE sha256 = ?').get(sha256)) return;
      const st = statSync(file, { throwIfNoEntry: false });
      if (!st || st.mtimeMs >= cutoff) return;
      unlinkSync(file);
      removed++;
      bytes += st.size;
    });
    for (const { sha256, file } of this.files()) removeOrphan.immediate(sha256, file);
    return { removed, bytes };
  }

  /** Every blob file on disk (whether or not the database knows it). */
  *files(): Generator<{ sha256: string; file: string }> {
    for (const dir of readdirSync(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of readdirSync(path.join(this.root, dir))) {
        const sha256 = dir + name;
        if (SHA256.test(sha256)) yield { sha256, file: path.join(this.root, dir, name) };
      }
    }
  }
}
