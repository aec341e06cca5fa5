import type { Locator, Page } from 'playwright-core';

/** A quality finding's links to its rows, and the Rows tab as those links leave it (a line in focus, a lines chip). */
export class FindingRows {
  constructor(readonly page: Page) {}

  /** The finding of a check about one column of one table. */
  finding(check: string, table: string, column: string): Locator {
    return this.page
      .locator(`[data-testid="quality-finding"][data-check="${check}"][data-table="${table}"]`)
      .filter({ has: this.page.getByText(column, { exact: true }) });
  }

  /** The links of a finding's listed lines, as the line numbers they show. */
  async lineLinks(finding: Locator): Promise<number[]> {
    return finding
      .getByTestId('finding-line')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-line'))));
  }

  async followLine(finding: Locator, line: number): Promise<void> {
    await finding.getByRole('link', { name: `Line ${line}`, exact: true }).click();
    await this.page.getByTestId('rows-tab').waitFor();
  }

  async showRows(finding: Locator): Promise<void> {
    await finding.getByRole('link', { name: 'Show rows', exact: true }).click();
    await this.page.getByTestId('rows-tab').waitFor();
  }

  /** The highlighted row (the one a line link opened). */
  get focusedRow(): Locator {
    return this.page.locator('[data-testid="data-row"][data-focused="true"]');
  }

  get linesChip(): Locator {
    return this.page.getByTestId('lines-chip');
  }

  async clearLines(): Promise<void> {
    await this.linesChip.getByRole('button', { name: 'Show all rows, not only these lines' }).click();
  }

  /** The URL's search parameter `name` now. */
  param(name: string): string | null {
    return new URL(this.page.url()).searchParams.get(name);
  }
}
