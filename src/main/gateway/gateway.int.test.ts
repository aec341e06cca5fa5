import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EVENTS_WS_PATH } from '#shared/contracts/index';
import type { Job } from '#shared/contracts/jobs';
import { startTestCore, type TestCore } from '#core/testing';
import { apiGuidePath, generateApiGuide, generateOpenApi, openApiPath } from '#core/openapi';
import { tempDir, waitFor } from '#platform/testing';

const SOME_ID = '01J0000000000000000000000Z';

let t: TestCore;
beforeAll(async () => {
  t = await startTestCore({ rateLimit: { max: 5, windowMs: 60_000 }, bodyLimitBytes: 4096 });
});
afterAll(async () => {
  await t.close();
});

async function json(
  res: Response,
): Promise<{ error?: { code: string; message: string; details?: unknown } } & Record<string, unknown>> {
  return (await res.json()) as never;
}

function anon(pathname: string, init: RequestInit = {}) {
  return fetch(new URL(pathname, t.core.url), init);
}

describe('authentication', () => {
  it('answers /healthz without credentials', async () => {
    const res = await anon('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('refuses every other registered route without credentials, with a wrong token and with a malformed header', async () => {
    const guarded = t.core.routes().filter((r) => r.scope !== 'public');
    expect(guarded.length).toBeGreaterThan(15);
    for (const route of guarded) {
      const url = route.url.replace(/:[A-Za-z_]+/g, SOME_ID).replace('*', 'x');
      const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? '{}' : undefined;
      const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
      for (const auth of [
        undefined,
        'Bearer wrong-token',
        `Bearer ${t.token}x`,
        'Basic dXNlcjpwYXNz',
        `Bearer aidos_sk_${SOME_ID.toLowerCase()}_nope`,
      ]) {
        const res = await anon(url, {
          method: route.method,
          body,
          headers: auth ? { ...headers, authorization: auth } : headers,
        });
        expect(res.status, `${route.method} ${route.url} with ${auth ?? 'no credentials'}`).toBe(401);
        // MLflow's routes answer in MLflow's error shape, OpenAI's (/v1/) in OpenAI's, KServe's (/v2) in its own.
        const answer = (await json(res)) as { error?: { code?: string }; error_code?: string };
        if (route.url.startsWith('/v1/')) expect(answer.error?.code).toBe('invalid_api_key');
        else if (route.url.startsWith('/v2')) expect(typeof answer.error).toBe('string');
        else {
          expect(/^\/(ajax-)?api\/2\.0\//.test(route.url) ? answer.error_code : answer.error?.code).toBe(
            'UNAUTHENTICATED',
          );
        }
      }
    }
  });

  it('tells a client without credentials where the local token is', async () => {
    const res = await anon('/api/v1/status');
    expect((await json(res)).error?.message).toContain(t.core.localTokenFile);
  });

  it('only serves the UI assets and the docs viewer publicly', () => {
    const publicRoutes = t.core
      .routes()
      .filter((r) => r.scope === 'public')
      .map((r) => r.url);
    for (const url of publicRoutes) expect(url).toMatch(/^\/(healthz$|docs|$|index\.html$|assets\/|favicon)/);
  });
});

describe('API keys', () => {
  it('shows the secret once, stores only its hash, and enforces scopes per route', async () => {
    const created = await t.client.call('keys.create', { name: 'ci reader', scopes: ['read'] });
    expect(created.secret).toMatch(/^aidos_sk_/);
    const listed = await t.client.call('keys.list');
    expect(listed.items.find((k) => k.id === created.key.id)).toMatchObject({
      name: 'ci reader',
      scopes: ['read'],
      lastUsedAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(created.secret.slice(-20));
    const dbFile = readFileSync(path.join(t.core.dataDir, 'aidos.db'));
    expect(dbFile.includes(Buffer.from(created.secret.slice(-20)))).toBe(false);

    const asKey = (p: string, init: RequestInit = {}) =>
      anon(p, {
        ...init,
        headers: {
          authorization: `Bearer ${created.secret}`,
          'content-type': 'application/json',
          ...(init.headers ?? {}),
        },
      });
    expect((await asKey('/api/v1/jobs')).status).toBe(200);
    const denied = await asKey('/api/v1/jobs', { method: 'POST', body: JSON.stringify({ type: 'system.noop' }) });
    expect(denied.status).toBe(403);
    expect((await json(denied)).error).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: "this API key lacks the 'write' scope",
    });
    expect((await asKey('/api/v1/keys')).status).toBe(403);
    const whoami = await json(await asKey('/api/v1/auth/whoami'));
    expect(whoami).toMatchObject({ kind: 'api-key', keyId: created.key.id, scopes: ['read'] });
    const after = (await t.client.call('keys.list')).items.find((k) => k.id === created.key.id);
    expect(after?.lastUsedAt).toBeGreaterThan(0);

    await t.client.call('keys.revoke', { id: created.key.id });
    const revoked = await asKey('/api/v1/jobs');
    expect(revoked.status).toBe(401);
    expect((await json(revoked)).error?.message).toMatch(/was revoked/);
    await expect(t.client.call('keys.revoke', { id: created.key.id })).rejects.toThrow(/already revoked/);
    expect((await t.client.call('keys.list')).items.some((k) => k.id === created.key.id)).toBe(false);
    expect(
      (await t.client.call('keys.list', { includeRevoked: true })).items.some((k) => k.id === created.key.id),
    ).toBe(true);
  });

  it('lets a write key enqueue but not manage keys, and an admin key do both', async () => {
    const writer = await t.client.call('keys.create', { name: 'writer', scopes: ['write'] });
    const admin = await t.client.call('keys.create', { name: 'admin', scopes: ['admin'] });
    const post = (secret: string, p: string, body: unknown) =>
      anon(p, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      });
    expect((await post(writer.secret, '/api/v1/jobs', { type: 'system.noop' })).status).toBe(201);
    expect((await post(writer.secret, '/api/v1/keys', { name: 'x' })).status).toBe(403);
    expect((await post(admin.secret, '/api/v1/keys', { name: 'made by admin' })).status).toBe(201);
  });

  it('rejects a key without a name or scope, naming the field', async () => {
    const res = await t.request('/api/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: '', scopes: [] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error?.message).toMatch(/^body\.name: must not be empty/);
    const badScope = await t.request('/api/v1/keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'x', scopes: ['root'] }),
      headers: { 'content-type': 'application/json' },
    });
    expect((await json(badScope)).error?.message).toMatch(/^body\.scopes\.0:/);
  });

  it('limits the request rate per key with 429 and Retry-After, and never the local token', async () => {
    const { secret } = await t.client.call('keys.create', { name: 'busy', scopes: ['read'] });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 7; i++) {
      last = await anon('/api/v1/status', { headers: { authorization: `Bearer ${secret}` } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await json(last as Response)).error?.code).toBe('RESOURCE_EXHAUSTED');
    const other = await t.client.call('keys.create', { name: 'calm', scopes: ['read'] });
    expect((await anon('/api/v1/status', { headers: { authorization: `Bearer ${other.secret}` } })).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await t.request('/api/v1/status')).status).toBe(200);
  });
});

