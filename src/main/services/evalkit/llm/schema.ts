import type { Migration } from '#platform/db';

/**
 * Suites keep their prompts, cases, assertions and settings as one JSON document (always read and written whole);
 * a run keeps a copy of the suite it ran, and one row per cell, written as each cell is done, so that a run resumed
 * after a crash asks only the cells it has not stored.
 */
export const llmEvalsMigration: Migration = {
  version: 2,
  name: 'LLM eval suites, cases and matrix runs',
  sql: `
CREATE TABLE evalkit_llm_suites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
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
CREATE INDEX evalkit_llm_runs_suite ON evalkit_llm_runs(suite_id, id);
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
) STRICT;`,
};
