import { describe, expect, test } from 'vitest';
import type { Upload } from '#shared/contracts/uploads';
import { AppError } from '#shared/errors';
import {
  commonRoot,
  datasetNameFrom,
  eachLimited,
  expectedOffsetOf,
  folderPrefix,
  isRetryable,
  isSafeRelativePath,
  mergePicked,
  PauseGate,
  retryDelayMs,
  sha256Hex,
  targetPath,
  uploadFile,
  UploadAbortedError,
  type UploadClient,
  type UploadProgress,
  type UploadSource,
} from './upload';

const CHUNK = 10;

function bytesOf(length: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 251);
}

function sourceOf(
  bytes: Uint8Array<ArrayBuffer>,
  path = 'data/file.bin',
): UploadSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    path,
    size: bytes.length,
    reads,
    read: async (start, end) => {
      reads.push([start, end]);
      return bytes.slice(start, end);
    },
  };
}

type Fault = 'network' | 'lost-answer' | 'server-error';

/**
 * The upload endpoints as the core implements them (offsets must match, a declared hash is checked at the end),
 * with faults to inject: `faults[n]` breaks the n-th append (0-based). A "lost answer" stores the chunk and then
 * fails, as a connection dropped after the server wrote it.
 */
class FakeServer implements UploadClient {
  readonly uploads = new Map<string, { upload: Upload; data: number[]; expected?: string }>();
  readonly calls: string[] = [];
  appends = 0;
  getFails = 0;

  constructor(private readonly faults: Record<number, Fault> = {}) {}

  async create(input: { filename: string; size: number; sha256?: string }): Promise<Upload> {
    this.calls.push(`create ${input.filename} ${input.size}${input.sha256 ? ' sha' : ''}`);
    const id = `01HUPLOAD${String(this.uploads.size).padStart(17, '0')}`;
    const upload: Upload = {
      id,
      filename: input.filename,
      size: input.size,
      received: 0,
      sha256: null,
      createdAt: 0,
      expiresAt: 1,
    };
    this.uploads.set(id, { upload, data: [], ...(input.sha256 ? { expected: input.sha256 } : {}) });
    // The core finishes an empty upload at once.
    if (input.size === 0) upload.sha256 = await sha(new Uint8Array(0));
    return { ...upload };
  }

  async get(id: string): Promise<Upload> {
    this.calls.push(`get ${this.row(id).upload.received}`);
    if (this.getFails > 0) {
      this.getFails--;
      throw new TypeError('Failed to fetch');
    }
    return { ...this.row(id).upload };
  }

  async append(id: string, offset: number, bytes: Uint8Array): Promise<Upload> {
    const n = this.appends++;
    this.calls.push(`append ${offset}+${bytes.length}`);
    const fault = this.faults[n];
    if (fault === 'network') throw new TypeError('Failed to fetch');
    if (fault === 'server-error') throw new AppError('INTERNAL', 'HTTP 502: bad gateway', undefined, 502);
    const row = this.row(id);
    if (row.upload.sha256 !== null) throw new AppError('FAILED_PRECONDITION', `upload ${id} has all its bytes already`);
    if (offset !== row.upload.received) {
      throw new AppError(
        'CONFLICT',
        `offset must be ${row.upload.received}`,
        { expectedOffset: row.upload.received },
        409,
      );
    }
    row.data.push(...bytes);
    row.upload.received += bytes.length;
    if (row.upload.received === row.upload.size) {
      const sha256 = await sha(Uint8Array.from(row.data));
      if (row.expected && row.expected !== sha256) {
        this.uploads.delete(id);
        throw AppError.invalid('sha256', `the uploaded content hashes to ${sha256}, not the declared ${row.expected}`);
      }
      row.upload.sha256 = sha256;
    }
    if (fault === 'lost-answer') throw new TypeError('network error');
    return { ...row.upload };
  }

