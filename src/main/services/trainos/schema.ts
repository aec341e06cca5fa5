import type { MigrationSet } from '#platform/db';

export const trainosMigrations: MigrationSet = {
  owner: 'trainos',
  tablePrefix: 'trainos',
  migrations: [
    {
      version: 1,
      name: 'training jobs',
      sql: `
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
) STRICT;
CREATE INDEX trainos_jobs_state ON trainos_jobs(state, priority DESC, created_at);
CREATE INDEX trainos_jobs_created ON trainos_jobs(created_at DESC, id DESC);`,
    },
    {
      version: 2,
      name: 'checkpoints, resumes and preemption',
      sql: `
-- Files a job saved to resume from; the bytes are blobs referenced by the job.
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
CREATE INDEX trainos_checkpoints_job ON trainos_checkpoints(job_id, created_at);
-- Failed attempts, against the spec's retries; attempt counts every start (restarts after preemption too).
ALTER TABLE trainos_jobs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
-- The step of the checkpoint the current attempt resumed from.
ALTER TABLE trainos_jobs ADD COLUMN resumed_from_step INTEGER;
-- Set while the job is being stopped for a job of higher priority: it is queued again once it has stopped.
ALTER TABLE trainos_jobs ADD COLUMN preempted_by TEXT;`,
    },
    {
      version: 3,
      name: 'sweeps',
      sql: `
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
CREATE INDEX trainos_sweeps_state ON trainos_sweeps(state);
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
CREATE INDEX trainos_sweep_trials_job ON trainos_sweep_trials(job_id);
-- The objective values reported to the early stopper, in order, to rebuild it after a restart.
CREATE TABLE trainos_sweep_reports (
  sweep_id TEXT NOT NULL REFERENCES trainos_sweeps(id),
  seq INTEGER NOT NULL,
  number INTEGER NOT NULL,
  step INTEGER NOT NULL,
  -- NULL: NaN (SQLite has none)
  value REAL,
  PRIMARY KEY (sweep_id, seq)
) STRICT;`,
    },
  ],
};
