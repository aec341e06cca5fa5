import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DashboardPage } from './pages/dashboard';
import { JobsPage } from './pages/jobs';
import { useApp } from './support/app';

const SLEEP_JOB = { type: 'system.sleep', payload: { ms: 3000, steps: 10 } };

describe('live job updates', () => {
  const app = useApp();

  test('a job enqueued through the REST API shows up running with progress, then succeeded, without a reload', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const dashboard = new DashboardPage(page);
    const jobs = new JobsPage(page);

    await shell.openWithToken('/', server.token);
    await dashboard.root.waitFor();
    await shell.waitForLiveEvents();
    await shell.markDocument();

    // On the dashboard: the running job with a moving progress bar, then its events.
    const first = await server.api.call('jobs.enqueue', SLEEP_JOB);
    await dashboard.runningJob(first.id).waitFor();
    await expect.poll(() => dashboard.runningProgress(first.id), { timeout: 5_000 }).toBeGreaterThan(0);
    const short = first.id.slice(-8).toLowerCase();
    await dashboard.event('job.succeeded', short).waitFor({ timeout: 10_000 });
    await dashboard.runningJob(first.id).waitFor({ state: 'detached' });
    const names = await dashboard.eventNames();
    // Newest first: the success comes before the start of the same job.
    expect(names.indexOf('job.succeeded')).toBeLessThan(names.indexOf('job.started'));

    // On the jobs page: a second job appears, runs with progress and succeeds.
    await shell.navigate('Background tasks');
    await jobs.heading.waitFor();
    await jobs.waitForStatus(first.id, 'succeeded');
    expect(await jobs.progressText(first.id)).toBe('100%');

    const second = await server.api.call('jobs.enqueue', SLEEP_JOB);
    await jobs.waitForStatus(second.id, 'running');
    await expect
      .poll(async () => Number.parseInt((await jobs.progressText(second.id)) ?? '0', 10), { timeout: 5_000 })
      .toBeGreaterThan(0);
    await jobs.waitForStatus(second.id, 'succeeded');
    expect(await jobs.row(second.id).textContent()).toMatch(/\b1 \/ \d+/); // attempts: the first

    expect(await shell.documentIsMarked()).toBe(true);
  });

  test('cancelling a running job from the jobs table marks it cancelled', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const jobs = new JobsPage(page);

    const job = await server.api.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 60_000, steps: 60 } });
    await shell.openWithToken('/', server.token);
    await shell.navigate('Background tasks');
    await jobs.waitForStatus(job.id, 'running');
    await jobs.row(job.id).getByRole('button', { name: 'Cancel' }).click();
    await jobs.waitForStatus(job.id, 'cancelled');
    expect((await server.api.call('jobs.get', { id: job.id })).status).toBe('cancelled');
  });
});
