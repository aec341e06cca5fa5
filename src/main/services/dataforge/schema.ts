import type { MigrationSet } from '#platform/db';

export const dataforgeMigrations: MigrationSet = {
  owner: 'dataforge',
  tablePrefix: 'dataforge',
  migrations: [
    {
      version: 1,
      name: 'datasets, versions, tags, stat cache',
      sql: `
CREATE TABLE dataforge_datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE dataforge_versions (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  number INTEGER NOT NULL,
  message TEXT NOT NULL,
  author TEXT NOT NULL,
  parent_id TEXT REFERENCES dataforge_versions(id),
  manifest_sha256 TEXT NOT NULL,
  file_count INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (dataset_id, number)
) STRICT;
CREATE TABLE dataforge_tags (
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  tag TEXT NOT NULL,
  version_id TEXT NOT NULL REFERENCES dataforge_versions(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, tag)
) STRICT;
CREATE INDEX dataforge_tags_version ON dataforge_tags(version_id);
-- What git's index does: a file whose size, mtime, ctime and inode are unchanged keeps its known hash.
CREATE TABLE dataforge_stat_cache (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  ctime_ns TEXT NOT NULL,
  ino TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  checked_at INTEGER NOT NULL
) STRICT;`,
    },
    {
      version: 2,
      name: 'table profiles',
      sql: `
CREATE TABLE dataforge_profiles (
  version_id TEXT PRIMARY KEY REFERENCES dataforge_versions(id),
  profile TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;`,
    },
    {
      version: 3,
      name: 'watched folders',
      sql: `
CREATE TABLE dataforge_watches (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  path TEXT NOT NULL,
  settle_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_job_id TEXT,
  UNIQUE (dataset_id, path)
) STRICT;`,
    },
    {
      version: 4,
      name: 'quality reports',
      sql: `
CREATE TABLE dataforge_quality (
  version_id TEXT PRIMARY KEY REFERENCES dataforge_versions(id),
  report TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;`,
    },
    {
      version: 5,
      name: 'column type overrides',
      sql: `
CREATE TABLE dataforge_column_types (
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  path TEXT NOT NULL,
  column_name TEXT NOT NULL,
  type TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, path, column_name)
) STRICT;`,
    },
  ],
};
