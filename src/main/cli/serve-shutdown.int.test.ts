import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveCli } from '#core/testing';
import { fixturePath, tempDir, waitFor } from '#platform/testing';

const LLAMA = fixturePath('models', 'tiny-llama-memorizer-q8.gguf');
/** Requests sent behind a streaming one to a deployment that answers one at a time: ~60 ms of decoding each. */
const BEHIND = 12;

interface Answer {
  status: number;
  body: { choices?: { message: { content: string } }[]; usage?: { completion_tokens: number }; error?: unknown };
}

/**
 * `aidos serve` with the tiny llama deployed (one request at a time), a stream under way and `BEHIND` requests
 * waiting behind it, then SIGTERM: what each client got, and how the server exited.
 */
async function sigtermUnderLoad(graceSeconds: number) {
  const tmp = tempDir('aidos-shutdown-');
  const served = serveCli(tmp.dir, { AIDOS_SHUTDOWN_GRACE_SECONDS: String(graceSeconds) });
  const exited = new Promise<number | null>((resolve) => served.child.on('exit', resolve));
  try {
    const url = await served.ready;
    const token = readFileSync(path.join(tmp.dir, 'token'), 'utf8').trim();
    const call = (route: string, body?: unknown) =>
      fetch(url + route, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await call('/api/v1/deployments', { file: LLAMA, name: 'tiny', threads: 1, parallel: 1 });
    expect(created.status, await created.clone().text()).toBeLessThan(300);
    await waitFor(
      async () => ((await (await call('/api/v1/deployments/tiny')).json()) as { state: string }).state === 'ready',
      60_000,
      'the deployment to load',
    );
    const chat = (stream: boolean) =>
      call('/v1/chat/completions', {
        model: 'tiny',
        messages: [{ role: 'user', content: 'The' }],
        max_tokens: 120,
        temperature: 0,
        ignore_eos: true,
        stream,
      });

    const stream = await chat(true);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let streamed = decoder.decode((await reader.read()).value);
    const behind = Array.from({ length: BEHIND }, () =>
      chat(false).then(async (r): Promise<Answer> => ({ status: r.status, body: (await r.json()) as Answer['body'] })),
    );
    // Every request has reached the deployment (waiting, running or answered) before the signal: one sent after
    // it would rightly be refused.
    await waitFor(
      async () => {
        const stats = (await (await call('/api/v1/deployments/tiny/stats')).json()) as {
          queued: number;
          inFlight: number;
          requests: { total: number };
        };
        return stats.queued + stats.inFlight + stats.requests.total >= BEHIND + 1;
      },
      30_000,
      'the requests to reach the deployment',
    );
    served.child.kill('SIGTERM');
    // From the signal on, the server says it is going away, health check included.
    const health = await waitFor(async () => {
      const r = await fetch(`${url}/healthz`);
      return r.status === 503 ? r : undefined;
    });
    const refused = await chat(false);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      streamed += decoder.decode(value);
    }
    return {
      health: { status: health.status, connection: health.headers.get('connection') },
      refused: { status: refused.status, body: (await refused.json()) as unknown },
      streamed,
      behind: await Promise.all(behind),
      exitCode: await exited,
      stderr: served.stderr(),
    };
  } finally {
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
    await exited;
    tmp.remove();
  }
}

const shuttingDown = {
  error: expect.objectContaining({ type: 'server_error', code: 'server_shutting_down' }) as unknown,
};

describe('aidos serve on SIGTERM', { timeout: 180_000 }, () => {
  it('refuses new requests with a 503 and finishes those under way, queued ones included, before it exits', async () => {
    const r = await sigtermUnderLoad(30);
    expect(r.health).toEqual({ status: 503, connection: 'close' });
    expect(r.refused).toEqual({ status: 503, body: shuttingDown });
    expect(r.streamed.trimEnd().endsWith('data: [DONE]'), r.streamed.slice(-300)).toBe(true);
    expect(r.behind.map((a) => [a.status, a.body.usage?.completion_tokens])).toEqual(
      Array.from({ length: BEHIND }, () => [200, 120]),
    );
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('after the grace, answers the requests still waiting with a 503 instead of dropping their connections', async () => {
    const r = await sigtermUnderLoad(0.2);
    const statuses = r.behind.map((a) => a.status);
    // Some finished within the 0.2 s, the rest were cut off: each is either whole or a 503 saying why.
    expect(statuses).toContain(503);
    for (const answer of r.behind) {
      if (answer.status === 200) expect(answer.body.usage?.completion_tokens).toBe(120);
      else expect(answer).toEqual({ status: 503, body: shuttingDown });
    }
    expect(r.exitCode, r.stderr).toBe(0);
  });
});