  private row(id: string) {
    const row = this.uploads.get(id);
    if (!row) throw AppError.notFound('upload', id);
    return row;
  }

  content(id: string): Uint8Array {
    return Uint8Array.from(this.row(id).data);
  }
}

const sha = async (bytes: Uint8Array<ArrayBuffer>) => (await sha256Hex(bytes)) ?? '';

function recorder() {
  const sleeps: number[] = [];
  const progress: UploadProgress[] = [];
  return {
    sleeps,
    progress,
    options: {
      chunkBytes: CHUNK,
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      onProgress: (p: UploadProgress) => progress.push({ ...p }),
    },
  };
}

describe('uploadFile', () => {
  test('sends a file in chunks at the offsets the server reports, declaring its sha256', async () => {
    const bytes = bytesOf(35);
    const server = new FakeServer();
    const { options, progress } = recorder();
    const done = await uploadFile(sourceOf(bytes), server, options);
    expect(done.sha256).toBe(await sha(bytes));
    expect(server.calls).toEqual([
      'create data/file.bin 35 sha',
      'append 0+10',
      'append 10+10',
      'append 20+10',
      'append 30+5',
    ]);
    expect(server.content(done.id)).toEqual(bytes);
    expect(progress.map((p) => p.phase)).toEqual([
      'hashing',
      'uploading',
      'uploading',
      'uploading',
      'uploading',
      'done',
    ]);
    expect(progress.filter((p) => p.phase === 'uploading').map((p) => p.sent)).toEqual([0, 10, 20, 30]);
  });

  test('a network failure mid-way asks the server what it has and goes on from there, after a backoff', async () => {
    const bytes = bytesOf(45);
    // The 3rd append (offset 20) fails before arriving.
    const server = new FakeServer({ 2: 'network' });
    const { options, sleeps, progress } = recorder();
    const done = await uploadFile(sourceOf(bytes), server, options);
    expect(server.content(done.id)).toEqual(bytes);
    expect(done.sha256).toBe(await sha(bytes));
    expect(server.calls).toEqual([
      'create data/file.bin 45 sha',
      'append 0+10',
      'append 10+10',
      'append 20+10',
      'get 20',
      'append 20+10',
      'append 30+10',
      'append 40+5',
    ]);
    expect(sleeps).toEqual([retryDelayMs(1)]);
    const retry = progress.find((p) => p.phase === 'retrying');
    expect(retry).toMatchObject({ attempt: 1, sent: 20 });
    expect(retry?.error).toBeInstanceOf(TypeError);
  });

  test('a chunk that arrived but whose answer was lost is not sent twice', async () => {
    const bytes = bytesOf(30);
    const server = new FakeServer({ 1: 'lost-answer' });
    const { options } = recorder();
    const done = await uploadFile(sourceOf(bytes), server, options);
    expect(server.content(done.id)).toEqual(bytes);
    expect(server.calls).toEqual([
      'create data/file.bin 30 sha',
      'append 0+10',
      'append 10+10',
      'get 20',
      'append 20+10',
    ]);
  });

  test('a lost answer to the last chunk ends with the upload finished, found through uploads.get', async () => {
    const bytes = bytesOf(20);
    const server = new FakeServer({ 1: 'lost-answer' });
    const { options } = recorder();
    const done = await uploadFile(sourceOf(bytes), server, options);
    expect(done.sha256).toBe(await sha(bytes));
    expect(server.calls).toEqual(['create data/file.bin 20 sha', 'append 0+10', 'append 10+10', 'get 20']);
  });

  test('a 409 resumes from the offset it names, without asking', async () => {
    const bytes = bytesOf(30);
    const server = new FakeServer();
    const { options } = recorder();
    const upload = await server.create({ filename: 'x', size: 30 });
    await server.append(upload.id, 0, bytes.slice(0, 10));
    await server.append(upload.id, 10, bytes.slice(10, 20));
    server.calls.length = 0;
    // A client that believes nothing arrived yet: the server says 20.
    let first = true;
    const stale: FakeServer = Object.assign(Object.create(server) as FakeServer, {
      get: async (id: string) => {
        const u = await server.get(id);
        if (first) {
          first = false;
          return { ...u, received: 0 };
        }
        return u;
      },
    });
    const done = await uploadFile(sourceOf(bytes), stale, { ...options, resumeId: upload.id });
    expect(server.content(done.id)).toEqual(bytes);
    expect(server.calls).toEqual(['get 20', 'append 0+10', 'append 20+10']);
    expect(expectedOffsetOf(new AppError('CONFLICT', 'x', { expectedOffset: 20 }))).toBe(20);
  });

  test('resuming a known upload continues from what the server has', async () => {
    const bytes = bytesOf(25);
    const server = new FakeServer();
    const upload = await server.create({ filename: 'x', size: 25 });
    await server.append(upload.id, 0, bytes.slice(0, 10));
    server.calls.length = 0;
    const source = sourceOf(bytes);
    const done = await uploadFile(source, server, { ...recorder().options, resumeId: upload.id });
    expect(server.content(done.id)).toEqual(bytes);
    expect(server.calls).toEqual(['get 10', 'append 10+10', 'append 20+5']);
    expect(source.reads).toEqual([
      [10, 20],
      [20, 25],
    ]);
  });

  test('gives up after five failures in a row, with growing delays, and says why', async () => {
    const bytes = bytesOf(30);
    const server = new FakeServer({
      1: 'server-error',
      2: 'server-error',
      3: 'server-error',
      4: 'server-error',
      5: 'server-error',
      6: 'server-error',
    });
    const { options, sleeps } = recorder();
    await expect(uploadFile(sourceOf(bytes), server, options)).rejects.toThrow(/bad gateway/);
    expect(sleeps).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(server.appends).toBe(7);
  });

  test('failures are counted in a row: progress in between starts the count again', async () => {
    const bytes = bytesOf(60);
    const faults: Record<number, Fault> = {};
    // Four failures before each of the six chunks: never five in a row.
    for (let chunk = 0, n = 0; chunk < 6; chunk++) {
      for (let i = 0; i < 4; i++) faults[n++] = 'network';
      n++;
    }
    const server = new FakeServer(faults);
    const done = await uploadFile(sourceOf(bytes), server, recorder().options);
    expect(server.content(done.id)).toEqual(bytes);
  });

  test('an unreachable server while asking where to resume counts as a failure too', async () => {
    const bytes = bytesOf(30);
    const server = new FakeServer({ 1: 'network' });
    server.getFails = 1;
    const { options, sleeps } = recorder();
    const done = await uploadFile(sourceOf(bytes), server, options);
    expect(server.content(done.id)).toEqual(bytes);
    // After the failed get the append is simply tried again from the offset known.
    expect(sleeps).toEqual([500, 1000]);
    expect(server.calls).toEqual([
      'create data/file.bin 30 sha',
      'append 0+10',
      'append 10+10',
      'get 10',
      'append 10+10',
      'append 20+10',
    ]);
  });

  test('a refusal is final: a hash mismatch is not retried', async () => {
    const bytes = bytesOf(20);
    const server = new FakeServer();
    await expect(
      uploadFile(sourceOf(bytes), server, { ...recorder().options, hash: async () => 'f'.repeat(64) }),
    ).rejects.toThrow(/hashes to/);
    expect(server.appends).toBe(2);
    expect(isRetryable(AppError.invalid('sha256', 'x'))).toBe(false);
    expect(isRetryable(new AppError('NOT_FOUND', 'x'))).toBe(false);
    expect(isRetryable(new TypeError('Failed to fetch'))).toBe(true);
    expect(isRetryable(new AppError('INTERNAL', 'HTTP 503', undefined, 503))).toBe(true);
  });

  test('no hash is declared above the limit the caller sets, and an empty file needs no chunk', async () => {
    const server = new FakeServer();
    const big = await uploadFile(sourceOf(bytesOf(15)), server, { ...recorder().options, hash: async () => undefined });
    expect(big.sha256).toBe(await sha(bytesOf(15)));
    expect(server.calls[0]).toBe('create data/file.bin 15');

    const empty = new FakeServer();
    const zero = await uploadFile(sourceOf(bytesOf(0)), empty, recorder().options);
    expect(zero.sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(empty.appends).toBe(0);
  });

  test('pause holds the upload between chunks until resumed; cancel stops it', async () => {
    const bytes = bytesOf(30);
    const server = new FakeServer();
    const gate = new PauseGate();
    const phases: string[] = [];
    let pausedAt = -1;
    const running = uploadFile(sourceOf(bytes), server, {
      chunkBytes: CHUNK,
      gate,
      onProgress: (p) => {
        phases.push(p.phase);
        if (p.phase === 'uploading' && p.sent === 10 && pausedAt < 0) {
          pausedAt = p.sent;
          gate.pause();
        }
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.appends).toBe(2); // the chunk under way goes on; the next one waits
    expect(phases.at(-1)).toBe('paused');
    gate.resume();
    const done = await running;
    expect(server.content(done.id)).toEqual(bytes);

    const controller = new AbortController();
    const gate2 = new PauseGate();
    gate2.pause();
    const cancelled = uploadFile(sourceOf(bytes), new FakeServer(), {
      chunkBytes: CHUNK,
      gate: gate2,
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    gate2.resume();
    await expect(cancelled).rejects.toBeInstanceOf(UploadAbortedError);
  });

  test('sha256Hex gives the standard digest in hex', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('paths', () => {
  test('only relative paths inside the dataset are accepted', () => {
    expect(isSafeRelativePath('a/b.csv')).toBe(true);
    for (const bad of ['', '/a', 'a//b', 'a/../b', './a', 'C:/x', 'a\\b']) expect(isSafeRelativePath(bad)).toBe(false);
  });

  test('a typed folder becomes a prefix; a dropped folder may lose its own name', () => {
    expect(folderPrefix('')).toBe('');
    expect(folderPrefix(' /images/new/ ')).toBe('images/new/');
    expect(folderPrefix('a\\b')).toBe('a/b/');
    expect(commonRoot(['flowers/a.png', 'flowers/b/c.png'])).toBe('flowers');
    expect(commonRoot(['flowers/a.png', 'other/b.png'])).toBeNull();
    expect(commonRoot(['a.png'])).toBeNull();
    expect(commonRoot([])).toBeNull();
    expect(targetPath('flowers/b/c.png', '', 'flowers')).toBe('b/c.png');
    expect(targetPath('flowers/b/c.png', 'img/', null)).toBe('img/flowers/b/c.png');
    expect(datasetNameFrom('My Photos (2024)')).toBe('my-photos-2024');
    expect(datasetNameFrom('__x')).toBe('x');
  });

  test('picking the same path again replaces the earlier file', () => {
    const f = (path: string, size: number) => ({ path, file: { size } as File });
    const merged = mergePicked([f('b.csv', 1), f('a.csv', 1)], [f('b.csv', 2), f('c.csv', 3)]);
    expect(merged.map((m) => [m.path, m.file.size])).toEqual([
      ['a.csv', 1],
      ['b.csv', 2],
      ['c.csv', 3],
    ]);
  });

  test('eachLimited runs at most `limit` at once and reports the first failure', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await eachLimited([1, 2, 3, 4, 5], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      seen.push(n);
      running--;
    });
    expect(peak).toBe(2);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
    await expect(
      eachLimited([1, 2, 3], 1, async (n) => {
        if (n === 2) throw new Error('two');
      }),
    ).rejects.toThrow('two');
  });
});
