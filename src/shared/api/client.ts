import { AppError, INSUFFICIENT_MEMORY, isErrorCode, type ErrorCode } from '../errors';
import { carriesBody, pathParamNames, type EndpointMap, type InputOf, type OutputOf } from './endpoint';

export interface ApiClientOptions {
  baseUrl: string;
  /** The local token or an API key; sent as `Authorization: Bearer`. */
  token?: string | undefined;
  fetch?: typeof fetch;
}

/**
 * The typed client every non-server face uses (renderer, CLI, tests). Derived from the same endpoint map the
 * gateway mounts, so a renamed field is a compile error in each client.
 */
export class ApiClient<M extends EndpointMap> {
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly endpoints: M,
    private readonly options: ApiClientOptions,
  ) {
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  async call<K extends keyof M & string>(name: K, ...args: CallArgs<M[K]>): Promise<OutputOf<M[K]>> {
    return this.request(name, (args[0] as Record<string, unknown> | undefined) ?? {}, undefined);
  }

  /** Calls an endpoint whose body is raw bytes (`rawBody`), e.g. one chunk of an upload. */
  async send<K extends keyof M & string>(name: K, input: InputOf<M[K]>, bytes: Uint8Array): Promise<OutputOf<M[K]>> {
    return this.request(name, input as Record<string, unknown>, bytes);
  }

  /**
   * The URL of a GET endpoint with its input in the path and query, for a browser to load itself (an `<img src>`
   * of a file endpoint, authenticated by the session cookie).
   */
  url<K extends keyof M & string>(name: K, input: InputOf<M[K]>): string {
    const e = this.endpoint(name);
    if (e.method !== 'GET') throw new Error(`endpoint '${name}' is not a GET endpoint`);
    const { url, rest } = this.pathOf(e, input as Record<string, unknown>);
    appendQuery(url, rest);
    return url.toString();
  }

  /** Calls an endpoint that answers bytes (`rawOutput`) and returns them with their media type. */
  async file<K extends keyof M & string>(
    name: K,
    input: InputOf<M[K]>,
  ): Promise<{ bytes: Uint8Array; contentType: string }> {
    const e = this.endpoint(name);
    if (!e.rawOutput) throw new Error(`endpoint '${name}' returns JSON: use call()`);
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    if (carriesBody(e.method)) {
      const { url, rest } = this.pathOf(e, input as Record<string, unknown>);
      headers['content-type'] = 'application/json';
      res = await this.fetchImpl(url, { method: e.method, headers, body: JSON.stringify(rest) });
    } else res = await this.fetchImpl(this.url(name, input), { headers });
    if (!res.ok) throw errorOfResponse(res.status, await res.text());
    return {
      bytes: new Uint8Array(await res.arrayBuffer()),
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
    };
  }

  private endpoint(name: string): M[string] {
    const e = this.endpoints[name];
    if (!e) throw new Error(`unknown endpoint '${name}'`);
    return e as M[string];
  }

  /** The endpoint's path with its parameters filled in from `given`, and the input left for query or body. */
  private pathOf(e: M[string], given: Record<string, unknown>): { url: URL; rest: Record<string, unknown> } {
    const rest: Record<string, unknown> = { ...given };
    let path = e.path;
    for (const param of pathParamNames(e.path)) {
      const value = rest[param];
      if (value === undefined || value === null || value === '') {
        throw AppError.invalid(param, 'is required');
      }
      path = path.replace(`:${param}`, encodeURIComponent(String(value)));
      delete rest[param];
    }
    return { url: new URL(path, this.options.baseUrl), rest };
  }

  private async request<K extends keyof M & string>(
    name: K,
    given: Record<string, unknown>,
    bytes: Uint8Array | undefined,
  ): Promise<OutputOf<M[K]>> {
    const e = this.endpoint(name);
    if (Boolean(e.rawBody) !== (bytes !== undefined)) {
      throw new Error(`endpoint '${name}' ${e.rawBody ? 'takes bytes: use send()' : 'takes JSON: use call()'}`);
    }
    if (e.rawOutput) throw new Error(`endpoint '${name}' returns a file: use file()`);
    const { url, rest: input } = this.pathOf(e, given);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (bytes !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      // fetch takes views of plain ArrayBuffers only; a chunk may be a view of a shared or pooled one.
      body = new Uint8Array(bytes);
    }
    if (carriesBody(e.method) && bytes === undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input);
    } else appendQuery(url, input);
    const res = await this.fetchImpl(url, { method: e.method, headers, body });
    const text = await res.text();
    const parsed: unknown = text.length > 0 ? safeJson(text) : undefined;
    if (!res.ok) throw toAppError(res.status, parsed, text);
    return parsed as OutputOf<M[K]>;
  }
}

function appendQuery(url: URL, input: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item));
  }
}

type CallArgs<E extends EndpointMap[string]> =
  Record<string, never> extends InputOf<E> ? [input?: InputOf<E>] : [input: InputOf<E>];

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The code of an error answer in another protocol's shape (OpenAI's, KServe v2's), by its HTTP status; a 503 is
 * about memory only when its code says so (else the server is unavailable: shutting down).
 */
function codeOfStatus(status: number, code?: unknown): ErrorCode {
  if (status === 503) return code === INSUFFICIENT_MEMORY ? 'RESOURCE_EXHAUSTED' : 'UNAVAILABLE';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'FAILED_PRECONDITION';
  if (status === 413 || status === 429) return 'RESOURCE_EXHAUSTED';
  if (status >= 400 && status < 500) return 'INVALID_ARGUMENT';
  return 'INTERNAL';
}

/** The AppError an error answer's body says (ours, OpenAI's or KServe v2's shape), for callers of other routes. */
export function errorOfResponse(status: number, text: string): AppError {
  return toAppError(status, text.length > 0 ? safeJson(text) : undefined, text);
}

function toAppError(status: number, parsed: unknown, text: string): AppError {
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
    if (isErrorCode(code) && typeof message === 'string') return new AppError(code, message, details, status);
    // OpenAI's `{error: {message, type, param, code}}`: the rest goes along as details.
    if (typeof message === 'string') return new AppError(codeOfStatus(status, code), message, error, status);
  }
  // KServe v2's `{error: "message"}`.
  if (typeof error === 'string') return new AppError(codeOfStatus(status), error, undefined, status);
  return new AppError(codeOfStatus(status), `HTTP ${status}: ${text.slice(0, 200)}`, undefined, status);
}
