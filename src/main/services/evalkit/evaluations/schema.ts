import type { Migration } from '#platform/db';

export const evaluationsMigration: Migration = {
  version: 1,
  name: 'evaluation runs, gates and deployment benchmarks',
  sql: `
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
CREATE INDEX evalkit_evaluations_model ON evalkit_evaluations(model, model_version, state, finished_at);
CREATE TABLE evalkit_gates (
  id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  alias TEXT,
  metric TEXT NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('>=', '>', '<=', '<')),
  value REAL NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX evalkit_gates_model ON evalkit_gates(model);
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
CREATE INDEX evalkit_benchmarks_deployment ON evalkit_benchmarks(deployment, id);`,
};
