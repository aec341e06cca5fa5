import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { link, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '#platform/blobstore';
import { detectFormat } from '#platform/model-formats';
import { newId } from '#shared/ids';

/** ModelHub reads this much of a file to detect its format. */
const HEAD_BYTES = 64 * 1024;

/**
 * A registered TF.js model as a folder TF.js can load: ModelHub keeps each artifact as a blob named by its hash,
 * while `model.json` names its weight shards by relative path. The version's `model.json` (the first file that
 * reads as TF.js) and every file in its folder and below are placed under `cacheDir/tfjs-<hash>` with their
 * artifact names (hard links to the blobs where the store keeps a blob as a file of its own, else copies); the
 * hash covers every file's name and content, so a retrained model with the same `model.json` gets its own
 * folder. Null when no file is a TF.js `model.json`.
 */
export async function tfjsModelFolder(
  blobs: BlobStore,
  cacheDir: string,
  files: readonly { path: string; sha256: string }[],
): Promise<{ modelJson: string; sha256: string } | null> {
  let modelJson: { path: string; sha256: string } | undefined;
  for (const f of files)
    if (/\.json$/i.test(f.path) && detectFormat(f.path, await blobs.readHead(f.sha256, HEAD_BYTES)) === 'tfjs') {
      modelJson = f;
      break;
    }
  if (!modelJson) return null;
  const base = path.posix.dirname(modelJson.path);
  const inFolder = files
    .filter((f) => base === '.' || f.path.startsWith(`${base}/`))
    .map((f) => ({ ...f, relative: base === '.' ? f.path : f.path.slice(base.length + 1) }))
    .sort((a, b) => a.relative.localeCompare(b.relative));
  const hash = createHash('sha256');
  for (const f of inFolder) hash.update(`${f.relative}\0${f.sha256}\n`);
  const folder = path.join(cacheDir, `tfjs-${hash.digest('hex').slice(0, 32)}`);
  const result = { modelJson: path.join(folder, path.posix.basename(modelJson.path)), sha256: modelJson.sha256 };
  if (existsSync(folder)) return result;
  // Built aside and renamed into place, so a folder that exists is complete.
  const tmp = `${folder}.${newId()}.tmp`;
  try {
    for (const f of inFolder) {
      const target = path.join(tmp, ...f.relative.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      const where = blobs.locate(f.sha256);
      const ownFile = where.offset === 0 && where.file === blobs.pathOf(f.sha256);
      const linked =
        ownFile &&
        (await link(where.file, target).then(
          () => true,
          () => false,
        ));
      if (!linked) await pipeline(blobs.open(f.sha256), createWriteStream(target));
    }
    await rename(tmp, folder).catch((err: unknown) => {
      // Another deployment placed the same model meanwhile.
      if (!existsSync(folder)) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return result;
}
