import { createReadStream, statSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '#shared/errors';
import { assertFileSize, type ImportLimits } from './limits';
import { isSafeRelativePath } from './manifest';

export type ArchiveFormat = 'zip' | 'tar';

/** Archives imported as the files inside them; node-tar finds out by itself whether a tar is gzip-compressed. */
export function archiveFormatOf(path: string): ArchiveFormat | undefined {
  if (/\.zip$/i.test(path)) return 'zip';
  if (/\.(tar|tar\.gz|tgz)$/i.test(path)) return 'tar';
  return undefined;
}

/** One regular file of an archive; `content` fails unless it yields exactly `size` bytes. */
export interface ArchiveFile {
  path: string;
  size: number;
  content: Readable;
}

export interface ArchiveOptions {
  limits: ImportLimits;
  signal?: AbortSignal | undefined;
  progress?: ((fraction: number, message: string) => void) | undefined;
}

function refuse(name: string, why: string): AppError {
  return AppError.invalid('path', `archive entry '${name}' ${why}; nothing was imported`);
}

/**
 * The manifest path of an entry name, or why it may not be imported: an entry must stay inside the folder it
 * would be extracted to on any OS. `./` and empty segments (`a//b`) are dropped; a name that is then empty is
 * the archive's own folder.
 */
function entryPath(name: string): string {
  if (name.includes('\\')) throw refuse(name, 'holds a backslash (a Windows path separator)');
  if (name.startsWith('/')) throw refuse(name, 'is an absolute path');
  if (/^[A-Za-z]:/.test(name)) throw refuse(name, 'starts with a drive letter');
  const segments = name.split('/');
  if (segments.includes('..')) throw refuse(name, "climbs out of the archive with '..'");
  const path = segments.filter((s) => s !== '' && s !== '.').join('/');
  if (path !== '' && !isSafeRelativePath(path)) throw refuse(name, 'holds a control character');
  return path;
}

/** Counts entries and bytes against the limits, and refuses a path given twice. */
class EntryChecker {
  private entries = 0;
  private bytes = 0;
  private readonly paths = new Set<string>();

  constructor(private readonly limits: ImportLimits) {}

  /** Every entry counts towards the entry limit, folders and links included. */
  entry(): void {
    if (++this.entries > this.limits.maxArchiveEntries) {
      throw AppError.invalid(
        'path',
        `the archive holds more than ${this.limits.maxArchiveEntries} entries (dataforge.maxArchiveEntries); nothing was imported`,
      );
    }
  }

  /** A regular file: its manifest path, once its size fits the limits. */
  file(name: string, size: number): string {
    const path = entryPath(name);
    if (path === '') throw refuse(name, 'is a file without a name');
    if (this.paths.has(path)) throw refuse(name, 'appears twice');
    this.paths.add(path);
    assertFileSize(path, size, this.limits);
    this.bytes += size;
    if (this.bytes > this.limits.maxArchiveBytes) {
      throw AppError.invalid(
        'path',
        `the archive holds more than ${this.limits.maxArchiveBytes} bytes uncompressed (dataforge.maxArchiveBytes); nothing was imported`,
      );
    }
    return path;
  }
}

/** Passes an entry's bytes on, failing when there are more or fewer than its header declared. */
function exactly(name: string, size: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > size) done(refuse(name, `holds more than the ${size} bytes its header declares`));
      else done(null, chunk);
    },
    flush(done) {
      done(seen === size ? null : refuse(name, `is truncated: ${seen} of ${size} bytes`));
    },
  });
}

function assertNotCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError('FAILED_PRECONDITION', 'the import was cancelled');
}

/**
 * Calls `store` with each regular file of a .zip, .tar, .tar.gz or .tgz, one at a time, in archive order.
 * Entry paths are kept as they are (with the archive's own top folder, if it has one); folders are implied by
 * the paths. The whole import is refused, naming the entry, for an absolute path, `..`, a drive letter or a
 * backslash, a symbolic or hard link or device, a path given twice, or a file over `limits`; so is an
 * archive past the limits on entries and total uncompressed bytes (archive bombs). A refusal may come after
 * some files were stored: the caller drops what it stored.
 */
export async function readArchive(
  file: string,
  options: ArchiveOptions,
  store: (file: ArchiveFile) => Promise<void>,
): Promise<void> {
  const format = archiveFormatOf(file);
  if (format === 'zip') return readZip(file, options, store);
  if (format === 'tar') return readTar(file, options, store);
  throw AppError.invalid('path', `${file} is not a .zip, .tar, .tar.gz or .tgz archive`);
}

/** Whether a zip entry is a Unix symbolic link (zip has no hard links). */
function isZipSymlink(entry: Entry): boolean {
  const madeBy = entry.versionMadeBy >> 8;
  // 3: Unix, 19: macOS; other hosts keep no file type in the upper attribute bits.
  return (madeBy === 3 || madeBy === 19) && ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
}

function zipName(entry: Entry): string {
  // With decodeStrings off, yauzl leaves names raw, so backslashes reach our check instead of being rewritten.
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}