describe('bad input', () => {
  const post = (p: string, body: string, contentType = 'application/json') =>
    t.request(p, { method: 'POST', body, headers: { 'content-type': contentType } });

  it('answers an oversized body with 413 and stores nothing', async () => {
    const before = (await t.client.call('jobs.list', { limit: 500 })).items.length;
    const res = await post('/api/v1/jobs', JSON.stringify({ type: 'system.noop', payload: { pad: 'x'.repeat(8000) } }));
    expect(res.status).toBe(413);
    expect((await json(res)).error).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringMatching(/larger than the limit of 4096 bytes/),
    });
    expect((await t.client.call('jobs.list', { limit: 500 })).items.length).toBe(before);
  });

  it('answers malformed JSON and other content types with a 4xx, never a 500', async () => {
    const malformed = await post('/api/v1/jobs', '{"type": "system.noop",');
    expect(malformed.status).toBe(400);
    expect((await json(malformed)).error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^body: not valid JSON/),
    });
    const text = await post('/api/v1/jobs', 'type=system.noop', 'text/plain');
    expect(text.status).toBe(415);
    const empty = await post('/api/v1/jobs', '');
    expect(empty.status).toBe(400);
    const array = await post('/api/v1/jobs', '[1,2]');
    expect(array.status).toBe(400);
  });

  it('names the field of a body that does not match the contract', async () => {
    const res = await post('/api/v1/jobs', JSON.stringify({ type: 'system.sleep', priority: 'high' }));
    expect(res.status).toBe(400);
    expect((await json(res)).error?.message).toMatch(/^body\.priority:/);
    const badPayload = await post('/api/v1/jobs', JSON.stringify({ type: 'system.sleep', payload: { ms: -1 } }));
    expect((await json(badPayload)).error?.message).toMatch(/^payload\.ms:/);
    const unknownType = await post('/api/v1/jobs', JSON.stringify({ type: 'nope' }));
    expect((await json(unknownType)).error?.message).toBe("type: no job type 'nope' is registered");
  });

  it('answers unknown routes with a JSON 404', async () => {
    for (const [method, p] of [
      ['GET', '/api/v1/nope'],
      ['POST', '/api/v1/nope'],
      ['DELETE', '/api/v2/x'],
      ['GET', '/metrics/x'],
    ]) {
      const res = await t.request(p as string, { method });
      expect(res.status).toBe(404);
      expect(await json(res)).toEqual({ error: { code: 'NOT_FOUND', message: `no route ${method} ${p}` } });
    }
  });

  it('rejects path traversal in path parameters and never serves files outside the app', async () => {
    for (const p of ['/api/v1/jobs/..%2F..%2Fetc%2Fpasswd', '/api/v1/jobs/%2e%2e%2f%2e%2e%2fetc']) {
      const res = await t.request(p);
      expect(res.status, p).toBe(400);
      expect((await json(res)).error?.message).toMatch(/^path\.id: must be a 26-character id/);
    }
    const del = await t.request('/api/v1/keys/..%2F..%2Faidos.db', { method: 'DELETE' });
    expect(del.status).toBe(400);
    for (const p of [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/docs/static/..%2f..%2f..%2fpackage.json',
      '/assets/..%2f..%2f..%2ftoken',
    ]) {
      const res = await t.request(p);
      const text = await res.text();
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(text).not.toMatch(/root:|"dependencies"|aidos_local_/);
    }
  });

  it('returns 404 naming a job that does not exist', async () => {
    const res = await t.request(`/api/v1/jobs/${SOME_ID}`);
    expect(res.status).toBe(404);
    expect((await json(res)).error?.message).toBe(`job '${SOME_ID}' does not exist`);
  });
});

