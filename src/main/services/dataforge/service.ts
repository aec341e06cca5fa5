import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobRef, BlobStore } from '#platform/blobstore';
import type { EventBus } from '#platform/events';
import { mediaTypeOf } from '#platform/paths';
import type { Logger } from '#platform/logger';
import type { JobQueue } from '#platform/queue';
import type { UploadStore } from '#platform/uploads';
import { ID_PATTERN, newId } from '#shared/ids';
import { AppError } from '#shared/errors';
import type { RawReply } from '#shared/api/endpoint';
import type { ColumnType } from '#shared/contracts/dataforge';
import type {
  Dataset,
  DatasetVersion,
  CommitRequest,
  DataforgeService,
  ImageSummary,
  ImportRequest,
  ImportResult,
  ManifestEntry,
  ProgressSink,
  QualityReport,
  RowsPage,
  RowsQuery,
  TableDiff,
  TableSchema,
  VersionProfile,
  Watch,
} from './contract';
import { archiveFormatOf, readArchive } from './archive';
import { classOf, imageSize } from './images';
import { LabelingService, type LabelingHost } from './labeling';
import type { SqliteLabelingStore } from './labeling-store';
import { assertFileSize, type ImportLimits } from './limits';
import { IMAGE, detectKind, diffManifests, isSafeRelativePath, parseManifest, serializeManifest } from './manifest';
import { TableProfiler } from './profile';
import { QualityChecker } from './quality';
import { RowsCollector } from './rows';
import { scanPath, type ScannedFile } from './scan';
import { diffTables } from './table-diff';
import { FolderWatchers } from './watcher';
import { tableFormatOf, type TableVisitor } from './tables';
import { readTableFromBlob } from './table-source';
import { type DataforgeStore, type DatasetRow, type StatCacheEntry, type VersionRow } from './store';

export const BLOB_OWNER = 'dataforge';
/** A file modified this recently may change again within the clock's resolution: hash it again next time. */
const RACY_WINDOW_MS = 2000;
/** Files up to this size are read whole (one at a time) and stored together by `putFiles`; larger ones stream. */
const SMALL_FILE_BYTES = 4 * 1024 * 1024;
/** Large files streamed at once: one is read and hashed while the disk flushes another. */
const LARGE_FILES_IN_FLIGHT = 3;
const LARGE_FILE_CHUNK_BYTES = 1024 * 1024;
const MANIFEST_CACHE_SIZE = 8;
/** Enough of an image file to find its size (JPEG frame headers can follow large metadata). */
const IMAGE_HEAD_BYTES = 64 * 1024;

export class LocalDataforgeService implements DataforgeService {
  private readonly manifests = new Map<string, ManifestEntry[]>();
  private readonly watchers: FolderWatchers;
  readonly labeling: LabelingService;

  constructor(
    private readonly store: DataforgeStore,
    labelingStore: SqliteLabelingStore,
    private readonly blobs: BlobStore,
    private readonly queue: JobQueue,
    private readonly uploads: UploadStore,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly limits: ImportLimits,
  ) {
    this.watchers = new FolderWatchers(logger);
    this.labeling = new LabelingService(labelingStore, this.labelingHost(), bus);
  }

  private labelingHost(): LabelingHost {
    return {
      dataset: (ref) => this.datasetRow(ref),
      resolveVersion: (dataset, version) => this.resolveVersion(dataset, version),
      versionById: (id) => {
        const row = this.store.versionById(id);
        if (!row) throw AppError.notFound('dataset version', id);
        return this.toVersion(row);
      },
      manifest: (version) => this.manifestOf(version),
      readTable: (entry, visitor) => {
        const format = tableFormatOf(entry.path);
        if (!format)
          throw AppError.invalid('source.path', `'${entry.path}' is not a table (CSV, TSV, JSON lines or Parquet)`);
        return readTableFromBlob(this.blobs, entry, format, visitor, { verify: true });
      },
      readHead: (sha256, bytes) => this.blobs.readHead(sha256, bytes),
      readBlob: (sha256) => this.blobs.read(sha256, { verify: true }),
      writeVersion: (dataset, files, meta) => this.writeVersion(dataset, files, meta),
    };
  }

