import type { z } from 'zod';
import type { Endpoint, EndpointMap, OutputOf } from '#shared/api/endpoint';
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
