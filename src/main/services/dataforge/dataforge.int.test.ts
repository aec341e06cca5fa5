import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { pngImage } from './test-images';

const FIXTURES = fixturePath('data');

let t: TestCore;
let work: ReturnType<typeof tempDir>;
beforeAll(async () => {
  t = await startTestCore();
  work = tempDir('aidos-data-');
});
let restartedDataDir: string | undefined;
afterAll(async () => {
  await t.close();
  if (restartedDataDir) rmSync(restartedDataDir, { recursive: true, force: true });
  work.remove();
});

async function finished(job: Job): Promise<Job> {
  return waitFor(
    async () => {
      const j = await t.client.call('jobs.get', { id: job.id });
      return ['succeeded', 'failed', 'cancelled'].includes(j.status) ? j : undefined;
    },
    30_000,
    `job ${job.type}`,
  );
}

async function importFolder(dataset: string, folder: string, message = ''): Promise<ImportResult> {
  const job = await finished(await t.client.call('datasets.import', { dataset, path: folder, message, create: true }));
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  return job.result as ImportResult;
}

function fixtureFolder(name: string, files: string[]): string {
  const dir = path.join(work.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
    age(path.join(dir, f));
  }
  return dir;
}

/** Files last changed an hour ago: the stat cache does not trust files modified within the last seconds. */
function age(file: string): void {
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(file, hourAgo, hourAgo);
}

