import type { Locator, Page } from 'playwright-core';
import type { JobStatus } from '#shared/contracts/jobs';

/** The platform's background tasks: the job queue's page (src/renderer/jobs/JobsPage.tsx). */
export class JobsPage {
  constructor(readonly page: Page) {}

  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'Background tasks', level: 1 });
  }

  row(id: string): Locator {
    return this.page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
  }

  async waitForStatus(id: string, status: JobStatus): Promise<void> {
    await this.page.locator(`[data-testid="job-row"][data-job-id="${id}"][data-status="${status}"]`).waitFor();
  }

  /** The progress shown in the row, as the text says it ("40%"), or null while queued. */
  async progressText(id: string): Promise<string | null> {
    const cell = this.row(id).getByTestId('job-progress');
    return (await cell.count()) === 0 ? null : cell.textContent();
  }

  async filter(status: JobStatus | 'All'): Promise<void> {
    await this.page
      .getByRole('group', { name: 'Filter by status' })
      .getByRole('button', { name: status, exact: true })
      .click();
  }
}
