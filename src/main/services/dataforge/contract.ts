import type { z } from 'zod';
import type {
  ColumnType,
  Dataset,
  DatasetVersion,
  ImportResult,
  ManifestEntry,
  QualityReport,
  RowFilter,
  RowsPage,
  TableDiff,
  TableSchema,
  VersionDiff,
  VersionProfile,
  Watch,
} from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import type { RawReply } from '#shared/api/endpoint';
import type { LabelingService } from './labeling';

export { labelingEndpoints, labelingEvents } from '#shared/contracts/labeling';
export {
  dataforgeEndpoints,
  dataforgeEvents,
  type Dataset,
  type DatasetVersion,
  type ImportResult,
  type ManifestEntry,
  type RowsPage,
  type ImageSummary,
  type QualityReport,
  type TableDiff,
  type TableSchema,
  type VersionProfile,
  type Watch,
} from '#shared/contracts/dataforge';

export interface RowsQuery {
  path: string;
  offset: number;
  limit: number;
  sort?: { column: string; order: 'asc' | 'desc' } | undefined;
  filters: z.infer<typeof RowFilter>[];
  /** Open the page holding the row at this file line (`offset` is then ignored); not with `sort`. */
  line?: number | undefined;
  /** Only the rows at these file lines (with the filters too). */
  lines?: number[] | undefined;
}

export interface ImportRequest {
  /** Dataset id or name. */
  dataset: string;
  path: string;
  message: string;
  author: string;
  /** Create the dataset when it does not exist and `dataset` is a name. */
  create: boolean;
  /** Import a .zip, .tar, .tar.gz or .tgz as the files inside it (else as one file). */
  extract: boolean;
}

export interface CommitRequest {
  dataset: string;
  files: { path: string; uploadId: string }[];
  remove: string[];
  message: string;
  author: string;
  base: 'latest' | 'empty';
  create: boolean;
}

export interface ProgressSink {
  progress(fraction: number, message?: string): void;
  signal: AbortSignal;
}

/**
 * DataForge: datasets as immutable versions. A version is a manifest of (path, sha256, size) stored in the
 * blob store, so identical content is stored once across all datasets; re-importing an unchanged folder reads
 * no file whose size, times and inode are unchanged (a stat cache, as git's index), and makes no version.
 */
export interface DataforgeService {
  /** Labeling projects over dataset versions; `setPredictions` is the seam for a model's pre-annotations. */
  readonly labeling: LabelingService;
  createDataset(input: { name: string; description: string }): Dataset;
  getDataset(ref: string): Dataset;
  listDatasets(query: { limit: number; cursor?: string | undefined }): { items: Dataset[]; nextCursor: string | null };
  /** Checks the request and enqueues a `dataforge.import` job. */
  startImport(request: ImportRequest): Job;
  /**
   * Does an import now (the job's body; also for tests and tools). An archive is imported as the files inside
   * it unless `extract` is false. A file over the per-file limit fails the import, naming it.
   */
  importPath(
    datasetId: string,
    path: string,
    meta: { message: string; author: string; extract?: boolean },
    sink?: ProgressSink,
  ): Promise<ImportResult>;
  /** Makes a version from finished uploads and removals on top of the latest version (or nothing). */
  commit(request: CommitRequest): Promise<{ created: boolean; version: DatasetVersion }>;
  versions(
    dataset: string,
    query: { limit: number; cursor?: string | undefined },
  ): { items: DatasetVersion[]; nextCursor: string | null };
  /** A version by number, tag, id or "latest". */
  resolveVersion(dataset: string, version: string): DatasetVersion;
  /** Files of a version in path order, from `after` on, within `prefix`. */
  files(
    dataset: string,
    version: string,
    query: { prefix: string; limit: number; after?: string | undefined },
  ): Promise<{ items: ManifestEntry[]; next: string | null }>;
  diff(dataset: string, from: string, to: string): Promise<z.infer<typeof VersionDiff>>;
  /** Rows and columns that differ in one table between two versions (matched by `key` when given). */
  tableDiff(dataset: string, from: string, to: string, path: string, key?: string): Promise<TableDiff>;
  tag(dataset: string, version: string, tag: string): DatasetVersion;
  untag(dataset: string, tag: string): DatasetVersion;
  /** Checks the request and enqueues a `dataforge.export` job. */
  startExport(dataset: string, version: string, target: string): Job;
  /** Watches a folder: it is imported now and again each time its content settles. */
  watch(request: { dataset: string; path: string; settleMs: number; create: boolean }): Watch;
  watches(dataset: string): Watch[];
  unwatch(dataset: string, id: string): Watch;
  /** Starts the watchers of every watched folder (at core start). */
  startWatching(): void;
  /** Stops every watcher (at core shutdown). */
  stopWatching(): Promise<void>;
  /** The stored profile of a version's tables; NOT_FOUND until a profile job has run. */
  profile(dataset: string, version: string): VersionProfile;
  /** Enqueues a `dataforge.profile` job (imports enqueue one by themselves for versions with tables). */
  startProfile(dataset: string, version: string): Job;
  /** Profiles every CSV/TSV/JSONL file of a version, streaming each (the job's body). */
  profileVersion(versionId: string, sink?: ProgressSink): Promise<VersionProfile>;
  /** A table's columns with their inferred and declared types (needs the version's profile). */
  schema(dataset: string, version: string, path: string): TableSchema;
  /** Declares column types for a table of the dataset (null removes a declaration); applies to every version. */
  setSchema(dataset: string, version: string, path: string, types: Record<string, ColumnType | null>): TableSchema;
  /** The stored quality report of a version; NOT_FOUND until a quality job has run. */
  quality(dataset: string, version: string): QualityReport;
  /** Enqueues a `dataforge.quality` job; `target` names the label column (guessed when absent). */
  startQuality(dataset: string, version: string, target?: string): Job;
  /** Checks every table of a version (the job's body): missing values, duplicates, outliers, labels, PII… */
  checkQuality(versionId: string, target: string | undefined, sink?: ProgressSink): Promise<QualityReport>;
  /** A page of one table's rows, filtered and sorted, streamed from the blob. */
  rows(dataset: string, version: string, query: RowsQuery): Promise<RowsPage>;
  /** One file of a version with its media type (scripts and HTML are sent as plain text). */
  content(dataset: string, version: string, path: string): Promise<RawReply>;
  /** Writes a version's files into `target` (absent or empty); nothing is visible there until all are written. */
  exportVersion(
    versionId: string,
    target: string,
    sink?: ProgressSink,
  ): Promise<{ files: number; bytes: number; path: string }>;
}
