import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { Logger } from '#platform/logger';
import { readBootId, readProcessStat } from '#platform/proc-stat';
import { AppError } from '#shared/errors';
import {
  isFinalState,
  type AdoptableJob,
  type ExecutorJobState,
  type ExecutorJobStatus,
  type ScriptJobSpec,
} from './executor';
import { captureFiles, isErrnoError, OutputFollower, removeCaptureFiles, type CaptureFiles } from './job-log';
import { JobLauncher } from './job-launcher';
import { TrackingExecutor, type TrackedJob as TrackedJobBase } from './tracking-executor';

// ---------------------------------------------------------------------------------------------------------------
// The local executor: jobs as process groups on this machine (Linux).
// ---------------------------------------------------------------------------------------------------------------

/** A process, told apart from a later one that reuses its pid. */
export interface LocalProcessHandle {
  /** The pid of the job's wrapper shell, which is also its process group id. */
  pid: number;
  /** `<boot id>:<start time in clock ticks since boot>`, from /proc. */
  processStartTime: string;
}

export interface LocalExecutorOptions {
  /** Between SIGTERM and SIGKILL when a job is cancelled or runs too long; default 10 s. */
  killGraceMs?: number;
  /** How often captured output is moved to the log and adopted processes are checked; default 200 ms. */
  pollMs?: number;
}

/**
 * Every job runs as `sh -c WRAPPER aidos-job <exit-code file> <program> <args…>`. The wrapper records the program's
 * exit code, so that the outcome of a job adopted after a restart (no longer our child) is still known. Its trap
 * keeps it waiting for the program when the group gets SIGTERM (a handler, unlike an ignored signal, is not
 * inherited by the program), so that the job lasts as long as the program does.
 */
const WRAPPER = 'trap : TERM; exit_code_file=$1; shift; "$@"; code=$?; echo "$code" > "$exit_code_file"; exit "$code"';

/** What execvp searches when PATH is unset. */
const DEFAULT_SEARCH_PATH = '/usr/local/bin:/usr/bin:/bin';

/** The files of a job, next to its log. */
interface JobFiles extends CaptureFiles {
  exitCode: string;
}

function jobFiles(logFile: string): JobFiles {
  return { ...captureFiles(logFile), exitCode: `${logFile}.exit-code` };
}

function signalName(signalNumber: number): string | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signalNumber);
  return entry ? entry[0] : null;
}

/**
 * The exit of the wrapper as the program's: a shell reports a program killed by signal N as exit code 128 + N, so
 * that is read as the signal (a program exiting with such a code on its own is reported as killed, like shells do).
 */
function programExit(code: number | null, signal: string | null): { exitCode: number | null; signal: string | null } {
  if (signal !== null) return { exitCode: null, signal };
  const killedBy = code !== null && code > 128 ? signalName(code - 128) : null;
  return killedBy ? { exitCode: null, signal: killedBy } : { exitCode: code, signal: null };
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
  if (ms < 3_600_000) return `${Number((ms / 60_000).toFixed(1))} min`;
  return `${Number((ms / 3_600_000).toFixed(1))} h`;
}

/** The environment without unset variables, as a process gets it. */
function definedValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

function workingDirProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `working dir ${dir} is not a directory`;
  } catch {
    return `working dir ${dir} does not exist`;
  }
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The program's path, found as execvp would; checked before spawning so the reason names the program. */
function findProgram(name: string, workingDir: string, searchPath: string): { path: string } | { problem: string } {
  if (name.includes('/')) {
    const file = path.resolve(workingDir, name);
    if (isExecutableFile(file)) return { path: file };
    return {
      problem: `could not start: ${name} ${statSync(file, { throwIfNoEntry: false }) ? 'is not executable' : 'not found'}`,
    };
  }
  for (const dir of searchPath.split(':')) {
    const file = path.resolve(workingDir, dir || '.', name);
    if (isExecutableFile(file)) return { path: file };
  }
  return { problem: `could not start: ${name} not found` };
}

type StopReason = 'cancelled' | 'timed-out';

type JobOutcome = Pick<ExecutorJobStatus<LocalProcessHandle>, 'state' | 'reason' | 'exitCode' | 'signal'>;

interface TrackedJob extends TrackedJobBase<LocalProcessHandle> {
  files: JobFiles;
  maxRuntimeMs: number | null;
  /** A process that is not our launcher's child (adopted after a restart, or its launcher died): polled. */
  adopted: LocalProcessHandle | null;
  /** Set once we asked the job to stop: what it ends as. */
  stopRequested: StopReason | null;
  output: OutputFollower | null;
  timers: NodeJS.Timeout[];
}

