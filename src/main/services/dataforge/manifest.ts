import type { DatasetVersion, ManifestEntry } from '#shared/contracts/dataforge';

/**
 * A version's manifest: every file as `<sha256> <size> <path>` on its own line, sorted by path. It is stored as
 * a blob, so a version's whole content is named by one hash and two versions with the same files share it.
 */
export function serializeManifest(entries: readonly ManifestEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sorted.map((e) => `${e.sha256} ${e.size} ${e.path}\n`).join('');
}

export function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    entries.push({
      sha256: line.slice(0, first),
      size: Number(line.slice(first + 1, second)),
      path: line.slice(second + 1),
    });
  }
  return entries;
}

const TABULAR = /\.(csv|tsv|jsonl|ndjson|parquet)$/i;
export const IMAGE = /\.(png|jpe?g|gif|bmp|webp|tiff?)$/i;
const TEXT = /\.(txt|md)$/i;

/** What a version holds, judged by its file names (content checks come with profiling). */
export function detectKind(entries: readonly ManifestEntry[]): DatasetVersion['kind'] {
  if (entries.length === 0) return 'empty';
  const kinds = new Set(
    entries.map((e) =>
      TABULAR.test(e.path) ? 'tabular' : IMAGE.test(e.path) ? 'images' : TEXT.test(e.path) ? 'text' : 'files',
    ),
  );
  if (kinds.size === 1) return [...kinds][0] as DatasetVersion['kind'];
  return 'mixed';
}

export interface ManifestDiff {
  added: ManifestEntry[];
  removed: ManifestEntry[];
  changed: { path: string; before: ManifestEntry; after: ManifestEntry }[];
  unchanged: number;
}

/** Compares two sorted manifests in one merge pass. */
export function diffManifests(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): ManifestDiff {
  const out: ManifestDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const a = before[i];
    const b = after[j];
    if (a && (!b || a.path < b.path)) {
      out.removed.push(a);
      i++;
    } else if (b && (!a || b.path < a.path)) {
      out.added.push(b);
      j++;
    } else if (a && b) {
      if (a.sha256 === b.sha256) out.unchanged++;
      else out.changed.push({ path: a.path, before: a, after: b });
      i++;
      j++;
    }
  }
  return out;
}

export { isSafeRelativePath } from '#platform/paths';
