import type { TestServer } from './server';

/** Imports a folder through the REST API the way a script would, waiting for the job. */
export async function importFolder(server: TestServer, dataset: string, dir: string): Promise<void> {
  const job = await server.api.call('datasets.import', { dataset, path: dir, create: true });
  for (let i = 0; i < 300; i++) {
    const now = await server.api.call('jobs.get', { id: job.id });
    if (now.status === 'succeeded') return;
    if (now.status === 'failed' || now.status === 'cancelled')
      throw new Error(`import ${now.status}: ${now.error?.message}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the import did not finish');
}
