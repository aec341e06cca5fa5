import type { Upload } from '#shared/contracts/uploads';
import { AppError } from '#shared/errors';
import type { Api } from '../lib/api';

/** Chunks of 8 MiB: small enough to resend cheaply after a dropped connection, large enough to keep requests few. */
export const UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;
/** Files up to this size are hashed first, so the server refuses them if a byte changes on the way. */
export const HASH_MAX_BYTES = 256 * 1024 * 1024;
/** Failed requests in a row before a file's upload gives up. */
export const MAX_RETRIES = 5;
/** While the server hashes a file whose last chunk arrived (a lost answer), how long to keep asking. */
const FINISH_WAIT_MS = 10 * 60_000;

/** One file to upload: its path in the dataset (relative, "/"-separated), its size, and a way to read a range. */
export interface UploadSource {
  path: string;
  size: number;
  read(start: number, end: number): Promise<Uint8Array<ArrayBuffer>>;
}

/** The three upload endpoints, as `upload.ts` needs them (a fake in tests; `uploadClientOf(api)` in the app). */
export interface UploadClient {
  create(input: { filename: string; size: number; sha256?: string }): Promise<Upload>;
  get(id: string): Promise<Upload>;
  append(id: string, offset: number, bytes: Uint8Array): Promise<Upload>;
}

/** The upload endpoints of the typed API client. */
export function uploadClientOf(api: Pick<Api, 'call' | 'send'>): UploadClient {
  return {
    create: (input) => api.call('uploads.create', input),
    get: (id) => api.call('uploads.get', { id }),
    append: (id, offset, bytes) => api.send('uploads.append', { id, offset }, bytes),
  };
}

/** What a file's upload is doing, for its row in the dialog. */
export type UploadPhase = 'hashing' | 'uploading' | 'retrying' | 'paused' | 'done';

export interface UploadProgress {
  phase: UploadPhase;
  /** Bytes the server has. */
  sent: number;
  /** The upload's id, once created: hand it back as `resumeId` to continue a failed upload later. */
  uploadId?: string;
  /** While retrying: the attempt (1..MAX_RETRIES) and what went wrong. */
  attempt?: number;
  error?: unknown;
}

export interface UploadOptions {
  onProgress?: (progress: UploadProgress) => void;
  /** Pause holds the upload between chunks. */
  gate?: Pick<PauseGate, 'isPaused' | 'wait'>;
  signal?: AbortSignal;
  /** Continue this upload (from the bytes the server has) instead of starting another. */
  resumeId?: string;
  /** The content's sha256 (hex), or undefined to declare none. Defaults to `sha256Of` up to HASH_MAX_BYTES. */
  hash?: (source: UploadSource) => Promise<string | undefined>;
  sleep?: (ms: number) => Promise<void>;
  chunkBytes?: number;
  maxRetries?: number;
}

/** The delay before retry `attempt` (1-based): 0.5 s, 1 s, 2 s, 4 s, 8 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(8_000, 500 * 2 ** Math.max(0, attempt - 1));
}

/** The offset a 409 names ("resume from there"), if the error is one. */
export function expectedOffsetOf(error: unknown): number | null {
  if (!(error instanceof AppError) || error.code !== 'CONFLICT') return null;
  const offset = (error.details as { expectedOffset?: unknown } | null | undefined)?.expectedOffset;
  return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : null;
}

