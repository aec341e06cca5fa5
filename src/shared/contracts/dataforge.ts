import { z } from 'zod';
import { RawReplySchema, endpoint } from '../api/endpoint';
import { Id, PageQuery, Sha256, Timestamp, page } from './common';
import { Job } from './jobs';

/** Dataset names are also path segments and CLI arguments: lower case, digits, `.`, `_`, `-`. */
export const DatasetName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,99}$/,
    'must be 1-100 characters: a-z, 0-9, ".", "_", "-", starting with a letter or digit',
  );

/** A dataset by id or by name. */
export const DatasetRef = z.union([Id, DatasetName]);

/** A version by number ("3"), tag ("golden"), id, or "latest". */
export const VersionRef = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be a version number, a tag, an id or "latest"');

export const TagName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9._-]{0,63}$/, 'must start with a letter and hold only letters, digits, ".", "_", "-"')
  .refine((t) => t !== 'latest', 'is reserved');

export const DATASET_KINDS = ['tabular', 'images', 'text', 'files', 'mixed', 'empty'] as const;
export const DatasetKind = z.enum(DATASET_KINDS);

export const DatasetVersion = z.object({
  id: Id,
  datasetId: Id,
  /** 1, 2, 3… within the dataset. */
  number: z.number().int().positive(),
  message: z.string(),
  author: z.string(),
  parentId: Id.nullable(),
  /** The manifest — sorted (path, sha256, size) entries — is itself a blob. */
  manifestSha256: Sha256,
  fileCount: z.number().int(),
  totalBytes: z.number().int(),
  kind: DatasetKind,
  tags: z.array(z.string()),
  createdAt: Timestamp,
});
export type DatasetVersion = z.infer<typeof DatasetVersion>;

export const Dataset = z.object({
  id: Id,
  name: DatasetName,
  description: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  versionCount: z.number().int(),
  latest: DatasetVersion.nullable(),
});
export type Dataset = z.infer<typeof Dataset>;

export const ManifestEntry = z.object({ path: z.string(), sha256: Sha256, size: z.number().int() });
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const VersionDiff = z.object({
  from: DatasetVersion,
  to: DatasetVersion,
  added: z.array(ManifestEntry),
  removed: z.array(ManifestEntry),
  changed: z.array(z.object({ path: z.string(), before: ManifestEntry, after: ManifestEntry })),
  unchanged: z.number().int(),
});

export const ImportResult = z.object({
  /** False when the content equals the latest version's: no version is made. */
  created: z.boolean(),
  version: DatasetVersion,
  files: z.number().int(),
  bytes: z.number().int(),
  /** Files whose content was read and hashed; the rest were known from the stat cache. */
  hashedFiles: z.number().int(),
  hashedBytes: z.number().int(),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});
export type ImportResult = z.infer<typeof ImportResult>;

export const COLUMN_TYPES = ['integer', 'number', 'boolean', 'datetime', 'string', 'empty'] as const;
export const ColumnType = z.enum(COLUMN_TYPES);
export type ColumnType = z.infer<typeof ColumnType>;

