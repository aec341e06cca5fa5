import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints } from '#shared/contracts/index';
import { AppShell } from './pages/app';
import { ModelsPage } from './pages/models';
import { useApp } from './support/app';
import { shot } from './support/shots';
import { MlflowClient } from './support/mlflow';

const MODELS = path.resolve(import.meta.dirname, '../test-fixtures/models');

describe('models', () => {
  const app = useApp();

  for (const theme of ['light', 'dark'] as const) {
    test(`moving the champion alias in the UI is kept in the timeline with who moved it (${theme})`, async () => {
      const { server, page } = await app.start({ colorScheme: theme });
      const shell = new AppShell(page, server.url);
      const models = new ModelsPage(page);

      // A training run that used a dataset and logged an ONNX model; two versions of it, registered by a CI key.
      const mlflow = new MlflowClient(server.url, server.token);
      const experiment = await mlflow.createExperiment('digits');
      const run = await mlflow.createRun(experiment, 'mlp-train', Date.now() - 60_000);
      await mlflow.logInput(run, { name: 'digits', source: 'aidos://datasets/digits/versions/1' });
      await mlflow.putArtifact(
        experiment,
        run,
        'model/model.onnx',
        await readFile(path.join(MODELS, 'digits_mlp.onnx')),
      );
      await mlflow.finish(run, Date.now());
      const { secret } = await server.api.call('keys.create', { name: 'ci', scopes: ['read', 'write'] });
      const ci = new ApiClient(apiEndpoints, { baseUrl: server.url, token: secret });
      await ci.call('models.create', { name: 'digits', description: 'An MLP on 8x8 digits' });
      await ci.call('models.createVersion', {
        name: 'digits',
        runId: run,
        artifactPath: 'model',
        description: 'first try',
        aliases: ['champion'],
      });
      await ci.call('models.createVersion', {
        name: 'digits',
        runId: run,
        artifactPath: 'model',
        description: 'tuned',
      });

      await shell.openWithToken('/', server.token);
      await models.navLink.click();
      await models.row('digits').waitFor();
      expect(await models.row('digits').getByTestId('model-latest').textContent()).toContain('v2');
      expect(await models.row('digits').locator('[data-alias="champion"]').textContent()).toContain('v1');
      await models.openModel('digits');

      // The chosen version: its signature as a table, and its lineage back to the dataset.
      await models.selectVersion(1);
      const input = page.locator('[data-testid="signature-row"][data-direction="input"]');
      expect(await input.first().textContent()).toContain('float32');
      expect(await page.locator('[data-testid="signature-row"][data-direction="output"]').count()).toBeGreaterThan(0);
      const lineage = page.getByTestId('lineage');
      await lineage.getByRole('link', { name: 'digits v1' }).waitFor();
      expect(await lineage.getByRole('link', { name: 'mlp-train' }).getAttribute('href')).toBe(
        `/experiments/runs/${run}`,
      );

      // Move champion from v1 to v2.
      await models.aliasChip('champion', 1).waitFor();
      await models.moveAlias('champion', 2);
      await models.aliasChip('champion', 2).waitFor();
      await models.versionRow(2).locator('[data-alias="champion"]').waitFor();
      expect(await models.versionRow(1).locator('[data-alias="champion"]').count()).toBe(0);
      // Newest first: our move, by whoever runs the core (the local token), then the CI key's.
      const newest = models.moves.first();
      await page.locator('[data-testid="alias-move"][data-alias="champion"][data-version="2"]').waitFor();
      expect(await newest.textContent()).toContain('champion moved v1 → v2');
      expect(await newest.getByTestId('alias-move-actor').textContent()).toBe(os.userInfo().username);
      expect(await models.moves.nth(1).textContent()).toContain('champion set to v1');
      expect(await models.moves.nth(1).getByTestId('alias-move-actor').textContent()).toBe('key:ci');
      const history = await server.api.call('models.history', { name: 'digits' });
      expect(history.items.map((h) => [h.name, h.version])).toEqual([
        ['champion', 1],
        ['champion', 2],
      ]);

      // Upload a GGUF file as version 3, through the same resumable uploads as datasets.
      await page.getByRole('button', { name: 'Upload a new version…' }).click();
      const dialog = page.getByTestId('upload-version-dialog');
      await dialog.getByLabel('Model file').setInputFiles(path.join(MODELS, 'tiny-llama-memorizer-q8.gguf'));
      await dialog.getByLabel(/^Description/).fill('a tiny llama');
      await dialog.getByLabel(/^Aliases/).fill('challenger');
      await dialog.getByRole('button', { name: 'Upload' }).click();
      await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
      await page.locator('[data-testid="version-details"][data-version="3"]').waitFor();
      expect(await models.versionRow(3).textContent()).toContain('gguf');
      await models.aliasChip('challenger', 3).waitFor();
      expect(await page.locator('[data-testid="signature-row"][data-name="input_ids"]').count()).toBe(1);
      await shot(page, `model-${theme}`);
    });
  }
});