describe('jobs over REST and the event stream', () => {
  it('streams job events to an authenticated WebSocket and refuses an anonymous one', async () => {
    const wsUrl = `${t.core.url.replace('http', 'ws')}${EVENTS_WS_PATH}?names=job.*`;
    const refused = new WebSocket(wsUrl, ['aidos.v1']);
    const status = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      }),
    );
    expect(status).toBe(401);

    const socket = new WebSocket(wsUrl, ['aidos.v1', `bearer.${t.token}`]);
    const messages: { type: string; event?: { name: string; data: { job: Job } } }[] = [];
    socket.on('message', (d) => messages.push(JSON.parse(String(d))));
    await waitFor(() => messages.some((m) => m.type === 'hello') || undefined);
    const job = await t.client.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 300, steps: 3 } });
    await waitFor(
      () => messages.some((m) => m.event?.name === 'job.succeeded' && m.event.data.job.id === job.id) || undefined,
    );
    const names = messages.filter((m) => m.event?.data.job.id === job.id).map((m) => m.event?.name);
    expect(names[0]).toBe('job.queued');
    expect(names).toContain('job.started');
    expect(names).toContain('job.progress');
    expect(names.at(-1)).toBe('job.succeeded');
    socket.close();
  });

  it('cancels a running job over REST', async () => {
    const job = await t.client.call('jobs.enqueue', { type: 'system.sleep', payload: { ms: 20_000, steps: 100 } });
    await waitFor(async () =>
      (await t.client.call('jobs.get', { id: job.id })).status === 'running' ? true : undefined,
    );
    await t.client.call('jobs.cancel', { id: job.id });
    await waitFor(async () =>
      (await t.client.call('jobs.get', { id: job.id })).status === 'cancelled' ? true : undefined,
    );
    const again = await t.request(`/api/v1/jobs/${job.id}/cancel`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(again.status).toBe(409);
  });

  it('lists registered job types with their payload schema', async () => {
    const { items } = await t.client.call('jobs.types');
    expect(items.map((i) => i.type)).toEqual(expect.arrayContaining(['system.sleep', 'blobs.gc', 'blobs.verify']));
    expect(items.find((i) => i.type === 'blobs.verify')?.runsIn).toBe('worker');
  });
});