export const ColumnProfile = z.object({
  name: z.string(),
  /** Inferred from the values (a column of numbers with a few blanks is still `integer`/`number`). */
  type: ColumnType,
  count: z.number().int(),
  missing: z.number().int(),
  distinct: z.number().int(),
  /** True when `distinct` stopped counting at its cap (then it is a lower bound). */
  distinctCapped: z.boolean(),
  min: z.union([z.number(), z.string()]).nullable(),
  max: z.union([z.number(), z.string()]).nullable(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  /** p5, p25, p50, p75, p95 for numeric columns (estimated from a reservoir sample on large tables). */
  quantiles: z.record(z.string(), z.number()).nullable(),
  top: z.array(z.object({ value: z.string(), count: z.number().int() })),
  histogram: z.object({ edges: z.array(z.number()), counts: z.array(z.number().int()) }).nullable(),
});
export type ColumnProfile = z.infer<typeof ColumnProfile>;

export const TableProfile = z.object({
  path: z.string(),
  format: z.enum(['csv', 'tsv', 'jsonl', 'parquet']),
  rows: z.number().int(),
  columns: z.array(ColumnProfile),
  /**
   * Rows that could not be read (ragged, bad quotes, bad JSON, an unreadable Parquet row group), with their
   * line number (Parquet: the 1-based row number; 0 when the whole file is unreadable); the first 50.
   */
  badRows: z.array(z.object({ line: z.number().int(), reason: z.string() })),
  badRowCount: z.number().int(),
});
export type TableProfile = z.infer<typeof TableProfile>;

export const ImageSummary = z.object({
  count: z.number().int(),
  formats: z.record(z.string(), z.number().int()),
  /** Images laid out as `<class>/<file>` (ImageFolder style): their classes with counts; empty otherwise. */
  classes: z.array(z.object({ name: z.string(), count: z.number().int() })),
  width: z.object({ min: z.number().int(), max: z.number().int() }).nullable(),
  height: z.object({ min: z.number().int(), max: z.number().int() }).nullable(),
  /** Files named like images whose header could not be read. */
  unreadable: z.array(z.string()),
});
export type ImageSummary = z.infer<typeof ImageSummary>;

export const VersionProfile = z.object({
  versionId: Id,
  tables: z.array(TableProfile),
  /** Present when the version holds images. */
  images: ImageSummary.nullable(),
  createdAt: Timestamp,
});
export type VersionProfile = z.infer<typeof VersionProfile>;

export const RowFilter = z.object({
  column: z.string(),
  op: z.enum(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'empty', 'notEmpty']),
  value: z.string().default(''),
});

export const RowsPage = z.object({
  path: z.string(),
  columns: z.array(z.string()),
  /** Values as read (strings; null for a missing value). */
  rows: z.array(z.array(z.string().nullable())),
  /** The line number of each row in its file (1-based, header excluded from data lines). */
  lines: z.array(z.number().int()),
  /** The index of the first row of the page among the matching rows (with `line`: of the page holding it). */
  offset: z.number().int(),
  /** Rows matching the filter in the whole table. */
  total: z.number().int(),
  /**
   * With `line`: the index in `rows` of the row at that line. Null when that line is no matching row (the header,
   * a bad row, a row the filters leave out, past the end): the page is then where it would be (the last page past
   * the end). Null without `line`.
   */
  focus: z.number().int().nullable(),
});
export type RowsPage = z.infer<typeof RowsPage>;

const SampleRow = z.object({ line: z.number().int(), values: z.array(z.string().nullable()) });

export const TableDiff = z.object({
  path: z.string(),
  from: z.object({ version: z.number().int(), rows: z.number().int(), columns: z.array(z.string()) }),
  to: z.object({ version: z.number().int(), rows: z.number().int(), columns: z.array(z.string()) }),
  schema: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  /** With a key column rows are matched by key (so edits show as changed); without one, as whole rows. */
  key: z.string().nullable(),
  rows: z.object({
    added: z.number().int(),
    removed: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
  }),
  /** The first rows of each kind, with their line in the file they come from (`changed`: the new line). */
  samples: z.object({ added: z.array(SampleRow), removed: z.array(SampleRow), changed: z.array(SampleRow) }),
  /** Rows of either side that could not be read, and were left out. */
  badRows: z.number().int(),
});
export type TableDiff = z.infer<typeof TableDiff>;

export const QUALITY_CHECKS = [
  'missing',
  'duplicates',
  'near_duplicates',
  'constant',
  'outliers',
  'class_imbalance',
  'label_issues',
  'schema_drift',
  'pii',
] as const;

export const QualityFinding = z.object({
  check: z.enum(QUALITY_CHECKS),
  severity: z.enum(['info', 'warning', 'error']),
  /** The table file the finding is about. */
  table: z.string(),
  column: z.string().nullable(),
  message: z.string(),
  /** How many rows (or values) are affected. */
  count: z.number().int(),
  /** Line numbers of the affected rows in the file (the first 100), so the UI can show them. */
  lines: z.array(z.number().int()),
});
export type QualityFinding = z.infer<typeof QualityFinding>;

