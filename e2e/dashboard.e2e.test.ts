import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DashboardPage } from './pages/dashboard';
import { useApp } from './support/app';

describe('dashboard', () => {
  const app = useApp();

  test('opening the link with #token shows live CPU, memory and GPU figures and hides the token', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const dashboard = new DashboardPage(page);

    await shell.openWithToken('/', server.token);
    await dashboard.root.waitFor();

    // CPU load as a percentage, with the model and core count; memory as used / total.
    await expect.poll(() => dashboard.cpuValue.textContent()).toMatch(/^\d+(\.\d)?%$/);
    expect(await dashboard.cpu.textContent()).toMatch(/\d+ cores/);
    expect(await dashboard.memoryValue.textContent()).toMatch(/^[\d.]+ [KMGT]?i?B \/ [\d.]+ [KMGT]?i?B$/);

    // The GPU section is there either way: a table of GPUs, or the CPU-only notice.
    await dashboard.gpuSection.waitFor();
    const gpus = (await server.api.call('system.stats')).gpus;
    if (gpus.length === 0) {
      await dashboard.gpuSection.getByText('No GPU found — CPU-only mode').waitFor();
    } else {
      await dashboard.gpuSection
        .getByText(gpus[0]?.name ?? '')
        .first()
        .waitFor();
    }

    // The token left the address bar but the app stays signed in.
    expect(page.url()).not.toContain('token');
    expect(page.url()).not.toContain(server.token);
    await shell.waitForLiveEvents();
  });

  test('when the server restarts, the live view says so, reconnects by itself and streams again', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const dashboard = new DashboardPage(page);

    await shell.openWithToken('/', server.token);
    await dashboard.root.waitFor();
    await shell.waitForLiveEvents();

    await server.kill();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    await page.getByText(/Disconnected · retrying in \d+s|Reconnecting/).waitFor();
    await server.restart();
    await shell.waitForLiveEvents();

    // Events flow again on the new socket, and the figures update without a reload.
    const job = await server.api.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 200, steps: 2 } });
    await dashboard.event('job.succeeded', job.id.slice(-8).toLowerCase()).waitFor({ timeout: 10_000 });
    await page.getByText('Live figures are not updating').waitFor({ state: 'detached' });
  });
});
