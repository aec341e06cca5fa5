import { describe, expect, test } from 'vitest';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints } from '#shared/contracts/index';
import { AppShell } from './pages/app';
import { DashboardPage } from './pages/dashboard';
import { SignInPage } from './pages/sign-in';
import { useApp } from './support/app';

describe('sign-in', () => {
  const app = useApp();

  test('refuses a wrong token with a visible message, accepts the right one, and signs out', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const signIn = new SignInPage(page);
    const dashboard = new DashboardPage(page);

    await shell.open('/');
    await signIn.heading.waitFor();
    expect(await page.getByText('~/.aidos/token').count()).toBeGreaterThan(0);

    await signIn.signIn('aidos_not-the-right-token-0123456789abcdef');
    await signIn.error.getByText('That token was not accepted').waitFor();
    expect(await signIn.error.textContent()).toContain('not valid');
    await signIn.heading.waitFor();

    await signIn.signIn(server.token);
    await dashboard.root.waitFor();

    // The browser keeps the token: a reload stays signed in.
    await page.reload();
    await dashboard.root.waitFor();

    // The session cookie lets the browser open the API docs' document.
    const openapi = await page.request.get(new URL('/docs/json', server.url).toString());
    expect(openapi.status()).toBe(200);

    await shell.signOutButton.click();
    await signIn.heading.waitFor();
    expect(await signIn.notice.textContent()).toContain('You signed out');
    await page.reload();
    await signIn.heading.waitFor();
  });

  test('goes back to sign-in, saying why, when the API key in use is revoked', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const signIn = new SignInPage(page);
    const dashboard = new DashboardPage(page);

    const { key, secret } = await server.api.call('keys.create', { name: 'laptop', scopes: ['read'] });
    await shell.open('/');
    await signIn.signIn(secret);
    await dashboard.root.waitFor();
    await page.getByTestId('whoami').getByText('API key · laptop').waitFor();

    await server.api.call('keys.revoke', { id: key.id });
    // The dashboard polls every 2 s; the next answer is a 401.
    await signIn.heading.waitFor({ timeout: 10_000 });
    expect(await signIn.notice.textContent()).toMatch(/no longer accepts your credentials.*revoked/);
    const rejected = new ApiClient(apiEndpoints, { baseUrl: server.url, token: secret });
    await expect(rejected.call('auth.whoami')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
