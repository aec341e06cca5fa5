import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { ExperimentsPage } from './pages/experiments';
import { useApp } from './support/app';
import { shot } from './support/shots';
import { inParallel, MlflowClient } from './support/mlflow';
import { pngWithShapes } from './support/png';
import type { TestServer } from './support/server';

const RUNS = 1200;
/** AIDOS_E2E_THEME=dark runs these in the dark theme (for screenshots, see support/shots.ts). */
const THEME = process.env.AIDOS_E2E_THEME === 'dark' ? 'dark' : 'light';
const BASE_TIME = 1_750_000_000_000;

const runName = (i: number) => `run-${String(i).padStart(4, '0')}`;

/**
 * A sweep of 1,200 finished runs (run-0000 oldest): lr cycles through 10 values, batch through 2, opt is always
 * adam, acc = i / 1200 (so 119 runs have acc > 0.9); run-0000 and run-0001 carry 3,000 steps of loss each, with a
 * NaN in run-0001. A second, empty experiment sits beside it.
 */
async function seedSweep(server: TestServer): Promise<{ sweep: string; ids: string[] }> {
  const mlflow = new MlflowClient(server.url, server.token);
  const sweep = await mlflow.createExperiment('sweep');
  await mlflow.createExperiment('baseline');
  const ids: string[] = new Array<string>(RUNS);
  await inParallel(RUNS, 8, async (i) => {
    const id = await mlflow.createRun(sweep, runName(i), BASE_TIME + i * 1000);
    ids[i] = id;
    const long = i < 2;
    await mlflow.logBatch(id, {
      params: { lr: String((1 + (i % 10)) / 1000), batch: String(i % 2 === 0 ? 32 : 64), opt: 'adam' },
      metrics: [
        { key: 'acc', value: i / RUNS, step: 0 },
        ...Array.from({ length: long ? 3000 : 1 }, (_, step) => ({
          key: 'loss',
          value: i === 1 && step === 1500 ? ('NaN' as const) : 2 * Math.exp(-step / 800) + (step % 7) / 100 + i / 1e4,
          step,
        })),
      ],
    });
    await mlflow.finish(id, BASE_TIME + i * 1000 + 60_000);
  });
  return { sweep, ids };
}

