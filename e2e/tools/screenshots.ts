/**
 * Screenshots of the UI in both themes, for looking at it (not a test; nothing is committed):
 *   npx electron-vite build && npx tsx e2e/tools/screenshots.ts [outDir]
 * writes <outDir>/aidos-<page>-<light|dark>.png (outDir defaults to /tmp) for the dashboard, background tasks, settings, the
 * API key secret dialog and the sign-in screen,
 * with a job running and a few events so that nothing is empty.
 */
import path from 'node:path';
import { AppShell } from '../pages/app';
import { launchChromium } from '../support/browser';
import { startServer } from '../support/server';

const outDir = process.argv[2] ?? '/tmp';
const server = await startServer();
const browser = await launchChromium();
try {
  await server.api.call('keys.create', { name: 'training-box', scopes: ['read', 'write'] });
  await server.api.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 800, steps: 4 } });
  await server.api.call('jobs.enqueue', { type: 'blobs.verify', payload: {} });
  await server.api.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 120_000, steps: 100 } });
  await server.api.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 120_000, steps: 100 }, priority: -1 });
  await new Promise((resolve) => setTimeout(resolve, 5_000));

  for (const theme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 }, colorScheme: theme });
    const page = await context.newPage();
    const shell = new AppShell(page, server.url);
    await shell.openWithToken('/', server.token);
    await page.getByTestId('dashboard').waitFor();
    await shell.waitForLiveEvents();
    await page.waitForTimeout(2_500);
    const shots: [string, () => Promise<void>][] = [
      ['dashboard', async () => undefined],
      ['tasks', () => shell.navigate('Background tasks')],
      ['settings', () => shell.navigate('Settings')],
    ];
    for (const [name, go] of shots) {
      await go();
      await page.waitForTimeout(800);
      const file = path.join(outDir, `aidos-${name}-${theme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(file);
    }
    // The secret dialog, then the sign-in screen refusing a token.
    await shell.navigate('Settings');
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name').fill(`notebook-${theme}`);
    await form.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('secret-dialog').waitFor();
    await page.screenshot({ path: path.join(outDir, `aidos-secret-${theme}.png`) });
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await shell.signOutButton.click();
    await page.getByLabel('Token or API key').fill('aidos_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was not accepted').waitFor();
    await page.screenshot({ path: path.join(outDir, `aidos-sign-in-${theme}.png`) });
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
