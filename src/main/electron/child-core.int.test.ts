import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isNativeModuleMismatch, startChildCore } from './child-core';

const CLI = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
let dataDir = '';
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the core as a child process of the desktop shell', () => {
  it('starts, says where it listens and where its token is, and stops when closed', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'aidos-child-'));
    const env = { ...process.env, AIDOS_HOME: dataDir, AIDOS_PORT: '0', AIDOS_LOG_LEVEL: 'silent' };
    const core = await startChildCore(process.execPath, ['--import', 'tsx', CLI], env);
    expect(core.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(core.localTokenFile).toBe(path.join(dataDir, 'token'));
    expect((await fetch(`${core.url}/healthz`)).status).toBe(200);
    await core.close();
    expect(existsSync(path.join(dataDir, 'aidos.lock'))).toBe(false);
  });

  it('reports why a core that cannot start did not', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'aidos-child-'));
    const env = { ...process.env, AIDOS_HOME: dataDir, AIDOS_HOST: '0.0.0.0', AIDOS_LOG_LEVEL: 'silent' };
    await expect(startChildCore(process.execPath, ['--import', 'tsx', CLI], env)).rejects.toThrow(
      /needs --allow-remote/,
    );
  });

  it('recognises a native module built for another ABI', () => {
    const err = Object.assign(
      new Error('was compiled against a different Node.js version using NODE_MODULE_VERSION 115'),
      {
        code: 'ERR_DLOPEN_FAILED',
      },
    );
    expect(isNativeModuleMismatch(err)).toBe(true);
    expect(isNativeModuleMismatch(new Error('port 8000 is already in use'))).toBe(false);
  });
});
