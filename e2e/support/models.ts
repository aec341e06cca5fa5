import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestServer } from './server';

/**
 * Registers a model file as the next `versions` versions of `name` (creating the model) through the resumable
 * uploads, the way a script would; `aliases` go on the first version made.
 */
export async function registerModelFile(
  server: TestServer,
  name: string,
  file: string,
  options: { versions?: number; aliases?: string[] } = {},
): Promise<void> {
  const bytes = await readFile(file);
  await server.api.call('models.create', { name });
  for (let i = 0; i < (options.versions ?? 1); i++) {
    const upload = await server.api.call('uploads.create', { filename: path.basename(file), size: bytes.length });
    await server.api.send('uploads.append', { id: upload.id, offset: 0 }, bytes);
    await server.api.call('models.createVersion', {
      name,
      uploadId: upload.id,
      ...(i === 0 && options.aliases ? { aliases: options.aliases } : {}),
    });
  }
}
