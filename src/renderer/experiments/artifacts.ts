/** The artifacts browser's helpers: what a file previews as, folder paths, and reading the head of a file. */

/** Text previews show at most this much of a file. */
export const PREVIEW_BYTES = 200 * 1024;

const IMAGE = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'svg', 'avif']);
const TEXT = new Set([
  'txt',
  'log',
  'json',
  'jsonl',
  'ndjson',
  'csv',
  'tsv',
  'md',
  'yaml',
  'yml',
  'toml',
  'ini',
  'cfg',
  'py',
  'sh',
  'xml',
  'html',
  'js',
  'ts',
  'sql',
]);
/** Files MLflow writes without an extension that are text. */
const TEXT_NAMES = new Set(['MLmodel', 'Dockerfile', 'LICENSE', 'README']);

export type PreviewKind = 'image' | 'text' | 'table' | 'json' | 'other';

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** How a file is previewed: images inline, text (JSON pretty-printed, CSV as a table) shown, others downloaded. */
export function previewKind(path: string): PreviewKind {
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (IMAGE.has(ext)) return 'image';
  if (ext === 'json') return 'json';
  if (ext === 'csv' || ext === 'tsv') return 'table';
  if (TEXT.has(ext) || TEXT_NAMES.has(name)) return 'text';
  return 'other';
}

/** The folders from the top to `path` ("a/b" → a, a/b), for breadcrumbs. */
export function folderCrumbs(path: string): { name: string; path: string }[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join('/') }));
}

/** JSON pretty-printed when the whole of it was read and parses; the text as it is otherwise. */
export function prettyJson(text: string, complete: boolean): string {
  if (!complete) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * The first rows of CSV or TSV text as cells (quotes understood; a quoted field may not span lines here, which
 * is enough for a preview). The last line is dropped when the text was cut short, as it may be partial.
 */
export function previewRows(text: string, tab: boolean, complete: boolean, maxRows = 200): string[][] {
  const lines = text.split(/\r?\n/);
  if (!complete) lines.pop();
  const sep = tab ? '\t' : ',';
  return lines
    .filter((l) => l !== '')
    .slice(0, maxRows)
    .map((line) => {
      if (tab) return line.split(sep);
      const cells: string[] = [];
      let cell = '';
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i] as string;
        if (quoted) {
          if (c === '"' && line[i + 1] === '"') {
            cell += '"';
            i++;
          } else if (c === '"') quoted = false;
          else cell += c;
        } else if (c === '"' && cell === '') quoted = true;
        else if (c === sep) {
          cells.push(cell);
          cell = '';
        } else cell += c;
      }
      cells.push(cell);
      return cells;
    });
}

/**
 * Reads at most `limit` bytes of a URL (the session cookie signs it in) and stops the download there, so that
 * previewing the head of a large log costs only the head. Decodes as UTF-8, dropping a character cut in half.
 */
export async function readHead(url: string, limit = PREVIEW_BYTES): Promise<{ text: string; complete: boolean }> {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) {
    const body = await res.text();
    let message = `HTTP ${res.status}`;
    try {
      message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // Not JSON: the status says enough.
    }
    throw new Error(message);
  }
  const reader = res.body?.getReader();
  if (!reader) return { text: (await res.text()).slice(0, limit), complete: true };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= limit) {
      complete = false;
      await reader.cancel();
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(size, limit));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.byteLength, bytes.length - at));
    bytes.set(part, at);
    at += part.byteLength;
    if (at >= bytes.length) break;
  }
  // A stream decode keeps a character cut at the limit out instead of showing a replacement mark.
  const text = new TextDecoder().decode(bytes, { stream: !complete });
  return { text, complete };
}
