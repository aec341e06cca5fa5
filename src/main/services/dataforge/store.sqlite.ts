import path from 'node:path';
import type { Db } from '#platform/db';
import type { ColumnType, DatasetVersion, QualityReport, VersionProfile, Watch } from '#shared/contracts/dataforge';
import type { DataforgeStore, DatasetRow, ImportDigest, StatCacheEntry, VersionRow } from './store';

/**
 * `root` itself and every path below it, as one range scan of the stat cache's primary key: the paths that
 * start with `root/` lie between `root/` and `root0` ('0' follows '/'; likewise ']' follows '\\').
 */
const UNDER_ROOT = 'path = ? OR (path >= ? AND path < ?)';
function underRoot(root: string): [string, string, string] {
  return [root, root + path.sep, root + String.fromCharCode(path.sep.charCodeAt(0) + 1)];
}

interface VersionDbRow {
  id: string;
  dataset_id: string;
  number: number;
  message: string;
  author: string;
  parent_id: string | null;
  manifest_sha256: string;
  file_count: number;
  total_bytes: number;
  kind: string;
  created_at: number;
}

function toVersion(r: VersionDbRow): VersionRow {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    number: r.number,
    message: r.message,
    author: r.author,
    parentId: r.parent_id,
    manifestSha256: r.manifest_sha256,
    fileCount: r.file_count,
    totalBytes: r.total_bytes,
    kind: r.kind as DatasetVersion['kind'],
    createdAt: r.created_at,
  };
}

const DATASET_COLUMNS = 'id, name, description, created_at AS createdAt, updated_at AS updatedAt';

export class SqliteDataforgeStore implements DataforgeStore {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertDataset(row: DatasetRow): void {
    this.db
      .prepare('INSERT INTO dataforge_datasets (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(row.id, row.name, row.description, row.createdAt, row.updatedAt);
  }

  getDataset(idOrName: string): DatasetRow | undefined {
    return this.db
      .prepare(`SELECT ${DATASET_COLUMNS} FROM dataforge_datasets WHERE id = ? OR name = ?`)
      .get(idOrName, idOrName) as DatasetRow | undefined;
  }

  listDatasets(limit: number, before?: string): DatasetRow[] {
    return this.db
      .prepare(`SELECT ${DATASET_COLUMNS} FROM dataforge_datasets WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`)
      .all(before ?? null, before ?? null, limit) as DatasetRow[];
  }

  touchDataset(id: string, at: number): void {
    this.db.prepare('UPDATE dataforge_datasets SET updated_at = ? WHERE id = ?').run(at, id);
  }

