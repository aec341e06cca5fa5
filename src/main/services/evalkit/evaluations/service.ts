import { z } from 'zod';
import type { JobContext, JobHandler } from '#platform/queue';
import { runArtifactRoot } from '#services/modelhub/contract';
import type { TabularPrediction } from '#shared/contracts/deploy';
import {
  EVALUATION_METRICS_WORKER,
  EVALUATION_REPORT_JOB,
  type Benchmark,
  type BenchmarkInput,
  type Evaluation,
  type EvaluationInput,
  type EvaluationReportJob,
  type EvaluationReportResult,
  type EvaluationSummary,
  type Gate,
  type GateCheck,
  type GateInput,
  type GateStatus,
  type PredictionColumns,
} from '#shared/contracts/evalkit-evaluations';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { EvalkitDeps } from '../deps';
import type { EvaluationsService } from './api';
import { Benchmarks } from './benchmarks';
import { EvaluationStore, type StoredEvaluation } from './store';

export const EVALUATE_JOB = 'evalkit.evaluate';
/** The ModelHub experiment evaluations are recorded in. */
export const EVALUATIONS_EXPERIMENT = 'evaluations';
/** Rows read from a table at most: they are held in memory with their predictions. */
export const MAX_EVALUATION_ROWS = 1_000_000;
/** Rows per `deploy.predict` call. */
const PREDICT_CHUNK = 1000;
const TABLE_FILE = /\.(csv|tsv|tab|jsonl|ndjson|parquet)$/i;

/** Another service's NOT_FOUND (or refusal) of a name, as a 400 naming the field of the request that gave it. */
async function asField<T>(field: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) {
      throw AppError.invalid(field, err.message);
    }
    throw err;
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const COMPARE: Record<Gate['op'], (a: number, b: number) => boolean> = {
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
  '<=': (a, b) => a <= b,
  '<': (a, b) => a < b,
};

/**
 * Evaluation runs and gates. An evaluation is a row here and a job on the platform queue; the job predicts through
 * DeployEngine, computes the report on a worker thread (src/workers/evaluation-metrics.ts), and records the result
 * in ModelHub. Gates are enforced by an alias guard registered with ModelHub's registry when this part is created.
 */
export class Evaluations implements EvaluationsService {
  private readonly store: EvaluationStore;
  private readonly benchmarks: Benchmarks;

  constructor(private readonly deps: EvalkitDeps) {
    this.store = new EvaluationStore(deps.db);
    this.benchmarks = new Benchmarks(deps);
    deps.modelhub.registry.addAliasGuard((move) => this.guardAliasMove(move));
  }

  /** Its background work on the platform queue. */
  jobHandlers(): JobHandler[] {
    const evaluate: JobHandler<{ evaluationId: string }> = {
      type: EVALUATE_JOB,
      description: 'Evaluates a model version or deployment on a dataset version: predictions, metrics, intervals',
      payload: z.object({ evaluationId: z.string() }),
      // A retry would predict everything again; a failure is recorded with its reason instead.
      maxAttempts: 1,
      run: ({ evaluationId }, ctx) => this.run(evaluationId, ctx),
    };
    return [evaluate as JobHandler, this.benchmarks.jobHandler()];
  }

