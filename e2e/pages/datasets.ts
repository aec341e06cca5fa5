import type { Locator, Page } from 'playwright-core';

/** The Datasets list, the import and export dialogs, and one dataset's page with its tabs. */
export class DatasetsPage {
  constructor(readonly page: Page) {}

  // The list
  get heading(): Locator {
    return this.page.getByRole('heading', { name: 'Datasets', level: 1 });
  }

  /** The sidebar entry (its accessible name also holds the service name, "dataforge"). */
  get navLink(): Locator {
    return this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Datasets/ });
  }

  get emptyState(): Locator {
    return this.page.getByText('No datasets yet');
  }

  row(name: string): Locator {
    return this.page.locator(`[data-testid="dataset-row"][data-name="${name}"]`);
  }

  async openDataset(name: string): Promise<void> {
    await this.row(name).getByRole('link', { name, exact: true }).click();
    await this.page.locator(`[data-testid="dataset-page"][data-name="${name}"]`).waitFor();
  }

  // Import
  get importDialog(): Locator {
    return this.page.getByTestId('import-dialog');
  }

  /** Fills and submits the import dialog (already open); `name` only when the dialog asks for one. */
  async submitImport(options: { path: string; name?: string; message?: string }): Promise<void> {
    const dialog = this.importDialog;
    if (options.name !== undefined) await dialog.getByLabel('Dataset', { exact: true }).fill(options.name);
    await dialog.getByLabel('Folder or file on the server').fill(options.path);
    if (options.message !== undefined) await dialog.getByLabel(/^Message/).fill(options.message);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
  }

  /** Waits for the followed import job to end and returns what the dialog says about it. */
  async importOutcome(): Promise<{ created: boolean; text: string }> {
    const result = this.importDialog.getByTestId('import-result');
    await result.waitFor({ timeout: 30_000 });
    return {
      created: (await result.getAttribute('data-created')) === 'true',
      text: (await result.textContent()) ?? '',
    };
  }

  async closeImportDialog(): Promise<void> {
    await this.importDialog.getByRole('button', { name: 'Done' }).click();
    await this.importDialog.waitFor({ state: 'hidden' });
  }

  // One dataset
  versionRow(number: number): Locator {
    return this.page.locator(`[data-testid="version-row"][data-version="${number}"]`);
  }

  async selectVersion(number: number): Promise<void> {
    await this.versionRow(number)
      .getByRole('button', { name: `v${number}`, exact: true })
      .click();
    await this.page.locator(`[data-testid="version-row"][data-version="${number}"][aria-selected="true"]`).waitFor();
  }

  tagChip(version: number, tag: string): Locator {
    return this.versionRow(version).locator(`[data-testid="tag-chip"][data-tag="${tag}"]`);
  }

  /** Tags the selected version. */
  async addTag(version: number, tag: string): Promise<void> {
    const form = this.page.getByRole('form', { name: `Tag v${version}` });
    await form.getByLabel(`New tag for v${version}`).fill(tag);
    await form.getByRole('button', { name: 'Add tag' }).click();
  }

  async removeTag(version: number, tag: string): Promise<void> {
    await this.tagChip(version, tag)
      .getByRole('button', { name: `Remove tag ${tag}` })
      .click();
  }

  async tab(name: 'Files' | 'Diff' | 'Profile' | 'Quality' | 'Rows'): Promise<void> {
    await this.page.getByRole('tablist', { name: 'Version views' }).getByRole('tab', { name }).click();
  }

  fileRow(path: string): Locator {
    return this.page.locator(`[data-testid="file-row"][data-path="${path}"]`);
  }

  // Diff
  diffSection(kind: 'added' | 'removed' | 'changed'): Locator {
    return this.page.getByTestId(`diff-${kind}`);
  }

  diffCount(kind: 'added' | 'removed' | 'changed'): Locator {
    return this.page.getByTestId(`diff-count-${kind}`);
  }

  // Profile
  get profileMissing(): Locator {
    return this.page.getByTestId('profile-missing');
  }

  async profileThisVersion(): Promise<void> {
    await this.profileMissing.getByRole('button', { name: 'Profile this version' }).click();
  }

  tableProfile(path: string): Locator {
    return this.page.getByTestId('table-profile').filter({ hasText: path });
  }

  columnProfile(path: string, column: string): Locator {
    return this.tableProfile(path).locator(`[data-testid="column-profile"][data-column="${column}"]`);
  }

  async missingCount(path: string, column: string): Promise<number> {
    return Number(await this.columnProfile(path, column).getAttribute('data-missing'));
  }

  // Rows
  async chooseTable(path: string): Promise<void> {
    await this.page.getByLabel('Table', { exact: true }).selectOption(path);
  }

  async rowsTotal(): Promise<number> {
    return Number(await this.page.getByTestId('rows-total').getAttribute('data-total'));
  }

  /** Waits until the rows on screen say `total`. */
  async waitForTotal(total: number): Promise<void> {
    await this.page.locator(`[data-testid="rows-total"][data-total="${total}"]`).waitFor();
  }

  async sortBy(column: string): Promise<void> {
    await this.page.locator(`[data-testid="column-header"][data-column="${column}"]`).click();
  }

  /** The values of one column in the rows shown, top to bottom. */
  async columnValues(column: string): Promise<(string | null)[]> {
    const headers = await this.page
      .getByTestId('column-header')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-column')));
    const index = headers.indexOf(column);
    if (index < 0) throw new Error(`no column ${column} among ${headers.join(', ')}`);
    return this.page
      .getByTestId('data-row')
      .evaluateAll(
        (rows, i) =>
          rows.map((r) =>
            r.children[i + 1]?.querySelector('.italic') ? null : (r.children[i + 1]?.textContent ?? null),
          ),
        index,
      );
  }

  async lineNumbers(): Promise<number[]> {
    return this.page
      .getByTestId('data-row')
      .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-line'))));
  }

  async addFilter(column: string, op: string, value: string): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Filter rows' });
    await form.getByLabel('Filter column').selectOption(column);
    await form.getByLabel('Filter operator').selectOption({ label: op });
    if (value) await form.getByLabel('Filter value').fill(value);
    await form.getByRole('button', { name: 'Add filter' }).click();
  }

  // Export
  get exportDialog(): Locator {
    return this.page.getByTestId('export-dialog');
  }

  // Upload
  get uploadDialog(): Locator {
    return this.page.getByTestId('upload-dialog');
  }

  /** Opens the upload dialog with the page's "Upload files…" button. */
  async openUpload(): Promise<void> {
    await this.page.getByRole('button', { name: 'Upload files…' }).click();
    await this.uploadDialog.getByRole('form', { name: 'Upload files' }).waitFor();
  }

  /** Picks files (absolute paths) with the dialog's file chooser, or a whole folder with its folder chooser. */
  async pickFiles(files: string[]): Promise<void> {
    await this.uploadDialog.getByTestId('upload-files-input').setInputFiles(files);
  }

  async pickFolder(dir: string): Promise<void> {
    await this.uploadDialog.getByTestId('upload-folder-input').setInputFiles(dir);
  }

  /** The paths the dialog will upload to, in its list. */
  async uploadPaths(): Promise<string[]> {
    return this.uploadDialog
      .getByTestId('upload-file')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-path') ?? ''));
  }

  /** Fills the dialog (already open, files picked) and presses Upload; `name` on the list page, `folder` on a dataset's. */
  async submitUpload(options: { name?: string; folder?: string; message?: string } = {}): Promise<void> {
    const dialog = this.uploadDialog;
    if (options.name !== undefined) await dialog.getByLabel('Dataset', { exact: true }).fill(options.name);
    if (options.folder !== undefined) await dialog.getByLabel(/^Folder in the dataset/).fill(options.folder);
    if (options.message !== undefined) await dialog.getByLabel(/^Message/).fill(options.message);
    await dialog.getByRole('button', { name: /^Upload \d+ files?$/ }).click();
  }

  uploadRow(path: string): Locator {
    return this.uploadDialog.locator(`[data-testid="upload-row"][data-path="${path}"]`);
  }

  /** Waits for the version to be made and returns what the dialog says. */
  async uploadOutcome(): Promise<{ created: boolean; version: number; text: string }> {
    const result = this.uploadDialog.getByTestId('upload-result');
    await result.waitFor({ timeout: 60_000 });
    return {
      created: (await result.getAttribute('data-created')) === 'true',
      version: Number(await result.getAttribute('data-version')),
      text: (await result.textContent()) ?? '',
    };
  }

  async closeUploadDialog(): Promise<void> {
    await this.uploadDialog.getByRole('button', { name: 'Done' }).click();
    await this.uploadDialog.waitFor({ state: 'hidden' });
  }

  // Profile: images
  get imagesSummary(): Locator {
    return this.page.getByTestId('images-summary');
  }

  /** The classes of the images summary with their counts. */
  async imageClasses(): Promise<Record<string, number>> {
    const pairs = await this.imagesSummary
      .getByTestId('image-class')
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-class') ?? '', Number(e.getAttribute('data-count'))] as const),
      );
    return Object.fromEntries(pairs);
  }

  // Quality
  get qualityScore(): Locator {
    return this.page.getByTestId('quality-score');
  }

  /** Picks the label column ("" to let the checks guess) and runs the checks. */
  async runQualityChecks(target: string): Promise<void> {
    await this.page.getByLabel('Label column').selectOption(target === '' ? { label: 'guess' } : target);
    await this.page.getByRole('button', { name: 'Run checks' }).click();
  }

  qualityFindings(check: string): Locator {
    return this.page.locator(`[data-testid="quality-finding"][data-check="${check}"]`);
  }
}
