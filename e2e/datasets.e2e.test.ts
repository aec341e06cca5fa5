import { appendFile, copyFile, mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DatasetsPage } from './pages/datasets';
import { useApp } from './support/app';
import { importFolder } from './support/datasets';

const FIXTURES = path.resolve(import.meta.dirname, '../test-fixtures/data');
const IRIS = path.join(FIXTURES, 'iris.csv');
const PENGUINS = path.join(FIXTURES, 'penguins.csv');

/** A folder with copies of iris.csv and penguins.csv, dated in the past so that re-imports may trust the stat cache. */
async function dataFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-data-'));
  await copyFile(IRIS, path.join(dir, 'iris.csv'));
  await copyFile(PENGUINS, path.join(dir, 'penguins.csv'));
  await backdate(dir);
  return dir;
}

/** Sets the times of files an hour back (a change of times is also a change of ctime, which the stat cache checks). */
async function backdate(dir: string, names?: string[]): Promise<void> {
  const when = new Date(Date.now() - 60 * 60_000);
  for (const name of names ?? (await readdir(dir))) await utimes(path.join(dir, name), when, when);
}

/** Penguins as the test reads it: the header and rows of plain comma-separated values (the file has no quotes). */
async function penguins(): Promise<{ header: string[]; rows: string[][] }> {
  const [head = '', ...lines] = (await readFile(PENGUINS, 'utf8')).trimEnd().split('\n');
  return { header: head.split(','), rows: lines.map((l) => l.split(',')) };
}

