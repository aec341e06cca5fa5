// ---------------------------------------------------------------------------------------------------------------
// The executor contract: the local executor is its first implementation; Slurm, Kubernetes and Ray follow.
// ---------------------------------------------------------------------------------------------------------------

/** Where a job is in its life. `starting` and `running` can change; the other four are final. */
export type ExecutorJobState = 'starting' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed-out';

const FINAL_STATES: ReadonlySet<ExecutorJobState> = new Set(['succeeded', 'failed', 'cancelled', 'timed-out']);

export function isFinalState(state: ExecutorJobState): boolean {
  return FINAL_STATES.has(state);
}

/** What TrainOS puts in every job's environment, so that the SDK logs to the right run on the right GPUs. */
export interface JobRuntimeEnv {
  AIDOS_URL: string;
  AIDOS_TOKEN: string;
  AIDOS_RUN_ID: string;
  /** The assigned GPUs ("0,1"); '' for a CPU-only job, so that frameworks do not grab a GPU. */
  CUDA_VISIBLE_DEVICES: string;
  /** Dataset paths and the like (`AIDOS_DATASET_TRAIN=/…`). */
  [name: string]: string;
}

export interface ScriptJobSpec {
  id: string;
  /** The program and its arguments, run without a shell: `['python3', 'train.py', '--lr', '0.01']`. */
  command: readonly string[];
  workingDir: string;
  /** The user's variables, over the app's own environment. */
  env?: Readonly<Record<string, string>>;
  /** Computed by TrainOS; wins over `env`. */
  runtimeEnv: JobRuntimeEnv;
  maxRuntimeMs?: number;
  /**
   * What to ask of a cluster's resource manager (Slurm: `--gres=gpu:N`, `--cpus-per-task`, `--mem`). The local
   * executor ignores it: on this machine TrainOS's own scheduler placed the job before it starts.
   */
  resources?: { gpus: number; cpuThreads: number; ramMb: number };
  /** Output is appended here as timestamped lines, so a retry keeps the lines of the attempts before it. */
  logFile: string;
}

export interface ExecutorJobStatus<Handle> {
  id: string;
  state: ExecutorJobState;
  /** How the executor finds the job again (a pid, a Slurm job id): store it to `adopt` the job after a restart. */
  handle: Handle | null;
  /** When it began running, in ms since the epoch. */
  startedAt: number | null;
  endedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  /** Why it did not succeed, for people: "exited with code 3", "cancelled". Null while running and on success. */
  reason: string | null;
  /**
   * The job did not fail on its own: it ran inside the app (a built-in trainer's thread), and the app stopped. It
   * runs again without counting as a failure.
   */
  lost?: boolean;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  /** When the line was read, in ms since the epoch. */
  time: number;
  stream: LogStream;
  text: string;
}

export interface LogPageQuery {
  /** A line start: 0 or a `nextByte`. */
  fromByte?: number;
  /** Default 1 MiB. */
  maxBytes?: number;
}

export interface LogPage {
  lines: LogLine[];
  /** Where the next page starts: the byte after the last whole line returned. */
  nextByte: number;
  /** The job has ended and this page reaches the end of its log: a follower can stop. */
  atEnd: boolean;
}

export type ExecutorEvent<Handle> =
  | { type: 'state'; job: ExecutorJobStatus<Handle> }
  /** `nextByte` is the log offset after this line, so that a client can join `readLog` pages to live lines. */
  | { type: 'log'; jobId: string; line: LogLine; nextByte: number };

/** A job the store says was running when the app stopped. */
export interface AdoptableJob<Handle> {
  id: string;
  logFile: string;
  handle: Handle;
  startedAt: number;
  maxRuntimeMs?: number;
}

/**
 * Runs jobs somewhere (script jobs on this machine or a Slurm cluster, built-in trainers in the app…) and reports
 * on them.
 */
export interface Executor<Handle, Spec = ScriptJobSpec> {
  /** Resolves once the job runs (or has failed to start: then the status is final and says why). */
  start(spec: Spec): Promise<ExecutorJobStatus<Handle>>;
  /** Tracks again a job started before an app restart, or reports how it ended if it no longer runs. */
  adopt(job: AdoptableJob<Handle>): Promise<ExecutorJobStatus<Handle>>;
  status(id: string): ExecutorJobStatus<Handle>;
  /** Resolves with the final status. */
  ended(id: string): Promise<ExecutorJobStatus<Handle>>;
  /** Asks the job to stop, then forces it; resolves once asked. A no-op for a job that has ended. */
  cancel(id: string): Promise<void>;
  /** A page of whole lines of the stored log. */
  readLog(id: string, query?: LogPageQuery): Promise<LogPage>;
  /** Every job's state changes and log lines, in order; returns the unsubscribe function. */
  subscribe(listener: (event: ExecutorEvent<Handle>) => void): () => void;
  /** Stops observing. Jobs keep running, for the next instance to adopt. */
  close(): void;
}
