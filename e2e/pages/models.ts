import type { Locator, Page } from 'playwright-core';

/** The model registry: the list, one model's page with its aliases, versions and alias timeline. */
export class ModelsPage {
  constructor(readonly page: Page) {}

  get navLink(): Locator {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Models/ });
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="model-row"][data-name="${name}"]`);
  }

  async openModel(name: string): Promise<void> {
    await this.row(name).getByRole('link', { name, exact: true }).click();
    await this.page.locator(`[data-testid="model-page"][data-name="${name}"]`).waitFor();
  }

  aliasChip(alias: string, version?: number): Locator {
    const v = version === undefined ? '' : `[data-version="${version}"]`;
    return this.page.getByTestId('aliases').locator(`[data-testid="alias-chip"][data-alias="${alias}"]${v}`);
  }

  async moveAlias(alias: string, toVersion: number): Promise<void> {
    await this.page.getByRole('button', { name: `Move alias ${alias}` }).click();
    const dialog = this.page.getByTestId('move-alias-dialog');
    await dialog.getByLabel('Version').selectOption(String(toVersion));
    await dialog.getByRole('button', { name: 'Move alias', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
  }

  versionRow(version: number): Locator {
    return this.page.locator(`[data-testid="version-row"][data-version="${version}"]`);
  }

  async selectVersion(version: number): Promise<void> {
    await this.versionRow(version)
      .getByRole('button', { name: `v${version}`, exact: true })
      .click();
    await this.page.locator(`[data-testid="version-details"][data-version="${version}"]`).waitFor();
  }

  /** The timeline's list of moves, newest first. */
  get moves(): Locator {
    return this.page.getByTestId('alias-move');
  }
}
