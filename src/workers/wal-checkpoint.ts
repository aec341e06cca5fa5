import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * Copies committed pages from the WAL into the database file on its own thread and connection, so the commits
 * of the API thread only append to the WAL (see startCheckpointer in #platform/db). A PASSIVE checkpoint never
 * blocks readers or the writer; it copies what it can and leaves the rest to the next tick.
 */
const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new Database(file, { fileMustExist: true });
db.pragma('busy_timeout = 0');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // SQLITE_BUSY and the like: the API thread's own automatic checkpoint is the backstop.
    parentPort?.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}, intervalMs);

parentPort?.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
