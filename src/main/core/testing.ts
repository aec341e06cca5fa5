import { readFileSync } from 'node:fs';
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