describe('dataset versions', () => {
  it('imports a folder as version 1 with a manifest of every file, and stores identical content once', async () => {
    const folder = fixtureFolder('tables', ['iris.csv', 'penguins.csv', 'wine.csv']);
    const first = await importFolder('tables', folder, 'first cut');
    expect(first).toMatchObject({ created: true, files: 3, hashedFiles: 3, skipped: [] });
    expect(first.version).toMatchObject({
      number: 1,
      kind: 'tabular',
      fileCount: 3,
      message: 'first cut',
      parentId: null,
    });
    const files = await t.client.call('datasets.files', { dataset: 'tables', version: '1' });
    expect(files.items.map((f) => f.path)).toEqual(['iris.csv', 'penguins.csv', 'wine.csv']);
    expect(files.items[0]?.size).toBe(readFileSync(path.join(folder, 'iris.csv')).length);

    const blobsBefore = (await t.client.call('blobs.stats')).blobs;
    const copy = path.join(work.dir, 'tables-copy');
    cpSync(folder, copy, { recursive: true });
    await importFolder('tables-copy', copy);
    expect((await t.client.call('blobs.stats')).blobs).toBe(blobsBefore); // same files, same manifest: nothing new
  });

  it('re-imports an unchanged folder without reading its files and makes no version', async () => {
    const again = await importFolder('tables', path.join(work.dir, 'tables'));
    expect(again).toMatchObject({ created: false, hashedFiles: 0, hashedBytes: 0 });
    expect(again.version.number).toBe(1);
    expect((await t.client.call('datasets.get', { dataset: 'tables' })).versionCount).toBe(1);
  });

  it('makes version 2 when files change and diffs the two', async () => {
    const folder = path.join(work.dir, 'tables');
    appendFileSync(path.join(folder, 'iris.csv'), '5.0,3.0,1.5,0.2,setosa\n');
    age(path.join(folder, 'iris.csv'));
    unlinkSync(path.join(folder, 'wine.csv'));
    copyFileSync(path.join(FIXTURES, 'diabetes.csv'), path.join(folder, 'diabetes.csv'));
    const second = await importFolder('tables', folder, 'more iris, no wine');
    expect(second).toMatchObject({ created: true, hashedFiles: 2 });
    expect(second.version).toMatchObject({ number: 2, parentId: expect.any(String) });

    const diff = await t.client.call('datasets.diff', { dataset: 'tables', from: '1', to: 'latest' });
    expect(diff.added.map((e) => e.path)).toEqual(['diabetes.csv']);
    expect(diff.removed.map((e) => e.path)).toEqual(['wine.csv']);
    expect(diff.changed.map((e) => e.path)).toEqual(['iris.csv']);
    expect(diff.unchanged).toBe(1);
    const versions = await t.client.call('datasets.versions', { dataset: 'tables' });
    expect(versions.items.map((v) => v.number)).toEqual([2, 1]);
  });

  it('tags versions, moves a tag, resolves versions by tag, and removes tags', async () => {
    expect((await t.client.call('datasets.tag', { dataset: 'tables', version: '1', tag: 'golden' })).tags).toEqual([
      'golden',
    ]);
    expect((await t.client.call('datasets.version', { dataset: 'tables', version: 'golden' })).number).toBe(1);
    await t.client.call('datasets.tag', { dataset: 'tables', version: 'latest', tag: 'golden' });
    expect((await t.client.call('datasets.version', { dataset: 'tables', version: 'golden' })).number).toBe(2);
    expect((await t.client.call('datasets.version', { dataset: 'tables', version: '1' })).tags).toEqual([]);
    await t.client.call('datasets.untag', { dataset: 'tables', tag: 'golden' });
    await expect(t.client.call('datasets.version', { dataset: 'tables', version: 'golden' })).rejects.toThrow(
      "version 'golden' of dataset 'tables' does not exist",
    );
    await expect(t.client.call('datasets.tag', { dataset: 'tables', version: '1', tag: 'latest' })).rejects.toThrow(
      /is reserved/,
    );
  });

  it('exports a version to a new folder byte for byte, and refuses a non-empty one', async () => {
    const target = path.join(work.dir, 'export-v1');
    const job = await finished(
      await t.client.call('datasets.export', { dataset: 'tables', version: '1', path: target }),
    );
    expect(job.status).toBe('succeeded');
    expect(readdirSync(target).sort()).toEqual(['iris.csv', 'penguins.csv', 'wine.csv']);
    expect(readFileSync(path.join(target, 'wine.csv'))).toEqual(readFileSync(path.join(FIXTURES, 'wine.csv')));
    await expect(t.client.call('datasets.export', { dataset: 'tables', version: '1', path: target })).rejects.toThrow(
      /is not empty/,
    );
  });

  it('writes nothing to the target when an export fails on a corrupted blob', async () => {
    const { items } = await t.client.call('datasets.files', { dataset: 'tables', version: '2', prefix: 'diabetes' });
    // A small file's blob lies in a pack, with others: damage its bytes there, in place.
    const { file: blobFile, offset } = t.core.blobs.locate(items[0]?.sha256 as string);
    const original = readFileSync(blobFile);
    const tampered = Buffer.from(original);
    tampered.write('tampered', offset + 100);
    writeFileSync(blobFile, tampered);
    try {
      const target = path.join(work.dir, 'export-corrupt');
      const job = await finished(
        await t.client.call('datasets.export', { dataset: 'tables', version: '2', path: target }),
      );
      expect(job.status).toBe('failed');
      expect(job.error?.message).toMatch(/is corrupted/);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(work.dir).filter((n) => n.startsWith('export-corrupt'))).toEqual([]);
    } finally {
      writeFileSync(blobFile, original);
    }
  });
});

