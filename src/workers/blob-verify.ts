import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import path from 'node:path';
import { packEntries, packFilesUnder } from '#platform/blobstore';
import { serveWorkerJobs } from '#platform/worker-runtime';

interface StoredBlob {
  sha256: string;
  file: string;
  /** Where the bytes lie inside `file` (a pack); absent for a blob's own file. */
  range?: { start: number; end: number };
}

/** Re-hashes every blob off the main thread: hashing gigabytes would otherwise stall the API. */
serveWorkerJobs({
  'blobs.verify': async (_payload, ctx) => {
    const root = path.join(ctx.dataDir, 'blobs');
    const blobs: StoredBlob[] = [];
    for (const dir of readdirSync(root)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      for (const name of readdirSync(path.join(root, dir)))
        blobs.push({ sha256: dir + name, file: path.join(root, dir, name) });
    }
    // A pack describes its blobs itself; this also checks blobs a gc has dropped but not yet compacted away.
    for (const pack of packFilesUnder(root)) {
      for (const e of packEntries(pack))
        blobs.push({ sha256: e.sha256, file: pack, range: { start: e.offset, end: e.offset + e.size - 1 } });
    }
    const corrupted: string[] = [];
    let bytes = 0;
    for (const [i, { sha256, file, range }] of blobs.entries()) {
      if (ctx.signal.aborted) throw new Error('cancelled');
      const hash = createHash('sha256');
      if (!range || range.end >= range.start) {
        for await (const chunk of createReadStream(file, range)) {
          hash.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
        }
      }
      if (hash.digest('hex') !== sha256) corrupted.push(sha256);
      ctx.progress((i + 1) / blobs.length, `${i + 1}/${blobs.length} blobs`);
    }
    return { checked: blobs.length, bytes, corrupted };
  },
});
