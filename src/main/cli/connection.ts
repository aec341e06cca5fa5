import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints, EVENTS_WS_PATH, type ApiEndpoints } from '#shared/contracts/index';
import type { EventEnvelope } from '#shared/contracts/system';
import { AppError } from '#shared/errors';
import { defaultDataDir, localTokenPath } from '#platform/config';
import type { LockInfo } from '#platform/lock';

export interface ConnectionFlags {
  url?: string | undefined;
  token?: string | undefined;
  dataDir?: string | undefined;
}

export interface Connection {
  url: string;
  token: string;
  dataDir: string;
  client: ApiClient<ApiEndpoints>;
}

/**
 * Finds the server and credentials the way every client does: flags, then `AIDOS_URL` / `AIDOS_TOKEN`, then
 * the data dir (the running server's address from its lock file, the local token from its token file).
 */
export function connect(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const dataDir = path.resolve(flags.dataDir ?? defaultDataDir(env));
  let url = flags.url ?? env.AIDOS_URL;
  if (!url) {
    const lockFile = path.join(dataDir, 'aidos.lock');
    const lock = existsSync(lockFile) ? (JSON.parse(readFileSync(lockFile, 'utf8')) as LockInfo) : undefined;
    url = lock?.url ?? 'http://127.0.0.1:8000';
  }
  let token = flags.token ?? env.AIDOS_TOKEN;
  if (!token) {
    const file = localTokenPath(dataDir);
    if (!existsSync(file)) {
      throw new AppError(
        'UNAUTHENTICATED',
        `no token: ${file} does not exist (start a server with "aidos serve" first, or pass --token / set AIDOS_TOKEN)`,
      );
    }
    token = readFileSync(file, 'utf8').trim();
  }
  return { url, token, dataDir, client: new ApiClient(apiEndpoints, { baseUrl: url, token }) };
}

export interface EventStream {
  /** Resolves once the server has greeted the stream: events from then on will arrive. */
  ready: Promise<void>;
  /** Resolves when the stream ends: `onEvent` returned true, `close()` was called, or the server went away. */
  done: Promise<void>;
  close(): void;
}

/** Streams events from the server until `onEvent` returns true or the stream is closed. */
export function streamEvents(
  conn: Connection,
  names: string[],
  onEvent: (event: EventEnvelope) => boolean | void,
): EventStream {
  const wsUrl = new URL(EVENTS_WS_PATH, conn.url);
  wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  wsUrl.searchParams.set('names', names.join(','));
  const socket = new WebSocket(wsUrl, ['aidos.v1'], { headers: { authorization: `Bearer ${conn.token}` } });
  let greeted: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (greeted = resolve));
  const done = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; event?: EventEnvelope };
      if (message.type === 'hello') greeted();
      if (message.type === 'event' && message.event && onEvent(message.event) === true) socket.close();
    });
    socket.on('unexpected-response', (req, res) => {
      req.destroy();
      reject(new AppError('UNAUTHENTICATED', `the event stream was refused: HTTP ${res.statusCode}`));
    });
    socket.on('error', reject);
    socket.on('close', () => {
      greeted();
      resolve();
    });
  });
  return { ready, done, close: () => socket.terminate() };
}
