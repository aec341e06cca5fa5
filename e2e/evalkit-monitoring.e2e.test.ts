import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { useApp } from './support/app';
import { importFolder } from './support/datasets';
import type { TestServer } from './support/server';
import { shot } from './support/shots';

const IRIS = path.resolve(import.meta.dirname, '../test-fixtures/data/iris.csv');

/** The Drift page (src/renderer/evalkit/DriftPage.tsx). */
class DriftPage {
  constructor(readonly page: Page) {}

  get summary(): Locator {
    return this.page.getByTestId('drift-summary');
  }

  feature(name: string): Locator {
    return this.page.getByTestId('drift-feature').filter({ has: this.page.locator(`[data-feature="${name}"]`) });
  }

  async verdict(name: string): Promise<string | null> {
    return this.feature(name).locator('[data-verdict]').getAttribute('data-verdict');
  }

  get alerts(): Locator {
    return this.page.getByTestId('drift-alerts').locator('li');
  }
}

/** Trains the built-in classifier on iris, deploys it and sends it iris with petal_length moved up by 3 cm. */
async function deployShiftedIris(server: TestServer): Promise<void> {
  await importFolder(server, 'iris', IRIS);
  const job = await server.api.call('trainingJobs.submit', {
    kind: 'builtin',
    datasets: [{ dataset: 'iris' }],
    trainer: { kind: 'tabular-classifier', target: 'species', epochs: 2, earlyStoppingPatience: 0 },
    registerModel: 'iris',
  });
  await expect
    .poll(async () => (await server.api.call('trainingJobs.get', { job: job.id })).state, { timeout: 120_000 })
    .toBe('succeeded');
  await server.api.call('deployments.create', {
    name: 'iris',
    model: 'iris',
    version: 1,
    requestLog: { sampleRate: 1, maxChars: 1_000_000 },
  });
  const [header, ...lines] = readFileSync(IRIS, 'utf8').trim().split(/\r?\n/);
  const columns = (header as string).split(',');
  const rows = lines.map((line) => {
    const values = line.split(',');
    return Object.fromEntries(
      columns
        .map((c, i) => [c, Number(values[i])] as const)
        .filter(([c]) => c !== 'species')
        .map(([c, v]) => [c, c === 'petal_length' ? v + 3 : v]),
    );
  });
  for (let i = 0; i < rows.length; i += 50) {
    await server.api.call('deployments.predict', { deployment: 'iris', rows: rows.slice(i, i + 50) });
  }
}

describe('Drift page', () => {
  const app = useApp();

  test('shows a drift report: the shifted feature drifted with its histograms and scores, the others stable, the alert', async () => {
    const { server, page } = await app.start();
    await deployShiftedIris(server);
    await server.api.call('monitors.create', { name: 'iris-drift', deployment: 'iris', alerts: { psi: 0.2 } });

    const shell = new AppShell(page, server.url);
    const drift = new DriftPage(page);
    await shell.openWithToken('/drift', server.token);
    await shell.waitForLiveEvents();
    await page.getByText('No checks yet').waitFor();
    await page.getByRole('button', { name: 'Check now' }).click();

    // The check runs as a job; its events refresh the report, and the alert shows as a notification.
    await drift.summary.waitFor({ timeout: 30_000 });
    expect(await drift.summary.textContent()).toMatch(/1 of 4 features drifted: petal_length\. 150 rows of 3 requests/);
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Drift alert: iris-drift' }).count()).toBe(1);
    expect(await drift.verdict('petal_length')).toBe('drift');
    for (const name of ['sepal_length', 'sepal_width', 'petal_width']) expect(await drift.verdict(name)).toBe('stable');
    expect(Number(await drift.feature('petal_length').locator('[data-score="psi"]').textContent())).toBeGreaterThan(
      0.2,
    );
    expect(await drift.feature('sepal_width').locator('[data-score="psi"]').textContent()).toBe('0.0000');
    // Reference and current bars per bin.
    expect(await drift.feature('petal_length').getByTestId('drift-histogram').locator('rect').count()).toBeGreaterThan(
      4,
    );
    expect(await drift.alerts.count()).toBe(1);
    expect(await drift.alerts.first().textContent()).toMatch(/PSI of 'petal_length' [\d.]+ > 0\.2.*webhook none/);
    await shot(page, 'drift-report');

    // An A/B test of two deployments, read before its planned size: flagged not final.
    await server.api.call('deployments.create', { name: 'iris-b', model: 'iris', version: 1 });
    await server.api.call('abTests.create', {
      name: 'checkout',
      metric: 'conversion',
      arms: [{ deployment: 'iris' }, { deployment: 'iris-b' }],
      plannedPerArm: 1000,
    });
    await server.api.call('abTests.outcomes', {
      test: 'checkout',
      outcomes: [
        ...Array.from({ length: 200 }, (_, i) => ({ arm: 'A', value: i < 40 ? 1 : 0 })),
        ...Array.from({ length: 200 }, (_, i) => ({ arm: 'B', value: i < 60 ? 1 : 0 })),
      ],
    });
    await shell.open('/abtests');
    expect(await page.getByTestId('peeking-warning').textContent()).toMatch(/Not final.*200 of 1000 per arm/);
    expect(await page.getByTestId('ab-p-value').textContent()).toBe('0.0209 (significant)');
    expect(await page.locator('[data-arm="B"]').textContent()).toMatch(/iris-b.*200.*30\.00%/);
    await page.getByTestId('sample-size').getByRole('button', { name: 'Calculate' }).click();
    expect(await page.getByTestId('sample-size-result').textContent()).toMatch(/^3,841 per arm/);
    await shot(page, 'abtests');

    // The forms: a second test and a monitor, made from the pages.
    await page.getByRole('button', { name: 'New test' }).click();
    await page.getByLabel('Name').fill('pricing');
    await page.getByLabel('Arm A (control)').selectOption('iris');
    await page.getByLabel('Arm B').selectOption('iris-b');
    await page.getByLabel('Planned per arm').fill('500');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(async () => page.url()).toContain('test=pricing');
    const pricing = (await server.api.call('abTests.list')).items.find((t) => t.name === 'pricing');
    expect(pricing).toMatchObject({ metric: 'conversion', plannedPerArm: 500 });
    expect(pricing?.arms.map((a) => a.deployment)).toEqual(['iris', 'iris-b']);
    await shell.open('/drift');
    await page.getByRole('button', { name: 'New monitor' }).click();
    await page.getByLabel('Deployment').selectOption('iris-b');
    await page.getByLabel('Alert when a feature’s PSI exceeds').fill('0.3');
    await page.getByLabel('Check every N requests').fill('50');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect
      .poll(async () => (await server.api.call('monitors.list')).items.find((m) => m.deployment === 'iris-b'))
      .toMatchObject({ everyRequests: 50, alerts: { psi: 0.3 }, webhookUrl: null });
  });
});
