import type { BigIntStats } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '#shared/errors';
import { isSafeRelativePath } from './manifest';

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

const STAT_CONCURRENCY = 64;

/**
 * Lists the regular files under `root` (or `root` itself when it is a file). Symbolic links are never followed
 * (a link could lead outside the folder) and, like sockets and devices, are reported as skipped.
 */
export async function scanPath(root: string): Promise<ScanResult> {
  const top = await lstat(root, { bigint: true }).catch(() => undefined);
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

  const pending: { rel: string; abs: string }[] = [];
  const walk = async (dir: string, relDir: string): Promise<void> => {
    const handle = await opendir(dir);
    for await (const entry of handle) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(abs, rel);
      else if (entry.isSymbolicLink()) skipped.push({ path: rel, reason: 'symbolic link (not followed)' });
      else if (!entry.isFile()) skipped.push({ path: rel, reason: 'not a regular file' });
      else if (!isSafeRelativePath(rel)) skipped.push({ path: rel, reason: 'file name holds a newline or backslash' });
      else pending.push({ rel, abs });
    }
  };
  await walk(root, '');
  for (let i = 0; i < pending.length; i += STAT_CONCURRENCY) {
    const batch = pending.slice(i, i + STAT_CONCURRENCY);
    const stats = await Promise.all(batch.map((p) => lstat(p.abs, { bigint: true })));
    stats.forEach((st, k) => {
      const p = batch[k] as { rel: string; abs: string };
      files.push(toScanned(p.rel, p.abs, st));
    });
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
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
