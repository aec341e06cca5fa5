import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ConfigInput } from '#platform/config';
import { startCore, type Core } from '#core/core';

/** The built renderer, found from wherever this code runs (bundled in out/main or from source). */
export function findRendererDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const built = path.join(dir, 'out', 'renderer');
      return existsSync(path.join(built, 'index.html')) ? built : '';
    }
    dir = path.dirname(dir);
  }
  return '';
}

/** Starts the core headless with the built UI; resolves once it listens. */
export async function serve(flags: Partial<ConfigInput>): Promise<Core> {
  const config = loadConfig({ rendererDir: findRendererDir(), ...flags });
  return startCore(config);
}
