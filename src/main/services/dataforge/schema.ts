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
    {
      version: 6,
      name: 'label projects, tasks, annotations, reviews',
      sql: `
CREATE TABLE dataforge_label_projects (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  version_id TEXT NOT NULL REFERENCES dataforge_versions(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  labels TEXT NOT NULL,
  source TEXT NOT NULL,
  columns TEXT NOT NULL,
  overlap INTEGER NOT NULL,
  review INTEGER NOT NULL,
  instructions TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (dataset_id, name)
) STRICT;
CREATE TABLE dataforge_label_tasks (
  id TEXT PRIMARY KEY,
  project_id TEXT NOT NULL REFERENCES dataforge_label_projects(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  item TEXT NOT NULL,
  data TEXT NOT NULL,
  prediction TEXT,
  UNIQUE (project_id, position)
) STRICT;
CREATE TABLE dataforge_label_annotations (
  id TEXT PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES dataforge_label_tasks(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES dataforge_label_projects(id) ON DELETE CASCADE,
  annotator TEXT NOT NULL,
  -- NULL when the annotator skipped the task.
  value TEXT,
  duration_ms INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (task_id, annotator)
) STRICT;
CREATE INDEX dataforge_label_annotations_project ON dataforge_label_annotations(project_id, annotator, updated_at);
CREATE TABLE dataforge_label_reviews (
  task_id TEXT PRIMARY KEY REFERENCES dataforge_label_tasks(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES dataforge_label_projects(id) ON DELETE CASCADE,
  reviewer TEXT NOT NULL,
  decision TEXT NOT NULL,
  annotation_id TEXT,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
-- A task handed to an annotator is held for them a while, so that two people do not label the same task
-- beyond the project's overlap.
CREATE TABLE dataforge_label_locks (
  task_id TEXT NOT NULL REFERENCES dataforge_label_tasks(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES dataforge_label_projects(id) ON DELETE CASCADE,
  annotator TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, annotator)
) STRICT;`,
    },
    {
      version: 7,
      name: 'import digests',
      // What the last import of a folder saw, so that re-importing it unchanged needs only a stat of each file.
      sql: `
CREATE TABLE dataforge_import_digests (
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  root TEXT NOT NULL,
  scan_digest TEXT NOT NULL,
  version_id TEXT NOT NULL REFERENCES dataforge_versions(id),
  at INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, root)
) STRICT, WITHOUT ROWID;`,
    },
  ],
};
