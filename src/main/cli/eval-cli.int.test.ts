import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import { fixturePath, importDataset, waitFor } from '#platform/testing';
import type { Evaluation, GateStatus } from '#shared/contracts/evalkit-evaluations';

let t: TestCore;
const aidos = (args: string[]) => runCli(['--data-dir', t.core.dataDir, ...args]);

// Each command is a child process compiling the CLI with tsx: seconds each on a busy 2-core machine.
beforeAll(async () => {
  t = await startTestCore();
  await importDataset(t.client, 'iris', fixturePath('data', 'iris.csv'));
  // TrainOS's built-in trainer registers the model with its preprocessing, as users train one.
  const job = await t.client.call('trainingJobs.submit', {
    kind: 'builtin',
    datasets: [{ dataset: 'iris' }],
    trainer: { kind: 'tabular-classifier', target: 'species', epochs: 30, learningRate: 0.02 },
    registerModel: 'iris',
  });
  const trained = await waitFor(
    async () => {
      const j = await t.client.call('trainingJobs.get', { job: job.id });
      return j.state !== 'queued' && j.state !== 'running' ? j : undefined;
    },
    150_000,
    'the training job',
  );
  expect(trained.state, trained.reason ?? '').toBe('succeeded');
  await t.client.call('models.setAlias', { name: 'iris', alias: 'candidate', version: 1 });
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('aidos eval', { timeout: 180_000 }, () => {
  let id: string;

  it('runs an evaluation of a model by alias, waits for it and prints its metrics, matrix and slices', async () => {
    const r = await aidos([
      'eval',
      'run',
      '--model',
      'iris@candidate',
      '--dataset',
      'iris@1',
      '--target',
      'species',
      '--slice',
      'species',
      '--resamples',
      '200',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [latest] = (await t.client.call('evaluations.list', {})).items;
    id = latest!.id;
    const accuracy = latest!.metrics.accuracy as number;
    expect(accuracy).toBeGreaterThan(0.8);
    expect(r.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect(r.stdout).toMatch(/^model\s+iris v1$/m);
    expect(r.stdout).toMatch(/^dataset\s+iris v1 \(iris\.csv\)$/m);
    // The metrics table: the value and its 95% interval.
    expect(r.stdout).toMatch(
      new RegExp(`^accuracy\\s+${Number(accuracy.toPrecision(6))}\\s+[0-9.]+ – [0-9.]+ \\(95%\\)$`, 'm'),
    );
    expect(r.stdout).toMatch(/^\s+SETOSA\s+VERSICOLOR\s+VIRGINICA$/m);
    expect(r.stdout).toMatch(/^slices by species$/m);
    expect(r.stdout).toMatch(/^setosa\s+50\s+/m);
  });

  it('lists and shows evaluations, as text and JSON', async () => {
    const list = await aidos(['eval', 'list', '--model', 'iris']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(`^${id}\\s+succeeded\\s+iris v1\\s+iris v1\\s+species\\s+classification\\s+150`, 'm'),
    );
    const shown = await aidos(['--json', 'eval', 'show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    const e = JSON.parse(shown.stdout) as Evaluation;
    expect(e).toMatchObject({ id, state: 'succeeded', rows: 150 });
    expect(e.report?.task).toBe('classification');
  });

  it('queues without waiting with --no-wait', async () => {
    const r = await aidos([
      '--json',
      'eval',
      'run',
      '--model',
      'iris:1',
      '--dataset',
      'iris',
      '--target',
      'species',
      '--no-wait',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const queued = JSON.parse(r.stdout) as Evaluation;
    expect(queued).toMatchObject({ state: 'queued', model: 'iris', modelVersion: 1 });
    // It goes on in the core.
    const done = await waitFor(async () => {
      const e = await t.client.call('evaluations.get', { id: queued.id });
      return e.state === 'succeeded' || e.state === 'failed' ? e : undefined;
    }, 120_000);
    expect(done.state).toBe('succeeded');
  });

  it('refuses an unknown target column, naming it (exit 2)', async () => {
    const r = await aidos(['eval', 'run', '--model', 'iris', '--dataset', 'iris', '--target', 'kind']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error \(INVALID_ARGUMENT\): target: 'iris\.csv' has no column 'kind' \(its columns: sepal_length/m,
    );
  });

  it('sets a gate and reports whether a version passed it', async () => {
    const set = await aidos([
      'eval',
      'gate',
      'set',
      'iris',
      '--alias',
      'champion',
      '--metric',
      'accuracy',
      '--value',
      '1.5',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/iris\s+champion\s+accuracy >= 1\.5/);
    const status = await aidos(['--json', 'eval', 'gate', 'status', 'iris', '1']);
    expect(status.code).toBe(1);
    const parsed = JSON.parse(status.stdout) as GateStatus;
    expect(parsed).toMatchObject({ passed: false, checks: [{ passed: false, gate: { metric: 'accuracy' } }] });
    const refused = await t.request('/api/v1/models/iris/aliases/champion', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 1 }),
    });
    expect(refused.status).toBe(409);
  });
});
