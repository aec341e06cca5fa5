import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '#platform/testing';
import { archiveFormatOf, readArchive } from './archive';
import type { ImportLimits } from './limits';
import { tarArchive, zipArchive, type TestTarEntry, type TestZipEntry } from '#platform/test-archives';

const LIMITS: ImportLimits = { maxFileBytes: 1024 * 1024, maxArchiveBytes: 10 * 1024 * 1024, maxArchiveEntries: 1000 };

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

function write(name: string, bytes: Buffer): string {
  const file = path.join(tmp.dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** The files an archive yields, with their content as text. */
async function extract(file: string, limits = LIMITS): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await readArchive(file, { limits }, async (f) => {
    const chunks: Buffer[] = [];
    for await (const chunk of f.content) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString();
    expect(text.length).toBe(f.size);
    out[f.path] = text;
  });
  return out;
}

const zip = (entries: TestZipEntry[]) => write('data.zip', zipArchive(entries));
const tar = (entries: TestTarEntry[]) => write('data.tar', tarArchive(entries));

describe('archive imports', () => {
  it('knows archives by their name', () => {
    expect(['a.zip', 'a.TAR', 'a.tar.gz', 'a.tgz'].map(archiveFormatOf)).toEqual(['zip', 'tar', 'tar', 'tar']);
    expect(['a.gz', 'a.csv', 'zip'].map(archiveFormatOf)).toEqual([undefined, undefined, undefined]);
  });

  it('yields the files of a zip with their paths, root folder included, stored or deflated', async () => {
    const file = zip([
      { name: 'data/' },
      { name: 'data/train/' },
      { name: 'data/train/a.csv', content: 'x,y\n1,2\n', deflate: true },
      { name: 'data/readme.txt', content: 'hello' },
      { name: 'data/./empty.txt', content: '' },
    ]);
    expect(await extract(file)).toEqual({
      'data/train/a.csv': 'x,y\n1,2\n',
      'data/readme.txt': 'hello',
      'data/empty.txt': '',
    });
  });

  it('yields the files of a tar, a .tar.gz and a .tgz alike', async () => {
    const entries: TestTarEntry[] = [
      { path: './', type: 'Directory' },
      { path: './data/', type: 'Directory' },
      { path: './data/a.csv', content: 'x,y\n1,2\n' },
      { path: 'data/big.bin', content: Buffer.alloc(70_000, 7) },
    ];
    const expected = { 'data/a.csv': 'x,y\n1,2\n', 'data/big.bin': Buffer.alloc(70_000, 7).toString() };
    expect(await extract(write('data.tar', tarArchive(entries)))).toEqual(expected);
    expect(await extract(write('data.tar.gz', gzipSync(tarArchive(entries))))).toEqual(expected);
    expect(await extract(write('data.tgz', gzipSync(tarArchive(entries))))).toEqual(expected);
  });

  it.each([
    ['../evil.txt', /'..\/evil.txt' climbs out of the archive with '..'/],
    ['data/../../evil.txt', /climbs out of the archive/],
    ['/etc/evil', /'\/etc\/evil' is an absolute path/],
    ['C:/evil.txt', /'C:\/evil.txt' starts with a drive letter/],
    ['data\\..\\..\\evil.txt', /holds a backslash/],
  ])('refuses a zip entry named %s before extracting anything', async (name, message) => {
    const file = zip([
      { name: 'good.txt', content: 'fine' },
      { name, content: 'bad' },
    ]);
    let stored = 0;
    const reading = readArchive(file, { limits: LIMITS }, async (f) => {
      stored++;
      f.content.resume();
    });
    await expect(reading).rejects.toThrow(message);
    // The central directory is checked whole first: the good entry before the bad one was not read either.
    expect(stored).toBe(0);
  });

  it.each([
    ['../evil.txt', /climbs out of the archive/],
    ['/etc/evil', /is an absolute path/],
    ['C:\\evil.txt', /holds a backslash/],
    ['D:evil.txt', /starts with a drive letter/],
  ])('refuses a tar entry named %s', async (name, message) => {
    await expect(extract(tar([{ path: name, content: 'bad' }]))).rejects.toThrow(message);
  });

  it('refuses a tar folder entry that climbs out, too', async () => {
    await expect(extract(tar([{ path: '../up/', type: 'Directory' }]))).rejects.toThrow(/'..\/up\/' climbs out/);
  });

  it('refuses symbolic links in zips, and symbolic and hard links in tars', async () => {
    await expect(extract(zip([{ name: 'link', content: '/etc/passwd', symlink: true }]))).rejects.toThrow(
      /'link' is a symbolic link/,
    );
    await expect(extract(tar([{ path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]))).rejects.toThrow(
      /'link' is a symbolic link/,
    );
    await expect(
      extract(
        tar([
          { path: 'a.txt', content: 'a' },
          { path: 'hard', type: 'Link', linkpath: 'a.txt' },
        ]),
      ),
    ).rejects.toThrow(/'hard' is a hard link/);
    await expect(extract(tar([{ path: 'fifo', type: 'FIFO' }]))).rejects.toThrow(/'fifo' is a FIFO entry/);
  });

  it('refuses a file over the per-file limit, naming it and its size', async () => {
    const limits = { ...LIMITS, maxFileBytes: 100 };
    await expect(extract(zip([{ name: 'd/big.bin', content: Buffer.alloc(101) }]), limits)).rejects.toThrow(
      "'d/big.bin' is 101 bytes, over the limit of 100 bytes per file",
    );
    await expect(extract(tar([{ path: 'd/big.bin', content: Buffer.alloc(101) }]), limits)).rejects.toThrow(
      "'d/big.bin' is 101 bytes, over the limit of 100 bytes per file",
    );
  });

  it('stops archive bombs: too many bytes in all, or too many entries', async () => {
    const entries = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, content: Buffer.alloc(400), deflate: true }));
    await expect(extract(zip(entries), { ...LIMITS, maxArchiveBytes: 1000 })).rejects.toThrow(
      /more than 1000 bytes uncompressed/,
    );
    await expect(extract(zip(entries), { ...LIMITS, maxArchiveEntries: 4 })).rejects.toThrow(/more than 4 entries/);
    const tarEntries = entries.map((e) => ({ path: e.name, content: e.content }));
    await expect(extract(tar(tarEntries), { ...LIMITS, maxArchiveBytes: 1000 })).rejects.toThrow(
      /more than 1000 bytes uncompressed/,
    );
  });

  it('refuses a zip entry whose content does not match its declared size', async () => {
    await expect(extract(zip([{ name: 'liar.txt', content: 'twelve bytes', declaredSize: 5 }]))).rejects.toThrow(
      /not a readable zip archive: .*size mismatch/,
    );
    const deflated = zip([{ name: 'liar.txt', content: 'twelve bytes', declaredSize: 50, deflate: true }]);
    await expect(extract(deflated)).rejects.toThrow(/'liar.txt' could not be read: .*expected 50/);
  });

  it('refuses a path given twice', async () => {
    await expect(
      extract(
        zip([
          { name: 'a.txt', content: '1' },
          { name: './a.txt', content: '2' },
        ]),
      ),
    ).rejects.toThrow(/'.\/a.txt' appears twice/);
  });

  it('fails clearly on damaged archives', async () => {
    await expect(extract(write('bad.zip', Buffer.from('not a zip at all')))).rejects.toThrow(
      /is not a readable zip archive/,
    );
    const whole = gzipSync(tarArchive([{ path: 'a.bin', content: Buffer.alloc(50_000, 1) }]));
    await expect(extract(write('cut.tgz', whole.subarray(0, whole.length / 2)))).rejects.toThrow(
      /not a readable tar archive|truncated/,
    );
    await expect(extract(write('junk.tar', Buffer.alloc(2048, 0x41)))).rejects.toThrow(/not a readable tar archive/);
  });
});
