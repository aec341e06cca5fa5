import type { Locator, Page } from 'playwright-core';

export class DashboardPage {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('dashboard');
  }

  get cpuValue(): Locator {
    return this.page.getByTestId('cpu-value');
  }

  get cpu(): Locator {
    return this.page.getByTestId('cpu');
  }

  get memoryValue(): Locator {
    return this.page.getByTestId('memory-value');
  }

  get gpuSection(): Locator {
    return this.page.getByTestId('gpu-section');
  }

  get queue(): Locator {
    return this.page.getByTestId('queue');
  }

  runningJob(id: string): Locator {
    return this.page.getByTestId('running-jobs').locator(`[data-job-id="${id}"]`);
  }

  /** The progress the running-jobs list shows for a job, 0..100, or null while it has none. */
  async runningProgress(id: string): Promise<number | null> {
    const now = await this.runningJob(id).getByRole('progressbar').getAttribute('aria-valuenow');
    return now === null ? null : Number(now);
  }

  /** A line of "Recent events" for this event name whose text mentions `text`. */
  event(name: string, text: string): Locator {
    return this.page.getByTestId('recent-events').locator(`[data-event-name="${name}"]`, { hasText: text });
  }

  async eventNames(): Promise<string[]> {
    const items = await this.page.getByTestId('recent-events').getByTestId('event').all();
    return Promise.all(items.map(async (item) => (await item.getAttribute('data-event-name')) ?? ''));
  }
}