  async create(input: z.output<typeof EvaluationInput>): Promise<EvaluationSummary> {
    const { dataforge, deploy, modelhub } = this.deps;
    if ((input.model === undefined) === (input.deployment === undefined)) {
      throw AppError.invalid('model', 'give either a model (with a version or @alias) or a deployment');
    }
    if (input.version !== undefined && input.model === undefined) {
      throw AppError.invalid('version', 'a version needs a model');
    }
    let model: string | null = null;
    let modelVersion: number | null = null;
    let deployment: string | null = null;
    if (input.model !== undefined) {
      const name = input.model;
      const registered = await asField('model', () => modelhub.registry.model(name));
      const selector = input.version;
      const version = await asField('version', () => {
        if (typeof selector === 'number') return modelhub.registry.version(name, selector);
        if (selector !== undefined) return modelhub.registry.versionByAlias(name, selector.replace(/^@/, ''));
        const newest = Math.max(0, ...registered.latestVersions.map((v) => v.version));
        if (newest === 0) throw AppError.invalid('model', `model '${name}' has no version`);
        return modelhub.registry.version(name, newest);
      });
      if (version.format !== 'onnx') {
        throw AppError.invalid(
          'model',
          `'${name}' version ${version.version} is a ${version.format.toUpperCase()} model; tabular evaluation needs ` +
            `an ONNX model${version.format === 'gguf' ? ' (evaluate language models with LLM evals)' : ''}`,
        );
      }
      model = name;
      modelVersion = version.version;
    } else {
      const ref = input.deployment as string;
      const d = await asField('deployment', () => deploy.get(ref));
      if (d.runtime !== 'onnx') {
        throw AppError.invalid(
          'deployment',
          `'${d.name}' serves a ${d.runtime.toUpperCase()} model; tabular evaluation needs an ONNX deployment`,
        );
      }
      deployment = d.name;
      if (d.source.kind === 'model-version') {
        model = d.source.model;
        modelVersion = d.source.version;
      }
    }
    const dataset = await asField('dataset', () => dataforge.getDataset(input.dataset));
    const version = await asField('datasetVersion', () => dataforge.resolveVersion(dataset.id, input.datasetVersion));
    const file = await this.tableOf(dataset.id, version.number, input.file);
    const { columns } = await dataforge.rows(dataset.id, String(version.number), {
      path: file,
      offset: 0,
      limit: 1,
      filters: [],
    });
    for (const [field, column] of [
      ['target', input.target],
      ['slice', input.slice],
    ] as const) {
      if (column !== undefined && !columns.includes(column)) {
        throw AppError.invalid(field, `'${file}' has no column '${column}' (its columns: ${columns.join(', ')})`);
      }
    }
    const id = newId();
    const createdAt = Date.now();
    this.store.transaction(() => {
      const job = this.deps.queue.enqueue({ type: EVALUATE_JOB, payload: { evaluationId: id } });
      this.store.insert({
        id,
        jobId: job.id,
        model,
        modelVersion,
        deployment,
        dataset: dataset.name,
        datasetVersion: version.number,
        datasetVersionId: version.id,
        file,
        target: input.target,
        task: input.task ?? null,
        slice: input.slice ?? null,
        resamples: input.resamples,
        confidence: input.confidence,
        createdAt,
      });
    });
    const created = this.summary(this.stored(id));
    this.deps.bus.emit('evalkit.evaluation.updated', { evaluation: created });
    return created;
  }

  list(query: {
    model?: string | undefined;
    version?: number | undefined;
    deployment?: string | undefined;
    limit: number;
  }): EvaluationSummary[] {
    return this.store.list(query).map((e) => this.summary(this.reconciled(e)));
  }

  get(id: string): Evaluation {
    const e = this.reconciled(this.stored(id));
    return { ...this.summary(e), report: e.report };
  }

  gates(model?: string): Gate[] {
    return this.store.gates(model);
  }

  setGate(input: z.output<typeof GateInput>): Gate {
    try {
      this.deps.modelhub.registry.model(input.model);
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') throw AppError.invalid('model', err.message);
      throw err;
    }
    const gate: Gate = {
      id: newId(),
      model: input.model,
      alias: input.alias ?? null,
      metric: input.metric,
      op: input.op,
      value: input.value,
      createdAt: Date.now(),
    };
    this.store.putGate(gate);
    return gate;
  }

  deleteGate(id: string): void {
    if (!this.store.deleteGate(id)) throw AppError.notFound('gate', id);
  }

  gateStatus(model: string, version: number): GateStatus {
    this.deps.modelhub.registry.version(model, version);
    const checks = this.check(model, version, this.store.gates(model));
    return { model, version, passed: checks.every((c) => c.passed), checks };
  }

  createBenchmark(input: z.output<typeof BenchmarkInput>): Benchmark {
    return this.benchmarks.create(input);
  }

  listBenchmarks(query: { deployment?: string | undefined; limit: number }): Benchmark[] {
    return this.benchmarks.list(query);
  }

  getBenchmark(id: string): Benchmark {
    return this.benchmarks.get(id);
  }

  private check(model: string, version: number, gates: readonly Gate[]): GateCheck[] {
    const latest = this.store.latestSucceeded(model, version);
    return gates.map((gate) => {
      const threshold = `${gate.metric} ${gate.op} ${gate.value}`;
      if (!latest) {
        return {
          gate,
          passed: false,
          actual: null,
          evaluationId: null,
          reason: `version ${version} has no evaluation`,
        };
      }
      const actual = latest.metrics[gate.metric] ?? null;
      if (actual === null) {
        return {
          gate,
          passed: false,
          actual,
          evaluationId: latest.id,
          reason: `its latest evaluation (${latest.id}) has no ${gate.metric}`,
        };
      }
      const passed = COMPARE[gate.op](actual, gate.value);
      return {
        gate,
        passed,
        actual,
        evaluationId: latest.id,
        reason: passed ? null : `${gate.metric} is ${actual} in its latest evaluation (${latest.id}), not ${threshold}`,
      };
    });
  }

