import { describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { SettingsPage } from './pages/settings';
import { useApp } from './support/app';

describe('theme', () => {
  const app = useApp();

  test('switching to dark puts the dark class on <html> and survives a reload', async () => {
    const { server, page } = await app.start({ colorScheme: 'light' });
    const shell = new AppShell(page, server.url);
    const settings = new SettingsPage(page);

    await shell.openWithToken('/', server.token);
    await shell.navigate('Settings');
    await settings.heading.waitFor();
    // "System" is the default and follows the OS, which is light here.
    expect(await settings.themeOption('System').isChecked()).toBe(true);
    expect(await shell.htmlClasses()).not.toContain('dark');

    await settings.chooseTheme('Dark');
    await expect.poll(() => shell.htmlClasses()).toContain('dark');

    // A fresh load of the app: the class is there before any page is shown.
    await shell.open('/');
    await page.getByTestId('dashboard').waitFor();
    expect(await shell.htmlClasses()).toContain('dark');
    await shell.navigate('Settings');
    expect(await settings.themeOption('Dark').isChecked()).toBe(true);

    await settings.chooseTheme('Light');
    await expect.poll(() => shell.htmlClasses()).not.toContain('dark');
    expect(await shell.htmlClasses()).toContain('light');
  });

  test('"System" follows the operating system\'s dark preference', async () => {
    const { server, page } = await app.start({ colorScheme: 'dark' });
    const shell = new AppShell(page, server.url);
    await shell.openWithToken('/', server.token);
    await page.getByTestId('dashboard').waitFor();
    expect(await shell.htmlClasses()).toContain('dark');
  });
});
