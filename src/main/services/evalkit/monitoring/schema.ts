import type { Migration } from '#platform/db';

export const monitoringMigration: Migration = {
  version: 3,
  name: 'drift monitors, alerts and A/B tests',
  sql: `
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
CREATE INDEX evalkit_monitors_deployment ON evalkit_monitors(deployment_id);
CREATE TABLE evalkit_drift_checks (
  id TEXT PRIMARY KEY,
  monitor_id TEXT NOT NULL REFERENCES evalkit_monitors(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  report TEXT NOT NULL
) STRICT;
CREATE INDEX evalkit_drift_checks_monitor ON evalkit_drift_checks(monitor_id, id);
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
CREATE INDEX evalkit_monitor_alerts_monitor ON evalkit_monitor_alerts(monitor_id, id);
CREATE TABLE evalkit_request_labels (
  deployment_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  value TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, request_id)
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
CREATE TABLE evalkit_ab_outcomes (
  id TEXT PRIMARY KEY,
  test_id TEXT NOT NULL REFERENCES evalkit_abtests(id) ON DELETE CASCADE,
  arm INTEGER NOT NULL,
  value REAL NOT NULL,
  request_id TEXT,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX evalkit_ab_outcomes_test ON evalkit_ab_outcomes(test_id, arm);
CREATE UNIQUE INDEX evalkit_ab_outcomes_request ON evalkit_ab_outcomes(test_id, request_id) WHERE request_id IS NOT NULL;`,
};