export const QualityReport = z.object({
  versionId: Id,
  /** 0-100: 100 means no finding; each finding costs points by severity and share of rows affected. */
  score: z.number(),
  /** The label column checked for imbalance and label issues, if any. */
  target: z.string().nullable(),
  tables: z.array(z.object({ path: z.string(), rows: z.number().int(), score: z.number() })),
  findings: z.array(QualityFinding),
  createdAt: Timestamp,
});
export type QualityReport = z.infer<typeof QualityReport>;

export const TableSchema = z.object({
  path: z.string(),
  columns: z.array(
    z.object({
      name: z.string(),
      /** What the profile inferred from the values. */
      inferred: ColumnType,
      /** What the dataset declares: the override when there is one, else the inferred type. */
      type: ColumnType,
      overridden: z.boolean(),
    }),
  ),
});
export type TableSchema = z.infer<typeof TableSchema>;

export const Watch = z.object({
  id: Id,
  datasetId: Id,
  path: z.string(),
  /** How long the folder must stay unchanged before it is imported. */
  settleMs: z.number().int(),
  createdAt: Timestamp,
  /** The last import this watch started. */
  lastJobId: Id.nullable(),
});
export type Watch = z.infer<typeof Watch>;

const AbsolutePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p), 'must be an absolute path');

const datasetPath = '/api/v1/datasets/:dataset';
const versionPath = `${datasetPath}/versions/:version`;

