/** Where the ModelHub pages live: one place, so links and routes agree. */

/** The runs of one or more experiments: `/experiments/1` or `/experiments/1,2`. */
export function runsPath(experimentIds: readonly string[]): string {
  return `/experiments/${experimentIds.join(',')}`;
}

export function runPath(runId: string): string {
  return `/experiments/runs/${runId}`;
}

export function comparePath(runIds: readonly string[]): string {
  return `/experiments/compare?runs=${runIds.join(',')}`;
}

export function modelPath(name: string, version?: number): string {
  return `/models/${encodeURIComponent(name)}${version === undefined ? '' : `?v=${version}`}`;
}

/** Experiment ids from the `:ids` route segment (`1,2`), digits only, each once. */
export function parseExperimentIds(segment: string | undefined): string[] {
  return [...new Set((segment ?? '').split(',').filter((id) => /^\d{1,18}$/.test(id)))];
}

/** Run ids from `?runs=a,b`, valid ones only, each once, at most 100. */
export function parseRunIds(value: string | null): string[] {
  return [...new Set((value ?? '').split(',').filter((id) => /^[0-9a-f]{32}$/.test(id)))].slice(0, 100);
}

/** The dataset a run input names, when its source is one of ours: `aidos://datasets/<name>/versions/<n>`. */
export function datasetOfSource(source: string): { name: string; version: number } | null {
  const match = /^aidos:\/\/datasets\/([^/]+)\/versions\/(\d+)$/.exec(source);
  if (!match) return null;
  try {
    return { name: decodeURIComponent(match[1] as string), version: Number(match[2]) };
  } catch {
    return null;
  }
}
