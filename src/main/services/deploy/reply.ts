import { streamReply, type StreamReply } from '#gateway/routes';

/** Says which model version answered an inference request (absent for a file deployment, which has none). */
export const MODEL_VERSION_HEADER = 'x-aidos-model-version';

export function versionHeaders(version: number | null): Record<string, string> {
  return version === null ? {} : { [MODEL_VERSION_HEADER]: String(version) };
}

/**
 * A JSON reply with the model version's header. Foreign routes answer headers only through a `StreamReply`: the
 * body goes as one chunk with its length, so that the client sees an ordinary JSON response.
 */
export function versionedJson(body: unknown, version: number | null): unknown {
  if (version === null) return body;
  const bytes = Buffer.from(JSON.stringify(body));
  const reply: StreamReply = streamReply(
    {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(bytes.length),
      ...versionHeaders(version),
    },
    (async function* () {
      yield bytes;
    })(),
  );
  return reply;
}
