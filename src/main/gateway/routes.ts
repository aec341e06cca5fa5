import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { Endpoint, EndpointMap, HttpMethod, OutputOf, RawReply, Scope } from '#shared/api/endpoint';
import type { ErrorCode } from '#shared/errors';
import type { Principal } from '#services/security/contract';

/** The browser session cookie set by `auth.session`; accepted for GET requests only. */
export const SESSION_COOKIE = 'aidos_session';

export interface CookieOptions {
  maxAgeSeconds: number;
  httpOnly: boolean;
}

export interface RequestContext {
  /** Null only on public endpoints. */
  principal: Principal | null;
  /** The credential the request authenticated with (for the session cookie). */
  credential: string | null;
  /** The bytes of a raw-body endpoint (uploads); null for JSON endpoints. */
  rawBody: Buffer | null;
  setCookie(name: string, value: string, options: CookieOptions): void;
}

/** A handler validates nothing itself: its input has been parsed by the endpoint's schema. */
export type RouteHandler<E extends Endpoint> = (
  input: z.output<E['input']>,
  ctx: RequestContext,
) => OutputOf<E> | Promise<OutputOf<E>>;

export type RouteTable<M extends EndpointMap> = { [K in keyof M]: RouteHandler<M[K]> };

/** Endpoints with their handlers, ready for the gateway to mount. */
export interface MountedRoutes {
  endpoints: EndpointMap;
  handlers: Readonly<Record<string, RouteHandler<Endpoint>>>;
}

export function routeTable<M extends EndpointMap>(endpoints: M, handlers: RouteTable<M>): MountedRoutes {
  for (const name of Object.keys(endpoints)) {
    if (!(name in handlers)) throw new Error(`endpoint '${name}' has no handler`);
  }
  return { endpoints, handlers: handlers as unknown as Record<string, RouteHandler<Endpoint>> };
}

/** A request to a foreign route, as parsed by the gateway (JSON body; query values repeat as arrays). */
export interface ForeignRequest {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The unread request body of a `streamBody` route (any content type). */
  stream: Readable | null;
  principal: Principal | null;
  /** The request's headers, names in lower case. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Sets a header of the reply, an error reply's too. */
  setHeader(name: string, value: string): void;
  /** Aborted when the client goes away before the reply has been sent in full (stop the work it asked for). */
  signal: AbortSignal;
}

/**
 * A reply written as it is produced, without a length (server-sent events): a foreign route returns it from
 * `streamReply`. The gateway stops reading `body` when the client goes away.
 */
export interface StreamReply {
  readonly streamReply: true;
  status: number;
  headers: Readonly<Record<string, string>>;
  body: AsyncIterable<string | Uint8Array>;
}

export function streamReply(
  headers: Readonly<Record<string, string>>,
  body: AsyncIterable<string | Uint8Array>,
  status = 200,
): StreamReply {
  return { streamReply: true, status, headers, body };
}

export function isStreamReply(value: unknown): value is StreamReply {
  return typeof value === 'object' && value !== null && (value as { streamReply?: unknown }).streamReply === true;
}

/** A JSON reply (status 200) with headers of its own: a foreign route returns it from `jsonReply`. */
export interface JsonReply {
  readonly jsonReply: true;
  headers: Readonly<Record<string, string>>;
  body: unknown;
}

export function jsonReply(body: unknown, headers: Readonly<Record<string, string>>): JsonReply {
  return { jsonReply: true, headers, body };
}

export function isJsonReply(value: unknown): value is JsonReply {
  return typeof value === 'object' && value !== null && (value as { jsonReply?: unknown }).jsonReply === true;
}

/**
 * A route of another product's wire protocol: it answers JSON (status 200; with headers of its own, a `JsonReply`),
 * for downloads a `RawReply`, or for streams a `StreamReply`.
 */
export interface ForeignRoute {
  method: HttpMethod;
  url: string;
  scope: Scope;
  /** The body is bytes of any type, left unread for the handler to stream (artifact uploads). */
  streamBody?: boolean;
  handler(req: ForeignRequest): unknown;
}

/**
 * Another product's REST API served beside ours (MLflow's, so that its clients work unchanged). Errors under
 * its prefixes — from its handlers, from authentication, from unparsable bodies, for unknown routes — take
 * its error shape and statuses instead of ours.
 */
export interface ForeignApi {
  name: string;
  prefixes: readonly string[];
  routes: readonly ForeignRoute[];
  /**
   * Bodies are JSON whatever their content type says, none included (tritonclient.http sends no Content-Type);
   * otherwise only application/json is read.
   */
  bodyAlwaysJson?: boolean;
  errorReply(error: { code: ErrorCode; message: string; details?: unknown; status: number }): {
    status: number;
    body: unknown;
  };
  /**
   * A request to one of its routes whose body was refused before the route saw it (not JSON, too large): for the
   * API to count it where it belongs (a deployment named in the URL). Only for authenticated requests.
   */
  bodyRefused?(refusal: BodyRefusal): void;
}

export interface BodyRefusal {
  /** The route's URL pattern and the request's path parameters. */
  url: string;
  params: Record<string, string>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  status: number;
  message: string;
  setHeader(name: string, value: string): void;
}

export function isRawReply(value: unknown): value is RawReply {
  return typeof value === 'object' && value !== null && 'body' in value && 'contentType' in value && 'size' in value;
}
