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

CREATE TABLE dataforge_import_digests (
  dataset_id TEXT NOT NULL REFERENCES dataforge_datasets(id),
  root TEXT NOT NULL,
  scan_digest TEXT NOT NULL,
  version_id TEXT NOT NULL REFERENCES dataforge_versions(id),
  at INTEGER NOT NULL,
  PRIMARY KEY (dataset_id, root)
) STRICT, WITHOUT ROWID;

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

CREATE TABLE dataforge_label_locks (
  task_id TEXT NOT NULL REFERENCES dataforge_label_tasks(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES dataforge_label_projects(id) ON DELETE CASCADE,
  annotator TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, annotator)
) STRICT;

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

CREATE TABLE dataforge_label_reviews (
  task_id TEXT PRIMARY KEY REFERENCES dataforge_label_tasks(id) ON DELETE CASCADE,
  project_id TEXT NOT NULL REFERENCES dataforge_label_projects(id) ON DELETE CASCADE,
  reviewer TEXT NOT NULL,
  decision TEXT NOT NULL,
  annotation_id TEXT,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL
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

CREATE TABLE deploy_deployments (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  runtime TEXT NOT NULL,
  -- DeploymentSource as JSON: the model version or file, its format, the file served and its blob
  source TEXT NOT NULL,
  previous_source TEXT,
  -- DeploymentSettings as JSON
  settings TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  model_kind TEXT,
  -- MemoryEstimate as JSON, from the last inspection
  estimate TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  loaded_at INTEGER,
  last_request_at INTEGER
, traffic TEXT) STRICT;

CREATE TABLE deploy_events (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deploy_deployments(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL
) STRICT;

CREATE TABLE deploy_request_log (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deploy_deployments(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  model_version INTEGER,
  status TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  input TEXT NOT NULL,
  output TEXT,
  error TEXT,
  truncated INTEGER NOT NULL
) STRICT;

CREATE TABLE evalkit_ab_outcomes (
  id TEXT PRIMARY KEY,
  test_id TEXT NOT NULL REFERENCES evalkit_abtests(id) ON DELETE CASCADE,
  arm INTEGER NOT NULL,
  value REAL NOT NULL,
  request_id TEXT,
  at INTEGER NOT NULL
) STRICT;

CREATE TABLE evalkit_abtests (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  metric TEXT NOT NULL CHECK (metric IN ('conversion', 'continuous')),
  arms TEXT NOT NULL,
  planned_per_arm INTEGER,
  confidence REAL NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE evalkit_benchmarks (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  reason TEXT,
  job_id TEXT NOT NULL,
  deployment TEXT NOT NULL,
  runtime TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  model TEXT,
  model_version INTEGER,
  concurrency INTEGER NOT NULL,
  duration_seconds REAL NOT NULL,
  prompt TEXT NOT NULL,
  max_tokens INTEGER NOT NULL,
  requests INTEGER,
  errors INTEGER,
  first_error TEXT,
  throughput REAL,
  latency TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
) STRICT;

CREATE TABLE evalkit_drift_checks (
  id TEXT PRIMARY KEY,
  monitor_id TEXT NOT NULL REFERENCES evalkit_monitors(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  report TEXT NOT NULL
) STRICT;

CREATE TABLE evalkit_evaluations (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  reason TEXT,
  job_id TEXT NOT NULL,
  model TEXT,
  model_version INTEGER,
  deployment TEXT,
  dataset TEXT NOT NULL,
  dataset_version INTEGER NOT NULL,
  dataset_version_id TEXT NOT NULL,
  file TEXT NOT NULL,
  target TEXT NOT NULL,
  task TEXT CHECK (task IN ('classification', 'regression')),
  slice TEXT,
  resamples INTEGER NOT NULL,
  confidence REAL NOT NULL,
  rows INTEGER,
  metrics TEXT NOT NULL DEFAULT '{}',
  report TEXT,
  run_id TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
) STRICT;

CREATE TABLE evalkit_gates (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  alias TEXT,
  metric TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('>=', '>', '<=', '<')),
  value REAL NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE evalkit_llm_cells (
  run_id TEXT NOT NULL REFERENCES evalkit_llm_runs(id) ON DELETE CASCADE,
  prompt_index INTEGER NOT NULL,
  model TEXT NOT NULL,
  case_index INTEGER NOT NULL,
  output TEXT,
  error TEXT,
  latency_ms REAL,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  passed INTEGER NOT NULL,
  assertions TEXT NOT NULL,
  diff TEXT,
  PRIMARY KEY (run_id, prompt_index, model, case_index)
) STRICT;

CREATE TABLE evalkit_llm_runs (
  id TEXT PRIMARY KEY,
  suite_id TEXT NOT NULL REFERENCES evalkit_llm_suites(id) ON DELETE CASCADE,
  suite_name TEXT NOT NULL,
  spec TEXT NOT NULL,
  models TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
  reason TEXT,
  job_id TEXT NOT NULL,
  cell_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
) STRICT;

CREATE TABLE evalkit_llm_suites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE evalkit_monitor_alerts (
  id TEXT PRIMARY KEY,
  monitor_id TEXT NOT NULL REFERENCES evalkit_monitors(id) ON DELETE CASCADE,
  check_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  message TEXT NOT NULL,
  reasons TEXT NOT NULL,
  webhook_status TEXT NOT NULL CHECK (webhook_status IN ('none', 'pending', 'delivered', 'failed')),
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_error TEXT
) STRICT;

CREATE TABLE evalkit_monitors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  deployment_id TEXT NOT NULL,
  deployment_name TEXT NOT NULL,
  dataset TEXT NOT NULL,
  dataset_version INTEGER NOT NULL,
  path TEXT NOT NULL,
  target TEXT,
  window_rows INTEGER NOT NULL,
  every_requests INTEGER,
  every_minutes REAL,
  rule TEXT NOT NULL,
  bins INTEGER NOT NULL,
  alerts TEXT NOT NULL,
  webhook_url TEXT,
  last_check_at INTEGER,
  last_request_id TEXT,
  pending_job_id TEXT,
  baseline_predictions TEXT,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE evalkit_request_labels (
  deployment_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  value TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, request_id)
) STRICT;

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

CREATE TABLE modelhub_aliases (
  model_id INTEGER NOT NULL REFERENCES modelhub_models(id) ON DELETE CASCADE,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model_id, alias)
) STRICT;

CREATE TABLE modelhub_artifacts (
  root TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (root, path)
) STRICT, WITHOUT ROWID;

CREATE TABLE modelhub_experiment_tags (
  experiment_id INTEGER NOT NULL REFERENCES modelhub_experiments(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) STRICT;

CREATE TABLE modelhub_experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE modelhub_journal_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  applied_seq INTEGER NOT NULL
) STRICT;

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

CREATE TABLE modelhub_metric_chunks (
  series_id INTEGER NOT NULL REFERENCES modelhub_metric_series(id),
  seq INTEGER NOT NULL,
  points INTEGER NOT NULL,
  min_step INTEGER NOT NULL,
  max_step INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (series_id, seq)
) STRICT, WITHOUT ROWID;

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

CREATE TABLE modelhub_model_tags (
  model_id INTEGER NOT NULL REFERENCES modelhub_models(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, key)
) STRICT;

CREATE TABLE modelhub_model_version_tags (
  model_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES modelhub_model_versions(model_id, version) ON DELETE CASCADE
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
  deleted_at INTEGER, logged_model_id TEXT,
  PRIMARY KEY (model_id, version)
) STRICT;

CREATE TABLE modelhub_models (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE modelhub_params (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) STRICT;

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

CREATE TABLE modelhub_run_outputs (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  model_id TEXT NOT NULL REFERENCES modelhub_logged_models(id),
  step INTEGER NOT NULL,
  PRIMARY KEY (run_id, model_id)
) STRICT;

CREATE TABLE modelhub_run_tags (
  run_id TEXT NOT NULL REFERENCES modelhub_runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) STRICT;

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
, pack TEXT, pack_offset INTEGER) STRICT;

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

CREATE TABLE trainos_checkpoints (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES trainos_jobs(id),
  attempt INTEGER NOT NULL,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE trainos_jobs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- TrainingJobSpec as JSON
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  priority INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  run_id TEXT,
  -- Where it runs: { gpus: [{ index, memoryMb }], cudaVisibleDevices }
  placement TEXT,
  -- How the executor finds it again after a restart (a pid and process start time)
  handle TEXT,
  log_file TEXT NOT NULL,
  waiting_reason TEXT,
  exit_code INTEGER,
  signal TEXT,
  reason TEXT,
  retry_of TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER
, failures INTEGER NOT NULL DEFAULT 0, resumed_from_step INTEGER, preempted_by TEXT) STRICT;

CREATE TABLE trainos_sweep_reports (
  sweep_id TEXT NOT NULL REFERENCES trainos_sweeps(id),
  seq INTEGER NOT NULL,
  number INTEGER NOT NULL,
  step INTEGER NOT NULL,
  -- NULL: NaN (SQLite has none)
  value REAL,
  PRIMARY KEY (sweep_id, seq)
) STRICT;

CREATE TABLE trainos_sweep_trials (
  sweep_id TEXT NOT NULL REFERENCES trainos_sweeps(id),
  number INTEGER NOT NULL,
  job_id TEXT NOT NULL REFERENCES trainos_jobs(id),
  -- the trial's parameter values as JSON
  params TEXT NOT NULL,
  state TEXT NOT NULL,
  value REAL,
  step INTEGER,
  reason TEXT,
  PRIMARY KEY (sweep_id, number)
) STRICT;

CREATE TABLE trainos_sweeps (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- SweepSpec as JSON
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  run_id TEXT,
  reason TEXT,
  created_at INTEGER NOT NULL,
  ended_at INTEGER
) STRICT;

CREATE INDEX dataforge_label_annotations_project ON dataforge_label_annotations(project_id, annotator, updated_at);

CREATE INDEX dataforge_tags_version ON dataforge_tags(version_id);

CREATE INDEX deploy_events_deployment ON deploy_events(deployment_id, id DESC);

CREATE INDEX deploy_request_log_deployment ON deploy_request_log(deployment_id, id DESC);

CREATE UNIQUE INDEX evalkit_ab_outcomes_request ON evalkit_ab_outcomes(test_id, request_id) WHERE request_id IS NOT NULL;

CREATE INDEX evalkit_ab_outcomes_test ON evalkit_ab_outcomes(test_id, arm);

CREATE INDEX evalkit_benchmarks_deployment ON evalkit_benchmarks(deployment, id);

CREATE INDEX evalkit_drift_checks_monitor ON evalkit_drift_checks(monitor_id, id);

CREATE INDEX evalkit_evaluations_model ON evalkit_evaluations(model, model_version, state, finished_at);

CREATE INDEX evalkit_gates_model ON evalkit_gates(model);

CREATE INDEX evalkit_llm_runs_suite ON evalkit_llm_runs(suite_id, id);

CREATE INDEX evalkit_monitor_alerts_monitor ON evalkit_monitor_alerts(monitor_id, id);

CREATE INDEX evalkit_monitors_deployment ON evalkit_monitors(deployment_id);

CREATE INDEX modelhub_alias_history_model ON modelhub_alias_history(model_id, at);

CREATE INDEX modelhub_logged_models_experiment ON modelhub_logged_models(experiment_id, created_at DESC);

CREATE INDEX modelhub_metric_series_key ON modelhub_metric_series(key, last_value);

CREATE INDEX modelhub_model_versions_run ON modelhub_model_versions(run_id);

CREATE INDEX modelhub_params_key ON modelhub_params(key, value);

CREATE INDEX modelhub_run_tags_key ON modelhub_run_tags(key, value);

CREATE INDEX modelhub_runs_experiment ON modelhub_runs(experiment_id, start_time DESC);

CREATE INDEX modelhub_runs_running ON modelhub_runs(status, last_activity) WHERE status = 'RUNNING';

CREATE INDEX platform_blob_refs_sha256 ON platform_blob_refs(sha256);

CREATE INDEX platform_jobs_ready ON platform_jobs(status, priority DESC, run_after, id);

CREATE INDEX platform_jobs_run_after ON platform_jobs(status, run_after);

CREATE INDEX platform_jobs_type ON platform_jobs(type, id);

CREATE INDEX trainos_checkpoints_job ON trainos_checkpoints(job_id, created_at);

CREATE INDEX trainos_jobs_created ON trainos_jobs(created_at DESC, id DESC);

CREATE INDEX trainos_jobs_state ON trainos_jobs(state, priority DESC, created_at);

CREATE INDEX trainos_sweep_trials_job ON trainos_sweep_trials(job_id);

CREATE INDEX trainos_sweeps_state ON trainos_sweeps(state);
