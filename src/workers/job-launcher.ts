import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { readBootId, readProcessStat } from '#platform/proc-stat';
import type { FromLauncherMessage, ToLauncherMessage } from '#shared/job-launcher-messages';

/**
 * TrainOS's job launcher: a small child process of the core that spawns script jobs for it. Forking copies the
 * forking process's page tables and Node waits until the child has exec'd, so spawning from the core's main thread
 * cost it more the bigger the core grew (a third of its CPU with thousands of short jobs); here that cost falls on
 * a process of a few tens of MB, on another core. Jobs run in their own process groups and outlive this process:
 * it exits with the core (when the IPC channel closes) and the next core adopts them.
 */
const send = (message: FromLauncherMessage) => process.send?.(message);

const bootId = readBootId();

function launch(request: ToLauncherMessage): void {
  const { id, argv } = request;
  const [program, ...args] = argv;
  if (program === undefined) {
    send({ kind: 'failed', id, reason: 'could not start: no program' });
    return;
  }
  const fds: number[] = [];
  let child;
  try {
    mkdirSync(request.logDir, { recursive: true });
    for (const stale of request.staleFiles) rmSync(stale, { force: true });
    fds.push(openSync(request.stdoutFile, 'w'), openSync(request.stderrFile, 'w'));
    child = spawn(program, args, {
      cwd: request.cwd,
      env: request.env,
      detached: true, // its own process group, which cancel signals as a whole
      stdio: ['ignore', ...fds],
    });
  } catch (err) {
    send({ kind: 'failed', id, reason: `could not start: ${err instanceof Error ? err.message : String(err)}` });
    return;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  // Read now: the process cannot be reaped (and its pid reused) before this tick ends.
  const pid = child.pid;
  const started = (pid === undefined ? null : readProcessStat(pid, bootId))?.startTime ?? '';
  child.once('spawn', () => send({ kind: 'spawned', id, pid: pid ?? -1, startTime: started }));
  child.once('error', (err) => send({ kind: 'failed', id, reason: `could not start: ${err.message}` }));
  child.once('exit', (code, signal) => send({ kind: 'exited', id, code, signal }));
}

process.on('message', (message: ToLauncherMessage) => {
  if (message.kind === 'launch') launch(message);
});
// The core is gone (or closed the channel): its jobs run on, detached, for the next core to adopt.
process.on('disconnect', () => process.exit(0));
