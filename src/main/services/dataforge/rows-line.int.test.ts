import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '#shared/contracts/jobs';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';

const PENGUINS = path.join(fixturePath('data'), 'penguins.csv');
/** Penguins as lines of the file: `rows[i]` is at line i + 2 (the header is line 1). */
const rows = readFileSync(PENGUINS, 'utf8')
  .trimEnd()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
const lineOf = (i: number) => i + 2;

let t: TestCore;
let work: ReturnType<typeof tempDir>;
const base = { dataset: 'birds', version: '1' };

beforeAll(async () => {
  t = await startTestCore();
  work = tempDir('aidos-rows-line-');
  copyFileSync(PENGUINS, path.join(work.dir, 'penguins.csv'));
  // Good rows at lines 2-4 and 6-7; line 5 has a field too many.
  writeFileSync(path.join(work.dir, 'ragged.csv'), 'id,name\n1,a\n2,b\n3,c\n4,d,extra\n5,e\n6,f\n');
  const hourAgo = new Date(Date.now() - 3600_000);
  for (const f of ['penguins.csv', 'ragged.csv']) utimesSync(path.join(work.dir, f), hourAgo, hourAgo);
  const job = await t.client.call('datasets.import', { dataset: 'birds', path: work.dir, create: true });
  const done = await waitFor(
    async () => {
      const j: Job = await t.client.call('jobs.get', { id: job.id });
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    },
    30_000,
    'import',
  );
  expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
});
afterAll(async () => {
  await t.close();
  work.remove();
});

describe('the page holding a line', () => {
  it('opens the first page at its first row, with that row in focus', async () => {
    const page = await t.client.call('datasets.rows', { ...base, path: 'penguins.csv', limit: 50, line: 2 });
    expect(page).toMatchObject({ offset: 0, focus: 0, total: rows.length });
    expect(page.lines.slice(0, 2)).toEqual([2, 3]);
  });

  it('opens a later page, snapped to a page boundary, whatever offset was asked for', async () => {
    const page = await t.client.call('datasets.rows', {
      ...base,
      path: 'penguins.csv',
      limit: 50,
      offset: 7,
      line: 200,
    });
    // Line 200 is row 198 (0-based): the page of rows 150-199.
    expect(page).toMatchObject({ offset: 150, focus: 48, total: rows.length });
    expect(page.rows).toHaveLength(50);
    expect(page.lines[48]).toBe(200);
    expect(page.rows[48]).toEqual(rows[198]!.map((v) => (v === '' ? null : v)));
  });

  it('gives the page where a bad row would be, with no focus', async () => {
    const page = await t.client.call('datasets.rows', { ...base, path: 'ragged.csv', limit: 2, line: 5 });
    expect(page).toMatchObject({ offset: 2, lines: [4, 6], focus: null, total: 5 });
    const good = await t.client.call('datasets.rows', { ...base, path: 'ragged.csv', limit: 2, line: 6 });
    expect(good).toMatchObject({ offset: 2, lines: [4, 6], focus: 1 });
  });

  it('gives the last page for a line past the end, and refuses only a line below 1', async () => {
    const page = await t.client.call('datasets.rows', { ...base, path: 'penguins.csv', limit: 50, line: 1_000_000 });
    expect(page).toMatchObject({ offset: 300, focus: null, total: rows.length });
    expect(page.lines.at(-1)).toBe(lineOf(rows.length - 1));
    for (const line of [0, -3]) {
      const res = await t.request('/api/v1/datasets/birds/versions/1/rows', {
        method: 'POST',
        body: JSON.stringify({ path: 'penguins.csv', line }),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
    }
    await expect(
      t.client.call('datasets.rows', {
        ...base,
        path: 'penguins.csv',
        line: 10,
        sort: { column: 'body_mass', order: 'asc' },
      }),
    ).rejects.toThrow(/^line: .*leave out the sort/);
  });

  it('counts pages among the rows the filters keep', async () => {
    const gentoo = rows.flatMap((r, i) => (r[0] === 'Gentoo' ? [lineOf(i)] : []));
    const target = gentoo[25]!;
    const page = await t.client.call('datasets.rows', {
      ...base,
      path: 'penguins.csv',
      limit: 10,
      line: target,
      filters: [{ column: 'species', op: 'eq', value: 'Gentoo' }],
    });
    expect(page).toMatchObject({ offset: 20, focus: 5, total: gentoo.length, lines: gentoo.slice(20, 30) });
    // An Adelie line, with the Gentoo filter: the first Gentoo page, since every Adelie comes first.
    const adelie = await t.client.call('datasets.rows', {
      ...base,
      path: 'penguins.csv',
      limit: 10,
      line: 2,
      filters: [{ column: 'species', op: 'eq', value: 'Gentoo' }],
    });
    expect(adelie).toMatchObject({ offset: 0, focus: null, lines: gentoo.slice(0, 10) });
  });
});

describe('rows by line', () => {
  it('lists the rows of a quality finding together, page by page', async () => {
    const report = await waitFor(
      () => t.client.call('datasets.quality', base).catch(() => undefined),
      30_000,
      'quality report',
    );
    const sex = report.findings.find((f) => f.check === 'missing' && f.column === 'sex' && f.table === 'penguins.csv');
    expect(sex?.lines.length).toBeGreaterThan(3);
    const lines = sex!.lines;
    const all = await t.client.call('datasets.rows', { ...base, path: 'penguins.csv', lines });
    expect(all.lines).toEqual([...lines].sort((a, b) => a - b));
    expect(all.total).toBe(lines.length);
    expect(all.rows.every((r) => r[6] === null)).toBe(true);

    const second = await t.client.call('datasets.rows', { ...base, path: 'penguins.csv', lines, limit: 2, offset: 2 });
    expect(second).toMatchObject({ offset: 2, total: lines.length, lines: all.lines.slice(2, 4) });
    // With a line too: its page among the finding's rows.
    const focused = await t.client.call('datasets.rows', {
      ...base,
      path: 'penguins.csv',
      lines,
      limit: 2,
      line: all.lines[3]!,
    });
    expect(focused).toMatchObject({ offset: 2, focus: 1 });
  });

  it('skips lines that are no rows, and refuses more than 1000 lines', async () => {
    const page = await t.client.call('datasets.rows', { ...base, path: 'ragged.csv', lines: [1, 3, 5, 99] });
    expect(page).toMatchObject({ lines: [3], total: 1 });
    await expect(
      t.client.call('datasets.rows', {
        ...base,
        path: 'penguins.csv',
        lines: Array.from({ length: 1001 }, (_, i) => i + 2),
      }),
    ).rejects.toThrow(/lines/);
  });
});
