/** Messages between TrainOS's local executor and its job launcher process (src/workers/job-launcher.ts). */

/** Start one job: its files are prepared and its process spawned by the launcher, off the core's main thread. */
export interface LaunchRequest {
  kind: 'launch';
  /** The job's id: every reply about it carries it. */
  id: string;
  /** `argv[0]` is the program that runs; the launcher spawns it exactly as given. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Made (with parents) before the process starts. */
  logDir: string;
  /** Removed before the process starts: files of an earlier attempt that would be read as this one's. */
  staleFiles: string[];
  /** Created empty (truncated) and given to the process as its stdout and stderr. */
  stdoutFile: string;
  stderrFile: string;
}

export type ToLauncherMessage = LaunchRequest;

export type FromLauncherMessage =
  /** The process runs: its pid (also its process group id) and its start time from /proc ('' if unreadable). */
  | { kind: 'spawned'; id: string; pid: number; startTime: string }
  /** It could not start: the reason, as a user reads it. */
  | { kind: 'failed'; id: string; reason: string }
  | { kind: 'exited'; id: string; code: number | null; signal: string | null };
