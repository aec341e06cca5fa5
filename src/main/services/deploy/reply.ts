import { jsonReply } from '#gateway/routes';

/** Says which model version answered an inference request (absent for a file deployment, which has none). */
export const MODEL_VERSION_HEADER = 'x-aidos-model-version';

export function versionHeaders(version: number | null): Record<string, string> {
  return version === null ? {} : { [MODEL_VERSION_HEADER]: String(version) };
}

/** A foreign route's JSON reply, with the model version's header when there is a version. */
export function versionedJson(body: unknown, version: number | null): unknown {
  return version === null ? body : jsonReply(body, versionHeaders(version));
}
