import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../errors';
import { ApiClient } from './client';
import { endpoint } from './endpoint';

const endpoints = {
  'things.get': endpoint({
    method: 'GET',
    path: '/api/v1/things/:id',
    summary: '',
    scope: 'read',
    input: z.object({ id: z.string(), tags: z.array(z.string()).optional(), limit: z.number().optional() }),
    output: z.object({ id: z.string() }),
  }),
  'things.create': endpoint({
    method: 'POST',
    path: '/api/v1/things',
    summary: '',
    scope: 'write',
    input: z.object({ name: z.string() }),
    output: z.object({ id: z.string() }),
  }),
};

function recordingFetch(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fake = (async (url: URL | string, init: RequestInit = {}) => {
    calls.push({ url: String(url), init });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { calls, fake };
}

describe('ApiClient', () => {
  it('encodes path parameters, sends the rest as the query for GET, and the bearer token', async () => {
    const { calls, fake } = recordingFetch(200, { id: 'a/b' });
    const client = new ApiClient(endpoints, { baseUrl: 'http://127.0.0.1:8000', token: 'tok', fetch: fake });
    expect(await client.call('things.get', { id: 'a/b', tags: ['x', 'y'], limit: 5 })).toEqual({ id: 'a/b' });
    expect(calls[0]?.url).toBe('http://127.0.0.1:8000/api/v1/things/a%2Fb?tags=x&tags=y&limit=5');
    expect((calls[0]?.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
  });

  it('sends a JSON body for POST', async () => {
    const { calls, fake } = recordingFetch(201, { id: '1' });
    const client = new ApiClient(endpoints, { baseUrl: 'http://h', fetch: fake });
    await client.call('things.create', { name: 'n' });
    expect(calls[0]?.init.method).toBe('POST');
    expect(calls[0]?.init.body).toBe('{"name":"n"}');
  });

  it('turns the error body back into an AppError with its code and status', async () => {
    const { fake } = recordingFetch(404, { error: { code: 'NOT_FOUND', message: "thing 'x' does not exist" } });
    const client = new ApiClient(endpoints, { baseUrl: 'http://h', fetch: fake });
    const err = await client.call('things.get', { id: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: "thing 'x' does not exist", httpStatus: 404 });
  });

  it("reads OpenAI's and KServe v2's error shapes too, the code from the status", async () => {
    const answers: [number, unknown, string, string][] = [
      [
        413,
        { error: { message: 'too large', type: 'invalid_request_error', code: 'x' } },
        'RESOURCE_EXHAUSTED',
        'too large',
      ],
      [400, { error: "input 'x': wrong shape" }, 'INVALID_ARGUMENT', "input 'x': wrong shape"],
      [409, { error: { message: 'stopped', type: 'invalid_request_error' } }, 'FAILED_PRECONDITION', 'stopped'],
      [502, 'bad gateway', 'INTERNAL', 'HTTP 502: "bad gateway"'],
      // A 503 is about memory only when its code says so; else the server is going away.
      [
        503,
        { error: { message: 'shutting down', type: 'server_error', code: 'server_shutting_down' } },
        'UNAVAILABLE',
        'shutting down',
      ],
      [
        503,
        { error: { message: 'no room', type: 'server_error', code: 'insufficient_memory' } },
        'RESOURCE_EXHAUSTED',
        'no room',
      ],
    ];
    for (const [status, body, code, message] of answers) {
      const client = new ApiClient(endpoints, { baseUrl: 'http://h', fetch: recordingFetch(status, body).fake });
      const err = await client.call('things.get', { id: 'x' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code, message, httpStatus: status });
    }
  });

  it('refuses to call without a path parameter', async () => {
    const client = new ApiClient(endpoints, { baseUrl: 'http://h', fetch: recordingFetch(200, {}).fake });
    await expect(client.call('things.get', { id: '' })).rejects.toThrow('id: is required');
  });
});
