CREATE TABLE _migrations (
    owner TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (owner, version)
  );

CREATE TABLE dataforge_column_types (
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  path TEXT NOT NULL,
  column_name TEXT NOT NULL,
  type TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, path, column_name)
) STRICT;

CREATE TABLE dataforge_datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE dataforge_profiles (
  version_id TEXT PRIMARY KEY REFERENCES dataforge_versions(id),
  profile TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE dataforge_quality (
  version_id TEXT PRIMARY KEY REFERENCES dataforge_versions(id),
  report TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE dataforge_stat_cache (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,
  ctime_ns TEXT NOT NULL,
  ino TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  checked_at INTEGER NOT NULL
) STRICT;

CREATE TABLE dataforge_tags (
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  tag TEXT NOT NULL,
  version_id TEXT NOT NULL REFERENCES dataforge_versions(id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, tag)
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

CREATE TABLE dataforge_watches (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  path TEXT NOT NULL,
  settle_ms INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_job_id TEXT,
  UNIQUE (dataset_id, path)
) STRICT;

CREATE TABLE platform_blob_refs (
  sha256 TEXT NOT NULL REFERENCES platform_blobs(sha256) ON DELETE RESTRICT,
  owner TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, ref, sha256)
) STRICT;

CREATE TABLE platform_blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_put_at INTEGER NOT NULL
) STRICT;

CREATE TABLE platform_jobs (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  priority INTEGER NOT NULL DEFAULT 0,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_after INTEGER NOT NULL,
  lease_token TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  progress REAL,
  progress_message TEXT,
  result TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE platform_uploads (
  id TEXT PRIMARY KEY,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL,
  received INTEGER NOT NULL,
  expected_sha256 TEXT,
  sha256 TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE security_api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;

CREATE INDEX dataforge_tags_version ON dataforge_tags(version_id);

CREATE INDEX platform_blob_refs_sha256 ON platform_blob_refs(sha256);

CREATE INDEX platform_jobs_ready ON platform_jobs(status, priority DESC, run_after, id);

CREATE INDEX platform_jobs_run_after ON platform_jobs(status, run_after);

CREATE INDEX platform_jobs_type ON platform_jobs(type, id);
