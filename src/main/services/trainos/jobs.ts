import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '#platform/blobstore';
import type { Db } from '#platform/db';
import type { EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import {
  hasEnded,
  type JobLogLine,
  type TrainingCheckpoint,
  type TrainingJob,
  type TrainingJobSpec,
  type TrainingJobState,
} from '#shared/contracts/trainos';
import { AppError } from '#shared/errors';
import { newId } from '#shared/ids';
import { isFinalState, type ExecutorEvent, type ExecutorJobStatus } from './executor';
import { readLogFile } from './job-log';
import type { LocalExecutor, LocalProcessHandle } from './local-executor';
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
  /** The folder holding the version's files, written on first use (concurrent calls share the work). */
  materialize(versionId: string): Promise<string>;
}

export interface TrainingJobsDeps {
  db: Db;
  bus: EventBus;
  logger: Logger;
  executor: LocalExecutor;
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
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: TrainingJobsDeps) {}

  /** Follows the executor, adopts the jobs that were running when the app stopped, and places queued ones. */
  async start(): Promise<void> {
    const offExecutor = this.deps.executor.subscribe((e) => this.onExecutorEvent(e));
    // Memory a served model gave back may let a waiting job start.
    const offVram = this.deps.bus.on('vram.released', () => this.schedule());
    this.unsubscribe = () => {
      offExecutor();
      offVram();
    };
    for (const row of this.rows("SELECT * FROM trainos_jobs WHERE state = 'running'")) {
      if (!row.handle || row.started_at === null) {
        this.finish(row, { state: 'failed', exitCode: null, signal: null, reason: 'the app stopped as it started' });
        continue;
      }
      const spec = JSON.parse(row.spec) as TrainingJobSpec;
      const status = await this.deps.executor.adopt({
        id: row.id,
        logFile: row.log_file,
        handle: JSON.parse(row.handle) as LocalProcessHandle,
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
    // Running jobs keep running: the next start adopts them.
    this.deps.executor.close();
  }

  submit(spec: TrainingJobSpec, retryOf: string | null = null): TrainingJob {
    if (spec.executor !== 'local') {
      // SlurmExecutor runs and is tested on its own; placement through it is not part of training jobs yet.
      throw AppError.invalid('executor', `'${spec.executor}' is not available here: training jobs run on this machine`);
    }
    if (!path.isAbsolute(spec.workingDir)) {
      throw AppError.invalid('workingDir', `must be an absolute path (got '${spec.workingDir}')`);
    }
    if (!statSync(spec.workingDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw AppError.invalid('workingDir', `${spec.workingDir} is not a folder on this machine`);
    }
    const mounts = this.resolveMounts(spec);
    const fixed: TrainingJobSpec = {
      ...spec,
      datasets: spec.datasets.map((d, i) => ({ ...d, version: String((mounts[i] as MountedVersion).number) })),
    };
    const id = newId();
    const now = Date.now();
    const name = spec.name ?? path.basename(spec.command[0] as string);
    this.deps.db
      .prepare(
        `INSERT INTO trainos_jobs (id, name, spec, state, priority, attempt, log_file, retry_of, created_at)
         VALUES (?, ?, ?, 'queued', ?, 1, ?, ?, ?)`,
      )
      .run(id, name, JSON.stringify(fixed), spec.priority, path.join(this.deps.logsDir, `${id}.log`), retryOf, now);
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
    return this.deps.db
      .prepare('SELECT * FROM trainos_checkpoints WHERE job_id = ? ORDER BY created_at DESC, id DESC LIMIT 1')
      .get(jobId) as CheckpointRow | undefined;
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
    this.deps.db
      .prepare(
        `INSERT INTO trainos_checkpoints (id, job_id, attempt, step, name, size, sha256, created_at)
         VALUES (@id, @job_id, @attempt, @step, @name, @size, @sha256, @created_at)`,
      )
      .run(checkpoint);
    this.deps.bus.emit('training.job.updated', { job: this.get(id) });
    // A job waiting for this one's resources may now preempt it.
    this.schedule();
    return toCheckpoint(checkpoint);
  }

  checkpoints(id: string): TrainingCheckpoint[] {
    this.row(id);
    const rows = this.deps.db
      .prepare('SELECT * FROM trainos_checkpoints WHERE job_id = ? ORDER BY created_at, id')
      .all(id) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  checkpointContent(id: string, checkpointId: string): { checkpoint: TrainingCheckpoint; content: Readable } {
    const row = this.deps.db
      .prepare('SELECT * FROM trainos_checkpoints WHERE job_id = ? AND id = ?')
      .get(id, checkpointId) as CheckpointRow | undefined;
    if (!row)
      throw new AppError('NOT_FOUND', `job ${id} has no checkpoint ${checkpointId}`, { checkpoint: checkpointId });
    return { checkpoint: toCheckpoint(row), content: this.deps.blobs.open(row.sha256) };
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  list(query: { state?: TrainingJobState | undefined; limit: number; cursor?: string | undefined }): {
    items: TrainingJob[];
    nextCursor: string | null;
  } {
    const rows = this.deps.db
      .prepare(
        `SELECT * FROM trainos_jobs WHERE (? IS NULL OR state = ?) AND (? IS NULL OR id < ?)
         ORDER BY id DESC LIMIT ?`,
      )
      .all(
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
      await this.deps.executor.cancel(id);
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
    const queued = this.rows("SELECT * FROM trainos_jobs WHERE state = 'queued' ORDER BY priority DESC, created_at");
    if (queued.length === 0) return;
    const running = this.rows("SELECT * FROM trainos_jobs WHERE state = 'running'");
    const specOf = (r: JobRow) => JSON.parse(r.spec) as TrainingJobSpec;
    const decided = plan({
      machine: await this.deps.machine(),
      running: running.map((r) => ({
        id: r.id,
        priority: r.priority,
        resources: specOf(r).resources,
        gpus: r.placement ? (JSON.parse(r.placement) as Placement).gpus : [],
        checkpointedAt: this.lastCheckpoint(r.id)?.created_at ?? null,
        // One already being stopped is not chosen again.
        preemptible: specOf(r).preemptible && r.preempted_by === null,
      })),
      pending: queued.map((r) => ({
        id: r.id,
        priority: r.priority,
        submittedAt: r.created_at,
        resources: specOf(r).resources,
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
      this.deps.db.prepare('UPDATE trainos_jobs SET waiting_reason = ? WHERE id = ?').run(waiting.reason, row.id);
      this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
    }
    for (const p of decided.preempt) await this.preempt(p.jobId, p.forJobId);
    for (const start of decided.start) await this.launch(byId.get(start.jobId) as JobRow, start);
  }

  /** Stops a running job for one of higher priority; once stopped it is queued again and resumes (see `ended`). */
  private async preempt(id: string, forJobId: string): Promise<void> {
    const changed = this.deps.db
      .prepare("UPDATE trainos_jobs SET preempted_by = ? WHERE id = ? AND state = 'running' AND preempted_by IS NULL")
      .run(forJobId, id).changes;
    if (changed === 0) return;
    this.deps.logger.info({ job: id, for: forJobId }, 'preempting a training job');
    this.deps.bus.emit('training.job.updated', { job: this.get(id) });
    await this.deps.executor.cancel(id);
  }

  private async launch(row: JobRow, start: JobStart): Promise<void> {
    const spec = JSON.parse(row.spec) as TrainingJobSpec;
    const now = Date.now();
    let runId = row.run_id;
    try {
      runId ??= this.deps.runs.start(spec.experiment, row.name, row.id, {
        params: spec.params,
        parentRunId: spec.parentRunId,
      });
    } catch (err) {
      const reason = `could not make its run in experiment '${spec.experiment}': ${err instanceof Error ? err.message : String(err)}`;
      this.finish(row, { state: 'failed', exitCode: null, signal: null, reason });
      return;
    }
    const mountEnv: Record<string, string> = {};
    try {
      const mounts = this.resolveMounts(spec);
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
      this.deps.db
        .prepare('UPDATE trainos_jobs SET run_id = ?, waiting_reason = ? WHERE id = ?')
        .run(runId, reason, row.id);
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
    this.deps.db
      .prepare(
        `UPDATE trainos_jobs SET state = 'running', run_id = ?, placement = ?, waiting_reason = NULL, started_at = ?,
           ended_at = NULL, exit_code = NULL, signal = NULL, reason = NULL, resumed_from_step = ?, preempted_by = NULL
         WHERE id = ?`,
      )
      .run(runId, JSON.stringify(placement), now, resume?.step ?? null, row.id);
    this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
    const { url, token } = this.deps.access();
    const status = await this.deps.executor.start({
      id: row.id,
      command: spec.command,
      workingDir: spec.workingDir,
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
      logFile: row.log_file,
    });
    if (status.handle) {
      this.deps.db
        .prepare('UPDATE trainos_jobs SET handle = ? WHERE id = ?')
        .run(JSON.stringify(status.handle), row.id);
    }
    if (isFinalState(status.state)) this.ended(status);
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

  private onExecutorEvent(event: ExecutorEvent<LocalProcessHandle>): void {
    if (event.type === 'log') {
      this.queueLogLine(event.jobId, { ...event.line, nextByte: event.nextByte });
    } else if (isFinalState(event.job.state)) {
      this.ended(event.job);
    }
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
  private ended(status: ExecutorJobStatus<LocalProcessHandle>): void {
    // Its last lines before the news that it ended.
    if (this.pendingLogLines.has(status.id)) this.flushLogLines();
    const row = this.deps.db.prepare('SELECT * FROM trainos_jobs WHERE id = ?').get(status.id) as JobRow | undefined;
    if (!row || row.state !== 'running') return; // reported twice (the start and the event)
    const spec = JSON.parse(row.spec) as TrainingJobSpec;
    this.releaseGpus(row);
    const requeue = (reason: string, failed: boolean) => {
      this.deps.db
        .prepare(
          `UPDATE trainos_jobs SET state = 'queued', attempt = attempt + 1, failures = failures + ?, placement = NULL,
             handle = NULL, preempted_by = NULL, exit_code = ?, signal = ?, reason = ? WHERE id = ?`,
        )
        .run(failed ? 1 : 0, status.exitCode, status.signal, reason, row.id);
      this.deps.bus.emit('training.job.updated', { job: this.get(row.id) });
    };
    const checkpoint = this.lastCheckpoint(row.id);
    const from = checkpoint ? `resumes from its checkpoint at step ${checkpoint.step}` : 'starts over';
    if (row.preempted_by !== null && status.state !== 'succeeded') {
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
    this.deps.db
      .prepare(
        `UPDATE trainos_jobs SET state = ?, exit_code = ?, signal = ?, reason = ?, ended_at = ?, waiting_reason = NULL
         WHERE id = ?`,
      )
      .run(end.state, end.exitCode, end.signal, end.reason, Date.now(), row.id);
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
    const row = this.deps.db.prepare('SELECT * FROM trainos_jobs WHERE id = ?').get(id) as JobRow | undefined;
    if (!row) throw new AppError('NOT_FOUND', `training job ${id} does not exist`, { job: id });
    return row;
  }

  private rows(sql: string): JobRow[] {
    return this.deps.db.prepare(sql).all() as JobRow[];
  }
}
