import { z } from 'zod';

/**
 * One declaration per endpoint (STYLE.md "one contract, many faces"): the gateway mounts routes from it, the
 * OpenAPI document is generated from it, and the renderer and CLI call it through `ApiClient`.
 *
 * An endpoint has a single `input` object. Fields named in the path (`/jobs/:id`) come from the path; for GET
 * and DELETE the others come from the query string (so numbers there use `z.coerce`), otherwise from the JSON
 * body.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** `public` needs no credentials; the others are API-key scopes, each including the ones before it. */
export type Scope = 'public' | 'read' | 'write' | 'admin';

export const API_KEY_SCOPES = ['read', 'write', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export interface Endpoint<I extends z.ZodObject = z.ZodObject, O extends z.ZodType = z.ZodType> {
  readonly method: HttpMethod;
  readonly path: string;
  /** One line for the OpenAPI summary and the CLI's help. */
  readonly summary: string;
  readonly scope: Scope;
  readonly input: I;
  readonly output: O;
  /** 200 unless stated (201 for creations). */
  readonly status?: number;
  /** The OpenAPI tag; defaults to the first segment of the endpoint's name. */
  readonly tag?: string;
  /**
   * The body is raw bytes (`application/octet-stream`, at most `maxBytes`), not JSON: then every non-path
   * input field comes from the query string, and the handler receives the bytes beside its input.
   */
  readonly rawBody?: { maxBytes: number };
  /**
   * The response is bytes, not JSON: the handler returns a `RawReply` (output `RawReplySchema`). A file is
   * served by GET, so that a browser can load it with its session cookie (an `<img src>`); bulk data asked for
   * with a large input (chart series of many runs) by POST.
   */
  readonly rawOutput?: boolean;
  /**
   * The response is bulk data (chart series): it is written out without being checked against `output` again,
   * which costs more than building it; `output` still documents it.
   */
  readonly bulkOutput?: boolean;
}

/** What the handler of a `rawOutput` endpoint returns (a Node stream or bytes on the server). */
export interface RawReply {
  body: Uint8Array | AsyncIterable<Uint8Array>;
  contentType: string;
  size: number;
}

export const RawReplySchema = z.custom<RawReply>(
  (v) => typeof v === 'object' && v !== null && 'body' in v && 'contentType' in v,
  'must be a file reply',
);

export type EndpointMap = Readonly<Record<string, Endpoint>>;
export type InputOf<E extends Endpoint> = z.input<E['input']>;
export type OutputOf<E extends Endpoint> = z.output<E['output']>;

export function endpoint<I extends z.ZodObject, O extends z.ZodType>(def: Endpoint<I, O>): Endpoint<I, O> {
  return def;
}

const EMPTY = z.object({});
export const noInput = EMPTY;

export function pathParamNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string);
}

export function carriesBody(method: HttpMethod): boolean {
  return method !== 'GET' && method !== 'DELETE';
}

export interface InputParts {
  params: z.ZodObject | undefined;
  query: z.ZodObject | undefined;
  body: z.ZodObject | undefined;
}

/** Splits an endpoint's input into the parts HTTP carries it in. */
export function splitInput(e: Endpoint): InputParts {
  const names = pathParamNames(e.path);
  const shape = e.input.shape;
  for (const name of names) {
    if (!(name in shape))
      throw new Error(`endpoint ${e.method} ${e.path}: path parameter '${name}' is not in its input`);
  }
  // Each part keeps the input's policy for unknown keys (a strict input's parts refuse them too).
  const { catchall } = e.input.def;
  const pick = (keep: (name: string) => boolean) => {
    const part = z.object(Object.fromEntries(Object.entries(shape).filter(([name]) => keep(name))));
    return catchall ? part.catchall(catchall) : part;
  };
  const params = names.length > 0 ? pick((n) => names.includes(n)) : undefined;
  const rest = names.length > 0 ? pick((n) => !names.includes(n)) : e.input;
  const restEmpty = Object.keys(rest.shape).length === 0;
  if (carriesBody(e.method) && !e.rawBody) return { params, query: undefined, body: restEmpty ? undefined : rest };
  return { params, query: restEmpty ? undefined : rest, body: undefined };
}

/** Rejects two endpoints with the same name or the same method and path (checked when the gateway starts). */
export function assertUniqueEndpoints(groups: readonly EndpointMap[]): EndpointMap {
  const merged: Record<string, Endpoint> = {};
  const routes = new Map<string, string>();
  for (const group of groups) {
    for (const [name, e] of Object.entries(group)) {
      if (name in merged) throw new Error(`duplicate endpoint name '${name}'`);
      const route = `${e.method} ${e.path.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, ':')}`;
      const other = routes.get(route);
      if (other) throw new Error(`endpoints '${other}' and '${name}' both claim ${e.method} ${e.path}`);
      routes.set(route, name);
      merged[name] = e;
    }
  }
  return merged;
}