/** A zip entry's manifest path, or undefined for a folder. */
function zipEntryPath(entry: Entry, checker: EntryChecker): string | undefined {
  checker.entry();
  const name = zipName(entry);
  if (isZipSymlink(entry)) throw refuse(name, 'is a symbolic link; archives with links cannot be imported');
  if (name.endsWith('/')) {
    entryPath(name);
    return undefined;
  }
  if (!entry.canDecodeFileData()) {
    throw refuse(
      name,
      entry.isEncrypted()
        ? 'is encrypted'
        : `uses compression method ${entry.compressionMethod}, which is not supported`,
    );
  }
  return checker.file(name, entry.uncompressedSize);
}

/** An entry's bytes; yauzl's errors (bad data, a size that lies) name the entry. */
async function zipContent(zip: ZipFile, entry: Entry): Promise<Readable> {
  const name = zipName(entry);
  const unreadable = (err: Error) => refuse(name, `could not be read: ${err.message}`);
  const raw = await zip.openReadStreamPromise(entry).catch((err: Error) => {
    throw unreadable(err);
  });
  const content = exactly(name, entry.uncompressedSize);
  raw.on('error', (err) => content.destroy(unreadable(err)));
  // A reader that gives up releases the file.
  content.on('close', () => raw.destroy());
  return raw.pipe(content);
}

function unreadableZip(file: string, err: unknown): AppError {
  return AppError.invalid('path', `${file} is not a readable zip archive: ${(err as Error).message}`);
}

async function openZip(file: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(file, { decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    throw unreadableZip(file, err);
  }
}

/** The entries of the central directory; a damaged one fails as an unreadable archive. */
async function* zipEntries(zip: ZipFile, file: string): AsyncGenerator<Entry> {
  const entries = zip.eachEntry();
  for (;;) {
    let next: IteratorResult<Entry>;
    try {
      next = await entries.next();
    } catch (err) {
      throw unreadableZip(file, err);
    }
    if (next.done) return;
    yield next.value;
  }
}

/**
 * Two passes: the central directory is checked whole before a byte is extracted (a bad entry near the end
 * costs nothing), then the entries are read. yauzl fails an entry whose content does not match its size.
 */
async function readZip(file: string, options: ArchiveOptions, store: (file: ArchiveFile) => Promise<void>) {
  const first = await openZip(file);
  const checker = new EntryChecker(options.limits);
  let total = 0;
  try {
    for await (const entry of zipEntries(first, file))
      total += zipEntryPath(entry, checker) === undefined ? 0 : entry.uncompressedSize;
  } finally {
    first.close();
  }
  const zip = await openZip(file);
  const again = new EntryChecker(options.limits);
  let done = 0;
  try {
    for await (const entry of zipEntries(zip, file)) {
      assertNotCancelled(options.signal);
      const path = zipEntryPath(entry, again);
      if (path === undefined) continue;
      const content = await zipContent(zip, entry);
      await store({ path, size: entry.uncompressedSize, content });
      done += entry.uncompressedSize;
      options.progress?.(total > 0 ? done / total : 1, path);
    }
  } finally {
    zip.close();
  }
}

const TAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const TAR_FOLDER_TYPES = new Set(['Directory', 'GNUDumpDir']);

/**
 * One pass over the (possibly gzip-compressed) stream. Entries are taken one at a time: the next is only read
 * once the previous one is stored, so memory holds one read chunk at most, whatever the archive's size.
 */
async function readTar(file: string, options: ArchiveOptions, store: (file: ArchiveFile) => Promise<void>) {
  const size = statSync(file).size;
  const checker = new EntryChecker(options.limits);
  const source = createReadStream(file);
  // strict: a bad header, a bad checksum or a truncated archive is an error, not a warning.
  const parser = new Parser({ strict: true });
  const pending: ReadEntry[] = [];
  let ended = false;
  let failure: Error | undefined;
  let current: Transform | undefined;
  let wake: () => void = () => undefined;
  const fail = (err: Error) => {
    failure ??= AppError.invalid('path', `${file} is not a readable tar archive: ${err.message}`);
    // An entry cut off by the error would otherwise never end.
    current?.destroy(failure);
    wake();
  };
  parser.on('entry', (entry: ReadEntry) => {
    pending.push(entry);
    wake();
  });
  parser.on('end', () => {
    ended = true;
    wake();
  });
  parser.on('error', fail);
  source.on('error', fail);
  source.pipe(parser);
  try {
    for (;;) {
      if (failure) throw failure;
      assertNotCancelled(options.signal);
      const entry = pending.shift();
      if (!entry) {
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      checker.entry();
      if (TAR_FOLDER_TYPES.has(entry.type)) {
        entryPath(entry.path);
        entry.resume();
        continue;
      }
      if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
        const kind = entry.type === 'Link' ? 'a hard link' : 'a symbolic link';
        throw refuse(entry.path, `is ${kind}; archives with links cannot be imported`);
      }
      if (!TAR_FILE_TYPES.has(entry.type)) throw refuse(entry.path, `is a ${entry.type} entry, not a regular file`);
      const path = checker.file(entry.path, entry.size);
      current = exactly(entry.path, entry.size);
      entry.pipe(current);
      await store({ path, size: entry.size, content: current });
      current = undefined;
      options.progress?.(size > 0 ? source.bytesRead / size : 1, path);
    }
  } finally {
    source.unpipe(parser);
    source.destroy();
  }
}
