import { createReadStream, existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { splitInput, type Endpoint, type RawReply, type Scope } from '#shared/api/endpoint';
import { ErrorResponse } from '#shared/contracts/common';
import { EVENTS_WS_PATH } from '#shared/contracts/index';
import { AppError } from '#shared/errors';
import type { Config } from '#platform/config';
import { eventMatches, type EventBus } from '#platform/events';
import type { Logger } from '#platform/logger';
import type { Metrics } from '#platform/metrics';
import { hasScope, type Principal, type SecurityService } from '#services/security/contract';
import { toHttpError } from './errors';

/** How a `rawOutput` endpoint's response appears in the OpenAPI document (its bytes are sent as they are). */
const RAW_RESPONSE = z.string().meta({ format: 'binary', description: "The file's bytes, with its media type" });
import { RateLimiter } from './rate-limit';
import {
  SESSION_COOKIE,
  isJsonReply,
  isRawReply,
  isStreamReply,
  type ForeignApi,
  type ForeignRoute,
  type MountedRoutes,
  type RequestContext,
  type RouteHandler,
} from './routes';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; routes that do not say need `read`. */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | null;
    credential: string | null;
  }
}

const WS_PROTOCOL = 'aidos.v1';
const WS_BEARER_PREFIX = 'bearer.';

export interface GatewayOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  bus: EventBus;
  security: SecurityService;
  routes: readonly MountedRoutes[];
  foreignApis?: readonly ForeignApi[];
  version: string;
}

export interface RouteInfo {
  method: string;
  url: string;
  scope: Scope;
}

export interface Gateway {
  app: FastifyInstance;
  /** Every route registered, with the scope it needs: what the auth test walks. */
  routes(): RouteInfo[];
  /** From now on every request, `/healthz` included, is a 503 (the server is shutting down); those under way go on. */
  refuseRequests(): void;
  /**
   * Resolves once no HTTP request is under way (websocket event streams aside), after `ms`, or when `signal`
   * aborts, whichever comes first: with how many are still under way.
   */
  whenIdle(ms: number, signal?: AbortSignal): Promise<number>;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return out;
}

/**
 * The credential of a request: `Authorization: Bearer`, for WebSockets a `bearer.<token>` subprotocol
 * (browsers cannot set headers on them), and for GET only the session cookie (so that /docs and links work in
 * a browser; a cookie can never authorise a change, which keeps cross-site requests harmless).
 */
function credentialOf(req: FastifyRequest): { credential: string; viaCookie: boolean } | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!match) throw new AppError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <token or API key>"');
    return { credential: match[1] as string, viaCookie: false };
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    const bearer = protocols
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith(WS_BEARER_PREFIX));
    if (bearer) return { credential: bearer.slice(WS_BEARER_PREFIX.length), viaCookie: false };
  }
  if (req.method === 'GET') {
    const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    if (cookie) return { credential: cookie, viaCookie: true };
  }
  return undefined;
}