describe('datasets', () => {
  const app = useApp();
  const temp: string[] = [];
  afterEach(async () => {
    await Promise.all(temp.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('importing a folder through the dialog makes v1 with its two files; a changed file makes v2, shown in the diff; tags are chips', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const dir = await dataFolder();
    temp.push(dir);

    await shell.openWithToken('/', server.token);
    await datasets.navLink.click();
    await datasets.heading.waitFor();
    await datasets.emptyState.waitFor();
    expect(await page.getByText('aidos datasets import <path>').count()).toBe(1);

    // A path that does not exist: the server's answer, in words.
    await page.getByRole('button', { name: 'Import from a folder…' }).first().click();
    await datasets.submitImport({ name: 'tabular', path: path.join(dir, 'missing'), message: 'first import' });
    const refused = datasets.importDialog.getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/The import did not start.*does not exist/);

    await datasets.submitImport({ path: dir });
    const first = await datasets.importOutcome();
    expect(first.created).toBe(true);
    expect(first.text).toContain('Created v1: 2 files');
    await datasets.importDialog.getByRole('link', { name: 'Open tabular' }).click();
    await page.locator('[data-testid="dataset-page"][data-name="tabular"]').waitFor();
    // A dataset page is a deep link: reloading it (or opening it from a bookmark) shows it again.
    await page.reload();
    await page.locator('[data-testid="dataset-page"][data-name="tabular"]').waitFor();

    // v1 with its two files, listed in the Files tab.
    const v1 = datasets.versionRow(1);
    await v1.waitFor();
    expect(await v1.getByRole('cell').nth(2).textContent()).toBe('2');
    expect(await v1.textContent()).toContain('first import');
    await datasets.fileRow('iris.csv').waitFor();
    await datasets.fileRow('penguins.csv').waitFor();

    // Change iris.csv and import again: v2, and only the changed file is read.
    await appendFile(path.join(dir, 'iris.csv'), '5.0,3.3,1.4,0.2,setosa\n');
    await backdate(dir, ['iris.csv']);
    await page.getByRole('button', { name: 'Import a new version…' }).click();
    await datasets.submitImport({ path: dir, message: 'one more iris' });
    const second = await datasets.importOutcome();
    expect(second.created).toBe(true);
    expect(second.text).toContain('Created v2');
    expect(second.text).toContain('Read 1 of 2 files');
    await datasets.closeImportDialog();
    await page.locator('[data-testid="version-row"][data-version="2"][aria-selected="true"]').waitFor();

    // The same content again: no new version.
    await page.getByRole('button', { name: 'Import a new version…' }).click();
    await datasets.submitImport({ path: dir });
    const third = await datasets.importOutcome();
    expect(third.created).toBe(false);
    expect(third.text).toContain('Unchanged, no new version');
    await datasets.closeImportDialog();
    expect(await page.getByTestId('version-row').count()).toBe(2);

    // The diff of v2 against v1: iris.csv changed, nothing added or removed.
    await datasets.tab('Diff');
    await datasets.diffSection('changed').waitFor();
    expect(await datasets.diffCount('changed').textContent()).toBe('1 changed');
    expect(await datasets.diffCount('added').textContent()).toBe('0 added');
    expect(await datasets.diffSection('changed').textContent()).toContain('iris.csv');
    expect(await page.getByTestId('diff-summary').textContent()).toContain('1 unchanged');

    // Tag v1 "golden": a chip on its row; a second tag comes and goes.
    await datasets.selectVersion(1);
    await datasets.addTag(1, 'golden');
    await datasets.tagChip(1, 'golden').waitFor();
    await datasets.addTag(1, 'scratch');
    await datasets.tagChip(1, 'scratch').waitFor();
    await datasets.removeTag(1, 'scratch');
    await datasets.tagChip(1, 'scratch').waitFor({ state: 'detached' });
    expect((await server.api.call('datasets.version', { dataset: 'tabular', version: 'golden' })).number).toBe(1);

    // The list shows both versions and the latest.
    await datasets.navLink.click();
    await datasets.row('tabular').waitFor();
    expect(await datasets.row('tabular').getByTestId('dataset-versions').textContent()).toBe('2');
    expect(await datasets.row('tabular').getByTestId('dataset-latest').textContent()).toContain('v2');
  });

  test('a version without a profile offers to make one; the profile shows every penguins column with the missing values of columns with blanks', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const dir = await dataFolder();
    temp.push(dir);
    await importFolder(server, 'zoo', dir);

    // The import profiles the version by itself; to see the page of a version without a profile, the browser is
    // told "not found" until the button is pressed.
    let hideProfile = true;
    await page.route(/\/api\/v1\/datasets\/zoo\/versions\/[^/]+\/profile$/, (route) =>
      hideProfile && route.request().method() === 'GET'
        ? route.fulfill({
            status: 404,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'v1 of zoo has no profile yet' } }),
          })
        : route.continue(),
    );
    await shell.openWithToken('/datasets', server.token);
    await datasets.openDataset('zoo');
    await datasets.tab('Profile');
    await datasets.profileMissing.waitFor();
    hideProfile = false;
    await datasets.profileThisVersion();
    await datasets.tableProfile('penguins.csv').waitFor({ timeout: 30_000 });
    const profileJobs = await server.api.call('jobs.list', { type: 'dataforge.profile' });
    expect(profileJobs.items.length).toBe(2); // the import's and the button's
    const { header, rows } = await penguins();
    const shown = await datasets
      .tableProfile('penguins.csv')
      .getByTestId('column-profile')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-column')));
    expect(shown).toEqual(header);
    expect(await datasets.tableProfile('penguins.csv').getByTestId('table-rows').textContent()).toContain(
      `${rows.length} rows`,
    );

    const beak = header.indexOf('beak_length');
    const blanks = rows.filter((r) => (r[beak] ?? '') === '').length;
    expect(blanks).toBeGreaterThan(0);
    expect(await datasets.missingCount('penguins.csv', 'beak_length')).toBe(blanks);
    expect(
      await datasets.columnProfile('penguins.csv', 'beak_length').getByTestId('column-missing').textContent(),
    ).toMatch(new RegExp(`^${blanks} \\(`));
    expect(await datasets.columnProfile('penguins.csv', 'beak_length').getAttribute('data-type')).toBe('number');
    expect(await datasets.columnProfile('penguins.csv', 'species').getAttribute('data-type')).toBe('string');
    await datasets.columnProfile('penguins.csv', 'body_mass').getByTestId('histogram').waitFor();
    expect(await datasets.columnProfile('penguins.csv', 'species').textContent()).toContain('Adelie');
    // iris.csv is profiled too, and has no blanks.
    expect(await datasets.missingCount('iris.csv', 'sepal_length')).toBe(0);
  });

  test('the rows of a table sort by a clicked column and narrow with a filter, with the total and line numbers', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const dir = await dataFolder();
    temp.push(dir);
    await importFolder(server, 'zoo', dir);
    const { header, rows } = await penguins();
    const mass = header.indexOf('body_mass');
    const masses = rows
      .map((r) => r[mass] ?? '')
      .filter((v) => v !== '')
      .map(Number);
    const gentoo = rows.filter((r) => r[0] === 'Gentoo');

    await shell.openWithToken('/datasets', server.token);
    await datasets.openDataset('zoo');
    await datasets.tab('Rows');
    await datasets.page.getByTestId('rows-tab').waitFor();
    await datasets.chooseTable('penguins.csv');
    await datasets.waitForTotal(rows.length);
    // Line numbers are those in the file: the header is line 1.
    expect((await datasets.lineNumbers()).slice(0, 3)).toEqual([2, 3, 4]);
    expect((await datasets.columnValues('species'))[0]).toBe(rows[0]?.[0]);

    await datasets.sortBy('body_mass');
    await expect.poll(async () => (await datasets.columnValues('body_mass'))[0]).toBe(String(Math.min(...masses)));
    await datasets.sortBy('body_mass');
    await expect.poll(async () => (await datasets.columnValues('body_mass'))[0]).toBe(String(Math.max(...masses)));
    expect(await datasets.rowsTotal()).toBe(rows.length);

    await datasets.addFilter('species', '=', 'Gentoo');
    await datasets.waitForTotal(gentoo.length);
    const species = await datasets.columnValues('species');
    expect(new Set(species)).toEqual(new Set(['Gentoo']));
    // Still sorted, descending: the heaviest Gentoo first, and line numbers are those in the file.
    const gentooMax = Math.max(...gentoo.map((r) => Number(r[mass] || 0)));
    expect((await datasets.columnValues('body_mass'))[0]).toBe(String(gentooMax));
    const firstLine = (await datasets.lineNumbers())[0] ?? 0;
    expect(rows[firstLine - 2]?.[mass]).toBe(String(gentooMax));

    // Missing values are filterable too, and removing the filters brings the whole table back.
    await datasets.page.getByRole('button', { name: 'Clear' }).click();
    await datasets.waitForTotal(rows.length);
    await datasets.addFilter('sex', 'is empty', '');
    await datasets.waitForTotal(rows.filter((r) => (r[header.indexOf('sex')] ?? '') === '').length);
  });

  test('exporting the selected version writes its files into a new folder and says so', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const dir = await dataFolder();
    const out = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-export-'));
    temp.push(dir, out);
    await importFolder(server, 'zoo', dir);

    await shell.openWithToken('/datasets', server.token);
    await datasets.openDataset('zoo');
    await datasets.versionRow(1).waitFor();
    await page.getByRole('button', { name: 'Export v1…' }).click();
    const target = path.join(out, 'zoo-v1');
    await datasets.exportDialog.getByLabel('Target folder on the server').fill(target);
    await datasets.exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
    const result = datasets.exportDialog.getByTestId('export-result');
    await result.waitFor({ timeout: 30_000 });
    expect(await result.textContent()).toContain(`Wrote 2 files`);
    expect((await readdir(target)).sort()).toEqual(['iris.csv', 'penguins.csv']);
    expect(await readFile(path.join(target, 'penguins.csv'), 'utf8')).toBe(await readFile(PENGUINS, 'utf8'));
  });
});