describe('quality reports', () => {
  const report = (dataset: string, version: string) =>
    waitFor(
      () => t.client.call('datasets.quality', { dataset, version }).catch(() => undefined),
      30_000,
      `quality of ${dataset}`,
    );

  it('checks every new version with tables by itself, linking findings to lines', async () => {
    const r = await report('tables', '1');
    expect(r.score).toBeGreaterThan(0);
    expect(r.score).toBeLessThanOrEqual(100);
    expect(r.tables.map((x) => x.path).sort()).toEqual(['iris.csv', 'penguins.csv', 'wine.csv']);
    const missing = r.findings.filter((f) => f.check === 'missing' && f.table === 'penguins.csv');
    expect(missing.find((f) => f.column === 'beak_length')).toMatchObject({ count: 2 });
    expect(missing.find((f) => f.column === 'beak_length')?.lines.length).toBe(2);
  });

  it('finds personal data and schema drift, and can be run again for a chosen label column', async () => {
    const dir = path.join(work.dir, 'contacts');
    mkdirSync(dir);
    const file = path.join(dir, 'contacts.csv');
    writeFileSync(file, 'id,name,segment\n1,ann,a\n2,bob,b\n3,cy,a\n4,dee,b\n');
    age(file);
    await importFolder('contacts', dir);
    await report('contacts', '1');
    writeFileSync(
      file,
      'id,name,segment,email,card\n1,ann,a,ann@example.com,4111 1111 1111 1111\n2,bob,b,bob@example.org,\n3,cy,a,,\n4,dee,b,,\n',
    );
    age(file);
    await importFolder('contacts', dir);
    // Drift is judged against v1's profile: wait for it, then check v2 afresh.
    await waitFor(
      () => t.client.call('datasets.profile', { dataset: 'contacts', version: '1' }).catch(() => undefined),
      20_000,
      'profile',
    );
    const job = await finished(
      await t.client.call('datasets.qualityRun', { dataset: 'contacts', version: '2', target: 'segment' }),
    );
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const r = await t.client.call('datasets.quality', { dataset: 'contacts', version: '2' });
    expect(r.target).toBe('segment');
    const pii = r.findings.filter((f) => f.check === 'pii');
    expect(pii.map((f) => f.column).sort()).toEqual(['card', 'email']);
    expect(pii.find((f) => f.column === 'email')).toMatchObject({ count: 2, lines: [2, 3] });
    expect(pii.find((f) => f.column === 'card')).toMatchObject({ severity: 'error', count: 1 });
    const drift = r.findings.filter((f) => f.check === 'schema_drift');
    expect(drift.length).toBeGreaterThan(0);
    expect(JSON.stringify(drift)).toMatch(/email/);
  });
});

describe('image folders', () => {
  it('recognises class-per-subfolder labels and reads image sizes', async () => {
    const dir = path.join(work.dir, 'shapes');
    for (const [cls, n] of [
      ['circle', 3],
      ['square', 2],
      ['triangle', 1],
    ] as const) {
      mkdirSync(path.join(dir, cls), { recursive: true });
      for (let i = 0; i < n; i++) writeFileSync(path.join(dir, cls, `${i}.png`), pngImage(8 + i, 6));
    }
    writeFileSync(path.join(dir, 'square', 'broken.png'), 'not an image');
    const result = await importFolder('shapes', dir);
    expect(result.version.kind).toBe('images');
    const profile = await waitFor(
      () => t.client.call('datasets.profile', { dataset: 'shapes', version: '1' }).catch(() => undefined),
      20_000,
      'profile',
    );
    expect(profile.images).toEqual({
      count: 7,
      formats: { png: 6 },
      classes: [
        { name: 'circle', count: 3 },
        { name: 'square', count: 3 },
        { name: 'triangle', count: 1 },
      ],
      width: { min: 8, max: 10 },
      height: { min: 6, max: 6 },
      unreadable: ['square/broken.png'],
    });
  });
});

describe('table diffs', () => {
  it('counts rows added, removed and changed by key, and columns added', async () => {
    const dir = path.join(work.dir, 'people');
    mkdirSync(dir);
    const file = path.join(dir, 'people.csv');
    writeFileSync(file, 'id,name,age\n1,ann,30\n2,bob,40\n3,cy,50\n');
    age(file);
    await importFolder('people', dir);
    writeFileSync(file, 'id,name,age,city\n1,ann,30,paris\n2,bob,41,rome\n4,dee,20,oslo\n');
    age(file);
    await importFolder('people', dir);
    const byKey = await t.client.call('datasets.tableDiff', {
      dataset: 'people',
      from: '1',
      path: 'people.csv',
      key: 'id',
    });
    expect(byKey.schema).toEqual({ added: ['city'], removed: [] });
    expect(byKey.rows).toEqual({ added: 1, removed: 1, changed: 2, unchanged: 0 });
    expect(byKey.samples.added).toEqual([{ line: 4, values: ['4', 'dee', '20', 'oslo'] }]);
    expect(byKey.samples.removed).toEqual([{ line: 4, values: ['3', 'cy', '50'] }]);
    const whole = await t.client.call('datasets.tableDiff', {
      dataset: 'people',
      from: '1',
      to: '2',
      path: 'people.csv',
    });
    expect(whole.rows).toEqual({ added: 3, removed: 3, changed: 0, unchanged: 0 });
    await expect(
      t.client.call('datasets.tableDiff', { dataset: 'people', from: '1', path: 'people.csv', key: 'email' }),
    ).rejects.toThrow("key: the table in v1 has no column 'email' (it has: id, name, age)");
  });

  it('sees an appended row as one added row', async () => {
    const diff = await t.client.call('datasets.tableDiff', { dataset: 'tables', from: '1', to: '2', path: 'iris.csv' });
    expect(diff.rows).toMatchObject({ added: 1, removed: 0, unchanged: 150 });
    expect(diff.samples.added[0]?.values).toEqual(['5.0', '3.0', '1.5', '0.2', 'setosa']);
  });
});