/**
 * Runs script jobs as process groups on this machine. The process writes its output to capture files and its exit
 * code to a file, so it outlives the app: the next instance adopts it (`adopt`), told apart from a process that
 * reuses its pid by its start time. Linux only: it reads /proc.
 */
export class LocalExecutor extends TrackingExecutor<LocalProcessHandle, TrackedJob> {
  private readonly killGraceMs: number;
  private readonly pollMs: number;
  private readonly bootId: string;
  /** Spawns the jobs, off this thread. */
  private readonly launcher: JobLauncher;

  constructor(logger: Logger, options: LocalExecutorOptions = {}) {
    super(logger);
    this.killGraceMs = options.killGraceMs ?? 10_000;
    this.pollMs = options.pollMs ?? 200;
    // With the start time, tells a process apart from one that got the same pid and start tick after a reboot.
    this.bootId = readBootId();
    this.launcher = new JobLauncher(logger);
  }

  async start(spec: ScriptJobSpec): Promise<ExecutorJobStatus<LocalProcessHandle>> {
    const program = spec.command[0];
    if (program === undefined) throw AppError.invalid('command', 'must name a program');
    const job = this.track(spec.id, spec.logFile, spec.maxRuntimeMs ?? null, 'starting', null);
    const env = { ...process.env, ...spec.env, ...spec.runtimeEnv };
    const dirProblem = workingDirProblem(spec.workingDir);
    if (dirProblem) return this.end(job, { state: 'failed', reason: dirProblem, exitCode: null, signal: null });
    const found = findProgram(program, spec.workingDir, env.PATH ?? DEFAULT_SEARCH_PATH);
    if ('problem' in found)
      return this.end(job, { state: 'failed', reason: found.problem, exitCode: null, signal: null });

    const { files } = job;
    const launched = await this.launcher.launch(
      {
        id: spec.id,
        argv: ['/bin/sh', '-c', WRAPPER, 'aidos-job', files.exitCode, found.path, ...spec.command.slice(1)],
        cwd: spec.workingDir,
        env: definedValues(env),
        logDir: path.dirname(files.log),
        staleFiles: [files.exitCode, files.captureOffsets],
        stdoutFile: files.capture.stdout,
        stderrFile: files.capture.stderr,
      },
      {
        onSpawned: ({ pid, startTime }) => {
          // Without a start time (never seen) the job cannot be adopted, but is still followed and can be cancelled.
          job.status.handle = { pid, processStartTime: startTime };
          if (this.closed) return;
          this.followOutput(job);
          this.setRunning(job, Date.now());
          if (job.stopRequested) this.signalStop(job, job.status.handle); // cancelled while it was being started
        },
        onExit: (exit) => {
          const { handle } = job.status;
          if (this.closed || isFinalState(job.status.state) || !handle) return;
          if (exit === null) {
            // The launcher died: the job runs on, no longer anyone's child; followed as an adopted one is.
            job.adopted = handle;
            return;
          }
          this.killLeftovers(handle.pid);
          this.end(job, this.outcome(job, programExit(exit.code, exit.signal)));
        },
      },
    );
    if ('reason' in launched) {
      return this.end(job, { state: 'failed', reason: launched.reason, exitCode: null, signal: null });
    }
    return this.snapshot(job);
  }

  async adopt(record: AdoptableJob<LocalProcessHandle>): Promise<ExecutorJobStatus<LocalProcessHandle>> {
    const job = this.track(record.id, record.logFile, record.maxRuntimeMs ?? null, 'running', record.handle);
    job.status.startedAt = record.startedAt;
    this.followOutput(job); // what it wrote while the app was down goes to the log either way
    if (!this.isAlive(record.handle)) {
      return this.end(job, this.outcomeFromExitFile(job, 'the app stopped while it ran and it is no longer running'));
    }
    job.adopted = record.handle;
    this.setRunning(job, record.startedAt);
    return this.snapshot(job);
  }

  async cancel(id: string): Promise<void> {
    const job = this.get(id);
    if (!isFinalState(job.status.state)) this.stop(job, 'cancelled');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.launcher.close();
    for (const job of this.jobs.values()) {
      for (const timer of job.timers) clearTimeout(timer);
      if (job.output && !isFinalState(job.status.state)) {
        this.pumpOutput(job, false); // so the next instance starts where this one stopped
        job.output.close();
      }
    }
  }

  private track(
    id: string,
    logFile: string,
    maxRuntimeMs: number | null,
    state: ExecutorJobState,
    handle: LocalProcessHandle | null,
  ): TrackedJob {
    const job = this.register({
      status: { id, state, handle, startedAt: null, endedAt: null, exitCode: null, signal: null, reason: null },
      logFile,
      files: jobFiles(logFile),
      maxRuntimeMs,
      adopted: null,
      stopRequested: null,
      output: null,
      timers: [],
      endWaiters: [],
    });
    if (state === 'starting') this.emit({ type: 'state', job: this.snapshot(job) });
    return job;
  }