describe('experiments', () => {
  const app = useApp();

  test('the runs of a 1,200-run sweep filter, sort, take a param column, scroll to the end and compare', async () => {
    const { server, page } = await app.start({ colorScheme: THEME });
    const shell = new AppShell(page, server.url);
    const ui = new ExperimentsPage(page);
    await seedSweep(server);

    await shell.openWithToken('/', server.token);
    await ui.navLink.click();
    await ui.experimentRow('baseline').waitFor();
    await ui.openExperiment('sweep');
    // The first page is in; the newest run is on top.
    await ui.row(runName(RUNS - 1)).waitFor();
    expect(await ui.loaded()).toBe(500);
    expect((await ui.names()).slice(0, 2)).toEqual([runName(RUNS - 1), runName(RUNS - 2)]);
    // The virtualised table draws only what is near the view.
    expect(await ui.rows.count()).toBeLessThan(80);
    await shot(page, `runs-table-${THEME}`);

    // A filter in MLflow's language, applied on the server.
    await ui.filter('metrics.acc > 0.9');
    await ui.waitForAll(119);
    expect(new URL(page.url()).searchParams.get('filter')).toBe('metrics.acc > 0.9');
    const accs = await page
      .locator('[data-testid="run-row"] [data-column="metric:acc"]')
      .evaluateAll((els) => els.map((e) => Number(e.textContent)));
    expect(accs.length).toBeGreaterThan(5);
    expect(accs.every((a) => a > 0.9)).toBe(true);

    // A bad filter: the server's message, inline.
    await ui.filter('metrics.acc >> 1');
    await ui.filterError.waitFor();
    expect(await ui.filterError.textContent()).toMatch(/Invalid comparator/);
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await ui.filterError.waitFor({ state: 'hidden' });

    // Sorting by a metric column, on the server: highest first, then lowest first.
    await ui.sortBy('metric acc');
    await page.waitForURL((url) => url.searchParams.get('sort') === 'metrics.acc DESC');
    await ui.header('metric:acc').and(page.locator('[aria-sort="descending"]')).waitFor();
    await expect.poll(async () => (await ui.names())[0]).toBe(runName(RUNS - 1));
    await ui.sortBy('metric acc');
    await expect.poll(async () => (await ui.names())[0]).toBe(runName(0));
    expect(await ui.header('metric:acc').getAttribute('aria-sort')).toBe('ascending');

    // A param column from the chooser; the choice outlives a reload.
    await ui.chooseColumn('Params', 'lr');
    await ui.header('param:lr').waitFor();
    expect(await ui.cell(runName(0), 'param:lr').textContent()).toBe('0.001');
    await page.reload();
    await ui.header('param:lr').waitFor();
    await expect.poll(async () => (await ui.names())[0]).toBe(runName(0));

    // Scroll to the end: pages load as the scroll nears them, and the last runs are drawn.
    await ui.scrollToEnd(RUNS);
    await ui.row(runName(RUNS - 1)).waitFor();
    expect(await ui.row(runName(RUNS - 1)).getAttribute('data-index')).toBe(String(RUNS - 1));
    expect(await ui.rows.count()).toBeLessThan(80);

    // Select the two runs with long loss series and compare them.
    await ui.filter("attributes.run_name LIKE 'run-000%'");
    await ui.waitForAll(10);
    await ui.select(runName(0));
    await ui.select(runName(1));
    await page.getByRole('button', { name: 'Compare 2 runs' }).click();
    await page.getByTestId('compare-page').waitFor();
    expect(await ui.paramRow('lr').getAttribute('data-differs')).toBe('true');
    expect(await ui.paramRow('batch').getAttribute('data-differs')).toBe('true');
    expect(await ui.paramRow('opt').getAttribute('data-differs')).toBe('false');
    const loss = ui.chart('loss');
    await loss.locator('[data-testid="plot"][data-lines="2"] canvas').first().waitFor();
    expect(await loss.getByText('6,000 points').count()).toBe(1);
    await page.getByTestId('parallel-coordinates').waitFor();
    expect(await page.getByTestId('parallel-coordinates').locator('path').count()).toBe(2);
    await shot(page, `compare-${THEME}`);
    // Seeding 1,200 runs over HTTP takes a good part of the default 90 s on a busy two-core machine.
  }, 180_000);
});

