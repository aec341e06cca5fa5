import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { ModelsPage } from './pages/models';
import { TrainingJobQueue } from './pages/training-jobs';
import { BuiltinJobDetail } from './pages/trainos-builtin';
import { useApp } from './support/app';
import { importFolder } from './support/datasets';
import { shot } from './support/shots';

const IRIS = path.resolve(import.meta.dirname, '../test-fixtures/data/iris.csv');
const TABULAR = 'Tabular classifier (built-in MLP)';

async function shotsInBothThemes(page: Page, shell: AppShell, name: string): Promise<void> {
  await shot(page, `${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(() => shell.htmlClasses()).toContain('dark');
  await shot(page, `${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(() => shell.htmlClasses()).not.toContain('dark');
}

describe('built-in training jobs', () => {
  const app = useApp();

  test('trains a classifier on a dataset from its page: metrics per epoch, a checkpoint per epoch, the model registered', async () => {
    const { server, page } = await app.start();
    // One file, imported the way a script would: dataset "iris", version 1.
    await importFolder(server, 'iris', IRIS);
    const shell = new AppShell(page, server.url);
    const form = new TrainingJobQueue(page).form;
    const detail = new BuiltinJobDetail(page);

    await shell.openWithToken('/datasets/iris', server.token);
    await shell.waitForLiveEvents();
    await page.getByRole('button', { name: 'Train a model…' }).click();
    await form.root.waitFor();
    expect(await form.mode()).toBe('From a template');
    await form.chooseTemplate(TABULAR);
    // The dataset version of the page stays chosen when another template is picked.
    expect(await form.root.locator('#tj-dataset-TRAIN').inputValue()).toBe('iris');
    await expect.poll(() => form.chosenVersion('TRAIN')).toMatch(/^v1 \(latest\)/);
    // A built-in trainer runs in the app, on the CPU: nothing of a script's (command, working dir), and no GPUs.
    expect(await form.root.getByLabel('Command').count()).toBe(0);
    expect(await form.root.getByLabel('Working dir').count()).toBe(0);
    expect(await form.root.getByLabel('GPUs').count()).toBe(0);
    expect(await form.root.getByLabel('RAM (MiB)').inputValue()).toBe('1024');

    // No target: the server's 400 names the parameter, and the form shows it under that field.
    await form.param('epochs').fill('3');
    await form.submit();
    expect(await form.fieldError('tj-param-target').textContent()).toMatch(/required/);
    await shotsInBothThemes(page, shell, 'builtin-job-form-error');

    // Typed, the target no longer shows the complaint about it.
    await form.param('target').fill('species');
    expect(await form.fieldError('tj-param-target').count()).toBe(0);
    await shotsInBothThemes(page, shell, 'builtin-job-form');
    await form.root.getByLabel('RAM (MiB)').scrollIntoViewIfNeeded();
    await shot(page, 'builtin-job-form-end-light');
    await form.submit();
    await form.root.waitFor({ state: 'hidden' });

    // The job's page, once submitted: it says which trainer runs, on what, and which model it registers.
    await detail.root.waitFor();
    expect(new URL(page.url()).pathname).toBe('/training/jobs');
    const jobId = (await detail.root.getAttribute('data-job-id')) ?? '';
    expect(jobId).not.toBe('');
    const trainer = (await detail.trainer.textContent()) ?? '';
    expect(trainer).toMatch(/^tabular-classifier .*\btarget=species .*\bepochs=3 /);
    // Only the settings a tabular trainer reads: not the defaults of the image and text trainers' own.
    expect(trainer).not.toMatch(/embeddingDim|convFilters|textColumn/);
    expect(await detail.root.getByTestId('training-job-datasets').textContent()).toMatch(/^iris v1/);
    expect(await detail.registersLink.textContent()).toBe('iris-tabular-classifier');
    // Nothing of a script's: no command, working dir, environment or exit code.
    const spec = detail.root.getByTestId('training-job-spec');
    for (const fact of ['Command', 'Working dir', 'Environment', 'Parameters']) {
      expect(await spec.getByText(fact, { exact: true }).count()).toBe(0);
    }
    expect(await detail.root.getByTestId('training-job-exit').count()).toBe(0);
    await shot(page, 'builtin-job-early-light');
    await expect.poll(() => detail.state(), { timeout: 60_000 }).toBe('succeeded');

    // Its metrics, charted per epoch; a checkpoint after each epoch; the log says what was registered.
    const loss = detail.chart('loss');
    await loss.locator('[data-testid="plot"] canvas').first().waitFor();
    await expect.poll(() => loss.getByText('3 points', { exact: true }).count()).toBe(1);
    await detail.chart('val_accuracy').waitFor();
    // What it logs once at the end is shown as numbers, not as charts of one point.
    const finals = detail.root.getByTestId('training-job-final-metrics');
    await expect.poll(() => finals.locator('[data-key="best_epoch"] dd').textContent()).toMatch(/^[123]$/);
    expect(await detail.chart('best_epoch').count()).toBe(0);
    await expect.poll(() => detail.checkpointSteps()).toEqual(['3', '2', '1']);
    await expect
      .poll(() => detail.logTexts())
      .toContainEqual(expect.stringMatching(/registered model 'iris-tabular-classifier' version 1/));
    await shotsInBothThemes(page, shell, 'builtin-job');

    // The Registers fact leads to the registered model, with the job's export as its version 1.
    await detail.registersLink.click();
    const models = new ModelsPage(page);
    await page.locator('[data-testid="model-page"][data-name="iris-tabular-classifier"]').waitFor();
    await models.versionRow(1).waitFor();
    expect(await page.getByTestId('version-row').count()).toBe(1);

    // In the queue, the row says what the job trains, on which version.
    await shell.sidebar.getByRole('link', { name: /^Training jobs/ }).click();
    const queue = new TrainingJobQueue(page);
    const row = queue.row(TABULAR);
    await expect.poll(() => row.getAttribute('data-state')).toBe('succeeded');
    expect(await row.getByTestId('training-job-trains').textContent()).toBe('tabular-classifier on iris v1');
    await shot(page, 'builtin-jobs-light');
  });

  test("clones a built-in job with other trainer settings; a setting left out shows the server's message under it", async () => {
    const { server, page } = await app.start();
    await importFolder(server, 'iris', IRIS);
    const shell = new AppShell(page, server.url);
    const detail = new BuiltinJobDetail(page);
    const form = detail.form;
    const job = await server.api.call('trainingJobs.submit', {
      kind: 'builtin',
      name: 'iris quick',
      trainer: { kind: 'tabular-classifier', target: 'species', epochs: 2, earlyStoppingPatience: 0 },
      datasets: [{ dataset: 'iris' }],
    });

    await shell.openWithToken(`/training/jobs?job=${job.id}`, server.token);
    await shell.waitForLiveEvents();
    await expect.poll(() => detail.state(), { timeout: 60_000 }).toBe('succeeded');
    await detail.root.getByRole('button', { name: 'Clone…' }).click();
    await form.root.waitFor();
    // Its own form: the trainer's settings, not a command.
    expect(await form.root.getByRole('group', { name: 'Start from' }).count()).toBe(0);
    expect(await form.root.getByLabel('Command').count()).toBe(0);
    expect(await form.root.getByTestId('builtin-trainer-kind').textContent()).toMatch(/^tabular-classifier/);
    expect(await detail.trainerField('target').inputValue()).toBe('species');
    expect(await detail.trainerField('epochs').inputValue()).toBe('2');
    expect(await detail.trainerField('learningRate').inputValue()).toBe('0.001');
    expect(await detail.trainerField('batchSize').inputValue()).toBe('32');
    expect(await detail.trainerField('embeddingDim').count()).toBe(0);
    expect(await form.root.locator('#tj-dataset-TRAIN').inputValue()).toBe('iris');
    await expect.poll(() => form.chosenVersion('TRAIN')).toMatch(/^v1 \(latest\)/);
    expect(await form.root.getByLabel('Registers model').inputValue()).toBe('iris-tabular-classifier');

    // No target: the trainer's check names it, and the form shows it under the field.
    await detail.trainerField('target').fill('');
    await form.submit();
    expect(await form.fieldError('tj-trainer-target').textContent()).toMatch(/target .*is required/);
    await shotsInBothThemes(page, shell, 'builtin-clone-form-error');

    await detail.trainerField('target').fill('species');
    await detail.trainerField('epochs').fill('3');
    await detail.trainerField('learningRate').fill('0.01');
    await detail.trainerField('batchSize').fill('16');
    await form.root.getByLabel('Registers model').fill('iris-small');
    await form.root.getByLabel('Name', { exact: true }).fill('iris again');
    await form.submit();
    await expect.poll(() => detail.root.getAttribute('data-job-id')).not.toBe(job.id);
    await expect.poll(() => detail.state(), { timeout: 60_000 }).toBe('succeeded');
    expect(await detail.root.locator('h1').textContent()).toMatch(/^iris again/);
    const trainer = (await detail.trainer.textContent()) ?? '';
    for (const setting of [
      'target=species',
      'epochs=3',
      'batchSize=16',
      'learningRate=0.01',
      'earlyStoppingPatience=0',
    ]) {
      expect(trainer).toContain(`${setting} `);
    }
    await expect.poll(() => detail.checkpointSteps()).toEqual(['3', '2', '1']);
    expect(await detail.registersLink.textContent()).toBe('iris-small');
    await detail.registersLink.click();
    await page.locator('[data-testid="model-page"][data-name="iris-small"]').waitFor();
    await new ModelsPage(page).versionRow(1).waitFor();
  });
});
