import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from './testing';
import { UPLOAD_CHUNK_MAX_BYTES } from '#shared/contracts/uploads';

let t: TestCore;
let dataDir: string;
beforeAll(async () => {
  t = await startTestCore();
  dataDir = t.core.dataDir;
});
afterAll(async () => {
  await t.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function json(res: Response) {
  return (await res.json()) as { error?: { code: string; message: string; details?: { expectedOffset?: number } } };
}

describe('resumable uploads', () => {
  it('takes a file in chunks, resumes after a dropped connection and a restart, and ends as a blob', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const upload = await t.client.call('uploads.create', {
      filename: 'weights.bin',
      size: data.length,
      sha256: sha(data),
    });
    expect(upload).toMatchObject({ received: 0, sha256: null });
    const first = await t.client.send('uploads.append', { id: upload.id, offset: 0 }, data.subarray(0, 1024 * 1024));
    expect(first.received).toBe(1024 * 1024);

    // The connection drops and the server restarts: the client asks where to resume.
    await t.core.close();
    t = await startTestCore({ dataDir });
    const state = await t.client.call('uploads.get', { id: upload.id });
    expect(state.received).toBe(1024 * 1024);
    const stale = await t.request(`/api/v1/uploads/${upload.id}?offset=0`, {
      method: 'PUT',
      body: data.subarray(0, 10),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(stale.status).toBe(409);
    expect((await json(stale)).error?.details?.expectedOffset).toBe(1024 * 1024);

    await t.client.send(
      'uploads.append',
      { id: upload.id, offset: state.received },
      data.subarray(state.received, 2 * 1024 * 1024),
    );
    const done = await t.client.send(
      'uploads.append',
      { id: upload.id, offset: 2 * 1024 * 1024 },
      data.subarray(2 * 1024 * 1024),
    );
    expect(done).toMatchObject({ received: data.length, sha256: sha(data) });
    expect((await t.core.blobs.read(sha(data), { verify: true })).equals(data)).toBe(true);
  });

  it('refuses content whose hash is not the declared one, and forgets the upload', async () => {
    const data = Buffer.from('the real bytes');
    const upload = await t.client.call('uploads.create', {
      filename: 'x',
      size: data.length,
      sha256: sha(Buffer.from('other')),
    });
    await expect(t.client.send('uploads.append', { id: upload.id, offset: 0 }, data)).rejects.toThrow(
      /hashes to .*not the declared/,
    );
    await expect(t.client.call('uploads.get', { id: upload.id })).rejects.toThrow(/does not exist/);
    expect(t.core.blobs.refsOf(sha(data))).toEqual([]); // left for garbage collection
  });

  it('refuses a chunk past the declared size, a chunk over the limit, and a JSON body', async () => {
    const upload = await t.client.call('uploads.create', { filename: 'small', size: 4 });
    await expect(t.client.send('uploads.append', { id: upload.id, offset: 0 }, Buffer.from('12345'))).rejects.toThrow(
      'body: the chunk runs past the declared size of 4 bytes',
    );
    const big = await t.request(`/api/v1/uploads/${upload.id}?offset=0`, {
      method: 'PUT',
      body: Buffer.alloc(UPLOAD_CHUNK_MAX_BYTES + 1),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(big.status).toBe(413);
    expect((await json(big)).error?.message).toBe(
      `the request body is larger than the limit of ${UPLOAD_CHUNK_MAX_BYTES} bytes`,
    );
    const asJson = await t.request(`/api/v1/uploads/${upload.id}?offset=0`, {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(asJson.status).toBe(415);
    expect((await t.client.call('uploads.get', { id: upload.id })).received).toBe(0);
  });

  it('cancels an upload', async () => {
    const upload = await t.client.call('uploads.create', { filename: 'gone', size: 10 });
    await t.client.call('uploads.cancel', { id: upload.id });
    await expect(t.client.call('uploads.get', { id: upload.id })).rejects.toThrow(/does not exist/);
  });
});

describe('dataset versions from uploads', () => {
  async function uploaded(text: string): Promise<string> {
    const data = Buffer.from(text);
    const u = await t.client.call('uploads.create', { filename: 'f', size: data.length });
    await t.client.send('uploads.append', { id: u.id, offset: 0 }, data);
    return u.id;
  }

  it('commits uploads as a version on top of the latest, with removals', async () => {
    const v1 = await t.client.call('datasets.commit', {
      dataset: 'notes',
      create: true,
      files: [
        { path: 'a.txt', uploadId: await uploaded('alpha') },
        { path: 'dir/b.txt', uploadId: await uploaded('beta') },
      ],
      message: 'first',
    });
    expect(v1).toMatchObject({ created: true, version: { number: 1, fileCount: 2, kind: 'text' } });
    const v2 = await t.client.call('datasets.commit', {
      dataset: 'notes',
      files: [{ path: 'c.txt', uploadId: await uploaded('gamma') }],
      remove: ['a.txt'],
    });
    const files = await t.client.call('datasets.files', { dataset: 'notes', version: String(v2.version.number) });
    expect(files.items.map((f) => f.path)).toEqual(['c.txt', 'dir/b.txt']);
    const same = await t.client.call('datasets.commit', {
      dataset: 'notes',
      files: [{ path: 'c.txt', uploadId: await uploaded('gamma') }],
    });
    expect(same).toMatchObject({ created: false, version: { number: 2 } });
  });

  it('refuses unsafe paths, incomplete uploads and unknown removals, and makes nothing', async () => {
    const ok = await uploaded('x');
    await expect(
      t.client.call('datasets.commit', { dataset: 'notes', files: [{ path: '../escape.txt', uploadId: ok }] }),
    ).rejects.toThrow("files.0.path: '../escape.txt' is not a relative path inside the dataset");
    const partial = await t.client.call('uploads.create', { filename: 'p', size: 100 });
    await expect(
      t.client.call('datasets.commit', { dataset: 'notes', files: [{ path: 'p.txt', uploadId: partial.id }] }),
    ).rejects.toThrow(/upload .* is incomplete \(0 of 100 bytes\)/);
    await expect(t.client.call('datasets.commit', { dataset: 'notes', remove: ['nope.txt'] })).rejects.toThrow(
      "remove.0: 'nope.txt' is not in the latest version",
    );
    expect((await t.client.call('datasets.get', { dataset: 'notes' })).versionCount).toBe(2);
    expect((await t.client.call('uploads.get', { id: ok })).sha256).not.toBeNull(); // still there to retry with
  });
});
