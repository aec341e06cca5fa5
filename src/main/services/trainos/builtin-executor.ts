import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { newId } from '#shared/ids';
import {
  runBuiltinTrainerInWorker,
  type BuiltinTrainerParamsInput,
  type TrainerResult,
  type TrainerResumeState,
} from './builtin/trainer';
import { tfjsGraphModelFromOnnx, type TfjsModelFiles } from './builtin/tfjs-export';
import {
  isFinalState,
  type AdoptableJob,
  type ExecutorJobState,
  type ExecutorJobStatus,
  type LogStream,
} from './executor';
import { LogAppender } from './job-log';
import { TrackingExecutor, type TrackedJob as TrackedJobBase } from './tracking-executor';

/** Where a built-in trainer's results go; training waits for each call to settle. */
export interface BuiltinJobHooks {
  /** The epoch's metrics, logged to the job's run (step = epoch). */
  epochEnd(epoch: number, metrics: Record<string, number>): Promise<void>;
  /** The epoch's checkpoint, kept as the job's checkpoint at step = epoch. */
  checkpoint(epoch: number, state: Uint8Array): Promise<void>;
  /** The trained model, kept (artifacts, a model version) before the job counts as succeeded; a line for its log. */
  completed(result: TrainedModel): Promise<string>;
}

/** What a built-in trainer made: its ONNX export, and the same model as a TF.js graph model (null: not converted). */
export type TrainedModel = TrainerResult & { tfjs: TfjsModelFiles | null };

export interface BuiltinJobSpec {
  id: string;
  trainer: BuiltinTrainerParamsInput;
  /** The folder of the dataset version it trains on. */
  datasetDir: string;
  /** A checkpoint file written by an earlier attempt, and the epoch it holds: training goes on after it. */
  resume: { file: string; epoch: number } | null;
  logFile: string;
  maxRuntimeMs?: number;
  hooks: BuiltinJobHooks;
}

/** Which app instance runs the trainer: another instance's job died with it. */
export interface BuiltinJobHandle {
  instance: string;
}

interface TrackedJob extends TrackedJobBase<BuiltinJobHandle> {
  log: LogAppender | null;
  abort: AbortController;
  stopRequested: 'cancelled' | 'timed-out' | null;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs TrainOS's built-in trainers in worker threads of the app, logging like a script job (timestamped lines in
 * the job's log file). A trainer lives and dies with the app: the next instance reports such a job as lost, and
 * TrainOS starts it again from its last checkpoint.
 */
export class BuiltinExecutor extends TrackingExecutor<BuiltinJobHandle, TrackedJob, BuiltinJobSpec> {
  private readonly instance = newId();

  async start(spec: BuiltinJobSpec): Promise<ExecutorJobStatus<BuiltinJobHandle>> {
    const job = this.track(spec.id, spec.logFile, 'running');
    job.status.startedAt = Date.now();
    this.emit({ type: 'state', job: this.snapshot(job) });
    let resume: TrainerResumeState | null = null;
    try {
      mkdirSync(path.dirname(spec.logFile), { recursive: true });
      job.log = new LogAppender(spec.logFile);
      if (spec.resume) resume = { epoch: spec.resume.epoch, state: readFileSync(spec.resume.file) };
    } catch (err) {
      return this.end(job, 'failed', `could not start: ${message(err)}`);
    }
    if (spec.maxRuntimeMs !== undefined) {
      job.timer = setTimeout(() => this.stop(job, 'timed-out'), spec.maxRuntimeMs);
    }
    if (resume) this.write(job, 'stdout', `resuming after epoch ${resume.epoch} from its checkpoint`);
    void runBuiltinTrainerInWorker(
      spec.trainer,
      spec.datasetDir,
      resume,
      {
        log: (text) => this.write(job, 'stdout', text),
        epochEnd: (epoch, metrics) => spec.hooks.epochEnd(epoch, metrics),
        checkpoint: (epoch, state) => spec.hooks.checkpoint(epoch, state),
      },
      job.abort.signal,
    )
      .then(async (result) => {
        if (job.stopRequested) return;
        const line = await spec.hooks.completed({ ...result, tfjs: this.tfjsExport(job, result) });
        this.write(job, 'stdout', line);
        this.end(job, 'succeeded', null);
      })
      .catch((err: unknown) => {
        if (this.closed || isFinalState(job.status.state)) return;
        if (job.stopRequested === 'cancelled') this.end(job, 'cancelled', 'cancelled');
        else if (job.stopRequested === 'timed-out') this.end(job, 'timed-out', 'ran past its maximum runtime');
        else {
          this.write(job, 'stderr', message(err));
          this.end(job, 'failed', message(err));
        }
      });
    return this.snapshot(job);
  }

  /** A trainer does not survive its app: a job of another instance is reported lost, to run again. */
  async adopt(record: AdoptableJob<BuiltinJobHandle>): Promise<ExecutorJobStatus<BuiltinJobHandle>> {
    const job = this.track(record.id, record.logFile, 'running');
    job.status.startedAt = record.startedAt;
    job.status.handle = record.handle;
    return this.end(job, 'failed', 'the app stopped while it trained', true);
  }

  async cancel(id: string): Promise<void> {
    const job = this.get(id);
    if (!isFinalState(job.status.state)) this.stop(job, 'cancelled');
  }

  /** Stops the trainers without reporting them: their jobs still read as running, for the next instance. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
      if (!isFinalState(job.status.state)) job.abort.abort();
      job.log?.close();
    }
  }

  private track(id: string, logFile: string, state: ExecutorJobState): TrackedJob {
    return this.register({
      status: {
        id,
        state,
        handle: { instance: this.instance },
        startedAt: null,
        endedAt: null,
        exitCode: null,
        signal: null,
        reason: null,
      },
      logFile,
      log: null,
      abort: new AbortController(),
      stopRequested: null,
      timer: undefined,
      endWaiters: [],
    });
  }

  private stop(job: TrackedJob, reason: 'cancelled' | 'timed-out'): void {
    job.stopRequested ??= reason;
    job.abort.abort();
  }

  /**
   * The model as a TF.js graph model, kept beside its ONNX export; one the converter cannot write is left out with a
   * warning in the job's log: the ONNX model is what the job promised.
   */
  private tfjsExport(job: TrackedJob, result: TrainerResult): TfjsModelFiles | null {
    try {
      return tfjsGraphModelFromOnnx(result.onnx, result.preprocessing);
    } catch (err) {
      this.write(job, 'stderr', `warning: no TF.js export of the model (${message(err)}); the ONNX model is kept`);
      return null;
    }
  }

  private write(job: TrackedJob, stream: LogStream, text: string): void {
    if (!job.log) return;
    const lines = text.split('\n').map((line) => ({ time: Date.now(), stream, text: line }));
    try {
      job.log.append(lines, (line, nextByte) => this.emit({ type: 'log', jobId: job.status.id, line, nextByte }));
    } catch (err) {
      this.logger.warn({ err, job: job.status.id }, "could not write a built-in training job's log");
    }
  }

  private end(
    job: TrackedJob,
    state: ExecutorJobState,
    reason: string | null,
    lost = false,
  ): ExecutorJobStatus<BuiltinJobHandle> {
    clearTimeout(job.timer);
    job.log?.close();
    job.log = null;
    return this.settle(job, { state, reason, ...(lost ? { lost } : {}) });
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