  /** ModelHub's alias guard: a gated alias moves only to a version that passed the gates of that alias. */
  private guardAliasMove(move: { model: string; alias: string; version: number }): void {
    const gates = this.store.gates(move.model).filter((g) => g.alias === null || g.alias === move.alias);
    const failed = this.check(move.model, move.version, gates).find((c) => !c.passed);
    if (!failed) return;
    const { gate } = failed;
    throw new AppError(
      'FAILED_PRECONDITION',
      `alias '${move.alias}' of '${move.model}' is gated: version ${move.version} did not pass the gate ` +
        `${gate.metric} ${gate.op} ${gate.value}: ${failed.reason}`,
      { field: 'alias', gate: gate.id, metric: gate.metric, actual: failed.actual },
    );
  }

  private stored(id: string): StoredEvaluation {
    const e = this.store.get(id);
    if (!e) throw AppError.notFound('evaluation', id);
    return e;
  }

  /** A queued or running evaluation whose job ended without it (the app stopped mid-way) is failed with the job. */
  private reconciled(e: StoredEvaluation): StoredEvaluation {
    if (e.state !== 'queued' && e.state !== 'running') return e;
    const job = this.deps.queue.get(e.jobId);
    if (job.status !== 'failed' && job.status !== 'cancelled') return e;
    this.store.failed(e.id, job.error?.message ?? `its job was ${job.status}`, job.finishedAt ?? Date.now());
    return this.stored(e.id);
  }

  private summary(e: StoredEvaluation): EvaluationSummary {
    const progress = e.state === 'running' ? this.deps.queue.get(e.jobId).progress : e.state === 'succeeded' ? 1 : null;
    return {
      id: e.id,
      state: e.state,
      reason: e.reason,
      jobId: e.jobId,
      progress,
      model: e.model,
      modelVersion: e.modelVersion,
      deployment: e.deployment,
      dataset: e.dataset,
      datasetVersion: e.datasetVersion,
      file: e.file,
      target: e.target,
      task: e.task,
      slice: e.slice,
      rows: e.rows,
      metrics: e.metrics,
      runId: e.runId,
      createdAt: e.createdAt,
      startedAt: e.startedAt,
      finishedAt: e.finishedAt,
    };
  }

  private emit(id: string): void {
    this.deps.bus.emit('evalkit.evaluation.updated', { evaluation: this.summary(this.stored(id)) });
  }

  /** The table to read: the one named, or the version's only table. */
  private async tableOf(dataset: string, version: number, file: string | undefined): Promise<string> {
    const { items } = await this.deps.dataforge.files(dataset, String(version), { prefix: '', limit: 10_000 });
    if (file !== undefined) {
      if (!items.some((f) => f.path === file))
        throw AppError.invalid('file', `version ${version} has no file '${file}'`);
      if (!TABLE_FILE.test(file)) {
        throw AppError.invalid('file', `'${file}' is not a table (CSV, TSV, JSON lines or Parquet)`);
      }
      return file;
    }
    const tables = items.filter((f) => TABLE_FILE.test(f.path)).map((f) => f.path);
    if (tables.length === 1) return tables[0]!;
    throw AppError.invalid(
      'file',
      tables.length === 0
        ? `version ${version} has no table (CSV, TSV, JSON lines or Parquet)`
        : `version ${version} has ${tables.length} tables (${tables.slice(0, 10).join(', ')}); name one`,
    );
  }

