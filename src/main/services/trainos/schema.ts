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
  ],
};
