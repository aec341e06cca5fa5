import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '#shared/errors';

export interface LockInfo {
  pid: number;
  startedAt: number;
  url?: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * One server per data dir. The lock file is created exclusively; a lock left by a process that no longer runs
 * (kill -9, power loss) is taken over. A live owner makes the second start fail with a message, not corruption.
 */
/** Lock files this process holds: a second start in the same process is refused like one from another. */
const heldHere = new Set<string>();

export class DataDirLock {
  private constructor(
    readonly file: string,
    private info: LockInfo,
  ) {}

  static acquire(dataDir: string): DataDirLock {
    const file = path.join(dataDir, 'aidos.lock');
    const info: LockInfo = { pid: process.pid, startedAt: Date.now() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        heldHere.add(file);
        return new DataDirLock(file, info);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = readLock(file);
        // A lock naming our own pid that we do not hold is stale: pids repeat across restarts (containers).
        const ownerRuns = owner !== undefined && (owner.pid === process.pid ? heldHere.has(file) : isAlive(owner.pid));
        if (owner && ownerRuns) {
          throw new AppError(
            'FAILED_PRECONDITION',
            `another AI-DOS server (pid ${owner.pid}${owner.url ? `, ${owner.url}` : ''}) is already using the data dir ${dataDir}; ` +
              `stop it first, or start this one with a different --data-dir (if no such process exists, delete ${file})`,
            { pid: owner.pid, dataDir },
          );
        }
        // The owner is gone: take its lock over.
        unlinkSync(file);
      }
    }
    throw new AppError('FAILED_PRECONDITION', `could not lock the data dir ${dataDir}`);
  }

  /** Records the server's URL so that a second start can say where the first one listens. */
  setUrl(url: string): void {
    this.info = { ...this.info, url };
    const fd = openSync(this.file, 'w', 0o600);
    writeSync(fd, JSON.stringify(this.info));
    closeSync(fd);
  }

  release(): void {
    if (!heldHere.delete(this.file)) return;
    const owner = readLock(this.file);
    if (owner?.pid === process.pid) unlinkSync(this.file);
  }
}