  /**
   * Makes a version of `dataset` (created when missing) holding exactly `files`: new content is stored, files
   * already in the blob store are referenced. Nothing is visible until the version is recorded.
   */
  async writeVersion(
    dataset: string,
    files: readonly ({ path: string; content: Buffer } | ManifestEntry)[],
    meta: { message: string; author: string },
  ): Promise<{ created: boolean; version: DatasetVersion }> {
    const seen = new Set<string>();
    for (const f of files) {
      if (!isSafeRelativePath(f.path)) throw new AppError('INTERNAL', `'${f.path}' is not a safe path`);
      if (seen.has(f.path)) throw AppError.invalid('files', `two files would be written to '${f.path}'`);
      seen.add(f.path);
    }
    const row = this.datasetOrCreate(dataset, true);
    const versionId = newId();
    const ref: BlobRef = { owner: BLOB_OWNER, ref: versionId };
    try {
      const entries: ManifestEntry[] = [];
      const lost = new Set(
        this.blobs.addRefs(
          files.flatMap((f) => ('sha256' in f ? [f.sha256] : [])),
          ref,
        ),
      );
      for (const f of files) {
        if ('content' in f) entries.push({ path: f.path, ...(await this.blobs.put(f.content, ref)) });
        else if (lost.has(f.sha256))
          throw new AppError('INTERNAL', `the blob of '${f.path}' is missing from the store`);
        else entries.push(f);
      }
      entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      return await this.recordVersion(row, versionId, entries, meta);
    } catch (err) {
      this.blobs.removeRefsOf(ref);
      throw err;
    }
  }

  /**
   * Drops blob references left by imports a crash interrupted (their version was never created), so that
   * garbage collection can reclaim those blobs.
   */
  repairInterruptedImports(): number {
    const versions = this.store.allVersionIds();
    let removed = 0;
    for (const ref of this.blobs.refHolders(BLOB_OWNER)) {
      if (!versions.has(ref)) removed += this.blobs.removeRefsOf({ owner: BLOB_OWNER, ref });
    }
    if (removed > 0) this.logger.warn({ removed }, 'dropped blob references of interrupted imports');
    return removed;
  }

  private datasetRow(ref: string): DatasetRow {
    const row = this.store.getDataset(ref);
    if (!row) throw AppError.notFound('dataset', ref);
    return row;
  }

  private toVersion(row: VersionRow): DatasetVersion {
    return { ...row, tags: this.store.tagsOf(row.id) };
  }

  private toDataset(row: DatasetRow): Dataset {
    const latest = this.store.latestVersion(row.id);
    return { ...row, versionCount: this.store.countVersions(row.id), latest: latest ? this.toVersion(latest) : null };
  }

  createDataset(input: { name: string; description: string }): Dataset {
    if (this.store.getDataset(input.name)) {
      throw new AppError('CONFLICT', `a dataset named '${input.name}' already exists`, { name: input.name });
    }
    const now = Date.now();
    const row: DatasetRow = {
      id: newId(now),
      name: input.name,
      description: input.description,
      createdAt: now,
      updatedAt: now,
    };
    this.store.insertDataset(row);
    const dataset = this.toDataset(row);
    this.bus.emit('dataset.created', { dataset });
    return dataset;
  }

  getDataset(ref: string): Dataset {
    return this.toDataset(this.datasetRow(ref));
  }

