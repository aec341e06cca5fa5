import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { TrainingJobDetail, TrainingJobQueue } from './pages/training-jobs';
import { useApp } from './support/app';
import { importFolder } from './support/datasets';
import { shot } from './support/shots';

/** The node binary running this test, quoted for the form's shell-like splitting. */
const NODE = `'${process.execPath}'`;

/**
 * A training script for the template below: lists its dataset's files, logs `loss` for each step to its run,
 * saves a checkpoint after its last step, and, with --fail-first, fails once halfway (after a checkpoint) so that
 * its retry resumes from there.
 */
const STEPS_SCRIPT = `
import { readdirSync, readFileSync } from 'node:fs';
const env = process.env;
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const steps = Number(args.steps);
const auth = { authorization: 'Bearer ' + env.AIDOS_TOKEN };
async function post(url, type, body) {
  const res = await fetch(env.AIDOS_URL + url, { method: 'POST', headers: { ...auth, 'content-type': type }, body });
  if (!res.ok) throw new Error(url + ': ' + res.status + ' ' + (await res.text()));
}
console.log('dataset files: ' + readdirSync(env.AIDOS_DATASET_TRAIN).join(', '));
const first = env.AIDOS_RESUME_STEP === undefined ? 0 : Number(env.AIDOS_RESUME_STEP) + 1;
if (first > 0) console.log('resuming: ' + readFileSync(env.AIDOS_RESUME_CHECKPOINT, 'utf8'));
const end = args['fail-first'] === 'true' && first === 0 ? Math.floor(steps / 2) : steps;
for (let step = first; step < end; step++) {
  const point = { run_id: env.AIDOS_RUN_ID, key: 'loss', value: Number(args.lr) / (step + 1), timestamp: Date.now(), step };
  await post('/api/2.0/mlflow/runs/log-metric', 'application/json', JSON.stringify(point));
  console.log('step ' + step);
  await new Promise((resolve) => setTimeout(resolve, args.pace === 'slow' ? 500 : 150));
}
const last = end - 1;
await post('/api/v1/training/jobs/' + env.AIDOS_JOB_ID + '/checkpoints?step=' + last + '&name=state.bin',
  'application/octet-stream', 'state at step ' + last);
if (end < steps) {
  console.error('failing on purpose after step ' + last);
  process.exit(1);
}
`;

