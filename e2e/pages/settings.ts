import type { Locator, Page } from 'playwright-core';

export class SettingsPage {
  constructor(readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'Settings', level: 1 });
  }

  // Theme
  themeOption(label: 'Light' | 'Dark' | 'System'): Locator {
    return this.page.getByRole('radio', { name: label });
  }

  async chooseTheme(label: 'Light' | 'Dark' | 'System'): Promise<void> {
    await this.themeOption(label).check({ force: true });
  }

  // API keys
  async createKey(name: string, scopes: ('read' | 'write' | 'admin')[]): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name').fill(name);
    for (const scope of ['read', 'write', 'admin'] as const) {
      await form.getByRole('checkbox', { name: new RegExp(`^${scope}$`, 'i') }).setChecked(scopes.includes(scope));
    }
    await form.getByRole('button', { name: 'Create key' }).click();
  }

  get secretDialog(): Locator {
    return this.page.getByTestId('secret-dialog');
  }

  async secret(): Promise<string> {
    return this.secretDialog.getByTestId('secret-value').inputValue();
  }

  async closeSecretDialog(): Promise<void> {
    await this.secretDialog.getByRole('button', { name: 'I have saved it' }).click();
    await this.secretDialog.waitFor({ state: 'hidden' });
  }

  keyRow(name: string): Locator {
    return this.page.getByTestId('api-key-row').filter({ has: this.page.getByRole('cell', { name, exact: true }) });
  }

  async revokeKey(name: string): Promise<void> {
    await this.keyRow(name)
      .getByRole('button', { name: `Revoke ${name}` })
      .click();
    const dialog = this.page.getByTestId('revoke-dialog');
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  get dataDir(): Locator {
    return this.page.getByTestId('data-dir');
  }

  get docsLink(): Locator {
    return this.page.getByRole('link', { name: /API documentation/ });
  }
}