export const dataforgeEndpoints = {
  'datasets.list': endpoint({
    method: 'GET',
    path: '/api/v1/datasets',
    summary: 'List datasets, newest first',
    scope: 'read',
    input: PageQuery,
    output: page(Dataset),
  }),
  'datasets.create': endpoint({
    method: 'POST',
    path: '/api/v1/datasets',
    summary: 'Create an empty dataset',
    scope: 'write',
    input: z.object({ name: DatasetName, description: z.string().max(2000).default('') }),
    output: Dataset,
    status: 201,
  }),
  'datasets.get': endpoint({
    method: 'GET',
    path: datasetPath,
    summary: 'Get a dataset by id or name',
    scope: 'read',
    input: z.object({ dataset: DatasetRef }),
    output: Dataset,
  }),
  'datasets.import': endpoint({
    method: 'POST',
    path: `${datasetPath}/imports`,
    summary:
      'Import a file, folder or archive on the server machine as a new version (a job); unchanged content makes no version',
    scope: 'admin',
    input: z.object({
      dataset: DatasetRef,
      /** An absolute path on the machine running the core. */
      path: AbsolutePath,
      message: z.string().max(2000).default(''),
      author: z.string().max(200).optional(),
      /** Create the dataset if it does not exist (only when `dataset` is a name). */
      create: z.boolean().default(false),
      /**
       * A .zip, .tar, .tar.gz or .tgz path is imported as the files inside it (default); false keeps the
       * archive as one file.
       */
      extract: z.boolean().default(true),
    }),
    output: Job,
    status: 202,
  }),
  'datasets.commit': endpoint({
    method: 'POST',
    path: `${datasetPath}/versions`,
    summary:
      'Make a version from finished uploads (added or replacing files) and removals on top of the latest version',
    scope: 'write',
    input: z.object({
      dataset: DatasetRef,
      files: z
        .array(z.object({ path: z.string().min(1).max(4096), uploadId: Id }))
        .max(100_000)
        .default([]),
      remove: z.array(z.string().min(1).max(4096)).max(100_000).default([]),
      message: z.string().max(2000).default(''),
      author: z.string().max(200).optional(),
      /** Start from the latest version's files (default) or from nothing. */
      base: z.enum(['latest', 'empty']).default('latest'),
      create: z.boolean().default(false),
    }),
    output: z.object({ created: z.boolean(), version: DatasetVersion }),
    status: 201,
  }),
  'datasets.versions': endpoint({
    method: 'GET',
    path: `${datasetPath}/versions`,
    summary: 'List the versions of a dataset, newest first',
    scope: 'read',
    input: PageQuery.extend({ dataset: DatasetRef }),
    output: page(DatasetVersion),
  }),
  'datasets.version': endpoint({
    method: 'GET',
    path: versionPath,
    summary: 'Get a version by number, tag, id or "latest"',
    scope: 'read',
    input: z.object({ dataset: DatasetRef, version: VersionRef }),
    output: DatasetVersion,
  }),
  'datasets.files': endpoint({
    method: 'GET',
    path: `${versionPath}/files`,
    summary: "List a version's files in path order; `prefix` narrows to a folder",
    scope: 'read',
    input: z.object({
      dataset: DatasetRef,
      version: VersionRef,
      prefix: z.string().max(4096).default(''),
      limit: z.coerce.number().int().min(1).max(5000).default(500),
      /** The last path of the previous page. */
      after: z.string().max(4096).optional(),
    }),
    output: z.object({ items: z.array(ManifestEntry), next: z.string().nullable() }),
  }),
  'datasets.diff': endpoint({
    method: 'GET',
    path: `${datasetPath}/diff`,
    summary: 'Files added, removed and changed between two versions',
    scope: 'read',
    input: z.object({ dataset: DatasetRef, from: VersionRef, to: VersionRef.default('latest') }),
    output: VersionDiff,
  }),
  'datasets.tableDiff': endpoint({
    method: 'GET',
    path: `${datasetPath}/diff/table`,
    summary: 'Rows added, removed and changed (by key column, if given) and columns added or removed in one table',
    scope: 'read',
    input: z.object({
      dataset: DatasetRef,
      from: VersionRef,
      to: VersionRef.default('latest'),
      path: z.string().min(1).max(4096),
      key: z.string().max(200).optional(),
    }),
    output: TableDiff,
  }),
  'datasets.tag': endpoint({
    method: 'POST',
    path: `${versionPath}/tags`,
    summary: 'Tag a version (a tag names one version of a dataset; tagging again moves it)',
    scope: 'write',
    input: z.object({ dataset: DatasetRef, version: VersionRef, tag: TagName }),
    output: DatasetVersion,
  }),
  'datasets.untag': endpoint({
    method: 'DELETE',
    path: `${datasetPath}/tags/:tag`,
    summary: 'Remove a tag',
    scope: 'write',
    input: z.object({ dataset: DatasetRef, tag: TagName }),
    output: DatasetVersion,
  }),
  'datasets.export': endpoint({
    method: 'POST',
    path: `${versionPath}/export`,
    summary: 'Write a version to an empty or new folder on the server machine (a job); every file is verified',
    scope: 'admin',
    input: z.object({
      dataset: DatasetRef,
      version: VersionRef,
      path: AbsolutePath,
    }),
    output: Job,
    status: 202,
  }),
  'datasets.watch': endpoint({
    method: 'POST',
    path: `${datasetPath}/watches`,
    summary: 'Watch a folder: each time its content settles, it is imported (a new version if anything changed)',
    scope: 'admin',
    input: z.object({
      dataset: DatasetRef,
      path: AbsolutePath,
      settleMs: z.number().int().min(100).max(3_600_000).default(3000),
      create: z.boolean().default(false),
    }),
    output: Watch,
    status: 201,
  }),
  'datasets.watches': endpoint({
    method: 'GET',
    path: `${datasetPath}/watches`,
    summary: 'The folders watched for a dataset',
    scope: 'read',
    input: z.object({ dataset: DatasetRef }),
    output: z.object({ items: z.array(Watch) }),
  }),
  'datasets.unwatch': endpoint({
    method: 'DELETE',
    path: `${datasetPath}/watches/:id`,
    summary: 'Stop watching a folder',
    scope: 'admin',
    input: z.object({ dataset: DatasetRef, id: Id }),
    output: Watch,
  }),
  'datasets.quality': endpoint({
    method: 'GET',
    path: `${versionPath}/quality`,
    summary: "A version's quality report: a score and findings linked to the offending rows",
    scope: 'read',
    input: z.object({ dataset: DatasetRef, version: VersionRef }),
    output: QualityReport,
  }),
  'datasets.qualityRun': endpoint({
    method: 'POST',
    path: `${versionPath}/quality`,
    summary: 'Check the quality of a version (a job): missing values, duplicates, outliers, label issues, PII…',
    scope: 'write',
    input: z.object({
      dataset: DatasetRef,
      version: VersionRef,
      /** The label column (for class imbalance and label issues); guessed when absent. */
      target: z.string().max(200).optional(),
    }),
    output: Job,
    status: 202,
  }),
  'datasets.schema': endpoint({
    method: 'GET',
    path: `${versionPath}/schema`,
    summary: "A table's schema: each column's inferred type and the type the dataset declares for it",
    scope: 'read',
    input: z.object({ dataset: DatasetRef, version: VersionRef, path: z.string().min(1).max(4096) }),
    output: TableSchema,
  }),
  'datasets.setSchema': endpoint({
    method: 'PUT',
    path: `${versionPath}/schema`,
    summary: "Override column types of a table (kept for the dataset's later versions); null removes an override",
    scope: 'write',
    input: z.object({
      dataset: DatasetRef,
      version: VersionRef,
      path: z.string().min(1).max(4096),
      types: z.record(z.string().min(1).max(200), ColumnType.exclude(['empty']).nullable()),
    }),
    output: TableSchema,
  }),
  'datasets.profile': endpoint({
    method: 'GET',
    path: `${versionPath}/profile`,
    summary:
      "A version's table profiles (rows; per column type, missing, distinct, min/max/mean/std, quantiles, top values, histogram)",
    scope: 'read',
    input: z.object({ dataset: DatasetRef, version: VersionRef }),
    output: VersionProfile,
  }),
  'datasets.profileRun': endpoint({
    method: 'POST',
    path: `${versionPath}/profile`,
    summary: 'Profile the tables of a version (a job; imports start one by themselves)',
    scope: 'write',
    input: z.object({ dataset: DatasetRef, version: VersionRef }),
    output: Job,
    status: 202,
  }),
  'datasets.rows': endpoint({
    method: 'POST',
    path: `${versionPath}/rows`,
    summary:
      'A page of rows of one table, optionally filtered and sorted, or the page holding a given line; streamed, so any size works',
    scope: 'read',
    input: z.object({
      dataset: DatasetRef,
      version: VersionRef,
      path: z.string().min(1).max(4096),
      offset: z.number().int().min(0).max(100_000_000).default(0),
      limit: z.number().int().min(1).max(1000).default(100),
      sort: z.object({ column: z.string(), order: z.enum(['asc', 'desc']).default('asc') }).optional(),
      filters: z.array(RowFilter).max(20).default([]),
      /**
       * Open the page (of `limit` rows, in file order, among the matching rows) that holds the row at this line of
       * the file; `offset` is then ignored and `focus` says which row it is. Not with `sort`.
       */
      line: z.number().int().min(1).max(1_000_000_000).optional(),
      /**
       * Only the rows at these lines of the file (a quality finding's, say), with the filters and paging as usual.
       * Reading stops after the last of them.
       */
      lines: z.array(z.number().int().min(1)).min(1).max(1000).optional(),
    }),
    output: RowsPage,
  }),
  'datasets.content': endpoint({
    method: 'GET',
    path: `${versionPath}/content`,
    summary: 'One file of a version, as bytes with its media type (images for the labeling UI, downloads)',
    scope: 'read',
    input: z.object({ dataset: DatasetRef, version: VersionRef, path: z.string().min(1).max(4096) }),
    output: RawReplySchema,
    rawOutput: true,
  }),
} as const;

export const dataforgeEvents = {
  'dataset.created': z.object({ dataset: Dataset }),
  'dataset.version.created': z.object({ datasetName: z.string(), version: DatasetVersion }),
  'dataset.version.profiled': z.object({ datasetName: z.string(), versionId: Id, tables: z.number().int() }),
  'dataset.version.checked': z.object({ datasetName: z.string(), versionId: Id, score: z.number() }),
} as const;
