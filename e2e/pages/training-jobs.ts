import type { Locator, Page } from 'playwright-core';

/** The new training job dialog (src/renderer/trainos/NewTrainingJobDialog.tsx), in either of its modes. */
export class NewTrainingJobForm {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('new-training-job-dialog');
  }

  async mode(): Promise<string | null> {
    return this.root.getByRole('group', { name: 'Start from' }).locator('[aria-pressed="true"]').textContent();
  }

  async useCommand(): Promise<void> {
    await this.root.getByRole('group', { name: 'Start from' }).getByRole('button', { name: 'Command' }).click();
  }

  /** The command form's main fields. */
  async fillCommand(fields: { name: string; command: string; workingDir: string }): Promise<void> {
    await this.root.getByLabel('Name').fill(fields.name);
    await this.root.getByLabel('Command').fill(fields.command);
    await this.root.getByLabel('Working dir').fill(fields.workingDir);
  }

  async chooseTemplate(title: string): Promise<void> {
    await this.root.getByRole('radiogroup', { name: 'Template' }).getByRole('radio', { name: title }).check();
  }

  /** A dataset for the template's dataset `as`; its version stays the newest unless one is given (`v2`). */
  async chooseDataset(as: string, dataset: string, version?: string): Promise<void> {
    await this.root.locator(`#tj-dataset-${as}`).selectOption(dataset);
    const versions = this.root.getByLabel(`Version of ${as}`);
    await versions.locator('option', { hasText: /^v\d/ }).first().waitFor({ state: 'attached' });
    if (version) await versions.selectOption({ label: version });
  }

  /** The option the version menu of dataset `as` shows. */
  async chosenVersion(as: string): Promise<string> {
    return this.root
      .getByLabel(`Version of ${as}`)
      .evaluate((select: HTMLSelectElement) => select.selectedOptions[0]?.textContent ?? '');
  }

  param(name: string): Locator {
    return this.root.locator(`#tj-param-${name}`);
  }

  /** The server's complaint shown under a field (`tj-param-steps`, `tj-working-dir`…). */
  fieldError(fieldId: string): Locator {
    return this.root.locator(`[data-field="${fieldId}"] [data-testid="field-error"]`);
  }

  async submit(): Promise<void> {
    await this.root.getByRole('button', { name: 'Submit' }).click();
  }
}

/** The training job queue (src/renderer/trainos/TrainingJobsPage.tsx). */
export class TrainingJobQueue {
  readonly form: NewTrainingJobForm;

  constructor(readonly page: Page) {
    this.form = new NewTrainingJobForm(page);
  }

  get root(): Locator {
    return this.page.getByTestId('training-jobs-page');
  }

  row(name: string): Locator {
    return this.root
      .getByTestId('training-job-row')
      .filter({ has: this.page.getByRole('link', { name, exact: true }) });
  }

  async openForm(): Promise<void> {
    await this.root.getByRole('button', { name: 'New training job' }).click();
    await this.form.root.waitFor();
  }
}

/** One training job's page (src/renderer/trainos/TrainingJobPage.tsx). */
export class TrainingJobDetail {
  readonly form: NewTrainingJobForm;

  constructor(readonly page: Page) {
    this.form = new NewTrainingJobForm(page);
  }

  get root(): Locator {
    return this.page.getByTestId('training-job-page');
  }

  async state(): Promise<string | null> {
    return this.root.locator('h1 [data-testid="training-job-state"]').getAttribute('data-state');
  }

  get logLines(): Locator {
    return this.root.getByTestId('job-log-line');
  }

  async logTexts(): Promise<string[]> {
    return this.logLines.locator('span:last-child').allTextContents();
  }

  /** The chart of one metric of the job's run. */
  chart(key: string): Locator {
    return this.root.locator(`[data-testid="metric-chart"]:has([data-key="${key}"])`);
  }

  checkpoint(step: number): Locator {
    return this.root.locator(`[data-testid="checkpoint-row"][data-step="${step}"]`);
  }

  async checkpointSteps(): Promise<string[]> {
    return this.root
      .getByTestId('checkpoint-row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-step') ?? ''));
  }

  /** What a link of the page downloads, fetched by the page itself (signed in by its session cookie). */
  async download(link: Locator): Promise<{ status: number; text: string }> {
    const href = (await link.getAttribute('href')) ?? '';
    return this.page.evaluate(async (url) => {
      const res = await fetch(url);
      return { status: res.status, text: await res.text() };
    }, href);
  }
}