  private followOutput(job: TrackedJob): void {
    job.output = new OutputFollower(job.files, (line, nextByte) =>
      this.emit({ type: 'log', jobId: job.status.id, line, nextByte }),
    );
  }

  /**
   * Polls its output and enforces the runtime limit. An adopted process sends no exit event, so whether it still
   * runs is polled too.
   */
  private setRunning(job: TrackedJob, startedAt: number): void {
    job.status = { ...job.status, state: 'running', startedAt };
    this.emit({ type: 'state', job: this.snapshot(job) });
    const poll = setInterval(() => {
      this.pumpOutput(job, false);
      const { adopted } = job;
      if (adopted && !this.isAlive(adopted)) {
        this.killLeftovers(adopted.pid);
        this.end(job, this.outcomeFromExitFile(job, 'it ended without recording an exit code (killed by a signal?)'));
      }
    }, this.pollMs);
    job.timers.push(poll);
    if (job.maxRuntimeMs !== null) {
      const left = Math.max(0, startedAt + job.maxRuntimeMs - Date.now());
      job.timers.push(setTimeout(() => this.stop(job, 'timed-out'), left));
    }
  }

  /** SIGTERM to the whole group, SIGKILL after the grace period. */
  private stop(job: TrackedJob, reason: StopReason): void {
    if (job.stopRequested) return;
    job.stopRequested = reason;
    // A job the launcher has not started yet is signalled as soon as it has (onSpawned).
    if (job.status.handle) this.signalStop(job, job.status.handle);
  }

  private signalStop(job: TrackedJob, handle: LocalProcessHandle): void {
    this.signalGroup(handle.pid, 'SIGTERM');
    job.timers.push(setTimeout(() => this.signalGroup(handle.pid, 'SIGKILL'), this.killGraceMs));
  }

  private signalGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pgid, signal);
    } catch (err) {
      if (!isErrnoError(err, 'ESRCH')) throw err; // ESRCH: the group has ended
    }
  }

  /** Processes the program left behind (a background child) end with it, as Slurm ends a job's processes. */
  private killLeftovers(pgid: number): void {
    this.signalGroup(pgid, 'SIGKILL');
  }

  private isAlive(handle: LocalProcessHandle): boolean {
    const stat = readProcessStat(handle.pid, this.bootId);
    return stat !== null && stat.state !== 'Z' && stat.startTime === handle.processStartTime;
  }

  private outcome(job: TrackedJob, exit: { exitCode: number | null; signal: string | null }): JobOutcome {
    if (job.stopRequested === 'cancelled') return { ...exit, state: 'cancelled', reason: 'cancelled' };
    if (job.stopRequested === 'timed-out') {
      const limit = formatDuration(job.maxRuntimeMs ?? 0);
      return { ...exit, state: 'timed-out', reason: `ran past its maximum runtime of ${limit}` };
    }
    if (exit.signal === 'SIGKILL') return { ...exit, state: 'failed', reason: 'killed by SIGKILL (out of memory?)' };
    if (exit.signal !== null) return { ...exit, state: 'failed', reason: `killed by ${exit.signal}` };
    if (exit.exitCode === 0) return { ...exit, state: 'succeeded', reason: null };
    return { ...exit, state: 'failed', reason: `exited with code ${exit.exitCode}` };
  }

  /** The outcome of a process that is not our child: from its exit-code file, if the wrapper lived to write it. */
  private outcomeFromExitFile(job: TrackedJob, reasonWithoutFile: string): JobOutcome {
    let code: number | null = null;
    try {
      const parsed = Number.parseInt(readFileSync(job.files.exitCode, 'utf8'), 10);
      code = Number.isNaN(parsed) ? null : parsed;
    } catch {
      // no file: the wrapper was killed too
    }
    if (code !== null || job.stopRequested) return this.outcome(job, programExit(code, null));
    return { state: 'failed', reason: reasonWithoutFile, exitCode: null, signal: null };
  }

  private pumpOutput(job: TrackedJob, final: boolean): void {
    try {
      job.output?.pump(final);
    } catch (err) {
      this.logger.error({ err, job: job.status.id }, 'cannot move job output to its log');
    }
  }

  private end(job: TrackedJob, outcome: JobOutcome): ExecutorJobStatus<LocalProcessHandle> {
    for (const timer of job.timers) clearTimeout(timer);
    if (job.output) {
      this.pumpOutput(job, true);
      job.output.close();
    }
    // The capture files are now in the log; the exit-code file stays as the record of the outcome.
    removeCaptureFiles(job.files);
    return this.settle(job, outcome);
  }
}
