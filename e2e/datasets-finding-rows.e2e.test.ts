import { copyFile, mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { QualityReport } from '#shared/contracts/dataforge';
import { AppShell } from './pages/app';
import { DatasetsPage } from './pages/datasets';
import { FindingRows } from './pages/finding-rows';
import { useApp } from './support/app';
import type { TestServer } from './support/server';

const PENGUINS = path.resolve(import.meta.dirname, '../test-fixtures/data/penguins.csv');

/** Imports a folder with a copy of penguins.csv (which has blanks) and waits for its quality report. */
async function importPenguins(server: TestServer, dir: string): Promise<QualityReport> {
  await copyFile(PENGUINS, path.join(dir, 'penguins.csv'));
  const hourAgo = new Date(Date.now() - 60 * 60_000);
  await utimes(path.join(dir, 'penguins.csv'), hourAgo, hourAgo);
  await server.api.call('datasets.import', { dataset: 'zoo', path: dir, create: true });
  // The import profiles the version and then checks it, by itself.
  for (let i = 0; i < 600; i++) {
    const report = await server.api.call('datasets.quality', { dataset: 'zoo', version: '1' }).catch(() => null);
    if (report) return report;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no quality report');
}

describe('quality findings lead to their rows', () => {
  const app = useApp();
  const temp: string[] = [];
  afterEach(async () => {
    await Promise.all(temp.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  test("a finding's line opens the page of that row, highlighted and in view; Show rows lists only its rows", async () => {
    const { server, page } = await app.start();
    const shell = new AppShell(page, server.url);
    const datasets = new DatasetsPage(page);
    const links = new FindingRows(page);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-finding-rows-'));
    temp.push(dir);
    const report = await importPenguins(server, dir);
    const missingSex = report.findings.find(
      (f) => f.check === 'missing' && f.table === 'penguins.csv' && f.column === 'sex',
    );
    expect(missingSex?.lines.length).toBeGreaterThan(5);
    const rowCount = (await readFile(PENGUINS, 'utf8')).trimEnd().split('\n').length - 1;

    await shell.openWithToken('/datasets', server.token);
    await datasets.openDataset('zoo');
    await datasets.tab('Quality');
    const finding = links.finding('missing', 'penguins.csv', 'sex');
    await finding.waitFor({ timeout: 30_000 });
    const shown = await links.lineLinks(finding);
    expect(shown).toEqual(missingSex!.lines.slice(0, shown.length));
    // A line past the first page of 50 rows: the Rows tab must open a later page.
    const line = shown.find((l) => l > 52);
    expect(line).toBeDefined();

    await links.followLine(finding, line!);
    expect(links.param('tab')).toBe('rows');
    expect(links.param('table')).toBe('penguins.csv');
    expect(links.param('line')).toBe(String(line));
    await links.focusedRow.waitFor();
    expect(await links.focusedRow.getAttribute('data-line')).toBe(String(line));
    await expect.poll(async () => links.focusedRow.isVisible()).toBe(true);
    await expect
      .poll(async () =>
        links.focusedRow.evaluate((el) => {
          const r = el.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }),
      )
      .toBe(true);
    expect((await datasets.columnValues('sex'))[(await datasets.lineNumbers()).indexOf(line!)]).toBeNull();
    await datasets.waitForTotal(rowCount);

    // Paging on lets the line go.
    const pageOfLine = await datasets.lineNumbers();
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => links.param('line')).toBeNull();
    await expect.poll(async () => (await datasets.lineNumbers())[0]).toBe((pageOfLine.at(-1) ?? 0) + 1);
    expect(await links.focusedRow.count()).toBe(0);

    // Show rows: only the finding's rows, with a chip that brings the whole table back.
    await datasets.tab('Quality');
    await finding.waitFor();
    await links.showRows(finding);
    await datasets.waitForTotal(missingSex!.lines.length);
    expect(await datasets.lineNumbers()).toEqual([...missingSex!.lines].sort((a, b) => a - b));
    expect(new Set(await datasets.columnValues('sex'))).toEqual(new Set([null]));
    expect(await links.linesChip.getAttribute('data-count')).toBe(String(missingSex!.lines.length));
    expect(links.param('lines')).toBe([...missingSex!.lines].sort((a, b) => a - b).join(','));

    // The place survives a reload: it is in the URL.
    await page.reload();
    await datasets.waitForTotal(missingSex!.lines.length);

    await links.clearLines();
    await datasets.waitForTotal(rowCount);
    expect(links.param('lines')).toBeNull();
    expect(await links.linesChip.count()).toBe(0);
  });
});
