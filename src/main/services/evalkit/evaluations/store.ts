import { statement, type Db } from '#platform/db';
import type {
  EvaluationReport,
  EvaluationState,
  EvaluationSummary,
  EvaluationTask,
  Gate,
} from '#shared/contracts/evalkit-evaluations';

interface EvaluationRow {
  id: string;
  state: EvaluationState;
  reason: string | null;
  job_id: string;
  model: string | null;
  model_version: number | null;
  deployment: string | null;
  dataset: string;
  dataset_version: number;
  dataset_version_id: string;
  file: string;
  target: string;
  task: EvaluationTask | null;
  slice: string | null;
  resamples: number;
  confidence: number;
  rows: number | null;
  metrics: string;
  report: string | null;
  run_id: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** An evaluation as stored: its summary, what the job needs, and the report. */
export interface StoredEvaluation extends Omit<EvaluationSummary, 'progress'> {
  datasetVersionId: string;
  resamples: number;
  confidence: number;
  report: EvaluationReport | null;
}

export type NewEvaluation = Pick<
  StoredEvaluation,
  | 'id'
  | 'jobId'
  | 'model'
  | 'modelVersion'
  | 'deployment'
  | 'dataset'
  | 'datasetVersion'
  | 'datasetVersionId'
  | 'file'
  | 'target'
  | 'task'
  | 'slice'
  | 'resamples'
  | 'confidence'
  | 'createdAt'
>;

function toEvaluation(r: EvaluationRow): StoredEvaluation {
  return {
    id: r.id,
    state: r.state,
    reason: r.reason,
    jobId: r.job_id,
    model: r.model,
    modelVersion: r.model_version,
    deployment: r.deployment,
    dataset: r.dataset,
    datasetVersion: r.dataset_version,
    datasetVersionId: r.dataset_version_id,
    file: r.file,
    target: r.target,
    task: r.task,
    slice: r.slice,
    resamples: r.resamples,
    confidence: r.confidence,
    rows: r.rows,
    metrics: JSON.parse(r.metrics) as Record<string, number | null>,
    report: r.report === null ? null : (JSON.parse(r.report) as EvaluationReport),
    runId: r.run_id,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

interface GateRow {
  id: string;
  model: string;
  alias: string | null;
  metric: Gate['metric'];
  op: Gate['op'];
  value: number;
  created_at: number;
}

function toGate(r: GateRow): Gate {
  return {
    id: r.id,
    model: r.model,
    alias: r.alias,
    metric: r.metric,
    op: r.op,
    value: r.value,
    createdAt: r.created_at,
  };
}

/** EvalKit's evaluation runs and gates in SQLite (tables `evalkit_evaluations`, `evalkit_gates`). */
export class EvaluationStore {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insert(e: NewEvaluation): void {
    statement(
      this.db,
      `INSERT INTO evalkit_evaluations (id, state, job_id, model, model_version, deployment, dataset, dataset_version,
         dataset_version_id, file, target, task, slice, resamples, confidence, created_at)
       VALUES (@id, 'queued', @jobId, @model, @modelVersion, @deployment, @dataset, @datasetVersion, @datasetVersionId,
         @file, @target, @task, @slice, @resamples, @confidence, @createdAt)`,
    ).run(e);
  }

  get(id: string): StoredEvaluation | undefined {
    const row = statement(this.db, 'SELECT * FROM evalkit_evaluations WHERE id = ?').get(id) as
      EvaluationRow | undefined;
    return row && toEvaluation(row);
  }

  /** Newest first; each filter only when given. */
  list(query: {
    model?: string | undefined;
    version?: number | undefined;
    deployment?: string | undefined;
    limit: number;
  }): StoredEvaluation[] {
    const rows = statement(
      this.db,
      `SELECT * FROM evalkit_evaluations
       WHERE (@model IS NULL OR model = @model) AND (@version IS NULL OR model_version = @version)
         AND (@deployment IS NULL OR deployment = @deployment)
       ORDER BY id DESC LIMIT @limit`,
    ).all({
      model: query.model ?? null,
      version: query.version ?? null,
      deployment: query.deployment ?? null,
      limit: query.limit,
    }) as EvaluationRow[];
    return rows.map(toEvaluation);
  }

  /** The newest succeeded evaluation of a model version. */
  latestSucceeded(model: string, version: number): StoredEvaluation | undefined {
    const row = statement(
      this.db,
      `SELECT * FROM evalkit_evaluations WHERE model = ? AND model_version = ? AND state = 'succeeded'
       ORDER BY finished_at DESC, id DESC LIMIT 1`,
    ).get(model, version) as EvaluationRow | undefined;
    return row && toEvaluation(row);
  }

  started(id: string, at: number): void {
    statement(this.db, "UPDATE evalkit_evaluations SET state = 'running', started_at = ? WHERE id = ?").run(at, id);
  }

  /** The model version a deployment served, known once the job looked at it. */
  setModelVersion(id: string, model: string | null, version: number | null): void {
    statement(this.db, 'UPDATE evalkit_evaluations SET model = ?, model_version = ? WHERE id = ?').run(
      model,
      version,
      id,
    );
  }

  succeeded(
    id: string,
    result: {
      task: EvaluationTask;
      rows: number;
      metrics: Record<string, number | null>;
      report: EvaluationReport;
      runId: string;
      at: number;
    },
  ): void {
    statement(
      this.db,
      `UPDATE evalkit_evaluations SET state = 'succeeded', reason = NULL, task = ?, rows = ?, metrics = ?, report = ?,
         run_id = ?, finished_at = ? WHERE id = ?`,
    ).run(
      result.task,
      result.rows,
      JSON.stringify(result.metrics),
      JSON.stringify(result.report),
      result.runId,
      result.at,
      id,
    );
  }

  failed(id: string, reason: string, at: number): void {
    statement(this.db, "UPDATE evalkit_evaluations SET state = 'failed', reason = ?, finished_at = ? WHERE id = ?").run(
      reason,
      at,
      id,
    );
  }

  gates(model?: string): Gate[] {
    const rows = statement(
      this.db,
      'SELECT * FROM evalkit_gates WHERE (@model IS NULL OR model = @model) ORDER BY model, alias, metric',
    ).all({ model: model ?? null }) as GateRow[];
    return rows.map(toGate);
  }

  /** Inserts a gate, replacing the one of the same model, alias and metric. */
  putGate(gate: Gate): void {
    this.transaction(() => {
      statement(this.db, 'DELETE FROM evalkit_gates WHERE model = ? AND alias IS ? AND metric = ?').run(
        gate.model,
        gate.alias,
        gate.metric,
      );
      statement(
        this.db,
        `INSERT INTO evalkit_gates (id, model, alias, metric, op, value, created_at)
         VALUES (@id, @model, @alias, @metric, @op, @value, @createdAt)`,
      ).run(gate);
    });
  }

  deleteGate(id: string): boolean {
    return statement(this.db, 'DELETE FROM evalkit_gates WHERE id = ?').run(id).changes > 0;
  }
}
