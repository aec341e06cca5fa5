import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { AppShell } from './pages/app';
import { SweepDetail, SweepList } from './pages/sweeps';
import { useApp } from './support/app';
import { shot } from './support/shots';

/**
 * A trial for the template below: logs `loss` for each of its steps to its run, falling towards |lr − 0.25|, so that
 * of the grid 0.1, 0.3, 0.5 the trial with lr 0.3 ends best and the one with lr 0.5 worst.
 */
const TRIAL_SCRIPT = `
const [lr, steps] = process.argv.slice(2).map(Number);
const env = process.env;
for (let step = 0; step < steps; step++) {
  const point = { run_id: env.AIDOS_RUN_ID, key: 'loss', value: Math.abs(lr - 0.25) + 0.1 / (step + 1), timestamp: Date.now(), step };
  const res = await fetch(env.AIDOS_URL + '/api/2.0/mlflow/runs/log-metric', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + env.AIDOS_TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify(point),
  });
  if (!res.ok) throw new Error('log-metric: ' + res.status + ' ' + (await res.text()));
}
`;

/** Installs a template into the server's data dir, where the core looks for templates besides the shipped ones. */
async function installTrialTemplate(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'templates', 'e2e-sweep');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'trial.mjs'), TRIAL_SCRIPT);
  const template = {
    id: 'e2e-sweep',
    title: 'Sweep trial (e2e)',
    description: 'Logs a loss per step that is lowest for lr near 0.25.',
    kind: 'script',
    command: [process.execPath, 'trial.mjs', '{lr}', '{steps}'],
    params: [
      { name: 'lr', type: 'number', default: 0.5, help: 'The learning rate.' },
      { name: 'steps', type: 'int', default: 3, required: true, help: 'Steps to log.' },
    ],
    resources: { gpus: 0, cpuThreads: 1, ramMb: 128 },
  };
  await writeFile(path.join(dir, 'template.json'), JSON.stringify(template, null, 2));
}

async function shotsInBothThemes(page: Page, shell: AppShell, name: string): Promise<void> {
  await shot(page, `${name}-light`);
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(() => shell.htmlClasses()).toContain('dark');
  await shot(page, `${name}-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await expect.poll(() => shell.htmlClasses()).not.toContain('dark');
}

describe('sweeps', () => {
  const app = useApp();

  test('starts a grid sweep over a template from the form, follows it live and marks its best trial', async () => {
    const { server, page } = await app.start();
    await installTrialTemplate(server.dataDir);
    const shell = new AppShell(page, server.url);
    const list = new SweepList(page);
    const detail = new SweepDetail(page);
    const form = list.form;

    await shell.openWithToken('/', server.token);
    await shell.sidebar.getByRole('link', { name: /^Sweeps/ }).click();
    await list.root.waitFor();
    expect(new URL(page.url()).pathname).toBe('/training/sweeps');
    await shell.waitForLiveEvents();

    await list.openForm();
    await form.chooseTemplate('Sweep trial (e2e)');
    await form.field('sw-name').fill('lr grid');
    // steps stays fixed at its default; lr is searched over a range given the wrong way round.
    expect(await form.field('sw-param-steps-value').inputValue()).toBe('3');
    await form.search('lr');
    await form.searchRange('lr', 'Uniform range', '0.5', '0.1');
    await form.field('sw-algorithm').selectOption('grid');
    await form.field('sw-grid-points').fill('3');
    await form.field('sw-parallel').fill('2');
    await form.field('sw-keep-checkpoints').fill('1');
    await form.submit();
    expect(await form.fieldError('sw-param-lr-max').textContent()).toBe('min must be below max');
    await shotsInBothThemes(page, shell, 'sweep-form-error');

    await form.searchRange('lr', 'Uniform range', '0.1', '0.5');
    await form.submit();
    await form.root.waitFor({ state: 'hidden' });
    await detail.root.waitFor();
    expect(new URL(page.url()).searchParams.get('sweep')).toBe(await detail.root.getAttribute('data-sweep-id'));
    expect(await detail.root.getByTestId('sweep-algorithm').textContent()).toBe('Grid');
    expect(await detail.root.getByTestId('sweep-objective').textContent()).toBe('minimize loss');
    expect(await detail.root.getByTestId('sweep-early-stopping').textContent()).toBe('none');

    // The page follows the sweep to its end without a reload: three trials, two at a time.
    await shell.markDocument();
    await expect.poll(() => detail.state(), { timeout: 45_000 }).toBe('succeeded');
    expect(await shell.documentIsMarked()).toBe(true);
    expect(await detail.root.getByRole('button', { name: 'Cancel sweep' }).count()).toBe(0);
    expect(await detail.rowNumbers()).toEqual([1, 2, 3]);
    expect(await detail.lines.count()).toBe(3);
    // Each trial keeps the newest checkpoint only, as the form asked.
    const jobs = (await (
      await fetch(`${server.url}/api/v1/training/jobs`, { headers: { authorization: `Bearer ${server.token}` } })
    ).json()) as { items: { spec: { keepCheckpoints?: number } }[] };
    expect(jobs.items.map((j) => j.spec.keepCheckpoints)).toEqual([1, 1, 1]);
    expect(await detail.chart.getByTestId('trial-count').textContent()).toBe('3 trials');
    expect(await detail.rows.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state')))).toEqual([
      'completed',
      'completed',
      'completed',
    ]);

    // The best trial is the one with lr 0.3, its loss at the last step 0.05 + 0.1/3.
    expect(await detail.bestRow.count()).toBe(1);
    expect(await detail.bestRow.getAttribute('data-number')).toBe('2');
    expect(await detail.paramCell(detail.bestRow, 'lr').textContent()).toBe('0.3');
    expect(await detail.bestRow.getByTestId('trial-value').textContent()).toBe('0.08333 at step 2');
    expect(await detail.root.getByTestId('sweep-best-summary').textContent()).toContain('lr = 0.3');

    // Sorted by the objective, best first: 0.3, then 0.1, then 0.5.
    await detail.sortBy('loss');
    expect(await detail.rowNumbers()).toEqual([2, 1, 3]);

    // A line picked in the chart selects its row; a row picked in the table highlights its line.
    await detail.clickLine(3);
    expect(await detail.row(3).getAttribute('aria-selected')).toBe('true');
    await detail.row(1).click();
    expect(await detail.row(1).getAttribute('aria-selected')).toBe('true');
    expect(await detail.row(3).getAttribute('aria-selected')).toBe('false');
    await page.mouse.move(0, 0);
    expect(await detail.chart.getByTestId('focused-line').count()).toBe(1);

    // Each trial links to its job and its run, and the sweep to its parent run.
    const runLinks = detail.bestRow.locator('a[href^="/experiments/runs/"]');
    expect(await runLinks.count()).toBe(1);
    expect(await detail.bestRow.locator('a[href^="/training/jobs?job="]').count()).toBe(1);
    expect(await detail.root.getByTestId('sweep-run').getAttribute('href')).toMatch(/^\/experiments\/runs\/\w+$/);
    await shotsInBothThemes(page, shell, 'sweep');

    await page.getByRole('link', { name: '← Sweeps' }).click();
    const row = list.row('lr grid');
    await expect.poll(() => row.getAttribute('data-state')).toBe('succeeded');
    expect(await row.getByTestId('sweep-progress').textContent()).toMatch(/^3 \/ 3 ended/);
    expect(await row.getByTestId('sweep-best').textContent()).toBe('0.08333 #2');
    await shotsInBothThemes(page, shell, 'sweeps');
  });
});
