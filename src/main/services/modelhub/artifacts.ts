import type { Readable } from 'node:stream';
import type { BlobRef, BlobStore } from '#platform/blobstore';
import type { Db } from '#platform/db';
import { isSafeRelativePath, mediaTypeOf } from '#platform/paths';
import type { RawReply } from '#shared/api/endpoint';
import { AppError } from '#shared/errors';

export const BLOB_OWNER = 'modelhub';

/** The artifact root of a run: where MLflow's clients and the registry find its files. */
export function runArtifactRoot(run: { experimentId: string; id: string }): string {
  return `${run.experimentId}/${run.id}/artifacts`;
}

export interface ArtifactEntry {
  /** Relative to the folder listed. */
  path: string;
  isDir: boolean;
  /** Files only. */
  size: number | null;
}

/**
 * Artifact trees (a run's files, later a logged model's) over the blob store: each root keeps (path → blob)
 * rows, and one blob reference per distinct content, so identical files across runs are stored once and
 * a deleted root's blobs become collectable.
 */
export class ArtifactStore {
  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {}

  private static ref(root: string): BlobRef {
    return { owner: BLOB_OWNER, ref: root };
  }

  /** Stores a file (replacing one at the same path); the stream is read to its end. */
  async put(root: string, path: string, content: Readable | Buffer): Promise<{ sha256: string; size: number }> {
    checkPath(path);
    const ref = ArtifactStore.ref(root);
    const blob = await this.blobs.put(content, ref);
    const previous = this.db
      .prepare('SELECT sha256 FROM modelhub_artifacts WHERE root = ? AND path = ?')
      .get(root, path) as { sha256: string } | undefined;
    this.db
      .prepare(
        `INSERT INTO modelhub_artifacts (root, path, sha256, size, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (root, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
           created_at = excluded.created_at`,
      )
      .run(root, path, blob.sha256, blob.size, Date.now());
    if (previous && previous.sha256 !== blob.sha256) this.dropRefIfUnused(root, previous.sha256);
    return blob;
  }

  /** Adds a file whose blob the root already references (a claimed upload). */
  record(root: string, path: string, sha256: string, size: number): void {
    checkPath(path);
    this.db
      .prepare(
        `INSERT INTO modelhub_artifacts (root, path, sha256, size, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (root, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size`,
      )
      .run(root, path, sha256, size, Date.now());
  }

  private dropRefIfUnused(root: string, sha256: string): void {
    const stillUsed = this.db
      .prepare('SELECT 1 FROM modelhub_artifacts WHERE root = ? AND sha256 = ? LIMIT 1')
      .get(root, sha256);
    if (!stillUsed) this.blobs.removeRef(sha256, ArtifactStore.ref(root));
  }

  /**
   * The entries directly inside `dir` ('' for the root), with paths relative to the root: files with sizes,
   * folders once each. A path that is a file, or nothing, lists as empty (as MLflow's artifact server does).
   */
  list(root: string, dir: string): ArtifactEntry[] {
    if (dir !== '') checkPath(dir);
    const prefix = dir === '' ? '' : `${dir}/`;
    const rows = this.db
      .prepare(`SELECT path, size FROM modelhub_artifacts WHERE root = ? AND substr(path, 1, ?) = ? ORDER BY path`)
      .all(root, prefix.length, prefix) as { path: string; size: number }[];
    const entries: ArtifactEntry[] = [];
    const folders = new Set<string>();
    for (const r of rows) {
      const rest = r.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) entries.push({ path: `${prefix}${rest}`, isDir: false, size: r.size });
      else {
        const folder = `${prefix}${rest.slice(0, slash)}`;
        if (!folders.has(folder)) {
          folders.add(folder);
          entries.push({ path: folder, isDir: true, size: null });
        }
      }
    }
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Every file of a root (or below `dir`), for downloads and copies. */
  files(root: string, dir = ''): { path: string; sha256: string; size: number }[] {
    const prefix = dir === '' ? '' : `${dir}/`;
    return this.db
      .prepare(
        `SELECT path, sha256, size FROM modelhub_artifacts WHERE root = ? AND substr(path, 1, ?) = ? ORDER BY path`,
      )
      .all(root, prefix.length, prefix) as { path: string; sha256: string; size: number }[];
  }

  file(root: string, path: string): RawReply {
    checkPath(path);
    const row = this.db
      .prepare('SELECT sha256, size FROM modelhub_artifacts WHERE root = ? AND path = ?')
      .get(root, path) as { sha256: string; size: number } | undefined;
    if (!row) throw new AppError('NOT_FOUND', `artifact '${path}' does not exist`, { path });
    return { body: this.blobs.open(row.sha256, { verify: true }), contentType: mediaTypeOf(path), size: row.size };
  }

  /** Deletes a file, or every file under a folder; true when anything was there. */
  delete(root: string, path: string): boolean {
    checkPath(path);
    const doomed = this.db
      .prepare('SELECT path, sha256 FROM modelhub_artifacts WHERE root = ? AND (path = ? OR substr(path, 1, ?) = ?)')
      .all(root, path, path.length + 1, `${path}/`) as { path: string; sha256: string }[];
    const remove = this.db.prepare('DELETE FROM modelhub_artifacts WHERE root = ? AND path = ?');
    for (const d of doomed) remove.run(root, d.path);
    for (const sha of new Set(doomed.map((d) => d.sha256))) this.dropRefIfUnused(root, sha);
    return doomed.length > 0;
  }
}

function checkPath(path: string): void {
  if (!isSafeRelativePath(path)) {
    throw new AppError('INVALID_ARGUMENT', `Invalid artifact path: '${path}'`, { field: 'path' });
  }
}
