import type { InfiniteData } from '@tanstack/react-query';
import type { Run, RunInfo } from '#shared/contracts/modelhub';

/** A loaded runs list (pages of `runs.search`). */
export type RunPages = InfiniteData<{ items: Run[]; nextPageToken: string | null }, string | undefined>;

/**
 * The pages with one run changed by `change` (the same object where the run is not among them, so that a live
 * event about a run off screen costs no render).
 */
export function patchRun(data: RunPages | undefined, id: string, change: (run: Run) => Run): RunPages | undefined {
  if (!data) return data;
  let touched = false;
  const pages = data.pages.map((page) => {
    const at = page.items.findIndex((r) => r.info.id === id);
    if (at < 0) return page;
    touched = true;
    const items = page.items.slice();
    items[at] = change(items[at] as Run);
    return { ...page, items };
  });
  return touched ? { ...data, pages } : data;
}

/** A run with new info (status, end time, name) from a `run.updated` event. */
export function withInfo(info: RunInfo): (run: Run) => Run {
  return (run) => ({ ...run, info });
}

/** A run replaced by a fresh copy from `runs.get` (new metrics after `run.metrics`). */
export function replacedBy(fresh: Run): (run: Run) => Run {
  return () => fresh;
}