  listDatasets(query: { limit: number; cursor?: string | undefined }) {
    const rows = this.store.listDatasets(query.limit + 1, query.cursor);
    const items = rows.slice(0, query.limit).map((r) => this.toDataset(r));
    return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  /** The dataset a request names, made first when asked to and the reference is a name. */
  private datasetOrCreate(ref: string, create: boolean): DatasetRow {
    const row = this.store.getDataset(ref);
    if (row) return row;
    if (!create || ID_PATTERN.test(ref)) throw AppError.notFound('dataset', ref);
    return this.datasetRow(this.createDataset({ name: ref, description: '' }).id);
  }

  startImport(request: ImportRequest) {
    const resolved = path.resolve(request.path);
    if (!existsSync(resolved)) throw AppError.invalid('path', `${resolved} does not exist`);
    const row = this.datasetOrCreate(request.dataset, request.create);
    return this.enqueueImport(row.id, resolved, request.message, request.author, request.extract);
  }

  private enqueueImport(datasetId: string, folder: string, message: string, author: string, extract = true) {
    return this.queue.enqueue({
      type: 'dataforge.import',
      payload: { datasetId, path: folder, message, author, extract },
    });
  }

  watch(request: { dataset: string; path: string; settleMs: number; create: boolean }): Watch {
    const resolved = path.resolve(request.path);
    if (!existsSync(resolved) || !statSync(resolved).isDirectory())
      throw AppError.invalid('path', `${resolved} is not a folder`);
    const row = this.datasetOrCreate(request.dataset, request.create);
    if (this.store.listWatches(row.id).some((w) => w.path === resolved)) {
      throw new AppError('CONFLICT', `${resolved} is already watched for '${row.name}'`);
    }
    const w: Watch = {
      id: newId(),
      datasetId: row.id,
      path: resolved,
      settleMs: request.settleMs,
      createdAt: Date.now(),
      lastJobId: null,
    };
    this.store.insertWatch(w);
    this.importWatched(w);
    this.watchers.start(w.id, w.path, w.settleMs, () => this.importWatched(w));
    return this.store.listWatches(row.id).find((x) => x.id === w.id) as Watch;
  }

  /** Imports a watched folder, unless its previous import is still going (then tries again once settled). */
  private importWatched(w: Watch): void {
    const current = this.store.listWatches(w.datasetId).find((x) => x.id === w.id);
    if (!current) return;
    if (current.lastJobId) {
      const previous = this.queue.get(current.lastJobId);
      if (previous.status === 'queued' || previous.status === 'running') {
        setTimeout(() => this.importWatched(w), w.settleMs).unref();
        return;
      }
    }
    try {
      const job = this.enqueueImport(w.datasetId, w.path, `watched folder ${w.path} changed`, 'folder watch');
      this.store.setWatchJob(w.id, job.id);
    } catch (err) {
      this.logger.warn({ err, folder: w.path }, 'could not import a watched folder');
    }
  }

  watches(dataset: string): Watch[] {
    return this.store.listWatches(this.datasetRow(dataset).id);
  }

  unwatch(dataset: string, id: string): Watch {
    const w = this.watches(dataset).find((x) => x.id === id);
    if (!w) throw AppError.notFound('watch', id);
    this.watchers.stop(id);
    this.store.deleteWatch(id);
    return w;
  }

  startWatching(): void {
    for (const w of this.store.listWatches()) {
      if (!existsSync(w.path)) {
        this.logger.warn({ folder: w.path }, 'a watched folder no longer exists; not watching it');
        continue;
      }
      this.watchers.start(w.id, w.path, w.settleMs, () => this.importWatched(w));
      // Changes made while the core was stopped.
      this.importWatched(w);
    }
  }

  stopWatching(): Promise<void> {
    return this.watchers.stopAll();
  }

  /**
   * Imports the files inside an archive (see `readArchive` for what is refused). Each entry is stored as it is
   * read, under the new version's reference, so a refusal or failure anywhere drops them all.
   */
  private async importArchive(
    dataset: DatasetRow,
    file: string,
    meta: { message: string; author: string },
    sink?: ProgressSink,
  ): Promise<ImportResult> {
    const versionId = newId();
    const ref: BlobRef = { owner: BLOB_OWNER, ref: versionId };
    const entries: ManifestEntry[] = [];
    try {
      const options = { limits: this.limits, signal: sink?.signal, progress: sink?.progress.bind(sink) };
      await readArchive(file, options, async (f) => {
        const { sha256, size } = await this.blobs.put(f.content, ref);
        entries.push({ path: f.path, sha256, size });
      });
      const { created, version } = await this.recordVersion(dataset, versionId, entries, meta);
      const bytes = entries.reduce((n, e) => n + e.size, 0);
      return {
        created,
        version,
        files: entries.length,
        bytes,
        hashedFiles: entries.length,
        hashedBytes: bytes,
        skipped: [],
      };
    } catch (err) {
      this.blobs.removeRefsOf(ref);
      throw err;
    }
  }

  async importPath(
    datasetId: string,
    root: string,
    meta: { message: string; author: string; extract?: boolean },
    sink?: ProgressSink,
  ): Promise<ImportResult> {
    const dataset = this.datasetRow(datasetId);
    if ((meta.extract ?? true) && archiveFormatOf(root) && statSync(root, { throwIfNoEntry: false })?.isFile())
      return this.importArchive(dataset, root, meta, sink);
    const scan = await scanPath(root);
    const { skipped, totalBytes } = scan;
    if (scan.largest) assertFileSize(scan.largest.rel, scan.largest.size, this.limits);
    // Unchanged since the import that made the latest version: no file is read, nothing is written.
    const latest = this.store.latestVersion(dataset.id);
    const previous = this.store.importDigest(dataset.id, root);
    if (latest && previous?.scanDigest === scan.digest && previous.versionId === latest.id) {
      return {
        created: false,
        version: this.toVersion(latest),
        files: scan.fileCount,
        bytes: totalBytes,
        hashedFiles: 0,
        hashedBytes: 0,
        skipped,
      };
    }
    const files = scan.files();
    const versionId = newId();
    const ref: BlobRef = { owner: BLOB_OWNER, ref: versionId };
    const cache = this.store.statCacheUnder(root);
    /** The blob of each file, by index in `files`: from the stat cache, or stored by this import. */
    const blobOf: (BlobInfo | undefined)[] = files.map((f) => {
      const c = cache.get(f.abs);
      return c && c.size === f.size && c.mtimeNs === f.mtimeNs && c.ctimeNs === f.ctimeNs && c.ino === f.ino
        ? { sha256: c.sha256, size: f.size }
        : undefined;
    });
    const freshCache: StatCacheEntry[] = [];
    let doneBytes = 0;
    let hashedFiles = 0;
    let hashedBytes = 0;
    const stored = (i: number, blob: BlobInfo) => {
      const f = files[i] as ScannedFile;
      blobOf[i] = blob;
      hashedFiles++;
      hashedBytes += blob.size;
      doneBytes += f.size;
      if (blob.size === f.size && Date.now() - f.mtimeMs > RACY_WINDOW_MS) {
        freshCache.push({
          path: f.abs,
          size: f.size,
          mtimeNs: f.mtimeNs,
          ctimeNs: f.ctimeNs,
          ino: f.ino,
          sha256: blob.sha256,
        });
      }
    };
    const report = () =>
      sink?.progress(
        totalBytes > 0 ? doneBytes / totalBytes : hashedFiles / files.length,
        `${hashedFiles}/${files.length} files`,
      );
    const checkCancelled = () => {
      if (sink?.signal.aborted) throw new AppError('FAILED_PRECONDITION', 'the import was cancelled');
    };
    try {
      const knownHashes = blobOf.flatMap((b) => (b ? [b.sha256] : []));
      const lost = new Set(this.blobs.addRefs(knownHashes, ref));
      const toStore: number[] = [];
      for (const [i, b] of blobOf.entries()) {
        if (b && !lost.has(b.sha256)) doneBytes += b.size;
        else toStore.push(i);
      }
      const small = toStore.filter((i) => (files[i] as ScannedFile).size <= SMALL_FILE_BYTES);
      const large = toStore.filter((i) => (files[i] as ScannedFile).size > SMALL_FILE_BYTES);
      const knownBytes = doneBytes;
      const smallBlobs = await this.blobs.putFiles(
        small.map((i) => (files[i] as ScannedFile).abs),
        ref,
        (filesRead, bytesRead) => {
          checkCancelled();
          sink?.progress(
            totalBytes > 0 ? (knownBytes + bytesRead) / totalBytes : filesRead / files.length,
            `${filesRead}/${files.length} files`,
          );
        },
      );
      small.forEach((i, k) => stored(i, smallBlobs[k] as BlobInfo));
      let nextLarge = 0;
      const storeLarge = async () => {
        for (let k = nextLarge++; k < large.length; k = nextLarge++) {
          const i = large[k] as number;
          try {
            checkCancelled();
            const source = createReadStream((files[i] as ScannedFile).abs, { highWaterMark: LARGE_FILE_CHUNK_BYTES });
            stored(i, await this.blobs.put(source, ref));
          } catch (err) {
            nextLarge = large.length; // the others stop after their current file
            throw err;
          }
          report();
        }
      };
      const workers = await Promise.allSettled(Array.from({ length: LARGE_FILES_IN_FLIGHT }, storeLarge));
      for (const w of workers) if (w.status === 'rejected') throw w.reason;
      const entries = files.map((f, i) => ({ path: f.rel, sha256: (blobOf[i] as BlobInfo).sha256, size: f.size }));
      const { created, version } = await this.recordVersion(dataset, versionId, entries, meta);
      const scanned = new Set(files.map((f) => f.abs));
      const gone = [...cache.keys()].filter((p) => !scanned.has(p));
      const now = Date.now();
      this.store.saveStatCache(freshCache, now, gone);
      // A file written within the racy window is not cached (it could change again within its mtime's
      // granularity): then the next import of the folder compares file by file.
      const cachedFiles = freshCache.length + (files.length - hashedFiles);
      this.store.saveImportDigest(
        dataset.id,
        root,
        cachedFiles === files.length ? { scanDigest: scan.digest, versionId: version.id } : undefined,
        now,
      );
      return { created, version, files: entries.length, bytes: totalBytes, hashedFiles, hashedBytes, skipped };
    } catch (err) {
      this.blobs.removeRefsOf(ref);
      throw err;
    }
  }

  /**
   * Stores the manifest and, unless it equals the latest version's, makes the next version in one transaction.
   * Every blob of `entries` must already be referenced under `versionId`; when no version is made, those
   * references are dropped (the blobs stay referenced by the versions that have them).
   */
  private async recordVersion(
    dataset: DatasetRow,
    versionId: string,
    entries: ManifestEntry[],
    meta: { message: string; author: string },
  ): Promise<{ created: boolean; version: DatasetVersion }> {
    const ref: BlobRef = { owner: BLOB_OWNER, ref: versionId };
    const manifest = await this.blobs.put(serializeManifest(entries), ref);
    const now = Date.now();
    const outcome = this.store.transaction(() => {
      const latest = this.store.latestVersion(dataset.id);
      if (latest && latest.manifestSha256 === manifest.sha256) return { created: false, row: latest };
      const row = this.store.insertVersion({
        id: versionId,
        datasetId: dataset.id,
        message: meta.message,
        author: meta.author,
        parentId: latest?.id ?? null,
        manifestSha256: manifest.sha256,
        fileCount: entries.length,
        totalBytes: entries.reduce((n, e) => n + e.size, 0),
        kind: detectKind(entries),
        createdAt: now,
      });
      this.store.touchDataset(dataset.id, now);
      return { created: true, row };
    });
    if (!outcome.created) this.blobs.removeRefsOf(ref);
    const version = this.toVersion(outcome.row);
    if (outcome.created) {
      this.bus.emit('dataset.version.created', { datasetName: dataset.name, version });
      if (entries.some((e) => tableFormatOf(e.path) || IMAGE.test(e.path))) this.enqueueProfile(version.id);
      // Quality checks train a small model per table: after the profile, at a lower priority.
      if (entries.some((e) => tableFormatOf(e.path))) this.enqueueQuality(version.id, undefined);
    }
    return { created: outcome.created, version };
  }

  async commit(request: CommitRequest): Promise<{ created: boolean; version: DatasetVersion }> {
    const dataset = this.datasetOrCreate(request.dataset, request.create);
    const seen = new Set<string>();
    for (const [i, f] of request.files.entries()) {
      if (!isSafeRelativePath(f.path))
        throw AppError.invalid(`files.${i}.path`, `'${f.path}' is not a relative path inside the dataset`);
      if (seen.has(f.path)) throw AppError.invalid(`files.${i}.path`, `'${f.path}' is given twice`);
      seen.add(f.path);
      const upload = this.uploads.get(f.uploadId);
      if (upload.sha256 === null) {
        throw new AppError(
          'FAILED_PRECONDITION',
          `files.${i}: upload ${f.uploadId} is incomplete (${upload.received} of ${upload.size} bytes)`,
        );
      }
    }
    const latest = this.store.latestVersion(dataset.id);
    const base = request.base === 'latest' && latest ? await this.manifestOf(latest) : [];
    const removals = new Set(request.remove);
    for (const [i, p] of request.remove.entries()) {
      if (!base.some((e) => e.path === p)) throw AppError.invalid(`remove.${i}`, `'${p}' is not in the latest version`);
    }
    const versionId = newId();
    const ref: BlobRef = { owner: BLOB_OWNER, ref: versionId };
    const byPath = new Map<string, ManifestEntry>();
    try {
      for (const e of base) {
        if (removals.has(e.path) || seen.has(e.path)) continue;
        this.blobs.addRef(e.sha256, ref);
        byPath.set(e.path, e);
      }
      for (const f of request.files) {
        const { sha256, size } = this.uploads.claim(f.uploadId, ref);
        byPath.set(f.path, { path: f.path, sha256, size });
      }
      return await this.recordVersion(dataset, versionId, [...byPath.values()], {
        message: request.message,
        author: request.author,
      });
    } catch (err) {
      this.blobs.removeRefsOf(ref);
      throw err;
    }
  }

  versions(dataset: string, query: { limit: number; cursor?: string | undefined }) {
    const row = this.datasetRow(dataset);
    const rows = this.store.listVersions(row.id, query.limit + 1, query.cursor);
    const items = rows.slice(0, query.limit).map((r) => this.toVersion(r));
    return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  private versionRow(dataset: DatasetRow, ref: string): VersionRow {
    let row: VersionRow | undefined;
    if (ref === 'latest') row = this.store.latestVersion(dataset.id);
    else if (/^\d+$/.test(ref)) row = this.store.versionByNumber(dataset.id, Number(ref));
    else if (ID_PATTERN.test(ref)) row = this.store.versionById(ref);
    else row = this.store.versionByTag(dataset.id, ref);
    if (!row || row.datasetId !== dataset.id) {
      throw new AppError('NOT_FOUND', `version '${ref}' of dataset '${dataset.name}' does not exist`, {
        dataset: dataset.name,
        version: ref,
      });
    }
    return row;
  }

  resolveVersion(dataset: string, version: string): DatasetVersion {
    return this.toVersion(this.versionRow(this.datasetRow(dataset), version));
  }

  private async manifestOf(row: VersionRow): Promise<ManifestEntry[]> {
    const cached = this.manifests.get(row.manifestSha256);
    if (cached) return cached;
    const entries = parseManifest((await this.blobs.read(row.manifestSha256, { verify: true })).toString('utf8'));
    this.manifests.set(row.manifestSha256, entries);
    if (this.manifests.size > MANIFEST_CACHE_SIZE) this.manifests.delete(this.manifests.keys().next().value as string);
    return entries;
  }

  async files(dataset: string, version: string, query: { prefix: string; limit: number; after?: string | undefined }) {
    const row = this.versionRow(this.datasetRow(dataset), version);
    const entries = await this.manifestOf(row);
    const matching = entries.filter(
      (e) => e.path.startsWith(query.prefix) && (query.after === undefined || e.path > query.after),
    );
    const items = matching.slice(0, query.limit);
    return { items, next: matching.length > query.limit ? (items.at(-1)?.path ?? null) : null };
  }

  async diff(dataset: string, from: string, to: string) {
    const ds = this.datasetRow(dataset);
    const a = this.versionRow(ds, from);
    const b = this.versionRow(ds, to);
    const d = diffManifests(await this.manifestOf(a), await this.manifestOf(b));
    return { from: this.toVersion(a), to: this.toVersion(b), ...d };
  }

  async tableDiff(dataset: string, from: string, to: string, tablePath: string, key?: string): Promise<TableDiff> {
    const ds = this.datasetRow(dataset);
    const side = async (ref: string) => {
      const row = this.versionRow(ds, ref);
      const entry = (await this.manifestOf(row)).find((e) => e.path === tablePath);
      if (!entry)
        throw new AppError('NOT_FOUND', `v${row.number} of '${ds.name}' has no file '${tablePath}'`, {
          path: tablePath,
        });
      const format = tableFormatOf(entry.path);
      if (!format) throw AppError.invalid('path', `'${entry.path}' is not a table (CSV, TSV, JSON lines or Parquet)`);
      return {
        read: (visitor: TableVisitor) => readTableFromBlob(this.blobs, entry, format, visitor),
        version: row.number,
      };
    };
    const [a, b] = [await side(from), await side(to)];
    return { path: tablePath, ...(await diffTables(a, b, key)) };
  }

  tag(dataset: string, version: string, tag: string): DatasetVersion {
    const ds = this.datasetRow(dataset);
    const row = this.versionRow(ds, version);
    this.store.setTag(ds.id, tag, row.id, Date.now());
    return this.toVersion(row);
  }

  untag(dataset: string, tag: string): DatasetVersion {
    const ds = this.datasetRow(dataset);
    const row = this.store.versionByTag(ds.id, tag);
    if (!row || !this.store.removeTag(ds.id, tag)) {
      throw new AppError('NOT_FOUND', `tag '${tag}' of dataset '${ds.name}' does not exist`, { tag });
    }
    return this.toVersion(row);
  }

  profile(dataset: string, version: string): VersionProfile {
    const ds = this.datasetRow(dataset);
    const row = this.versionRow(ds, version);
    const profile = this.store.getProfile(row.id);
    if (!profile) {
      throw new AppError(
        'NOT_FOUND',
        `v${row.number} of '${ds.name}' has no profile yet; POST to this URL to make one`,
        {
          version: row.number,
        },
      );
    }
    return profile;
  }

  private enqueueProfile(versionId: string) {
    return this.queue.enqueue({ type: 'dataforge.profile', payload: { versionId } });
  }

  startProfile(dataset: string, version: string) {
    return this.enqueueProfile(this.versionRow(this.datasetRow(dataset), version).id);
  }

  async profileVersion(versionId: string, sink?: ProgressSink): Promise<VersionProfile> {
    const row = this.store.versionById(versionId);
    if (!row) throw AppError.notFound('dataset version', versionId);
    const entries = await this.manifestOf(row);
    const tables = entries.flatMap((entry) => {
      const format = tableFormatOf(entry.path);
      return format ? [{ entry, format }] : [];
    });
    const totalBytes = tables.reduce((n, t) => n + t.entry.size, 0);
    let doneBytes = 0;
    const profiles = [];
    for (const { entry, format } of tables) {
      if (sink?.signal.aborted) throw new AppError('FAILED_PRECONDITION', 'profiling was cancelled');
      const profiler = new TableProfiler(entry.path, format);
      await readTableFromBlob(this.blobs, entry, format, profiler, { verify: true });
      profiles.push(profiler.result());
      doneBytes += entry.size;
      sink?.progress(totalBytes > 0 ? doneBytes / totalBytes : 1, entry.path);
    }
    const images = await this.summariseImages(
      entries.filter((e) => IMAGE.test(e.path)),
      sink,
    );
    const profile: VersionProfile = { versionId, tables: profiles, images, createdAt: Date.now() };
    this.store.saveProfile(profile);
    const dataset = this.store.getDataset(row.datasetId);
    this.bus.emit('dataset.version.profiled', { datasetName: dataset?.name ?? '', versionId, tables: profiles.length });
    return profile;
  }

  /** Formats, sizes and (for `<class>/<file>` layouts) classes of a version's images, from their headers. */
  private async summariseImages(images: ManifestEntry[], sink?: ProgressSink): Promise<ImageSummary | null> {
    if (images.length === 0) return null;
    const formats: Record<string, number> = {};
    const classes = new Map<string, number>();
    const unreadable: string[] = [];
    const width = { min: Infinity, max: 0 };
    const height = { min: Infinity, max: 0 };
    const layoutHasClasses = images.every((e) => classOf(e.path) !== undefined);
    for (const [i, e] of images.entries()) {
      if (sink?.signal.aborted) throw new AppError('FAILED_PRECONDITION', 'profiling was cancelled');
      const size = imageSize(await this.blobs.readHead(e.sha256, IMAGE_HEAD_BYTES));
      if (!size) {
        if (unreadable.length < 100) unreadable.push(e.path);
      } else {
        formats[size.format] = (formats[size.format] ?? 0) + 1;
        width.min = Math.min(width.min, size.width);
        width.max = Math.max(width.max, size.width);
        height.min = Math.min(height.min, size.height);
        height.max = Math.max(height.max, size.height);
      }
      if (layoutHasClasses) {
        const name = classOf(e.path) as string;
        classes.set(name, (classes.get(name) ?? 0) + 1);
      }
      if (i % 500 === 0) sink?.progress(i / images.length, `${i}/${images.length} images`);
    }
    return {
      count: images.length,
      formats,
      classes: [...classes.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, count]) => ({ name, count })),
      width: width.max > 0 ? width : null,
      height: height.max > 0 ? height : null,
      unreadable,
    };
  }

