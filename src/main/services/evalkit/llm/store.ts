import { statement, type Db } from '#platform/db';
import type {
  LlmAssertionResult,
  LlmCell,
  LlmRunState,
  LlmRunSummary,
  LlmSuite,
  DiffPart,
} from '#shared/contracts/evalkit-llm';
import type { SuiteSpec } from './api';

interface SuiteRow {
  id: string;
  name: string;
  spec: string;
  created_at: number;
  updated_at: number;
}

interface RunRow {
  id: string;
  suite_id: string;
  suite_name: string;
  spec: string;
  models: string;
  state: LlmRunState;
  reason: string | null;
  job_id: string;
  cell_count: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  done: number;
  passed: number;
}

interface CellRow {
  prompt_index: number;
  model: string;
  case_index: number;
  output: string | null;
  error: string | null;
  latency_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  passed: number;
  assertions: string;
  diff: string | null;
}

/** A cell as stored: its prompt by index into the run's copy of the suite. */
export type StoredCell = Omit<LlmCell, 'prompt'> & { promptIndex: number };

function toSuite(row: SuiteRow): LlmSuite {
  const spec = JSON.parse(row.spec) as Omit<SuiteSpec, 'name'>;
  return { id: row.id, name: row.name, ...spec, createdAt: row.created_at, updatedAt: row.updated_at };
}

function toRunSummary(row: RunRow): LlmRunSummary {
  return {
    id: row.id,
    suiteId: row.suite_id,
    suite: row.suite_name,
    models: JSON.parse(row.models) as string[],
    state: row.state,
    reason: row.reason,
    jobId: row.job_id,
    done: row.done,
    cellCount: row.cell_count,
    passed: row.passed,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

const RUN_SELECT = `SELECT r.*,
  (SELECT COUNT(*) FROM evalkit_llm_cells c WHERE c.run_id = r.id) AS done,
  (SELECT COUNT(*) FROM evalkit_llm_cells c WHERE c.run_id = r.id AND c.passed = 1) AS passed
FROM evalkit_llm_runs r`;

/** The LLM evals' tables (`evalkit_llm_*`): suites, runs with their copy of the suite, and one row per cell. */
export class LlmEvalStore {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  suites(): LlmSuite[] {
    return (statement(this.db, 'SELECT * FROM evalkit_llm_suites ORDER BY name').all() as SuiteRow[]).map(toSuite);
  }

  /** By id or name. */
  suite(ref: string): LlmSuite | null {
    const row = statement(this.db, 'SELECT * FROM evalkit_llm_suites WHERE id = ? OR name = ?').get(ref, ref) as
      SuiteRow | undefined;
    return row ? toSuite(row) : null;
  }

  suiteNamed(name: string): string | null {
    const row = statement(this.db, 'SELECT id FROM evalkit_llm_suites WHERE name = ?').get(name) as
      { id: string } | undefined;
    return row?.id ?? null;
  }

  insertSuite(id: string, { name, ...spec }: SuiteSpec, now: number): void {
    statement(
      this.db,
      'INSERT INTO evalkit_llm_suites (id, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    ).run(id, name, JSON.stringify(spec), now, now);
  }

  updateSuite(id: string, { name, ...spec }: SuiteSpec, now: number): void {
    statement(this.db, 'UPDATE evalkit_llm_suites SET name = ?, spec = ?, updated_at = ? WHERE id = ?').run(
      name,
      JSON.stringify(spec),
      now,
      id,
    );
  }

  deleteSuite(id: string): void {
    statement(this.db, 'DELETE FROM evalkit_llm_suites WHERE id = ?').run(id);
  }

  insertRun(run: {
    id: string;
    suite: LlmSuite;
    models: string[];
    jobId: string;
    cellCount: number;
    now: number;
  }): void {
    const { id: _id, name: _name, createdAt: _c, updatedAt: _u, ...spec } = run.suite;
    statement(
      this.db,
      `INSERT INTO evalkit_llm_runs (id, suite_id, suite_name, spec, models, state, job_id, cell_count, created_at)
       VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
    ).run(
      run.id,
      run.suite.id,
      run.suite.name,
      JSON.stringify(spec),
      JSON.stringify(run.models),
      run.jobId,
      run.cellCount,
      run.now,
    );
  }

  run(id: string): { summary: LlmRunSummary; spec: Omit<SuiteSpec, 'name'> } | null {
    const row = statement(this.db, `${RUN_SELECT} WHERE r.id = ?`).get(id) as RunRow | undefined;
    return row ? { summary: toRunSummary(row), spec: JSON.parse(row.spec) as Omit<SuiteSpec, 'name'> } : null;
  }

  runs(query: { suiteId?: string | undefined; limit: number }): LlmRunSummary[] {
    const rows = (
      query.suiteId === undefined
        ? statement(this.db, `${RUN_SELECT} ORDER BY r.id DESC LIMIT ?`).all(query.limit)
        : statement(this.db, `${RUN_SELECT} WHERE r.suite_id = ? ORDER BY r.id DESC LIMIT ?`).all(
            query.suiteId,
            query.limit,
          )
    ) as RunRow[];
    return rows.map(toRunSummary);
  }

  setRunState(id: string, state: LlmRunState, reason: string | null, now: number): void {
    statement(
      this.db,
      `UPDATE evalkit_llm_runs SET state = @state, reason = @reason,
         started_at = CASE WHEN @state = 'running' THEN COALESCE(started_at, @now) ELSE started_at END,
         finished_at = CASE WHEN @state IN ('succeeded', 'failed') THEN @now ELSE NULL END
       WHERE id = @id`,
    ).run({ id, state, reason, now });
  }

  insertCell(runId: string, cell: StoredCell): void {
    statement(
      this.db,
      `INSERT OR REPLACE INTO evalkit_llm_cells (run_id, prompt_index, model, case_index, output, error, latency_ms,
         prompt_tokens, completion_tokens, passed, assertions, diff)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      runId,
      cell.promptIndex,
      cell.model,
      cell.case,
      cell.output,
      cell.error,
      cell.latencyMs,
      cell.promptTokens,
      cell.completionTokens,
      cell.passed ? 1 : 0,
      JSON.stringify(cell.assertions),
      cell.diff === null ? null : JSON.stringify(cell.diff),
    );
  }

  cells(runId: string): StoredCell[] {
    const rows = statement(
      this.db,
      'SELECT * FROM evalkit_llm_cells WHERE run_id = ? ORDER BY prompt_index, model, case_index',
    ).all(runId) as CellRow[];
    return rows.map((row) => ({
      promptIndex: row.prompt_index,
      model: row.model,
      case: row.case_index,
      output: row.output,
      error: row.error,
      latencyMs: row.latency_ms,
      promptTokens: row.prompt_tokens,
      completionTokens: row.completion_tokens,
      passed: row.passed === 1,
      assertions: JSON.parse(row.assertions) as LlmAssertionResult[],
      diff: row.diff === null ? null : (JSON.parse(row.diff) as DiffPart[]),
    }));
  }
}
