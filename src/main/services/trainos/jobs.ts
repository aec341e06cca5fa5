import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '#platform/blobstore';
import { statement, type Db } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import type { ColumnType } from '#shared/contracts/dataforge';
import {
  hasEnded,
  type TrainingJobSpec,
  type JobLogLine,
  type TrainingCheckpoint,
  type TrainingJob,
  type TrainingJobState,
} from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import type { BuiltinExecutor } from './builtin-executor';
import type { TfjsModelFiles } from './builtin/tfjs-export';
import { findTableFile } from './builtin/trainer';
import { isFinalState, type Executor, type ExecutorEvent, type ExecutorJobStatus } from './executor';
import { readLogFile } from './job-log';
import type { LocalExecutor } from './local-executor';
import type { SlurmExecutor } from './slurm-executor';
import { plan, type GpuReservation, type JobStart, type Machine } from './scheduler';
import type { VramArbiter } from './vram';

interface JobRow {
  id: string;
  name: string;
  spec: string;
  state: TrainingJobState;
  priority: number;
  attempt: number;
  run_id: string | null;
  placement: string | null;
  handle: string | null;
  log_file: string;
  waiting_reason: string | null;
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  retry_of: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  failures: number;
  resumed_from_step: number | null;
  preempted_by: string | null;
}

interface CheckpointRow {
  id: string;
  job_id: string;
  attempt: number;
  step: number;
  name: string;
  size: number;
  sha256: string;
  created_at: number;
}

function toCheckpoint(r: CheckpointRow): TrainingCheckpoint {
  return {
    id: r.id,
    jobId: r.job_id,
    attempt: r.attempt,
    step: r.step,
    name: r.name,
    size: r.size,
    sha256: r.sha256,
    createdAt: r.created_at,
  };
}

interface Placement {
  gpus: GpuReservation[];
  cudaVisibleDevices: string;
}

/** The ModelHub side of a job: the run it logs into, made at its first start and ended with it. */
export interface JobRuns {
  start(
    experiment: string,
    runName: string,
    jobId: string,
    extra: { params: Readonly<Record<string, string>>; parentRunId: string | undefined },
  ): string;
  /** Records the dataset versions the job reads as inputs of its run (lineage). */
  inputs(runId: string, versions: readonly MountedVersion[]): void;
  end(runId: string, state: TrainingJobState): void;
  /** Forgets the run's metric points after `step` (all when null): a restarted attempt logs them again. */
  truncate(runId: string, afterStep: number | null): void;
  /** Logs metrics at one step (a built-in trainer's epoch). */
  logMetrics(runId: string, metrics: Readonly<Record<string, number>>, step: number): void;
  /**
   * Keeps a built-in trainer's model as the run's artifacts (`model/model.onnx`, `model/preprocessing.json`, and
   * its TF.js export in `model/tfjs/` when there is one) and registers it as a version of `model` (made when
   * missing).
   */
  saveModel(
    runId: string,
    model: string,
    files: { onnx: Uint8Array; preprocessing: unknown; tfjs: TfjsModelFiles | null },
    jobId: string,
  ): Promise<{ name: string; version: number }>;
}

/** A dataset version a job reads, fixed at submission. */
export interface MountedVersion {
  dataset: string;
  number: number;
  versionId: string;
  manifestSha256: string;
  /** The environment variable that names its folder. */
  env: string;
}

/** DataForge as jobs need it: versions resolved, and written once into folders of their own. */
export interface JobDatasets {
  resolve(dataset: string, version: string): { id: string; number: number; manifestSha256: string };
  /** The declared column types of a table in a version; null when it has none (not a table DataForge reads). */
  columnTypes(dataset: string, version: number, file: string): { name: string; type: ColumnType }[] | null;
  /** The folder holding the version's files, written on first use (concurrent calls share the work). */
  materialize(versionId: string): Promise<string>;
}

export interface TrainingJobsDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  executors: JobExecutors;
  /** Where a job's GPU memory is accounted, beside served models'. */
  vram: VramArbiter;
  /** The machine as the scheduler sees it now (GPUs with memory others hold, CPU threads, RAM). */
  machine: () => Promise<Machine>;
  runs: JobRuns;
  datasets: JobDatasets;
  /** What a job needs to reach the core: its URL and a token. */
  access: () => { url: string; token: string };
  logsDir: string;
  /** Checkpoint files are blobs; a resumed attempt gets a copy under `checkpointsDir`. */
  blobs: BlobStore;
  checkpointsDir: string;
}

/**
 * Where jobs run: script jobs on this machine (placed by TrainOS) or on a Slurm cluster (placed by Slurm), built-in
 * trainers in the app's worker threads.
 */
