import { jsonReply } from '#gateway/routes';
import { REQUEST_LOG_HEADER } from '#shared/contracts/deploy';

/** The status a request's log entry gets when its client went away first (nginx's "client closed request"). */
export const CLIENT_CLOSED_REQUEST = 499;

/** Says which model version answered an inference request (absent for a file deployment, which has none). */
export const MODEL_VERSION_HEADER = 'x-aidos-model-version';
/** The request's id in the deployment's request log, when it is logged: what ground-truth labels refer to. */
export const REQUEST_ID_HEADER = 'x-aidos-request-id';

/** What the API layer knows of the caller: its headers, a way to answer one, and whether it is still there. */
export interface Caller {
  readonly signal: AbortSignal;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  setHeader(name: string, value: string): void;
}

/** Whether the caller asked to keep its request out of the request log. */
export function unlogged(caller: Pick<Caller, 'headers'> | undefined): boolean {
  return caller?.headers[REQUEST_LOG_HEADER] === 'off';
}

/** What an answer says of itself in headers: the model version that answered and the request's log id. */
export function answerHeaders(answer: { version: number | null; logId: string | null }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (answer.version !== null) headers[MODEL_VERSION_HEADER] = String(answer.version);
  if (answer.logId !== null) headers[REQUEST_ID_HEADER] = answer.logId;
  return headers;
}

/** A foreign route's JSON reply, with `answerHeaders`. */
export function answerJson(body: unknown, answer: { version: number | null; logId: string | null }): unknown {
  return answer.version === null && answer.logId === null ? body : jsonReply(body, answerHeaders(answer));
}