  schema(dataset: string, version: string, tablePath: string): TableSchema {
    const ds = this.datasetRow(dataset);
    const table = this.profiledTable(ds, version, tablePath);
    const declared = this.store.columnTypes(ds.id, tablePath);
    return {
      path: tablePath,
      columns: table.columns.map((c) => {
        const override = declared.get(c.name);
        return { name: c.name, inferred: c.type, type: override ?? c.type, overridden: override !== undefined };
      }),
    };
  }

  setSchema(
    dataset: string,
    version: string,
    tablePath: string,
    types: Record<string, ColumnType | null>,
  ): TableSchema {
    const ds = this.datasetRow(dataset);
    const table = this.profiledTable(ds, version, tablePath);
    const names = table.columns.map((c) => c.name);
    for (const name of Object.keys(types)) {
      if (!names.includes(name))
        throw AppError.invalid(`types.${name}`, `the table has no column '${name}' (it has: ${names.join(', ')})`);
    }
    this.store.setColumnTypes(ds.id, tablePath, types, Date.now());
    return this.schema(dataset, version, tablePath);
  }

  /** The profile of one table of a version; the schema is read from it. */
  private profiledTable(ds: DatasetRow, version: string, tablePath: string) {
    const row = this.versionRow(ds, version);
    const profile = this.store.getProfile(row.id);
    if (!profile)
      throw new AppError('FAILED_PRECONDITION', `v${row.number} of '${ds.name}' has no profile yet; profile it first`);
    const table = profile.tables.find((t) => t.path === tablePath);
    if (!table)
      throw new AppError('NOT_FOUND', `v${row.number} of '${ds.name}' has no table '${tablePath}'`, {
        path: tablePath,
      });
    return table;
  }

