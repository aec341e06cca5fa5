import { createContext, useContext } from 'react';
import { ApiClient } from '#shared/api/client';
import type { OutputOf } from '#shared/api/endpoint';
import { apiEndpoints, type ApiEndpoints } from '#shared/contracts/index';

/** The one typed client of the renderer: every call goes through the shared endpoint map, never a hand-written fetch. */
export type Api = ApiClient<ApiEndpoints>;
export type EndpointName = keyof ApiEndpoints & string;
/** What an endpoint returns, e.g. `Out<'system.stats'>`. */
export type Out<K extends EndpointName> = OutputOf<ApiEndpoints[K]>;

export function createApi(baseUrl: string, token: string | null): Api {
  return new ApiClient(apiEndpoints, { baseUrl, token: token ?? undefined });
}

export const ApiContext = createContext<Api | null>(null);

/** The signed-in client; only used below the auth gate, which provides it. */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi() outside the signed-in part of the app');
  return api;
}

/**
 * Query keys in one place, so that a live event can invalidate exactly what it changes. The first segment is the
 * area; invalidating `['jobs']` refreshes every jobs list whatever its filter.
 */
export const queryKeys = {
  whoami: (token: string) => ['auth', 'whoami', token] as const,
  session: (token: string) => ['auth', 'session', token] as const,
  stats: ['system', 'stats'] as const,
  status: ['system', 'status'] as const,
  services: ['system', 'services'] as const,
  recentEvents: ['events', 'recent'] as const,
  jobs: ['jobs'] as const,
  jobsList: (status: string | undefined) => ['jobs', 'list', status ?? 'all'] as const,
  keys: (includeRevoked: boolean) => ['keys', { includeRevoked }] as const,
  keysAll: ['keys'] as const,
  /** One job, followed live: under `jobs`, so every job event refreshes it. */
  job: (id: string) => ['jobs', 'one', id] as const,
  jobsOfType: (type: string) => ['jobs', 'type', type] as const,
  // Datasets. A version's files, diffs and rows never change (versions are immutable), so only the lists, the
  // dataset details (versions, tags) and the profiles are ever invalidated.
  datasetsList: ['datasets', 'list'] as const,
  datasetNames: ['datasets', 'list', 'names'] as const,
  datasetDetails: ['datasets', 'detail'] as const,
  dataset: (name: string) => ['datasets', 'detail', name] as const,
  datasetVersions: (name: string) => ['datasets', 'detail', name, 'versions'] as const,
  datasetProfiles: ['datasets', 'profile'] as const,
  datasetProfile: (name: string, versionId: string) => ['datasets', 'profile', name, versionId] as const,
  /** Quality reports: a version's is remade by each quality job (`dataset.version.checked`). */
  datasetQualities: ['datasets', 'quality'] as const,
  datasetQuality: (name: string, versionId: string) => ['datasets', 'quality', name, versionId] as const,
  datasetFiles: (name: string, versionId: string, prefix: string) =>
    ['datasets', 'files', name, versionId, prefix] as const,
  datasetDiff: (name: string, from: string, to: string) => ['datasets', 'diff', name, from, to] as const,
  datasetRows: (name: string, versionId: string, query: unknown) =>
    ['datasets', 'rows', name, versionId, query] as const,
  // ModelHub. Run lists are patched in place from run events (refetching 10,000 loaded runs for one change would
  // be wasteful); experiment and model lists are small and simply invalidated.
  experiments: ['modelhub', 'experiments'] as const,
  experiment: (id: string) => ['modelhub', 'experiments', id] as const,
  runsSearch: (experimentIds: readonly string[], filter: string, orderBy: readonly string[]) =>
    ['modelhub', 'runs', 'search', experimentIds, filter, orderBy] as const,
  runs: ['modelhub', 'runs'] as const,
  run: (id: string) => ['modelhub', 'runs', 'one', id] as const,
  runSeries: (runIds: readonly string[], keys: readonly string[], x: string, maxPoints: number) =>
    ['modelhub', 'series', runIds, keys, x, maxPoints] as const,
  runArtifacts: (id: string, path: string) => ['modelhub', 'artifacts', id, path] as const,
  models: ['modelhub', 'models'] as const,
  model: (name: string) => ['modelhub', 'models', name] as const,
  /** The GPU board: polled, and refetched on `vram.*` events. */
  gpus: ['trainos', 'gpus'] as const,
  /** Training job lists, refetched on `training.job.updated`; one job is patched from the event itself. */
  trainingJobLists: ['trainos', 'jobs', 'list'] as const,
  trainingJobList: (state: string | undefined) => ['trainos', 'jobs', 'list', state ?? 'all'] as const,
  trainingJob: (id: string) => ['trainos', 'jobs', 'one', id] as const,
};
