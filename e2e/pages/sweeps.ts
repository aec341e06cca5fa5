import type { Locator, Page } from 'playwright-core';

/** The new sweep dialog (src/renderer/trainos/NewSweepDialog.tsx). */
export class NewSweepForm {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('new-sweep-dialog');
  }

  async chooseTemplate(title: string): Promise<void> {
    await this.root.locator('#sw-template').selectOption({ label: title });
  }

  /** A template parameter's row: its Fixed/Search switch and its inputs. */
  param(name: string): Locator {
    return this.root.locator(`[data-testid="sweep-param"][data-param="${name}"]`);
  }

  async search(name: string): Promise<void> {
    await this.param(name)
      .getByRole('group', { name: `How ${name} is set` })
      .getByRole('button', { name: 'Search' })
      .click();
  }

  /** A searched parameter's range (the search kinds' menu labels: 'Uniform range', 'Log-uniform range'…). */
  async searchRange(name: string, kind: string, min: string, max: string): Promise<void> {
    await this.root.locator(`#sw-param-${name}-kind`).selectOption({ label: kind });
    await this.root.locator(`#sw-param-${name}-min`).fill(min);
    await this.root.locator(`#sw-param-${name}-max`).fill(max);
  }

  field(id: string): Locator {
    return this.root.locator(`#${id}`);
  }

  /** The server's complaint shown under a field (`sw-param-lr-max`, `sw-name`…). */
  fieldError(fieldId: string): Locator {
    return this.root.locator(`[data-field="${fieldId}"] [data-testid="field-error"]`);
  }

  async submit(): Promise<void> {
    await this.root.getByRole('button', { name: 'Start sweep' }).click();
  }
}

/** The sweeps list (src/renderer/trainos/SweepsPage.tsx). */
export class SweepList {
  readonly form: NewSweepForm;

  constructor(readonly page: Page) {
    this.form = new NewSweepForm(page);
  }

  get root(): Locator {
    return this.page.getByTestId('sweeps-page');
  }

  row(name: string): Locator {
    return this.root.getByTestId('sweep-row').filter({ has: this.page.getByRole('link', { name, exact: true }) });
  }

  async openForm(): Promise<void> {
    await this.root.getByRole('button', { name: 'New sweep' }).click();
    await this.form.root.waitFor();
  }
}

/** One sweep's page (src/renderer/trainos/SweepPage.tsx). */
export class SweepDetail {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('sweep-page');
  }

  async state(): Promise<string | null> {
    return this.root.getByTestId('sweep-state').getAttribute('data-state');
  }

  get chart(): Locator {
    return this.root.getByTestId('sweep-parallel-coordinates');
  }

  /** The chart's lines, one per trial (the wide strokes that take the pointer, named by trial: '#2'). */
  get lines(): Locator {
    return this.chart.locator('path[data-trial-id]');
  }

  line(number: number): Locator {
    return this.chart.locator(`path[data-trial-id="#${number}"]`);
  }

  /**
   * Clicks a trial's line halfway along, with the mouse: a level line has a box of no height, which Playwright's
   * own click takes for hidden.
   */
  async clickLine(number: number): Promise<void> {
    const box = await this.line(number).boundingBox();
    if (!box) throw new Error(`trial ${number} has no line on the chart`);
    await this.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  }

  get rows(): Locator {
    return this.root.getByTestId('sweep-trial-row');
  }

  row(number: number): Locator {
    return this.root.locator(`[data-testid="sweep-trial-row"][data-number="${number}"]`);
  }

  get bestRow(): Locator {
    return this.root.locator('[data-testid="sweep-trial-row"][data-best]');
  }

  /** The trials' numbers in table order. */
  async rowNumbers(): Promise<number[]> {
    return this.rows.evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-number'))));
  }

  /** The table cell of a searched parameter in a trial's row. */
  paramCell(row: Locator, name: string): Locator {
    return row.locator(`td[data-param="${name}"]`);
  }

  sortBy(column: string): Promise<void> {
    return this.root.getByRole('table', { name: 'Trials' }).getByRole('button', { name: column }).click();
  }
}
