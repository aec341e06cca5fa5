import type { MigrationSet } from '#platform/db';

export const modelhubMigrations: MigrationSet = {
  owner: 'modelhub',
  tablePrefix: 'modelhub',
  migrations: [
    {
      version: 1,
      name: 'experiments, runs, params, tags, metric series in chunks, inputs',
      sql: `
-- Integer ids, as MLflow's: its clients and UI show them, and experiment 0 is the default one.
CREATE TABLE modelhub_experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
INSERT INTO modelhub_experiments (id, name, artifact_location, lifecycle_stage, created_at, updated_at)
  VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0);
CREATE TABLE modelhub_experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES modelhub_experiments(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) STRICT;
-- Run ids are 32 hex digits (MLflow's form) of a UUIDv7, so they sort by creation time.
CREATE TABLE modelhub_runs (
  id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES modelhub_experiments(id),
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  lifecycle_stage TEXT NOT NULL,
  artifact_uri TEXT NOT NULL,
  -- Last write of any kind: a running run silent for too long is marked KILLED.
  last_activity INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE INDEX modelhub_runs_experiment ON modelhub_runs(experiment_id, start_time DESC);
CREATE INDEX modelhub_runs_running ON modelhub_runs(status, last_activity) WHERE status = 'RUNNING';
CREATE TABLE modelhub_params (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) STRICT;
CREATE INDEX modelhub_params_key ON modelhub_params(key, value);
CREATE TABLE modelhub_run_tags (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) STRICT;
CREATE INDEX modelhub_run_tags_key ON modelhub_run_tags(key, value);
-- One row per (run, metric key): its latest point (MLflow's: highest step, then time, then value) and a count.
-- NaN is stored as NULL with last_is_nan = 1 (SQLite has no NaN).
CREATE TABLE modelhub_metric_series (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  key TEXT NOT NULL,
  last_step INTEGER NOT NULL,
  last_timestamp INTEGER NOT NULL,
  last_value REAL,
  last_is_nan INTEGER NOT NULL,
  points INTEGER NOT NULL,
  next_seq INTEGER NOT NULL,
  -- The small chunks at the end, merged once there are enough of them.
  tail_chunks INTEGER NOT NULL,
  tail_points INTEGER NOT NULL,
  UNIQUE (run_id, key)
) STRICT;
CREATE INDEX modelhub_metric_series_key ON modelhub_metric_series(key, last_value);
-- Points in chunks (metric-codec.ts): each write appends one chunk per series; small tail chunks are merged.
CREATE TABLE modelhub_metric_chunks (
  series_id INTEGER NOT NULL REFERENCES modelhub_metric_series(id),
  seq INTEGER NOT NULL,
  points INTEGER NOT NULL,
  min_step INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, seq)
) STRICT, WITHOUT ROWID;
-- Datasets a run used (MLflow's log-inputs); dataset_version_id links into DataForge when known.
CREATE TABLE modelhub_run_inputs (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source TEXT NOT NULL,
  schema TEXT,
  profile TEXT,
  tags TEXT NOT NULL,
  dataset_version_id TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, name, digest)
) STRICT;
-- Artifact files, content in the blob store. The root is MLflow's artifact URI below mlflow-artifacts:/
-- (<experiment>/<run>/artifacts); a root holds one blob reference per distinct content.
CREATE TABLE modelhub_artifacts (
  root TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (root, path)
) STRICT, WITHOUT ROWID;`,
    },
    {
      version: 2,
      name: 'registered models, versions, tags, aliases with their history',
      sql: `
CREATE TABLE modelhub_models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE modelhub_model_tags (
  model_id INTEGER NOT NULL REFERENCES modelhub_models(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) STRICT;
CREATE TABLE modelhub_model_versions (
  model_id INTEGER NOT NULL REFERENCES modelhub_models(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  source TEXT NOT NULL,
  run_id TEXT,
  run_link TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  stage TEXT NOT NULL,
  -- What the files are (onnx, gguf, tfjs, safetensors, mlflow, other) and, for ONNX and GGUF, their signature.
  format TEXT NOT NULL,
  signature TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER,
  PRIMARY KEY (model_id, version)
) STRICT;
CREATE INDEX modelhub_model_versions_run ON modelhub_model_versions(run_id);
CREATE TABLE modelhub_model_version_tags (
  model_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES modelhub_model_versions(model_id, version) ON DELETE CASCADE
) STRICT;
CREATE TABLE modelhub_aliases (
  model_id INTEGER NOT NULL REFERENCES modelhub_models(id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model_id, alias)
) STRICT;
-- Every move of an alias or a stage: which version held it from when, and who moved it (never rewritten).
CREATE TABLE modelhub_alias_history (
  id INTEGER PRIMARY KEY,
  model_id INTEGER NOT NULL REFERENCES modelhub_models(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER,
  previous_version INTEGER,
  actor TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX modelhub_alias_history_model ON modelhub_alias_history(model_id, at);`,
    },
    {
      version: 3,
      name: 'MLflow 3 logged models, run outputs, versions made from logged models',
      sql: `
CREATE TABLE modelhub_logged_models (
  id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES modelhub_experiments(id),
  name TEXT NOT NULL,
  model_type TEXT,
  source_run_id TEXT,
  status TEXT NOT NULL,
  status_message TEXT,
  artifact_uri TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE INDEX modelhub_logged_models_experiment ON modelhub_logged_models(experiment_id, created_at DESC);
CREATE TABLE modelhub_logged_model_params (
  model_id TEXT NOT NULL REFERENCES modelhub_logged_models(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) STRICT;
CREATE TABLE modelhub_logged_model_tags (
  model_id TEXT NOT NULL REFERENCES modelhub_logged_models(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) STRICT;
CREATE TABLE modelhub_run_outputs (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  model_id TEXT NOT NULL REFERENCES modelhub_logged_models(id),
  step INTEGER NOT NULL,
  PRIMARY KEY (run_id, model_id)
) STRICT;
ALTER TABLE modelhub_model_versions ADD COLUMN logged_model_id TEXT;`,
    },
    {
      version: 4,
      name: 'metric journal',
      // The last record of the metric journal (metric-journal.ts) whose points are in their chunks.
      sql: `CREATE TABLE modelhub_journal_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  applied_seq INTEGER NOT NULL
) STRICT;
INSERT INTO modelhub_journal_state (id, applied_seq) VALUES (1, 0);`,
    },
    {
      version: 5,
      name: 'the default experiment dated',
      // Experiment 0 was made with times of 0 (shown as 1 January 1970). MLflow dates it when its store is made: a
      // new store now; an existing one by its first run or experiment, the best record of when it was first used.
      sql: `UPDATE modelhub_experiments
SET created_at = (
    SELECT COALESCE(MIN(t), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    FROM (SELECT MIN(start_time) AS t FROM modelhub_runs
          UNION ALL SELECT MIN(created_at) FROM modelhub_experiments WHERE id != 0)),
  updated_at = MAX(updated_at, (
    SELECT COALESCE(MIN(t), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    FROM (SELECT MIN(start_time) AS t FROM modelhub_runs
          UNION ALL SELECT MIN(created_at) FROM modelhub_experiments WHERE id != 0)))
WHERE id = 0 AND created_at = 0;`,
    },
  ],
};
