import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { useApp } from './support/app';
import { importFolder } from './support/datasets';
import { shot } from './support/shots';

const IRIS = path.resolve(import.meta.dirname, '../test-fixtures/data/iris.csv');

/** The Evaluations page (src/renderer/evalkit/EvaluationsPage.tsx). */
class EvaluationsPage {
  constructor(readonly page: Page) {}

  field(name: string): Locator {
    return this.page.getByTestId('new-evaluation').locator(`input[name="${name}"]`);
  }

  get state(): Locator {
    return this.page.getByTestId('evaluation-state');
  }

  metric(name: string): Locator {
    return this.page.getByTestId('evaluation-metrics').locator(`[data-metric="${name}"]`);
  }
}

describe('Evaluations page', () => {
  const app = useApp();

  test("starts an evaluation from a model version's Evaluate action and shows its metrics, matrix and slices", async () => {
    const { server, page } = await app.start();
    await importFolder(server, 'iris', IRIS);
    const job = await server.api.call('trainingJobs.submit', {
      kind: 'builtin',
      datasets: [{ dataset: 'iris' }],
      trainer: { kind: 'tabular-classifier', target: 'species', epochs: 30, learningRate: 0.02 },
      registerModel: 'iris',
    });
    await expect
      .poll(async () => (await server.api.call('trainingJobs.get', { job: job.id })).state, { timeout: 120_000 })
      .toBe('succeeded');

    const shell = new AppShell(page, server.url);
    const evaluations = new EvaluationsPage(page);
    await shell.openWithToken('/models/iris?v=1', server.token);
    await shell.waitForLiveEvents();
    await page.getByRole('link', { name: 'Evaluate' }).click();

    // The form comes prefilled with the version.
    expect(await evaluations.field('model').inputValue()).toBe('iris');
    expect(await evaluations.field('version').inputValue()).toBe('1');
    await evaluations.field('dataset').fill('iris');
    await evaluations.field('target').fill('species');
    await evaluations.field('slice').fill('species');
    await page.getByTestId('new-evaluation').getByRole('button', { name: 'Evaluate' }).click();

    await expect.poll(() => evaluations.state.textContent(), { timeout: 60_000 }).toBe('succeeded');
    const [evaluation] = (await server.api.call('evaluations.list', { model: 'iris' })).items;
    const accuracy = evaluation?.metrics.accuracy as number;
    expect(accuracy).toBeGreaterThan(0.8);
    expect(await evaluations.metric('accuracy').locator('[data-value]').textContent()).toBe(
      String(Number(accuracy.toPrecision(4))),
    );
    expect(await evaluations.metric('accuracy').textContent()).toMatch(/… [\d.]+ \(95%\)$/);
    const matrix = page.getByTestId('confusion-matrix');
    expect(await matrix.locator('tbody tr').count()).toBe(3);
    expect(await matrix.locator('thead').textContent()).toContain('versicolor');
    expect(await page.getByTestId('calibration-curve').locator('circle').count()).toBeGreaterThan(0);
    // Slices by species: each class's 50 rows.
    expect(await page.getByTestId('evaluation-slices').locator('tbody tr').allTextContents()).toEqual([
      expect.stringMatching(/^setosa50/),
      expect.stringMatching(/^versicolor50/),
      expect.stringMatching(/^virginica50/),
    ]);
    expect(await page.getByTestId('evaluations-list').locator('tbody tr').first().textContent()).toMatch(
      /^iris v1iris v1speciessucceededaccuracy/,
    );
    await shot(page, 'evaluation');

    // A load benchmark of a deployment of the version, started from the same page.
    await server.api.call('deployments.create', { name: 'iris', model: 'iris', version: 1 });
    const benchmarks = page.getByTestId('benchmarks');
    await benchmarks.locator('input[name="deployment"]').fill('iris');
    await benchmarks.locator('input[name="concurrency"]').fill('2');
    await benchmarks.locator('input[name="durationSeconds"]').fill('1');
    await benchmarks.getByRole('button', { name: 'Run benchmark' }).click();
    const row = page.getByTestId('benchmarks-list').locator('tbody tr').first();
    await expect.poll(() => row.locator('[data-state]').textContent(), { timeout: 30_000 }).toBe('succeeded');
    expect(await row.textContent()).toMatch(
      /^irisiris v12 × 1 ssucceeded[\d.]+ req\/s[\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms0/,
    );

    // The version's gates on the model page: a gate it fails.
    await shell.open('/models/iris?v=1');
    const gates = page.getByTestId('gates');
    await gates.getByLabel('Threshold').fill('0.999');
    await gates.getByRole('button', { name: 'Set gate' }).click();
    await expect
      .poll(() => gates.locator('[data-gate="accuracy"]').textContent())
      .toMatch(/^v1 not passedchampion: accuracy >= 0\.999latest evaluation: 0\.\d+Remove$/);
    await shot(page, 'evaluation-gates');
  });
});
