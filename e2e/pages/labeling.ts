import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { TestServer } from '../support/server';

/** The labeling tab of a dataset, a project's workspace, review and agreement views, and the export dialog. */
export class LabelingPage {
  constructor(readonly page: Page) {}

  // The dataset's Labeling tab
  project(name: string): Locator {
    return this.page.getByTestId('label-project').filter({ has: this.page.getByRole('link', { name, exact: true }) });
  }

  get newProjectDialog(): Locator {
    return this.page.getByTestId('new-project-dialog');
  }

  /** Adds labels with the schema editor's "New label" field. */
  async addLabels(names: string[]): Promise<void> {
    const dialog = this.newProjectDialog;
    for (const name of names) {
      await dialog.getByLabel('New label', { exact: true }).fill(name);
      await dialog.getByLabel('New label', { exact: true }).press('Enter');
      await dialog
        .getByLabel(/^Name of label \d+$/)
        .last()
        .waitFor();
    }
  }

  // The workspace
  get task(): Locator {
    return this.page.getByTestId('task');
  }

  /** Waits until the workspace shows the task at `position` (0-based) and no request is out. */
  async waitForTask(position: number): Promise<void> {
    await this.page.locator(`[data-testid="task"][data-position="${position}"][data-busy="false"]`).waitFor();
  }

  /** Waits for a task to be shown again (a new round), e.g. after an undo. */
  async waitForRoundAfter(round: number): Promise<void> {
    await this.page.locator(`[data-testid="task"][data-busy="false"]:not([data-round="${round}"])`).waitFor();
  }

  async round(): Promise<number> {
    return Number(await this.task.getAttribute('data-round'));
  }

  get done(): Locator {
    return this.page.getByTestId('queue-done');
  }

  async annotateAs(name: string): Promise<void> {
    const field = this.page.getByLabel('Annotating as');
    await field.fill(name);
    await field.press('Enter');
  }

  labelButton(name: string): Locator {
    return this.task.getByRole('button', { name: new RegExp(`^${name}`) });
  }

  async mode(name: 'Annotate' | 'Review' | 'Agreement'): Promise<void> {
    await this.page.getByRole('tablist', { name: 'Project views' }).getByRole('tab', { name }).click();
  }

  // Review
  reviewTask(position: number): Locator {
    return this.page.getByTestId('review-task').filter({ hasText: new RegExp(`^Task ${position + 1}\\b`) });
  }

  // Export
  get exportDialog(): Locator {
    return this.page.getByTestId('label-export-dialog');
  }

  /** Light and dark screenshots of the page into AIDOS_E2E_SHOTS (when set): for looking at, never committed. */
  async screenshots(name: string): Promise<void> {
    const dir = process.env.AIDOS_E2E_SHOTS;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await this.page.emulateMedia({ colorScheme: scheme });
      await this.page.waitForTimeout(150);
      await this.page.screenshot({ path: path.join(dir, `labeling-${name}-${scheme}.png`), fullPage: true });
    }
    await this.page.emulateMedia({ colorScheme: 'light' });
  }
}

/** A folder of files (dated an hour back), imported as a dataset through the API the way a script would. */
export async function importFiles(
  server: TestServer,
  dataset: string,
  files: Record<string, string | Buffer>,
): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-labeling-'));
  try {
    const when = new Date(Date.now() - 60 * 60_000);
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(dir, rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      await utimes(file, when, when);
    }
    const job = await server.api.call('datasets.import', { dataset, path: dir, create: true });
    for (let i = 0; i < 300; i++) {
      const now = await server.api.call('jobs.get', { id: job.id });
      if (now.status === 'succeeded') return;
      if (now.status === 'failed' || now.status === 'cancelled') {
        throw new Error(`import ${now.status}: ${now.error?.message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the import did not finish');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Waits until the version's profile exists (imports start a profile job by themselves). */
export async function waitForProfile(server: TestServer, dataset: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      await server.api.call('datasets.profile', { dataset, version: 'latest' });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('the profile was not made');
}