/**
 * Whether trying again may help: a network failure (fetch rejects with a TypeError), a server error, a busy
 * server, or a wrong offset. Refusals (bad input, a hash mismatch, a missing upload, signed out) are final.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AppError) {
    if (error.code === 'CONFLICT' || error.code === 'INTERNAL' || error.code === 'RESOURCE_EXHAUSTED')
      return error.httpStatus !== 413;
    return (error.httpStatus ?? 0) >= 500;
  }
  return error instanceof TypeError;
}

export class UploadAbortedError extends Error {
  constructor() {
    super('The upload was cancelled');
    this.name = 'UploadAbortedError';
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new UploadAbortedError();
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sleeps, but wakes early (and throws) when the upload is cancelled. */
function pause(ms: number, sleep: (ms: number) => Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return sleep(ms);
  checkAborted(signal);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new UploadAbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    void sleep(ms).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** The sha256 of bytes, in hex, with the Web Crypto API (undefined where it is missing: plain http to a remote host). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = await subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The declared hash of a file: its sha256 up to HASH_MAX_BYTES (read whole), none above. */
export async function sha256Of(source: UploadSource): Promise<string | undefined> {
  if (source.size > HASH_MAX_BYTES) return undefined;
  return sha256Hex(await source.read(0, source.size));
}

/**
 * Uploads one file in chunks: `uploads.create` (with its sha256 when small enough), then `uploads.append` at the
 * offset the server reports. A failed request is retried with backoff (up to `maxRetries` failures in a row):
 * after a 409 from the offset it names, after anything else from the `received` of `uploads.get`. Returns the
 * finished upload, whose id `datasets.commit` takes.
 */
export async function uploadFile(
  source: UploadSource,
  client: UploadClient,
  options: UploadOptions = {},
): Promise<Upload> {
  const { onProgress, gate, signal } = options;
  const sleep = options.sleep ?? defaultSleep;
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  const maxRetries = options.maxRetries ?? MAX_RETRIES;
  let failures = 0;

  /** Counts a failure and waits before the next try; throws when it is final or the last one allowed. */
  const failed = async (error: unknown, sent: number, uploadId?: string) => {
    if (error instanceof UploadAbortedError || !isRetryable(error) || failures >= maxRetries) throw error;
    failures++;
    onProgress?.({ phase: 'retrying', sent, uploadId, attempt: failures, error });
    await pause(retryDelayMs(failures), sleep, signal);
  };

  checkAborted(signal);
  let upload: Upload | undefined;
  if (options.resumeId) {
    try {
      upload = await client.get(options.resumeId);
    } catch (error) {
      // Gone (expired, or dropped after a hash mismatch): start again.
      if (!(error instanceof AppError && error.code === 'NOT_FOUND')) throw error;
    }
  }
  if (!upload) {
    onProgress?.({ phase: 'hashing', sent: 0 });
    const sha256 = await (options.hash ?? sha256Of)(source);
    checkAborted(signal);
    for (;;) {
      try {
        upload = await client.create({ filename: source.path, size: source.size, ...(sha256 ? { sha256 } : {}) });
        break;
      } catch (error) {
        await failed(error, 0);
      }
    }
  }
  const id = upload.id;
  let offset = upload.received;
  let finishingSince: number | null = null;
  while (upload.sha256 === null) {
    if (gate?.isPaused) {
      onProgress?.({ phase: 'paused', sent: offset, uploadId: id });
      await gate.wait();
    }
    checkAborted(signal);
    onProgress?.({ phase: 'uploading', sent: offset, uploadId: id });
    if (offset >= source.size) {
      // Every byte arrived but the answer to the last chunk was lost: the server is hashing the file. Ask again.
      finishingSince ??= Date.now();
      if (Date.now() - finishingSince > FINISH_WAIT_MS)
        throw new Error(`${source.path}: the server did not finish the upload`);
      await pause(1_000, sleep, signal);
      try {
        upload = await client.get(id);
        offset = upload.received;
      } catch (error) {
        await failed(error, offset, id);
      }
      continue;
    }
    const end = Math.min(source.size, offset + chunkBytes);
    try {
      const bytes = await source.read(offset, end);
      upload = await client.append(id, offset, bytes);
      offset = upload.received;
      failures = 0;
      continue;
    } catch (error) {
      // "Has all its bytes already" (a retried last chunk that had arrived) needs no wait: see where it stands.
      const complete = error instanceof AppError && error.code === 'FAILED_PRECONDITION';
      if (!complete) await failed(error, offset, id);
      else if (++failures > maxRetries) throw error;
      const expected = expectedOffsetOf(error);
      if (expected !== null) {
        offset = expected;
        continue;
      }
    }
    try {
      upload = await client.get(id);
      offset = upload.received;
    } catch (error) {
      // Still unreachable: count it, and let the next append try from the offset we know.
      await failed(error, offset, id);
    }
  }
  onProgress?.({ phase: 'done', sent: source.size, uploadId: id });
  return upload;
}

/** Holds uploads between chunks while paused. */
export class PauseGate {
  private paused = false;
  private waiters: (() => void)[] = [];

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves at once unless paused; then when resumed. */
  wait = (): Promise<void> =>
    this.paused ? new Promise<void>((resolve) => this.waiters.push(resolve)) : Promise.resolve();
}

/** A file picked or dropped in the browser, with its path relative to what was picked. */
export interface PickedFile {
  path: string;
  file: File;
}

/** A browser File as an upload source, at `path` in the dataset. */
export function fileSource(path: string, file: Blob): UploadSource {
  return {
    path,
    size: file.size,
    read: async (start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer()),
  };
}

/** Runs `work` over `items` with at most `limit` at a time; stops taking new items after the first failure. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
}

// Paths

/** True for a path the dataset accepts: relative, "/"-separated, without empty, "." or ".." segments. */
export function isSafeRelativePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || /^[A-Za-z]:/.test(p) || /[\0\n\r\\]/.test(p)) return false;
  return p.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** A folder typed by a person ("images", "/images/new/") as a prefix: "" or "images/new/". */
