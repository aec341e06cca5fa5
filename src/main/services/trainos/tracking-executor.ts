import type { Logger } from '#platform/logger';
import { AppError } from '#shared/errors';
import {
  isFinalState,
  type AdoptableJob,
  type Executor,
  type ExecutorEvent,
  type ExecutorJobStatus,
  type LogPage,
  type LogPageQuery,
  type ScriptJobSpec,
} from './executor';
import { readLogFile } from './job-log';

/** What every executor keeps about a job it runs. */
export interface TrackedJob<Handle> {
  status: ExecutorJobStatus<Handle>;
  /** The job's log of timestamped lines. */
  logFile: string;
  /** Who waits in `ended`, told once the job's state is final. */
  endWaiters: ((status: ExecutorJobStatus<Handle>) => void)[];
}

/**
 * The bookkeeping every executor shares: its jobs by id, the subscribers to their events, reading a job's state and
 * stored log, and waiting for its end. An executor adds how jobs start, are adopted, stopped and followed.
 */
export abstract class TrackingExecutor<
  Handle extends object,
  Job extends TrackedJob<Handle>,
  Spec = ScriptJobSpec,
> implements Executor<Handle, Spec> {
  protected readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<(event: ExecutorEvent<Handle>) => void>();
  /** Set by `close`: the executor takes no more jobs. */
  protected closed = false;

  constructor(protected readonly logger: Logger) {}

  abstract start(spec: Spec): Promise<ExecutorJobStatus<Handle>>;
  abstract adopt(job: AdoptableJob<Handle>): Promise<ExecutorJobStatus<Handle>>;
  abstract cancel(id: string): Promise<void>;
  abstract close(): void;

  status(id: string): ExecutorJobStatus<Handle> {
    return this.snapshot(this.get(id));
  }

  ended(id: string): Promise<ExecutorJobStatus<Handle>> {
    const job = this.get(id);
    if (isFinalState(job.status.state)) return Promise.resolve(this.snapshot(job));
    return new Promise((resolve) => job.endWaiters.push(resolve));
  }

  async readLog(id: string, query: LogPageQuery = {}): Promise<LogPage> {
    const job = this.get(id);
    // Taken before reading: a job's log is complete by the time its state is final.
    return readLogFile(job.logFile, query, isFinalState(job.status.state));
  }

  subscribe(listener: (event: ExecutorEvent<Handle>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts tracking a job; an id can be used again once its job has ended (a retry). */
  protected register(job: Job): Job {
    if (this.closed) throw new AppError('FAILED_PRECONDITION', 'the executor is closed');
    const existing = this.jobs.get(job.status.id);
    if (existing && !isFinalState(existing.status.state)) {
      throw new AppError('CONFLICT', `job ${job.status.id} is already running`);
    }
    this.jobs.set(job.status.id, job);
    return job;
  }

  protected get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw AppError.notFound('job', id);
    return job;
  }

  /** A copy for callers, so that what they keep does not change under them. */
  protected snapshot(job: Job): ExecutorJobStatus<Handle> {
    return { ...job.status, handle: job.status.handle ? { ...job.status.handle } : null };
  }

  /** Records the job's final state, and tells subscribers and whoever waits in `ended`. */
  protected settle(job: Job, final: Partial<ExecutorJobStatus<Handle>>): ExecutorJobStatus<Handle> {
    job.status = { ...job.status, endedAt: Date.now(), ...final };
    const status = this.snapshot(job);
    this.emit({ type: 'state', job: status });
    for (const resolve of job.endWaiters.splice(0)) resolve(status);
    return status;
  }

  protected emit(event: ExecutorEvent<Handle>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        // A subscriber's bug must not leave a job half-ended.
        this.logger.error({ err, event: event.type }, 'an executor subscriber failed');
      }
    }
  }
}