describe('watched folders', () => {
  it('imports a watched folder at once and again when its content settles, until unwatched', async () => {
    const folder = fixtureFolder('inbox', ['iris.csv']);
    const w = await t.client.call('datasets.watch', { dataset: 'inbox', path: folder, settleMs: 300, create: true });
    expect(w.path).toBe(folder);
    await waitFor(
      async () => ((await t.client.call('datasets.get', { dataset: 'inbox' })).versionCount === 1 ? true : undefined),
      20_000,
      'v1',
    );
    copyFileSync(path.join(FIXTURES, 'wine.csv'), path.join(folder, 'wine.csv'));
    await waitFor(
      async () => ((await t.client.call('datasets.get', { dataset: 'inbox' })).versionCount === 2 ? true : undefined),
      20_000,
      'v2',
    );
    const latest = await t.client.call('datasets.version', { dataset: 'inbox', version: 'latest' });
    expect(latest).toMatchObject({ fileCount: 2, author: 'folder watch' });
    await expect(t.client.call('datasets.watch', { dataset: 'inbox', path: folder })).rejects.toThrow(
      /already watched/,
    );

    await t.client.call('datasets.unwatch', { dataset: 'inbox', id: w.id });
    expect((await t.client.call('datasets.watches', { dataset: 'inbox' })).items).toEqual([]);
    copyFileSync(path.join(FIXTURES, 'penguins.csv'), path.join(folder, 'penguins.csv'));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await t.client.call('datasets.get', { dataset: 'inbox' })).versionCount).toBe(2);
  });

  it('refuses to watch something that is not a folder', async () => {
    await expect(
      t.client.call('datasets.watch', { dataset: 'tables', path: path.join(FIXTURES, 'iris.csv') }),
    ).rejects.toThrow(/iris\.csv is not a folder$/);
  });
});

