import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DeploymentsPage } from './pages/deployments';
import { useApp } from './support/app';
import { registerModelFile } from './support/models';
import type { TestServer } from './support/server';
import { shot } from './support/shots';

// The digits MLP registered twice (versions 1 and 2 of `digits`): a canary is set on its deployment's page, the
// requests clients send are split by version in the traffic card, and the canary is promoted from there.
const MLP = path.resolve(import.meta.dirname, '../test-fixtures/models/digits_mlp.onnx');

/** One KServe v2 infer, as a client sends it: the version that answered. */
async function infer(server: TestServer): Promise<string | null> {
  const res = await fetch(`${server.url}/v2/models/digits/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(1) }] }),
  });
  expect(res.status).toBe(200);
  return res.headers.get('x-aidos-model-version');
}

describe('deployment traffic', () => {
  const app = useApp();

  test('sets a canary on the deployment page, shows requests per version, and promotes it', async () => {
    const { server, page } = await app.start({ colorScheme: 'light' });
    const shell = new AppShell(page, server.url);
    const deployments = new DeploymentsPage(page);
    await registerModelFile(server, 'digits', MLP, { versions: 2 });
    await server.api.call('deployments.create', { model: 'digits', version: 1, name: 'digits', threads: 1 });

    await shell.openWithToken('/deployments?deployment=digits', server.token);
    await deployments.detail('digits', 'ready').waitFor();
    const card = page.getByTestId('deployment-traffic');
    const setting = page.getByTestId('traffic-setting');
    expect(await setting.textContent()).toContain('The main version answers every request');

    // A version the model does not have is refused by the server, naming the field; nothing changes.
    await page.getByTestId('traffic-version').fill('9');
    await page.getByTestId('traffic-percent').fill('100');
    await card.getByRole('button', { name: 'Apply' }).click();
    await card.getByText(/traffic\.version/).waitFor();
    expect((await server.api.call('deployments.get', { deployment: 'digits' })).traffic).toBeNull();
    await shot(page, 'deployment-traffic-refused-light');

    await page.getByTestId('traffic-version').fill('2');
    await card.getByRole('button', { name: 'Apply' }).click();
    await setting.filter({ hasText: 'Canary v2 answers 100% of requests' }).waitFor();
    expect(await card.getByText(/traffic\.version/).count()).toBe(0);

    const answered: (string | null)[] = [];
    for (let i = 0; i < 5; i++) answered.push(await infer(server));
    expect(answered).toEqual(['2', '2', '2', '2', '2']);
    // The stats are polled: the canary's row counts the five requests, the main version's none.
    const canaryRow = page.getByTestId('version-row-v2');
    await canaryRow.getByTestId('version-requests').filter({ hasText: /^5$/ }).waitFor({ timeout: 10_000 });
    expect(await canaryRow.textContent()).toContain('canary');
    expect(await page.getByTestId('version-row-v1').getByTestId('version-requests').textContent()).toBe('0');
    // Each loaded version shows its own replicas.
    expect(await canaryRow.getByTestId('version-replicas').textContent()).toBe('1');
    await shot(page, 'deployment-traffic-canary-light');

    // Promoting asks first, with what the canary did: it answered all five.
    await card.getByRole('button', { name: 'Promote to main…' }).click();
    const confirm = page.getByTestId('confirm-promote');
    expect(await confirm.getByTestId('promote-errors').textContent()).toBe('As canary, it failed 0 of 5 requests.');
    await shot(page, 'deployment-traffic-promote-confirm-light');
    await confirm.getByRole('button', { name: 'Promote', exact: true }).click();
    await setting.filter({ hasText: 'The main version answers every request' }).waitFor();
    await canaryRow.filter({ hasText: 'main' }).waitFor({ timeout: 10_000 });
    expect((await server.api.call('deployments.get', { deployment: 'digits' })).source).toMatchObject({ version: 2 });
    await shot(page, 'deployment-traffic-promoted-light');

    // Its replicas are scaled from the Settings card: a bad range is refused where it was typed, a good one applies.
    const settings = page.getByTestId('deployment-settings');
    await settings.getByRole('button', { name: 'Scale…' }).click();
    const scale = page.getByTestId('scale-form');
    await scale.getByLabel('Min replicas').fill('3');
    await scale.getByLabel('Max replicas').fill('2');
    await scale.getByRole('button', { name: 'Apply' }).click();
    await scale.getByText(/Not scaled/).waitFor();
    await scale.getByLabel('Min replicas').fill('2');
    await scale.getByLabel('Max replicas').fill('3');
    await scale.getByRole('button', { name: 'Apply' }).click();
    await settings.getByText('2 of 2–3 replicas').waitFor({ timeout: 10_000 });
    expect(await server.api.call('deployments.get', { deployment: 'digits' })).toMatchObject({
      minReplicas: 2,
      maxReplicas: 3,
      replicas: 2,
    });
  });
});
