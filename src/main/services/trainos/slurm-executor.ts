import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '#platform/logger';
import { AppError } from '#shared/errors';
import {
  isFinalState,
  type AdoptableJob,
  type ExecutorJobState,
  type ExecutorJobStatus,
  type ScriptJobSpec,
} from './executor';
import { captureFiles, OutputFollower, removeCaptureFiles, type CaptureFiles } from './job-log';
import { TrackingExecutor, type TrackedJob as TrackedJobBase } from './tracking-executor';

// ---------------------------------------------------------------------------------------------------------------
// The Slurm executor: jobs as Slurm batch jobs (sbatch), tracked with squeue, cancelled with scancel.
// ---------------------------------------------------------------------------------------------------------------

/** A Slurm job, found again after a restart by its id (its name, `aidos-<job id>`, is checked on every read). */
export interface SlurmJobHandle {
  /** Slurm's job id, as sbatch printed it. */
  slurmJobId: string;
}

export interface SlurmExecutorOptions {
  /** The cluster's slurm.conf, given to every Slurm command as SLURM_CONF; default: Slurm's own lookup. */
  slurmConf?: string;
  /** Where sbatch, squeue, scancel and scontrol are; default: PATH. */
  slurmBinDir?: string;
  /** `--partition`; default: the cluster's default partition. */
  partition?: string;
  /**
   * More sbatch options (`--account=ml`, `--qos=high`). They come before the options derived from the job, so the
   * job's own resources, time limit and files win over them.
   */
  sbatchArgs?: readonly string[];
  /** How often Slurm is asked about the jobs (one squeue for all of them) and output moves to the logs; 1 s. */
  pollMs?: number;
}

type SlurmCommand = 'sbatch' | 'squeue' | 'scancel' | 'scontrol';

type CommandResult = { ok: true; stdout: string } | { ok: false; problem: string; stderr: string };

/** A Slurm client that hangs (a controller that accepts connections but never answers) gives up after this. */
const COMMAND_TIMEOUT_MS = 120_000;
/** Job ids per squeue call: each id goes on its command line, which Linux caps at 128 KiB an argument. */
const IDS_PER_QUERY = 1000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** squeue's fields; the name is last because it is the one field that may contain the separator. */
const SQUEUE_FORMAT = 'JobID:|,State:|,StartTime:|,EndTime:|,exit_code:|,Reason:|,Name:|';

/** Slurm's job states (squeue's %T, scontrol's JobState) as an executor's: the ones that are not final. */
const ACTIVE_STATES: Readonly<Record<string, 'starting' | 'running'>> = {
  PENDING: 'starting',
  CONFIGURING: 'starting',
  REQUEUED: 'starting',
  REQUEUE_HOLD: 'starting',
  REQUEUE_FED: 'starting',
  RESV_DEL_HOLD: 'starting',
  RUNNING: 'running',
  COMPLETING: 'running',
  SUSPENDED: 'running',
  STOPPED: 'running',
  SIGNALING: 'running',
  STAGE_OUT: 'running',
  RESIZING: 'running',
};
const FINAL_SLURM_STATES = new Set([
  'COMPLETED',
  'FAILED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'CANCELLED',
  'TIMEOUT',
  'DEADLINE',
  'PREEMPTED',
  'SPECIAL_EXIT',
  'REVOKED',
]);

/** What Slurm says about a job, from squeue or from the job-completion file. */
interface SlurmJobRecord {
  slurmJobId: string;
  name: string;
  state: string;
  /** Slurm's Reason ("NonZeroExitCode", "Resources", "None"). */
  reason: string;
  startTime: number | null;
  endTime: number | null;
  exitCode: number | null;
  signal: string | null;
}

type JobOutcome = Pick<ExecutorJobStatus<SlurmJobHandle>, 'state' | 'reason' | 'exitCode' | 'signal'>;

interface TrackedJob extends TrackedJobBase<SlurmJobHandle> {
  files: CaptureFiles;
  /** The `--time` it was given, for the reason of a time-out; null: the partition's limit. */
  timeLimitMinutes: number | null;
  cancelRequested: boolean;
  output: OutputFollower | null;
}

