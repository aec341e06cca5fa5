import type { MigrationSet } from '#platform/db';

export const deployMigrations: MigrationSet = {
  owner: 'deploy',
  tablePrefix: 'deploy',
  migrations: [
    {
      version: 1,
      name: 'deployments, their state changes and the request log',
      sql: `
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
) STRICT;
CREATE TABLE deploy_events (
  id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deploy_deployments(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL
) STRICT;
CREATE INDEX deploy_events_deployment ON deploy_events(deployment_id, id DESC);
-- Sampled requests with their inputs and outputs (cut to the deployment's limit), for EvalKit.
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
CREATE INDEX deploy_request_log_deployment ON deploy_request_log(deployment_id, id DESC);`,
    },
    {
      version: 2,
      name: 'a canary or shadow version beside the main one',
      // DeploymentTraffic as JSON (mode, percent, the second version's source); null: none.
      sql: `ALTER TABLE deploy_deployments ADD COLUMN traffic TEXT;`,
    },
  ],
};
