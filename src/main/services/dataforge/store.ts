import type { ColumnType, DatasetVersion, QualityReport, VersionProfile, Watch } from '#shared/contracts/dataforge';

export interface DatasetRow {
  id: string;
  name: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}

export type VersionRow = Omit<DatasetVersion, 'tags'>;

export interface StatCacheEntry {
  path: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  sha256: string;
}

/**
 * Persistence of datasets, versions, tags and the import stat cache. Lists are newest first and paged by the
 * last id of the previous page. `insertVersion` assigns the next number inside the caller's transaction.
 */
export interface DataforgeStore {
  transaction<T>(fn: () => T): T;
  insertDataset(row: DatasetRow): void;
  getDataset(idOrName: string): DatasetRow | undefined;
  listDatasets(limit: number, before?: string): DatasetRow[];
  touchDataset(id: string, at: number): void;
  insertVersion(row: Omit<VersionRow, 'number'>): VersionRow;
  latestVersion(datasetId: string): VersionRow | undefined;
  versionByNumber(datasetId: string, number: number): VersionRow | undefined;
  versionById(id: string): VersionRow | undefined;
  versionByTag(datasetId: string, tag: string): VersionRow | undefined;
  listVersions(datasetId: string, limit: number, before?: string): VersionRow[];
  countVersions(datasetId: string): number;
  allVersionIds(): Set<string>;
  tagsOf(versionId: string): string[];
  setTag(datasetId: string, tag: string, versionId: string, at: number): void;
  removeTag(datasetId: string, tag: string): boolean;
  getProfile(versionId: string): VersionProfile | undefined;
  saveProfile(profile: VersionProfile): void;
  getQuality(versionId: string): QualityReport | undefined;
  saveQuality(report: QualityReport): void;
  /** Declared column types of a table of a dataset (they hold for every version). */
  columnTypes(datasetId: string, path: string): Map<string, ColumnType>;
  /** Sets (or, with null, removes) declared column types in one transaction. */
  setColumnTypes(datasetId: string, path: string, types: Record<string, ColumnType | null>, at: number): void;
  insertWatch(watch: Watch): void;
  listWatches(datasetId?: string): Watch[];
  deleteWatch(id: string): boolean;
  setWatchJob(id: string, jobId: string): void;
  /** What the stat cache knows of `root` and every path below it, by path. */
  statCacheUnder(root: string): Map<string, StatCacheEntry>;
  /** What the last import of `root` into a dataset saw (its scan digest) and the version it gave. */
  importDigest(datasetId: string, root: string): ImportDigest | undefined;
  /** Records it once every file of an import is in the stat cache; `undefined` forgets it. */
  saveImportDigest(datasetId: string, root: string, digest: ImportDigest | undefined, at: number): void;
  /** Records hashes of files as they were when read, and forgets paths that are gone, in one transaction. */
  saveStatCache(entries: readonly StatCacheEntry[], at: number, forget?: readonly string[]): void;
}

/** A folder's scan digest (see ScanResult.digest) as of an import, and what the import found. */
export interface ImportDigest {
  scanDigest: string;
  versionId: string;
}
