import type { BigIntStats } from 'node:fs';
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
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
  files: ScannedFile[];
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
  const files: ScannedFile[] = [];
  const skipped: ScanResult['skipped'] = [];
  if (top.isFile()) {
    const rel = path.basename(root);
    files.push(toScanned(rel, root, top));
    return { files, skipped };
  }
  if (!top.isDirectory()) throw AppError.invalid('path', `${root} is neither a file nor a folder`);

  let sinceYield = 0;
  // `safe`: whether paths below this folder may go into a manifest (see isSafeRelativePath), checked one name
  // at a time rather than on every whole path.
  const folders: { abs: string; rel: string; safe: boolean }[] = [{ abs: root, rel: '', safe: true }];
  for (let folder = folders.pop(); folder; folder = folders.pop()) {
    const prefix = folder.abs.endsWith(path.sep) ? folder.abs : folder.abs + path.sep;
    for (const entry of readdirSync(folder.abs, { withFileTypes: true })) {
      const rel = folder.rel ? `${folder.rel}/${entry.name}` : entry.name;
      const abs = prefix + entry.name;
      const safe = folder.safe && !UNSAFE_NAME.test(entry.name) && (folder.rel !== '' || !DRIVE.test(entry.name));
      if (entry.isDirectory()) folders.push({ abs, rel, safe });
      else if (entry.isSymbolicLink()) skipped.push({ path: rel, reason: 'symbolic link (not followed)' });
      else if (!entry.isFile()) skipped.push({ path: rel, reason: 'not a regular file' });
      else if (!safe) skipped.push({ path: rel, reason: 'file name holds a newline or backslash' });
      else {
        // Gone since the listing (deleted mid-scan): not part of this import.
        const st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
        if (st?.isFile()) files.push(toScanned(rel, abs, st));
      }
      if (++sinceYield === ENTRIES_BETWEEN_YIELDS) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
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
