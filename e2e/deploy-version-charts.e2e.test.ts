import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DeploymentsPage } from './pages/deployments';
import { useApp } from './support/app';
import { registerModelFile } from './support/models';
import type { TestServer } from './support/server';
import { shot } from './support/shots';

// The digits MLP registered twice (versions 1 and 2 of `digits`): with a canary set, the deployment page's live
// charts draw a line per version, named in their legends; without one, the deployment's own lines.
const MLP = path.resolve(import.meta.dirname, '../test-fixtures/models/digits_mlp.onnx');

/** KServe v2 infers, as a client sends them, until `stop` says so: the versions that answered, counted. */
async function sendUntil(server: TestServer, stop: () => boolean): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  while (!stop()) {
    const res = await fetch(`${server.url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 64], datatype: 'FP32', data: new Array(64).fill(1) }] }),
    });
    expect(res.status).toBe(200);
    const version = res.headers.get('x-aidos-model-version') ?? 'none';
    counts[version] = (counts[version] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return counts;
}

describe('deployment charts per version', () => {
  const app = useApp();

  for (const theme of ['light', 'dark'] as const) {
    test(`draws a line per version while a canary answers part of the requests (${theme})`, async () => {
      const { server, page } = await app.start({ colorScheme: theme });
      const shell = new AppShell(page, server.url);
      const deployments = new DeploymentsPage(page);
      await registerModelFile(server, 'digits', MLP, { versions: 2 });
      await server.api.call('deployments.create', { model: 'digits', version: 1, name: 'digits', threads: 1 });

      await shell.openWithToken('/deployments?deployment=digits', server.token);
      await deployments.detail('digits', 'ready').waitFor();
      const requests = page.getByTestId('deployment-chart').filter({ hasText: 'Requests / s' });
      const legend = requests.getByTestId('chart-series');
      // No split: the deployment's own requests and errors.
      expect(await legend.allTextContents()).toEqual(['requests', 'errors']);

      const card = page.getByTestId('deployment-traffic');
      await page.getByTestId('traffic-version').fill('2');
      await page.getByTestId('traffic-percent').fill('50');
      await card.getByRole('button', { name: 'Apply' }).click();
      await page.getByTestId('traffic-setting').filter({ hasText: 'Canary v2 answers 50% of requests' }).waitFor();

      // Requests for long enough that the 2 s polls draw several points for both versions.
      const plot = requests.locator('[data-testid="plot"]');
      let enough = false;
      const sending = sendUntil(server, () => enough);
      try {
        await page.waitForFunction(
          () => Number(document.querySelector<HTMLElement>('[data-testid="plot"]')?.dataset.points) >= 5,
          undefined,
          { timeout: 30_000 },
        );
      } finally {
        enough = true;
      }
      const answered = await sending;
      expect(Object.keys(answered).sort()).toEqual(['1', '2']);

      expect(await legend.allTextContents()).toEqual(['v1', 'v2 (canary 50%)']);
      expect(await plot.getAttribute('data-series')).toBe('v1|v2 (canary 50%)|v1 errors|v2 (canary 50%) errors');
      const latency = page.getByTestId('deployment-chart').filter({ hasText: 'Latency' });
      expect(await latency.getByTestId('chart-series').allTextContents()).toEqual(['v1', 'v2 (canary 50%)']);
      expect(await latency.locator('[data-testid="plot"]').getAttribute('data-series')).toBe(
        'v1|v2 (canary 50%)|v1 p95|v2 (canary 50%) p95',
      );
      await requests.locator('canvas').first().waitFor();
      await shot(page, `deployment-version-charts-${theme}`);

      // Cleared: one line again.
      await card.getByRole('button', { name: 'Clear' }).click();
      await page.getByTestId('traffic-setting').filter({ hasText: 'The main version answers every request' }).waitFor();
      await legend.filter({ hasText: /^requests$/ }).waitFor();
      expect(await legend.allTextContents()).toEqual(['requests', 'errors']);
    });
  }
});
