import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { AppError } from '#shared/errors';

export interface ScannedFile {
  /** Relative to the import root, with `/` separators. */
  rel: string;
  abs: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  mtimeMs: number;
}

export interface ScanResult {
  /** How many regular files, their bytes in all, and the largest (to check against the size limit). */
  fileCount: number;
  totalBytes: number;
  largest: { rel: string; size: number } | undefined;
  /**
   * What the scan saw of every file (path, size, mtime, ctime and inode) as one digest: equal digests of two
   * scans of a folder mean no file was added, removed or written in between, as far as git's index would tell.
   */
  digest: string;
  /** The files in path order (built on first use: a no-change re-import never needs them). */
  files(): ScannedFile[];
  skipped: { path: string; reason: string }[];
}

/** What makes a name unfit for a manifest path (isSafeRelativePath in manifest.ts): readdir never gives '/'. */
const UNSAFE_NAME = /[\0\n\r\\]/;
/** A first path segment that looks like a Windows drive. */
const DRIVE = /^[A-Za-z]:/;
/** The walk is synchronous (a third of the CPU of a promise per `lstat`); it lets other work run this often. */
const ENTRIES_BETWEEN_YIELDS = 2000;

/**
 * Lists the regular files under `root` (or `root` itself when it is a file). Symbolic links are never followed
 * (a link could lead outside the folder) and, like sockets and devices, are reported as skipped.
 */
