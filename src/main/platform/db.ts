import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { workerEntry } from './worker-pool';

export type Db = Database.Database;

const statementCaches = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The prepared statement for fixed SQL text on this connection, prepared once: preparing costs more than running
 * most statements (tens of µs a call). Not for SQL built from input (each text would stay cached).
 */
export function statement(db: Db, sql: string): Database.Statement {
  let cache = statementCaches.get(db);
  if (!cache) {
    cache = new Map();
    statementCaches.set(db, cache);
  }
  let prepared = cache.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    cache.set(sql, prepared);
  }
  return prepared;
}

export interface Migration {
  /** 1, 2, 3… within its owner; never renumbered, never edited once released. */
  version: number;
  name: string;
  sql: string;
}

/**
 * The migrations of one owner (a platform part or a service). Every table an owner creates must start with
 * `tablePrefix` + `_`: the runner refuses anything else, which keeps each service inside its own tables.
 */
export interface MigrationSet {
  owner: string;
  tablePrefix: string;
  migrations: readonly Migration[];
}

/** Opens (creating if needed) a SQLite file with WAL, a busy timeout and foreign keys on. */
export function openDatabase(file: string, options: { readonly?: boolean } = {}): Db {
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9); only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  // Reads of large blobs (metric chunks) from the page cache without copying through SQLite's buffers.
  db.pragma('mmap_size = 268435456');
  return db;
}

/** WAL pages after which the writer checkpoints by itself when the checkpointer thread has not kept up. */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;

/**
 * Moves WAL checkpoints off the thread that writes `db`: a worker thread with its own connection copies
 * committed pages into the database file every `intervalMs`, and `db`'s own automatic checkpoint (which runs
 * inside a commit, fsyncs included) only steps in once the WAL holds BACKSTOP_CHECKPOINT_PAGES. That keeps
 * commits to appending to the WAL: measured, a quarter to a third of the time of large metric batches.
 */
export function startCheckpointer(
  db: Db,
  options: { intervalMs?: number; onError?: (message: string) => void } = {},
): { stop(): Promise<void> } {
  const { url, workerData } = workerEntry('wal-checkpoint');
  const worker = new Worker(url, {
    workerData: { ...workerData, file: db.name, intervalMs: options.intervalMs ?? 200 },
  });
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
  // After a checkpoint lets the WAL start over, its file is cut back to this size.
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  const restoreDefault = () => {
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('message', (m: { kind?: string; message?: string }) => {
    if (m.kind === 'error' && m.message) options.onError?.(m.message);
  });
  worker.on('error', (err) => {
    restoreDefault();
    options.onError?.(err.message);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.unref();
  return {
    stop: () => {
      // Held until it has closed its connection: an unreferenced thread would not keep the process waiting.
      worker.ref();
      worker.postMessage('stop');
      restoreDefault();
      return exited;
    },
  };
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 16);
}

function tableNames(db: Db): Set<string> {
  const rows = db
    .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/**
 * Applies every pending migration, each in its own transaction. Refuses to start when an applied migration was
 * edited afterwards (its checksum changed) or when a migration creates a table outside its owner's prefix.
 */
export function runMigrations(db: Db, sets: readonly MigrationSet[]): { applied: string[] } {
  db.exec(`CREATE TABLE IF NOT EXISTS _migrations (
    owner TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (owner, version)
  )`);
  const owners = new Set<string>();
  const applied: string[] = [];
  const getApplied = db.prepare('SELECT version, checksum FROM _migrations WHERE owner = ?');
  const record = db.prepare(
    'INSERT INTO _migrations (owner, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, ?)',
  );
  for (const set of sets) {
    if (owners.has(set.owner)) throw new Error(`two migration sets claim the owner '${set.owner}'`);
    owners.add(set.owner);
    const done = new Map(
      (getApplied.all(set.owner) as { version: number; checksum: string }[]).map((r) => [r.version, r.checksum]),
    );
    let expected = 1;
    for (const m of set.migrations) {
      if (m.version !== expected) {
        throw new Error(`${set.owner}: migration versions must run 1, 2, 3…; found ${m.version} at ${expected}`);
      }
      expected++;
      const sum = checksum(m.sql);
      const previous = done.get(m.version);
      if (previous !== undefined) {
        if (previous !== sum) {
          throw new Error(
            `${set.owner} migration ${m.version} (${m.name}) changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      db.transaction(() => {
        const before = tableNames(db);
        db.exec(m.sql);
        for (const name of tableNames(db)) {
          if (!before.has(name) && !name.startsWith(`${set.tablePrefix}_`)) {
            throw new Error(
              `${set.owner} migration ${m.version} creates '${name}' outside its prefix '${set.tablePrefix}_'`,
            );
          }
        }
        record.run(set.owner, m.version, m.name, sum, Date.now());
      })();
      applied.push(`${set.owner}#${m.version} ${m.name}`);
    }
  }
  return { applied };
}

/** The schema as SQL text, in a stable order: what the committed snapshot is compared with. */
export function schemaSnapshot(db: Db): string {
  const rows = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_master
       WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
       ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'trigger' THEN 2 ELSE 3 END, name`,
    )
    .all() as { sql: string }[];
  return rows.map((r) => `${r.sql.trim()};`).join('\n\n') + '\n';
}