export interface JobExecutors {
  local: LocalExecutor;
  builtin: BuiltinExecutor;
  slurm: SlurmExecutor;
}

/** Any of them, seen through what every executor does (adopting, cancelling, following). */
type AnyExecutor = Executor<unknown, never>;

/** How long live log lines are gathered before they go out as one event. */
const LOG_EVENT_MS = 100;

function toJob(r: JobRow, lastCheckpoint: CheckpointRow | undefined): TrainingJob {
  const placement = r.placement ? (JSON.parse(r.placement) as Placement) : null;
  return {
    id: r.id,
    name: r.name,
    spec: JSON.parse(r.spec) as TrainingJobSpec,
    state: r.state,
    attempt: r.attempt,
    runId: r.run_id,
    placement: placement && {
      gpus: placement.gpus.map((g) => g.index),
      cudaVisibleDevices: placement.cudaVisibleDevices,
    },
    waitingReason: r.waiting_reason,
    exitCode: r.exit_code,
    signal: r.signal,
    reason: r.reason,
    lastCheckpoint: lastCheckpoint ? toCheckpoint(lastCheckpoint) : null,
    resumedFromStep: r.resumed_from_step,
    retryOf: r.retry_of,
    createdAt: r.created_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
}

/**
 * Training jobs: kept in `trainos_jobs`, placed by `plan()` whenever one is submitted or ends, run by the
 * executor, and adopted again when the app restarts while they run (decision 4).
 */
export class TrainingJobs {
  private planning: Promise<void> | undefined;
  private readonly pendingLogLines = new Map<string, (JobLogLine & { nextByte: number })[]>();
  private logFlushTimer: NodeJS.Timeout | undefined;
  private planAgain = false;
  private readonly specs = new Map<string, TrainingJobSpec>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: TrainingJobsDeps) {}

  /** Follows the executor, adopts the jobs that were running when the app stopped, and places queued ones. */
  async start(): Promise<void> {
    const offExecutors = this.executors().map((executor) => executor.subscribe((e) => this.onExecutorEvent(e)));
    // Memory a served model gave back may let a waiting job start.
    const offVram = this.deps.bus.on('vram.released', () => this.schedule());
    this.unsubscribe = () => {
      for (const off of offExecutors) off();
      offVram();
    };
    for (const row of this.rows("SELECT * FROM trainos_jobs WHERE state = 'running'")) {
      if (!row.handle || row.started_at === null) {
        this.finish(row, { state: 'failed', exitCode: null, signal: null, reason: 'the app stopped as it started' });
        continue;
      }
      const spec = JSON.parse(row.spec) as TrainingJobSpec;
      const status = await this.executorOf(spec).adopt({
        id: row.id,
        logFile: row.log_file,
        handle: JSON.parse(row.handle) as unknown,
        startedAt: row.started_at,
        ...(spec.maxRuntimeSeconds ? { maxRuntimeMs: spec.maxRuntimeSeconds * 1000 } : {}),
      });
      if (isFinalState(status.state)) this.ended(status);
      else if (row.placement) {
        // The arbiter starts empty with the app: account the adopted job's GPU memory again.
        // Adopted jobs never wait for parking: their processes already hold the memory.
        await this.reserveGpus(row.id, row.name, (JSON.parse(row.placement) as Placement).gpus, false).catch(
          (err: unknown) =>
            this.deps.logger.warn({ err, job: row.id }, "could not account an adopted job's GPU memory"),
        );
      }
    }
    this.schedule();
  }

  close(): void {
    this.unsubscribe?.();
    this.flushLogLines();
    // Script jobs keep running: the next start adopts them (built-in trainers stop, and resume then).
    for (const executor of this.executors()) executor.close();
  }

  private executors(): AnyExecutor[] {
    return [this.deps.executors.local, this.deps.executors.builtin, this.deps.executors.slurm];
  }

  private executorOf(spec: TrainingJobSpec): AnyExecutor {
    if (spec.kind === 'builtin') return this.deps.executors.builtin;
    return spec.executor === 'slurm' ? this.deps.executors.slurm : this.deps.executors.local;
  }

  submit(spec: TrainingJobSpec, retryOf: string | null = null): TrainingJob {
    if (spec.workingDir !== undefined) {
      if (!path.isAbsolute(spec.workingDir)) {
        throw AppError.invalid('workingDir', `must be an absolute path (got '${spec.workingDir}')`);
      }
      if (!statSync(spec.workingDir, { throwIfNoEntry: false })?.isDirectory()) {
        throw AppError.invalid('workingDir', `${spec.workingDir} is not a folder on this machine`);
      }
    }
    const mounts = this.resolveMounts(spec);
    const fixed: TrainingJobSpec = {
      ...spec,
      datasets: spec.datasets.map((d, i) => ({ ...d, version: String((mounts[i] as MountedVersion).number) })),
      ...(spec.kind === 'builtin' && spec.trainer
        ? { registerModel: spec.registerModel ?? `${spec.datasets[0]?.dataset ?? 'model'}-${spec.trainer.kind}` }
        : {}),
    };
    const id = newId();
    const now = Date.now();
    const name = spec.name ?? defaultName(spec);
    statement(
      this.deps.db,
      `INSERT INTO trainos_jobs (id, name, spec, state, priority, attempt, log_file, retry_of, created_at)
         VALUES (?, ?, ?, 'queued', ?, 1, ?, ?, ?)`,
    ).run(id, name, JSON.stringify(fixed), spec.priority, path.join(this.deps.logsDir, `${id}.log`), retryOf, now);
    const job = this.get(id);
    this.deps.bus.emit('training.job.updated', { job });
    this.schedule();
    return job;
  }

  /** The versions a spec mounts, each checked to exist, with the environment variable naming its folder. */
  private resolveMounts(spec: TrainingJobSpec): MountedVersion[] {
    const names = new Set<string>();
    return spec.datasets.map((d, i) => {
      let version;
      try {
        version = this.deps.datasets.resolve(d.dataset, d.version);
      } catch (err) {
        if (err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT')) {
          throw AppError.invalid(`datasets.${i}`, err.message);
        }
        throw err;
      }
      const env = `AIDOS_DATASET_${d.as ?? d.dataset.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
      if (names.has(env)) throw AppError.invalid(`datasets.${i}`, `${env} names two datasets: give one an 'as'`);
      names.add(env);
      return {
        dataset: d.dataset,
        number: version.number,
        versionId: version.id,
        manifestSha256: version.manifestSha256,
        env,
      };
    });
  }

  get(id: string): TrainingJob {
    return this.toJob(this.row(id));
  }

  private toJob(row: JobRow): TrainingJob {
    return toJob(row, this.lastCheckpoint(row.id));
  }

  private lastCheckpoint(jobId: string): CheckpointRow | undefined {
    return statement(
      this.deps.db,
      'SELECT * FROM trainos_checkpoints WHERE job_id = ? ORDER BY created_at DESC, id DESC LIMIT 1',
    ).get(jobId) as CheckpointRow | undefined;
  }

  /**
   * Keeps a file a running job saved to resume from. The job's points up to `step` must be logged already: a
   * restart resumes from the newest checkpoint and drops the points logged after its step.
   */
  async saveCheckpoint(
    id: string,
    input: { step: number; name: string },
    content: Uint8Array,
  ): Promise<TrainingCheckpoint> {
    const row = this.row(id);
    if (row.state !== 'running') {
      throw new AppError('FAILED_PRECONDITION', `job ${id} is ${row.state}: only a running job saves checkpoints`);
    }
    const blob = await this.deps.blobs.put(content, { owner: 'trainos', ref: id });
    const checkpoint: CheckpointRow = {
      id: newId(),
      job_id: id,
      attempt: row.attempt,
      step: input.step,
      name: input.name,
      size: blob.size,
      sha256: blob.sha256,
      created_at: Date.now(),
    };
    const keep = this.specOf(row).keepCheckpoints;
    this.deps.db.transaction(() => {
      statement(
        this.deps.db,
        `INSERT INTO trainos_checkpoints (id, job_id, attempt, step, name, size, sha256, created_at)
           VALUES (@id, @job_id, @attempt, @step, @name, @size, @sha256, @created_at)`,
      ).run(checkpoint);
      if (keep !== undefined) this.dropOldCheckpoints(id, keep);
    })();
    this.deps.bus.emit('training.job.updated', { job: this.get(id) });
    // A job waiting for this one's resources may now preempt it.
    this.schedule();
    return toCheckpoint(checkpoint);
  }

  /**
   * Deletes a job's checkpoints older than its newest `keep` (its spec's keepCheckpoints), and its references to
   * blobs no checkpoint of the job holds any more (the blob store's GC frees them); in the caller's transaction.
   */
  private dropOldCheckpoints(jobId: string, keep: number): void {
    const old = statement(
      this.deps.db,
      'SELECT id, sha256 FROM trainos_checkpoints WHERE job_id = ? ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?',
    ).all(jobId, keep) as Pick<CheckpointRow, 'id' | 'sha256'>[];
    for (const { id } of old) statement(this.deps.db, 'DELETE FROM trainos_checkpoints WHERE id = ?').run(id);
    for (const sha256 of new Set(old.map((c) => c.sha256))) {
      const held = statement(this.deps.db, 'SELECT 1 FROM trainos_checkpoints WHERE job_id = ? AND sha256 = ?').get(
        jobId,
        sha256,
      );
      if (!held) this.deps.blobs.removeRef(sha256, { owner: 'trainos', ref: jobId });
    }
  }

  checkpoints(id: string): TrainingCheckpoint[] {
    this.row(id);
    const rows = statement(
      this.deps.db,
      'SELECT * FROM trainos_checkpoints WHERE job_id = ? ORDER BY created_at, id',
    ).all(id) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  checkpointContent(id: string, checkpointId: string): { checkpoint: TrainingCheckpoint; content: Readable } {
    const row = statement(this.deps.db, 'SELECT * FROM trainos_checkpoints WHERE job_id = ? AND id = ?').get(
      id,
      checkpointId,
    ) as CheckpointRow | undefined;
    if (!row)
      throw new AppError('NOT_FOUND', `job ${id} has no checkpoint ${checkpointId}`, { checkpoint: checkpointId });
    return { checkpoint: toCheckpoint(row), content: this.deps.blobs.open(row.sha256) };
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  list(query: { state?: TrainingJobState | undefined; limit: number; cursor?: string | undefined }): {
    items: TrainingJob[];
    nextCursor: string | null;
  } {
    const rows = statement(
      this.deps.db,
      `SELECT * FROM trainos_jobs WHERE (? IS NULL OR state = ?) AND (? IS NULL OR id < ?)
         ORDER BY id DESC LIMIT ?`,
    ).all(
      query.state ?? null,
      query.state ?? null,
      query.cursor ?? null,
      query.cursor ?? null,
      query.limit + 1,
    ) as JobRow[];
    const items = rows.slice(0, query.limit).map((r) => this.toJob(r));
    return { items, nextCursor: rows.length > query.limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  async logs(
    id: string,
    query: { fromByte: number; maxBytes: number },
  ): Promise<{ lines: JobLogLine[]; nextByte: number; atEnd: boolean }> {
    const row = this.row(id);
    return readLogFile(row.log_file, query, hasEnded(row.state));
  }

  /** A queued job ends at once; a running one is stopped (SIGTERM, then SIGKILL after a grace). */
  async cancel(id: string): Promise<TrainingJob> {
    const row = this.row(id);
    if (row.state === 'queued') {
      this.finish(row, { state: 'cancelled', exitCode: null, signal: null, reason: 'cancelled before it started' });
      this.schedule();
    } else if (row.state === 'running') {
      await this.executorOf(this.specOf(row)).cancel(id);
    }
    return this.get(id);
  }

  /** The same spec again, as a new job; only for a job that has ended. */
  retry(id: string): TrainingJob {
    const row = this.row(id);
    if (!hasEnded(row.state)) {
      throw new AppError('FAILED_PRECONDITION', `job ${id} is ${row.state}: only an ended job can be retried`);
    }
    return this.submit(JSON.parse(row.spec) as TrainingJobSpec, id);
  }

  /** Places queued jobs; calls made while a round runs fold into one more round after it. */
  schedule(): void {
    if (this.planning) {
      this.planAgain = true;
      return;
    }
    this.planning = this.placeQueued()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'placing training jobs failed'))
      .finally(() => {
        this.planning = undefined;
        if (this.planAgain) {
          this.planAgain = false;
          this.schedule();
        }
      });
  }

  /** Resolves once no placement round is running or due (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.planning) await this.planning;
  }

  private async placeQueued(): Promise<void> {
    const onCluster = (r: JobRow) => this.specOf(r).executor === 'slurm';
    const front = statement(
      this.deps.db,
      "SELECT * FROM trainos_jobs WHERE state = 'queued' ORDER BY priority DESC, created_at LIMIT ?",
    ).all(PLAN_WINDOW) as JobRow[];
    // Slurm places its jobs itself: they go to it at once, and hold nothing of this machine's.
    for (const row of front.filter(onCluster)) await this.launch(row, CLUSTER_START);
    const queued = front.filter((r) => !onCluster(r));
    if (queued.length === 0) return;
    const running = this.rows("SELECT * FROM trainos_jobs WHERE state = 'running'").filter((r) => !onCluster(r));
    const checkpointedAt = new Map(
      (
        statement(
          this.deps.db,
          `SELECT job_id, MAX(created_at) AS at FROM trainos_checkpoints
             WHERE job_id IN (SELECT id FROM trainos_jobs WHERE state = 'running') GROUP BY job_id`,
        ).all() as { job_id: string; at: number }[]
      ).map((c) => [c.job_id, c.at]),
    );
    const decided = plan({
      machine: await this.deps.machine(),
      running: running.map((r) => ({
        id: r.id,
        priority: r.priority,
        resources: this.specOf(r).resources,
        gpus: r.placement ? (JSON.parse(r.placement) as Placement).gpus : [],
        checkpointedAt: checkpointedAt.get(r.id) ?? null,
        // One already being stopped is not chosen again.
        preemptible: this.specOf(r).preemptible && r.preempted_by === null,
      })),
      pending: queued.map((r) => ({
        id: r.id,
        priority: r.priority,
        submittedAt: r.created_at,
        resources: this.specOf(r).resources,
      })),
    });
    const byId = new Map(queued.map((r) => [r.id, r]));
    for (const impossible of decided.impossible) {
      const row = byId.get(impossible.jobId) as JobRow;
      this.finish(row, {
        state: 'failed',
        exitCode: null,
        signal: null,
        reason: `cannot run here: ${impossible.reason}`,
      });
    }
    for (const waiting of decided.waiting) {
      const row = byId.get(waiting.jobId) as JobRow;
      if (row.waiting_reason === waiting.reason) continue;
      statement(this.deps.db, 'UPDATE trainos_jobs SET waiting_reason = ? WHERE id = ?').run(waiting.reason, row.id);
      this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
    }
    for (const p of decided.preempt) await this.preempt(p.jobId, p.forJobId);
    for (const start of decided.start) await this.launch(byId.get(start.jobId) as JobRow, start);
  }

  /** A job's spec, parsed once: it does not change after submission, and placement reads it every round. */
  private specOf(row: Pick<JobRow, 'id' | 'spec'>): TrainingJobSpec {
    let spec = this.specs.get(row.id);
    if (!spec) {
      spec = JSON.parse(row.spec) as TrainingJobSpec;
      this.specs.set(row.id, spec);
    }
    return spec;
  }

  /** Stops a running job for one of higher priority; once stopped it is queued again and resumes (see `ended`). */
  private async preempt(id: string, forJobId: string): Promise<void> {
    const changed = statement(
      this.deps.db,
      "UPDATE trainos_jobs SET preempted_by = ? WHERE id = ? AND state = 'running' AND preempted_by IS NULL",
    ).run(forJobId, id).changes;
    if (changed === 0) return;
    this.deps.logger.info({ job: id, for: forJobId }, 'preempting a training job');
    this.deps.bus.emit('training.job.updated', { job: this.get(id) });
    await this.executorOf(JSON.parse(this.row(id).spec) as TrainingJobSpec).cancel(id);
  }

  private async launch(row: JobRow, start: JobStart): Promise<void> {
    const spec = this.specOf(row);
    const now = Date.now();
    let runId = row.run_id;
    try {
      runId ??= this.deps.runs.start(spec.experiment, row.name, row.id, {
        params: spec.trainer ? { ...trainerParams(spec.trainer), ...spec.params } : spec.params,
        parentRunId: spec.parentRunId,
      });
    } catch (err) {
      const reason = `could not make its run in experiment '${spec.experiment}': ${err instanceof Error ? err.message : String(err)}`;
      this.finish(row, { state: 'failed', exitCode: null, signal: null, reason });
      return;
    }
    const mountEnv: Record<string, string> = {};
    let mounts: MountedVersion[];
    try {
      mounts = this.resolveMounts(spec);
      for (const m of mounts) mountEnv[m.env] = await this.deps.datasets.materialize(m.versionId);
      if (row.run_id === null && mounts.length > 0) this.deps.runs.inputs(runId, mounts);
    } catch (err) {
      const reason = `could not prepare its datasets: ${err instanceof Error ? err.message : String(err)}`;
      this.finish({ ...row, run_id: runId }, { state: 'failed', exitCode: null, signal: null, reason });
      return;
    }
    try {
      await this.reserveGpus(row.id, row.name, start.gpus, spec.parkIdleModels);
    } catch (err) {
      // Taken meanwhile (a model loaded between planning and now): it waits for the next round.
      for (const g of start.gpus) this.deps.vram.release(`${row.id}:${g.index}`);
      const reason = err instanceof Error ? err.message : String(err);
      statement(this.deps.db, 'UPDATE trainos_jobs SET run_id = ?, waiting_reason = ? WHERE id = ?').run(
        runId,
        reason,
        row.id,
      );
      return;
    }
    let resume: { env: Record<string, string>; step: number } | null;
    try {
      resume = await this.prepareResume({ ...row, run_id: runId });
    } catch (err) {
      this.releaseGpus({ ...row, placement: JSON.stringify({ gpus: start.gpus, cudaVisibleDevices: '' }) });
      const reason = `could not prepare its checkpoint: ${err instanceof Error ? err.message : String(err)}`;
      this.finish({ ...row, run_id: runId }, { state: 'failed', exitCode: null, signal: null, reason });
      return;
    }
    const placement: Placement = { gpus: start.gpus, cudaVisibleDevices: start.cudaVisibleDevices };
    statement(
      this.deps.db,
      `UPDATE trainos_jobs SET state = 'running', run_id = ?, placement = ?, waiting_reason = NULL, started_at = ?,
           ended_at = NULL, exit_code = NULL, signal = NULL, reason = NULL, resumed_from_step = ?, preempted_by = NULL
         WHERE id = ?`,
    ).run(runId, JSON.stringify(placement), now, resume?.step ?? null, row.id);
    this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
    const status =
      spec.kind === 'builtin'
        ? await this.startBuiltin(row, spec, runId, mountEnv[(mounts[0] as MountedVersion).env] as string, resume)
        : await this.startScript(row, spec, runId, start, mountEnv, resume);
    if (status.handle) {
      statement(this.deps.db, 'UPDATE trainos_jobs SET handle = ? WHERE id = ?').run(
        JSON.stringify(status.handle),
        row.id,
      );
    }
    if (isFinalState(status.state)) this.ended(status);
  }

  private startScript(
    row: JobRow,
    spec: TrainingJobSpec,
    runId: string,
    start: JobStart,
    mountEnv: Record<string, string>,
    resume: { env: Record<string, string> } | null,
  ): Promise<ExecutorJobStatus<unknown>> {
    const { url, token } = this.deps.access();
    const executor = spec.executor === 'slurm' ? this.deps.executors.slurm : this.deps.executors.local;
    const { gpus, cpuThreads, ramMb } = spec.resources;
    return executor.start({
      id: row.id,
      command: spec.command ?? [],
      workingDir: spec.workingDir ?? '',
      env: spec.env,
      runtimeEnv: {
        AIDOS_URL: url,
        AIDOS_TOKEN: token,
        AIDOS_RUN_ID: runId,
        // GPU indices are nvidia-smi's, which number GPUs in PCI bus order.
        CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
        CUDA_VISIBLE_DEVICES: start.cudaVisibleDevices,
        AIDOS_JOB_ID: row.id,
        ...mountEnv,
        ...resume?.env,
      },
      ...(spec.maxRuntimeSeconds ? { maxRuntimeMs: spec.maxRuntimeSeconds * 1000 } : {}),
      // What Slurm is asked for (`--gres=gpu:N` sets CUDA_VISIBLE_DEVICES there); the local executor ignores it.
      resources: { gpus: gpus === 'any' ? 0 : gpus, cpuThreads, ramMb },
      logFile: row.log_file,
    });
  }

  /**
   * A built-in trainer on the job's dataset: each epoch's metrics go to its run and its state to a checkpoint (so
   * that a restart resumes after it); the trained model becomes artifacts and a model version before the job
   * succeeds.
   */
  private startBuiltin(
    row: JobRow,
    spec: TrainingJobSpec,
    runId: string,
    datasetDir: string,
    resume: { env: Record<string, string>; step: number } | null,
  ): Promise<ExecutorJobStatus<unknown>> {
    const trainer = this.withColumnTypes(spec, datasetDir);
    return this.deps.executors.builtin.start({
      id: row.id,
      trainer,
      datasetDir,
      resume: resume ? { file: resume.env.AIDOS_RESUME_CHECKPOINT as string, epoch: resume.step } : null,
      logFile: row.log_file,
      ...(spec.maxRuntimeSeconds ? { maxRuntimeMs: spec.maxRuntimeSeconds * 1000 } : {}),
      hooks: {
        epochEnd: async (epoch, metrics) => this.deps.runs.logMetrics(runId, metrics, epoch),
        checkpoint: async (epoch, state) => {
          await this.saveCheckpoint(row.id, { step: epoch, name: BUILTIN_CHECKPOINT_NAME }, state);
        },
        completed: async (result) => {
          this.deps.runs.logMetrics(runId, finalMetrics(result.metrics), result.epochs);
          const model = spec.registerModel ?? row.name; // fixed at submission; older specs lack it
          const version = await this.deps.runs.saveModel(
            runId,
            model,
            { onnx: result.onnx, preprocessing: result.preprocessing, tfjs: result.tfjs },
            row.id,
          );
          return `trained ${result.epochs} epochs; registered model '${version.name}' version ${version.version}`;
        },
      },
    });
  }

  /**
   * A tabular trainer encodes columns by the types the dataset declares (DataForge's schema, overrides included)
   * unless the spec lists them itself.
   */
  private withColumnTypes(spec: TrainingJobSpec, datasetDir: string): NonNullable<TrainingJobSpec['trainer']> {
    const trainer = spec.trainer as NonNullable<TrainingJobSpec['trainer']>;
    const mount = spec.datasets[0];
    if (trainer.schema || !mount || !trainer.kind.startsWith('tabular-')) return trainer;
    try {
      const file = path.relative(datasetDir, findTableFile(datasetDir, trainer.file)).split(path.sep).join('/');
      const columns = this.deps.datasets.columnTypes(mount.dataset, Number(mount.version), file);
      return columns ? { ...trainer, schema: columns } : trainer;
    } catch (err) {
      // The trainer reports a missing table itself, with its own message.
      this.deps.logger.debug({ err }, 'no declared column types for a built-in training job');
      return trainer;
    }
  }

  /**
   * A job that ran before (a retry after a failure, a restart after preemption or an app crash) resumes from its
   * newest checkpoint: a copy of the file for AIDOS_RESUME_CHECKPOINT, and its run forgets the points logged after
   * the checkpoint's step, which the attempt logs again. Without a checkpoint it starts over and its run forgets
   * every point, so that its history has no duplicates either way.
   */
  private async prepareResume(row: JobRow): Promise<{ env: Record<string, string>; step: number } | null> {
    if (row.started_at === null) return null;
    const checkpoint = this.lastCheckpoint(row.id);
    if (row.run_id) this.deps.runs.truncate(row.run_id, checkpoint?.step ?? null);
    if (!checkpoint) return null;
    const dir = path.join(this.deps.checkpointsDir, row.id, checkpoint.id);
    const file = path.join(dir, checkpoint.name);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const partial = `${file}.partial`;
      await pipeline(this.deps.blobs.open(checkpoint.sha256, { verify: true }), createWriteStream(partial));
      renameSync(partial, file);
    }
    return {
      env: { AIDOS_RESUME_CHECKPOINT: file, AIDOS_RESUME_STEP: String(checkpoint.step) },
      step: checkpoint.step,
    };
  }

  /** Accounts a job's GPU memory with the VRAM arbiter (one holder per GPU), so served models see it. */
  private async reserveGpus(
    id: string,
    name: string,
    gpus: readonly GpuReservation[],
    parkIdleModels: boolean,
  ): Promise<void> {
    for (const g of gpus) {
      await this.deps.vram.reserve({
        id: `${id}:${g.index}`,
        owner: 'trainos',
        kind: 'job',
        label: `job ${id} ${name}`,
        mb: g.memoryMb,
        gpu: g.index,
        parkable: false,
        allowParking: parkIdleModels,
      });
    }
  }

  private releaseGpus(row: JobRow): void {
    if (!row.placement) return;
    for (const g of (JSON.parse(row.placement) as Placement).gpus) this.deps.vram.release(`${row.id}:${g.index}`);
  }

  private onExecutorEvent(event: ExecutorEvent<unknown>): void {
    if (event.type === 'log') {
      this.queueLogLine(event.jobId, { ...event.line, nextByte: event.nextByte });
    } else if (isFinalState(event.job.state)) {
      this.ended(event.job);
    } else {
      this.noteClusterState(event.job);
    }
  }

  /** A job Slurm holds in its queue runs for TrainOS, and says why it waits; once Slurm runs it, it no longer does. */
  private noteClusterState(status: ExecutorJobStatus<unknown>): void {
    const row = statement(this.deps.db, 'SELECT * FROM trainos_jobs WHERE id = ?').get(status.id) as JobRow | undefined;
    if (!row || row.state !== 'running' || this.specOf(row).executor !== 'slurm') return;
    const waiting = status.state === 'starting' ? 'pending in the Slurm queue' : null;
    if (row.waiting_reason === waiting) return;
    statement(this.deps.db, 'UPDATE trainos_jobs SET waiting_reason = ? WHERE id = ?').run(waiting, row.id);
    this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
  }

  /**
   * Live lines go out as one event per job every LOG_EVENT_MS at most: a chatty job would otherwise fill the event
   * bus (and every client's socket) with an event a line.
   */
  private queueLogLine(jobId: string, line: JobLogLine & { nextByte: number }): void {
    const pending = this.pendingLogLines.get(jobId);
    if (pending) pending.push(line);
    else this.pendingLogLines.set(jobId, [line]);
    this.logFlushTimer ??= setTimeout(() => this.flushLogLines(), LOG_EVENT_MS);
  }

  private flushLogLines(): void {
    clearTimeout(this.logFlushTimer);
    this.logFlushTimer = undefined;
    for (const [jobId, lines] of this.pendingLogLines) this.deps.bus.emit('training.job.log', { jobId, lines });
    this.pendingLogLines.clear();
  }

  /** A run of the job ended: a failure with retries left queues it again, anything else is final. */
  private ended(status: ExecutorJobStatus<unknown>): void {
    // Its last lines before the news that it ended.
    if (this.pendingLogLines.has(status.id)) this.flushLogLines();
    const row = statement(this.deps.db, 'SELECT * FROM trainos_jobs WHERE id = ?').get(status.id) as JobRow | undefined;
    if (!row || row.state !== 'running') return; // reported twice (the start and the event)
    const spec = this.specOf(row);
    this.releaseGpus(row);
    const requeue = (reason: string, failed: boolean) => {
      statement(
        this.deps.db,
        `UPDATE trainos_jobs SET state = 'queued', attempt = attempt + 1, failures = failures + ?, placement = NULL,
             handle = NULL, preempted_by = NULL, exit_code = ?, signal = ?, reason = ? WHERE id = ?`,
      ).run(failed ? 1 : 0, status.exitCode, status.signal, reason, row.id);
      this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
    };
    const checkpoint = this.lastCheckpoint(row.id);
    const from = checkpoint ? `resumes from its checkpoint at step ${checkpoint.step}` : 'starts over';
    if (status.lost) {
      requeue(`${status.reason ?? 'the app stopped while it ran'}; ${from}`, false);
    } else if (row.preempted_by !== null && status.state !== 'succeeded') {
      requeue(`preempted by job ${row.preempted_by}; ${from}`, false);
    } else if (status.state === 'failed' && row.failures < spec.retries) {
      requeue(`attempt ${row.attempt} ${status.reason ?? 'failed'}; retrying (${from})`, true);
    } else {
      const state: TrainingJobState =
        status.state === 'running' || status.state === 'starting' ? 'failed' : status.state;
      this.finish(row, { state, exitCode: status.exitCode, signal: status.signal, reason: status.reason });
    }
    this.schedule();
  }

  private finish(
    row: JobRow,
    end: { state: TrainingJobState; exitCode: number | null; signal: string | null; reason: string | null },
  ): void {
    statement(
      this.deps.db,
      `UPDATE trainos_jobs SET state = ?, exit_code = ?, signal = ?, reason = ?, ended_at = ?, waiting_reason = NULL
         WHERE id = ?`,
    ).run(end.state, end.exitCode, end.signal, end.reason, Date.now(), row.id);
    this.specs.delete(row.id);
    if (row.run_id) {
      try {
        this.deps.runs.end(row.run_id, end.state);
      } catch (err) {
        this.deps.logger.warn({ err, run: row.run_id }, "could not end a training job's run");
      }
    }
    this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
  }

  private row(id: string): JobRow {
    const row = statement(this.deps.db, 'SELECT * FROM trainos_jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `training job ${id} does not exist`, { job: id });
    return row;
  }

  private rows(sql: string): JobRow[] {
    return statement(this.deps.db, sql).all() as JobRow[];
  }
}

/**
 * How many jobs from the front of the queue a placement round considers: more than a machine starts at once, with
 * room for small jobs to fill in behind a waiting large one. The others wait their turn (their waiting reason is
 * set once they reach the front): reading and planning 10,000 queued jobs on every submit and every end made
 * placement quadratic, and even 512 rows a round were a sixth of the core's CPU in the throughput benchmark.
 */
const PLAN_WINDOW = 128;

/** A Slurm job's start as TrainOS sees it: no GPU of this machine, nothing reserved here. */
const CLUSTER_START: JobStart = {
  jobId: '',
  gpus: [],
  cudaVisibleDevices: '',
  cpuOnly: true,
  cpuThreads: 0,
  ramMb: 0,
};

/** The file name a built-in trainer's checkpoints are kept under. */
const BUILTIN_CHECKPOINT_NAME = 'builtin-checkpoint.bin';

function defaultName(spec: TrainingJobSpec): string {
  if (spec.kind === 'builtin' && spec.trainer) return `${spec.trainer.kind} on ${spec.datasets[0]?.dataset ?? '?'}`;
  return path.basename(spec.command?.[0] ?? 'job');
}

/**
 * What a trainer reports at the end, as run metrics beside the per-epoch series: the best epoch's values as
 * `best_<name>` (`best_val_loss`), and `best_epoch` and the `test_*` metrics as they are.
 */
function finalMetrics(metrics: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(metrics).map(([name, value]) => [
      name === 'best_epoch' || name.startsWith('test_') ? name : `best_${name}`,
      value,
    ]),
  );
}

/** A built-in trainer's settings as run parameters (lists as JSON; the column types are left out: too long). */
function trainerParams(trainer: NonNullable<TrainingJobSpec['trainer']>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(trainer)) {
    if (value === undefined || key === 'schema') continue;
    params[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return params;
}