export async function scanPath(root: string): Promise<ScanResult> {
  const top = lstatSync(root, { bigint: true, throwIfNoEntry: false });
  if (!top) throw AppError.invalid('path', `${root} does not exist`);
  if (top.isSymbolicLink())
    throw AppError.invalid('path', `${root} is a symbolic link; import the folder it points to`);
  const skipped: ScanResult['skipped'] = [];
  if (top.isFile()) {
    const file = toScanned(path.basename(root), root, top);
    return {
      fileCount: 1,
      totalBytes: file.size,
      largest: { rel: file.rel, size: file.size },
      digest: createHash('sha256')
        .update(`${file.abs}\0${file.size}\0${file.mtimeNs}\0${file.ctimeNs}\0${file.ino}`)
        .digest('hex'),
      files: () => [file],
      skipped,
    };
  }
  if (!top.isDirectory()) throw AppError.invalid('path', `${root} is neither a file nor a folder`);

  let sinceYield = 0;
  // `safe`: whether paths below this folder may go into a manifest (see isSafeRelativePath), checked one name
  // at a time rather than on every whole path.
  const folders: { abs: string; rel: string; safe: boolean }[] = [{ abs: root, rel: '', safe: true }];
  const found: { rel: string; abs: string }[] = [];
  for (let folder = folders.pop(); folder; folder = folders.pop()) {
    const prefix = folder.abs.endsWith(path.sep) ? folder.abs : folder.abs + path.sep;
    for (const entry of readdirSync(folder.abs, { withFileTypes: true })) {
      const rel = folder.rel ? `${folder.rel}/${entry.name}` : entry.name;
      const safe = folder.safe && !UNSAFE_NAME.test(entry.name) && (folder.rel !== '' || !DRIVE.test(entry.name));
      if (entry.isDirectory()) folders.push({ abs: prefix + entry.name, rel, safe });
      else if (entry.isSymbolicLink()) skipped.push({ path: rel, reason: 'symbolic link (not followed)' });
      else if (!entry.isFile()) skipped.push({ path: rel, reason: 'not a regular file' });
      else if (!safe) skipped.push({ path: rel, reason: 'file name holds a newline or backslash' });
      else found.push({ rel, abs: prefix + entry.name });
      if (++sinceYield === ENTRIES_BETWEEN_YIELDS) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
  }
  found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const stats = await statFiles(found.map((f) => f.abs));
  let files: ScannedFile[] | undefined;
  return {
    fileCount: stats.count,
    totalBytes: stats.bytes,
    largest:
      stats.largest >= 0 ? { rel: (found[stats.largest] as { rel: string }).rel, size: stats.largestSize } : undefined,
    digest: stats.digest,
    files: () => {
      files ??= found.flatMap((f, i) => {
        // Empty: gone since the listing (deleted mid-scan) or no longer a regular file: not part of this import.
        const fields = (stats.lines[i] as string).split('\0');
        if (fields.length < 5) return [];
        const [size, mtimeNs, ctimeNs, ino, mtimeMs] = fields as [string, string, string, string, string];
        return [{ rel: f.rel, abs: f.abs, size: Number(size), mtimeNs, ctimeNs, ino, mtimeMs: Number(mtimeMs) }];
      });
      return files;
    },
    skipped,
  };
}

/**
 * The stat walk runs on two threads: on two cores, `lstat` of 100,000 files takes about half the time. The
 * threads run this plain JavaScript (no build step, so it runs alike from source and built), and answer a
 * line per path: `size NUL mtimeNs NUL ctimeNs NUL inode NUL mtimeMs`, or nothing for a path that is gone or
 * is not a regular file.
 */
const STAT_THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { lstatSync } = require('node:fs');
const { createHash } = require('node:crypto');
parentPort.on('message', (paths) => {
  try {
    const lines = new Array(paths.length);
    const hash = createHash('sha256');
    let count = 0, bytes = 0, largest = -1, largestSize = -1;
    for (let i = 0; i < paths.length; i++) {
      const st = lstatSync(paths[i], { bigint: true, throwIfNoEntry: false });
      if (!st || !st.isFile()) {
        lines[i] = '';
        continue;
      }
      const size = Number(st.size);
      lines[i] = size + '\\0' + st.mtimeNs + '\\0' + st.ctimeNs + '\\0' + st.ino + '\\0' + Number(st.mtimeMs);
      hash.update(paths[i] + '\\0' + lines[i] + '\\n');
      count++;
      bytes += size;
      if (size > largestSize) {
        largest = i;
        largestSize = size;
      }
    }
    parentPort.postMessage({ lines: lines.join('\\n'), digest: hash.digest('hex'), count, bytes, largest, largestSize });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;
const STAT_THREADS = 2;
/** Below this many files, one thread: starting on two costs more than it saves. */
const FILES_PER_THREAD = 2000;
const statThreads: (Worker | undefined)[] = [];

function statThread(index: number): Worker {
  let worker = statThreads[index];
  if (!worker) {
    worker = new Worker(STAT_THREAD_SOURCE, { eval: true });
    // Idle threads stay for the next scan without keeping the process alive; a crashed one is replaced.
    worker.unref();
    worker.once('exit', () => {
      if (statThreads[index] === worker) statThreads[index] = undefined;
    });
    statThreads[index] = worker;
  }
  return worker;
}

interface StatPart {
  lines: string[];
  digest: string;
  count: number;
  bytes: number;
  /** Index into the paths given, or -1 when none is a regular file. */
  largest: number;
  largestSize: number;
}

function statOn(worker: Worker, paths: string[]): Promise<StatPart> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Omit<StatPart, 'lines'> & { lines?: string; error?: string }) => {
      worker.off('error', onError);
      worker.unref();
      if (m.error !== undefined) reject(new AppError('INTERNAL', `could not read file metadata: ${m.error}`));
      else resolve({ ...m, lines: paths.length === 0 ? [] : (m.lines as string).split('\n') });
    };
    const onError = (err: Error) => {
      worker.off('message', onMessage);
      worker.unref();
      reject(new AppError('INTERNAL', `the file metadata thread failed: ${err.message}`));
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    // Held while it works (an unreferenced thread's answer would not keep the process waiting for it).
    worker.ref();
    worker.postMessage(paths);
  });
}

/**
 * A stat line per path (see STAT_THREAD_SOURCE), in the order given, with the threads' digests combined: the
 * split depends only on the number of paths, so the same files give the same digest.
 */
async function statFiles(paths: string[]): Promise<StatPart> {
  const threads = Math.max(1, Math.min(STAT_THREADS, Math.floor(paths.length / FILES_PER_THREAD)));
  const per = Math.ceil(paths.length / threads);
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => statOn(statThread(t), paths.slice(t * per, (t + 1) * per))),
  );
  const whole: StatPart = { lines: [], digest: '', count: 0, bytes: 0, largest: -1, largestSize: -1 };
  const digest = createHash('sha256');
  parts.forEach((part, t) => {
    whole.lines.push(...part.lines);
    digest.update(part.digest);
    whole.count += part.count;
    whole.bytes += part.bytes;
    if (part.largest >= 0 && part.largestSize > whole.largestSize) {
      whole.largest = t * per + part.largest;
      whole.largestSize = part.largestSize;
    }
  });
  whole.digest = digest.digest('hex');
  return whole;
}

function toScanned(rel: string, abs: string, st: BigIntStats): ScannedFile {
  return {
    rel,
    abs,
    size: Number(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
    ino: String(st.ino),
    mtimeMs: Number(st.mtimeMs),
  };
}
