import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestCore, type TestCore } from '#core/testing';

const aidos = (args: string[]) => runCli(['--data-dir', t.core.dataDir, ...args]);

async function mlflow(path: string, body: object): Promise<Record<string, unknown>> {
  const res = await t.request(`/api/2.0/mlflow/${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

// Each command is a child process compiling the CLI with tsx: seconds each on a busy 2-core machine.
let t: TestCore;
const runs: string[] = [];
beforeAll(async () => {
  t = await startTestCore();
  const experiment = (await mlflow('experiments/create', { name: 'cli exp' })).experiment_id as string;
  for (const [name, lr, acc] of [
    ['slow', '0.001', 0.81],
    ['fast', '0.1', 0.93],
  ] as const) {
    const created = await mlflow('runs/create', { experiment_id: experiment, run_name: name });
    const id = (created.run as { info: { run_id: string } }).info.run_id;
    runs.push(id);
    await mlflow('runs/log-batch', {
      run_id: id,
      params: [
        { key: 'lr', value: lr },
        { key: 'epochs', value: '10' },
      ],
      metrics: [{ key: 'acc', value: acc, timestamp: 1, step: 9 }],
    });
  }
  await mlflow('registered-models/create', { name: 'churn' });
  for (const id of runs)
    await mlflow('model-versions/create', { name: 'churn', source: 'mlflow-artifacts:/x', run_id: id });
});
afterAll(async () => {
  await t.close();
});

describe('aidos runs and models', { timeout: 180_000 }, () => {
  it('lists runs of an experiment by name, filtered and ordered, with metric columns', async () => {
    const r = await aidos(['runs', 'list', '-e', 'cli exp', '-f', 'metrics.acc > 0.5', '-o', 'metrics.acc DESC']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED\s+TOOK\s+ACC$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['fast', 'slow']);
    const none = await aidos(['runs', 'list', '-e', 'nope']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no experiment named 'nope'/);
  });

  it('compares runs side by side, marking what differs', async () => {
    const r = await aidos(['runs', 'compare', ...runs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\*\s+param\s+lr\s+0\.001\s+0\.1$/m);
    expect(r.stdout).toMatch(/^\s+param\s+epochs\s+10\s+10$/m);
    expect(r.stdout).toMatch(/^\*\s+metric\s+acc\s+0\.81\s+0\.93$/m);
  });

  it('moves an alias, shows it, and shows its history with who moved it', async () => {
    expect((await aidos(['models', 'alias', 'churn', 'champion', '1'])).code).toBe(0);
    expect((await aidos(['models', 'alias', 'churn', 'champion', '2'])).code).toBe(0);
    const shown = await aidos(['models', 'alias', 'churn', 'champion']);
    expect(shown.stdout).toMatch(/^churn@champion = v2 /);
    const history = await aidos(['--json', 'models', 'alias', 'churn', 'champion', '--history']);
    const moves = JSON.parse(history.stdout) as { version: number; previousVersion: number | null; actor: string }[];
    expect(moves.map((m) => [m.version, m.previousVersion])).toEqual([
      [1, null],
      [2, 1],
    ]);
    expect(moves[0]?.actor).not.toBe('');
    const versions = await aidos(['models', 'versions', 'churn']);
    expect(versions.stdout).toMatch(/^2\s+champion\s+other\s+-\s+/m);
    const bad = await aidos(['models', 'alias', 'churn', 'champion', 'two']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'two' is not a version number/);
  });
});