export function folderPrefix(raw: string): string {
  const trimmed = raw
    .trim()
    .replace(/\\/g, '/')
    .replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** The single folder everything picked sits in ("flowers" when a folder was dropped), or null. */
export function commonRoot(paths: readonly string[]): string | null {
  let root: string | null = null;
  for (const p of paths) {
    const slash = p.indexOf('/');
    if (slash <= 0) return null;
    const top = p.slice(0, slash);
    if (root === null) root = top;
    else if (root !== top) return null;
  }
  return root;
}

/** Where a picked file goes in the dataset: under `prefix`, without the picked folder's own name when `strip` names it. */
export function targetPath(path: string, prefix: string, strip: string | null): string {
  const rel = strip !== null && path.startsWith(`${strip}/`) ? path.slice(strip.length + 1) : path;
  return `${prefix}${rel}`;
}

/** A dataset name from a folder's name ("My Photos" → "my-photos"), or "" when nothing usable is left. */
export function datasetNameFrom(folder: string): string {
  return folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 100);
}

/** Adds picked files to a list, a later file replacing an earlier one at the same path; sorted by path. */
export function mergePicked(current: readonly PickedFile[], added: readonly PickedFile[]): PickedFile[] {
  const byPath = new Map(current.map((f) => [f.path, f]));
  for (const f of added) byPath.set(f.path, f);
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// Picking and dropping (browser only)

/** Files from an <input type="file">: with `webkitdirectory`, each keeps its path inside the chosen folder. */
export function pickedFromInput(files: FileList | readonly File[]): PickedFile[] {
  return [...files].map((file) => ({ path: normalizePath(file.webkitRelativePath || file.name), file }));
}

function normalizePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\/+/, '');
}

/** Noise a folder walk skips, as a file manager would hide it. */
function isJunk(name: string): boolean {
  return name === '.DS_Store' || name === 'Thumbs.db' || name === 'desktop.ini';
}

/**
 * What was dropped: files, and the files inside dropped folders (walked with `webkitGetAsEntry`), each with its
 * path relative to the drop ("photos/cat/1.png"). Must be called during the drop event: the items expire after it.
 */
export async function pickedFromDrop(data: DataTransfer): Promise<PickedFile[]> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of [...data.items]) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) return pickedFromInput(data.files);
  const out: PickedFile[] = loose.map((file) => ({ path: file.name, file }));
  for (const entry of entries) await walk(entry, '', out);
  return out;
}

async function walk(entry: FileSystemEntry, parent: string, out: PickedFile[]): Promise<void> {
  const path = parent ? `${parent}/${entry.name}` : entry.name;
  if (entry.isFile) {
    if (isJunk(entry.name)) return;
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path, file });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries gives at most 100 entries per call: read until it gives none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, path, out);
  }
}
