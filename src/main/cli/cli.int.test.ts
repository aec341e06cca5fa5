import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '#shared/contracts/jobs';
import { runCli, serveCli, startTestCore, type TestCore } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';
import { zipArchive } from '#platform/test-archives';

const FIXTURES = fixturePath('data');

const aidos = runCli;

// Each command is a child process compiling the CLI with tsx: seconds each on a busy 2-core machine.
let t: TestCore;
let base: string[];
beforeAll(async () => {
  t = await startTestCore();
  // The CLI finds the URL (from the lock file) and the token (from the token file) in the data dir.
  base = ['--data-dir', t.core.dataDir];
});
afterAll(async () => {
  await t.close();
});

describe('aidos CLI', { timeout: 180_000 }, () => {
  it('shows status as JSON, found through the data dir alone', async () => {
    const r = await aidos([...base, '--json', 'status']);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as { url: string; dataDir: string; stats: { cpu: { cores: number } } };
    expect(status.url).toBe(t.core.url);
    expect(status.dataDir).toBe(t.core.dataDir);
    expect(status.stats.cpu.cores).toBeGreaterThan(0);
  });

  it('creates, lists and revokes API keys', async () => {
    const created = await aidos([...base, '--json', 'keys', 'create', 'ci bot', '--scope', 'read,write']);
    expect(created.code).toBe(0);
    const { key, secret } = JSON.parse(created.stdout) as { key: { id: string; scopes: string[] }; secret: string };
    expect(key.scopes).toEqual(['read', 'write']);
    const human = await aidos([...base, 'keys', 'list']);
    expect(human.stdout).toMatch(/ID\s+NAME\s+PREFIX/);
    expect(human.stdout).toContain('ci bot');
    const viaKey = await aidos(['--url', t.core.url, '--token', secret, '--json', 'tasks', 'list']);
    expect(viaKey.code).toBe(0);
    const revoked = await aidos([...base, 'keys', 'revoke', key.id]);
    expect(revoked.stdout).toContain(`revoked ${key.id}`);
    const refused = await aidos(['--url', t.core.url, '--token', secret, 'tasks', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/UNAUTHENTICATED.*was revoked/);
  });

  it('runs a task and follows it to the end with a progress bar', async () => {
    const r = await aidos([...base, 'tasks', 'run', 'system.sleep', '--payload', '{"ms":600,"steps":3}', '--wait']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/system\.sleep succeeded/);
    expect(r.stderr).toMatch(/system\.sleep \[.*\] 100%/);
  });

  it('lists and cancels tasks', async () => {
    const job = await t.client.call('jobs.enqueue', {
      type: 'system.sleep',
      payload: { ms: 30_000 },
      runAfter: Date.now() + 60_000,
    });
    const list = await aidos([...base, '--json', 'tasks', 'list', '--status', 'queued']);
    expect((JSON.parse(list.stdout) as { items: Job[] }).items.map((j) => j.id)).toContain(job.id);
    const cancelled = await aidos([...base, 'tasks', 'cancel', job.id]);
    expect(cancelled.stdout).toContain(`cancelled ${job.id}`);
  });

  it('explains bad input and an absent server, with a non-zero exit', async () => {
    const badId = await aidos([...base, 'tasks', 'cancel', '../../etc']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('error (INVALID_ARGUMENT): path.id: must be a 26-character id');
    const badJson = await aidos([...base, 'tasks', 'run', 'system.sleep', '--payload', '{oops']);
    expect(badJson.stderr).toContain('--payload: is not valid JSON');
    const badType = await aidos([...base, '--json', 'tasks', 'run', 'no.such.type']);
    expect(JSON.parse(badType.stderr)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const tmp = tempDir();
    try {
      const noToken = await aidos(['--data-dir', tmp.dir, 'status']);
      expect(noToken.stderr).toMatch(/no token: .*token does not exist/);
      const noServer = await aidos(['--url', 'http://127.0.0.1:9', '--token', 'x', 'status']);
      expect(noServer.code).toBe(1);
      expect(noServer.stderr).toContain('no AI-DOS server answers at http://127.0.0.1:9');
    } finally {
      tmp.remove();
    }
  });
});

describe('aidos datasets', { timeout: 180_000 }, () => {
  it('imports, lists versions, diffs, tags, profiles, exports and pushes', async () => {
    const tmp = tempDir('aidos-cli-data-');
    try {
      const folder = path.join(tmp.dir, 'My Tables');
      mkdirSync(folder);
      copyFileSync(path.join(FIXTURES, 'iris.csv'), path.join(folder, 'iris.csv'));
      const imported = await aidos([...base, 'datasets', 'import', folder, '-m', 'first']);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toMatch(/^my-tables v1: 1 files, .* \(tabular\)/m);
      copyFileSync(path.join(FIXTURES, 'wine.csv'), path.join(folder, 'wine.csv'));
      await aidos([...base, 'datasets', 'import', folder, '-m', 'wine too']);
      const versions = await aidos([...base, 'datasets', 'versions', 'my-tables']);
      expect(versions.stdout).toMatch(/v2 .* wine too/);
      const diff = await aidos([...base, 'datasets', 'diff', 'my-tables', '1']);
      expect(diff.stdout).toContain('v1 → v2: 1 added, 0 removed, 0 changed, 1 unchanged\n+ wine.csv');
      const tagged = await aidos([...base, 'datasets', 'tag', 'my-tables', '1', 'golden']);
      expect(tagged.stdout).toContain('tagged v1 as golden');
      const profile = await waitFor(
        async () => {
          const r = await aidos([...base, 'datasets', 'profile', 'my-tables', 'golden']);
          return r.code === 0 ? r : undefined;
        },
        30_000,
        'profile',
      );
      expect(profile.stdout).toMatch(/iris\.csv: 150 rows, 5 columns/);
      expect(profile.stdout).toMatch(/species\s+string\s+0\s+3/);
      const quality = await aidos([...base, 'datasets', 'quality', 'my-tables', '1', '--run', '--target', 'species']);
      expect(quality.code, quality.stderr).toBe(0);
      expect(quality.stdout).toMatch(/^score \d+(\.\d)? \/ 100 \(label column: species\)/m);
      const target = path.join(tmp.dir, 'out');
      const exported = await aidos([...base, 'datasets', 'export', 'my-tables', 'golden', target]);
      expect(exported.stdout).toContain(`wrote 1 files`);
      expect(readFileSync(path.join(target, 'iris.csv'))).toEqual(readFileSync(path.join(FIXTURES, 'iris.csv')));
      const pushed = await aidos([...base, '--json', 'datasets', 'push', folder, '--name', 'pushed']);
      expect(JSON.parse(pushed.stdout)).toMatchObject({ created: true, version: { number: 1, fileCount: 2 } });
      const listed = await aidos([...base, 'datasets', 'list']);
      expect(listed.stdout).toMatch(/my-tables\s+2\s+v2/);
    } finally {
      tmp.remove();
    }
  });
});

describe('aidos serve', { timeout: 180_000 }, () => {
  const serve = serveCli;

  it('refuses a second server on the same data dir, and after a kill -9 resumes the task that was running', async () => {
    const tmp = tempDir();
    try {
      const first = serve(tmp.dir);
      const url = await first.ready;
      const second = serve(tmp.dir);
      await expect(second.ready).rejects.toThrow(
        /another AI-DOS server \(pid \d+, http:\/\/127\.0\.0\.1:\d+\) is already using the data dir/,
      );

      const run = await aidos([
        '--data-dir',
        tmp.dir,
        '--json',
        'tasks',
        'run',
        'system.sleep',
        '--payload',
        '{"ms":6000,"steps":30}',
      ]);
      const job = JSON.parse(run.stdout) as Job;
      // Killed while the job runs (the CLI itself can take seconds to start on a busy machine).
      const token = readFileSync(path.join(tmp.dir, 'token'), 'utf8').trim();
      await waitFor(
        async () => {
          const res = await fetch(`${url}/api/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${token}` } });
          return ((await res.json()) as Job).status === 'running' ? true : undefined;
        },
        30_000,
        'the job to run',
      );
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.on('exit', r));

      const restarted = serve(tmp.dir); // takes over the stale lock
      const url2 = await restarted.ready;
      expect(url2).not.toBe('');
      const waited = await aidos(['--data-dir', tmp.dir, '--json', 'tasks', 'wait', job.id]);
      const done = JSON.parse(waited.stdout) as Job;
      expect(done).toMatchObject({ status: 'succeeded', attempts: 2, result: { sleptMs: 6000 } });
      restarted.child.kill('SIGTERM');
      await new Promise((r) => restarted.child.on('exit', r));
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      tmp.remove();
    }
  });
});

describe('aidos datasets import of an archive', { timeout: 180_000 }, () => {
  it('imports the files inside a zip, or with --no-extract the zip itself', async () => {
    const tmp = tempDir('aidos-cli-archive-');
    try {
      const zip = path.join(tmp.dir, 'flowers.zip');
      writeFileSync(
        zip,
        zipArchive([
          { name: 'flowers/iris.csv', content: readFileSync(path.join(FIXTURES, 'iris.csv')), deflate: true },
          { name: 'flowers/README.txt', content: 'iris' },
        ]),
      );
      const extracted = await aidos([...base, 'datasets', 'import', zip]);
      expect(extracted.code, extracted.stderr).toBe(0);
      expect(extracted.stdout).toMatch(/^flowers v1: 2 files, .* \(mixed\)/m);
      const kept = await aidos([...base, 'datasets', 'import', zip, '--name', 'flowers-zip', '--no-extract']);
      expect(kept.code, kept.stderr).toBe(0);
      expect(kept.stdout).toMatch(/^flowers-zip v1: 1 files/m);
    } finally {
      tmp.remove();
    }
  });
});
