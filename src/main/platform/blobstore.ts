import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  read,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
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
    {
      version: 2,
      name: 'small blobs packed together',
      sql: `
ALTER TABLE platform_blobs ADD COLUMN pack TEXT;
ALTER TABLE platform_blobs ADD COLUMN pack_offset INTEGER;`,
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

/** Where a blob's bytes lie: `size` bytes from `offset` of `file` (its own file, offset 0, or a pack). */
export interface BlobLocation {
  file: string;
  offset: number;
  size: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const readAt = promisify(read);
const fsyncAsync = promisify(fsync);

export function assertSha256(value: string): void {
  if (!SHA256.test(value)) throw AppError.invalid('sha256', 'must be 64 lowercase hex characters');
}

export type BlobSource = Readable | AsyncIterable<Uint8Array> | Uint8Array | string;

/** Blobs up to this size that `putFiles` stores go into a pack: one file and one fsync for many blobs. */
export const PACKED_BLOB_MAX_BYTES = 64 * 1024;
/** A pack is closed once it holds this much; `putFiles` then starts another. */
const PACK_MAX_BYTES = 64 * 1024 * 1024;
/** Every pack starts with this, so that a stray file is never read as one. */
const PACK_MAGIC = Buffer.from('AIDOSPK1');
/** Before each packed blob: its sha256 (32 bytes) and size (uint32, big-endian), so a pack describes itself. */
const PACK_ENTRY_HEADER_BYTES = 36;
/** Streams read and write 1 MiB at a time: fewer round trips to the threadpool than the 64 KiB default. */
const STREAM_CHUNK_BYTES = 1024 * 1024;
/** `putFiles` writes this many unpacked (larger) blobs at once; each is held in memory until written. */
const LOOSE_WRITES_IN_FLIGHT = 4;
/**
 * `putFiles` reads files synchronously (a third of the CPU of `fs/promises` per small file); it lets other work
 * run this often.
 */
const FILES_BETWEEN_YIELDS = 256;

interface BlobRow {
  size: number;
  pack: string | null;
  pack_offset: number | null;
}

/**
 * The packed blobs of a pack file, read from its entry headers (whether or not the database still lists them).
 * Stops at a truncated entry. Used to verify packs without the database.
 */
export function* packEntries(file: string): Generator<BlobLocation & { sha256: string }> {
  const fd = openSync(file, 'r');
  try {
    const fileSize = statSync(file).size;
    const header = Buffer.alloc(PACK_ENTRY_HEADER_BYTES);
    if (readSync(fd, header, 0, PACK_MAGIC.length, 0) !== PACK_MAGIC.length) return;
    if (!header.subarray(0, PACK_MAGIC.length).equals(PACK_MAGIC)) return;
    let at = PACK_MAGIC.length;
    while (at + PACK_ENTRY_HEADER_BYTES <= fileSize) {
      readSync(fd, header, 0, PACK_ENTRY_HEADER_BYTES, at);
      const size = header.readUInt32BE(32);
      const offset = at + PACK_ENTRY_HEADER_BYTES;
      if (offset + size > fileSize) return;
      yield { sha256: header.toString('hex', 0, 32), file, offset, size };
      at = offset + size;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A pack being written in `tmp/`. Blobs are staged in memory and written 1 MiB at a time (a write per blob
 * would cost more than reading it); `finish` flushes the file to disk once, for all of them.
 */
class PackWriter {
  readonly id = newId();
  readonly tmp: string;
  /** Bytes in the pack so far, staged ones included: where the next entry goes. */
  size = 0;
  private readonly fd: number;
  private readonly staged = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
  private stagedBytes = 0;
  private closed = false;

  constructor(tmpDir: string) {
    this.tmp = path.join(tmpDir, `${this.id}.pack`);
    this.fd = openSync(this.tmp, 'wx', 0o600);
    this.write(PACK_MAGIC);
  }

  /** Appends a blob; returns the offset of its bytes. */
  append(sha256: string, content: Uint8Array): number {
    const header = Buffer.allocUnsafe(PACK_ENTRY_HEADER_BYTES);
    header.write(sha256, 0, 'hex');
    header.writeUInt32BE(content.length, 32);
    this.write(header);
    const offset = this.size;
    this.write(content);
    return offset;
  }

  private write(bytes: Uint8Array): void {
    if (this.stagedBytes + bytes.length > this.staged.length) this.writeStaged();
    if (bytes.length > this.staged.length) writeFully(this.fd, bytes, this.size);
    else {
      this.staged.set(bytes, this.stagedBytes);
      this.stagedBytes += bytes.length;
    }
    this.size += bytes.length;
  }

  private writeStaged(): void {
    writeFully(this.fd, this.staged.subarray(0, this.stagedBytes), this.size - this.stagedBytes);
    this.stagedBytes = 0;
  }

  /** Writes what is staged and flushes the pack to disk, on the threadpool; then closes it. */
  async finish(): Promise<void> {
    this.writeStaged();
    await fsyncAsync(this.fd);
    this.close();
  }

  finishSync(): void {
    this.writeStaged();
    fsyncSync(this.fd);
    this.close();
  }

  /** Closes the file (once); a pack not finished is then only a temp file to delete. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function writeFully(fd: number, buffer: Uint8Array, position: number): void {
  for (let done = 0; done < buffer.length;) done += writeSync(fd, buffer, done, buffer.length - done, position + done);
}

/**
 * A file's bytes: in `scratch` (valid until the next call) when it fits there with a byte to spare, else read
 * whole into a buffer of its own. Small files are most of an import: reading them into one buffer saves a
 * `stat` and an allocation each.
 */
function readSmallFile(file: string, scratch: Buffer): Buffer {
  const fd = openSync(file, 'r');
  try {
    let filled = 0;
    for (let n = -1; n !== 0 && filled < scratch.length; filled += n) {
      n = readSync(fd, scratch, filled, scratch.length - filled, filled);
    }
    return filled < scratch.length ? scratch.subarray(0, filled) : readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a new file and flushes it to disk, on the threadpool. */
async function writeDurably(file: string, content: Buffer): Promise<void> {
  const handle = await openFile(file, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncFolder(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function fsyncFolderSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Content-addressed storage: a blob's name is the sha256 of its bytes, so identical content is stored once.
 *
 * A blob lives in its own file (`xx/yyyy…`) or, when `putFiles` stores a small one, in a pack
 * (`packs/<id>.pack`, many blobs appended one after another): its row then names the pack and the offset.
 * Readers go through `locate`, so both look the same from outside.
 *
 * Writes go to `tmp/`, are fsynced, then linked (a blob file) or renamed (a pack) into place and their folder
 * is fsynced; the database row and any reference are written in one transaction after that, so a crash leaves
 * at worst a file no row names (collected by `gc`) and never a reference to a missing or partial blob. `gc` and
 * the writers take SQLite's write lock around the steps that must not interleave, so collecting can never
 * remove a blob that a concurrent put just claimed.
 */
export class BlobStore {
  readonly root: string;
  private readonly tmpDir: string;
  private readonly packDir: string;
  private readonly rowOf;
  private readonly upsertTouch;
  private readonly upsertPlaced;
  private readonly insertRefRow;

  constructor(
    private readonly db: Db,
    dataDir: string,
  ) {
    this.root = path.join(dataDir, 'blobs');
    this.tmpDir = path.join(this.root, 'tmp');
    this.packDir = path.join(this.root, 'packs');
    // Leftovers of writes interrupted by a crash: never visible as blobs, safe to drop at open.
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.packDir, { recursive: true, mode: 0o700 });
    this.rowOf = db.prepare<[string], BlobRow>('SELECT size, pack, pack_offset FROM platform_blobs WHERE sha256 = ?');
    // Content already stored elsewhere keeps its place; only the time of the latest put moves.
    this.upsertTouch = db.prepare<[string, number, number, number]>(
      `INSERT INTO platform_blobs (sha256, size, created_at, last_put_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(sha256) DO UPDATE SET last_put_at = excluded.last_put_at`,
    );
    // Content this put wrote (fsynced, in place) is where the row points from now on: an older copy may be gone.
    this.upsertPlaced = db.prepare<[string, number, number, number, string | null, number | null]>(
      `INSERT INTO platform_blobs (sha256, size, created_at, last_put_at, pack, pack_offset) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(sha256) DO UPDATE SET last_put_at = excluded.last_put_at, pack = excluded.pack,
         pack_offset = excluded.pack_offset`,
    );
    this.insertRefRow = db.prepare<[string, string, string, number]>(
      'INSERT OR IGNORE INTO platform_blob_refs (sha256, owner, ref, created_at) VALUES (?, ?, ?, ?)',
    );
  }

  pathOf(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2));
  }

  private packPath(id: string): string {
    return path.join(this.packDir, `${id}.pack`);
  }

  /** Where a stored blob's bytes lie; NOT_FOUND when the store does not hold it. */
  locate(sha256: string): BlobLocation {
    assertSha256(sha256);
    const row = this.rowOf.get(sha256);
    if (!row) throw AppError.notFound('blob', sha256);
    if (row.pack === null) return { file: this.pathOf(sha256), offset: 0, size: row.size };
    return { file: this.packPath(row.pack), offset: row.pack_offset ?? 0, size: row.size };
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
      const out = createWriteStream(tmp, { mode: 0o600, highWaterMark: STREAM_CHUNK_BYTES });
      await pipeline(input, counter, out);
      // On the threadpool: the next file's read and hash go on while the disk flushes this one.
      const written = await openFile(tmp, 'r');
      try {
        await written.sync();
      } finally {
        await written.close();
      }
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      mkdirSync(path.dirname(final), { recursive: true });
      if (this.linkIfMissing(tmp, final)) await fsyncFolder(path.dirname(final));
      const now = Date.now();
      this.db
        .transaction(() => {
          // A gc that ran between the link and this transaction may have removed the file: put it back.
          if (this.linkIfMissing(tmp, final)) fsyncFolderSync(path.dirname(final));
          this.upsertPlaced.run(sha256, size, now, now, null, null);
          if (ref) this.insertRef(sha256, ref, now);
        })
        .immediate();
      return { sha256, size };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /**
   * Stores many files in one go (an import of thousands of files): each is read whole and hashed, and only
   * content the store lacks is written. Blobs up to `PACKED_BLOB_MAX_BYTES` are appended to packs (one fsync
   * per pack), larger ones each get a file; all rows and references are written in one transaction at the end.
   * Same crash guarantees as `put`. Returns the blob of each path, in order. Files should be small enough to
   * hold in memory one at a time. `progress` is called now and then; it may throw to give up, and then
   * nothing is stored.
   */
  async putFiles(
    files: readonly string[],
    ref: BlobRef,
    progress?: (filesRead: number, bytesRead: number) => void,
  ): Promise<BlobInfo[]> {
    const results: BlobInfo[] = new Array(files.length);
    /** The first file of each content, by hash. */
    const firstFile = new Map<string, number>();
    /** Content this call writes, by hash: where its bytes will be once in place. */
    const placed = new Map<string, { pack: PackWriter; offset: number } | { tmp: string }>();
    const packs: PackWriter[] = [];
    const flushes: Promise<void>[] = [];
    const looseWrites = new Set<Promise<void>>();
    let looseWriteFailure: { err: unknown } | undefined;
    const presentPacks = new Set<string>();
    let bytesRead = 0;
    const scratch = Buffer.allocUnsafe(PACKED_BLOB_MAX_BYTES + 1);
    const storeOne = (i: number) => {
      const content = readSmallFile(files[i] as string, scratch);
      bytesRead += content.length;
      const sha256 = createHash('sha256').update(content).digest('hex');
      results[i] = { sha256, size: content.length };
      if (firstFile.has(sha256)) return;
      firstFile.set(sha256, i);
      if (this.holds(sha256, presentPacks)) return;
      if (content.length > 0 && content.length <= PACKED_BLOB_MAX_BYTES) {
        let pack = packs.at(-1);
        if (!pack || pack.size >= PACK_MAX_BYTES) {
          // The full pack goes to disk while the next one fills (its failure surfaces when the flushes are awaited).
          if (pack) {
            const flush = pack.finish();
            flush.catch(() => undefined);
            flushes.push(flush);
          }
          pack = new PackWriter(this.tmpDir);
          packs.push(pack);
        }
        placed.set(sha256, { pack, offset: pack.append(sha256, content) });
      } else {
        const tmp = path.join(this.tmpDir, newId());
        placed.set(sha256, { tmp });
        // A failure is kept, not left to reject: a write no longer in the set would have no one awaiting it.
        const write: Promise<void> = writeDurably(tmp, content)
          .catch((err: unknown) => void (looseWriteFailure ??= { err }))
          .finally(() => looseWrites.delete(write));
        looseWrites.add(write);
      }
    };
    try {
      for (let next = 0; next < files.length;) {
        if (looseWriteFailure) throw looseWriteFailure.err;
        progress?.(next, bytesRead);
        if (looseWrites.size >= LOOSE_WRITES_IN_FLIGHT) await Promise.race(looseWrites);
        else if (next > 0) await yieldToEventLoop();
        const end = Math.min(files.length, next + FILES_BETWEEN_YIELDS);
        // A read transaction around the lookups: outside one, SQLite takes and drops its WAL locks for each.
        this.db.transaction(() => {
          for (; next < end && looseWrites.size < LOOSE_WRITES_IN_FLIGHT; next++) storeOne(next);
        })();
      }
      progress?.(files.length, bytesRead);
      const last = packs.at(-1);
      if (last) flushes.push(last.finish());
      await Promise.all([...looseWrites, ...flushes]);
      if (looseWriteFailure) throw looseWriteFailure.err;

      const dirs = new Set<string>();
      for (const pack of packs) renameSync(pack.tmp, this.packPath(pack.id));
      if (packs.length > 0) dirs.add(this.packDir);
      for (const [sha256, where] of placed) {
        if (!('tmp' in where)) continue;
        const final = this.pathOf(sha256);
        if (!existsSync(path.dirname(final))) {
          mkdirSync(path.dirname(final), { recursive: true });
          dirs.add(this.root);
        }
        if (this.linkIfMissing(where.tmp, final)) dirs.add(path.dirname(final));
      }
      // In parallel: the files touch many of the 256 shard folders, and each fsync waits for the disk.
      await Promise.all([...dirs].map(fsyncFolder));

      const now = Date.now();
      // One transaction, in hash order: the rows' b-trees are keyed by hash, so each of their pages is written
      // once, where batches in file order would rewrite most pages of every b-tree at each commit.
      const hashes = [...firstFile.keys()].sort();
      this.db
        .transaction(() => {
          for (const sha256 of hashes) {
            const i = firstFile.get(sha256) as number;
            const { size } = results[i] as BlobInfo;
            const where = placed.get(sha256);
            if (where && 'pack' in where) {
              this.upsertPlaced.run(sha256, size, now, now, where.pack.id, where.offset);
            } else if (where) {
              this.upsertPlaced.run(sha256, size, now, now, null, null);
            } else if (this.rowOf.get(sha256)) {
              this.upsertTouch.run(sha256, size, now, now);
            } else {
              // A gc between the check above and this transaction removed the stored copy: write it back.
              this.writeSyncDurably(this.pathOf(sha256), readFileSync(files[i] as string));
              this.upsertPlaced.run(sha256, size, now, now, null, null);
            }
            this.insertRef(sha256, ref, now);
          }
        })
        .immediate();
      return results;
    } finally {
      await Promise.allSettled([...looseWrites, ...flushes]);
      for (const pack of packs) {
        pack.close();
        rmSync(pack.tmp, { force: true });
      }
      for (const where of placed.values()) if ('tmp' in where) rmSync(where.tmp, { force: true });
    }
  }

  /** Whether the store holds this content, its bytes included (`presentPacks` remembers packs seen to exist). */
  private holds(sha256: string, presentPacks: Set<string>): boolean {
    const row = this.rowOf.get(sha256);
    if (!row) return false;
    if (row.pack === null) return existsSync(this.pathOf(sha256));
    if (presentPacks.has(row.pack)) return true;
    if (!existsSync(this.packPath(row.pack))) return false;
    presentPacks.add(row.pack);
    return true;
  }

  private writeSyncDurably(final: string, content: Buffer): void {
    mkdirSync(path.dirname(final), { recursive: true });
    const tmp = path.join(this.tmpDir, newId());
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeFully(fd, content, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.linkIfMissing(tmp, final)) fsyncFolderSync(path.dirname(final));
    rmSync(tmp, { force: true });
  }

  /** References blobs the store already holds, in one transaction; returns the hashes it does not hold. */
  addRefs(hashes: readonly string[], ref: BlobRef): string[] {
    const missing: string[] = [];
    const now = Date.now();
    const presentPacks = new Set<string>();
    // In hash order, like the rows they point to: each page of the references' b-trees is then written once.
    const sorted = [...new Set(hashes)].sort();
    this.db.transaction(() => {
      for (const sha256 of sorted) {
        assertSha256(sha256);
        if (this.holds(sha256, presentPacks)) this.insertRef(sha256, ref, now);
        else missing.push(sha256);
      }
    })();
    return missing;
  }

  /** Links `tmp` to `final` unless `final` exists; true when it made the link (the folder then needs an fsync). */
  private linkIfMissing(tmp: string, final: string): boolean {
    if (existsSync(final)) return false;
    try {
      linkSync(tmp, final);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return false;
    }
  }

  private insertRef(sha256: string, ref: BlobRef, now: number): void {
    this.insertRefRow.run(sha256, ref.owner, ref.ref, now);
  }

  has(sha256: string): boolean {
    assertSha256(sha256);
    return this.rowOf.get(sha256) !== undefined;
  }

  stat(sha256: string): BlobInfo {
    const { size } = this.locate(sha256);
    return { sha256, size };
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
   * Opens a blob's file now (not when the stream first reads), so that a gc rewriting its pack in between
   * cannot pull the file away: an open descriptor keeps reading the old pack after it is unlinked.
   */
  private openLocated(sha256: string): BlobLocation & { fd: number } {
    const where = this.locate(sha256);
    try {
      return { ...where, fd: openSync(where.file, 'r') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      throw new AppError('INTERNAL', `blob ${sha256} is missing from ${this.root}`);
    }
  }

  /**
   * Streams a blob. With `verify`, the bytes are hashed as they pass and the stream fails at the end with
   * INTERNAL "corrupted" when they do not match the name, so a reader never silently uses damaged data.
   */
  open(sha256: string, options: { verify?: boolean } = {}): Readable {
    const { fd, offset, size } = this.openLocated(sha256);
    let stream: Readable;
    if (size === 0) {
      closeSync(fd);
      stream = Readable.from([]);
    } else {
      stream = createReadStream('', { fd, start: offset, end: offset + size - 1, highWaterMark: STREAM_CHUNK_BYTES });
    }
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
    const { fd, offset, size } = this.openLocated(sha256);
    try {
      const buffer = Buffer.alloc(Math.min(bytes, size));
      const { bytesRead } = await readAt(fd, buffer, 0, buffer.length, offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Bytes `start` to `end` (exclusive) of a blob, cut to its size: random access for formats that read a
   * footer or index first (Parquet), without streaming the whole blob.
   */
  async readRange(sha256: string, start: number, end: number): Promise<Buffer> {
    const { fd, offset, size } = this.openLocated(sha256);
    try {
      const from = Math.max(0, Math.min(start, size));
      const length = Math.max(0, Math.min(end, size) - from);
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await readAt(fd, buffer, read, length - read, offset + from + read);
        if (bytesRead === 0) throw new AppError('INTERNAL', `blob ${sha256} is shorter on disk than its recorded size`);
        read += bytesRead;
      }
      return buffer;
    } finally {
      closeSync(fd);
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
   * recorded its reference survives), plus files left without a row by a crash. A packed blob's bytes stay in
   * its pack until the pack is rewritten: that happens once less than half of the pack is still in use, and a
   * pack nothing uses any more is deleted. `bytes` counts the removed blobs' sizes.
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
          `SELECT size, pack FROM platform_blobs b WHERE sha256 = ? AND last_put_at < ?
           AND NOT EXISTS (SELECT 1 FROM platform_blob_refs r WHERE r.sha256 = b.sha256)`,
        )
        .get(sha256, cutoff) as { size: number; pack: string | null } | undefined;
      if (!row) return;
      this.db.prepare('DELETE FROM platform_blobs WHERE sha256 = ?').run(sha256);
      if (row.pack === null) rmSync(this.pathOf(sha256), { force: true });
      removed++;
      bytes += row.size;
    });
    for (const { sha256 } of candidates) removeOne.immediate(sha256);

    const removeOrphan = this.db.transaction((sha256: string, file: string) => {
      if (this.rowOf.get(sha256)?.pack === null) return;
      const st = statSync(file, { throwIfNoEntry: false });
      if (!st || st.mtimeMs >= cutoff) return;
      unlinkSync(file);
      removed++;
      bytes += st.size;
    });
    for (const { sha256, file } of this.files()) removeOrphan.immediate(sha256, file);
    this.compactPacks(cutoff);
    return { removed, bytes };
  }

  /** Deletes packs no row uses (once older than `cutoff`) and rewrites those mostly made of removed blobs. */
  private compactPacks(cutoff: number): void {
    const inUse = new Map(
      (
        this.db
          .prepare('SELECT pack, SUM(size) AS bytes FROM platform_blobs WHERE pack IS NOT NULL GROUP BY pack')
          .all() as { pack: string; bytes: number }[]
      ).map((r) => [r.pack, r.bytes]),
    );
    const used = this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM platform_blobs WHERE pack = ?');
    const removeUnused = this.db.transaction((file: string, id: string) => {
      if ((used.get(id)?.n ?? 0) > 0) return;
      const st = statSync(file, { throwIfNoEntry: false });
      if (st && st.mtimeMs < cutoff) unlinkSync(file);
    });
    for (const name of readdirSync(this.packDir)) {
      if (!name.endsWith('.pack')) continue;
      const id = name.slice(0, -'.pack'.length);
      const file = this.packPath(id);
      const live = inUse.get(id);
      if (live === undefined) removeUnused.immediate(file, id);
      else if (live < statSync(file).size / 2) this.rewritePack(id);
    }
  }

  /** Copies the blobs still listed in a pack into a new one, points their rows at it, then deletes the old pack. */
  private rewritePack(id: string): void {
    const oldFile = this.packPath(id);
    const rows = this.db
      .prepare('SELECT sha256, size, pack_offset AS offset FROM platform_blobs WHERE pack = ? ORDER BY pack_offset')
      .all(id) as { sha256: string; size: number; offset: number }[];
    const pack = new PackWriter(this.tmpDir);
    const moved: { sha256: string; offset: number }[] = [];
    const from = openSync(oldFile, 'r');
    try {
      for (const r of rows) {
        const content = Buffer.alloc(r.size);
        readSync(from, content, 0, r.size, r.offset);
        moved.push({ sha256: r.sha256, offset: pack.append(r.sha256, content) });
      }
      pack.finishSync();
      renameSync(pack.tmp, this.packPath(pack.id));
    } finally {
      closeSync(from);
      pack.close();
      rmSync(pack.tmp, { force: true });
    }
    fsyncFolderSync(this.packDir);
    const repoint = this.db.prepare(
      'UPDATE platform_blobs SET pack = ?, pack_offset = ? WHERE sha256 = ? AND pack = ?',
    );
    this.db
      .transaction(() => {
        for (const m of moved) repoint.run(pack.id, m.offset, m.sha256, id);
      })
      .immediate();
    // Only after the rows point at the new pack: a crash before this leaves the old one unused, for the next gc.
    unlinkSync(oldFile);
  }

  /** Every blob file on disk (whether or not the database knows it); packs are listed by `packFiles`. */
  *files(): Generator<{ sha256: string; file: string }> {
    for (const dir of readdirSync(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of readdirSync(path.join(this.root, dir))) {
        const sha256 = dir + name;
        if (SHA256.test(sha256)) yield { sha256, file: path.join(this.root, dir, name) };
      }
    }
  }

  /** Every pack file on disk. */
  packFiles(): string[] {
    return packFilesUnder(this.root);
  }
}

/** The pack files of the blob store at `root` (for readers without the database, such as the verify worker). */
export function packFilesUnder(root: string): string[] {
  const dir = path.join(root, 'packs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.pack'))
    .map((name) => path.join(dir, name));
}
