import type { Locator, Page } from 'playwright-core';

/** The experiments list, one experiment's runs table, a run's page and the compare view. */
export class ExperimentsPage {
  constructor(readonly page: Page) {}

  get navLink(): Locator {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Experiments/ });
  }

  experimentRow(name: string): Locator {
    return this.page.locator(`[data-testid="experiment-row"][data-name="${name}"]`);
  }

  async openExperiment(name: string): Promise<void> {
    await this.experimentRow(name).getByRole('link', { name, exact: true }).click();
    await this.page.getByTestId('runs-page').waitFor();
  }

  // The runs table
  get scroller(): Locator {
    return this.page.getByTestId('runs-scroller');
  }

  get rows(): Locator {
    return this.page.getByTestId('run-row');
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="run-row"][data-name="${name}"]`);
  }

  /** Waits until the table has loaded `count` runs and knows there are no more. */
  async waitForAll(count: number): Promise<void> {
    await this.page
      .locator(`[data-testid="runs-count"][data-loaded="${count}"][data-complete="true"]`)
      .waitFor({ timeout: 30_000 });
  }

  async loaded(): Promise<number> {
    return Number(await this.page.getByTestId('runs-count').getAttribute('data-loaded'));
  }

  async filter(text: string): Promise<void> {
    const bar = this.page.getByRole('search', { name: 'Filter runs' });
    await bar.getByLabel('Filter', { exact: true }).fill(text);
    await bar.getByLabel('Filter', { exact: true }).press('Enter');
  }

  get filterError(): Locator {
    return this.page.getByTestId('filter-error');
  }

  async sortBy(label: string): Promise<void> {
    await this.page.getByRole('button', { name: `Sort by ${label}`, exact: true }).click();
  }

  header(columnId: string): Locator {
    return this.page.locator(`[data-testid="column-header"][data-column="${columnId}"]`);
  }

  /** The names of the rows drawn, top to bottom. */
  async names(): Promise<string[]> {
    const rows = await this.rows.evaluateAll((els) =>
      els.map((e) => ({ i: Number(e.getAttribute('data-index')), name: e.getAttribute('data-name') ?? '' })),
    );
    return rows.sort((a, b) => a.i - b.i).map((r) => r.name);
  }

  cell(runName: string, columnId: string): Locator {
    return this.row(runName).locator(`[role="cell"][data-column="${columnId}"]`);
  }

  async chooseColumn(group: 'Params' | 'Metrics' | 'Tags' | 'Attributes', key: string): Promise<void> {
    await this.page.getByRole('button', { name: 'Columns…' }).click();
    const dialog = this.page.getByTestId('column-chooser');
    await dialog.getByRole('group', { name: group }).getByLabel(key, { exact: true }).check();
    await dialog.getByRole('button', { name: 'Done' }).click();
  }

  /** Scrolls the virtualised table to its end again and again until every run is loaded and drawn. */
  async scrollToEnd(total: number): Promise<void> {
    for (let i = 0; i < 40; i++) {
      await this.scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      if ((await this.loaded()) >= total) break;
      await this.page.waitForTimeout(250);
    }
    await this.waitForAll(total);
    await this.scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  }

  async select(name: string): Promise<void> {
    await this.row(name)
      .getByRole('checkbox', { name: `Select run ${name}` })
      .check();
  }

  // Run page
  async tab(name: 'Overview' | 'Charts' | 'Artifacts'): Promise<void> {
    await this.page.getByRole('tablist', { name: 'Run views' }).getByRole('tab', { name }).click();
  }

  chart(key: string): Locator {
    return this.page.locator(`[data-testid="metric-chart"]:has([data-key="${key}"])`);
  }

  artifact(path: string): Locator {
    return this.page.locator(`[data-testid="artifact-row"][data-path="${path}"]`).getByRole('button');
  }

  // Compare
  paramRow(key: string): Locator {
    return this.page.locator(`[data-testid="param-row"][data-key="${key}"]`);
  }
}