describe('profiles and rows', () => {
  it('profiles the tables of a new version by itself: types, missing values, top values', async () => {
    const v = await t.client.call('datasets.version', { dataset: 'tables', version: '1' });
    const profile = await waitFor(
      () => t.client.call('datasets.profile', { dataset: 'tables', version: '1' }).catch(() => undefined),
      20_000,
      'profile',
    );
    expect(profile.versionId).toBe(v.id);
    const penguins = profile.tables.find((p) => p.path === 'penguins.csv');
    expect(penguins).toMatchObject({ format: 'csv', rows: 344, badRowCount: 0 });
    const col = (name: string) => penguins?.columns.find((c) => c.name === name);
    expect(col('species')).toMatchObject({
      type: 'string',
      distinct: 3,
      missing: 0,
      top: [
        { value: 'Adelie', count: 152 },
        { value: 'Gentoo', count: 124 },
        { value: 'Chinstrap', count: 68 },
      ],
    });
    expect(col('beak_length')).toMatchObject({ type: 'number', missing: 2, min: 32.1, max: 59.6 });
    expect(col('body_mass')?.type).toBe('integer');
    expect(col('sex')?.missing).toBeGreaterThan(0);
  });

  it('says a version has no profile yet, and profiles it on request', async () => {
    const folder = fixtureFolder('plain', ['wine.csv']);
    const result = await importFolder('plain', folder);
    // The import enqueued a profile job; wait for it, then ask for a fresh one explicitly.
    await waitFor(
      () => t.client.call('datasets.profile', { dataset: 'plain', version: '1' }).catch(() => undefined),
      20_000,
      'profile',
    );
    const job = await finished(
      await t.client.call('datasets.profileRun', { dataset: 'plain', version: String(result.version.number) }),
    );
    expect(job.status).toBe('succeeded');
    await expect(t.client.call('datasets.profile', { dataset: 'tables', version: '999' })).rejects.toThrow(
      "version '999' of dataset 'tables' does not exist",
    );
  });

  it('pages, sorts and filters rows of a table, with line numbers and the matching total', async () => {
    const page = await t.client.call('datasets.rows', {
      dataset: 'tables',
      version: '1',
      path: 'penguins.csv',
      limit: 3,
    });
    expect(page.columns).toEqual([
      'species',
      'island',
      'beak_length',
      'beak_depth',
      'flipper_length',
      'body_mass',
      'sex',
    ]);
    expect(page).toMatchObject({ total: 344, offset: 0, lines: [2, 3, 4] });
    const heaviest = await t.client.call('datasets.rows', {
      dataset: 'tables',
      version: '1',
      path: 'penguins.csv',
      limit: 2,
      sort: { column: 'body_mass', order: 'desc' },
    });
    expect(heaviest.rows.map((r) => r[5])).toEqual(['6300', '6050']);
    const gentoo = await t.client.call('datasets.rows', {
      dataset: 'tables',
      version: '1',
      path: 'penguins.csv',
      offset: 120,
      limit: 10,
      filters: [{ column: 'species', op: 'eq', value: 'Gentoo' }],
    });
    expect(gentoo.total).toBe(124);
    expect(gentoo.rows).toHaveLength(4);
    expect(gentoo.rows.every((r) => r[0] === 'Gentoo')).toBe(true);
    const missing = await t.client.call('datasets.rows', {
      dataset: 'tables',
      version: '1',
      path: 'penguins.csv',
      filters: [{ column: 'beak_length', op: 'empty', value: '' }],
    });
    expect(missing.total).toBe(2);
  });

  it('lets a column type be declared over the inferred one, for later versions too, and removed again', async () => {
    const before = await t.client.call('datasets.schema', { dataset: 'tables', version: '1', path: 'penguins.csv' });
    expect(before.columns.find((c) => c.name === 'body_mass')).toEqual({
      name: 'body_mass',
      inferred: 'integer',
      type: 'integer',
      overridden: false,
    });
    const after = await t.client.call('datasets.setSchema', {
      dataset: 'tables',
      version: '1',
      path: 'penguins.csv',
      types: { body_mass: 'number', sex: 'string' },
    });
    expect(after.columns.find((c) => c.name === 'body_mass')).toEqual({
      name: 'body_mass',
      inferred: 'integer',
      type: 'number',
      overridden: true,
    });
    await waitFor(
      () => t.client.call('datasets.profile', { dataset: 'tables', version: '2' }).catch(() => undefined),
      20_000,
      'profile v2',
    );
    const later = await t.client.call('datasets.schema', { dataset: 'tables', version: '2', path: 'penguins.csv' });
    expect(later.columns.find((c) => c.name === 'body_mass')?.type).toBe('number');
    await t.client.call('datasets.setSchema', {
      dataset: 'tables',
      version: '1',
      path: 'penguins.csv',
      types: { body_mass: null },
    });
    expect(
      (await t.client.call('datasets.schema', { dataset: 'tables', version: '1', path: 'penguins.csv' })).columns.find(
        (c) => c.name === 'body_mass',
      )?.overridden,
    ).toBe(false);
    await expect(
      t.client.call('datasets.setSchema', {
        dataset: 'tables',
        version: '1',
        path: 'penguins.csv',
        types: { wings: 'integer' },
      }),
    ).rejects.toThrow(/^types\.wings: the table has no column 'wings'/);
    const bad = await t.request('/api/v1/datasets/tables/versions/1/schema', {
      method: 'PUT',
      body: JSON.stringify({ path: 'penguins.csv', types: { sex: 'emoji' } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
  });

  it('names the problem with a rows request: unknown column, missing file, not a table', async () => {
    const base = { dataset: 'tables', version: '1' };
    await expect(
      t.client.call('datasets.rows', {
        ...base,
        path: 'penguins.csv',
        filters: [{ column: 'wings', op: 'eq', value: '2' }],
      }),
    ).rejects.toThrow(/^filters\.0\.column: the table has no column 'wings'/);
    await expect(t.client.call('datasets.rows', { ...base, path: 'nope.csv' })).rejects.toThrow(
      "v1 of 'tables' has no file 'nope.csv'",
    );
    await expect(
      t.client.call('datasets.rows', {
        ...base,
        path: 'iris.csv',
        sort: { column: 'species', order: 'asc' },
        offset: 99_990,
        limit: 20,
      }),
    ).rejects.toThrow(/sorted pages end at row 100000/);
  });

  it('reports malformed rows of a CSV by line in its profile, and keeps the good ones', async () => {
    const dir = path.join(work.dir, 'broken');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'broken.csv'), 'a,b\n1,2\n3\n4,5,6\n7,8\n');
    age(path.join(dir, 'broken.csv'));
    await importFolder('broken', dir);
    const profile = await waitFor(
      () => t.client.call('datasets.profile', { dataset: 'broken', version: '1' }).catch(() => undefined),
      20_000,
      'profile',
    );
    expect(profile.tables[0]).toMatchObject({
      rows: 2,
      badRowCount: 2,
      badRows: [
        { line: 3, reason: 'expected 2 fields, found 1' },
        { line: 4, reason: 'expected 2 fields, found 3' },
      ],
    });
  });
});

describe('dataset bad input', () => {
  it('names the problem with a path that is missing, relative, or a dataset that does not exist', async () => {
    await expect(
      t.client.call('datasets.import', { dataset: 'x', path: path.join(work.dir, 'nope'), create: true }),
    ).rejects.toThrow(/^path: .*nope does not exist$/);
    await expect(
      t.client.call('datasets.import', { dataset: 'x', path: 'relative/dir', create: true }),
    ).rejects.toThrow('body.path: must be an absolute path');
    await expect(t.client.call('datasets.import', { dataset: 'ghost', path: work.dir })).rejects.toThrow(
      "dataset 'ghost' does not exist",
    );
    await expect(t.client.call('datasets.create', { name: 'Bad Name!' })).rejects.toThrow(
      /^body\.name: must be 1-100 characters/,
    );
    await expect(t.client.call('datasets.create', { name: 'tables' })).rejects.toThrow(
      "a dataset named 'tables' already exists",
    );
  });

  it('rejects path traversal in dataset and version parameters', async () => {
    for (const p of [
      '/api/v1/datasets/..%2F..%2Fetc',
      '/api/v1/datasets/tables/versions/..%2F..%2Faidos.db',
      '/api/v1/datasets/tables/versions/1/files?prefix=x&after=y',
    ]) {
      const res = await t.request(p);
      if (p.includes('files')) expect(res.status).toBe(200);
      else {
        expect(res.status, p).toBe(400);
        expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
          /^path\.(dataset|version):/,
        );
      }
    }
  });

  it('skips a symbolic link that leads outside the folder, and says so', async () => {
    const folder = fixtureFolder('with-link', ['iris.csv']);
    symlinkSync('/etc/passwd', path.join(folder, 'passwd'));
    const result = await importFolder('with-link', folder);
    expect(result.files).toBe(1);
    expect(result.skipped).toEqual([{ path: 'passwd', reason: 'symbolic link (not followed)' }]);
  });

  it('drops blob references of an import interrupted by a crash when the core restarts', async () => {
    const dataDir = t.core.dataDir;
    const orphan = '01J0000000000000000000000Z';
    const { sha256 } = await t.core.blobs.put('half an import', { owner: 'dataforge', ref: orphan });
    await t.core.close(); // keeps the data dir, unlike t.close()
    t = await startTestCore({ dataDir });
    restartedDataDir = dataDir;
    expect(t.core.blobs.refsOf(sha256)).toEqual([]);
    expect((await t.client.call('datasets.get', { dataset: 'tables' })).versionCount).toBe(2);
  });
});
