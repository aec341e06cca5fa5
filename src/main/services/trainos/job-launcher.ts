import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '#platform/logger';
import { processEntry } from '#platform/worker-pool';
import type { FromLauncherMessage, LaunchRequest } from '#shared/job-launcher-messages';

/** A started job process: its pid (also its process group id) and its start time from /proc ('' if unread). */
export interface LaunchedProcess {
  pid: number;
  startTime: string;
}

export type LaunchResult = LaunchedProcess | { reason: string };

export interface LaunchListeners {
  /** The process runs; called before `launch` resolves, and before `onExit`. */
  onSpawned(process: LaunchedProcess): void;
  /** How it ended, or `null` when the launcher died first and its exit is not known. */
  onExit(exit: { code: number | null; signal: string | null } | null): void;
}

interface Pending extends LaunchListeners {
  resolve: (result: LaunchResult) => void;
  spawned: boolean;
}

/**
 * The core's side of the job launcher (src/workers/job-launcher.ts), a child process that spawns script jobs so
 * that the core's main thread never forks. Started on the first launch; started again on the next launch when it
 * died, in which case the jobs it had started get `onExit(null)`: they run on, detached, and are followed through
 * /proc instead.
 */
export class JobLauncher {
  private child: ChildProcess | null = null;
  private readonly pending = new Map<string, Pending>();
  private closed = false;

  constructor(private readonly logger: Logger) {}

  launch(request: Omit<LaunchRequest, 'kind'>, listeners: LaunchListeners): Promise<LaunchResult> {
    if (this.closed) return Promise.resolve({ reason: 'could not start: the executor is closed' });
    const child = this.child ?? this.startLauncher();
    return new Promise((resolve) => {
      this.pending.set(request.id, { ...listeners, resolve, spawned: false });
      this.refWhileBusy();
      child.send({ kind: 'launch', ...request } satisfies LaunchRequest);
    });
  }

  /** Lets the launcher go; the jobs it started run on (the next core adopts them). */
  close(): void {
    this.closed = true;
    if (this.child?.connected) this.child.disconnect();
    this.child = null;
    this.pending.clear();
  }

  private startLauncher(): ChildProcess {
    const entry = processEntry('job-launcher');
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      // In the desktop app process.execPath is Electron, which runs a script as plain Node only when told so.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (message: FromLauncherMessage) => this.receive(message));
    child.once('exit', (code, signal) => this.lost(child, code, signal));
    child.once('error', (err) => this.logger.error({ err }, 'the job launcher failed'));
    this.child = child;
    return child;
  }

  private receive(message: FromLauncherMessage): void {
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.kind) {
      case 'spawned': {
        entry.spawned = true;
        const launched = { pid: message.pid, startTime: message.startTime };
        entry.onSpawned(launched);
        entry.resolve(launched);
        return;
      }
      case 'failed':
        this.settle(message.id);
        entry.resolve({ reason: message.reason });
        return;
      case 'exited':
        this.settle(message.id);
        entry.onExit({ code: message.code, signal: message.signal });
    }
  }

  /** The launcher ended: what it had not started failed to start, what it had started is no longer followed. */
  private lost(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return; // closed
    this.child = null;
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.refWhileBusy();
    if (entries.length > 0) this.logger.warn({ code, signal, jobs: entries.length }, 'the job launcher exited');
    for (const entry of entries) {
      if (entry.spawned) entry.onExit(null);
      else entry.resolve({ reason: 'could not start: the job launcher exited' });
    }
  }

  private settle(id: string): void {
    this.pending.delete(id);
    this.refWhileBusy();
  }

  /** Keeps the core's event loop alive for the launcher only while it has jobs to report on. */
  private refWhileBusy(): void {
    const child = this.child;
    if (!child) return;
    if (this.pending.size > 0) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}
