import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { useApp } from './support/app';
import { shot } from './support/shots';

/** The node binary running this test, quoted for the form's shell-like splitting. */
const NODE = `'${process.execPath}'`;

/** The training job queue and its new-job form (src/renderer/trainos/TrainingJobsPage.tsx). */
class TrainingJobQueue {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('training-jobs-page');
  }

  row(name: string): Locator {
    return this.root
      .getByTestId('training-job-row')
      .filter({ has: this.page.getByRole('link', { name, exact: true }) });
  }

  get form(): Locator {
    return this.page.getByTestId('new-training-job-dialog');
  }

  async openForm(): Promise<void> {
    await this.root.getByRole('button', { name: 'New training job' }).click();
    await this.form.waitFor();
  }

  async fill(fields: { name: string; command: string; workingDir: string }): Promise<void> {
    await this.form.getByLabel('Name').fill(fields.name);
    await this.form.getByLabel('Command').fill(fields.command);
    await this.form.getByLabel('Working dir').fill(fields.workingDir);
  }

  async submit(): Promise<void> {
    await this.form.getByRole('button', { name: 'Submit' }).click();
  }
}

/** One training job's page (src/renderer/trainos/TrainingJobPage.tsx). */
class TrainingJobDetail {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('training-job-page');
  }

  async state(): Promise<string | null> {
    return this.root.locator('h1 [data-testid="training-job-state"]').getAttribute('data-state');
  }

  get logLines(): Locator {
    return this.root.getByTestId('job-log-line');
  }

  async logTexts(): Promise<string[]> {
    return this.logLines.locator('span:last-child').allTextContents();
  }
}

async function shotsInBothThemes(page: Page, shell: AppShell, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(() => shell.htmlClasses()).not.toContain('dark');
  await shot(page, `${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(() => shell.htmlClasses()).toContain('dark');
  await shot(page, `${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('training jobs', () => {
  const app = useApp();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-training-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  test('submits a job through the form, shows it in the queue and follows its log live until it succeeds', async () => {
    const workingDir = await tempDir();
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const queue = new TrainingJobQueue(page);
    const detail = new TrainingJobDetail(page);

    await shell.openWithToken('/', server.token);
    await shell.sidebar.getByRole('link', { name: /^Training jobs/ }).click();
    await queue.root.waitFor();
    expect(new URL(page.url()).pathname).toBe('/training/jobs');
    await shell.waitForLiveEvents();

    // A relative working dir: the server's 400 names the field, and the form shows it there.
    await queue.openForm();
    await queue.fill({ name: 'relative', command: `${NODE} -e 1`, workingDir: 'data/run' });
    await queue.submit();
    const workingDirError = queue.form.locator('[data-field="tj-working-dir"] [data-testid="field-error"]');
    expect(await workingDirError.textContent()).toMatch(/absolute/);
    await shotsInBothThemes(page, shell, 'training-jobs-form-error');

    // Steps a few hundred ms apart, after a pause: they arrive while the job's page is open.
    const script =
      "setTimeout(() => { let i = 0; const t = setInterval(() => { console.log('step ' + i); " +
      "if (++i === 5) { clearInterval(t); console.error('warn'); } }, 300); }, 1500)";
    await queue.fill({ name: 'five steps', command: `${NODE} -e "${script}"`, workingDir });
    expect(await queue.form.getByTestId('argv-item').allTextContents()).toEqual([process.execPath, '-e', script]);
    await queue.submit();
    await queue.form.waitFor({ state: 'hidden' });

    const row = queue.row('five steps');
    await row.waitFor();
    expect(await queue.root.getByTestId('training-job-row').first().getAttribute('data-job-id')).toBe(
      await row.getAttribute('data-job-id'),
    );
    await expect.poll(() => row.getAttribute('data-state')).toBe('running');
    expect(await row.getByTestId('training-job-placement').textContent()).toBe('CPU');

    await shell.markDocument();
    await row.getByRole('link', { name: 'five steps' }).click();
    await detail.root.waitFor();
    // The log grows while the page is open, without a reload, in order, each line once.
    await expect.poll(() => detail.state()).toBe('running');
    await expect.poll(() => detail.logLines.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await detail.logLines.count()).toBeLessThan(6);
    await expect.poll(() => detail.state(), { timeout: 15_000 }).toBe('succeeded');
    await expect.poll(() => detail.logTexts()).toEqual(['step 0', 'step 1', 'step 2', 'step 3', 'step 4', 'warn']);
    expect(await detail.logLines.last().getAttribute('data-stream')).toBe('stderr');
    expect(await detail.logLines.first().getAttribute('data-stream')).toBe('stdout');
    expect(await shell.documentIsMarked()).toBe(true);
    expect(await detail.root.getByTestId('training-job-exit').textContent()).toBe('code 0');
    // Its run links to the run's page.
    const runLink = detail.root.getByTestId('training-job-run');
    expect(await runLink.getAttribute('href')).toMatch(/^\/experiments\/runs\/\w+$/);
    await shotsInBothThemes(page, shell, 'training-job');

    // Opened afresh, the stored log reads back the same lines.
    await page.reload();
    await expect.poll(() => detail.logTexts()).toEqual(['step 0', 'step 1', 'step 2', 'step 3', 'step 4', 'warn']);

    await page.getByRole('link', { name: '← Training jobs' }).click();
    await expect.poll(() => queue.row('five steps').getAttribute('data-state')).toBe('succeeded');
    await shotsInBothThemes(page, shell, 'training-jobs');
  });

  test('cancels a running job from its page, then retries it as a new job', async () => {
    const workingDir = await tempDir();
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const detail = new TrainingJobDetail(page);
    const job = await server.api.call('trainingJobs.submit', {
      name: 'sleeper',
      command: [process.execPath, '-e', "console.log('sleeping'); setTimeout(() => {}, 60000)"],
      workingDir,
    });

    await shell.openWithToken(`/training/jobs?job=${job.id}`, server.token);
    await detail.root.waitFor();
    await expect.poll(() => detail.state()).toBe('running');
    await expect.poll(() => detail.logTexts()).toEqual(['sleeping']);
    await detail.root.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => detail.state(), { timeout: 15_000 }).toBe('cancelled');
    expect(await detail.root.getByTestId('training-job-reason').textContent()).toMatch(/cancel/);
    expect(await detail.root.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

    await detail.root.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('job')).not.toBe(job.id);
    const retriedId = new URL(page.url()).searchParams.get('job') ?? '';
    await expect.poll(() => detail.root.getAttribute('data-job-id')).toBe(retriedId);
    await expect.poll(() => detail.state()).toBe('running');
    expect(await detail.root.getByRole('link', { name: job.id.slice(-8).toLowerCase() }).count()).toBe(1);
    await server.api.call('trainingJobs.cancel', { job: retriedId });
    await expect.poll(() => detail.state(), { timeout: 15_000 }).toBe('cancelled');
  });
});
