import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '#shared/contracts/dataforge';
import type { Job } from '#shared/contracts/jobs';
import { startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { BLOB_OWNER } from './service';
import { tarArchive, zipArchive } from '#platform/test-archives';

let t: TestCore;
let work: ReturnType<typeof tempDir>;
beforeAll(async () => {
  t = await startTestCore({ dataforge: { maxFileBytes: 64 * 1024 } });
  work = tempDir('aidos-formats-');
});
afterAll(async () => {
  await t.close();
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

async function importPath(dataset: string, target: string, extract?: boolean): Promise<Job> {
  return finished(
    await t.client.call('datasets.import', {
      dataset,
      path: target,
      create: true,
      ...(extract === undefined ? {} : { extract }),
    }),
  );
}

async function imported(dataset: string, target: string, extract?: boolean): Promise<ImportResult> {
  const job = await importPath(dataset, target, extract);
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  return job.result as ImportResult;
}

function folderWith(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(work.dir, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const parquet = (name: string) => readFileSync(fixturePath('data', name));

const profileOf = (dataset: string, version: string) =>
  waitFor(() => t.client.call('datasets.profile', { dataset, version }).catch(() => undefined), 20_000, 'profile');

/** Blob references held for dataforge under anything but a version: what a failed import must not leave. */
function strayRefs(): string[] {
  const isVersion = t.core.db.prepare('SELECT 1 FROM dataforge_versions WHERE id = ?');
  return t.core.blobs.refHolders(BLOB_OWNER).filter((ref) => isVersion.get(ref) === undefined);
}

describe('Parquet tables', () => {
  it('profiles, checks, browses and diffs a Parquet table like a CSV one', async () => {
    const folder = folderWith('people', { 'people.parquet': parquet('people.parquet') });
    const first = await imported('people-pq', folder);
    expect(first.version).toMatchObject({ number: 1, kind: 'tabular' });

    const profile = await profileOf('people-pq', '1');
    const table = profile.tables[0];
    expect(table).toMatchObject({ path: 'people.parquet', format: 'parquet', rows: 10, badRowCount: 0 });
    const types = Object.fromEntries((table?.columns ?? []).map((c) => [c.name, c.type]));
    expect(types).toMatchObject({
      id: 'integer',
      name: 'string',
      age: 'integer',
      score: 'number',
      active: 'boolean',
      joined: 'datetime',
      seen_at: 'datetime',
      big: 'integer',
    });
    expect(table?.columns.find((c) => c.name === 'age')).toMatchObject({ missing: 1, min: 31, max: 40 });

    const quality = await waitFor(
      () => t.client.call('datasets.quality', { dataset: 'people-pq', version: '1' }).catch(() => undefined),
      30_000,
      'quality report',
    );
    expect(quality.tables).toEqual([expect.objectContaining({ path: 'people.parquet', rows: 10 })]);

    const page = await t.client.call('datasets.rows', {
      dataset: 'people-pq',
      version: '1',
      path: 'people.parquet',
      sort: { column: 'age', order: 'desc' },
      filters: [{ column: 'active', op: 'eq', value: 'true' }],
      limit: 2,
    });
    expect(page).toMatchObject({ columns: expect.arrayContaining(['id', 'name']), total: 5, lines: [10, 8] });
    expect(page.rows.map((r) => r[1])).toEqual(['Margaret', 'Ken']);

    writeFileSync(path.join(folder, 'people.parquet'), parquet('people-v2.parquet'));
    await imported('people-pq', folder);
    const diff = await t.client.call('datasets.tableDiff', {
      dataset: 'people-pq',
      from: '1',
      to: '2',
      path: 'people.parquet',
      key: 'id',
    });
    expect(diff.rows).toEqual({ added: 1, removed: 1, changed: 1, unchanged: 8 });
    expect(diff.samples.changed[0]?.values[1]).toBe('Linus T.');
    expect(diff.samples.removed[0]?.values[1]).toBe('Margaret');
  });

  it('reports a corrupt Parquet file as an unreadable table, not a failed job', async () => {
    await imported('broken-pq', folderWith('broken', { 'broken.parquet': 'PAR1 this is not parquet PAR1' }));
    const table = (await profileOf('broken-pq', '1')).tables[0];
    expect(table).toMatchObject({ format: 'parquet', rows: 0, columns: [], badRowCount: 1 });
    expect(table?.badRows[0]?.reason).toMatch(/^not a readable Parquet file/);
    const page = await t.client.call('datasets.rows', { dataset: 'broken-pq', version: '1', path: 'broken.parquet' });
    expect(page).toMatchObject({ columns: [], rows: [], total: 0 });
  });
});

describe('archive imports', () => {
  it('imports the files of a zip with their paths, and of a .tar.gz alike', async () => {
    const zip = path.join(work.dir, 'shapes.zip');
    writeFileSync(
      zip,
      zipArchive([
        { name: 'shapes/' },
        { name: 'shapes/train.csv', content: 'w,h\n1,2\n3,4\n', deflate: true },
        { name: 'shapes/notes/readme.txt', content: 'two shapes' },
      ]),
    );
    const result = await imported('shapes', zip);
    expect(result).toMatchObject({ created: true, files: 2, bytes: 22 });
    const files = await t.client.call('datasets.files', { dataset: 'shapes', version: '1' });
    expect(files.items.map((f) => f.path)).toEqual(['shapes/notes/readme.txt', 'shapes/train.csv']);

    const tgz = path.join(work.dir, 'shapes.tgz');
    writeFileSync(
      tgz,
      gzipSync(
        tarArchive([
          { path: 'shapes/', type: 'Directory' },
          { path: 'shapes/train.csv', content: 'w,h\n1,2\n3,4\n' },
          { path: 'shapes/notes/readme.txt', content: 'two shapes' },
        ]),
      ),
    );
    // The same files make the same manifest: no new version.
    expect(await imported('shapes', tgz)).toMatchObject({ created: false, version: { number: 1 } });
  });

  it('keeps an archive as one file when asked not to extract it', async () => {
    const zip = path.join(work.dir, 'kept.zip');
    writeFileSync(zip, zipArchive([{ name: 'a.txt', content: 'a' }]));
    expect(await imported('kept', zip, false)).toMatchObject({ files: 1 });
    const files = await t.client.call('datasets.files', { dataset: 'kept', version: '1' });
    expect(files.items.map((f) => f.path)).toEqual(['kept.zip']);
  });

  it('refuses an archive with a traversal entry or a link: the job fails naming it and nothing is kept', async () => {
    const zip = path.join(work.dir, 'evil.zip');
    writeFileSync(
      zip,
      zipArchive([
        { name: 'ok.txt', content: 'fine' },
        { name: '../../outside.txt', content: 'escape' },
      ]),
    );
    const zipJob = await importPath('evil', zip);
    expect(zipJob.status).toBe('failed');
    expect(zipJob.error?.message).toMatch(/archive entry '..\/..\/outside.txt' climbs out of the archive/);

    // In a tar the good file before the link is stored first; its reference must be dropped.
    const tar = path.join(work.dir, 'evil.tar');
    writeFileSync(
      tar,
      tarArchive([
        { path: 'ok.txt', content: 'stored before the link is seen' },
        { path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' },
      ]),
    );
    const tarJob = await importPath('evil', tar);
    expect(tarJob.status).toBe('failed');
    expect(tarJob.error?.message).toMatch(/archive entry 'passwd' is a symbolic link/);

    expect((await t.client.call('datasets.get', { dataset: 'evil' })).versionCount).toBe(0);
    expect(strayRefs()).toEqual([]);
  });

  it('refuses a file over the configured size, in a folder, as a file or in an archive', async () => {
    const big = Buffer.alloc(64 * 1024 + 1, 1);
    const folder = folderWith('big', { 'small.txt': 'ok', 'sub/big.bin': big });
    const folderJob = await importPath('big', folder);
    expect(folderJob.status).toBe('failed');
    expect(folderJob.error?.message).toContain("'sub/big.bin' is 65537 bytes, over the limit of 65536 bytes per file");

    const fileJob = await importPath('big', path.join(folder, 'sub/big.bin'));
    expect(fileJob.error?.message).toContain("'big.bin' is 65537 bytes");

    const tgz = path.join(work.dir, 'big.tgz');
    writeFileSync(tgz, gzipSync(tarArchive([{ path: 'data/big.bin', content: big }])));
    const archiveJob = await importPath('big', tgz);
    expect(archiveJob.error?.message).toContain("'data/big.bin' is 65537 bytes");

    expect((await t.client.call('datasets.get', { dataset: 'big' })).versionCount).toBe(0);
    expect(strayRefs()).toEqual([]);
  });

  it('refuses an upload over the same configured size', async () => {
    await expect(t.client.call('uploads.create', { filename: 'big.bin', size: 64 * 1024 + 1 })).rejects.toThrow(
      "'big.bin' is 65537 bytes, over the limit of 65536 bytes per file",
    );
  });

  it('imports a real CSV packed in a zip and profiles it', async () => {
    const csv = readFileSync(fixturePath('data', 'iris.csv'));
    const zip = path.join(work.dir, 'iris.zip');
    writeFileSync(zip, zipArchive([{ name: 'iris/iris.csv', content: csv, deflate: true }]));
    await imported('iris-zip', zip);
    const profile = await profileOf('iris-zip', '1');
    expect(profile.tables[0]).toMatchObject({ path: 'iris/iris.csv', format: 'csv', rows: 150 });
  });
});
