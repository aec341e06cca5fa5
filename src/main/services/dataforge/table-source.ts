import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AsyncBuffer } from 'hyparquet';
import type { BlobStore } from '#platform/blobstore';
import { readParquet } from './parquet';
import { readTable, type TableFormat, type TableVisitor } from './tables';

/** Random access to a blob for hyparquet, which reads the footer first and then only the column chunks it needs. */
function blobBuffer(blobs: BlobStore, sha256: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    slice: async (start, end = size) => {
      const bytes = await blobs.readRange(sha256, start, end);
      // The bytes usually own their whole ArrayBuffer; hand that over rather than copying it.
      if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
        return bytes.buffer;
      return new Uint8Array(bytes).buffer;
    },
  };
}

/**
 * Reads a table stored as a blob, whatever its format: CSV, TSV and JSON lines stream through `readTable`,
 * Parquet is read by row group through random access. With `verify`, content that does not match its hash
 * fails the read (for Parquet the blob is hashed in full first, since random reads cannot be checked).
 */
export async function readTableFromBlob(
  blobs: BlobStore,
  entry: { sha256: string; size: number },
  format: TableFormat,
  visitor: TableVisitor,
  options: { verify?: boolean } = {},
): Promise<void> {
  if (format !== 'parquet') return readTable(blobs.open(entry.sha256, options), format, visitor);
  if (options.verify) {
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    await pipeline(blobs.open(entry.sha256, { verify: true }), discard);
  }
  return readParquet(blobBuffer(blobs, entry.sha256, entry.size), visitor);
}