  /** The job: predict every row, compute the report, record it; any failure ends the evaluation `failed`. */
  private async run(id: string, ctx: JobContext): Promise<{ evaluationId: string }> {
    const e = this.stored(id);
    this.store.started(id, Date.now());
    this.emit(id);
    let temporary: string | null = null;
    let outcome: { succeeded: Parameters<EvaluationStore['succeeded']>[1] } | { failed: unknown };
    try {
      ctx.progress(0.01, 'reading the table');
      const table = await this.deps.dataforge.rows(e.dataset, String(e.datasetVersion), {
        path: e.file,
        offset: 0,
        limit: MAX_EVALUATION_ROWS + 1,
        filters: [],
      });
      if (table.total > MAX_EVALUATION_ROWS) {
        throw AppError.invalid(
          'file',
          `'${e.file}' has ${table.total} rows; an evaluation reads at most ${MAX_EVALUATION_ROWS}`,
        );
      }
      if (table.rows.length === 0) throw AppError.invalid('file', `'${e.file}' has no rows`);
      const column = (name: string) => {
        const index = table.columns.indexOf(name);
        return table.rows.map((row) => row[index] ?? null);
      };
      let deployment = e.deployment;
      if (deployment === null) {
        ctx.progress(0.03, `deploying ${e.model} v${e.modelVersion}`);
        temporary = `eval-${id.toLowerCase()}`;
        const created = await this.deps.deploy.create({
          name: temporary,
          model: e.model as string,
          version: e.modelVersion as number,
          minReplicas: 1,
          requestLog: { sampleRate: 0, maxChars: 4096 },
        });
        if (created.state === 'failed')
          throw new AppError('FAILED_PRECONDITION', `the model did not load: ${created.reason}`);
        deployment = created.name;
      } else {
        const d = this.deps.deploy.get(deployment);
        if (d.source.kind === 'model-version') this.store.setModelVersion(id, d.source.model, d.source.version);
      }
      const predictions = await this.predictAll(deployment, table.columns, table.rows, ctx);
      ctx.progress(0.85, 'computing metrics');
      const job: EvaluationReportJob = {
        target: { name: e.target, values: column(e.target) },
        predictions,
        task: e.task,
        slice: e.slice === null ? null : { name: e.slice, values: column(e.slice) },
        resamples: e.resamples,
        confidence: e.confidence,
      };
      // On a worker thread: a million rows' metrics and resamples take seconds the API must not wait behind.
      const result = (await this.deps.workers.run(EVALUATION_METRICS_WORKER, EVALUATION_REPORT_JOB, job, {
        signal: ctx.signal,
      })) as EvaluationReportResult;
      ctx.progress(0.95, 'recording in ModelHub');
      const runId = await this.record(this.stored(id), result.metrics, result.report, result.task);
      outcome = { succeeded: { ...result, rows: table.rows.length, runId, at: Date.now() } };
    } catch (err) {
      outcome = { failed: err };
    }
    // The temporary deployment is gone before the evaluation is seen to end.
    if (temporary !== null) {
      await this.deps.deploy.remove(temporary).catch((err: unknown) => {
        this.deps.logger.warn(
          { err, deployment: temporary },
          'could not remove the temporary deployment of an evaluation',
        );
      });
    }
    if ('failed' in outcome) {
      this.store.failed(id, reasonOf(outcome.failed), Date.now());
      this.emit(id);
      throw outcome.failed;
    }
    this.store.succeeded(id, outcome.succeeded);
    this.emit(id);
    return { evaluationId: id };
  }

