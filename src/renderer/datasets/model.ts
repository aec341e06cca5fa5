import { ImportResult, type DatasetVersion, type ManifestEntry } from '#shared/contracts/dataforge';

/** How a version is named on screen: "v3". */
export function versionLabel(version: Pick<DatasetVersion, 'number'>): string {
  return `v${version.number}`;
}

/** Files the profiler and the row viewer read. */
export function isTablePath(path: string): boolean {
  return /\.(csv|tsv|jsonl)$/i.test(path);
}

export interface FolderItem {
  name: string;
  /** The prefix that opens it: always ends with "/". */
  prefix: string;
  files: number;
  bytes: number;
}

export interface FileItem {
  name: string;
  entry: ManifestEntry;
}

/**
 * What a file browser shows inside `prefix` (empty or ending in "/"): the sub-folders, with the number and size
 * of the files below them, then the files. `entries` are a version's files under `prefix` in path order.
 */
export function listFolder(
  entries: readonly ManifestEntry[],
  prefix: string,
): { folders: FolderItem[]; files: FileItem[] } {
  const folders = new Map<string, FolderItem>();
  const files: FileItem[] = [];
  for (const entry of entries) {
    if (!entry.path.startsWith(prefix)) continue;
    const rest = entry.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      files.push({ name: rest, entry });
      continue;
    }
    const name = rest.slice(0, slash);
    const folder = folders.get(name) ?? { name, prefix: `${prefix}${name}/`, files: 0, bytes: 0 };
    folder.files++;
    folder.bytes += entry.size;
    folders.set(name, folder);
  }
  return { folders: [...folders.values()], files };
}

/** The breadcrumbs of a folder prefix: "a/b/" gives a → "a/", b → "a/b/". */
export function breadcrumbs(prefix: string): { name: string; prefix: string }[] {
  const parts = prefix.split('/').filter(Boolean);
  return parts.map((name, i) => ({ name, prefix: `${parts.slice(0, i + 1).join('/')}/` }));
}

/** A folder prefix from the URL: "" or ending in "/", never starting with one. */
export function normalizePrefix(raw: string | null): string {
  const trimmed = (raw ?? '').replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

/** The result of a finished `dataforge.import` job, when it is one. */
export function importResultOf(result: unknown): ImportResult | null {
  const parsed = ImportResult.safeParse(result);
  return parsed.success ? parsed.data : null;
}

/** The result of a finished `dataforge.export` job. */
export function exportResultOf(result: unknown): { files: number; bytes: number; path: string } | null {
  const r = result as { files?: unknown; bytes?: unknown; path?: unknown } | null;
  if (r && typeof r.files === 'number' && typeof r.bytes === 'number' && typeof r.path === 'string') {
    return { files: r.files, bytes: r.bytes, path: r.path };
  }
  return null;
}

/** True for an absolute path on the core's machine, as `datasets.import` and `datasets.export` require. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path);
}

/** A number for a profile card: integers as they are, others with up to 4 significant digits. */
export function formatStat(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) return value.toExponential(2);
  return Number(value.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}