describe('a run', () => {
  const app = useApp();

  test('shows params, inputs, charts and artifacts, and follows a running run live', async () => {
    const { server, page } = await app.start({ colorScheme: THEME });
    const shell = new AppShell(page, server.url);
    const ui = new ExperimentsPage(page);
    const mlflow = new MlflowClient(server.url, server.token);
    const experiment = await mlflow.createExperiment('vision');
    const done = await mlflow.createRun(experiment, 'warmup', Date.now() - 120_000);
    await mlflow.logBatch(done, { params: { lr: '0.1' }, metrics: [{ key: 'acc', value: 0.5, step: 0 }] });
    await mlflow.finish(done, Date.now() - 60_000);
    const run = await mlflow.createRun(experiment, 'resnet-live', Date.now() - 30_000);
    await mlflow.logBatch(run, {
      params: { lr: '0.01', epochs: '20' },
      tags: { team: 'vision' },
      metrics: Array.from({ length: 2000 }, (_, step) => ({
        key: 'loss',
        value: step === 1000 ? ('Infinity' as const) : 1 / (1 + step / 100),
        step,
      })),
    });
    await mlflow.logInput(run, { name: 'digits', source: 'aidos://datasets/digits/versions/3' });
    await mlflow.putArtifact(experiment, run, 'notes.txt', 'Trained on digits v3.\nloss went down nicely\n');
    await mlflow.putArtifact(experiment, run, 'metrics.json', '{"best":{"acc":0.97,"epoch":18}}');
    await mlflow.putArtifact(
      experiment,
      run,
      'plots/curve.png',
      pngWithShapes(64, 48, [{ x: 8, y: 8, width: 20, height: 12, color: [220, 60, 60] }]),
    );

    // A new experiment from the list: it opens on its (empty) runs table.
    await shell.openWithToken('/experiments', server.token);
    await shell.waitForLiveEvents();
    await page.getByRole('button', { name: 'New experiment…' }).click();
    const dialog = page.getByTestId('new-experiment-dialog');
    await dialog.getByLabel('Name').fill('ablation');
    await dialog.getByLabel(/^Tags/).fill('team=vision, owner=ana');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByTestId('runs-page').getByText('No runs yet').waitFor();
    expect((await server.api.call('experiments.list', { filter: "name = 'ablation'" })).items[0]?.tags).toEqual([
      { key: 'team', value: 'vision' },
      { key: 'owner', value: 'ana' },
    ]);
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Experiments' }).click();
    await ui.experimentRow('ablation').waitFor();
    await shot(page, `experiments-${THEME}`);

    // The runs table follows the running run: a metric logged now appears, then its end.
    await ui.openExperiment('vision');
    await ui.row('resnet-live').waitFor();
    await shell.markDocument();
    await ui.chooseColumn('Metrics', 'acc');
    expect(await ui.cell('resnet-live', 'metric:acc').textContent()).toBe('');
    await mlflow.logBatch(run, { metrics: [{ key: 'acc', value: 0.8125, step: 1 }] });
    await expect.poll(() => ui.cell('resnet-live', 'metric:acc').textContent(), { timeout: 10_000 }).toBe('0.8125');
    expect(await shell.documentIsMarked()).toBe(true);

    // The run page: params, tags, the dataset input linked to its dataset.
    await ui.row('resnet-live').getByRole('link', { name: 'resnet-live' }).click();
    await page.locator(`[data-testid="run-page"][data-run-id="${run}"]`).waitFor();
    expect(await page.getByRole('table', { name: 'Params' }).textContent()).toContain('epochs20');
    const input = page.getByTestId('run-inputs').getByRole('link', { name: 'digits v3' });
    expect(await input.getAttribute('href')).toBe('/datasets/digits?v=3');
    // Live on the run page too.
    await mlflow.logBatch(run, { metrics: [{ key: 'acc', value: 0.875, step: 2 }] });
    await page.locator('[data-testid="run-metrics"] [data-metric="acc"]').getByText('0.875').waitFor();
    await shot(page, `run-overview-${THEME}`);

    // Charts: one per metric, downsampled to about the chart's width.
    await ui.tab('Charts');
    const loss = ui.chart('loss');
    await loss.locator('[data-testid="plot"][data-lines="1"] canvas').first().waitFor();
    expect(await loss.getByText('2,000 points').count()).toBe(1);
    await page.getByRole('group', { name: 'X axis' }).getByRole('button', { name: 'Time' }).click();
    await page.getByLabel('Log scale').check();
    await page.getByLabel('Smoothing').fill('0.6');
    await loss.locator('[data-testid="plot"] canvas').first().waitFor();
    await page.getByRole('group', { name: 'X axis' }).getByRole('button', { name: 'Step' }).click();
    await shot(page, `run-charts-${THEME}`);
    // With the "System" theme, the charts redraw in the OS's colours when it changes, without a reload.
    const other = THEME === 'dark' ? 'light' : 'dark';
    await page.emulateMedia({ colorScheme: other });
    await loss.locator(`[data-testid="plot"][data-theme="${other}"] canvas`).first().waitFor();
    await page.emulateMedia({ colorScheme: THEME });
    await loss.locator(`[data-testid="plot"][data-theme="${THEME}"] canvas`).first().waitFor();

    // Artifacts: text shown, JSON pretty-printed, an image inline.
    await ui.tab('Artifacts');
    await ui.artifact('notes.txt').click();
    await page.getByTestId('artifact-text').getByText('loss went down nicely').waitFor();
    await ui.artifact('metrics.json').click();
    // Pretty-printed: the whole file was read and parses.
    await page.getByTestId('artifact-text').getByText('"epoch": 18').waitFor();
    await ui.artifact('plots').click();
    await ui.artifact('plots/curve.png').click();
    const image = page.getByTestId('artifact-image');
    await image.waitFor();
    await expect
      .poll(() => image.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth))
      .toBe(64);
    await shot(page, `run-artifacts-${THEME}`);

    // The run ends: its status changes where it is shown, without a reload.
    await ui.tab('Overview');
    await mlflow.finish(run, Date.now());
    await page.getByTestId('run-page').getByTestId('run-status').first().getByText('finished').waitFor();
    expect(await shell.documentIsMarked()).toBe(true);
  });
});
