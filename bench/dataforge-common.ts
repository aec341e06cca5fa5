// What the DataForge import benchmarks share: timing an import through the API, and CPU time of child tools.
import { readFileSync } from 'node:fs';
import type { ImportResult } from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import type { TestCore } from '#core/testing';

/** CPU time (user + system) of this process's waited-for children so far, ms (Linux: /proc/self/stat). */
export function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields 3.. of proc(5)
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // cutime + cstime, in USER_HZ (100) ticks
}

/** Jobs that ended, from the bus (no polling); subscribed before the job is enqueued, so none is missed. */
export function jobWatcher(t: TestCore): (id: string) => Promise<Job> {
  const ended = new Map<string, Job>();
  const waiters = new Map<string, (job: Job) => void>();
  t.core.bus.on('job.*', (event) => {
    const job = (event.data as { job?: Job }).job;
    if (!job || !['succeeded', 'failed', 'cancelled'].includes(job.status)) return;
    ended.set(job.id, job);
    waiters.get(job.id)?.(job);
  });
  return (id) => {
    const job = ended.get(id);
    return job ? Promise.resolve(job) : new Promise((resolve) => waiters.set(id, resolve));
  };
}

export interface ImportRun {
  /** From the API call to the job's end, as a client sees it. */
  wallMs: number;
  /** The job's own run time (finishedAt - startedAt, ms resolution). */
  jobMs: number;
  /** CPU time (user + system) of this process, which is also the core's. */
  cpuMs: number;
  result: ImportResult;
}

/** Imports a folder into dataset `bench` through the API and times it. */
export async function importFolder(
  t: TestCore,
  finished: (id: string) => Promise<Job>,
  folder: string,
): Promise<ImportRun> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const queued = await t.client.call('datasets.import', {
    dataset: 'bench',
    path: folder,
    create: true,
    message: 'bench',
  });
  const job = await finished(queued.id);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (job.status !== 'succeeded') throw new Error(`import ${job.status}: ${job.error?.message ?? ''}`);
  return {
    wallMs,
    jobMs: (job.finishedAt ?? 0) - (job.startedAt ?? 0),
    cpuMs: (cpu.user + cpu.system) / 1000,
    result: job.result as ImportResult,
  };
}
