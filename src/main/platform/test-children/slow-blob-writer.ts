// Child process for the crash test: streams a large blob slowly, with a reference, and is killed mid-write.
import { Readable } from 'node:stream';
import { BlobStore, blobMigrations } from '../blobstore';
import { openDatabase, runMigrations } from '../db';

const dataDir = process.argv[2] as string;
const db = openDatabase(`${dataDir}/aidos.db`);
runMigrations(db, [blobMigrations]);
const blobs = new BlobStore(db, dataDir);
let sent = 0;
const source = new Readable({
  read() {
    sent++;
    if (sent === 3) process.stdout.write('writing\n');
    setTimeout(() => this.push(Buffer.alloc(64 * 1024, sent % 256)), 20);
  },
});
await blobs.put(source, { owner: 'test', ref: 'crashy' });