/** Installs a template into the server's data dir, where the core looks for templates besides the shipped ones. */
async function installStepsTemplate(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'templates', 'e2e-steps');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'steps.mjs'), STEPS_SCRIPT);
  const template = {
    id: 'e2e-steps',
    title: 'Steps (e2e)',
    description: 'Logs a loss per step to its run and checkpoints; fails once on request, to be resumed.',
    kind: 'script',
    command: [
      process.execPath,
      'steps.mjs',
      '--steps={steps}',
      '--lr={lr}',
      '--pace={pace}',
      '--fail-first={fail_first}',
    ],
    params: [
      { name: 'steps', type: 'int', default: 4, required: true, help: 'Training steps.' },
      { name: 'lr', type: 'number', default: 0.5, help: 'The loss at step 0.' },
      { name: 'pace', type: 'choice', choices: ['fast', 'slow'], default: 'fast', help: 'Time between steps.' },
      { name: 'fail_first', type: 'boolean', default: false, help: 'Fail once halfway, after a checkpoint.' },
    ],
    datasets: [{ as: 'TRAIN', help: 'Any dataset version: its files are listed in the log.' }],
    resources: { gpus: 0, cpuThreads: 1, ramMb: 256 },
  };
  await writeFile(path.join(dir, 'template.json'), JSON.stringify(template, null, 2));
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
    const form = queue.form;

    await shell.openWithToken('/', server.token);
    await shell.sidebar.getByRole('link', { name: /^Training jobs/ }).click();
    await queue.root.waitFor();
    expect(new URL(page.url()).pathname).toBe('/training/jobs');
    await shell.waitForLiveEvents();

    // A relative working dir: the server's 400 names the field, and the form shows it there.
    await queue.openForm();
    await form.useCommand();
    await form.fillCommand({ name: 'relative', command: `${NODE} -e 1`, workingDir: 'data/run' });
    await form.submit();
    expect(await form.fieldError('tj-working-dir').textContent()).toMatch(/absolute/);
    await shotsInBothThemes(page, shell, 'training-jobs-form-error');

    // Steps a few hundred ms apart, after a pause: they arrive while the job's page is open.
    const script =
      "setTimeout(() => { let i = 0; const t = setInterval(() => { console.log('step ' + i); " +
      "if (++i === 5) { clearInterval(t); console.error('warn'); } }, 300); }, 1500)";
    await form.fillCommand({ name: 'five steps', command: `${NODE} -e "${script}"`, workingDir });
    expect(await form.root.getByTestId('argv-item').allTextContents()).toEqual([process.execPath, '-e', script]);
    await form.submit();
    await form.root.waitFor({ state: 'hidden' });

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

  test('submits a job from a template on a dataset version; its page charts the metric, lists the checkpoints and clones it', async () => {
    const data = await tempDir();
    await writeFile(path.join(data, 'rows.csv'), 'x,y\n1,2\n');
    const { server, page } = await app.start();
    await installStepsTemplate(server.dataDir);
    await importFolder(server, 'tiny', data);
    const shell = new AppShell(page, server.url);
    const queue = new TrainingJobQueue(page);
    const detail = new TrainingJobDetail(page);
    const form = queue.form;

    // From a dataset version's page: the form on a template that reads a dataset, with that version chosen.
    await shell.openWithToken('/datasets/tiny', server.token);
    await page.getByRole('button', { name: 'Train a model…' }).click();
    await form.root.waitFor();
    expect(await form.mode()).toBe('From a template');
    expect(await form.root.locator('#tj-dataset-TRAIN').inputValue()).toBe('tiny');
    await expect.poll(() => form.chosenVersion('TRAIN')).toMatch(/^v1 \(latest\)/);
    await shot(page, 'dataset-train-a-model-light');
    await form.root.getByRole('button', { name: 'Cancel' }).click();
    await form.root.waitFor({ state: 'hidden' });

    await shell.sidebar.getByRole('link', { name: /^Training jobs/ }).click();
    await queue.root.waitFor();
    await shell.waitForLiveEvents();
    await queue.openForm();
    expect(await form.mode()).toBe('From a template');
    await form.chooseTemplate('Steps (e2e)');
    await form.chooseDataset('TRAIN', 'tiny');
    expect(await form.chosenVersion('TRAIN')).toMatch(/^v1 \(latest\)/);
    // One typed field per parameter, with the template's defaults; the template's resources.
    expect(await form.param('steps').inputValue()).toBe('4');
    expect(await form.param('steps').getAttribute('type')).toBe('number');
    expect(await form.param('pace').inputValue()).toBe('fast');
    expect(await form.param('fail_first').isChecked()).toBe(false);
    expect(await form.root.getByLabel('RAM (MiB)').inputValue()).toBe('256');

    // A fraction for a whole-number parameter: the server's 400 shows under that parameter.
    await form.param('steps').fill('2.5');
    await form.submit();
    expect(await form.fieldError('tj-param-steps').textContent()).toMatch(/whole number/);
    await shotsInBothThemes(page, shell, 'training-job-template-form');

    // Failing once halfway, with a retry: the second attempt resumes from the first one's checkpoint.
    await form.param('steps').fill('4');
    await form.param('fail_first').check();
    await form.root.getByLabel('Retries', { exact: true }).fill('1');
    // Only the newest checkpoint kept: the one at step 1 goes once the resumed attempt saves step 3.
    await form.root.getByLabel('Keep checkpoints', { exact: true }).fill('1');
    await form.root.getByLabel('Name', { exact: true }).fill('steps from a template');
    await form.submit();
    await form.root.waitFor({ state: 'hidden' });
    await queue.row('steps from a template').getByRole('link', { name: 'steps from a template' }).click();
    await detail.root.waitFor();
    const jobId = (await detail.root.getAttribute('data-job-id')) ?? '';
    await expect.poll(() => detail.state(), { timeout: 30_000 }).toBe('succeeded');
    expect(await detail.root.getByTestId('training-job-attempt').textContent()).toBe('2');
    expect(await detail.root.getByTestId('training-job-resumed').textContent()).toMatch(
      /resumed from the checkpoint at step 1$/,
    );
    expect(await detail.root.getByTestId('training-job-command').textContent()).toContain(
      'steps.mjs --steps=4 --lr=0.5 --pace=fast --fail-first=true',
    );
    expect(await detail.root.getByTestId('training-job-datasets').textContent()).toBe('tiny v1 as AIDOS_DATASET_TRAIN');
    await expect.poll(() => detail.logTexts()).toContain('resuming: state at step 1');
    expect(await detail.logTexts()).toContain('dataset files: rows.csv');

    // The chart has every step once: the resumed attempt logged the steps after its checkpoint's.
    const loss = detail.chart('loss');
    await loss.locator('[data-testid="plot"] canvas').first().waitFor();
    await expect.poll(() => loss.getByText('4 points', { exact: true }).count()).toBe(1);
    // Newest first, each to download; the job keeps one.
    await expect.poll(() => detail.checkpointSteps()).toEqual(['3']);
    expect(await detail.root.getByText('the newest 1', { exact: true }).count()).toBe(1);
    const download = detail.checkpoint(3).getByRole('link', { name: 'Download' });
    expect(await download.getAttribute('download')).toBe('state.bin');
    expect(await detail.download(download)).toEqual({ status: 200, text: 'state at step 3' });
    await shotsInBothThemes(page, shell, 'training-job-template');

    // A clone: the command form filled in with the job's spec, its dataset version kept; submitted, its page.
    await detail.root.getByRole('button', { name: 'Clone…' }).click();
    await detail.form.root.waitFor();
    expect(await detail.form.mode()).toBe('Command');
    const command = detail.form.root.getByLabel('Command');
    expect(await command.inputValue()).toContain('--fail-first=true');
    expect(await detail.form.root.getByTestId('carried-datasets').textContent()).toContain('tiny v1 as TRAIN');
    expect(await detail.form.root.getByLabel('Keep checkpoints', { exact: true }).inputValue()).toBe('1');
    await command.fill((await command.inputValue()).replace('--fail-first=true', '--fail-first=false'));
    await detail.form.root.getByLabel('Name', { exact: true }).fill('the clone');
    await shot(page, 'training-job-clone-form-light');
    await detail.form.submit();
    await expect.poll(() => detail.root.getAttribute('data-job-id')).not.toBe(jobId);
    await expect.poll(() => detail.state(), { timeout: 20_000 }).toBe('succeeded');
    expect(await detail.root.getByTestId('training-job-attempt').textContent()).toBe('1');
    await expect.poll(() => detail.checkpointSteps()).toEqual(['3']);
    await expect.poll(() => detail.logTexts()).toContain('dataset files: rows.csv');
  });
});
