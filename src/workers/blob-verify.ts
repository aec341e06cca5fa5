import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import { serveWorkerJobs } from '#platform/worker-runtime';

/** Re-hashes every blob file off the main thread: hashing gigabytes would otherwise stall the API. */
serveWorkerJobs({
  'blobs.verify': async (_payload, ctx) => {
    const root = path.join(ctx.dataDir, 'blobs');
    const files: { sha256: string; file: string }[] = [];
    for (const dir of readdirSync(root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of readdirSync(path.join(root, dir)))
        files.push({ sha256: dir + name, file: path.join(root, dir, name) });
    }
    const corrupted: string[] = [];
    let bytes = 0;
    for (const [i, { sha256, file }] of files.entries()) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(file)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      if (hash.digest('hex') !== sha256) corrupted.push(sha256);
      ctx.progress((i + 1) / files.length, `${i + 1}/${files.length} blobs`);
    }
    return { checked: files.length, bytes, corrupted };
  },
});