/** Quoted for sh: any bytes, literally (`$(…)`, quotes and newlines included). */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** sbatch expands `%j` and the like in output file names; `%%` is a literal `%` unless a backslash turns that off. */
function outputPattern(file: string): string {
  return file.includes('\\') ? file : file.replaceAll('%', '%%');
}

function timeLimitMinutes(maxRuntimeMs: number | undefined): number | null {
  return maxRuntimeMs === undefined ? null : Math.max(1, Math.ceil(maxRuntimeMs / 60_000));
}

function signalName(signalNumber: number): string | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signalNumber);
  return entry ? entry[0] : `signal ${signalNumber}`;
}

/** Slurm prints times in the local time zone without one ("2026-11-27T18:39:09"), or "N/A", "NONE", "Unknown". */
function parseSlurmTime(value: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(value)) return null;
  const time = new Date(value).getTime(); // a date-time without an offset is local time
  return Number.isNaN(time) ? null : time;
}

/** The exit of the job's program: from a wait status (squeue's exit_code) or Slurm's `code:signal`. */
function programExit(code: number, signalNumber: number): { exitCode: number | null; signal: string | null } {
  return signalNumber !== 0 ? { exitCode: null, signal: signalName(signalNumber) } : { exitCode: code, signal: null };
}

/** One line of `squeue -O SQUEUE_FORMAT`. */
function parseSqueueLine(line: string): SlurmJobRecord | null {
  const fields = line.replace(/\|$/, '').split('|');
  if (fields.length < 7) return null;
  const [slurmJobId, state, start, end, waitStatus, reason] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const status = Number.parseInt(waitStatus, 10);
  const exit = Number.isNaN(status) ? { exitCode: null, signal: null } : programExit(status >> 8, status & 0x7f);
  return {
    slurmJobId,
    name: fields.slice(6).join('|'),
    state,
    reason,
    startTime: parseSlurmTime(start),
    endTime: parseSlurmTime(end),
    ...exit,
  };
}

/** One line of a `jobcomp/filetxt` file: space-separated `Key=value` pairs. */
function parseJobCompLine(line: string): SlurmJobRecord {
  const field = (key: string) => new RegExp(`(?:^| )${key}=(\\S*)`).exec(line)?.[1] ?? '';
  const [code, signalNumber] = field('ExitCode').split(':').map(Number);
  return {
    slurmJobId: field('JobId'),
    name: field('Name'),
    state: field('JobState'),
    reason: '',
    startTime: parseSlurmTime(field('StartTime')),
    endTime: parseSlurmTime(field('EndTime')),
    ...(code === undefined || signalNumber === undefined || Number.isNaN(code) || Number.isNaN(signalNumber)
      ? { exitCode: null, signal: null }
      : programExit(code, signalNumber)),
  };
}

/** Slurm's message without its tool prefixes: "sbatch: error: Batch job submission failed: X" → "X". */
function slurmMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/^[\w-]+: (error|fatal): /, '')
        .replace(/^slurm_load_jobs error: /, '')
        .replace(/^Batch job submission failed: /, ''),
    )
    .filter((line) => line !== '');
  return lines.join('; ').slice(0, 1000) || 'no message';
}

/**
 * Runs script jobs on a Slurm cluster: each job is a batch job (`sbatch`) named `aidos-<job id>` whose script
 * exports the job's environment, enters its working dir and execs its command, quoted so that nothing in it is
 * read by a shell. Its environment is the app's (sbatch passes its own on, as the local executor does), then the
 * job's `env`, then `runtimeEnv`, except that Slurm sets CUDA_VISIBLE_DEVICES for a job given GPUs (`--gres=gpu:N`).
 * Slurm writes the job's output to raw files next to its log (`-o`/`-e`), which are moved into
 * the log as the local executor does, so the log folder must be on a filesystem the cluster's nodes share with
 * this machine. One squeue call per poll reads the state of every job; jobs outlive the app and are adopted by
 * their Slurm job id. Slurm's KillWait (not an option here) is the grace between SIGTERM and SIGKILL on cancel
 * and time-out; Slurm enforces the time limit in whole minutes, checked every ~30 s.
 *
 * `start` resolves once Slurm has accepted the job (state `starting`, with its handle): on a busy cluster a job
 * may wait long before it runs, and its handle must be stored meanwhile.
 */