  insertVersion(row: Omit<VersionRow, 'number'>): VersionRow {
    const { next } = this.db
      .prepare('SELECT COALESCE(MAX(number), 0) + 1 AS next FROM dataforge_versions WHERE dataset_id = ?')
      .get(row.datasetId) as { next: number };
    this.db
      .prepare(
        `INSERT INTO dataforge_versions (id, dataset_id, number, message, author, parent_id, manifest_sha256, file_count, total_bytes, kind, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.datasetId,
        next,
        row.message,
        row.author,
        row.parentId,
        row.manifestSha256,
        row.fileCount,
        row.totalBytes,
        row.kind,
        row.createdAt,
      );
    return { ...row, number: next };
  }

  private version(sql: string, ...args: unknown[]): VersionRow | undefined {
    const row = this.db.prepare(sql).get(...args) as VersionDbRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  latestVersion(datasetId: string): VersionRow | undefined {
    return this.version(
      'SELECT * FROM dataforge_versions WHERE dataset_id = ? ORDER BY number DESC LIMIT 1',
      datasetId,
    );
  }

  versionByNumber(datasetId: string, number: number): VersionRow | undefined {
    return this.version('SELECT * FROM dataforge_versions WHERE dataset_id = ? AND number = ?', datasetId, number);
  }

  versionById(id: string): VersionRow | undefined {
    return this.version('SELECT * FROM dataforge_versions WHERE id = ?', id);
  }

  versionByTag(datasetId: string, tag: string): VersionRow | undefined {
    return this.version(
      'SELECT v.* FROM dataforge_tags t JOIN dataforge_versions v ON v.id = t.version_id WHERE t.dataset_id = ? AND t.tag = ?',
      datasetId,
      tag,
    );
  }

  listVersions(datasetId: string, limit: number, before?: string): VersionRow[] {
    return (
      this.db
        .prepare(
          'SELECT * FROM dataforge_versions WHERE dataset_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?',
        )
        .all(datasetId, before ?? null, before ?? null, limit) as VersionDbRow[]
    ).map(toVersion);
  }

  countVersions(datasetId: string): number {
    return (
      this.db.prepare('SELECT COUNT(*) AS n FROM dataforge_versions WHERE dataset_id = ?').get(datasetId) as {
        n: number;
      }
    ).n;
  }

  allVersionIds(): Set<string> {
    return new Set((this.db.prepare('SELECT id FROM dataforge_versions').all() as { id: string }[]).map((r) => r.id));
  }

  tagsOf(versionId: string): string[] {
    return (
      this.db.prepare('SELECT tag FROM dataforge_tags WHERE version_id = ? ORDER BY tag').all(versionId) as {
        tag: string;
      }[]
    ).map((r) => r.tag);
  }

  setTag(datasetId: string, tag: string, versionId: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO dataforge_tags (dataset_id, tag, version_id, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(dataset_id, tag) DO UPDATE SET version_id = excluded.version_id, created_at = excluded.created_at`,
      )
      .run(datasetId, tag, versionId, at);
  }

  removeTag(datasetId: string, tag: string): boolean {
    return (
      this.db.prepare('DELETE FROM dataforge_tags WHERE dataset_id = ? AND tag = ?').run(datasetId, tag).changes === 1
    );
  }

  getProfile(versionId: string): VersionProfile | undefined {
    const row = this.db.prepare('SELECT profile FROM dataforge_profiles WHERE version_id = ?').get(versionId) as
      { profile: string } | undefined;
    return row ? (JSON.parse(row.profile) as VersionProfile) : undefined;
  }

  saveProfile(profile: VersionProfile): void {
    this.db
      .prepare(
        `INSERT INTO dataforge_profiles (version_id, profile, created_at) VALUES (?, ?, ?)
         ON CONFLICT(version_id) DO UPDATE SET profile = excluded.profile, created_at = excluded.created_at`,
      )
      .run(profile.versionId, JSON.stringify(profile), profile.createdAt);
  }

  getQuality(versionId: string): QualityReport | undefined {
    const row = this.db.prepare('SELECT report FROM dataforge_quality WHERE version_id = ?').get(versionId) as
      { report: string } | undefined;
    return row ? (JSON.parse(row.report) as QualityReport) : undefined;
  }

  saveQuality(report: QualityReport): void {
    this.db
      .prepare(
        `INSERT INTO dataforge_quality (version_id, report, created_at) VALUES (?, ?, ?)
         ON CONFLICT(version_id) DO UPDATE SET report = excluded.report, created_at = excluded.created_at`,
      )
      .run(report.versionId, JSON.stringify(report), report.createdAt);
  }

  columnTypes(datasetId: string, path: string): Map<string, ColumnType> {
    const rows = this.db
      .prepare('SELECT column_name AS name, type FROM dataforge_column_types WHERE dataset_id = ? AND path = ?')
      .all(datasetId, path) as { name: string; type: ColumnType }[];
    return new Map(rows.map((r) => [r.name, r.type]));
  }