  quality(dataset: string, version: string): QualityReport {
    const ds = this.datasetRow(dataset);
    const row = this.versionRow(ds, version);
    const report = this.store.getQuality(row.id);
    if (!report) {
      throw new AppError(
        'NOT_FOUND',
        `v${row.number} of '${ds.name}' has no quality report yet; POST to this URL to make one`,
        {
          version: row.number,
        },
      );
    }
    return report;
  }

  private enqueueQuality(versionId: string, target: string | undefined) {
    return this.queue.enqueue({
      type: 'dataforge.quality',
      payload: { versionId, ...(target ? { target } : {}) },
      priority: -1,
    });
  }

  startQuality(dataset: string, version: string, target?: string) {
    return this.enqueueQuality(this.versionRow(this.datasetRow(dataset), version).id, target);
  }

  async checkQuality(versionId: string, target: string | undefined, sink?: ProgressSink): Promise<QualityReport> {
    const row = this.store.versionById(versionId);
    if (!row) throw AppError.notFound('dataset version', versionId);
    const tables = (await this.manifestOf(row)).flatMap((entry) => {
      const format = tableFormatOf(entry.path);
      return format ? [{ entry, format }] : [];
    });
    // Schema drift is judged against the parent version's profile of the same table.
    const parentProfile = row.parentId ? this.store.getProfile(row.parentId) : undefined;
    const findings: QualityReport['findings'] = [];
    const tableScores: QualityReport['tables'] = [];
    let chosenTarget: string | null = null;
    for (const [i, { entry, format }] of tables.entries()) {
      if (sink?.signal.aborted) throw new AppError('FAILED_PRECONDITION', 'the quality check was cancelled');
      const parent = parentProfile?.tables.find((t) => t.path === entry.path);
      const checker = new QualityChecker(entry.path, {
        target,
        parentColumns: parent?.columns.map((c) => ({ name: c.name, type: c.type })),
      });
      await readTableFromBlob(this.blobs, entry, format, checker, { verify: true });
      const result = checker.result();
      findings.push(...result.findings);
      tableScores.push({ path: entry.path, rows: result.rows, score: result.score });
      chosenTarget ??= result.target;
      sink?.progress((i + 1) / tables.length, entry.path);
    }
    const rows = tableScores.reduce((n, t) => n + t.rows, 0);
    const score = rows > 0 ? Math.round((tableScores.reduce((n, t) => n + t.score * t.rows, 0) / rows) * 10) / 10 : 100;
    const report: QualityReport = {
      versionId,
      score,
      target: chosenTarget,
      tables: tableScores,
      findings,
      createdAt: Date.now(),
    };
    this.store.saveQuality(report);
    const dataset = this.store.getDataset(row.datasetId);
    this.bus.emit('dataset.version.checked', { datasetName: dataset?.name ?? '', versionId, score });
    return report;
  }