export class SlurmExecutor extends TrackingExecutor<SlurmJobHandle, TrackedJob> {
  private readonly commandEnv: NodeJS.ProcessEnv;
  private readonly pollMs: number;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  /** The last problem polling met, so that a controller that stays down is logged once, not every poll. */
  private pollProblem: string | null = null;

  constructor(
    logger: Logger,
    private readonly options: SlurmExecutorOptions = {},
  ) {
    super(logger);
    this.pollMs = options.pollMs ?? 1000;
    this.commandEnv = options.slurmConf ? { ...process.env, SLURM_CONF: options.slurmConf } : process.env;
  }

  async start(spec: ScriptJobSpec): Promise<ExecutorJobStatus<SlurmJobHandle>> {
    if (spec.command[0] === undefined) throw AppError.invalid('command', 'must name a program');
    const gpus = spec.resources?.gpus ?? 0;
    const env: Record<string, string> = { ...spec.env, ...spec.runtimeEnv };
    // The cluster picks the GPUs and sets CUDA_VISIBLE_DEVICES itself: a value from this machine would hide them.
    if (gpus > 0) delete env.CUDA_VISIBLE_DEVICES;
    for (const name of Object.keys(env)) {
      if (!ENV_NAME.test(name)) throw AppError.invalid(`env.${name}`, 'must be an environment variable name');
    }
    const job = this.track(spec.id, spec.logFile, timeLimitMinutes(spec.maxRuntimeMs), 'starting');
    this.emit({ type: 'state', job: this.snapshot(job) });
    if (this.options.slurmConf && !existsSync(this.options.slurmConf)) {
      const reason = `could not submit to Slurm: its configuration ${this.options.slurmConf} does not exist`;
      return this.end(job, { state: 'failed', reason, exitCode: null, signal: null });
    }

    const { files } = job;
    mkdirSync(path.dirname(files.log), { recursive: true });
    removeCaptureFiles(files); // a retry's output starts afresh
    const script = [
      '#!/bin/sh',
      ...Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`),
      // Slurm runs a job whose --chdir is missing in /tmp instead: a job must not run in the wrong folder.
      `cd ${shellQuote(spec.workingDir)} || exit 1`,
      `exec ${spec.command.map(shellQuote).join(' ')}`,
      '',
    ].join('\n');
    const { resources } = spec;
    const submitted = await this.run(
      'sbatch',
      [
        ...(this.options.sbatchArgs ?? []),
        '--parsable',
        `--job-name=${jobName(spec.id)}`,
        `--chdir=${spec.workingDir}`,
        `--output=${outputPattern(files.capture.stdout)}`,
        `--error=${outputPattern(files.capture.stderr)}`,
        // A job Slurm requeues (its node failed) appends, so the offsets already moved to the log stay right.
        '--open-mode=append',
        ...(this.options.partition ? [`--partition=${this.options.partition}`] : []),
        ...(resources ? [`--cpus-per-task=${resources.cpuThreads}`, `--mem=${resources.ramMb}M`] : []),
        ...(gpus > 0 ? [`--gres=gpu:${gpus}`] : []),
        ...(job.timeLimitMinutes !== null ? [`--time=${job.timeLimitMinutes}`] : []),
      ],
      script,
    );
    // --parsable prints "<id>" or "<id>;<cluster>".
    const slurmJobId = submitted.ok ? submitted.stdout.trim().split(';')[0] : undefined;
    if (!slurmJobId) {
      const problem = submitted.ok ? `sbatch printed no job id ('${submitted.stdout.trim()}')` : submitted.problem;
      return this.end(job, {
        state: 'failed',
        reason: `could not submit to Slurm: ${problem}`,
        exitCode: null,
        signal: null,
      });
    }
    job.status.handle = { slurmJobId };
    // Closed meanwhile: the job runs on, and its handle still goes back to be stored for the next instance.
    if (this.closed) return this.snapshot(job);
    job.output = this.followOutput(job);
    if (job.cancelRequested) {
      // The cancel came while sbatch ran, and has resolved already: a failure to ask is only logged.
      await this.scancel(job).catch((err: unknown) => this.logger.warn({ err, job: spec.id }, 'cancel failed'));
    }
    this.watch();
    return this.snapshot(job);
  }

  async adopt(record: AdoptableJob<SlurmJobHandle>): Promise<ExecutorJobStatus<SlurmJobHandle>> {
    // Starting until Slurm says more: it may still be pending.
    const job = this.track(record.id, record.logFile, timeLimitMinutes(record.maxRuntimeMs), 'starting');
    job.status = { ...job.status, handle: { ...record.handle }, startedAt: record.startedAt };
    job.output = this.followOutput(job); // what it wrote while the app was down goes to the log either way
    await this.refresh([job]);
    if (!isFinalState(job.status.state)) this.watch();
    return this.snapshot(job);
  }

  /** `scancel`: Slurm sends SIGTERM, then SIGKILL after its KillWait; the job ends as CANCELLED. */
  async cancel(id: string): Promise<void> {
    const job = this.get(id);
    if (isFinalState(job.status.state) || job.cancelRequested) return;
    job.cancelRequested = true;
    if (job.status.handle) await this.scancel(job);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const job of this.jobs.values()) {
      if (job.output && !isFinalState(job.status.state)) {
        this.pumpOutput(job, false); // so the next instance starts where this one stopped
        job.output.close();
      }
    }
  }

  private track(id: string, logFile: string, limitMinutes: number | null, state: ExecutorJobState): TrackedJob {
    return this.register({
      status: { id, state, handle: null, startedAt: null, endedAt: null, exitCode: null, signal: null, reason: null },
      logFile,
      files: captureFiles(logFile),
      timeLimitMinutes: limitMinutes,
      cancelRequested: false,
      output: null,
      endWaiters: [],
    });
  }

  private followOutput(job: TrackedJob): OutputFollower {
    return new OutputFollower(job.files, (line, nextByte) =>
      this.emit({ type: 'log', jobId: job.status.id, line, nextByte }),
    );
  }

  private async scancel(job: TrackedJob): Promise<void> {
    const slurmJobId = job.status.handle?.slurmJobId ?? '';
    const result = await this.run('scancel', [slurmJobId]);
    if (!result.ok) {
      job.cancelRequested = false; // so that it can be asked again
      throw new AppError('FAILED_PRECONDITION', `could not cancel Slurm job ${slurmJobId}: ${result.problem}`);
    }
  }

  /** Polls while any job is tracked and has not ended; one timer for all jobs, never two polls at once. */
  private watch(): void {
    if (this.pollTimer || this.polling || this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.poll();
    }, this.pollMs);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const watched = [...this.jobs.values()].filter((j) => j.status.handle && !isFinalState(j.status.state));
      for (const job of watched) if (job.status.state === 'running') this.pumpOutput(job, false);
      await this.refresh(watched);
    } catch (err) {
      this.logger.error({ err }, 'polling Slurm failed');
    } finally {
      this.polling = false;
      if ([...this.jobs.values()].some((j) => j.status.handle && !isFinalState(j.status.state))) this.watch();
    }
  }

  /** Reads what Slurm says about the jobs and moves each on; a job Slurm no longer knows is looked up in its files. */
  private async refresh(jobs: readonly TrackedJob[]): Promise<void> {
    if (jobs.length === 0) return;
    const known = new Map<string, SlurmJobRecord>();
    for (let i = 0; i < jobs.length; i += IDS_PER_QUERY) {
      const ids = jobs.slice(i, i + IDS_PER_QUERY).map((j) => j.status.handle?.slurmJobId ?? '');
      // -a: jobs in hidden partitions too (else they would look forgotten); -t all: ended ones too.
      const result = await this.run('squeue', ['-h', '-a', '-t', 'all', '-j', ids.join(','), '-O', SQUEUE_FORMAT]);
      if (!result.ok && !result.stderr.includes('Invalid job id specified')) {
        // The controller is down or busy: the jobs keep their state until it answers.
        if (result.problem !== this.pollProblem) this.logger.warn({ problem: result.problem }, 'squeue failed');
        this.pollProblem = result.problem;
        return;
      }
      // With one id, squeue fails when Slurm has forgotten it; with several it leaves the forgotten ones out.
      if (!result.ok) continue;
      for (const line of result.stdout.split('\n')) {
        const record = parseSqueueLine(line);
        if (record) known.set(record.slurmJobId, record);
      }
    }
    this.pollProblem = null;
    if (this.closed) return;
    const forgotten: TrackedJob[] = [];
    for (const job of jobs) {
      const record = known.get(job.status.handle?.slurmJobId ?? '');
      if (record) this.apply(job, record);
      else forgotten.push(job);
    }
    if (forgotten.length > 0) await this.readCompletions(forgotten);
  }

  private apply(job: TrackedJob, record: SlurmJobRecord): void {
    if (isFinalState(job.status.state)) return;
    if (record.name !== jobName(job.status.id)) {
      const reason = `Slurm job ${record.slurmJobId} is another job ('${record.name}'): the cluster was reset or changed`;
      this.end(job, { state: 'failed', reason, exitCode: null, signal: null });
      return;
    }
    if (FINAL_SLURM_STATES.has(record.state)) {
      job.status.startedAt ??= record.startTime;
      this.end(job, this.outcome(job, record), record.endTime);
    } else if (ACTIVE_STATES[record.state] === 'running' && job.status.state === 'starting') {
      // A requeued job goes back to PENDING in Slurm but stays running here: a job's state only moves forward.
      job.status = { ...job.status, state: 'running', startedAt: record.startTime ?? Date.now() };
      this.emit({ type: 'state', job: this.snapshot(job) });
    } else if (ACTIVE_STATES[record.state] === undefined) {
      this.logger.warn({ job: job.status.id, state: record.state }, 'unknown Slurm job state');
    }
  }

  /**
   * The outcome of jobs the controller has forgotten (it keeps ended jobs for MinJobAge): from its `jobcomp/filetxt`
   * file when it keeps one that this machine can read, else unknown.
   */
  private async readCompletions(jobs: readonly TrackedJob[]): Promise<void> {
    const config = await this.run('scontrol', ['show', 'config']);
    if (!config.ok || this.closed) return; // asked again on the next poll
    const setting = (key: string) => new RegExp(`^${key}\\s*=\\s*(.*)$`, 'm').exec(config.stdout)?.[1]?.trim() ?? '';
    const jobCompFile = setting('JobCompType') === 'jobcomp/filetxt' ? setting('JobCompLoc') : '';
    const records = jobCompFile && existsSync(jobCompFile) ? await this.readJobComp(jobCompFile, jobs) : new Map();
    if (this.closed) return;
    for (const job of jobs) {
      const slurmJobId = job.status.handle?.slurmJobId ?? '';
      const record = records.get(slurmJobId);
      if (record) this.apply(job, record);
      else if (!isFinalState(job.status.state)) {
        const reason =
          `Slurm no longer knows job ${slurmJobId} (it forgets ended jobs after MinJobAge, ${setting('MinJobAge')})` +
          ' and keeps no job-completion record here: how it ended is unknown';
        this.end(job, { state: 'failed', reason, exitCode: null, signal: null });
      }
    }
  }

  /** The last record of each job in a job-completion file, read in one pass however many jobs are asked for. */
  private async readJobComp(file: string, jobs: readonly TrackedJob[]): Promise<Map<string, SlurmJobRecord>> {
    const wanted = new Set(jobs.map((j) => j.status.handle?.slurmJobId ?? ''));
    const found = new Map<string, SlurmJobRecord>();
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      const slurmJobId = /^JobId=(\S+) /.exec(line)?.[1];
      if (slurmJobId !== undefined && wanted.has(slurmJobId)) found.set(slurmJobId, parseJobCompLine(line));
    }
    return found;
  }

  private outcome(job: TrackedJob, record: SlurmJobRecord): JobOutcome {
    const exit = { exitCode: record.exitCode, signal: record.signal };
    switch (record.state) {
      case 'COMPLETED':
        return { ...exit, state: 'succeeded', reason: null };
      case 'FAILED': {
        if (exit.signal !== null) return { ...exit, state: 'failed', reason: `killed by ${exit.signal}` };
        if (exit.exitCode !== null && exit.exitCode !== 0)
          return { ...exit, state: 'failed', reason: `exited with code ${exit.exitCode}` };
        return { ...exit, state: 'failed', reason: `failed in Slurm (${record.reason || 'no reason given'})` };
      }
      case 'OUT_OF_MEMORY':
        return { ...exit, state: 'failed', reason: 'out of memory' };
      case 'NODE_FAIL':
        return { ...exit, state: 'failed', reason: 'its node failed' };
      case 'BOOT_FAIL':
        return { ...exit, state: 'failed', reason: 'its node failed to boot' };
      case 'CANCELLED':
        return {
          ...exit,
          state: 'cancelled',
          reason: job.cancelRequested ? 'cancelled' : 'cancelled in Slurm (scancel or an administrator)',
        };
      case 'TIMEOUT': {
        const limit = job.timeLimitMinutes === null ? '' : ` of ${job.timeLimitMinutes} min`;
        return { ...exit, state: 'timed-out', reason: `ran past its time limit${limit}` };
      }
      case 'DEADLINE':
        return { ...exit, state: 'timed-out', reason: 'reached its Slurm deadline' };
      default:
        return { ...exit, state: 'failed', reason: `ended in Slurm as ${record.state}` };
    }
  }

  private pumpOutput(job: TrackedJob, final: boolean): void {
    try {
      job.output?.pump(final);
    } catch (err) {
      this.logger.error({ err, job: job.status.id }, 'cannot move job output to its log');
    }
  }

  private end(job: TrackedJob, outcome: JobOutcome, endedAt: number | null = null): ExecutorJobStatus<SlurmJobHandle> {
    if (job.output) {
      this.pumpOutput(job, true);
      job.output.close();
      job.output = null;
    }
    removeCaptureFiles(job.files);
    return this.settle(job, endedAt === null ? outcome : { ...outcome, endedAt });
  }

  /** Runs a Slurm client; a failure comes back as Slurm's message, never as a raw exec error. */
  private run(command: SlurmCommand, args: readonly string[], input?: string): Promise<CommandResult> {
    const { slurmBinDir } = this.options;
    const file = slurmBinDir ? path.join(slurmBinDir, command) : command;
    return new Promise((resolve) => {
      const child = spawn(file, args, {
        env: this.commandEnv,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        timeout: COMMAND_TIMEOUT_MS,
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      // A client that exits before reading its input (a bad option) closes the pipe: its exit code tells why.
      child.stdin?.on('error', () => {});
      child.stdin?.end(input);
      child.once('error', (err: NodeJS.ErrnoException) => {
        const problem =
          err.code === 'ENOENT'
            ? `Slurm is not installed here (no ${command} ${slurmBinDir ? `in ${slurmBinDir}` : 'on PATH'})`
            : `${command} could not run: ${err.message}`;
        resolve({ ok: false, problem, stderr });
      });
      child.once('close', (code, signal) => {
        if (code === 0) resolve({ ok: true, stdout });
        else if (signal) resolve({ ok: false, problem: `${command} was stopped by ${signal}`, stderr });
        else if (code !== null) resolve({ ok: false, problem: slurmMessage(stderr), stderr });
      });
    });
  }
}

/** The Slurm job name of a job: what `adopt` checks, so a job id reused by another cluster is not taken for it. */
function jobName(id: string): string {
  return `aidos-${id}`;
}
