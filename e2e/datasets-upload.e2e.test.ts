import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Request, Route } from 'playwright-core';
import { afterEach, describe, expect, test } from 'vitest';
import { AppShell } from './pages/app';
import { DatasetsPage } from './pages/datasets';
import { useApp } from './support/app';
import { importFolder } from './support/datasets';
import { pngWithShapes } from './support/png';
import type { TestServer } from './support/server';

const FIXTURES = path.resolve(import.meta.dirname, '../test-fixtures/data');
const IRIS = path.join(FIXTURES, 'iris.csv');
const PENGUINS = path.join(FIXTURES, 'penguins.csv');
const WINE = path.join(FIXTURES, 'wine.csv');
const CHUNK = 8 * 1024 * 1024;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A version's files as the API lists them: path → size and sha256. */
async function filesOf(
  server: TestServer,
  dataset: string,
  version: number,
): Promise<Map<string, { size: number; sha256: string }>> {
  const page = await server.api.call('datasets.files', { dataset, version: String(version), limit: 5000 });
  return new Map(page.items.map((e) => [e.path, { size: e.size, sha256: e.sha256 }]));
}

describe('datasets: uploads from the browser', () => {
  const app = useApp();
  const temp: string[] = [];
  afterEach(async () => {
    await Promise.all(temp.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test('uploading two files makes v1 of a new dataset; one more uploaded on its page makes v2 with three; the same again changes nothing', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    await shell.openWithToken('/datasets', server.token);
    await datasets.heading.waitFor();

    await datasets.openUpload();
    await datasets.pickFiles([IRIS, PENGUINS]);
    await expect.poll(() => datasets.uploadPaths()).toEqual(['iris.csv', 'penguins.csv']);
    expect(await datasets.uploadDialog.getByTestId('upload-summary').textContent()).toMatch(/^2 files · /);
    // A name the API would refuse is explained before anything is sent.
    await datasets.uploadDialog.getByLabel('Dataset', { exact: true }).fill('Not OK');
    expect(await datasets.uploadDialog.getByText(/^The name must be 1-100 characters/).count()).toBe(1);
    expect(await datasets.uploadDialog.getByRole('button', { name: 'Upload 2 files' }).isDisabled()).toBe(true);

    await datasets.submitUpload({ name: 'uploaded', message: 'from the browser' });
    const first = await datasets.uploadOutcome();
    expect(first.created).toBe(true);
    expect(first.version).toBe(1);
    expect(first.text).toContain('Created v1 of uploaded: 2 files');
    expect(await datasets.uploadRow('iris.csv').getAttribute('data-phase')).toBe('done');

    const v1 = await filesOf(server, 'uploaded', 1);
    expect([...v1.keys()]).toEqual(['iris.csv', 'penguins.csv']);
    expect(v1.get('penguins.csv')?.sha256).toBe(sha256(await readFile(PENGUINS)));
    expect((await server.api.call('datasets.version', { dataset: 'uploaded', version: '1' })).message).toBe(
      'from the browser',
    );

    // The link in the dialog opens the new version.
    await datasets.uploadDialog.getByRole('link', { name: 'v1' }).click();
    await page.locator('[data-testid="dataset-page"][data-name="uploaded"]').waitFor();
    await datasets.versionRow(1).waitFor();
    expect(await datasets.versionRow(1).getByRole('cell').nth(2).textContent()).toBe('2');

    // On the dataset page: one more file, into a folder, on top of the latest version.
    await datasets.openUpload();
    await datasets.pickFiles([WINE]);
    await datasets.uploadDialog.getByLabel(/^Folder in the dataset/).fill('extra/');
    await expect.poll(() => datasets.uploadPaths()).toEqual(['extra/wine.csv']);
    await datasets.submitUpload();
    const second = await datasets.uploadOutcome();
    expect(second).toMatchObject({ created: true, version: 2 });
    expect(second.text).toContain('3 files');
    await datasets.closeUploadDialog();
    await page.locator('[data-testid="version-row"][data-version="2"][aria-selected="true"]').waitFor();
    expect(await datasets.versionRow(2).getByRole('cell').nth(2).textContent()).toBe('3');
    expect([...(await filesOf(server, 'uploaded', 2)).keys()]).toEqual(['extra/wine.csv', 'iris.csv', 'penguins.csv']);

    // The same file at the same place again: it is marked as replacing one, and no version is made.
    await datasets.openUpload();
    await datasets.pickFiles([WINE]);
    await datasets.uploadDialog.getByLabel(/^Folder in the dataset/).fill('extra');
    await datasets.uploadDialog
      .locator('[data-testid="upload-file"][data-path="extra/wine.csv"]')
      .getByText('replaces')
      .waitFor();
    await datasets.submitUpload();
    const third = await datasets.uploadOutcome();
    expect(third).toMatchObject({ created: false, version: 2 });
    expect(third.text).toContain('Unchanged, no new version');
    await datasets.closeUploadDialog();
    expect(await page.getByTestId('version-row').count()).toBe(2);
  });

  test('files dropped anywhere on the page open the upload dialog with them, and more drops add to the list', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    await shell.openWithToken('/datasets', server.token);
    await datasets.heading.waitFor();

    const files = (names: string[]) =>
      page.evaluateHandle((list) => {
        const data = new DataTransfer();
        for (const name of list) data.items.add(new File([`a,b\n1,${name}\n`], name, { type: 'text/csv' }));
        return data;
      }, names);
    const first = await files(['one.csv', 'two.csv']);
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: first });
    await page.getByTestId('drop-overlay').waitFor();
    await page.dispatchEvent('main', 'drop', { dataTransfer: first });
    await page.getByTestId('drop-overlay').waitFor({ state: 'detached' });
    await expect.poll(() => datasets.uploadPaths()).toEqual(['one.csv', 'two.csv']);
    // A second drop (onto the dialog) adds to the list; the same name replaces the earlier file.
    await datasets.uploadDialog
      .getByTestId('upload-drop')
      .dispatchEvent('drop', { dataTransfer: await files(['two.csv', 'three.csv']) });
    await expect.poll(() => datasets.uploadPaths()).toEqual(['one.csv', 'three.csv', 'two.csv']);
    await datasets.uploadDialog.getByRole('button', { name: 'Remove one.csv' }).click();
    await datasets.submitUpload({ name: 'dropped' });
    expect(await datasets.uploadOutcome()).toMatchObject({ created: true, version: 1 });
    expect([...(await filesOf(server, 'dropped', 1)).keys()]).toEqual(['three.csv', 'two.csv']);
  });

  test('an upload survives a dropped chunk: it asks the server where to resume and the content arrives intact; Pause holds it', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-upload-'));
    temp.push(dir);
    // Two chunks: 8 MiB and the rest (large request bodies are slow to pass through Playwright's interception).
    const bytes = randomBytes(CHUNK + 1234567);
    const big = path.join(dir, 'big.bin');
    await writeFile(big, bytes);

    const isChunk = (request: Request, offset: number) => {
      const url = new URL(request.url());
      return (
        request.method() === 'PUT' &&
        url.pathname.startsWith('/api/v1/uploads/') &&
        url.searchParams.get('offset') === String(offset)
      );
    };
    const seen: string[] = [];
    const declared: unknown[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (r.method() === 'POST' && url.pathname === '/api/v1/uploads')
        declared.push((r.postDataJSON() as { sha256?: unknown }).sha256);
      if (url.pathname.startsWith('/api/v1/uploads'))
        seen.push(`${r.method()} ${url.searchParams.get('offset') ?? ''}`.trim());
    });
    // The first chunk waits until the test has pressed Pause; the second fails once, as a dropped connection.
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstArrived: () => void = () => undefined;
    const firstSeen = new Promise<void>((resolve) => (firstArrived = resolve));
    let dropped = 0;
    await page.route(
      (url) => url.pathname.startsWith('/api/v1/uploads/'),
      async (route: Route) => {
        const request = route.request();
        if (isChunk(request, 0)) {
          firstArrived();
          await firstHeld;
          return route.continue();
        }
        if (isChunk(request, CHUNK) && dropped === 0) {
          dropped++;
          return route.abort('connectionreset');
        }
        return route.continue();
      },
    );

    await shell.openWithToken('/datasets', server.token);
    await datasets.openUpload();
    await datasets.pickFiles([big]);
    await datasets.submitUpload({ name: 'blobs' });
    await firstSeen;
    await datasets.uploadDialog.getByRole('button', { name: 'Pause' }).click();
    await datasets.uploadDialog.getByRole('button', { name: 'Resume' }).waitFor();
    releaseFirst();
    // The chunk under way finishes; the next one waits for Resume.
    await datasets.uploadRow('big.bin').and(page.locator('[data-phase="paused"]')).waitFor();
    await page.waitForTimeout(300);
    expect(seen.filter((s) => s === `PUT ${CHUNK}`)).toEqual([]);
    await datasets.uploadDialog.getByRole('button', { name: 'Resume' }).click();

    const outcome = await datasets.uploadOutcome();
    expect(outcome).toMatchObject({ created: true, version: 1 });
    expect(dropped).toBe(1);
    // After the failure the client asked where to resume, then sent the second chunk again.
    const afterDrop = seen.slice(seen.indexOf(`PUT ${CHUNK}`) + 1);
    expect(afterDrop[0]).toBe('GET');
    expect(afterDrop[1]).toBe(`PUT ${CHUNK}`);
    expect(afterDrop.slice(2)).toEqual([]);

    // The browser hashed the file and declared it, so the server would have refused a changed byte.
    expect(declared).toEqual([sha256(bytes)]);
    const files = await filesOf(server, 'blobs', 1);
    expect(files.get('big.bin')).toEqual({ size: bytes.length, sha256: sha256(bytes) });
  });

  test('a folder of class folders uploads with its relative paths, and the profile shows an images summary', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const root = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-images-'));
    temp.push(root);
    const pets = path.join(root, 'pets');
    await mkdir(path.join(pets, 'cat'), { recursive: true });
    await mkdir(path.join(pets, 'dog'), { recursive: true });
    await writeFile(path.join(pets, 'cat', '1.png'), pngWithShapes(4, 3, []));
    await writeFile(path.join(pets, 'cat', '2.png'), pngWithShapes(8, 6, []));
    await writeFile(path.join(pets, 'dog', '1.png'), pngWithShapes(16, 9, []));
    await writeFile(path.join(pets, 'dog', 'broken.png'), Buffer.from('not an image at all, sorry'));

    await shell.openWithToken('/datasets', server.token);
    await datasets.openUpload();
    await datasets.pickFolder(pets);
    // The folder names the dataset, and its files keep their paths inside it.
    await expect.poll(() => datasets.uploadPaths()).toEqual(['cat/1.png', 'cat/2.png', 'dog/1.png', 'dog/broken.png']);
    await expect.poll(() => datasets.uploadDialog.getByLabel('Dataset', { exact: true }).inputValue()).toBe('pets');
    await datasets.submitUpload();
    expect(await datasets.uploadOutcome()).toMatchObject({ created: true, version: 1 });
    await datasets.uploadDialog.getByRole('link', { name: 'v1' }).click();

    await datasets.tab('Profile');
    await datasets.imagesSummary.waitFor({ timeout: 30_000 });
    expect(await datasets.imagesSummary.getByTestId('images-count').textContent()).toBe('4 images');
    expect(await datasets.imageClasses()).toEqual({ cat: 2, dog: 2 });
    expect(await datasets.imagesSummary.getByTestId('images-width').textContent()).toBe('4 – 16 px');
    expect(await datasets.imagesSummary.getByTestId('images-height').textContent()).toBe('3 – 9 px');
    expect(await datasets.imagesSummary.getByTestId('images-formats').textContent()).toBe('png 3');
    expect(await datasets.imagesSummary.getByTestId('images-unreadable').textContent()).toContain('dog/broken.png');
  });

  test('the quality tab shows the score after running the checks with a chosen label column, and its findings lead to the rows', async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-quality-'));
    temp.push(dir);
    await copyFile(PENGUINS, path.join(dir, 'penguins.csv'));
    await copyFile(IRIS, path.join(dir, 'iris.csv'));
    await importFolder(server, 'zoo', dir);

    await shell.openWithToken('/datasets', server.token);
    await datasets.openDataset('zoo');
    await datasets.tab('Quality');
    // The import checks the version by itself: its report (or its job, followed) shows first.
    const run = page.getByRole('button', { name: 'Run checks', exact: true }).and(page.locator(':not([disabled])'));
    await run.waitFor({ timeout: 30_000 });
    const earlier = await server.api.call('datasets.quality', { dataset: 'zoo', version: '1' }).catch(() => null);
    await datasets.runQualityChecks('species');
    await expect
      .poll(
        async () => {
          const now = await server.api.call('datasets.quality', { dataset: 'zoo', version: '1' }).catch(() => null);
          return now !== null && now.createdAt !== earlier?.createdAt ? now.target : null;
        },
        { timeout: 30_000 },
      )
      .toBe('species');

    const report = await server.api.call('datasets.quality', { dataset: 'zoo', version: '1' });
    await page.locator(`[data-testid="quality-score"][data-score="${report.score}"]`).waitFor({ timeout: 30_000 });
    expect(await datasets.qualityScore.textContent()).toContain(
      Number.isInteger(report.score) ? String(report.score) : report.score.toFixed(1),
    );
    expect(await page.locator('[data-testid="quality-table"]').count()).toBe(report.tables.length);
    expect(await page.getByTestId('quality-finding').count()).toBe(report.findings.length);

    // penguins.csv has blanks: a missing-values finding with its lines, and a way to its rows.
    const missing = datasets.qualityFindings('missing').and(page.locator('[data-table="penguins.csv"]')).first();
    await missing.waitFor();
    expect(await missing.getByLabel('Affected lines').textContent()).toMatch(/lines?\s*\d+/);
    await missing.getByRole('button', { name: 'View rows' }).click();
    await page.getByTestId('rows-tab').waitFor();
    expect(new URL(page.url()).searchParams.get('table')).toBe('penguins.csv');
  });
});