  /**
   * Predictions for every row, in chunks (with progress), gathered as columns. Columns the model does not take (an
   * id, the slice column) are left out: the first chunk's refusal names them one at a time.
   */
  private async predictAll(
    deployment: string,
    columns: readonly string[],
    rows: readonly (readonly (string | null)[])[],
    ctx: JobContext,
  ): Promise<PredictionColumns> {
    const columnsOut = new PredictionColumnsBuilder(rows.length);
    const dropped = new Set<string>();
    for (let start = 0; start < rows.length; start += PREDICT_CHUNK) {
      ctx.signal.throwIfAborted();
      const end = Math.min(start + PREDICT_CHUNK, rows.length);
      // Records a chunk at a time: a million of them at once would hold the API thread for seconds.
      const chunk = rows
        .slice(start, end)
        .map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null] as const)));
      for (;;) {
        const records = dropped.size === 0 ? chunk : chunk.map((r) => withoutColumns(r, dropped));
        try {
          const { predictions } = await this.deps.deploy.predict({ deployment, rows: records });
          if (!predictions) throw new AppError('FAILED_PRECONDITION', `'${deployment}' is not a tabular model`);
          columnsOut.add(start, predictions);
          break;
        } catch (err) {
          const extra = extraColumnOf(err);
          if (extra !== null && !dropped.has(extra)) {
            dropped.add(extra);
            continue;
          }
          throw new AppError(
            err instanceof AppError ? err.code : 'INTERNAL',
            `predicting rows ${start + 1}–${end}: ${reasonOf(err)}`,
          );
        }
      }
      ctx.progress(0.05 + (0.8 * end) / rows.length, 'predicting');
    }
    return columnsOut.columns();
  }

  /** The evaluation as a run of the `evaluations` experiment, linked to the model version by tags. */
  private async record(
    e: StoredEvaluation,
    metrics: Record<string, number | null>,
    report: unknown,
    task: string,
  ): Promise<string> {
    const { tracking, artifacts, registry } = this.deps.modelhub;
    const target = e.model === null ? `deployment ${e.deployment}` : `${e.model} v${e.modelVersion}`;
    const tags = [
      { key: 'aidos.evaluation', value: e.id },
      { key: 'aidos.dataset', value: e.dataset },
      { key: 'aidos.dataset_version', value: String(e.datasetVersion) },
      ...(e.model === null
        ? []
        : [
            { key: 'aidos.model', value: e.model },
            { key: 'aidos.model_version', value: String(e.modelVersion) },
          ]),
      ...(e.deployment === null ? [] : [{ key: 'aidos.deployment', value: e.deployment }]),
    ];
    const run = tracking.createRun({
      experimentId: this.experimentId(),
      runName: `${target} on ${e.dataset} v${e.datasetVersion}`,
      tags,
    });
    const runId = run.info.id;
    const timestamp = Date.now();
    tracking.logBatch(runId, {
      metrics: Object.entries(metrics)
        .filter((m): m is [string, number] => m[1] !== null)
        .map(([key, value]) => ({ key, value, step: 0, timestamp })),
      params: [
        { key: 'task', value: task },
        { key: 'target', value: e.target },
        { key: 'file', value: e.file },
        { key: 'resamples', value: String(e.resamples) },
        { key: 'confidence', value: String(e.confidence) },
        ...(e.slice === null ? [] : [{ key: 'slice', value: e.slice }]),
      ],
      tags: [],
    });
    await artifacts.put(runArtifactRoot(run.info), 'evaluation/report.json', Buffer.from(JSON.stringify(report)));
    tracking.updateRun(runId, { status: 'FINISHED', endTime: Date.now() });
    if (e.model !== null && e.modelVersion !== null) {
      registry.setVersionTag(e.model, String(e.modelVersion), 'aidos.evaluation', e.id);
    }
    return runId;
  }

  private experimentId(): string {
    const { tracking } = this.deps.modelhub;
    try {
      return tracking.experimentByName(EVALUATIONS_EXPERIMENT).id;
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      return tracking.createExperiment({ name: EVALUATIONS_EXPERIMENT });
    }
  }
}

/** A tabular model's predictions as columns, filled a chunk at a time. */
class PredictionColumnsBuilder {
  private classes: string[] | null = null;
  private labels: string[] = [];
  private probabilities: Float64Array[] = [];
  private values: Float64Array | null = null;

  constructor(private readonly rows: number) {}

  add(start: number, predictions: readonly TabularPrediction[]): void {
    predictions.forEach((p, i) => {
      const row = start + i;
      if ('label' in p) {
        // The classes are the model's, as its first prediction names them.
        if (this.classes === null) {
          this.classes = Object.keys(p.probabilities).sort();
          this.labels = new Array<string>(this.rows);
          this.probabilities = this.classes.map(() => new Float64Array(this.rows));
        }
        this.labels[row] = p.label;
        this.classes.forEach((c, k) => (this.probabilities[k]![row] = p.probabilities[c] ?? 0));
      } else {
        this.values ??= new Float64Array(this.rows);
        this.values[row] = p.value;
      }
    });
  }

  columns(): PredictionColumns {
    if (this.classes !== null) {
      return { kind: 'classification', classes: this.classes, labels: this.labels, probabilities: this.probabilities };
    }
    return { kind: 'regression', values: this.values ?? new Float64Array(this.rows) };
  }
}

function withoutColumns(
  record: Readonly<Record<string, string | null>>,
  columns: Set<string>,
): Record<string, string | null> {
  return Object.fromEntries(Object.entries(record).filter(([c]) => !columns.has(c)));
}

/** The column a tabular model refused as not one of its own (`rows[i].<column>: not a column of this model`). */
function extraColumnOf(err: unknown): string | null {
  if (!(err instanceof AppError) || err.code !== 'INVALID_ARGUMENT') return null;
  const field = (err.details as { field?: unknown } | undefined)?.field;
  const match = typeof field === 'string' ? /^rows\[\d+\]\.(.+)$/.exec(field) : null;
  return match && err.message.includes('not a column of this model') ? match[1]! : null;
}
