/** Tags typed as `team=vision, owner=ana` (a comma or a new line between them; a key alone has an empty value). */
export function parseTagList(text: string): { tags: { key: string; value: string }[]; error: string | null } {
  const tags: { key: string; value: string }[] = [];
  for (const part of text.split(/[,\n]/)) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (key === '') return { tags, error: `"${item}" has no key before "="` };
    if (tags.some((t) => t.key === key)) return { tags, error: `the tag "${key}" is given twice` };
    tags.push({ key, value });
  }
  return { tags, error: null };
}
