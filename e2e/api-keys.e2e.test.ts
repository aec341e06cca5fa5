import { describe, expect, test } from 'vitest';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints } from '#shared/contracts/index';
import { AppShell } from './pages/app';
import { SettingsPage } from './pages/settings';
import { useApp } from './support/app';

describe('API keys in settings', () => {
  const app = useApp();

  test('creates a key, shows its secret once, lists it, and revokes it', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const settings = new SettingsPage(page);

    await shell.openWithToken('/', server.token);
    await shell.navigate('Settings');
    await settings.heading.waitFor();
    expect(await settings.dataDir.textContent()).toBe(server.dataDir);
    expect(await settings.docsLink.getAttribute('href')).toBe(new URL('/docs', server.url).toString());

    await settings.createKey('ci-runner', ['read', 'write']);
    await settings.secretDialog.waitFor();
    await settings.secretDialog.getByText('shown only this once').waitFor();
    const secret = await settings.secret();
    expect(secret).toMatch(/^aidos_sk_/);
    await settings.closeSecretDialog();

    // Listed with its prefix and scopes; the secret itself is nowhere on the page any more.
    const row = settings.keyRow('ci-runner');
    await row.waitFor();
    const listed = await server.api.call('keys.list');
    const created = listed.items.find((k) => k.name === 'ci-runner');
    expect(created?.scopes).toEqual(['read', 'write']);
    expect(secret.startsWith(created?.prefix ?? '?')).toBe(true);
    expect(await row.textContent()).toContain(created?.prefix);
    expect(await row.textContent()).toMatch(/read.*write/);
    await shell.open('/');
    await shell.navigate('Settings');
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);

    // The key works until it is revoked.
    const withKey = new ApiClient(apiEndpoints, { baseUrl: server.url, token: secret });
    expect((await withKey.call('auth.whoami')).name).toBe('ci-runner');

    await settings.revokeKey('ci-runner');
    await row.waitFor({ state: 'detached' });
    await expect(withKey.call('auth.whoami')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });

    // Still there, marked revoked, when revoked keys are shown.
    await page.getByLabel('Show revoked').check();
    await row.getByText(/revoked/).waitFor();
  });

  test("shows the server's reason when a key cannot be created", async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const settings = new SettingsPage(page);

    await shell.openWithToken('/', server.token);
    await shell.navigate('Settings');
    await settings.heading.waitFor();
    await settings.createKey('no/slashes', ['read']);
    const alert = page.getByRole('alert').filter({ hasText: 'The key was not created' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('may hold letters, digits');
  });
});