  async rows(dataset: string, version: string, query: RowsQuery): Promise<RowsPage> {
    const ds = this.datasetRow(dataset);
    const row = this.versionRow(ds, version);
    const entry = (await this.manifestOf(row)).find((e) => e.path === query.path);
    if (!entry)
      throw new AppError('NOT_FOUND', `v${row.number} of '${ds.name}' has no file '${query.path}'`, {
        path: query.path,
      });
    const format = tableFormatOf(entry.path);
    if (!format) throw AppError.invalid('path', `'${entry.path}' is not a table (CSV, TSV, JSON lines or Parquet)`);
    const collector = new RowsCollector(query);
    await readTableFromBlob(this.blobs, entry, format, collector);
    return { path: entry.path, columns: collector.names, ...collector.page(), total: collector.total };
  }

  async content(dataset: string, version: string, filePath: string): Promise<RawReply> {
    const ds = this.datasetRow(dataset);
    const row = this.versionRow(ds, version);
    const entry = (await this.manifestOf(row)).find((e) => e.path === filePath);
    if (!entry) {
      throw new AppError('NOT_FOUND', `v${row.number} of '${ds.name}' has no file '${filePath}'`, { path: filePath });
    }
    return {
      body: this.blobs.open(entry.sha256, { verify: true }),
      contentType: mediaTypeOf(entry.path),
      size: entry.size,
    };
  }

