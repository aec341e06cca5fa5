/**
 * A path inside a dataset, an artifact tree or an archive: relative, `/`-separated, with no empty, `.` or `..`
 * segment, no drive letter, backslash, NUL or line break — so it can never name a place outside its root.
 */
export function isSafeRelativePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || /^[A-Za-z]:/.test(p) || /[\0\n\r\\]/.test(p)) return false;
  return p.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

const MEDIA_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
  json: 'application/json',
  parquet: 'application/vnd.apache.parquet',
};

const TEXT = /^(txt|csv|tsv|jsonl|ndjson|md|log|yaml|yml|toml|ini|cfg|py|sh)$/;

/**
 * A stored file's media type by its extension. Anything a browser could run (HTML, SVG, scripts) is sent as
 * plain text or bytes, so a file opened from the API cannot act as a page of the app.
 */
export function mediaTypeOf(filePath: string): string {
  const dot = filePath.lastIndexOf('.');
  const ext = dot > filePath.lastIndexOf('/') ? filePath.slice(dot + 1).toLowerCase() : '';
  if (MEDIA_TYPES[ext]) return MEDIA_TYPES[ext];
  if (TEXT.test(ext) || filePath.endsWith('/MLmodel') || filePath === 'MLmodel') return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}