describe('observability and documents', () => {
  it('exposes Prometheus metrics: process, HTTP durations by route and status, queue depth, job durations', async () => {
    await t.request('/api/v1/status');
    const res = await t.request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('aidos_process_cpu_seconds_total');
    expect(text).toMatch(/aidos_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/status"[^}]*status="200"/);
    expect(text).toMatch(/aidos_queue_jobs\{status="queued"\} \d+/);
    expect(text).toMatch(/aidos_job_duration_seconds_count\{type="system.sleep",outcome="succeeded"\}/);
  });

  it('serves an OpenAPI 3.1 document that matches the committed docs/openapi.json (run "npm run openapi" after changing an endpoint)', async () => {
    const served = await json(await t.request('/api/openapi.json'));
    expect(served.openapi).toBe('3.1.0');
    expect(await generateOpenApi()).toBe(readFileSync(openApiPath, 'utf8'));
    expect(generateApiGuide()).toBe(readFileSync(apiGuidePath, 'utf8'));
  });

  it('sets a GET-only session cookie for the browser and refuses it from another origin', async () => {
    const res = await t.request('/api/v1/auth/session', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^aidos_session=.+; Path=\/; SameSite=Strict; Max-Age=\d+; HttpOnly$/);
    const pair = cookie.split(';')[0] as string;
    expect((await anon('/api/openapi.json', { headers: { cookie: pair } })).status).toBe(200);
    expect((await anon('/docs/json', { headers: { cookie: pair } })).status).toBe(200);
    const write = await anon('/api/v1/jobs', {
      method: 'POST',
      body: '{"type":"system.noop"}',
      headers: { cookie: pair, 'content-type': 'application/json' },
    });
    expect(write.status).toBe(401);
    expect((await anon('/api/v1/status', { headers: { cookie: pair, origin: 'http://evil.example' } })).status).toBe(
      403,
    );
  });
});

describe('the data dir and the bind address', () => {
  it('refuses a second server on the same data dir with a clear message and keeps the first working', async () => {
    const second = startTestCore({ dataDir: t.core.dataDir });
    await expect(second).rejects.toThrow(
      /another AI-DOS server \(pid \d+, http:\/\/127\.0\.0\.1:\d+\) is already using the data dir/,
    );
    expect((await t.request('/api/v1/status')).status).toBe(200);
    expect(readFileSync(t.core.localTokenFile, 'utf8').trim()).toBe(t.token);
  });

  it('refuses to bind beyond loopback without --allow-remote, and without an API key even with it', async () => {
    const tmp = tempDir();
    try {
      await expect(startTestCore({ dataDir: tmp.dir, host: '0.0.0.0' })).rejects.toThrow(/needs --allow-remote/);
      await expect(startTestCore({ dataDir: tmp.dir, host: '0.0.0.0', allowRemote: true })).rejects.toThrow(
        /create an API key first/,
      );
    } finally {
      tmp.remove();
    }
  });
});
