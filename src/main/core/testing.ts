import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '#shared/api/client';
import { apiEndpoints, type ApiEndpoints } from '#shared/contracts/index';
import { loadConfig, type ConfigInput } from '#platform/config';
import { tempDir } from '#platform/testing';
import { startCore, type Core } from './core';

export interface TestCore {
  core: Core;
  token: string;
  client: ApiClient<ApiEndpoints>;
  /** fetch against the core with the local token unless `headers.authorization` says otherwise. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** A real core on a random loopback port with its own data dir, for integration tests. */
export async function startTestCore(overrides: Partial<ConfigInput> = {}): Promise<TestCore> {
  const tmp = overrides.dataDir ? undefined : tempDir();
  const config = loadConfig(
    { port: 0, logToStderr: false, logLevel: 'warn', ...overrides, dataDir: overrides.dataDir ?? tmp?.dir },
    {},
  );
  const core = await startCore(config);
  const token = readFileSync(core.localTokenFile, 'utf8').trim();
  return {
    core,
    token,
    client: new ApiClient(apiEndpoints, { baseUrl: core.url, token }),
    request: (path, init = {}) =>
      fetch(new URL(path, core.url), {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
      }),
    close: async () => {
      await core.close();
      tmp?.remove();
    },
  };
}

const CLI = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

/**
 * Runs the `aidos` CLI from source in a child process, without AIDOS_URL / AIDOS_TOKEN from the environment
 * (pass `--data-dir` to point it at a core). Each run compiles the CLI with tsx: seconds on a busy machine.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, AIDOS_URL: '', AIDOS_TOKEN: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `aidos serve --port 0` on a data dir, from source in a child process: `ready` resolves with the URL it prints
 * once it listens, and rejects with its stderr if it exits first (to test restarts and kill -9).
 */
export function serveCli(
  dataDir: string,
  env: Record<string, string> = {},
): { child: ChildProcess; ready: Promise<string>; stderr: () => string } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--data-dir', dataDir, '--json', 'serve', '--port', '0'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) =>
      resolve((JSON.parse(d.toString().split('\n')[0] as string) as { url: string }).url),
    );
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, ready, stderr: () => stderr };
}
