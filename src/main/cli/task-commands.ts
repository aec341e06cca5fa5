import type { Command } from 'commander';
import type { Job } from '#shared/contracts/jobs';
import { AppError } from '#shared/errors';
import { streamEvents, type Connection } from './connection';
import { formatTime, printTable } from './output';
import { progressBar } from './progress';

interface CliContext {
  conn(): Connection;
  out(value: unknown, human: () => void): void;
  json(): boolean;
}

function taskRow(j: Job) {
  return {
    id: j.id,
    type: j.type,
    status: j.status,
    progress: j.progress === null ? null : `${Math.round(j.progress * 100)}%`,
    attempts: `${j.attempts}/${j.maxAttempts}`,
    created: formatTime(j.createdAt),
    error: j.error?.message ?? null,
  };
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Follows a platform-queue job over the event stream, with a progress bar when `showProgress`, until it ends. */
export async function waitForTask(c: Connection, id: string, showProgress: boolean): Promise<Job> {
  let job = await c.client.call('jobs.get', { id });
  if (FINAL.has(job.status)) return job;
  const bar = showProgress ? progressBar(job.type) : undefined;
  const stream = streamEvents(c, ['job.*'], (event) => {
    const data = event.data as { job: Job };
    if (data.job.id !== id) return false;
    job = data.job;
    bar?.update(job.progress ?? 0, job.progressMessage ?? job.status);
    return FINAL.has(job.status);
  });
  try {
    // The job may have ended between the first read and the subscription.
    await Promise.race([stream.ready, stream.done]);
    const latest = await c.client.call('jobs.get', { id });
    if (FINAL.has(latest.status)) job = latest;
    else await stream.done;
  } finally {
    stream.close();
    bar?.stop();
  }
  return FINAL.has(job.status) ? job : c.client.call('jobs.get', { id });
}

/** `aidos tasks …`: the platform queue's background tasks (imports, profiles, quality checks). */
export function addTaskCommands(program: Command, ctx: CliContext): void {
  const tasks = program
    .command('tasks')
    .description('inspect and control background tasks (the platform queue: imports, profiles, checks)');
  tasks
    .command('list')
    .description('list tasks, newest first')
    .option('--status <status>', 'only tasks in this state (queued, running, succeeded, failed, cancelled)')
    .option('--type <type>', 'only tasks of this type')
    .option('-n, --limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
    .action(async (o: { status?: Job['status']; type?: string; limit: number }) => {
      const page = await ctx.conn().client.call('jobs.list', { status: o.status, type: o.type, limit: o.limit });
      ctx.out(page, () => printTable(page.items.map(taskRow), 'no tasks'));
    });
  tasks
    .command('show <id>')
    .description('show one task')
    .action(async (id: string) => {
      const job = await ctx.conn().client.call('jobs.get', { id });
      ctx.out(job, () => console.log(JSON.stringify(job, null, 2)));
    });
  tasks
    .command('cancel <id>')
    .description('cancel a queued or running task')
    .action(async (id: string) => {
      const job = await ctx.conn().client.call('jobs.cancel', { id });
      ctx.out(job, () =>
        console.log(
          job.status === 'cancelled' ? `cancelled ${id}` : `cancel requested for ${id} (it is ${job.status})`,
        ),
      );
    });
  tasks
    .command('run <type>')
    .description('enqueue a task; with --wait, follow it with a progress bar')
    .option('--payload <json>', 'the task payload as JSON', '{}')
    .option('--priority <n>', 'higher runs first', (v) => Number.parseInt(v, 10), 0)
    .option('-w, --wait', 'wait for the task to finish')
    .action(async (type: string, o: { payload: string; priority: number; wait?: boolean }) => {
      let payload: unknown;
      try {
        payload = JSON.parse(o.payload);
      } catch {
        throw AppError.invalid('--payload', 'is not valid JSON');
      }
      const c = ctx.conn();
      let job = await c.client.call('jobs.enqueue', { type, payload, priority: o.priority });
      if (o.wait) job = await waitForTask(c, job.id, !ctx.json());
      ctx.out(job, () =>
        console.log(`${job.id} ${job.type} ${job.status}${job.error ? `: ${job.error.message}` : ''}`),
      );
      if (job.status === 'failed') process.exitCode = 1;
    });
  tasks
    .command('wait <id>')
    .description('follow a task with a progress bar until it ends')
    .action(async (id: string) => {
      const job = await waitForTask(ctx.conn(), id, !ctx.json());
      ctx.out(job, () => console.log(`${job.id} ${job.status}`));
      if (job.status === 'failed') process.exitCode = 1;
    });
}
