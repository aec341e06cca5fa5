import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestCore, type TestCore } from '#core/testing';
import { waitFor } from '#platform/testing';
// eslint-disable-next-line no-restricted-imports -- a test fixture (train and deploy iris), not the service itself
import { deployIrisClassifier, irisRows } from '#services/evalkit/testing';

let t: TestCore;
const aidos = (args: string[]) => runCli(['--data-dir', t.core.dataDir, ...args]);

beforeAll(async () => {
  t = await startTestCore();
  await deployIrisClassifier(t, ['iris']);
  // sepal_width moved up by 2 cm; the other features are the training rows themselves.
  const rows = irisRows().map(({ species: _species, ...r }) => ({ ...r, sepal_width: Number(r.sepal_width) + 2 }));
  for (let i = 0; i < rows.length; i += 30) {
    await t.client.call('deployments.predict', { deployment: 'iris', rows: rows.slice(i, i + 30) });
  }
  await t.client.call('monitors.create', { name: 'iris-watch', deployment: 'iris', alerts: { psi: 0.2 } });
  const job = await t.client.call('monitors.check', { monitor: 'iris-watch' });
  await waitFor(
    async () => (await t.client.call('jobs.get', { id: job.id })).status === 'succeeded' || undefined,
    30_000,
    'the drift check',
  );
}, 180_000);
afterAll(async () => {
  await t?.close();
});

describe('aidos drift status', { timeout: 120_000 }, () => {
  it('prints each monitor with its last check, the drifted features and their scores, and alerts', async () => {
    const r = await aidos(['drift', 'status', 'iris']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^iris-watch {2}on iris {2}reference iris v1 \(iris\.csv\)/);
    expect(r.stdout).toMatch(/150 rows of 5 requests, 1 of 4 features drifted/);
    expect(r.stdout).toMatch(/sepal_width\s+drift\s+\d+\.\d{4}/);
    expect(r.stdout).toMatch(/petal_length\s+stable\s+0\.0000/);
    expect(r.stdout).toMatch(/alert .*PSI of 'sepal_width' [\d.]+ > 0\.2 \(webhook none\)/);
  });

  it('prints JSON with --json, and names an unknown deployment', async () => {
    const r = await aidos(['--json', 'drift', 'status']);
    expect(r.code, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as {
      items: { monitor: { name: string }; lastCheck: { drifted: string[] }; alerts: unknown[] }[];
    };
    expect(body.items.map((s) => [s.monitor.name, s.lastCheck.drifted, s.alerts.length])).toEqual([
      ['iris-watch', ['sepal_width'], 1],
    ]);
    const bad = await aidos(['drift', 'status', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/deployment: no deployment 'nope'/);
  });
});
