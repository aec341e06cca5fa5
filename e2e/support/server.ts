import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints, type ApiEndpoints } from '#shared/contracts/index';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** What `aidos serve --json` prints, once, when it listens. */
interface ReadyLine {
  url: string;
  tokenFile: string;
  dataDir: string;
  pid: number;
}

export interface TestServer extends ReadyLine {
  token: string;
  /** The typed client, signed in with the local token: for arranging state the way a script would. */
  api: ApiClient<ApiEndpoints>;
  /** The end of the server's stderr and log files, for failure messages. */
  logs(): Promise<string>;
  /** Stops the process (SIGTERM), keeping the data dir: the server is down until `restart()`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir, as a user restarting `aidos serve` would. */
  restart(): Promise<void>;
  /** Stops the process and removes the data dir. */
  stop(): Promise<void>;
}

interface Running {
  ready: ReadyLine;
  kill(): Promise<void>;
}

export interface ServerOptions {
  /** Set in the server's environment over the test's own (e.g. PATH with a stand-in `nvidia-smi` first). */
  env?: Record<string, string>;
}

/**
 * Starts the built `aidos serve` on a free port with a fresh data dir (AIDOS_HOME in a new temp dir), the way a
 * user would; resolves once it has printed its ready line. `stop()` sends SIGTERM, waits, and removes the dir.
 */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const env = options.env ?? {};
  const home = await mkdtemp(path.join(os.tmpdir(), 'aidos-e2e-'));
  let stderr = '';
  const appendStderr = (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  };
  let running: Running | undefined;
  try {
    running = await spawnServer(home, '0', env, appendStderr, () => stderr);
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  const { ready } = running;
  const token = (await readFile(ready.tokenFile, 'utf8')).trim();
  const kill = async () => {
    await running?.kill();
    running = undefined;
  };
  return {
    ...ready,
    token,
    api: new ApiClient(apiEndpoints, { baseUrl: ready.url, token }),
    logs: async () => `${stderr}${await logFiles(path.join(home, 'logs'))}`.slice(-6000),
    kill,
    restart: async () => {
      await kill();
      running = await spawnServer(home, new URL(ready.url).port, env, appendStderr, () => stderr);
    },
    stop: async () => {
      await kill();
      await rm(home, { recursive: true, force: true });
    },
  };
}

async function spawnServer(
  home: string,
  port: string,
  env: Record<string, string>,
  onStderr: (chunk: string) => void,
  stderr: () => string,
): Promise<Running> {
  const child = spawn(process.execPath, ['bin/aidos.js', 'serve', '--port', port, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env, AIDOS_HOME: home, AIDOS_URL: '', AIDOS_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', onStderr);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    return { ready: await readyLine(child, stderr), kill };
  } catch (error) {
    await kill();
    throw error;
  }
}

function readyLine(child: ChildProcessByStdio<null, Readable, Readable>, stderr: () => string): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const fail = (why: string) => {
      cleanup();
      reject(new Error(`aidos serve ${why}\n--- stdout ---\n${buffer}\n--- stderr ---\n${stderr()}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${READY_TIMEOUT_MS / 1000}s`), READY_TIMEOUT_MS);
    const onData = (chunk: string) => {
      buffer += chunk;
      for (const line of buffer.split('\n').slice(0, -1)) {
        let parsed: Partial<ReadyLine>;
        try {
          parsed = JSON.parse(line) as Partial<ReadyLine>;
        } catch {
          continue;
        }
        if (typeof parsed.url === 'string' && typeof parsed.tokenFile === 'string') {
          cleanup();
          resolve(parsed as ReadyLine);
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited early (code ${code}, signal ${signal})`);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout.resume();
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

async function logFiles(dir: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return '';
  }
  const texts = await Promise.all(names.map((name) => readFile(path.join(dir, name), 'utf8').catch(() => '')));
  return texts.join('');
}