  startExport(dataset: string, version: string, target: string) {
    const row = this.versionRow(this.datasetRow(dataset), version);
    const resolved = path.resolve(target);
    assertExportTarget(resolved);
    return this.queue.enqueue({ type: 'dataforge.export', payload: { versionId: row.id, path: resolved } });
  }

  async exportVersion(versionId: string, target: string, sink?: ProgressSink) {
    const row = this.store.versionById(versionId);
    if (!row) throw AppError.notFound('dataset version', versionId);
    const resolved = path.resolve(target);
    assertExportTarget(resolved);
    const entries = await this.manifestOf(row);
    const staging = `${resolved}.aidos-export-${newId()}`;
    mkdirSync(staging, { recursive: true });
    let bytes = 0;
    try {
      for (const [i, e] of entries.entries()) {
        if (sink?.signal.aborted) throw new AppError('FAILED_PRECONDITION', 'the export was cancelled');
        if (!isSafeRelativePath(e.path))
          throw new AppError('INTERNAL', `manifest entry '${e.path}' is not a safe path`);
        const dest = path.join(staging, ...e.path.split('/'));
        mkdirSync(path.dirname(dest), { recursive: true });
        await pipeline(this.blobs.open(e.sha256, { verify: true }), createWriteStream(dest, { mode: 0o644 }));
        bytes += e.size;
        sink?.progress((i + 1) / entries.length, `${i + 1}/${entries.length} files`);
      }
      if (existsSync(resolved)) rmdirSync(resolved); // empty, checked above
      renameSync(staging, resolved);
    } catch (err) {
      rmSync(staging, { recursive: true, force: true });
      throw err;
    }
    return { files: entries.length, bytes, path: resolved };
  }
}

function assertExportTarget(target: string): void {
  if (!existsSync(target)) {
    if (!existsSync(path.dirname(target)))
      throw AppError.invalid('path', `the parent folder of ${target} does not exist`);
    return;
  }
  if (!statSync(target).isDirectory()) throw AppError.invalid('path', `${target} exists and is not a folder`);
  if (readdirSync(target).length > 0)
    throw AppError.invalid('path', `${target} is not empty; export into a new or empty folder`);
}
