import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { JobsPage } from './pages/jobs';
import { SettingsPage } from './pages/settings';
import { useApp } from './support/app';

describe('navigation', () => {
  const app = useApp();

  test('the sidebar lists only the services that have a page, and each leads to it', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const settings = new SettingsPage(page);

    await shell.openWithToken('/', server.token);
    const running = (await server.api.call('system.services')).items.map((s) => s.name);
    expect(running).toContain('security');
    const link = shell.sidebar.getByRole('link', { name: /API keys/ });
    await link.click();
    await settings.heading.waitFor();
    expect(new URL(page.url()).pathname).toBe('/settings');
    // Settings is the page open: its own entry is marked, not the service link that leads into it.
    expect(await shell.sidebar.getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBe('page');
    expect(await link.getAttribute('aria-current')).toBeNull();

    // A service's page, and a page below it, mark the service's entry as the one open.
    const datasets = shell.sidebar.getByRole('link', { name: /Datasets/ });
    await datasets.click();
    await page.getByRole('heading', { name: 'Datasets', level: 1 }).waitFor();
    expect(await datasets.getAttribute('aria-current')).toBe('page');
    await shell.open('/datasets/no-such-dataset');
    await page.waitForURL(/\/datasets\/no-such-dataset$/);
    await expect.poll(() => datasets.getAttribute('aria-current')).toBe('page');
  });

  test('a page other than the dashboard can be reloaded with its filter, and an old address of it still works', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const jobs = new JobsPage(page);

    const done = await server.api.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 10, steps: 1 } });
    await shell.openWithToken('/', server.token);
    await shell.navigate('Background tasks');
    await jobs.waitForStatus(done.id, 'succeeded');
    await jobs.filter('succeeded');
    expect(new URL(page.url()).search).toBe('?status=succeeded');

    await page.reload();
    await jobs.heading.waitFor();
    await jobs.waitForStatus(done.id, 'succeeded');
    const pressed = page.getByRole('group', { name: 'Filter by status' }).getByRole('button', { name: 'succeeded' });
    expect(await pressed.getAttribute('aria-pressed')).toBe('true');

    // The page's address from when it was called Jobs still leads to it, with its filter.
    await shell.open('/jobs?status=succeeded');
    await jobs.heading.waitFor();
    expect(new URL(page.url()).pathname).toBe('/tasks');
    expect(new URL(page.url()).search).toBe('?status=succeeded');
  });
});