function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger, metrics, bus, security } = options;
  const httpLog = logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: httpLog as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // On shutdown, close every connection (a stalled client or event stream must not keep the process alive).
    forceCloseConnections: true,
    // A route is found whether or not the client adds a trailing slash.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Every request shares the gateway's logger: a pino child per request (Fastify's default, for its request id)
    // is measurable on the inference routes, and the only request log line (a failure) names the id itself.
    childLoggerFactory: (shared) => shared,
  });
  // JSON only: without this, text/plain bodies would reach handlers as strings.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  app.decorateRequest('credential', null);

  // Kept as registered and read later: plugin contexts set a route's scope after this hook has seen it.
  const registered: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    registered.push(route);
  });
  const routes = (): RouteInfo[] =>
    registered.flatMap((route) =>
      (Array.isArray(route.method) ? route.method : [route.method])
        .filter((method) => method !== 'HEAD')
        .map((method) => ({ method, url: route.url, scope: route.config?.scope ?? 'read' })),
    );

  // Before the auth hook: the plugin's own onRequest hook marks upgrade requests so that a refused upgrade's
  // socket is destroyed; registered after, a 401 would leave that socket open and hang shutdown.
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: 64 * 1024,
      handleProtocols: (protocols: Set<string>) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
  });

  const limiter = new RateLimiter(config.rateLimit.max, config.rateLimit.windowMs);
  // Both hooks take a callback rather than being async: a promise per hook per request is measurable on the
  // hottest endpoints (metric logging).
  const authorize = (req: FastifyRequest, reply: FastifyReply) => {
    // Unknown routes have no config: the not-found handler answers them.
    if (req.routeOptions.url === undefined) return;
    const scope = req.routeOptions.config.scope ?? 'read';
    if (scope === 'public') return;
    const found = credentialOf(req);
    if (!found) {
      throw new AppError(
        'UNAUTHENTICATED',
        `credentials required: send "Authorization: Bearer <token>" (the local token is in ${security.localTokenFile}) or an API key`,
      );
    }
    if (found.viaCookie && !sameOrigin(req)) {
      throw new AppError('PERMISSION_DENIED', 'a session cookie is only accepted from the app itself');
    }
    const principal = security.authenticate(found.credential);
    if (!hasScope(principal, scope)) {
      throw new AppError('PERMISSION_DENIED', `this API key lacks the '${scope}' scope`, {
        needed: scope,
        has: principal.scopes,
      });
    }
    if (principal.kind === 'api-key') {
      const retryAfter = limiter.hit(principal.keyId as string);
      if (retryAfter > 0) {
        reply.header('retry-after', String(retryAfter));
        throw new AppError(
          'RESOURCE_EXHAUSTED',
          `rate limit of ${config.rateLimit.max} requests per ${config.rateLimit.windowMs / 1000}s exceeded for this API key; retry in ${retryAfter}s`,
          { retryAfterSeconds: retryAfter },
          429,
        );
      }
    }
    req.principal = principal;
    req.credential = found.credential;
  };
  // Requests under way, counted on the raw server: websocket upgrades never reach its 'request' event, and a
  // response's 'close' comes once whether it was sent or its client went away.
  let inFlight = 0;
  const idleWaiters = new Set<() => void>();
  app.server.on('request', (_req, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) for (const wake of idleWaiters) wake();
    });
  });
  let refusing = false;

  app.addHook('onRequest', (req, reply, done) => {
    if (refusing) {
      // The client's next request should open a connection to whatever serves next.
      reply.header('connection', 'close');
      done(AppError.shuttingDown());
      return;
    }
    try {
      authorize(req, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    if (httpLog.isLevelEnabled('debug')) {
      httpLog.debug(
        {
          reqId: req.id,
          method: req.method,
          route: req.routeOptions.url,
          status: reply.statusCode,
          ms: reply.elapsedTime,
        },
        'request',
      );
    }
    metrics.observeHttp(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  const foreignApis = options.foreignApis ?? [];
  /** Foreign requests whose handler ran: their failures are the API's to count, not `bodyRefused`'s. */
  const handled = new WeakSet<FastifyRequest>();
  const foreignApiOf = (url: string) => foreignApis.find((api) => api.prefixes.some((p) => url.startsWith(p)));
  app.setErrorHandler((err, req, reply) => {
    const mapped = toHttpError(err, { bodyLimitBytes: req.routeOptions.bodyLimit ?? config.bodyLimitBytes });
    if (mapped.internal) httpLog.error({ err, reqId: req.id, url: req.url }, 'request failed');
    // A full queue frees within about a request's time: clients that honour Retry-After come back then.
    if (mapped.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
    const foreign = foreignApiOf(req.url);
    if (foreign) {
      // Parsing the body comes after authentication: a 400, 413 or 415 before the handler is about the body.
      const aboutBody = [400, 413, 415].includes(mapped.status);
      if (foreign.bodyRefused && aboutBody && req.routeOptions.url !== undefined && !handled.has(req)) {
        foreign.bodyRefused({
          url: req.routeOptions.url,
          params: req.params as Record<string, string>,
          headers: req.headers,
          status: mapped.status,
          message: mapped.body.error.message,
          setHeader: (name, value) => void reply.header(name, value),
        });
      }
      const { status, body } = foreign.errorReply({ ...mapped.body.error, status: mapped.status });
      return reply.code(status).type('application/json').send(body);
    }
    return reply.code(mapped.status).type('application/json').send(mapped.body);
  });

  const rendererIndex = config.rendererDir ? path.join(config.rendererDir, 'index.html') : '';
  const hasRenderer = rendererIndex !== '' && existsSync(rendererIndex);
  app.setNotFoundHandler((req, reply) => {
    const apiLike = /^\/(api|v1|v2|metrics|healthz|docs)(\/|$)/.test(req.url);
    if (req.method === 'GET' && hasRenderer && !apiLike && (req.headers.accept ?? '').includes('text/html')) {
      // Client-side routes of the single-page app.
      return reply.type('text/html').send(createReadStream(rendererIndex));
    }
    const missing = new AppError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    const foreign = foreignApiOf(req.url);
    if (foreign) {
      const { status, body } = foreign.errorReply({ code: missing.code, message: missing.message, status: 404 });
      return reply.code(status).type('application/json').send(body);
    }
    return reply.code(404).type('application/json').send(missing.toBody());
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AI-DOS API',
        version: options.version,
        description: 'The local REST API of the AI-DOS core. Every route but /healthz needs a bearer token.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    hideUntagged: true,
    transform: jsonSchemaTransform,
  });

  // The contract routes. Raw-body endpoints (uploads) get an octet-stream parser in a context of their own.
  const routeFor = (name: string, e: Endpoint, handler: RouteHandler<Endpoint>): RouteOptions => {
    const parts = splitInput(e);
    const status = e.status ?? 200;
    return {
      method: e.method,
      url: e.path,
      config: { scope: e.scope },
      ...(e.rawBody ? { bodyLimit: e.rawBody.maxBytes } : {}),
      ...(e.bulkOutput ? { serializerCompiler: () => (data: unknown) => JSON.stringify(data) } : {}),
      schema: {
        operationId: name,
        summary: e.summary,
        tags: [e.tag ?? name.split('.')[0] ?? 'api'],
        ...(e.scope === 'public' ? { security: [] } : {}),
        ...(e.rawBody ? { consumes: ['application/octet-stream'] } : {}),
        ...(e.rawOutput ? { produces: ['application/octet-stream'] } : {}),
        ...(parts.params ? { params: parts.params } : {}),
        ...(parts.query ? { querystring: parts.query } : {}),
        ...(parts.body ? { body: parts.body } : {}),
        response: {
          [status]: e.rawOutput ? RAW_RESPONSE : e.output,
          '4xx': ErrorResponse,
          '5xx': ErrorResponse,
        },
      },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const rawBody = e.rawBody ? ((req.body as Buffer | undefined) ?? Buffer.alloc(0)) : null;
        const input = {
          ...(req.params as object),
          ...(req.query as object),
          ...(e.rawBody ? {} : ((req.body as object | undefined) ?? {})),
        };
        const ctx: RequestContext = {
          principal: req.principal,
          credential: req.credential,
          rawBody,
          setCookie: (cookie, value, o) => {
            const attrs = [
              `${cookie}=${encodeURIComponent(value)}`,
              'Path=/',
              'SameSite=Strict',
              `Max-Age=${o.maxAgeSeconds}`,
            ];
            if (o.httpOnly) attrs.push('HttpOnly');
            void reply.header('set-cookie', attrs.join('; '));
          },
        };
        const out = await handler(input, ctx);
        if (e.rawOutput) {
          const raw = out as RawReply;
          return (
            reply
              .code(status)
              .type(raw.contentType)
              .header('content-length', raw.size)
              .header('x-content-type-options', 'nosniff')
              // Opened directly, a dataset file is shown, never run as a page of the app's origin.
              .header('content-security-policy', "sandbox; default-src 'none'")
              .send(raw.body instanceof Uint8Array ? Buffer.from(raw.body) : Readable.from(raw.body))
          );
        }
        return reply.code(status).send(out);
      },
    };
  };
  const rawRoutes: RouteOptions[] = [];
  for (const mounted of options.routes) {
    for (const [name, e] of Object.entries(mounted.endpoints)) {
      const handler = mounted.handlers[name];
      if (!handler) throw new Error(`endpoint '${name}' has no handler`);
      if (e.rawBody) rawRoutes.push(routeFor(name, e, handler));
      else app.route(routeFor(name, e, handler));
    }
  }
  if (rawRoutes.length > 0) {
    await app.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
        done(null, body),
      );
      for (const route of rawRoutes) raw.route(route);
    });
  }

  const foreignRoute = (route: ForeignRoute): RouteOptions => ({
    method: route.method,
    url: route.url,
    config: { scope: route.scope },
    handler: async (req, reply) => {
      handled.add(req);
      // The client leaving before the reply is complete aborts the work it asked for (a generation, a queued
      // request). Made on first use: most routes never look, and MLflow's logging routes are hot.
      let gone: AbortController | undefined;
      const signal = (): AbortSignal => {
        if (!gone) {
          const controller = new AbortController();
          gone = controller;
          const res = reply.raw;
          if (res.destroyed && !res.writableFinished) controller.abort();
          else res.on('close', () => res.writableFinished || controller.abort());
        }
        return gone.signal;
      };
      const out = await route.handler({
        params: req.params as Record<string, string>,
        query: req.query as Record<string, string | string[] | undefined>,
        body: route.streamBody ? undefined : req.body,
        stream: route.streamBody ? req.raw : null,
        principal: req.principal,
        headers: req.headers,
        setHeader: (name, value) => void reply.header(name, value),
        get signal() {
          return signal();
        },
      });
      if (isStreamReply(out)) {
        return reply.code(out.status).headers(out.headers).send(Readable.from(out.body));
      }
      if (isRawReply(out)) {
        return reply
          .type(out.contentType)
          .header('content-length', out.size)
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "sandbox; default-src 'none'")
          .send(out.body instanceof Uint8Array ? Buffer.from(out.body) : Readable.from(out.body));
      }
      if (isJsonReply(out)) return reply.headers(out.headers).type('application/json').send(JSON.stringify(out.body));
      return reply.type('application/json').send(JSON.stringify(out));
    },
  });
  for (const api of foreignApis) {
    const plain = api.routes.filter((r) => !r.streamBody);
    if (api.bodyAlwaysJson) {
      await app.register(async (json) => {
        json.removeAllContentTypeParsers();
        json.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
          if (req.headers['inference-header-content-length'] !== undefined) {
            const error =
              'the binary tensor extension is not supported: send tensors as JSON (tritonclient: binary_data=False)';
            done(Object.assign(new Error(error), { statusCode: 400 }), undefined);
            return;
          }
          try {
            done(null, body === '' ? undefined : JSON.parse(body as string));
          } catch (err) {
            done(Object.assign(new SyntaxError((err as Error).message), { statusCode: 400 }), undefined);
          }
        });
        for (const route of plain) json.route(foreignRoute(route));
      });
    } else for (const route of plain) app.route(foreignRoute(route));
    const streamed = api.routes.filter((r) => r.streamBody);
    if (streamed.length > 0) {
      // Uploads of any type, streamed to their handler unread and unbounded (artifacts can be gigabytes).
      await app.register(async (raw) => {
        raw.removeAllContentTypeParsers();
        raw.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
        for (const route of streamed) raw.route(foreignRoute(route));
      });
    }
  }

  app.get('/metrics', { config: { scope: 'read' } }, async (_req, reply) => {
    const { contentType, body } = await metrics.exposition();
    return reply.type(contentType).send(body);
  });

  app.get('/api/openapi.json', { config: { scope: 'read' } }, async () => app.swagger());

  app.get(EVENTS_WS_PATH, { websocket: true, config: { scope: 'read' } }, (socket: WebSocket, req: FastifyRequest) => {
    const names = String((req.query as { names?: string }).names ?? '*')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    socket.send(JSON.stringify({ type: 'hello', serverTime: Date.now(), version: options.version }));
    const off = bus.on('*', (event) => {
      if (!names.some((n) => eventMatches(n, event.name))) return;
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'event', event }));
    });
    const ping = setInterval(() => socket.ping(), 30_000);
    socket.on('close', () => {
      off();
      clearInterval(ping);
    });
  });

  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      // The viewer's page and assets are public; the document it loads needs credentials (the session cookie).
      route.config = { ...route.config, scope: /\/(json|yaml)$/.test(route.url) ? 'read' : 'public' };
    });
    await docs.register(fastifySwaggerUi, { routePrefix: '/docs' });
  });

  if (hasRenderer) {
    await app.register(async (ui) => {
      ui.addHook('onRoute', (route) => {
        route.config = { ...route.config, scope: 'public' };
      });
      await ui.register(fastifyStatic, { root: config.rendererDir, wildcard: false, index: ['index.html'] });
    });
  }

  const whenIdle = (ms: number, signal?: AbortSignal) =>
    new Promise<number>((resolve) => {
      if (inFlight === 0 || signal?.aborted) {
        resolve(inFlight);
        return;
      }
      const finish = () => {
        clearTimeout(timer);
        idleWaiters.delete(finish);
        signal?.removeEventListener('abort', finish);
        resolve(inFlight);
      };
      const timer = setTimeout(finish, ms);
      idleWaiters.add(finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  return {
    app,
    routes,
    refuseRequests: () => {
      refusing = true;
    },
    whenIdle,
  };
}
