import { fileURLToPath } from 'node:url';
import { loadConfig } from '#platform/config';
import { tempDir } from '#platform/testing';
import { startCore } from './core';

/** The committed OpenAPI document; a test fails when it drifts from the routes. */
export const openApiPath = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));

/** Builds the gateway without listening and returns its OpenAPI document as stable, formatted JSON. */
export async function generateOpenApi(): Promise<string> {
  const tmp = tempDir('aidos-openapi-');
  const core = await startCore(loadConfig({ dataDir: tmp.dir, logToStderr: false, logLevel: 'silent' }, {}), {
    listen: false,
  });
  try {
    return JSON.stringify(core.app.swagger(), null, 2) + '\n';
  } finally {
    await core.close();
    tmp.remove();
  }
}