  setColumnTypes(datasetId: string, path: string, types: Record<string, ColumnType | null>, at: number): void {
    const put = this.db.prepare(
      `INSERT INTO dataforge_column_types (dataset_id, path, column_name, type, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(dataset_id, path, column_name) DO UPDATE SET type = excluded.type, updated_at = excluded.updated_at`,
    );
    const remove = this.db.prepare(
      'DELETE FROM dataforge_column_types WHERE dataset_id = ? AND path = ? AND column_name = ?',
    );
    this.db.transaction(() => {
      for (const [name, type] of Object.entries(types)) {
        if (type === null) remove.run(datasetId, path, name);
        else put.run(datasetId, path, name, type, at);
      }
    })();
  }

  insertWatch(w: Watch): void {
    this.db
      .prepare(
        'INSERT INTO dataforge_watches (id, dataset_id, path, settle_ms, created_at, last_job_id) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(w.id, w.datasetId, w.path, w.settleMs, w.createdAt, w.lastJobId);
  }

  listWatches(datasetId?: string): Watch[] {
    return this.db
      .prepare(
        `SELECT id, dataset_id AS datasetId, path, settle_ms AS settleMs, created_at AS createdAt, last_job_id AS lastJobId
         FROM dataforge_watches WHERE (? IS NULL OR dataset_id = ?) ORDER BY id`,
      )
      .all(datasetId ?? null, datasetId ?? null) as Watch[];
  }

  deleteWatch(id: string): boolean {
    return this.db.prepare('DELETE FROM dataforge_watches WHERE id = ?').run(id).changes === 1;
  }

  setWatchJob(id: string, jobId: string): void {
    this.db.prepare('UPDATE dataforge_watches SET last_job_id = ? WHERE id = ?').run(jobId, id);
  }

  statCacheUnder(root: string): Map<string, StatCacheEntry> {
    const rows = this.db
      .prepare<[string, string, string], [string, number, string, string, string, string]>(
        `SELECT path, size, mtime_ns, ctime_ns, ino, sha256 FROM dataforge_stat_cache WHERE ${UNDER_ROOT}`,
      )
      .raw()
      .all(...underRoot(root));
    const out = new Map<string, StatCacheEntry>();
    for (const [p, size, mtimeNs, ctimeNs, ino, sha256] of rows)
      out.set(p, { path: p, size, mtimeNs, ctimeNs, ino, sha256 });
    return out;
  }

  importDigest(datasetId: string, root: string): ImportDigest | undefined {
    return this.db
      .prepare<[string, string], ImportDigest>(
        `SELECT scan_digest AS scanDigest, version_id AS versionId FROM dataforge_import_digests
         WHERE dataset_id = ? AND root = ?`,
      )
      .get(datasetId, root);
  }

  saveImportDigest(datasetId: string, root: string, digest: ImportDigest | undefined, at: number): void {
    if (!digest) {
      this.db.prepare('DELETE FROM dataforge_import_digests WHERE dataset_id = ? AND root = ?').run(datasetId, root);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO dataforge_import_digests (dataset_id, root, scan_digest, version_id, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (dataset_id, root) DO UPDATE SET scan_digest = excluded.scan_digest,
           version_id = excluded.version_id, at = excluded.at`,
      )
      .run(datasetId, root, digest.scanDigest, digest.versionId, at);
  }

  saveStatCache(entries: readonly StatCacheEntry[], at: number, forget: readonly string[] = []): void {
    const put = this.db.prepare(
      `INSERT INTO dataforge_stat_cache (path, size, mtime_ns, ctime_ns, ino, sha256, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ctime_ns = excluded.ctime_ns,
         ino = excluded.ino, sha256 = excluded.sha256, checked_at = excluded.checked_at`,
    );
    const drop = this.db.prepare('DELETE FROM dataforge_stat_cache WHERE path = ?');
    this.db.transaction(() => {
      for (const e of entries) put.run(e.path, e.size, e.mtimeNs, e.ctimeNs, e.ino, e.sha256, at);
      for (const p of forget) drop.run(p);
    })();
  }
}
