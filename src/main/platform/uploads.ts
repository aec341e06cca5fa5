import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { UPLOAD_MAX_BYTES, type Upload } from '#shared/contracts/uploads';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { BlobRef, BlobStore } from './blobstore';
import type { Db, MigrationSet } from './db';

export const uploadMigrations: MigrationSet = {
  owner: 'platform.uploads',
  tablePrefix: 'platform',
  migrations: [
    {
      version: 1,
      name: 'resumable uploads',
      sql: `
CREATE TABLE platform_uploads (
  id TEXT PRIMARY KEY,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  received INTEGER NOT NULL,
  expected_sha256 TEXT,
  sha256 TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;`,
    },
  ],
};

/** An upload not finished and consumed within a day is dropped. */
const UPLOAD_TTL_MS = 24 * 3600_000;
const OWNER = 'platform.uploads';

interface Row {
  id: string;
  filename: string;
  size: number;
  received: number;
  expected_sha256: string | null;
  sha256: string | null;
  created_at: number;
  expires_at: number;
}

function toUpload(r: Row): Upload {
  return {
    id: r.id,
    filename: r.filename,
    size: r.size,
    received: r.received,
    sha256: r.sha256,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/**
 * Resumable uploads (as tus does it): a client declares a file's size, then sends chunks at the offset the
 * server reports, so a dropped connection resumes where it stopped, even after a restart. The bytes build up
 * in `blobs/uploads/<id>` (fsynced per chunk); the last chunk turns the file into a blob, held by the upload
 * until a service takes it over with `claim`.
 */
export class UploadStore {
  private readonly dir: string;

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    /** The largest file one upload may hold (`dataforge.maxFileBytes`; the contract caps it at 64 GiB too). */
    private readonly maxFileBytes = UPLOAD_MAX_BYTES,
  ) {
    this.dir = path.join(blobs.root, 'uploads');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private partFile(id: string): string {
    return path.join(this.dir, `${id}.part`);
  }

  private row(id: string): Row {
    const row = this.db.prepare('SELECT * FROM platform_uploads WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw AppError.notFound('upload', id);
    return row;
  }

  async create(input: { filename: string; size: number; sha256?: string | undefined }): Promise<Upload> {
    if (input.size > this.maxFileBytes) {
      throw AppError.invalid(
        'size',
        `'${input.filename}' is ${input.size} bytes, over the limit of ${this.maxFileBytes} bytes per file (dataforge.maxFileBytes)`,
      );
    }
    const now = Date.now();
    const id = newId(now);
    closeSync(openSync(this.partFile(id), 'w', 0o600));
    this.db
      .prepare(
        'INSERT INTO platform_uploads (id, filename, size, received, expected_sha256, sha256, created_at, expires_at) VALUES (?, ?, ?, 0, ?, NULL, ?, ?)',
      )
      .run(id, input.filename, input.size, input.sha256 ?? null, now, now + UPLOAD_TTL_MS);
    return input.size === 0 ? this.finish(this.row(id)) : this.get(id);
  }

  get(id: string): Upload {
    return toUpload(this.row(id));
  }

  /** Appends a chunk at `offset`, which must be the bytes received so far (else CONFLICT naming it). */
  async append(id: string, offset: number, chunk: Buffer): Promise<Upload> {
    const row = this.row(id);
    if (row.sha256 !== null || (row.received === row.size && row.size > 0)) {
      throw new AppError('FAILED_PRECONDITION', `upload ${id} has all its bytes already`);
    }
    if (offset !== row.received) {
      throw new AppError('CONFLICT', `offset must be ${row.received}: the bytes received so far (resume from there)`, {
        expectedOffset: row.received,
      });
    }
    if (row.received + chunk.length > row.size) {
      throw AppError.invalid('body', `the chunk runs past the declared size of ${row.size} bytes`);
    }
    const fd = openSync(this.partFile(id), 'r+');
    try {
      let written = 0;
      while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written, offset + written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const received = row.received + chunk.length;
    this.db
      .prepare('UPDATE platform_uploads SET received = ? WHERE id = ? AND received = ?')
      .run(received, id, row.received);
    const updated = this.row(id);
    return updated.received === updated.size ? this.finish(updated) : toUpload(updated);
  }

  private async finish(row: Row): Promise<Upload> {
    const { sha256 } = await this.blobs.put(createReadStream(this.partFile(row.id)), { owner: OWNER, ref: row.id });
    if (row.expected_sha256 !== null && row.expected_sha256 !== sha256) {
      this.blobs.removeRefsOf({ owner: OWNER, ref: row.id });
      this.drop(row.id);
      throw AppError.invalid(
        'sha256',
        `the uploaded content hashes to ${sha256}, not the declared ${row.expected_sha256}; upload it again`,
      );
    }
    this.db.prepare('UPDATE platform_uploads SET sha256 = ? WHERE id = ?').run(sha256, row.id);
    rmSync(this.partFile(row.id), { force: true });
    return this.get(row.id);
  }

  /**
   * Hands a finished upload's blob to a service: its reference replaces the upload's, and the upload is gone.
   * Fails with FAILED_PRECONDITION while bytes are missing.
   */
  claim(id: string, ref: BlobRef): { sha256: string; size: number; filename: string } {
    const row = this.row(id);
    if (row.sha256 === null) {
      throw new AppError(
        'FAILED_PRECONDITION',
        `upload ${id} is incomplete: ${row.received} of ${row.size} bytes arrived`,
        { id },
      );
    }
    const sha256 = row.sha256;
    this.db.transaction(() => {
      this.blobs.addRef(sha256, ref);
      this.blobs.removeRef(sha256, { owner: OWNER, ref: id });
      this.db.prepare('DELETE FROM platform_uploads WHERE id = ?').run(id);
    })();
    return { sha256, size: row.size, filename: row.filename };
  }

  cancel(id: string): Upload {
    const upload = this.get(id);
    this.blobs.removeRefsOf({ owner: OWNER, ref: id });
    this.drop(id);
    return upload;
  }

  private drop(id: string): void {
    this.db.prepare('DELETE FROM platform_uploads WHERE id = ?').run(id);
    rmSync(this.partFile(id), { force: true });
  }

  /** Drops uploads past their expiry (run by blob garbage collection). */
  expire(now = Date.now()): number {
    const expired = this.db.prepare('SELECT id FROM platform_uploads WHERE expires_at < ?').all(now) as {
      id: string;
    }[];
    for (const { id } of expired) this.cancel(id);
    return expired.length;
  }
}
