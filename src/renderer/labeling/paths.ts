/** The workspace of a labeling project; `mode` opens review or agreement, `task` a task in review. */
export function projectPath(
  dataset: string,
  project: string,
  options: { mode?: 'annotate' | 'review' | 'agreement'; task?: string } = {},
): string {
  const query = new URLSearchParams();
  if (options.mode && options.mode !== 'annotate') query.set('mode', options.mode);
  if (options.task) query.set('task', options.task);
  const q = query.toString();
  return `/datasets/${encodeURIComponent(dataset)}/label/${encodeURIComponent(project)}${q ? `?${q}` : ''}`;
}
