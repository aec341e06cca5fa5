import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiClient } from '#shared/api/client';
import type { ApiEndpoints } from '#shared/contracts/index';

/** A fresh directory under the OS temp dir, removed by the returned function (for tests and benchmarks). */
export function tempDir(prefix = 'aidos-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function waitFor<T>(
  read: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A file under the repository's `test-fixtures/` (real, small datasets the tests use). */
export function fixturePath(...parts: string[]): string {
  return fileURLToPath(new URL(`../../../test-fixtures/${parts.join('/')}`, import.meta.url));
}

/** Imports a file or folder as the first version of a new dataset and waits for the import to succeed. */
export async function importDataset(client: ApiClient<ApiEndpoints>, dataset: string, file: string): Promise<void> {
  const job = await client.call('datasets.import', { dataset, path: file, create: true });
  const done = await waitFor(
    async () => {
      const j = await client.call('jobs.get', { id: job.id });
      return j.status === 'succeeded' || j.status === 'failed' ? j : undefined;
    },
    60_000,
    `the import of ${dataset}`,
  );
  if (done.status !== 'succeeded') throw new Error(`the import of ${dataset} failed: ${done.error?.message}`);
}
